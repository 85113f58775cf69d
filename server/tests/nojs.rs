//! The no-JavaScript pages through Rocket's local client: consent is required and
//! nothing is stored without it; a report with a document becomes a case the bureau
//! opens (encrypted by the server), with a server-made code shown once; checking back
//! decrypts the thread in memory; an answer is sealed to the bureau and verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::path::Path;

use common::{all_files, wait, Keys};
use meldpunt_crypto::{
    decrypt_attachment, open_message, open_report, open_reporter_note, seal_to_reporter, Day,
    Direction, EncryptedBy, ReporterKeys, ReturnCode, ThreadState,
};
use meldpunt_server::clock::Clock;
use meldpunt_server::config;
use meldpunt_server::App;
use rocket::figment::providers::Serialized;
use rocket::http::{ContentType, Header, Status};
use rocket::local::blocking::{Client, LocalResponse};
use zeroize::Zeroizing;

const DESCRIPTION: &str = "NOJS-PLAINTEXT-MARKER a manager approved his brother's invoices.";
const DOCUMENT_LINE: &[u8] =
    b"NOJS-DOCUMENT-MARKER invoice 2026-114, approved by the same manager.\n";
const QUESTION: &str = "Which department is this?";
const ANSWER: &str = "NOJS-ANSWER-MARKER purchasing, second floor.";

struct Server {
    client: Client,
    app: App,
    keys: Keys,
    _dir: tempfile::TempDir,
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let clock = Clock::fixed(Day::parse("2026-11-23").unwrap());
    let figment = config::figment(Path::new("/nonexistent/Meldpunt.toml"))
        .merge(Serialized::global("data_dir", dir.path()))
        .merge(Serialized::global("destinations", keys.config()))
        .merge(Serialized::global("max_attachment", "1 MiB"))
        .merge(Serialized::global("min_free_disk", 0));
    let (rocket, app) = meldpunt_server::build(figment, clock).unwrap();
    let client = Client::tracked(rocket).unwrap();
    Server {
        client,
        app,
        keys,
        _dir: dir,
    }
}

const BOUNDARY: &str = "----meldpunt-test-boundary-4b1c9e";

/// A `multipart/form-data` body: (name, file name, bytes) per part, in order.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => body.extend(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn form_type() -> ContentType {
    ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY))
}

impl Server {
    fn post(&self, path: &str, parts: &[(&str, Option<&str>, &[u8])]) -> LocalResponse<'_> {
        self.client
            .post(path.to_owned())
            .header(form_type())
            .body(multipart(parts))
            .dispatch()
    }

    fn nothing_stored(&self) {
        assert!(
            wait(self.app.storage.cases()).unwrap().is_empty(),
            "a case was stored"
        );
        let files: Vec<_> = std::fs::read_dir(self.app.settings.data_dir.as_path().join("files"))
            .unwrap()
            .flatten()
            .collect();
        assert!(files.is_empty(), "attachment files were left: {files:?}");
    }

    fn no_plaintext(&self, markers: &[&[u8]]) {
        for (path, bytes) in all_files(self.app.settings.data_dir.as_path()) {
            for m in markers {
                assert!(
                    !bytes.windows(m.len()).any(|w| w == *m),
                    "{} holds plaintext {}",
                    path.display(),
                    String::from_utf8_lossy(m)
                );
            }
        }
    }
}

fn document() -> Vec<u8> {
    DOCUMENT_LINE.repeat(3000)
}

fn report_parts(consent: bool, doc: &[u8]) -> Vec<(&'static str, Option<&'static str>, &[u8])> {
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = Vec::new();
    if consent {
        parts.push(("consent", None, b"yes"));
    }
    parts.extend([
        ("destination", None, &b"bureau"[..]),
        ("category", None, b"conflict_of_interest"),
        ("concerning", None, b"the head of purchasing"),
        ("description", None, DESCRIPTION.as_bytes()),
        ("when_where", None, b"2026, Utrecht"),
        ("files", Some("invoices.txt"), doc),
        ("files", Some(""), b""),
        ("contact", None, b""),
    ]);
    parts
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in:\n{html}"))
        + start.len();
    let len = html[from..].find(end).unwrap();
    &html[from..from + len]
}

/// The code as the result page shows it: its groups, each with its dash, as spans.
fn shown_code(html: &str) -> String {
    let inner = between(html, "id=\"code\" class=\"code\">", "</p>");
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[test]
fn sending_the_same_form_again_never_files_twice() {
    let s = server();
    let form = s
        .client
        .get("/en/report-nojs")
        .dispatch()
        .into_string()
        .unwrap();
    let once = between(&form, "name=\"once\" value=\"", "\"").to_owned();
    assert_eq!(once.len(), 64, "a random token in the form");
    // Another form gets another token: nothing links two forms.
    let other = s
        .client
        .get("/en/report-nojs")
        .dispatch()
        .into_string()
        .unwrap();
    assert_ne!(between(&other, "name=\"once\" value=\"", "\""), once);
    let doc = document();
    let mut parts = report_parts(true, &doc);
    parts.insert(0, ("once", None, once.as_bytes()));
    let first = s.post("/en/report-nojs", &parts);
    assert_eq!(first.status(), Status::Created);
    let code = shown_code(&first.into_string().unwrap());
    assert_eq!(code.len(), 34, "{code}");
    // The browser reloads the result page: the same form arrives again.
    let again = s.post("/en/report-nojs", &parts);
    assert_eq!(again.status(), Status::Conflict);
    let html = again.into_string().unwrap();
    assert!(html.contains("This report was already sent"), "{html}");
    assert!(!html.contains("id=\"code\""), "no code on the refusal");
    assert!(!html.contains(&code[..9]));
    assert_eq!(
        wait(s.app.storage.cases()).unwrap().len(),
        1,
        "one case only"
    );
    // The token is not kept anywhere on disk.
    for (path, bytes) in all_files(s.app.settings.data_dir.as_path()) {
        assert!(
            !bytes.windows(once.len()).any(|w| w == once.as_bytes()),
            "{} holds the form token",
            path.display()
        );
    }
    // A new form files as usual.
    let mut parts = report_parts(true, &doc);
    let fresh = between(&other, "name=\"once\" value=\"", "\"").to_owned();
    parts.insert(0, ("once", None, fresh.as_bytes()));
    assert_eq!(s.post("/en/report-nojs", &parts).status(), Status::Created);
    assert_eq!(wait(s.app.storage.cases()).unwrap().len(), 2);
}

/// Files a report through the form; returns the code shown and the case number.
fn report(s: &Server) -> (ReturnCode, String) {
    let doc = document();
    let resp = s.post("/en/report-nojs", &report_parts(true, &doc));
    assert_eq!(resp.status(), Status::Created);
    let csp = resp
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap()
        .to_owned();
    assert!(
        !csp.contains("wasm-unsafe-eval") && csp.contains("form-action 'self'"),
        "{csp}"
    );
    let html = resp.into_string().unwrap();
    let code = ReturnCode::parse(&shown_code(&html)).expect("a valid code");
    let case = between(&html, "id=\"receipt-case\">", "<").to_owned();
    assert!(case.starts_with("MP-"), "{case}");
    assert_eq!(between(&html, "id=\"receipt-date\">", "<"), "2026-11-23");
    assert!(html.contains("Write it down on paper"));
    (code, case)
}

#[test]
fn the_form_pages_have_no_script_and_a_strict_policy() {
    let s = server();
    for path in [
        "/en/report-nojs",
        "/nl/report-nojs",
        "/en/check-nojs",
        "/nl/check-nojs",
    ] {
        let resp = s.client.get(path).dispatch();
        assert_eq!(resp.status(), Status::Ok, "{path}");
        let csp = resp
            .headers()
            .get_one("Content-Security-Policy")
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("wasm-unsafe-eval"),
            "{csp}"
        );
        let html = resp.into_string().unwrap();
        assert!(
            !html.contains("app.js") && !html.contains("type=\"module\""),
            "{path} loads a script"
        );
        assert!(html.contains("enctype=\"multipart/form-data\""));
    }
    let html = s
        .client
        .get("/en/report-nojs")
        .dispatch()
        .into_string()
        .unwrap();
    assert!(html.contains("I understand that the server sees my report while it encrypts it"));
    assert!(
        html.contains("896 KB"),
        "the document limit under this configuration is stated"
    );
    let html = s
        .client
        .get("/nl/report-nojs")
        .dispatch()
        .into_string()
        .unwrap();
    assert!(
        html.contains("Ik begrijp dat de server mijn melding ziet terwijl hij haar versleutelt")
    );
}

#[test]
fn without_consent_nothing_is_stored() {
    let s = server();
    let doc = document();
    let resp = s.post("/en/report-nojs", &report_parts(false, &doc));
    assert_eq!(resp.status(), Status::BadRequest);
    let html = resp.into_string().unwrap();
    assert!(html.contains("Nothing has been sent or stored"), "{html}");
    assert!(!html.contains("id=\"code\""));
    s.nothing_stored();
    // Consent arriving after a document is too late: the document is not kept either.
    let mut late = report_parts(false, &doc);
    late.push(("consent", None, b"yes"));
    assert_eq!(
        s.post("/en/report-nojs", &late).status(),
        Status::BadRequest
    );
    s.nothing_stored();
    // Consent, but an unchecked box sends nothing: a different value is not consent.
    let mut other = report_parts(false, &doc);
    other.insert(0, ("consent", None, b"no"));
    assert_eq!(
        s.post("/nl/report-nojs", &other).status(),
        Status::BadRequest
    );
    s.nothing_stored();
    s.no_plaintext(&[DESCRIPTION.as_bytes(), DOCUMENT_LINE]);
}

#[test]
fn bad_and_oversize_forms_are_refused_and_nothing_is_stored() {
    let s = server();
    // Declared too large: refused before a byte is read.
    let resp = s
        .client
        .post("/en/report-nojs")
        .header(form_type())
        .header(Header::new("Content-Length", (1u64 << 40).to_string()))
        .body("x")
        .dispatch();
    assert_eq!(resp.status(), Status::PayloadTooLarge);
    // A document over this tier's limit (896 KiB here), after a smaller one was stored.
    let big = vec![b'x'; 900 * 1024];
    let small = document();
    let mut parts = report_parts(true, &small);
    parts.insert(6, ("files", Some("big.bin"), &big));
    assert_eq!(
        s.post("/en/report-nojs", &parts).status(),
        Status::PayloadTooLarge
    );
    s.nothing_stored();
    // No description, or an unknown destination, or not multipart at all.
    let mut parts = report_parts(true, &small);
    parts.retain(|p| p.0 != "description");
    assert_eq!(
        s.post("/en/report-nojs", &parts).status(),
        Status::BadRequest
    );
    let mut parts = report_parts(true, &small);
    parts[1] = ("destination", None, b"nobody");
    assert_eq!(
        s.post("/en/report-nojs", &parts).status(),
        Status::BadRequest
    );
    let resp = s
        .client
        .post("/en/report-nojs")
        .header(ContentType::Form)
        .body("consent=yes")
        .dispatch();
    assert_eq!(resp.status(), Status::BadRequest);
    s.nothing_stored();
}

#[test]
fn a_report_with_a_document_opens_with_the_bureau_key() {
    let s = server();
    let (code, case) = report(&s);
    let cases = wait(s.app.storage.cases()).unwrap();
    assert_eq!(cases.len(), 1);
    let (number, record) = &cases[0];
    assert_eq!(number.to_string(), case);
    assert_eq!(record.destination, "bureau");
    // The server keeps only the mailbox id, never the code.
    let keys = ReporterKeys::derive_from(&code);
    assert_eq!(record.mailbox, keys.credential().mailbox_id().to_hex());

    let report_ct = wait(s.app.storage.report(number)).unwrap();
    let opened =
        open_report(&report_ct, &[s.keys.bureau_key.as_age()]).expect("the bureau opens it");
    assert!(matches!(opened.content.encrypted_by, EncryptedBy::Server));
    assert_eq!(opened.content.description, DESCRIPTION);
    assert_eq!(opened.content.concerning, "the head of purchasing");
    assert!(opened.content.contact.is_none());
    assert_eq!(
        opened.content.attachments.len(),
        1,
        "the empty file input is not a document"
    );
    let entry = &opened.content.attachments[0];
    assert_eq!(entry.name, "invoices.txt");
    let doc = document();
    assert_eq!(entry.size, doc.len() as u64);
    let file = s
        .app
        .settings
        .data_dir
        .join("files")
        .join(record.attachments[0].file.as_str());
    let mut plain = Vec::new();
    decrypt_attachment(
        &[s.keys.bureau_key.as_age()],
        std::fs::File::open(file).unwrap(),
        entry.size,
        &mut plain,
    )
    .unwrap();
    assert_eq!(plain, doc);
    assert_eq!(record.attachments[0].digest.sha256, entry.ciphertext_sha256);
    // The note to self records where replies go, signed with the code's key.
    let note = wait(s.app.storage.note(number))
        .unwrap()
        .expect("a note is stored");
    let note = open_reporter_note(&note, &keys).unwrap();
    assert_eq!(note.destination, "bureau");
    s.no_plaintext(&[
        DESCRIPTION.as_bytes(),
        DOCUMENT_LINE,
        code.to_grouped_string().as_bytes(),
    ]);
}

#[test]
fn checking_back_decrypts_in_memory_and_an_answer_reaches_the_bureau() {
    let s = server();
    let (code, case) = report(&s);
    let (number, record) = wait(s.app.storage.cases()).unwrap().remove(0);
    let opened = open_report(
        &wait(s.app.storage.report(&number)).unwrap(),
        &[s.keys.bureau_key.as_age()],
    )
    .unwrap();
    let mut bureau = ThreadState::new(opened.ciphertext_sha256);
    let draft = bureau.draft(
        Direction::ToReporter,
        Day::parse("2026-11-23").unwrap(),
        Zeroizing::new(QUESTION.into()),
    );
    let question = seal_to_reporter(&draft, &opened.thread, s.keys.bureau.recipients()).unwrap();
    let q = open_message(&question, &[s.keys.bureau_key.as_age()], &opened.thread).unwrap();
    bureau.accept(&question, &q).unwrap();
    wait(
        s.app
            .storage
            .append_message(&number, Direction::ToReporter, record.head(), &question),
    )
    .unwrap();

    // A typo is a typo; an unknown code is unknown.
    let grouped = code.to_grouped_string();
    let mut typo: Vec<char> = grouped.chars().collect();
    typo[2] = if typo[2] == '7' { '8' } else { '7' };
    let typo: String = typo.into_iter().collect();
    let resp = s.post("/en/check-nojs", &[("code", None, typo.as_bytes())]);
    assert_eq!(resp.status(), Status::BadRequest);
    assert!(resp.into_string().unwrap().contains("typo"));
    let stranger = ReturnCode::generate(&mut rand::rngs::OsRng).to_grouped_string();
    let resp = s.post("/en/check-nojs", &[("code", None, stranger.as_bytes())]);
    assert_eq!(resp.status(), Status::NotFound);

    // The thread, decrypted by the server and said so.
    let sloppy = grouped.to_lowercase().replace('-', " ");
    let resp = s.post("/en/check-nojs", &[("code", None, sloppy.as_bytes())]);
    assert_eq!(resp.status(), Status::Ok);
    let html = resp.into_string().unwrap();
    assert!(html.contains(QUESTION), "{html}");
    assert!(html.contains("the server decrypted these messages in memory"));
    assert!(html.contains(&case));
    let head = between(&html, "name=\"head\" value=\"", "\"").to_owned();
    assert_eq!(head, hex::encode(bureau.head()));

    // An answer with the code in it is refused; nothing is posted.
    let leak = format!("my code: {}", grouped.as_str());
    let resp = s.post(
        "/en/reply-nojs",
        &[
            ("code", None, grouped.as_bytes()),
            ("head", None, head.as_bytes()),
            ("text", None, leak.as_bytes()),
        ],
    );
    assert_eq!(resp.status(), Status::BadRequest);
    assert!(resp
        .into_string()
        .unwrap()
        .contains("contains your return code"));
    assert_eq!(
        wait(s.app.storage.case(&number))
            .unwrap()
            .unwrap()
            .thread
            .len(),
        1
    );

    // A stale head (a message arrived since the page was read): not posted.
    let stale = hex::encode(opened.ciphertext_sha256);
    let resp = s.post(
        "/en/reply-nojs",
        &[
            ("code", None, grouped.as_bytes()),
            ("head", None, stale.as_bytes()),
            ("text", None, ANSWER.as_bytes()),
        ],
    );
    assert_eq!(resp.status(), Status::Conflict);
    let html = resp.into_string().unwrap();
    assert!(html.contains("A new message arrived"), "{html}");
    assert!(html.contains(ANSWER), "the answer is kept to send again");
    assert_eq!(
        wait(s.app.storage.case(&number))
            .unwrap()
            .unwrap()
            .thread
            .len(),
        1
    );

    // The answer: sealed to the bureau, verified there.
    let resp = s.post(
        "/en/reply-nojs",
        &[
            ("code", None, grouped.as_bytes()),
            ("head", None, head.as_bytes()),
            ("text", None, ANSWER.as_bytes()),
        ],
    );
    assert_eq!(resp.status(), Status::Created);
    let html = resp.into_string().unwrap();
    assert!(html.contains("Your answer was sent"), "{html}");
    assert!(!html.contains(ANSWER), "a sent answer cannot be read back");
    let record = wait(s.app.storage.case(&number)).unwrap().unwrap();
    assert_eq!(record.thread.len(), 2);
    assert_eq!(record.thread[1].direction, Direction::FromReporter);
    let answer_ct = wait(s.app.storage.message(&number, 2)).unwrap();
    let answer =
        open_message(&answer_ct, &[s.keys.bureau_key.as_age()], &opened.thread).expect("verifies");
    assert_eq!(answer.text, ANSWER);
    assert_eq!(answer.direction, Direction::FromReporter);
    bureau
        .accept(&answer_ct, &answer)
        .expect("the answer extends the thread");
    // The reporter cannot read it back: age refuses the reporter's key.
    let keys = ReporterKeys::derive_from(&code);
    assert!(open_message(&answer_ct, &[&keys.identity()], &opened.thread).is_err());
    s.no_plaintext(&[
        DESCRIPTION.as_bytes(),
        DOCUMENT_LINE,
        ANSWER.as_bytes(),
        QUESTION.as_bytes(),
    ]);
}
