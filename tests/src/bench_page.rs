//! For the browser benchmarks (`tests/examples/bench_*.rs`): a static HTTP server for a
//! benchmark page, from memory, that also takes what the page sends back
//! (`PUT /result/<name>`) for checking, a way to open it in a browser with room for
//! minutes-long scripts, and a way to await a promise in the page.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use serde_json::Value;

use crate::browser::Browser;

/// What the server serves: path → (content type, body).
pub type Files = HashMap<&'static str, (&'static str, Arc<Vec<u8>>)>;

/// The page's server, on a loopback port, until the process ends.
pub struct PageServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    uploads: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl PageServer {
    /// Serves `files`, one thread per connection.
    pub fn start(files: Files) -> Self {
        let files = Arc::new(files);
        let uploads = Arc::new(Mutex::new(HashMap::new()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("bound").port();
        let up = uploads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (files, up) = (files.clone(), up.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &files, &up);
                });
            }
        });
        Self { port, uploads }
    }

    /// What the page sent as `name`; panics if it sent nothing.
    pub fn take_upload(&self, name: &str) -> Vec<u8> {
        self.uploads
            .lock()
            .expect("uploads")
            .remove(name)
            .unwrap_or_else(|| panic!("the page sent nothing as {name}"))
    }
}

/// One request per connection: GET a file, or PUT a result.
fn serve(
    stream: TcpStream,
    files: &Files,
    uploads: &Mutex<HashMap<String, Vec<u8>>>,
) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut out = stream;
    let respond = |out: &mut TcpStream, status: &str, ctype: &str, body: &[u8]| {
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        out.write_all(body)?;
        out.flush()
    };
    match (method, path.strip_prefix("/result/")) {
        ("PUT", Some(name)) => {
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body)?;
            uploads
                .lock()
                .expect("uploads")
                .insert(name.to_owned(), body);
            respond(&mut out, "200 OK", "text/plain", b"ok")
        }
        ("GET", _) => match files.get(path) {
            Some((ctype, body)) => respond(&mut out, "200 OK", ctype, body),
            None => respond(&mut out, "404 Not Found", "text/plain", b"not found"),
        },
        _ => respond(&mut out, "405 Method Not Allowed", "text/plain", b"no"),
    }
}

/// Opens the benchmark page of `server` in `b`, letting a script run for up to
/// `script_secs`, and waits until the page has set `window.bench`.
pub async fn open(b: Browser, server: &PageServer, script_secs: u64) -> Browser {
    b.client
        .update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(script_secs)),
            Some(Duration::from_secs(120)),
            None,
        ))
        .await
        .expect("timeouts set");
    b.client
        .goto(&format!("http://127.0.0.1:{}/", server.port))
        .await
        .expect("page loads");
    b.wait_until("window.bench", 60).await;
    b
}

/// Runs `expression` (a promise) in the page and returns its value; `arguments[i]` are
/// `args`. A rejection ends the benchmark with the page's message.
pub async fn call(b: &Browser, expression: &str, args: Vec<Value>) -> Value {
    let script = format!(
        "const done = arguments[arguments.length - 1];
         Promise.resolve().then(() => {expression}).then(
           (v) => done({{ ok: v === undefined ? null : v }}),
           (e) => done({{ error: String((e && e.stack) || e) }}));"
    );
    let v = b
        .client
        .execute_async(&script, args)
        .await
        .unwrap_or_else(|e| panic!("{expression}: {e}"));
    if let Some(e) = v.get("error") {
        panic!(
            "{expression} failed in the page: {}",
            e.as_str().unwrap_or_default()
        );
    }
    v["ok"].clone()
}
