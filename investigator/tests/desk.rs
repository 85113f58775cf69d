//! `meldpunt desk` as a process, spoken to over plain HTTP with the headers a browser
//! (or an attacker) would send: the one-time link, the session cookie, the Host and
//! Origin checks, unlocking, a case, the recorded look at the contact details, an answer
//! into the outbox, and quitting. (The whole desk in a real browser, with axe-core, is
//! `tests/tests/desk.rs` of the end-to-end tests.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, CONTACT, DESCRIPTION};

struct Desk {
    child: Child,
    port: u16,
    secret: String,
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(env: &Env) -> Desk {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("meldpunt"))
        .arg("desk")
        .arg(&env.bundle)
        .arg("-i")
        .arg(&env.key_file)
        .arg("--no-browser")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(at) = line.find("http://127.0.0.1:") {
            break line[at..].trim().to_owned();
        }
    };
    // Keep reading, so the desk never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let rest = &url["http://127.0.0.1:".len()..];
    let (port, secret) = rest.split_once("/?s=").unwrap();
    Desk {
        child,
        port: port.parse().unwrap(),
        secret: secret.to_owned(),
    }
}

struct Answer {
    status: u16,
    head: String,
    body: String,
}

fn request(port: u16, method: &str, path: &str, headers: &[&str], body: &str) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(text.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head.split_whitespace().nth(1).unwrap().parse().unwrap(),
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

#[test]
fn the_desk_lets_in_only_the_browser_with_the_link_and_works_over_the_library() {
    let env = Env::pinned();
    let mut case = env.case("MP-7KQ2M9XD4A", &env.bureau, Some(CONTACT), &[]);
    case.bureau_says("Thank you. When did it happen?");
    case.reporter_says("Last Tuesday.", &env.key);
    let mut desk = start(&env);
    let port = desk.port;
    let host = format!("Host: 127.0.0.1:{port}");
    let origin = format!("Origin: http://127.0.0.1:{port}");
    let form = "Content-Type: application/x-www-form-urlencoded";

    // Without the link, with a wrong secret, or under another name: nothing.
    assert_eq!(request(port, "GET", "/", &[&host], "").status, 403);
    assert_eq!(request(port, "GET", "/?s=1234", &[&host], "").status, 403);
    let rebound = request(
        port,
        "GET",
        &format!("/?s={}", desk.secret),
        &["Host: attacker.example"],
        "",
    );
    assert_eq!(rebound.status, 421);
    assert!(!rebound.head.contains("set-cookie"));

    // The link, once: a session cookie and a clean URL.
    let first = request(port, "GET", &format!("/?s={}", desk.secret), &[&host], "");
    assert_eq!(first.status, 303);
    assert!(first.head.contains("location: /\r\n") || first.head.ends_with("location: /"));
    let cookie_line = first
        .head
        .lines()
        .find(|l| l.starts_with("set-cookie:"))
        .unwrap()
        .to_owned();
    assert!(cookie_line.contains("httponly; samesite=strict; path=/"));
    let value = cookie_line["set-cookie:".len()..]
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cookie = format!("Cookie: {value}");
    let again = request(port, "GET", &format!("/?s={}", desk.secret), &[&host], "");
    assert_eq!(again.status, 403, "the link works once");

    // Locked: the unlock form, nothing decrypted.
    let page = request(port, "GET", "/case/MP-7KQ2M9XD4A", &[&host, &cookie], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"passphrase\"") && !page.body.contains(DESCRIPTION));
    assert!(!page.head.contains("access-control"));

    // Changes only from the desk's own pages.
    for bad in [
        vec![],
        vec!["Origin: http://attacker.example"],
        vec!["Origin: null"],
    ] {
        let mut headers = vec![host.as_str(), cookie.as_str(), form];
        headers.extend(bad.iter());
        assert_eq!(
            request(port, "POST", "/unlock", &headers, "passphrase=").status,
            403
        );
    }
    let unlocked = request(
        port,
        "POST",
        "/unlock",
        &[&host, &cookie, &origin, form],
        "passphrase=&next=%2Fcase%2FMP-7KQ2M9XD4A",
    );
    assert_eq!(unlocked.status, 303);
    assert!(unlocked.head.contains("location: /case/mp-7kq2m9xd4a"));

    // The case list and the case, read with the library.
    let list = request(port, "GET", "/", &[&host, &cookie], "");
    assert!(list.body.contains("MP-7KQ2M9XD4A"));
    let page = request(port, "GET", "/case/MP-7KQ2M9XD4A", &[&host, &cookie], "");
    assert!(page.body.contains(DESCRIPTION));
    assert!(page.body.contains("Last Tuesday."));
    assert_eq!(page.body.matches(" verified\" id=\"msg-").count(), 2);
    assert!(!page.body.contains("06-12345678"), "hidden until asked for");

    // The contact details: recorded first, then shown.
    let shown = request(
        port,
        "POST",
        "/case/MP-7KQ2M9XD4A/contact",
        &[&host, &cookie, &origin, form],
        "show=1",
    );
    assert_eq!(shown.status, 303);
    let record = fs::read_to_string(env.bundle.join("access.jsonl")).unwrap();
    assert!(record.contains("\"case\":\"MP-7KQ2M9XD4A\""));
    assert!(record.contains(env.key.recipient().as_str()));
    let page = request(port, "GET", "/case/MP-7KQ2M9XD4A", &[&host, &cookie], "");
    assert!(page.body.contains("06-12345678"));

    // An answer, into the outbox as `meldpunt reply` puts it there.
    let sent = request(
        port,
        "POST",
        "/case/MP-7KQ2M9XD4A/reply",
        &[&host, &cookie, &origin, form],
        "text=We+will+look+into+it.&status=investigating",
    );
    assert_eq!(sent.status, 303);
    let outbox = fs::read_to_string(env.bundle.join("outbox/outbox.json")).unwrap();
    assert!(
        outbox.contains("MP-7KQ2M9XD4A/0003-to_reporter.age"),
        "{outbox}"
    );
    assert!(outbox.contains("\"investigating\""));
    let page = request(port, "GET", "/outbox", &[&host, &cookie], "");
    assert!(page.body.contains("waiting to be sent"));

    // Quit: the process ends.
    let quit = request(port, "POST", "/quit", &[&host, &cookie, &origin], "");
    assert_eq!(quit.status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = desk.child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(Instant::now() < deadline, "the desk did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}
