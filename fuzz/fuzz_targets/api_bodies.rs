//! The server's request handling, through Rocket's local client: any request the
//! reporter API, the investigator API or the no-JavaScript forms can receive, with
//! fuzzed headers and bodies. A 5xx other than 503 and 507 (which the limits
//! legitimately return) is a bug.
//!
//! The server is built once (data directory on /dev/shm, so sled's flushes cost
//! nothing), with a filed report and one bureau message, and rebuilt on a fresh
//! directory every `RESET_EVERY` requests so the state (cases, threads, the audit log)
//! stays small.
#![no_main]

use std::path::Path;
use std::sync::Mutex;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::{
    agefile, open_report, seal_report, seal_reporter_note, seal_to_reporter, Category, Day,
    Destination, Direction, EncryptedBy, InvestigatorKey, Recipient, ReportContent, ReporterKeys,
    ReporterNote, ReturnCode, ThreadState,
};
use meldpunt_server::clock::Clock;
use meldpunt_server::config;
use meldpunt_server::App;
use rocket::figment::providers::Serialized;
use rocket::http::{Header, Method, Status};
use rocket::local::blocking::Client;
use zeroize::Zeroizing;

/// Requests between rebuilds of the server on a fresh data directory.
const RESET_EVERY: u32 = 5_000;
/// Messages in the filed case's thread before a rebuild: the no-JavaScript check-back
/// decrypts the whole thread on every request, so a long one slows every run.
const MAX_THREAD: usize = 16;
/// The reporter whose report is filed at start-up.
const CODE: &str = "0000-0000-0000-0000-0000-0000-0000";
const BOUNDARY: &str = "meldpuntfuzzboundary";

struct Harness {
    client: Client,
    app: App,
    token: String,
    case: String,
    bureau: Destination,
    commission: Destination,
    requests: u32,
    // Last: the directory goes after the server.
    _dir: tempfile::TempDir,
}

fn credential(keys: &ReporterKeys) -> String {
    keys.credential().to_header_value().to_string()
}

fn harness() -> Harness {
    // scripts/fuzz.sh names a directory it removes afterwards (the last server's
    // directory outlives the process: the harness is a static, never dropped).
    let base = match std::env::var_os("MELDPUNT_FUZZ_DIR") {
        Some(dir) => dir.into(),
        None if Path::new("/dev/shm").is_dir() => Path::new("/dev/shm").to_owned(),
        None => std::env::temp_dir(),
    };
    let dir = tempfile::Builder::new()
        .prefix("meldpunt-fuzz-")
        .tempdir_in(base)
        .expect("a temporary directory");
    let bureau_key = InvestigatorKey::generate();
    let commission_keys = [InvestigatorKey::generate(), InvestigatorKey::generate()];
    let bureau = Destination::from_recipients("bureau", vec![bureau_key.recipient()]).unwrap();
    let commission = Destination::from_recipients(
        "commission",
        commission_keys.iter().map(|k| k.recipient()).collect(),
    )
    .unwrap();
    let list =
        |d: &Destination| -> Vec<String> { d.recipients().iter().map(|r| r.to_string()).collect() };
    let destinations = serde_json::json!([
        { "name": "bureau", "description": "Bureau Integriteit", "recipients": list(&bureau) },
        { "name": "commission", "description": "Commission", "recipients": list(&commission) },
    ]);
    let today = Day::parse("2026-11-23").unwrap();
    let figment = config::figment(Path::new("/nonexistent/Meldpunt.toml"))
        .merge(Serialized::global("data_dir", dir.path()))
        .merge(Serialized::global("destinations", destinations))
        .merge(Serialized::global("max_report", "256 KiB"))
        .merge(Serialized::global("max_message", "128 KiB"))
        .merge(Serialized::global("max_attachment", "1 MiB"))
        .merge(Serialized::global("max_case", "3 MiB"))
        .merge(Serialized::global("max_attachments", 4))
        .merge(Serialized::global("min_free_disk", 0))
        // Limits high enough that the fuzzer reaches the handlers, not only 429.
        .merge(Serialized::global("submissions_per_hour", 1_000_000_000u32))
        .merge(Serialized::global("upload_bytes_per_hour", "1 TiB"));
    let (rocket, app) = meldpunt_server::build(figment, Clock::fixed(today)).expect("builds");
    let client = Client::untracked(rocket).expect("a local client");
    let token = app
        .tokens
        .create(
            "fuzz",
            &["bureau".to_owned(), "commission".to_owned()],
            &["bureau".to_owned(), "commission".to_owned()],
            today,
        )
        .expect("a token")
        .to_string();

    // A filed report and a bureau question, so the thread routes have something to show.
    let code = ReturnCode::parse(CODE).unwrap();
    let keys = ReporterKeys::derive_from(&code);
    let content = ReportContent {
        category: Category::Fraud,
        concerning: "the head of purchasing".into(),
        description: "invoices paid twice".into(),
        when_where: "last spring".into(),
        contact: None,
        attachments: vec![],
        date: today,
        encrypted_by: EncryptedBy::Browser,
    };
    let report = seal_report(&content, &keys, &bureau).unwrap();
    let resp = client
        .post("/api/v1/reports")
        .header(Header::new("Meldpunt-Mailbox", credential(&keys)))
        .header(Header::new("Meldpunt-Destination", "bureau"))
        .body(&report)
        .dispatch();
    assert_eq!(
        resp.status(),
        Status::Created,
        "the start-up report is filed"
    );
    let receipt: serde_json::Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    let case = receipt["case"].as_str().unwrap().to_owned();
    // The note to self, as the browser stores it; without it the reporter's side
    // cannot verify the thread.
    let note =
        seal_reporter_note(&ReporterNote::for_report(&bureau, &report, today), &keys).unwrap();
    let resp = client
        .put("/api/v1/note")
        .header(Header::new("Meldpunt-Mailbox", credential(&keys)))
        .body(&note)
        .dispatch();
    assert_eq!(resp.status(), Status::Ok, "the start-up note is stored");
    drop(resp);
    let opened = open_report(&report, &[bureau_key.as_age()]).unwrap();
    let state = ThreadState::new(opened.ciphertext_sha256);
    let draft = state.draft(Direction::ToReporter, today, Zeroizing::new("When?".into()));
    let question = seal_to_reporter(&draft, &opened.thread, bureau.recipients()).unwrap();
    let resp = client
        .post(format!("/api/v1/cases/{case}/messages"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(Header::new("Meldpunt-Extends", hex::encode(state.head())))
        .body(&question)
        .dispatch();
    assert_eq!(
        resp.status(),
        Status::Created,
        "the start-up question is posted"
    );
    drop(resp);
    Harness {
        client,
        app,
        token,
        case,
        bureau,
        commission,
        requests: 0,
        _dir: dir,
    }
}

#[derive(Arbitrary, Debug)]
enum Segment {
    Number(u8),
    Raw(String),
}

impl Segment {
    fn text(&self) -> String {
        match self {
            Segment::Number(n) => (n % 8).to_string(),
            Segment::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum CaseSel {
    Filed,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Lang {
    Nl,
    En,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Route {
    FileReport,
    Note,
    StartUploads,
    ShowUploads,
    UploadProgress(Segment),
    UploadChunk(Segment),
    FinishUpload(Segment),
    ReadThread,
    ThreadMessage(Segment),
    PostThread,
    Destinations,
    Cases,
    Case(CaseSel),
    Download(CaseSel),
    CaseMessage(CaseSel),
    CaseStatus(CaseSel),
    Shred(CaseSel),
    Audit,
    NojsReportForm(Lang),
    NojsReport(Lang),
    NojsCheck(Lang),
    NojsReply(Lang),
    Raw { method: u8, path: String },
}

#[derive(Arbitrary, Debug)]
enum MailboxSel {
    None,
    /// The reporter whose report was filed at start-up.
    Filed,
    /// One of a few credentials without a report (until the fuzzer files one).
    Fresh(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum HeadSel {
    None,
    Current,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum AuthSel {
    None,
    Valid,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum TypeSel {
    None,
    Json,
    Multipart,
    MultipartWith(String),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum FieldName {
    Consent,
    Destination,
    Category,
    Concerning,
    Description,
    WhenWhere,
    Contact,
    Files,
    Code,
    Head,
    Text,
    Raw(String),
}

impl FieldName {
    fn text(&self) -> &str {
        match self {
            FieldName::Consent => "consent",
            FieldName::Destination => "destination",
            FieldName::Category => "category",
            FieldName::Concerning => "concerning",
            FieldName::Description => "description",
            FieldName::WhenWhere => "when_where",
            FieldName::Contact => "contact",
            FieldName::Files => "files",
            FieldName::Code => "code",
            FieldName::Head => "head",
            FieldName::Text => "text",
            FieldName::Raw(s) => s,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum FieldValue {
    Yes,
    Bureau,
    Commission,
    FiledCode,
    CurrentHead,
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Field {
    name: FieldName,
    file_name: Option<String>,
    content_type: Option<String>,
    value: FieldValue,
}

#[derive(Arbitrary, Debug)]
enum Body {
    Empty,
    Raw(Vec<u8>),
    /// A real age file to the bureau's (or the commission's) recipients.
    Age {
        commission: bool,
        plaintext: Vec<u8>,
    },
    Status(u8),
    Form(Vec<Field>),
    /// A form whose bytes are cut after `cut` (a connection that breaks off).
    CutForm {
        fields: Vec<Field>,
        cut: u16,
    },
}

#[derive(Arbitrary, Debug)]
struct Request {
    route: Route,
    mailbox: MailboxSel,
    extends: HeadSel,
    offset: Option<String>,
    offset_number: Option<u32>,
    destination: Option<String>,
    destination_known: bool,
    auth: AuthSel,
    content_type: TypeSel,
    content_length: Option<String>,
    body: Body,
}

fn thread_len(h: &Harness) -> usize {
    let case = meldpunt_server::ids::CaseNumber::parse(&h.case).expect("a case number");
    match h.app.storage.case(&case) {
        Ok(Some(record)) => record.thread.len(),
        _ => 0,
    }
}

fn current_head(h: &Harness) -> String {
    let case = meldpunt_server::ids::CaseNumber::parse(&h.case).expect("a case number");
    match h.app.storage.case(&case) {
        Ok(Some(record)) => record.head().to_owned(),
        _ => "0".repeat(64),
    }
}

fn form(h: &Harness, fields: &[Field]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        out.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{}\"", f.name.text()).as_bytes(),
        );
        if let Some(file_name) = &f.file_name {
            out.extend_from_slice(format!("; filename=\"{file_name}\"").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = &f.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        match &f.value {
            FieldValue::Yes => out.extend_from_slice(b"yes"),
            FieldValue::Bureau => out.extend_from_slice(b"bureau"),
            FieldValue::Commission => out.extend_from_slice(b"commission"),
            FieldValue::FiledCode => out.extend_from_slice(CODE.as_bytes()),
            FieldValue::CurrentHead => out.extend_from_slice(current_head(h).as_bytes()),
            FieldValue::Bytes(b) => out.extend_from_slice(b),
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn case_path(h: &Harness, sel: &CaseSel) -> String {
    match sel {
        CaseSel::Filed => h.case.clone(),
        CaseSel::Raw(s) => s.clone(),
    }
}

fn lang(l: &Lang) -> String {
    match l {
        Lang::Nl => "nl".into(),
        Lang::En => "en".into(),
        Lang::Raw(s) => s.clone(),
    }
}

fn send(h: &Harness, r: &Request) -> (Status, String) {
    use Method::*;
    let (method, path) = match &r.route {
        Route::FileReport => (Post, "/api/v1/reports".to_owned()),
        Route::Note => (Put, "/api/v1/note".to_owned()),
        Route::StartUploads => (Post, "/api/v1/uploads".to_owned()),
        Route::ShowUploads => (Get, "/api/v1/uploads".to_owned()),
        Route::UploadProgress(n) => (Get, format!("/api/v1/uploads/{}", n.text())),
        Route::UploadChunk(n) => (Put, format!("/api/v1/uploads/{}", n.text())),
        Route::FinishUpload(n) => (Post, format!("/api/v1/uploads/{}/finish", n.text())),
        Route::ReadThread => (Get, "/api/v1/thread".to_owned()),
        Route::ThreadMessage(n) => (Get, format!("/api/v1/thread/{}", n.text())),
        Route::PostThread => (Post, "/api/v1/thread".to_owned()),
        Route::Destinations => (Get, "/api/v1/destinations".to_owned()),
        Route::Cases => (Get, "/api/v1/cases".to_owned()),
        Route::Case(c) => (Get, format!("/api/v1/cases/{}", case_path(h, c))),
        Route::Download(c) => (Get, format!("/api/v1/cases/{}/download", case_path(h, c))),
        Route::CaseMessage(c) => (Post, format!("/api/v1/cases/{}/messages", case_path(h, c))),
        Route::CaseStatus(c) => (Post, format!("/api/v1/cases/{}/status", case_path(h, c))),
        Route::Shred(c) => (Delete, format!("/api/v1/cases/{}", case_path(h, c))),
        Route::Audit => (Get, "/api/v1/audit".to_owned()),
        Route::NojsReportForm(l) => (Get, format!("/{}/report-nojs", lang(l))),
        Route::NojsReport(l) => (Post, format!("/{}/report-nojs", lang(l))),
        Route::NojsCheck(l) => (Post, format!("/{}/check-nojs", lang(l))),
        Route::NojsReply(l) => (Post, format!("/{}/reply-nojs", lang(l))),
        Route::Raw { method, path } => {
            let m = [Get, Post, Put, Delete, Head, Options, Patch][*method as usize % 7];
            (m, format!("/{path}"))
        }
    };
    let mut req = h.client.req(method, path);
    match &r.mailbox {
        MailboxSel::None => {}
        MailboxSel::Filed => {
            let keys = ReporterKeys::derive(ReturnCode::parse(CODE).unwrap());
            req.add_header(Header::new("Meldpunt-Mailbox", credential(&keys)));
        }
        MailboxSel::Fresh(n) => {
            req.add_header(Header::new(
                "Meldpunt-Mailbox",
                hex::encode([n % 4 + 1; 32]),
            ));
        }
        MailboxSel::Raw(s) => req.add_header(Header::new("Meldpunt-Mailbox", s.clone())),
    }
    match &r.extends {
        HeadSel::None => {}
        HeadSel::Current => req.add_header(Header::new("Meldpunt-Extends", current_head(h))),
        HeadSel::Raw(s) => req.add_header(Header::new("Meldpunt-Extends", s.clone())),
    }
    if let Some(n) = r.offset_number {
        req.add_header(Header::new("Meldpunt-Offset", n.to_string()));
    } else if let Some(s) = &r.offset {
        req.add_header(Header::new("Meldpunt-Offset", s.clone()));
    }
    if r.destination_known {
        req.add_header(Header::new("Meldpunt-Destination", "bureau"));
    } else if let Some(s) = &r.destination {
        req.add_header(Header::new("Meldpunt-Destination", s.clone()));
    }
    match &r.auth {
        AuthSel::None => {}
        AuthSel::Valid => {
            req.add_header(Header::new("Authorization", format!("Bearer {}", h.token)))
        }
        AuthSel::Raw(s) => req.add_header(Header::new("Authorization", s.clone())),
    }
    match &r.content_type {
        TypeSel::None => {}
        TypeSel::Json => req.add_header(Header::new("Content-Type", "application/json")),
        TypeSel::Multipart => req.add_header(Header::new(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )),
        TypeSel::MultipartWith(b) => req.add_header(Header::new(
            "Content-Type",
            format!("multipart/form-data; boundary={b}"),
        )),
        TypeSel::Raw(s) => req.add_header(Header::new("Content-Type", s.clone())),
    }
    if let Some(cl) = &r.content_length {
        req.add_header(Header::new("Content-Length", cl.clone()));
    }
    let body: Vec<u8> = match &r.body {
        Body::Empty => vec![],
        Body::Raw(b) => b.clone(),
        Body::Age {
            commission,
            plaintext,
        } => {
            let to: &[Recipient] = if *commission {
                h.commission.recipients()
            } else {
                h.bureau.recipients()
            };
            agefile::encrypt(to, plaintext).expect("age encrypts")
        }
        Body::Status(s) => {
            let word = [
                "received",
                "acknowledged",
                "investigating",
                "closed",
                "open",
            ];
            format!("{{\"status\":\"{}\"}}", word[*s as usize % word.len()]).into_bytes()
        }
        Body::Form(fields) => form(h, fields),
        Body::CutForm { fields, cut } => {
            let mut b = form(h, fields);
            b.truncate(*cut as usize);
            b
        }
    };
    req.set_body(body);
    let resp = req.dispatch();
    let status = resp.status();
    let text = if status.code >= 500 {
        resp.into_string().unwrap_or_default()
    } else {
        String::new()
    };
    (status, text)
}

/// A static, not a thread-local: a static is never dropped, whereas dropping Rocket's
/// blocking client in a thread-local destructor at exit panics inside tokio (its own
/// thread-locals are gone by then) and libFuzzer would report that as a crash.
static HARNESS: Mutex<Option<Harness>> = Mutex::new(None);

fuzz_target!(|r: Request| {
    let mut slot = HARNESS.lock().unwrap_or_else(|p| p.into_inner());
    if slot
        .as_ref()
        .is_none_or(|h| h.requests >= RESET_EVERY || thread_len(h) > MAX_THREAD)
    {
        // Drop the old server (and its directory) before making the next.
        *slot = None;
        *slot = Some(harness());
    }
    let h = slot.as_mut().expect("a harness");
    h.requests += 1;
    let (status, text) = send(h, &r);
    // 502 is how the no-JavaScript check-back says the stored thread does not verify
    // (for example after the reporter's own credential replaced the note to self):
    // the server's data, not the request, is at fault, as the browser would also find.
    let unverifiable_thread = status == Status::BadGateway
        && matches!(r.route, Route::NojsCheck(_) | Route::NojsReply(_))
        && (text.contains("Your messages could not be checked")
            || text.contains("Uw berichten konden niet worden gecontroleerd"));
    assert!(
        status.code < 500
            || status == Status::ServiceUnavailable
            || status.code == 507
            || unverifiable_thread,
        "{status} for {r:?}: {text}"
    );
});
