//! Who may talk to the desk. The desk listens on 127.0.0.1, where every local user and
//! every web page open in the investigator's browser can reach it, so every request
//! passes these checks before anything else is looked at:
//!
//! - the `Host` header must be `127.0.0.1:PORT` or `localhost:PORT` exactly: a web page
//!   whose own name was pointed at 127.0.0.1 (DNS rebinding) is refused;
//! - anything but GET and HEAD must carry an `Origin` header naming the desk itself (a
//!   missing one is refused too), and a `Sec-Fetch-Site`, if the browser sends one, of
//!   `same-origin`: no other page can make the browser change anything;
//! - every request must carry the session cookie, which only the browser that opened
//!   the first URL has. That URL carries a one-time secret; the first request with it is
//!   answered with the cookie (`HttpOnly; SameSite=Strict; Path=/`, a separate random
//!   value) and a redirect to a clean URL, and the secret is then used up, so the URL
//!   (in the terminal, or the browser's command line) opens nothing a second time.
//!
//! The desk sends no `Access-Control-*` header at all (see [`super::web`]), so no other
//! origin can read an answer.

use std::fmt;

use rand::RngCore;
use zeroize::Zeroizing;

use super::web::Head;

/// The session cookie's name.
pub const COOKIE: &str = "meldpunt_desk";

/// A random 256-bit value, as 64 hex digits; not `Debug`, wiped on drop.
pub struct Token(Zeroizing<String>);

impl Token {
    /// A fresh random value.
    pub fn random() -> Token {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut *bytes);
        Token(Zeroizing::new(hex::encode(*bytes)))
    }

    /// The value, for the URL or the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this value (in constant time).
    pub fn matches(&self, other: &str) -> bool {
        let a = self.0.as_bytes();
        let b = other.as_bytes();
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The Host header is not the desk's address.
    Host,
    /// A state change without the desk's own Origin.
    Origin,
    /// No valid session cookie (and no valid one-time secret).
    NoSession,
}

impl Refusal {
    /// The HTTP status to answer with.
    pub fn status(self) -> u16 {
        match self {
            Refusal::Host => 421,
            Refusal::Origin | Refusal::NoSession => 403,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Host => "Refused: this is not the address the desk listens on.",
            Refusal::Origin => "Refused: a change may only come from the desk's own pages.",
            Refusal::NoSession => {
                "Refused: open the desk with the link `meldpunt desk` printed in the \
                 terminal. The link works once; to open the desk in another browser, stop \
                 it and start it again."
            }
        })
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// It may go on.
    Proceed,
    /// The one-time secret was right: set the session cookie and go to the clean URL.
    Exchange,
    /// A session's request that still names a secret in its URL: go to the clean URL.
    Clean,
    /// Refused.
    Refuse(Refusal),
}

/// The desk's checks, with its secrets.
pub struct Guard {
    port: u16,
    secret: Option<Token>,
    session: Token,
}

impl Guard {
    /// Checks for a desk on `port`, with a fresh one-time secret and session value.
    pub fn new(port: u16) -> Guard {
        Guard {
            port,
            secret: Some(Token::random()),
            session: Token::random(),
        }
    }

    /// The first URL, with the one-time secret (`None` once it was used).
    pub fn first_url(&self) -> Option<String> {
        self.secret
            .as_ref()
            .map(|s| format!("http://127.0.0.1:{}/?s={}", self.port, s.expose()))
    }

    /// The `Set-Cookie` value that gives the browser the session.
    pub fn cookie(&self) -> String {
        format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
            self.session.expose()
        )
    }

    /// The desk's own origins.
    fn origins(&self) -> [String; 2] {
        [
            format!("http://127.0.0.1:{}", self.port),
            format!("http://localhost:{}", self.port),
        ]
    }

    /// Checks a request; a one-time secret that passes is used up.
    pub fn check(&mut self, head: &Head) -> Pass {
        let hosts = [
            format!("127.0.0.1:{}", self.port),
            format!("localhost:{}", self.port),
        ];
        let host_ok = head
            .host
            .as_deref()
            .is_some_and(|h| hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)));
        if !host_ok {
            return Pass::Refuse(Refusal::Host);
        }
        let reads_only = matches!(head.method.as_str(), "GET" | "HEAD");
        if !reads_only {
            let origin_ok = head
                .origin
                .as_deref()
                .is_some_and(|o| self.origins().iter().any(|ok| ok == o));
            let site_ok = head
                .fetch_site
                .as_deref()
                .is_none_or(|s| s == "same-origin");
            if !origin_ok || !site_ok {
                return Pass::Refuse(Refusal::Origin);
            }
        }
        let offered = head.query_value("s");
        let has_session = head
            .cookie_value(COOKIE)
            .is_some_and(|c| self.session.matches(c));
        if has_session {
            return if offered.is_some() && head.path == "/" {
                Pass::Clean
            } else {
                Pass::Proceed
            };
        }
        let secret_ok = reads_only
            && head.path == "/"
            && offered
                .as_deref()
                .zip(self.secret.as_ref())
                .is_some_and(|(o, s)| s.matches(o));
        if secret_ok {
            self.secret = None;
            return Pass::Exchange;
        }
        Pass::Refuse(Refusal::NoSession)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, query: &str) -> Head {
        Head {
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            host: Some("127.0.0.1:4711".into()),
            ..Head::default()
        }
    }

    fn secret_of(guard: &Guard) -> String {
        let url = guard.first_url().unwrap();
        url.split_once("?s=").unwrap().1.to_owned()
    }

    fn with_session(guard: &Guard, mut head: Head) -> Head {
        head.cookie = Some(guard.cookie().split(';').next().unwrap().to_owned());
        head
    }

    #[test]
    fn the_secret_is_exchanged_once_for_the_session_cookie() {
        let mut guard = Guard::new(4711);
        let secret = secret_of(&guard);
        assert_eq!(secret.len(), 64);
        assert_eq!(
            guard.check(&get("/", "s=wrong")),
            Pass::Refuse(Refusal::NoSession)
        );
        assert_eq!(
            guard.check(&get("/case/MP-1", &format!("s={secret}"))),
            Pass::Refuse(Refusal::NoSession)
        );
        assert_eq!(
            guard.check(&get("/", &format!("s={secret}"))),
            Pass::Exchange
        );
        // Used up: the same link opens nothing again.
        assert!(guard.first_url().is_none());
        assert_eq!(
            guard.check(&get("/", &format!("s={secret}"))),
            Pass::Refuse(Refusal::NoSession)
        );
        let cookie = guard.cookie();
        assert!(
            cookie.ends_with("; HttpOnly; SameSite=Strict; Path=/"),
            "{cookie}"
        );
        assert!(!cookie.contains(&secret));
        assert_eq!(
            guard.check(&with_session(&guard, get("/", ""))),
            Pass::Proceed
        );
        assert_eq!(
            guard.check(&with_session(&guard, get("/", &format!("s={secret}")))),
            Pass::Clean
        );
        assert_eq!(guard.check(&get("/", "")), Pass::Refuse(Refusal::NoSession));
        let mut wrong = get("/", "");
        wrong.cookie = Some(format!("{COOKIE}={}", "0".repeat(64)));
        assert_eq!(guard.check(&wrong), Pass::Refuse(Refusal::NoSession));
    }

    #[test]
    fn only_the_desks_own_host_is_served() {
        let mut guard = Guard::new(4711);
        let ok = with_session(&guard, get("/", ""));
        for host in ["127.0.0.1:4711", "localhost:4711", "LOCALHOST:4711"] {
            let mut h = ok.clone();
            h.host = Some(host.into());
            assert_eq!(guard.check(&h), Pass::Proceed, "{host}");
        }
        for host in [
            None,
            Some("evil.example:4711"),
            Some("127.0.0.1"),
            Some("127.0.0.1:4712"),
            Some("127.0.0.1:4711.evil.example"),
            Some(""),
        ] {
            let mut h = ok.clone();
            h.host = host.map(str::to_owned);
            assert_eq!(guard.check(&h), Pass::Refuse(Refusal::Host), "{host:?}");
        }
        // Before the secret is even looked at.
        let secret = secret_of(&guard);
        let mut h = get("/", &format!("s={secret}"));
        h.host = Some("rebound.example:4711".into());
        assert_eq!(guard.check(&h), Pass::Refuse(Refusal::Host));
        assert!(guard.first_url().is_some());
    }

    #[test]
    fn a_change_needs_the_desks_own_origin() {
        let mut guard = Guard::new(4711);
        let mut post = with_session(&guard, get("/lock", ""));
        post.method = "POST".into();
        for origin in [
            None,
            Some("http://evil.example"),
            Some("null"),
            Some("http://127.0.0.1:4712"),
            Some("https://127.0.0.1:4711"),
        ] {
            let mut h = post.clone();
            h.origin = origin.map(str::to_owned);
            assert_eq!(guard.check(&h), Pass::Refuse(Refusal::Origin), "{origin:?}");
        }
        let mut h = post.clone();
        h.origin = Some("http://127.0.0.1:4711".into());
        assert_eq!(guard.check(&h), Pass::Proceed);
        h.fetch_site = Some("same-site".into());
        assert_eq!(guard.check(&h), Pass::Refuse(Refusal::Origin));
        h.fetch_site = Some("same-origin".into());
        assert_eq!(guard.check(&h), Pass::Proceed);
        // Without the session, the right origin is not enough.
        h.cookie = None;
        assert_eq!(guard.check(&h), Pass::Refuse(Refusal::NoSession));
        // Other methods are changes too.
        for method in ["PUT", "DELETE", "OPTIONS", "PATCH"] {
            let mut h = post.clone();
            h.method = method.into();
            assert_eq!(guard.check(&h), Pass::Refuse(Refusal::Origin), "{method}");
        }
    }

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let a = Token::random();
        let b = Token::random();
        assert_ne!(a.expose(), b.expose());
        assert!(a.matches(a.expose()));
        assert!(!a.matches(b.expose()));
        assert!(!a.matches(&a.expose()[..63]));
        assert!(!a.matches(""));
    }
}
