//! The real server process: crash safety under concurrent load, and privacy of
//! everything it writes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use common::{all_files, attachment, contains, Keys, Reporter};
use meldpunt_crypto::{
    open_report, seal_from_reporter, seal_to_reporter, Day, Direction, ThreadState,
};
use rand::Rng;
use serde_json::Value;
use zeroize::Zeroizing;

const BIN: &str = env!("CARGO_BIN_EXE_meldpunt-server");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A data directory, a configuration file and log files that outlive restarts.
struct Site {
    dir: tempfile::TempDir,
    keys: Keys,
    port: u16,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::new();
        let port = free_port();
        let config = format!(
            "address = \"127.0.0.1\"\nport = {port}\ndata_dir = \"{}\"\nmin_free_disk = 0\n\
             submissions_per_hour = 100000\nworkers = 8\n\n{}",
            dir.path().join("data").display(),
            keys.toml()
        );
        std::fs::write(dir.path().join("Meldpunt.toml"), config).unwrap();
        Self { dir, keys, port }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env("MELDPUNT_CONFIG", self.dir.path().join("Meldpunt.toml"))
            .env_remove("MELDPUNT_DATA_DIR")
            .env_remove("MELDPUNT_PORT");
        cmd
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(name))
            .unwrap()
    }

    /// Everything the server and the commands printed, over all runs.
    fn logs(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for name in ["stdout.log", "stderr.log"] {
            if let Ok(mut f) = std::fs::File::open(self.dir.path().join(name)) {
                f.read_to_end(&mut out).unwrap();
            }
        }
        out
    }

    fn token(&self, name: &str, destination: &str) -> String {
        let out = self
            .command()
            .args(["token", "create", name, "--destination", destination])
            .stderr(self.log("stderr.log"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert!(token.starts_with("mpt_"), "{token}");
        token
    }

    // The child is returned; every caller kills and waits for it.
    #[allow(clippy::zombie_processes)]
    fn start(&self) -> Child {
        let mut child = self
            .command()
            .stdout(self.log("stdout.log"))
            .stderr(self.log("stderr.log"))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if agent()
                .get(&self.url("/api/v1/destinations"))
                .call()
                .is_ok()
            {
                return child;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not start");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, path: &str) -> String {
        self.target().url(path)
    }

    fn target(&self) -> Target {
        Target {
            bureau: self.keys.bureau.clone(),
            port: self.port,
        }
    }
}

/// What a client thread needs to know of a site.
struct Target {
    bureau: meldpunt_crypto::Destination,
    port: u16,
}

impl Target {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn json(resp: ureq::http::Response<ureq::Body>) -> Value {
    serde_json::from_str(&resp.into_body().read_to_string().unwrap_or_default())
        .unwrap_or(Value::Null)
}

/// What a receipt promised: the case and the exact bytes behind it.
#[derive(Clone)]
struct Promise {
    case: String,
    report: Vec<u8>,
    attachments: Vec<Vec<u8>>,
    messages: Vec<Vec<u8>>,
}

/// One reporter's whole submission. Every confirmed step is recorded in `confirmed`
/// the moment its answer arrives.
fn submit(
    site: &Target,
    agent: &ureq::Agent,
    with_attachment: bool,
    confirmed: &Mutex<Vec<Promise>>,
) -> Result<(), String> {
    let e = |e: ureq::Error| e.to_string();
    let r = Reporter::new();
    let cred = r.credential();
    let mut attachments = Vec::new();
    let mut entries = Vec::new();
    if with_attachment {
        let plaintext: Vec<u8> = (0..40_000).map(|_| rand::random::<u8>()).collect();
        let (ct, entry) = attachment(&site.bureau, &plaintext, "scan.pdf");
        let resp = agent
            .post(&site.url("/api/v1/uploads"))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .map_err(e)?;
        if resp.status() != 200 {
            return Err(format!("session: {}", resp.status()));
        }
        let half = ct.len() / 2;
        for (offset, chunk) in [(0, &ct[..half]), (half, &ct[half..])] {
            let resp = agent
                .put(&site.url("/api/v1/uploads/0"))
                .header("Meldpunt-Mailbox", &cred)
                .header("Meldpunt-Offset", &offset.to_string())
                .send(chunk)
                .map_err(e)?;
            if resp.status() != 200 {
                return Err(format!("chunk: {}", resp.status()));
            }
        }
        let resp = agent
            .post(&site.url("/api/v1/uploads/0/finish"))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .map_err(e)?;
        if resp.status() != 200 {
            return Err(format!("finish: {}", resp.status()));
        }
        attachments.push(ct);
        entries.push(entry);
    }
    let report = r.report(&site.bureau, "crash test", entries);
    let resp = agent
        .post(&site.url("/api/v1/reports"))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Destination", "bureau")
        .send(&report[..])
        .map_err(e)?;
    if resp.status() != 201 {
        return Err(format!("report: {}", resp.status()));
    }
    let receipt = json(resp);
    let case = receipt["case"].as_str().ok_or("no case")?.to_owned();
    confirmed.lock().unwrap().push(Promise {
        case: case.clone(),
        report: report.clone(),
        attachments,
        messages: vec![],
    });

    // Then a reply in the thread, extending the report.
    let state = ThreadState::new(meldpunt_crypto::ciphertext_hash(&report));
    let draft = state.draft(
        Direction::FromReporter,
        Day::today(),
        Zeroizing::new("more details".into()),
    );
    let message = seal_from_reporter(&draft, &r.keys, &r.code, site.bureau.recipients()).unwrap();
    let resp = agent
        .post(&site.url("/api/v1/thread"))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&message[..])
        .map_err(e)?;
    if resp.status() != 201 {
        return Err(format!("message: {}", resp.status()));
    }
    let mut all = confirmed.lock().unwrap();
    all.iter_mut()
        .find(|p| p.case == case)
        .unwrap()
        .messages
        .push(message);
    Ok(())
}

fn download(site: &Site, token: &str, case: &str) -> BTreeMap<String, Vec<u8>> {
    let resp = agent()
        .get(&site.url(&format!("/api/v1/cases/{case}/download")))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200, "download of {case}");
    let bytes = resp
        .into_body()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    let mut out = BTreeMap::new();
    for entry in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.insert(path, data);
    }
    out
}

/// How many kill-and-restart rounds to run: one in the normal test run; the slow tier
/// (`scripts/test-slow.sh`) sets `MELDPUNT_FAULT_ROUNDS=20`.
fn fault_rounds() -> usize {
    match std::env::var("MELDPUNT_FAULT_ROUNDS") {
        Ok(v) => match v.trim().parse() {
            Ok(n) if n >= 1 => n,
            _ => panic!("MELDPUNT_FAULT_ROUNDS must be a whole number of at least 1, not {v:?}"),
        },
        Err(_) => 1,
    }
}

/// Sixteen clients submit until receipts have come back, then the server is killed
/// (SIGKILL) at a random moment with requests in flight. Returns what was confirmed.
fn load_then_kill(site: &Site, server: &mut Child) -> Vec<Promise> {
    let confirmed = Arc::new(Mutex::new(Vec::<Promise>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|i| {
            let (confirmed, stop, target) = (confirmed.clone(), stop.clone(), site.target());
            std::thread::spawn(move || {
                let agent = agent();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    if submit(&target, &agent, (i + n) % 3 == 0, &confirmed).is_err() {
                        break;
                    }
                    n += 1;
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(120);
    while confirmed.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "no receipts arrive");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(rand::thread_rng().gen_range(0..1500)));
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let promises = std::mem::take(&mut *confirmed.lock().unwrap());
    promises
}

/// Every receipt ever returned gives byte-identical ciphertext in the case download.
fn check_promises(site: &Site, token: &str, promises: &[Promise]) {
    for p in promises {
        let files = download(site, token, &p.case);
        assert_eq!(files["report.age"], p.report, "report of {}", p.case);
        for (i, a) in p.attachments.iter().enumerate() {
            assert_eq!(
                &files[&format!("attachments/{i:03}.age")],
                a,
                "attachment of {}",
                p.case
            );
        }
        for (i, m) in p.messages.iter().enumerate() {
            assert_eq!(
                &files[&format!("thread/{:04}-from_reporter.age", i + 1)],
                m,
                "message of {}",
                p.case
            );
        }
    }
}

#[test]
fn every_receipt_survives_sigkill() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let rounds = fault_rounds();
    let mut server = site.start();
    // The same data directory goes through every round, so receipts from earlier
    // rounds must also survive the later kills.
    let mut promises = Vec::new();
    for round in 1..=rounds {
        let fresh = load_then_kill(&site, &mut server);
        let new = fresh.len();
        promises.extend(fresh);
        server = site.start();
        check_promises(&site, &token, &promises);
        eprintln!(
            "round {round}/{rounds}: {new} new receipts, all {} receipts so far byte-identical \
             after SIGKILL and restart",
            promises.len()
        );
    }
    let first = download(&site, &token, &promises[0].case);
    open_report(&first["report.age"], &[site.keys.bureau_key.as_age()]).unwrap();
    // The restarted server takes new reports.
    submit(&site.target(), &agent(), true, &Mutex::new(Vec::new())).unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}

const SPY_IP: &str = "203.0.113.77";
const SPY_UA: &str = "Mozilla/5.0 (PrivacyProbe; MarkerUA-5e1f7c)";
const MARKERS: [&str; 4] = [
    "PLAINTEXT-REPORT-MARKER-91c4",
    "PLAINTEXT-CONTACT-MARKER-7b2d",
    "PLAINTEXT-MESSAGE-MARKER-33fa",
    "PLAINTEXT-ATTACHMENT-MARKER-0e8c",
];

macro_rules! spied {
    ($req:expr) => {
        $req.header("X-Forwarded-For", SPY_IP)
            .header("X-Real-IP", SPY_IP)
            .header("Forwarded", &format!("for={SPY_IP}"))
            .header("User-Agent", SPY_UA)
    };
}

#[test]
fn nothing_identifying_or_readable_is_kept() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let server = site.start();
    let a = agent();
    let r = Reporter::new();
    let cred = r.credential();
    let bureau = &site.keys.bureau;

    // Pages and errors.
    for path in [
        "/",
        "/nl/",
        "/en/report",
        "/static/style.css",
        "/api/v1/destinations",
        "/nothing-here",
        "/api/v1/thread",
    ] {
        spied!(a.get(&site.url(path)))
            .header("Meldpunt-Mailbox", &Reporter::new().credential())
            .call()
            .unwrap();
    }
    // An attachment, the report, the note.
    let (ct, entry) = attachment(
        bureau,
        MARKERS[3].repeat(100).as_bytes(),
        &format!("{}.txt", MARKERS[3]),
    );
    assert_eq!(
        spied!(a.post(&site.url("/api/v1/uploads")))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .unwrap()
            .status(),
        200
    );
    let resp = spied!(a.put(&site.url("/api/v1/uploads/0")))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Offset", "0")
        .send(&ct[..])
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        spied!(a.post(&site.url("/api/v1/uploads/0/finish")))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .unwrap()
            .status(),
        200
    );
    let content = meldpunt_crypto::ReportContent {
        category: meldpunt_crypto::Category::SystemLookup,
        concerning: "J. Jansen".into(),
        description: MARKERS[0].into(),
        when_where: "office".into(),
        contact: Some(MARKERS[1].into()),
        attachments: vec![entry],
        date: Day::today(),
        encrypted_by: meldpunt_crypto::EncryptedBy::Browser,
    };
    let report = meldpunt_crypto::seal_report(&content, &r.keys, bureau).unwrap();
    let resp = spied!(a.post(&site.url("/api/v1/reports")))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Destination", "bureau")
        .send(&report[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let case = json(resp)["case"].as_str().unwrap().to_owned();
    let note = meldpunt_crypto::seal_reporter_note(
        &meldpunt_crypto::ReporterNote::for_report(bureau, &report, Day::today()),
        &r.keys,
    )
    .unwrap();
    assert_eq!(
        spied!(a.put(&site.url("/api/v1/note")))
            .header("Meldpunt-Mailbox", &cred)
            .send(&note[..])
            .unwrap()
            .status(),
        200
    );

    // The bureau asks, the reporter answers.
    let opened = open_report(&report, &[site.keys.bureau_key.as_age()]).unwrap();
    let mut state = ThreadState::new(opened.ciphertext_sha256);
    let q = state.draft(
        Direction::ToReporter,
        Day::today(),
        Zeroizing::new(format!("{} question", MARKERS[2])),
    );
    let question = seal_to_reporter(&q, &opened.thread, bureau.recipients()).unwrap();
    let bearer = format!("Bearer {token}");
    assert_eq!(
        spied!(a.get(&site.url("/api/v1/cases")))
            .header("Authorization", &bearer)
            .call()
            .unwrap()
            .status(),
        200
    );
    let resp = spied!(a.post(&site.url(&format!("/api/v1/cases/{case}/messages"))))
        .header("Authorization", &bearer)
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&question[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let thread = json(
        spied!(a.get(&site.url("/api/v1/thread")))
            .header("Meldpunt-Mailbox", &cred)
            .call()
            .unwrap(),
    );
    assert_eq!(thread["messages"].as_array().unwrap().len(), 1);
    let message = meldpunt_crypto::open_message(
        &question,
        &[&r.keys.identity()],
        &meldpunt_crypto::ThreadSecrets::from_reporter_keys(&r.keys),
    )
    .unwrap();
    state.accept(&question, &message).unwrap();
    let reply = state.draft(
        Direction::FromReporter,
        Day::today(),
        Zeroizing::new(format!("{} answer", MARKERS[2])),
    );
    let answer = seal_from_reporter(&reply, &r.keys, &r.code, bureau.recipients()).unwrap();
    let resp = spied!(a.post(&site.url("/api/v1/thread")))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&answer[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = spied!(a.post(&site.url(&format!("/api/v1/cases/{case}/status"))))
        .header("Authorization", &bearer)
        .header("Content-Type", "application/json")
        .send(r#"{"status":"acknowledged"}"#)
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(download(&site, &token, &case)["report.age"], report);
    // Refused requests too: garbage, a stale head, a wrong token.
    let resp = spied!(a.post(&site.url("/api/v1/reports")))
        .header("Meldpunt-Mailbox", &Reporter::new().credential())
        .header("Meldpunt-Destination", "bureau")
        .send(MARKERS[0].as_bytes())
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = spied!(a.post(&site.url("/api/v1/thread")))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Extends", &"0".repeat(64))
        .send(&answer[..])
        .unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(
        spied!(a.get(&site.url("/api/v1/cases")))
            .header("Authorization", "Bearer mpt_x")
            .call()
            .unwrap()
            .status(),
        401
    );

    // Stop it the ordinary way, so everything it would write is written.
    let pid = server.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let mut server = server;
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            server.kill().unwrap();
            panic!("the server did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    // What must never be found, in any form.
    let code = r.code.to_grouped_string();
    let canonical: String = code.chars().filter(|c| *c != '-').collect();
    let raw_credential = hex::decode(&cred).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("client address".into(), SPY_IP.as_bytes().to_vec()),
        ("user agent".into(), SPY_UA.as_bytes().to_vec()),
        ("user agent marker".into(), b"MarkerUA-5e1f7c".to_vec()),
        ("return code".into(), code.as_bytes().to_vec()),
        (
            "return code, lower case".into(),
            code.to_lowercase().into_bytes(),
        ),
        (
            "return code, canonical".into(),
            canonical.as_bytes().to_vec(),
        ),
        (
            "return code, canonical lower case".into(),
            canonical.to_lowercase().into_bytes(),
        ),
        ("credential hex".into(), cred.as_bytes().to_vec()),
        ("credential HEX".into(), cred.to_uppercase().into_bytes()),
        ("credential raw".into(), raw_credential.clone()),
        (
            "credential base64".into(),
            b64.encode(&raw_credential).into_bytes(),
        ),
        (
            "credential base64url".into(),
            b64url.encode(&raw_credential).into_bytes(),
        ),
        (
            "credential base64 of hex".into(),
            b64.encode(cred.as_bytes()).into_bytes(),
        ),
        ("investigator token".into(), token.as_bytes().to_vec()),
    ];
    for m in MARKERS {
        needles.push((format!("plaintext {m}"), m.as_bytes().to_vec()));
        needles.push((format!("plaintext {m}, base64"), b64.encode(m).into_bytes()));
    }
    let files = all_files(&site.data());
    // The scan reads the real store: the report's ciphertext is in it.
    assert!(
        files
            .iter()
            .any(|(_, bytes)| contains(bytes, &report[..200])),
        "the scan does not see the stored report"
    );
    let logs = site.logs();
    assert!(
        String::from_utf8_lossy(&logs).contains("listening on"),
        "the logs were captured"
    );
    for (what, needle) in &needles {
        for (path, bytes) in files.iter().chain(std::iter::once(&(
            PathBuf::from("server output"),
            logs.clone(),
        ))) {
            assert!(
                !contains(bytes, needle),
                "{what} found in {}",
                path.display()
            );
        }
    }
    // File times tell the day at most: every stored file is stamped at midnight (UTC).
    check_day_stamps(&site.data());
}

fn check_day_stamps(dir: &Path) {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            let modified = e.metadata().unwrap().modified().unwrap();
            let secs = modified
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert_eq!(secs % 86_400, 0, "{} carries a time of day", p.display());
        }
    }
}

#[test]
fn a_dropped_upload_resumes_where_it_stopped() {
    use std::io::Write;
    let site = Site::new();
    let mut server = site.start();
    let r = Reporter::new();
    let cred = r.credential();
    let plaintext: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let (ct, entry) = attachment(&site.keys.bureau, &plaintext, "big.bin");
    let a = agent();
    assert_eq!(
        a.post(&site.url("/api/v1/uploads"))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .unwrap()
            .status(),
        200
    );

    // Half the body, then the connection drops.
    let half = ct.len() / 2;
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", site.port)).unwrap();
    write!(
        tcp,
        "PUT /api/v1/uploads/0 HTTP/1.1\r\nHost: 127.0.0.1\r\nMeldpunt-Mailbox: {cred}\r\n\
         Meldpunt-Offset: 0\r\nContent-Length: {}\r\n\r\n",
        ct.len()
    )
    .unwrap();
    tcp.write_all(&ct[..half]).unwrap();
    tcp.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(tcp);

    // The server kept what arrived and says so.
    let deadline = Instant::now() + Duration::from_secs(30);
    let received = loop {
        let resp = a
            .get(&site.url("/api/v1/uploads/0"))
            .header("Meldpunt-Mailbox", &cred)
            .call()
            .unwrap();
        let progress = json(resp);
        let received = progress["received"].as_u64().unwrap();
        if received > 0 || Instant::now() > deadline {
            break received;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        received > 0 && received <= half as u64,
        "received {received} of {half}"
    );
    // Resume from there, finish: the same file as the client made.
    let resp = a
        .put(&site.url("/api/v1/uploads/0"))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Offset", &received.to_string())
        .send(&ct[received as usize..])
        .unwrap();
    assert_eq!(resp.status(), 200);
    let digest = json(
        a.post(&site.url("/api/v1/uploads/0/finish"))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .unwrap(),
    );
    assert_eq!(digest["sha256"], entry.ciphertext_sha256.as_str());
    assert_eq!(digest["size"], entry.ciphertext_size);
    server.kill().unwrap();
    server.wait().unwrap();
}
