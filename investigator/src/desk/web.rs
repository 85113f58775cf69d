//! The small parts of HTTP the desk needs: reading a request's head and form, escaping
//! text into HTML, and answers with the headers every answer carries. Nothing here knows
//! about cases.

use std::io::{self, Cursor, Read};

use tiny_http::{Header, Request, Response, StatusCode};
use zeroize::{Zeroize, Zeroizing};

/// The Content-Security-Policy of every page: nothing is loaded from elsewhere, no inline
/// script or style, no framing, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The largest request body read (forms are small; a message is at most this).
pub const MAX_BODY: usize = 256 * 1024;

/// What the desk looks at in a request before anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// `GET`, `POST`, ….
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, without the `?`.
    pub query: String,
    /// The `Host` header.
    pub host: Option<String>,
    /// The `Origin` header.
    pub origin: Option<String>,
    /// The `Cookie` header(s), joined.
    pub cookie: Option<String>,
    /// The `Sec-Fetch-Site` header.
    pub fetch_site: Option<String>,
    /// The `Accept-Language` header.
    pub language: Option<String>,
}

impl Head {
    /// The head of a request.
    pub fn of(request: &Request) -> Head {
        let url = request.url();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let header = |name: &'static str| -> Option<String> {
            let values: Vec<&str> = request
                .headers()
                .iter()
                .filter(|h| h.field.equiv(name))
                .map(|h| h.value.as_str())
                .collect();
            match values.len() {
                0 => None,
                // Two Host or Origin headers are not to be guessed between.
                1 => Some(values[0].to_owned()),
                _ if name.eq_ignore_ascii_case("cookie") => Some(values.join("; ")),
                _ => Some(String::new()),
            }
        };
        Head {
            method: request.method().as_str().to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            host: header("Host"),
            origin: header("Origin"),
            cookie: header("Cookie"),
            fetch_site: header("Sec-Fetch-Site"),
            language: header("Accept-Language"),
        }
    }

    /// A value of the query string.
    pub fn query_value(&self, name: &str) -> Option<String> {
        Form::parse(self.query.as_bytes())
            .get(name)
            .map(|v| v.as_str().to_owned())
    }

    /// The value of a cookie.
    pub fn cookie_value(&self, name: &str) -> Option<&str> {
        self.cookie.as_deref()?.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
    }
}

/// A submitted form (`application/x-www-form-urlencoded`); values are wiped when it
/// drops, as they may be a passphrase or a message.
pub struct Form {
    fields: Vec<(String, Zeroizing<String>)>,
}

impl Form {
    /// Parses a form body or query string.
    pub fn parse(body: &[u8]) -> Form {
        let mut fields = Vec::new();
        for pair in body.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let mut parts = pair.splitn(2, |&b| b == b'=');
            let name = decode(parts.next().unwrap_or_default());
            let value = decode(parts.next().unwrap_or_default());
            fields.push((name.as_str().to_owned(), value));
        }
        Form { fields }
    }

    /// Reads a request's body (at most [`MAX_BODY`]) as a form.
    pub fn read(request: &mut Request) -> io::Result<Form> {
        let declared = request.body_length().unwrap_or(0);
        if declared > MAX_BODY {
            return Err(io::Error::other("the form is too large"));
        }
        // Room for all of it at once, so no copy of a passphrase is left behind by a
        // growing buffer.
        let mut body = Zeroizing::new(Vec::with_capacity(MAX_BODY + 1));
        request
            .as_reader()
            .take(MAX_BODY as u64 + 1)
            .read_to_end(&mut body)?;
        if body.len() > MAX_BODY {
            return Err(io::Error::other("the form is too large"));
        }
        Ok(Form::parse(&body))
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&Zeroizing<String>> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// A field's value, trimmed, or empty.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).map(|v| v.trim()).unwrap_or("")
    }
}

/// Percent-decodes a form component (`+` is a space); invalid UTF-8 is replaced.
fn decode(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = [bytes[i + 1], bytes[i + 2]];
                match std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    Zeroizing::new(String::from_utf8_lossy(&out).into_owned())
}

/// Percent-encodes a value for a URL or a `filename*` parameter.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text made safe for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Direction overrides could make a reporter's text read differently.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => out.push('\u{fffd}'),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A body that is wiped once it has been sent (pages hold decrypted text).
pub struct Wiped(Cursor<Vec<u8>>);

impl Read for Wiped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.get_mut().zeroize();
    }
}

/// An answer the desk gives.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Headers besides the ones every answer carries.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// A scratch folder to overwrite and remove once the answer is sent.
    pub scrub: Option<std::path::PathBuf>,
}

/// What an answer carries.
pub enum Body {
    /// Bytes (a page, a stylesheet); wiped after sending.
    Bytes(Zeroizing<Vec<u8>>),
    /// A file, streamed.
    File(std::fs::File),
}

impl Answer {
    /// An HTML page.
    pub fn html(status: u16, page: Zeroizing<String>) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: Body::Bytes(Zeroizing::new(page.as_bytes().to_vec())),
            scrub: None,
        }
    }

    /// A static file of the desk.
    pub fn asset(content_type: &str, text: &str) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Bytes(Zeroizing::new(text.as_bytes().to_vec())),
            scrub: None,
        }
    }

    /// Plain text (refusals).
    pub fn text(status: u16, text: &str) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: Body::Bytes(Zeroizing::new(text.as_bytes().to_vec())),
            scrub: None,
        }
    }

    /// A redirect to a path of the desk (after a form: 303, so the browser GETs it).
    pub fn see_other(path: &str) -> Answer {
        Answer {
            status: 303,
            headers: vec![("Location".into(), path.into())],
            body: Body::Bytes(Zeroizing::new(Vec::new())),
            scrub: None,
        }
    }

    /// A download: never shown inside the desk, never sniffed, never run.
    pub fn download(file: std::fs::File, name: &str, content_type: &str) -> Answer {
        let ascii: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._- ()".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Answer {
            status: 200,
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                (
                    "Content-Disposition".into(),
                    format!(
                        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                        encode(name)
                    ),
                ),
            ],
            body: Body::File(file),
            scrub: None,
        }
    }

    /// With a scratch folder to overwrite and remove once the answer is sent.
    pub fn scrub_after(mut self, folder: std::path::PathBuf) -> Answer {
        self.scrub = Some(folder);
        self
    }

    /// With one more header.
    pub fn with(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends it with the headers every answer carries (and never any `Access-Control-*`).
    pub fn send(mut self, request: Request) -> io::Result<()> {
        let scrub = self.scrub.take();
        let sent = self.respond(request);
        if let Some(folder) = scrub {
            let _ = crate::fsutil::remove_tree(&folder, true);
        }
        sent
    }

    fn respond(self, request: Request) -> io::Result<()> {
        let mut headers: Vec<Header> = Vec::new();
        let mut add = |name: &str, value: &str| {
            if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                headers.push(h);
            }
        };
        let download = self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Content-Disposition"));
        if download {
            add("Content-Security-Policy", &format!("{CSP}; sandbox"));
        } else {
            add("Content-Security-Policy", CSP);
        }
        add("X-Content-Type-Options", "nosniff");
        // Not `no-referrer`: with it, browsers send `Origin: null` on the desk's own
        // form posts (Fetch standard), and the Origin check could not tell them from a
        // sandboxed page's. `same-origin` sends a Referer to the desk itself only; the
        // desk links and loads nothing elsewhere, so no address ever leaves it.
        add("Referrer-Policy", "same-origin");
        add("Cache-Control", "no-store");
        add("X-Frame-Options", "DENY");
        add("Cross-Origin-Opener-Policy", "same-origin");
        add("Cross-Origin-Resource-Policy", "same-origin");
        add("Server", "meldpunt-desk");
        for (n, v) in &self.headers {
            add(n, v);
        }
        match self.body {
            Body::Bytes(mut bytes) => {
                let data = std::mem::take(&mut *bytes);
                let len = data.len();
                let response = Response::new(
                    StatusCode(self.status),
                    headers,
                    Wiped(Cursor::new(data)),
                    Some(len),
                    None,
                );
                request.respond(response)
            }
            Body::File(file) => {
                let len = file
                    .metadata()
                    .ok()
                    .and_then(|m| usize::try_from(m.len()).ok());
                request.respond(Response::new(
                    StatusCode(self.status),
                    headers,
                    file,
                    len,
                    None,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_and_text_is_escaped() {
        let form = Form::parse(b"a=x+y%21&b=%E2%82%AC&c=%zz&&d");
        assert_eq!(form.text("a"), "x y!");
        assert_eq!(form.text("b"), "\u{20ac}");
        assert_eq!(form.text("c"), "%zz");
        assert_eq!(form.text("d"), "");
        assert!(form.get("e").is_none());
        assert_eq!(Form::parse(b"x=%4").text("x"), "%4");
        assert_eq!(
            esc("<a href=\"x\">'&'</a>\u{202e}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{fffd}"
        );
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let head = Head {
            cookie: Some("xmeldpunt_desk=1; meldpunt_desk=abc; other=2".into()),
            ..Head::default()
        };
        assert_eq!(head.cookie_value("meldpunt_desk"), Some("abc"));
        assert_eq!(head.cookie_value("desk"), None);
    }
}
