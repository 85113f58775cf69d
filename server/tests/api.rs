//! Every route through Rocket's local client, with good and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::path::Path;

use base64::Engine;
use common::{attachment, has_grease, scrypt_file, wait, Keys, Reporter};
use meldpunt_crypto::{
    open_message, open_report, seal_from_reporter, seal_to_reporter, Day, Direction, ThreadSecrets,
    ThreadState,
};
use meldpunt_server::clock::Clock;
use meldpunt_server::config;
use meldpunt_server::storage::Store;
use meldpunt_server::App;
use rocket::figment::providers::Serialized;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use serde_json::{json, Value};
use zeroize::Zeroizing;

const MAX_ATTACHMENT: u64 = 1 << 20;

struct Server {
    client: Client,
    app: App,
    keys: Keys,
    clock: Clock,
    _dir: tempfile::TempDir,
}

fn server() -> Server {
    server_with(|f| f)
}

fn server_with(more: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let clock = Clock::fixed(Day::parse("2026-11-23").unwrap());
    let figment = config::figment(Path::new("/nonexistent/Meldpunt.toml"))
        .merge(Serialized::global("data_dir", dir.path()))
        .merge(Serialized::global("destinations", keys.config()))
        .merge(Serialized::global("max_report", "256 KiB"))
        .merge(Serialized::global("max_message", "128 KiB"))
        .merge(Serialized::global("max_attachment", "1 MiB"))
        .merge(Serialized::global("max_case", "3 MiB"))
        .merge(Serialized::global("max_attachments", 4))
        .merge(Serialized::global("min_free_disk", 0));
    let figment = common::backend::choose(more(figment));
    let (rocket, app) = meldpunt_server::build(figment, clock.clone()).unwrap();
    let client = Client::tracked(rocket).unwrap();
    Server {
        client,
        app,
        keys,
        clock,
        _dir: dir,
    }
}

fn mailbox(r: &Reporter) -> Header<'static> {
    Header::new("Meldpunt-Mailbox", r.credential())
}

fn to(name: &str) -> Header<'static> {
    Header::new("Meldpunt-Destination", name.to_owned())
}

fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

fn json_of(resp: LocalResponse<'_>) -> Value {
    serde_json::from_str(&resp.into_string().unwrap_or_default()).unwrap()
}

impl Server {
    fn token(&self, name: &str, destinations: &[&str]) -> String {
        let known = vec!["bureau".to_owned(), "commission".to_owned()];
        let d: Vec<String> = destinations.iter().map(|s| s.to_string()).collect();
        wait(self.app.tokens.create(name, &d, &known, self.clock.today()))
            .unwrap()
            .to_string()
    }

    fn file_report(&self, r: &Reporter, dest: &str, report: &[u8]) -> LocalResponse<'_> {
        self.client
            .post("/api/v1/reports")
            .header(mailbox(r))
            .header(to(dest))
            .body(report)
            .dispatch()
    }

    /// Files a plain report to the bureau; returns the case number and report bytes.
    fn new_case(&self, r: &Reporter) -> (String, Vec<u8>) {
        let report = r.report(&self.keys.bureau, "marker", vec![]);
        let resp = self.file_report(r, "bureau", &report);
        assert_eq!(resp.status(), Status::Created);
        (json_of(resp)["case"].as_str().unwrap().to_owned(), report)
    }

    fn nothing_stored(&self) {
        assert!(
            wait(self.app.storage.cases()).unwrap().is_empty(),
            "a case was stored"
        );
        if common::backend::postgres() {
            // No attachment bytes anywhere: no piece, no object (every bucket is new).
            return;
        }
        for e in std::fs::read_dir(self.app.settings.data_dir.as_path().join("files"))
            .unwrap()
            .flatten()
        {
            assert_eq!(
                e.metadata().unwrap().len(),
                0,
                "attachment bytes were stored"
            );
        }
    }
}

fn assert_security_headers(resp: &LocalResponse<'_>) {
    let h = resp.headers();
    let csp = h.get_one("Content-Security-Policy").expect("a CSP");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("wasm-unsafe-eval"),
        "{csp}"
    );
    assert_eq!(h.get_one("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(h.get_one("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(h.get_one("Cache-Control"), Some("no-store"));
    assert!(h.get_one("Set-Cookie").is_none());
    assert!(h.get_one("Server").is_none());
}

#[test]
fn destinations_and_start_page() {
    let s = server();
    let resp = s.client.get("/api/v1/destinations").dispatch();
    assert_eq!(resp.status(), Status::Ok);
    assert_security_headers(&resp);
    let list = json_of(resp);
    assert_eq!(list[0]["name"], "bureau");
    assert_eq!(list[0]["fingerprint"], s.keys.bureau.fingerprint());
    assert_eq!(list[1]["recipients"].as_array().unwrap().len(), 2);
    assert_eq!(list[1]["fingerprint"], s.keys.commission.fingerprint());

    // `/` offers both languages side by side; the browser's icon is there too.
    let resp = s.client.get("/").dispatch();
    assert_eq!(resp.status(), Status::Ok);
    assert_security_headers(&resp);
    let page = resp.into_string().unwrap();
    assert!(page.contains("href=\"/nl/report\"") && page.contains("href=\"/en/report\""));
    let resp = s.client.get("/favicon.ico").dispatch();
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.content_type(), Some(rocket::http::ContentType::Icon));
    for lang in ["nl", "en"] {
        let resp = s.client.get(format!("/{lang}/")).dispatch();
        assert_eq!(resp.status(), Status::Ok);
        assert_security_headers(&resp);
        let page = resp.into_string().unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")));
        // The fingerprint in groups that never break (spans), as the reader sees it.
        let text: String = page
            .split('<')
            .map(|piece| piece.split_once('>').map_or(piece, |(_, text)| text))
            .collect();
        assert!(text.contains(&s.keys.commission.fingerprint()));
        assert!(
            !page.contains("<script type=\"module\""),
            "the start page runs no script"
        );
        assert!(!page.contains("<form"), "the start page has no form");
    }
    // The report and check pages load the crypto module, and only they may run WebAssembly.
    for path in ["/en/report", "/nl/check"] {
        let resp = s.client.get(path).dispatch();
        assert_eq!(resp.status(), Status::Ok);
        let csp = resp
            .headers()
            .get_one("Content-Security-Policy")
            .unwrap()
            .to_owned();
        assert!(csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(resp.into_string().unwrap().contains("/static/app.js"));
    }
    let csp = s
        .client
        .get("/en/")
        .dispatch()
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap()
        .to_owned();
    assert!(!csp.contains("wasm-unsafe-eval"));
    let css = s.client.get("/static/style.css").dispatch();
    assert_eq!(css.status(), Status::Ok);
    assert_eq!(css.content_type(), Some(ContentType::CSS));
    let js = s.client.get("/static/app.js").dispatch();
    assert_eq!(js.content_type(), Some(ContentType::JavaScript));

    // Static files go gzipped to a browser that accepts it (Tor Browser does), the same
    // bytes once unpacked; as they are to one that does not, or refuses it with q=0.
    // Pages never: they may show a return code (BREACH).
    for name in meldpunt_pages::ASSETS {
        let (plain, _) = meldpunt_pages::asset(name).unwrap();
        let path = format!("/static/{name}");
        let packed = s
            .client
            .get(path.clone())
            .header(Header::new("Accept-Encoding", "gzip, deflate, br, zstd"))
            .dispatch();
        assert_eq!(packed.status(), Status::Ok);
        assert_eq!(
            packed.headers().get_one("Content-Encoding"),
            Some("gzip"),
            "{name}"
        );
        assert_eq!(packed.headers().get_one("Vary"), Some("Accept-Encoding"));
        let body = packed.into_bytes().unwrap();
        let mut unpacked = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut unpacked)
            .unwrap();
        assert_eq!(unpacked, plain, "{name}");
        if plain.len() > 4096 {
            assert!(
                body.len() < plain.len(),
                "{name}: {} of {}",
                body.len(),
                plain.len()
            );
        }
        for accept in [None, Some("gzip;q=0, br"), Some("identity")] {
            let mut req = s.client.get(path.clone());
            if let Some(a) = accept {
                req = req.header(Header::new("Accept-Encoding", a));
            }
            let resp = req.dispatch();
            assert_eq!(
                resp.headers().get_one("Content-Encoding"),
                None,
                "{name} {accept:?}"
            );
            assert_eq!(resp.into_bytes().unwrap(), plain, "{name} {accept:?}");
        }
    }
    for path in ["/en/report", "/nl/check", "/en/report-nojs", "/"] {
        let resp = s
            .client
            .get(path)
            .header(Header::new("Accept-Encoding", "gzip"))
            .dispatch();
        assert_eq!(resp.headers().get_one("Content-Encoding"), None, "{path}");
    }

    // Only embedded assets: no path reaches the file system.
    for path in [
        "/static/../Cargo.toml",
        "/static/..%2fCargo.toml",
        "/Cargo.toml",
        "/assets/index.html",
        "/src/main.rs",
        "/nl/../Cargo.toml",
        "/de/",
        "/nl/elsewhere",
    ] {
        let resp = s.client.get(path).dispatch();
        assert_eq!(resp.status(), Status::NotFound, "{path}");
        assert_security_headers(&resp);
    }
}

#[test]
fn a_real_report_gets_a_receipt_once() {
    let s = server();
    let r = Reporter::new();
    let report = r.report(&s.keys.bureau, "marker", vec![]);
    assert!(
        has_grease(&report),
        "age 0.12 adds a grease stanza: the test must cover it"
    );
    let resp = s.file_report(&r, "bureau", &report);
    assert_eq!(resp.status(), Status::Created);
    assert_security_headers(&resp);
    let receipt = json_of(resp);
    let case = receipt["case"].as_str().unwrap().to_owned();
    assert!(case.starts_with("MP-") && case.len() == 13, "{case}");
    assert_eq!(receipt["received"], "2026-11-23");
    assert_eq!(
        receipt["report_sha256"],
        hex::encode(meldpunt_crypto::ciphertext_hash(&report))
    );

    // The same report again (a lost receipt): the same case.
    let again = json_of(s.file_report(&r, "bureau", &report));
    assert_eq!(again["case"], case.as_str());
    // Another report with the same code: refused.
    let other = r.report(&s.keys.bureau, "second", vec![]);
    assert_eq!(
        s.file_report(&r, "bureau", &other).status(),
        Status::Conflict
    );
    // A second reporter gets a different, random case number.
    let (case2, _) = s.new_case(&Reporter::new());
    assert_ne!(case, case2);
}

#[test]
fn bad_reports_are_refused_and_nothing_is_stored() {
    let s = server();
    let r = Reporter::new();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "garbage",
            b"hello, this is not encrypted at all".repeat(100),
        ),
        (
            "non-age",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n".repeat(50),
        ),
        ("scrypt", scrypt_file()),
        (
            "cut off",
            r.report(&s.keys.bureau, "x", vec![])[..120].to_vec(),
        ),
        ("empty", vec![]),
    ];
    for (what, body) in cases {
        let resp = s.file_report(&r, "bureau", &body);
        assert_eq!(resp.status(), Status::BadRequest, "{what}");
        let err = json_of(resp);
        assert!(err["error"].is_string(), "{what}: {err}");
        s.nothing_stored();
    }
    // Encrypted to the bureau, but sent as a report to the commission (two keys).
    let report = r.report(&s.keys.bureau, "x", vec![]);
    assert_eq!(
        s.file_report(&r, "commission", &report).status(),
        Status::BadRequest
    );
    assert_eq!(
        s.file_report(&r, "nowhere", &report).status(),
        Status::BadRequest
    );
    s.nothing_stored();
}

#[test]
fn oversize_reports_are_refused_before_reading() {
    let s = server();
    let r = Reporter::new();
    // Declared too large: refused on the header alone (the body here is tiny).
    let resp = s
        .client
        .post("/api/v1/reports")
        .header(mailbox(&r))
        .header(to("bureau"))
        .header(Header::new("Content-Length", "3000000000"))
        .body(&b"age-encryption.org/v1\n"[..])
        .dispatch();
    assert_eq!(resp.status(), Status::PayloadTooLarge);
    // Not declared, and larger than the limit: refused once the limit is passed.
    let mut big = r.report(&s.keys.bureau, "x", vec![]);
    big.resize(300 * 1024, 7);
    assert_eq!(
        s.file_report(&r, "bureau", &big).status(),
        Status::PayloadTooLarge
    );
    s.nothing_stored();
}

#[test]
fn the_mailbox_credential_is_required_and_checked() {
    let s = server();
    let r = Reporter::new();
    let report = r.report(&s.keys.bureau, "x", vec![]);
    let resp = s
        .client
        .post("/api/v1/reports")
        .header(to("bureau"))
        .body(&report)
        .dispatch();
    assert_eq!(resp.status(), Status::Unauthorized);
    assert_security_headers(&resp);
    assert!(json_of(resp)["error"]
        .as_str()
        .unwrap()
        .contains("Meldpunt-Mailbox"));
    for bad in ["abc", "zz".repeat(32).as_str(), &"0".repeat(63)] {
        let resp = s
            .client
            .post("/api/v1/reports")
            .header(Header::new("Meldpunt-Mailbox", bad.to_owned()))
            .header(to("bureau"))
            .body(&report)
            .dispatch();
        assert_eq!(resp.status(), Status::Unauthorized, "{bad}");
    }
    s.nothing_stored();
    s.new_case(&r);
    // The wrong credential (another code) finds no thread.
    let stranger = Reporter::new();
    assert_eq!(
        s.client
            .get("/api/v1/thread")
            .header(mailbox(&stranger))
            .dispatch()
            .status(),
        Status::NotFound
    );
    assert_eq!(
        s.client.get("/api/v1/thread").dispatch().status(),
        Status::Unauthorized
    );
    assert_eq!(
        s.client
            .get("/api/v1/thread")
            .header(mailbox(&r))
            .dispatch()
            .status(),
        Status::Ok
    );
}

fn put_chunk(s: &Server, r: &Reporter, n: u32, offset: u64, chunk: &[u8]) -> (Status, Value) {
    let resp = s
        .client
        .put(format!("/api/v1/uploads/{n}"))
        .header(mailbox(r))
        .header(Header::new("Meldpunt-Offset", offset.to_string()))
        .body(chunk)
        .dispatch();
    let status = resp.status();
    (status, json_of(resp))
}

#[test]
fn attachments_upload_in_chunks_resume_and_join_the_report() {
    let s = server();
    let r = Reporter::new();
    let plaintext: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (ct, entry) = attachment(&s.keys.bureau, &plaintext, "ledger.xlsx");
    assert!(has_grease(&ct));

    // No session yet.
    assert_eq!(put_chunk(&s, &r, 0, 0, &ct[..100]).0, Status::NotFound);
    let resp = s
        .client
        .post("/api/v1/uploads")
        .header(mailbox(&r))
        .dispatch();
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(json_of(resp)["attachments"].as_array().unwrap().len(), 0);

    // Chunks small enough that the age header spans several of them.
    let mut sent = 0u64;
    for chunk in ct[..20_000].chunks(7_000) {
        let (status, body) = put_chunk(&s, &r, 0, sent, chunk);
        assert_eq!(status, Status::Ok, "{body}");
        sent += chunk.len() as u64;
        assert_eq!(body["received"], sent);
    }
    // A client that lost track: the server says where to continue.
    let (status, body) = put_chunk(&s, &r, 0, 5, &ct[5..100]);
    assert_eq!(status, Status::Conflict);
    assert_eq!(body["received"], sent);
    let progress = json_of(
        s.client
            .get("/api/v1/uploads/0")
            .header(mailbox(&r))
            .dispatch(),
    );
    assert_eq!(progress["received"], sent);
    // Finishing too early is refused without losing anything... (the payload is cut,
    // but the header is whole, so finishing would hash a short file: the client's
    // manifest hash then would not match. The server only checks the header.)
    let (status, body) = put_chunk(&s, &r, 0, sent, &ct[sent as usize..]);
    assert_eq!(status, Status::Ok, "{body}");
    // Skipping a number is refused.
    assert_eq!(put_chunk(&s, &r, 2, 0, &ct[..100]).0, Status::NotFound);

    let resp = s
        .client
        .post("/api/v1/uploads/0/finish")
        .header(mailbox(&r))
        .dispatch();
    assert_eq!(resp.status(), Status::Ok);
    let digest = json_of(resp);
    assert_eq!(digest["sha256"], entry.ciphertext_sha256);
    assert_eq!(digest["size"], entry.ciphertext_size);
    // Finished means fixed.
    assert_eq!(
        put_chunk(&s, &r, 0, ct.len() as u64, b"more").0,
        Status::Conflict
    );

    // A second attachment, started but not finished, holds the report back.
    let (ct2, entry2) = attachment(&s.keys.bureau, b"short note", "note.txt");
    assert_eq!(put_chunk(&s, &r, 1, 0, &ct2[..50]).0, Status::Ok);
    let report = r.report(
        &s.keys.bureau,
        "with attachments",
        vec![entry.clone(), entry2.clone()],
    );
    let resp = s.file_report(&r, "bureau", &report);
    assert_eq!(resp.status(), Status::Conflict);
    assert!(json_of(resp)["error"]
        .as_str()
        .unwrap()
        .contains("attachment 1"));
    assert_eq!(put_chunk(&s, &r, 1, 50, &ct2[50..]).0, Status::Ok);
    assert_eq!(
        s.client
            .post("/api/v1/uploads/1/finish")
            .header(mailbox(&r))
            .dispatch()
            .status(),
        Status::Ok
    );

    let resp = s.file_report(&r, "bureau", &report);
    assert_eq!(resp.status(), Status::Created);
    let receipt = json_of(resp);
    assert_eq!(receipt["attachments"][0]["sha256"], entry.ciphertext_sha256);
    assert_eq!(
        receipt["attachments"][1]["sha256"],
        entry2.ciphertext_sha256
    );
    // After the report the session is closed.
    assert_eq!(
        s.client
            .post("/api/v1/uploads")
            .header(mailbox(&r))
            .dispatch()
            .status(),
        Status::Conflict
    );

    // The investigator gets byte-identical files, and they decrypt.
    let token = s.token("alice", &["bureau"]);
    let case = receipt["case"].as_str().unwrap();
    let files = download(&s, &token, case);
    assert_eq!(files["report.age"], report);
    assert_eq!(files["attachments/000.age"], ct);
    assert_eq!(files["attachments/001.age"], ct2);
    let opened = open_report(&files["report.age"], &[s.keys.bureau_key.as_age()]).unwrap();
    assert!(
        opened.content.attachments[0].matches(&meldpunt_crypto::CiphertextDigest {
            sha256: meldpunt_crypto::ciphertext_hash(&files["attachments/000.age"]),
            size: files["attachments/000.age"].len() as u64,
        })
    );
    let manifest: Value = serde_json::from_slice(&files["case.json"]).unwrap();
    assert_eq!(manifest["case"], case);
    assert_eq!(manifest["files"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_attachments_are_refused_and_nothing_is_stored() {
    let s = server();
    let r = Reporter::new();
    s.client
        .post("/api/v1/uploads")
        .header(mailbox(&r))
        .dispatch();
    for (what, body) in [
        ("garbage", b"just some bytes, no age here".repeat(1000)),
        ("scrypt", scrypt_file()),
        ("pdf", b"%PDF-1.7\n".repeat(10)),
    ] {
        let (status, err) = put_chunk(&s, &r, 0, 0, &body);
        assert_eq!(status, Status::BadRequest, "{what}: {err}");
        let progress = json_of(
            s.client
                .get("/api/v1/uploads/0")
                .header(mailbox(&r))
                .dispatch(),
        );
        assert_eq!(progress["received"], 0, "{what}");
        s.nothing_stored();
    }
    // A good start followed, in a later chunk, by garbage where the header goes on:
    // the whole attachment is refused, including the start stored before.
    let (ct, _) = attachment(&s.keys.bureau, b"x", "x");
    let cut = 30;
    assert_eq!(put_chunk(&s, &r, 0, 0, &ct[..cut]).0, Status::Ok);
    let (status, _) = put_chunk(
        &s,
        &r,
        0,
        cut as u64,
        &b"\n-> ssh-rsa AAAA\nBBBB\n--- CCCC\n".repeat(3),
    );
    assert_eq!(status, Status::BadRequest);
    s.nothing_stored();
    // Finishing an attachment that holds only the start of a header is refused.
    assert_eq!(put_chunk(&s, &r, 0, 0, &ct[..cut]).0, Status::Ok);
    assert_eq!(
        s.client
            .post("/api/v1/uploads/0/finish")
            .header(mailbox(&r))
            .dispatch()
            .status(),
        Status::BadRequest
    );
}

#[test]
fn oversize_attachments_are_refused() {
    let s = server();
    let r = Reporter::new();
    s.client
        .post("/api/v1/uploads")
        .header(mailbox(&r))
        .dispatch();
    // Declared too large: refused before the body is read.
    let resp = s
        .client
        .put("/api/v1/uploads/0")
        .header(mailbox(&r))
        .header(Header::new("Meldpunt-Offset", "0"))
        .header(Header::new(
            "Content-Length",
            (MAX_ATTACHMENT + 1).to_string(),
        ))
        .body(&b"age-encryption.org/v1\n"[..])
        .dispatch();
    assert_eq!(resp.status(), Status::PayloadTooLarge);
    // Not declared: refused when the limit is passed, and what came is dropped.
    let big: Vec<u8> = vec![0u8; MAX_ATTACHMENT as usize * 2];
    let (ct, _) = attachment(&s.keys.bureau, &big, "big.bin");
    let (status, _) = put_chunk(&s, &r, 0, 0, &ct);
    assert_eq!(status, Status::PayloadTooLarge);
    let progress = json_of(
        s.client
            .get("/api/v1/uploads/0")
            .header(mailbox(&r))
            .dispatch(),
    );
    assert_eq!(progress["received"], 0);
    // Up to the limit is fine.
    let (status, _) = put_chunk(&s, &r, 0, 0, &ct[..MAX_ATTACHMENT as usize]);
    assert_eq!(status, Status::Ok);
    assert_eq!(
        put_chunk(&s, &r, 0, MAX_ATTACHMENT, b"1").0,
        Status::PayloadTooLarge
    );
    // The number of attachments is limited too (max_attachments = 4).
    let (small, _) = attachment(&s.keys.bureau, b"s", "s");
    for n in 1..4 {
        assert_eq!(put_chunk(&s, &r, n, 0, &small).0, Status::Ok);
    }
    assert_eq!(put_chunk(&s, &r, 4, 0, &small).0, Status::PayloadTooLarge);
}

/// Downloads a case and returns its tar entries.
fn download(s: &Server, token: &str, case: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let resp = s
        .client
        .get(format!("/api/v1/cases/{case}/download"))
        .header(bearer(token))
        .dispatch();
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(
        resp.content_type(),
        Some(ContentType::new("application", "x-tar"))
    );
    let bytes = resp.into_bytes().unwrap();
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut out = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        out.insert(path, data);
    }
    out
}

#[test]
fn the_thread_never_forks() {
    let s = server();
    let r = Reporter::new();
    let (case, report) = s.new_case(&r);
    let token = s.token("alice", &["bureau"]);
    let report_head = hex::encode(meldpunt_crypto::ciphertext_hash(&report));

    // The bureau asks a question, extending the report.
    let opened = open_report(&report, &[s.keys.bureau_key.as_age()]).unwrap();
    let bureau_state = ThreadState::new(opened.ciphertext_sha256);
    let q = bureau_state.draft(
        Direction::ToReporter,
        Day::today(),
        Zeroizing::new("When exactly?".into()),
    );
    let question = seal_to_reporter(&q, &opened.thread, s.keys.bureau.recipients()).unwrap();
    let post = |path: String, head: &str, body: &[u8], auth: Header<'static>| {
        let resp = s
            .client
            .post(path)
            .header(auth)
            .header(Header::new("Meldpunt-Extends", head.to_owned()))
            .body(body)
            .dispatch();
        let status = resp.status();
        (status, json_of(resp))
    };
    let (status, body) = post(
        format!("/api/v1/cases/{case}/messages"),
        &report_head,
        &question,
        bearer(&token),
    );
    assert_eq!(status, Status::Created, "{body}");
    let head1 = body["head"].as_str().unwrap().to_owned();
    assert_eq!(
        head1,
        hex::encode(meldpunt_crypto::ciphertext_hash(&question))
    );

    // A second bureau post against the old head is stale: 409 with the real head.
    let (status, body) = post(
        format!("/api/v1/cases/{case}/messages"),
        &report_head,
        &question[..],
        bearer(&token),
    );
    // Posting the very same message again is a retry, answered with the same place.
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(body["seq_in_thread"], 1);
    let other = seal_to_reporter(&q, &opened.thread, s.keys.bureau.recipients()).unwrap();
    let (status, body) = post(
        format!("/api/v1/cases/{case}/messages"),
        &report_head,
        &other,
        bearer(&token),
    );
    assert_eq!(status, Status::Conflict);
    assert_eq!(body["head"], head1.as_str());
    // Posts without a head, or with garbage, are refused.
    let resp = s
        .client
        .post(format!("/api/v1/cases/{case}/messages"))
        .header(bearer(&token))
        .body(&other)
        .dispatch();
    assert_eq!(resp.status(), Status::BadRequest);
    let (status, _) = post(
        format!("/api/v1/cases/{case}/messages"),
        &head1,
        b"garbage",
        bearer(&token),
    );
    assert_eq!(status, Status::BadRequest);

    // The reporter reads the thread with only the code.
    let thread = json_of(
        s.client
            .get("/api/v1/thread")
            .header(mailbox(&r))
            .dispatch(),
    );
    assert_eq!(thread["case"], case.as_str());
    assert_eq!(thread["head"], head1.as_str());
    assert_eq!(thread["status"], "received");
    let ct = base64::engine::general_purpose::STANDARD
        .decode(thread["messages"][0]["ciphertext"].as_str().unwrap())
        .unwrap();
    assert_eq!(ct, question);
    assert_eq!(thread["messages"][0]["direction"], "to_reporter");
    let raw = s
        .client
        .get("/api/v1/thread/1")
        .header(mailbox(&r))
        .dispatch()
        .into_bytes()
        .unwrap();
    assert_eq!(raw, question);
    assert_eq!(
        s.client
            .get("/api/v1/thread/2")
            .header(mailbox(&r))
            .dispatch()
            .status(),
        Status::NotFound
    );
    let secrets = ThreadSecrets::from_reporter_keys(&r.keys);
    let message = open_message(&ct, &[&r.keys.identity()], &secrets).unwrap();
    assert_eq!(message.text, "When exactly?");

    // The reporter answers; a stale head is refused.
    let mut reporter_state = ThreadState::new(meldpunt_crypto::ciphertext_hash(&report));
    reporter_state.accept(&ct, &message).unwrap();
    let a = reporter_state.draft(
        Direction::FromReporter,
        Day::today(),
        Zeroizing::new("Tuesday.".into()),
    );
    let answer = seal_from_reporter(&a, &r.keys, &r.code, s.keys.bureau.recipients()).unwrap();
    let (status, body) = post("/api/v1/thread".into(), &report_head, &answer, mailbox(&r));
    assert_eq!(status, Status::Conflict);
    assert_eq!(body["head"], head1.as_str());
    let (status, _) = post("/api/v1/thread".into(), &head1, &scrypt_file(), mailbox(&r));
    assert_eq!(status, Status::BadRequest);
    let (status, body) = post("/api/v1/thread".into(), &head1, &answer, mailbox(&r));
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(body["seq_in_thread"], 2);

    // The download keeps thread order and the recorded directions.
    let files = download(&s, &token, &case);
    assert_eq!(files["thread/0001-to_reporter.age"], question);
    assert_eq!(files["thread/0002-from_reporter.age"], answer);

    // The note to self: stored once, returned with the thread.
    let note = meldpunt_crypto::seal_reporter_note(
        &meldpunt_crypto::ReporterNote::for_report(&s.keys.bureau, &report, Day::today()),
        &r.keys,
    )
    .unwrap();
    let put_note = |body: &[u8]| {
        s.client
            .put("/api/v1/note")
            .header(mailbox(&r))
            .body(body)
            .dispatch()
            .status()
    };
    assert_eq!(put_note(b"garbage"), Status::BadRequest);
    assert_eq!(put_note(&note), Status::Ok);
    assert_eq!(put_note(&note), Status::Ok);
    // A newer note replaces it (the reporter's side records each answer in it).
    assert_eq!(put_note(&question), Status::Ok);
    assert_eq!(put_note(&note), Status::Ok);
    let thread = json_of(
        s.client
            .get("/api/v1/thread")
            .header(mailbox(&r))
            .dispatch(),
    );
    let stored = base64::engine::general_purpose::STANDARD
        .decode(thread["note"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        meldpunt_crypto::open_reporter_note(&stored, &r.keys)
            .unwrap()
            .destination,
        "bureau"
    );
    assert_eq!(
        s.client
            .put("/api/v1/note")
            .header(mailbox(&Reporter::new()))
            .body(&note)
            .dispatch()
            .status(),
        Status::NotFound
    );
}

#[test]
fn tokens_see_only_their_destinations() {
    let s = server();
    let r1 = Reporter::new();
    let (bureau_case, _) = s.new_case(&r1);
    let r2 = Reporter::new();
    let report = r2.report(
        &s.keys.commission,
        "about the bureau's own management",
        vec![],
    );
    let resp = s.file_report(&r2, "commission", &report);
    assert_eq!(resp.status(), Status::Created);
    let commission_case = json_of(resp)["case"].as_str().unwrap().to_owned();

    let bureau = s.token("alice", &["bureau"]);
    let commission = s.token("carol", &["commission"]);
    let revoked = s.token("mallory", &["bureau", "commission"]);
    wait(s.app.tokens.revoke("mallory", s.clock.today())).unwrap();

    let routes = |case: &str| {
        vec![
            ("GET", format!("/api/v1/cases/{case}")),
            ("GET", format!("/api/v1/cases/{case}/download")),
            ("POST", format!("/api/v1/cases/{case}/messages")),
            ("POST", format!("/api/v1/cases/{case}/status")),
            ("DELETE", format!("/api/v1/cases/{case}")),
        ]
    };
    let call = |method: &str, path: &str, auth: Option<Header<'static>>| {
        let mut req = match method {
            "GET" => s.client.get(path.to_owned()),
            "POST" => s.client.post(path.to_owned()),
            _ => s.client.delete(path.to_owned()),
        };
        if let Some(a) = auth {
            req = req.header(a);
        }
        req.header(ContentType::JSON)
            .header(Header::new("Meldpunt-Extends", "0".repeat(64)))
            .body(r#"{"status":"acknowledged"}"#)
            .dispatch()
            .status()
    };
    for (method, path) in routes(&commission_case).iter().chain(&[
        ("GET", "/api/v1/cases".to_owned()),
        ("GET", "/api/v1/audit".to_owned()),
    ]) {
        assert_eq!(
            call(method, path, None),
            Status::Unauthorized,
            "{method} {path} without token"
        );
        assert_eq!(
            call(method, path, Some(bearer("mpt_wrong"))),
            Status::Unauthorized,
            "{method} {path}"
        );
        assert_eq!(
            call(
                method,
                path,
                Some(bearer(&format!("mpt_{}", "a".repeat(64))))
            ),
            Status::Unauthorized
        );
        assert_eq!(
            call(method, path, Some(bearer(&revoked))),
            Status::Unauthorized,
            "{method} {path} revoked"
        );
        assert_eq!(
            call(
                method,
                path,
                Some(Header::new("Authorization", bureau.clone()))
            ),
            Status::Unauthorized
        );
    }
    // The bureau's token cannot touch the commission's case.
    for (method, path) in routes(&commission_case) {
        assert_eq!(
            call(method, &path, Some(bearer(&bureau))),
            Status::Forbidden,
            "{method} {path}"
        );
    }
    let list = json_of(
        s.client
            .get("/api/v1/cases")
            .header(bearer(&bureau))
            .dispatch(),
    );
    let cases: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case"].as_str().unwrap())
        .collect();
    assert_eq!(cases, vec![bureau_case.as_str()]);
    let list = json_of(
        s.client
            .get("/api/v1/cases")
            .header(bearer(&commission))
            .dispatch(),
    );
    assert_eq!(list[0]["case"], commission_case.as_str());
    // The commission's own token works on it; an unknown case is 404.
    assert_eq!(
        s.client
            .get(format!("/api/v1/cases/{commission_case}"))
            .header(bearer(&commission))
            .dispatch()
            .status(),
        Status::Ok
    );
    assert_eq!(
        s.client
            .get("/api/v1/cases/MP-0000000000")
            .header(bearer(&commission))
            .dispatch()
            .status(),
        Status::NotFound
    );
    assert_eq!(
        s.client
            .get("/api/v1/cases/not-a-case")
            .header(bearer(&commission))
            .dispatch()
            .status(),
        Status::NotFound
    );
    // Nothing was changed by the refused calls.
    let number = meldpunt_server::ids::CaseNumber::parse(&commission_case).unwrap();
    let record = wait(s.app.storage.case(&number)).unwrap().unwrap();
    assert_eq!(record.thread.len(), 0);
    assert_eq!(record.status, meldpunt_crypto::CaseStatus::Received);
}

#[test]
fn status_deadlines_shredding_and_the_audit_chain() {
    let s = server();
    let token = s.token("alice", &["bureau"]);
    let r = Reporter::new();
    let (case, _) = s.new_case(&r);
    let summary = json_of(
        s.client
            .get("/api/v1/cases")
            .header(bearer(&token))
            .dispatch(),
    )[0]
    .clone();
    assert_eq!(summary["received"], "2026-11-23");
    assert_eq!(summary["acknowledge_by"], "2026-11-30");
    assert_eq!(summary["feedback_by"], "2027-02-28");
    assert_eq!(summary["retention_until"], Value::Null);
    assert_eq!(summary["status"], "received");

    let set = |status: &str| {
        s.client
            .post(format!("/api/v1/cases/{case}/status"))
            .header(bearer(&token))
            .header(ContentType::JSON)
            .body(json!({ "status": status }).to_string())
            .dispatch()
    };
    // Not closed: cannot be shredded.
    assert_eq!(
        s.client
            .delete(format!("/api/v1/cases/{case}"))
            .header(bearer(&token))
            .dispatch()
            .status(),
        Status::Conflict
    );
    s.clock.set(Day::parse("2026-11-25").unwrap());
    let resp = set("acknowledged");
    assert_eq!(resp.status(), Status::Ok);
    let summary = json_of(resp);
    assert_eq!(summary["acknowledged"], "2026-11-25");
    assert_eq!(summary["feedback_by"], "2027-02-25");
    assert_eq!(set("investigating").status(), Status::Ok);
    assert_eq!(set("acknowledged").status(), Status::Conflict);
    assert!(set("reopened").status().code >= 400);
    // The reporter sees the status.
    let thread = json_of(
        s.client
            .get("/api/v1/thread")
            .header(mailbox(&r))
            .dispatch(),
    );
    assert_eq!(thread["status"], "investigating");
    s.clock.set(Day::parse("2026-12-01").unwrap());
    let summary = json_of(set("closed"));
    assert_eq!(summary["closed"], "2026-12-01");
    // retention_days 180 (default) after closing; grace 30 after the last content.
    assert_eq!(summary["retention_until"], "2027-05-30");

    // Shredding: not before the floor after closing (14 days by default), and by two
    // different investigators.
    let delete = |token: &str| {
        s.client
            .delete(format!("/api/v1/cases/{case}"))
            .header(bearer(token))
            .dispatch()
    };
    let resp = delete(&token);
    assert_eq!(resp.status(), Status::Conflict);
    assert_eq!(json_of(resp)["from"], "2026-12-15");
    s.clock.set(Day::parse("2026-12-15").unwrap());
    assert_eq!(delete(&token).status(), Status::Accepted);
    // The same investigator again: still waiting for a second one.
    assert_eq!(delete(&token).status(), Status::Accepted);
    let bob = s.token("bob", &["bureau"]);
    let resp = delete(&bob);
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(json_of(resp)["shredded"], case.as_str());
    assert_eq!(
        s.client
            .get(format!("/api/v1/cases/{case}"))
            .header(bearer(&token))
            .dispatch()
            .status(),
        Status::NotFound
    );
    // The reporter learns it was closed and deleted (and nothing else).
    let resp = s
        .client
        .get("/api/v1/thread")
        .header(mailbox(&r))
        .dispatch();
    assert_eq!(resp.status(), Status::Gone);
    let gone = json_of(resp);
    assert_eq!(gone["closed"], "2026-12-01");
    assert_eq!(gone["deleted"], "2026-12-15");

    let audit = json_of(
        s.client
            .get("/api/v1/audit")
            .header(bearer(&token))
            .dispatch(),
    );
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "list",
            "status_acknowledged",
            "status_investigating",
            "status_closed",
            "shred_requested",
            "shred_requested",
            "shred"
        ]
    );
    assert_eq!(audit[6]["case"], case.as_str());
    assert_eq!(audit[6]["token"], "bob");
    assert_eq!(audit[6]["day"], "2026-12-15");
    assert_eq!(audit[1]["prev"], audit[0]["hash"]);
}

#[test]
fn retention_shreds_closed_cases_only_after_the_grace_period() {
    let rt = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = server();
    let token = s.token("alice", &["bureau"]);
    let (old, _) = s.new_case(&Reporter::new());
    let r = Reporter::new();
    let (recent, _) = s.new_case(&r);
    let (open, _) = s.new_case(&Reporter::new());
    for case in [&old, &recent] {
        let resp = s
            .client
            .post(format!("/api/v1/cases/{case}/status"))
            .header(bearer(&token))
            .header(ContentType::JSON)
            .body(r#"{"status":"closed"}"#)
            .dispatch();
        assert_eq!(resp.status(), Status::Ok);
    }
    // New content on `recent` 175 days later: the grace period (30 days) holds it.
    s.clock.set(Day::parse("2026-11-23").unwrap().add_days(175));
    let number = meldpunt_server::ids::CaseNumber::parse(&recent).unwrap();
    let record = wait(s.app.storage.case(&number)).unwrap().unwrap();
    let note = meldpunt_crypto::seal_reporter_note(
        &meldpunt_crypto::ReporterNote {
            sent: vec![],
            destination: "bureau".into(),
            recipients: vec![],
            report_sha256: record.report.sha256.clone(),
            date: Day::today(),
        },
        &r.keys,
    )
    .unwrap();
    let resp = s
        .client
        .post("/api/v1/thread")
        .header(mailbox(&r))
        .header(Header::new("Meldpunt-Extends", record.head().to_owned()))
        .body(&note)
        .dispatch();
    assert_eq!(resp.status(), Status::Created);

    s.clock.set(Day::parse("2026-11-23").unwrap().add_days(179));
    assert!(rt
        .block_on(meldpunt_server::retention::sweep(&s.app))
        .unwrap()
        .is_empty());
    s.clock.set(Day::parse("2026-11-23").unwrap().add_days(180));
    let shredded: Vec<String> = rt
        .block_on(meldpunt_server::retention::sweep(&s.app))
        .unwrap()
        .into_iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(shredded, vec![old.clone()]);
    s.clock.set(Day::parse("2026-11-23").unwrap().add_days(205));
    let shredded = rt
        .block_on(meldpunt_server::retention::sweep(&s.app))
        .unwrap();
    assert_eq!(shredded.len(), 1);
    assert_eq!(shredded[0].to_string(), recent);
    let left: Vec<String> = wait(s.app.storage.cases())
        .unwrap()
        .into_iter()
        .map(|(c, _)| c.to_string())
        .collect();
    assert_eq!(left, vec![open]);
    let audit = wait(s.app.audit.read_verified()).unwrap();
    assert!(audit.iter().any(|e| e.action == "retention_shred"
        && e.token == "server"
        && e.case.as_deref() == Some(old.as_str())));
}

#[test]
fn concurrent_submissions_share_flushes() {
    let s = server();
    let reports: Vec<(Reporter, Vec<u8>)> = (0..24)
        .map(|_| {
            let r = Reporter::new();
            let report = r.report(&s.keys.bureau, "x", vec![]);
            (r, report)
        })
        .collect();
    // The embedded storage on a data directory of its own (its flush counter is not
    // part of the storage interface).
    let dir = tempfile::tempdir().unwrap();
    let storage = std::sync::Arc::new(
        meldpunt_server::storage::embedded::Embedded::open(
            dir.path(),
            meldpunt_server::clock::Clock::system(),
        )
        .unwrap(),
    );
    let before = storage.flush_count();
    let rt = rocket::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // All writes first, then every writer asks for durability at once (as concurrent
    // requests do): the flushes must be shared, whatever the disk's speed.
    let barrier = std::sync::Arc::new(rocket::tokio::sync::Barrier::new(reports.len()));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for (r, report) in &reports {
            let id = r.keys.credential().mailbox_id();
            let (storage, barrier) = (storage.clone(), barrier.clone());
            let report = report.clone();
            tasks.push(rocket::tokio::spawn(async move {
                storage.file_report(&id, "bureau", &report).await.unwrap();
                barrier.wait().await;
                storage.flush().await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let flushes = storage.flush_count() - before;
    eprintln!("24 concurrent submissions: {flushes} flushes");
    assert_eq!(wait(storage.cases()).unwrap().len(), 24);
    assert!(
        flushes <= 12,
        "24 submissions took {flushes} flushes: they were not grouped"
    );
}

#[test]
fn every_api_route_is_in_the_openapi_document() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml"))
        .unwrap();
    for route in meldpunt_server::api::routes() {
        let path = route.uri.path().to_string();
        let documented = path.replace("<_", "{").replace('<', "{").replace('>', "}");
        let method = route.method.as_str().to_lowercase();
        let at = doc
            .find(&format!("\n  {documented}:\n"))
            .unwrap_or_else(|| panic!("{path} is not in docs/openapi.yaml"));
        let section = &doc[at + 1..];
        let end = section[1..]
            .find("\n  /")
            .map(|i| i + 1)
            .unwrap_or(section.len());
        assert!(
            section[..end].contains(&format!("\n    {method}:")),
            "{method} {path} is not in docs/openapi.yaml"
        );
    }
}

/// Solves the puzzle in a 429 answer (as the browser module does) into the header value.
fn solve(answer: &Value) -> String {
    let a = &answer["admission"];
    let challenge = a["challenge"].as_str().expect("a puzzle in the answer");
    let k = a["difficulty"].as_u64().unwrap() as u8;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(challenge)
        .unwrap();
    let nonce = meldpunt_crypto::admission::solve(&bytes, k, 0, u64::MAX).unwrap();
    format!("{challenge}.{nonce:x}")
}

#[test]
fn budgets_ask_for_work_per_purpose_and_the_disk_reserve_holds() {
    // Over the target, a report must carry a solved puzzle; nothing is refused for good.
    let s = server_with(|f| f.merge(Serialized::global("submissions_per_hour", 2)));
    s.new_case(&Reporter::new());
    s.new_case(&Reporter::new());
    let r = Reporter::new();
    let report = r.report(&s.keys.bureau, "x", vec![]);
    let resp = s.file_report(&r, "bureau", &report);
    assert_eq!(resp.status(), Status::TooManyRequests);
    assert_security_headers(&resp);
    let answer = json_of(resp);
    assert_eq!(answer["admission"]["purpose"], "report");
    assert!(answer["admission"]["difficulty"].as_u64().unwrap() >= 1);
    let solved = solve(&answer);
    let with = |solution: &str| {
        s.client
            .post("/api/v1/reports")
            .header(mailbox(&r))
            .header(to("bureau"))
            .header(Header::new("Meldpunt-Admission", solution.to_owned()))
            .body(&report)
            .dispatch()
            .status()
    };
    // A wrong nonce, then the solution; the same solution is good once only.
    let challenge = solved.split('.').next().unwrap().to_owned();
    let k = answer["admission"]["difficulty"].as_u64().unwrap() as u8;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&challenge)
        .unwrap();
    let not_a_solution = (0u64..)
        .find(|&n| !meldpunt_crypto::admission::verify(&bytes, n, k))
        .unwrap();
    let wrong = format!("{challenge}.{not_a_solution:x}");
    assert_eq!(with(&wrong), Status::TooManyRequests);
    assert_eq!(with(&solved), Status::Created);
    let r2 = Reporter::new();
    let again = s
        .client
        .post("/api/v1/reports")
        .header(mailbox(&r2))
        .header(to("bureau"))
        .header(Header::new("Meldpunt-Admission", solved.clone()))
        .body(r2.report(&s.keys.bureau, "x", vec![]))
        .dispatch();
    assert_eq!(again.status(), Status::TooManyRequests);
    assert!(json_of(again)["error"]
        .as_str()
        .unwrap()
        .contains("used already"));
    // A budget per purpose: reports spent theirs, an upload session is still free.
    assert_eq!(
        s.client
            .post("/api/v1/uploads")
            .header(mailbox(&r2))
            .dispatch()
            .status(),
        Status::Ok
    );

    // Bytes: over the target, a chunk must carry a solution; nothing of it is stored
    // before.
    let s = server_with(|f| f.merge(Serialized::global("upload_bytes_per_hour", 1000)));
    let r = Reporter::new();
    s.client
        .post("/api/v1/uploads")
        .header(mailbox(&r))
        .dispatch();
    let (ct, _) = attachment(&s.keys.bureau, &[1u8; 50_000], "x");
    let half = ct.len() / 2;
    assert_eq!(put_chunk(&s, &r, 0, 0, &ct[..20_000]).0, Status::Ok);
    assert_eq!(
        put_chunk(&s, &r, 0, 20_000, &ct[20_000..half]).0,
        Status::Ok
    );
    let (status, answer) = put_chunk(&s, &r, 0, half as u64, &ct[half..]);
    assert_eq!(status, Status::TooManyRequests);
    assert_eq!(answer["admission"]["purpose"], "upload");
    assert_eq!(
        json_of(
            s.client
                .get("/api/v1/uploads/0")
                .header(mailbox(&r))
                .dispatch()
        )["received"],
        half
    );
    let resp = s
        .client
        .put("/api/v1/uploads/0")
        .header(mailbox(&r))
        .header(Header::new("Meldpunt-Offset", half.to_string()))
        .header(Header::new("Meldpunt-Admission", solve(&answer)))
        .body(&ct[half..])
        .dispatch();
    assert_eq!(resp.status(), Status::Ok);

    if common::backend::postgres() {
        // The disk reserve guards the data directory's disk; on the PostgreSQL backend
        // nothing is stored on the server's disk (docs/CONFIG.md, min_free_disk).
        return;
    }
    let s = server_with(|f| f.merge(Serialized::global("min_free_disk", "1000 TiB")));
    let r = Reporter::new();
    let resp = s.file_report(&r, "bureau", &r.report(&s.keys.bureau, "x", vec![]));
    assert_eq!(resp.status(), Status::InsufficientStorage);
    s.client
        .post("/api/v1/uploads")
        .header(mailbox(&r))
        .dispatch();
    assert_eq!(put_chunk(&s, &r, 0, 0, &ct).0, Status::InsufficientStorage);
    s.nothing_stored();
}

#[test]
fn a_new_case_runs_the_content_free_notification() {
    let out = tempfile::tempdir().unwrap();
    let flag = out.path().join("new-case");
    let script = format!("echo \"$#:$(env | wc -l)\" >> {}", flag.display());
    let s = server_with(|f| {
        f.merge(Serialized::global(
            "notify_command",
            vec!["/bin/sh".to_owned(), "-c".into(), script],
        ))
    });
    let r = Reporter::new();
    let report = r.report(&s.keys.bureau, "x", vec![]);
    assert_eq!(
        s.file_report(&r, "bureau", &report).status(),
        Status::Created
    );
    assert_eq!(s.file_report(&r, "bureau", &report).status(), Status::Ok);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !flag.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the notify command did not run"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let lines = std::fs::read_to_string(&flag).unwrap();
    // Once (not for the repeated report), with no arguments and nothing but PATH and
    // what the shell itself sets in its environment.
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.starts_with("0:"), "{lines}");
    let case = wait(s.app.storage.cases()).unwrap()[0].0.to_string();
    assert!(!lines.contains(&case));
}
