//! An attacker for the abuse tests (tests/tests/abuse.rs): floods a drop box for a
//! while over one keep-alive connection, with this project's own reporter code, solving
//! every puzzle the server asks for natively on one core. It files reports with fresh
//! return codes, answers in its own cases, and opens upload sessions with a chunk each,
//! round robin. At the end it prints one JSON line: what it got through, per purpose.
//!
//! `meldpunt-flood URL SECONDS`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test tool: a panic is a failure

use std::time::{Duration, Instant};

use base64::Engine;
use meldpunt_crypto::reporter::Reporter;
use meldpunt_crypto::{
    admission, encrypt_attachment, Category, Day, Destination, EncryptedBy, ReportContent,
};
use serde_json::{json, Value};

struct Flood {
    agent: ureq::Agent,
    url: String,
    solved: u64,
    asked: u64,
}

impl Flood {
    /// Sends a request; when the server answers with a puzzle, solves it and sends again.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Value) {
        let mut solution: Option<String> = None;
        for _ in 0..4 {
            let url = format!("{}{path}", self.url);
            let mut req = ureq::http::Request::builder().method(method).uri(&url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(s) = &solution {
                req = req.header("Meldpunt-Admission", s.as_str());
            }
            let resp = match self.agent.run(req.body(body.to_vec()).unwrap()) {
                Ok(r) => r,
                Err(_) => return (0, Value::Null),
            };
            let status = resp.status().as_u16();
            let text = resp.into_body().read_to_string().unwrap_or_default();
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if status != 429 || value["admission"].is_null() {
                return (status, value);
            }
            self.asked += 1;
            let a = &value["admission"];
            let challenge = a["challenge"].as_str().unwrap();
            let k = a["difficulty"].as_u64().unwrap() as u8;
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(challenge)
                .unwrap();
            let start = rand::random::<u64>() >> 8;
            let nonce = admission::solve(&bytes, k, start, u64::MAX).unwrap();
            self.solved += 1 << k;
            solution = Some(format!("{challenge}.{nonce:x}"));
        }
        (429, Value::Null)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("URL").trim_end_matches('/').to_owned();
    let seconds: u64 = args.get(2).expect("SECONDS").parse().expect("a number");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut f = Flood {
        agent,
        url,
        solved: 0,
        asked: 0,
    };
    let (_, destinations) = f.send("GET", "/api/v1/destinations", &[], b"");
    let d = &destinations[0];
    let recipients: Vec<String> = d["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    let destination = Destination::new(d["name"].as_str().unwrap(), &recipients).unwrap();
    let name = destination.name.clone();
    let today = Day::today();
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut got = [0u64; 3]; // reports, answers, sessions
    let mut tried = [0u64; 3];
    let mut cases: Vec<Reporter> = Vec::new();
    let mut round = 0u64;
    while Instant::now() < end {
        round += 1;
        match round % 3 {
            0 => {
                // A report under a fresh return code.
                tried[0] += 1;
                let reporter = Reporter::generate(&mut rand::rngs::OsRng);
                let content = ReportContent {
                    category: Category::Other,
                    concerning: String::new(),
                    description: "flood".into(),
                    when_where: String::new(),
                    contact: None,
                    attachments: vec![],
                    date: today,
                    encrypted_by: EncryptedBy::Browser,
                };
                let sealed = reporter.seal_report(&destination, &content).unwrap();
                let cred = reporter.credential().to_header_value();
                let (status, _) = f.send(
                    "POST",
                    "/api/v1/reports",
                    &[
                        ("Meldpunt-Mailbox", cred.as_str()),
                        ("Meldpunt-Destination", name.as_str()),
                    ],
                    &sealed.report,
                );
                if status == 201 {
                    got[0] += 1;
                    f.send(
                        "PUT",
                        "/api/v1/note",
                        &[("Meldpunt-Mailbox", cred.as_str())],
                        &sealed.note,
                    );
                    if cases.len() < 8 {
                        cases.push(reporter);
                    }
                }
            }
            1 if !cases.is_empty() => {
                // An answer in one of its own cases.
                tried[1] += 1;
                let i = (round as usize / 3) % cases.len();
                let cred = cases[i].credential().to_header_value();
                let (_, thread) = f.send(
                    "GET",
                    "/api/v1/thread",
                    &[("Meldpunt-Mailbox", cred.as_str())],
                    b"",
                );
                let note = thread["note"]
                    .as_str()
                    .map(|n| base64::engine::general_purpose::STANDARD.decode(n).unwrap());
                let messages = thread["messages"].as_array().cloned().unwrap_or_default();
                let cts: Vec<Vec<u8>> = messages
                    .iter()
                    .map(|m| {
                        base64::engine::general_purpose::STANDARD
                            .decode(m["ciphertext"].as_str().unwrap())
                            .unwrap()
                    })
                    .collect();
                let served = meldpunt_crypto::reporter::ServedThread {
                    note: note.as_deref(),
                    report_sha256: thread["report_sha256"].as_str().unwrap_or(""),
                    messages: messages
                        .iter()
                        .zip(&cts)
                        .map(|(m, ct)| meldpunt_crypto::reporter::ServedMessage {
                            labelled: meldpunt_crypto::Direction::parse(
                                m["direction"].as_str().unwrap(),
                            )
                            .unwrap(),
                            day: None,
                            ciphertext: ct,
                        })
                        .collect(),
                };
                if cases[i].read_thread(&served).is_err() {
                    continue;
                }
                let Ok(answer) = cases[i].seal_answer("flood".to_owned().into(), today) else {
                    continue;
                };
                let extends = hex::encode(answer.extends);
                let (status, _) = f.send(
                    "POST",
                    "/api/v1/thread",
                    &[
                        ("Meldpunt-Mailbox", cred.as_str()),
                        ("Meldpunt-Extends", extends.as_str()),
                    ],
                    &answer.ciphertext,
                );
                if status == 201 {
                    got[1] += 1;
                }
            }
            _ => {
                // An upload session that never becomes a report, with one chunk.
                tried[2] += 1;
                let reporter = Reporter::generate(&mut rand::rngs::OsRng);
                let cred = reporter.credential().to_header_value();
                let (status, _) = f.send(
                    "POST",
                    "/api/v1/uploads",
                    &[("Meldpunt-Mailbox", cred.as_str())],
                    b"",
                );
                if status == 200 {
                    got[2] += 1;
                    let mut ct = Vec::new();
                    encrypt_attachment(destination.recipients(), &[7u8; 4096][..], 4096, &mut ct)
                        .unwrap();
                    f.send(
                        "PUT",
                        "/api/v1/uploads/0",
                        &[
                            ("Meldpunt-Mailbox", cred.as_str()),
                            ("Meldpunt-Offset", "0"),
                        ],
                        &ct,
                    );
                }
            }
        }
    }
    println!(
        "{}",
        json!({
            "reports": got[0], "answers": got[1], "sessions": got[2],
            "tried": tried, "puzzles": f.asked, "evaluations_expected": f.solved,
        })
    );
}
