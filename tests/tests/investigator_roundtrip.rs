//! The investigator's whole loop against a real server process: a report made with the
//! crypto crate (as the browser makes it) → `meldpunt pull` → `open` → `reply` → `push`
//! → the reporter reads and verifies the question with the return code → `status closed`
//! → `push` → the server shows the case closed.

use std::fs;
use std::io::Read;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{
    encrypt_attachment, open_message, seal_report, seal_reporter_note, AttachmentEntry, CaseStatus,
    Category, Day, Direction, EncryptedBy, ReportContent, ReporterKeys, ReporterNote, ReturnCode,
    ThreadSecrets, ThreadState,
};
use meldpunt_tests::{agent, json, meldpunt, meldpunt_ok, Site};
use rand::rngs::OsRng;

const DESCRIPTION: &str = "The team lead approved 14 applications without the required checks.";
const CONTACT: &str = "Call me on 06-12345678 after 18:00";

#[test]
fn report_pull_open_reply_push_and_close() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let a = agent();
    let work = tempfile::tempdir().unwrap();
    let token_file = work.path().join("token.txt");
    fs::write(&token_file, &token).unwrap();
    let bundle = work.path().join("bundle");
    let out = work.path().join("out");
    let key_file = site.bureau_key_file();
    let (bundle_s, out_s, key_s, token_s) = (
        bundle.to_str().unwrap(),
        out.to_str().unwrap(),
        key_file.to_str().unwrap(),
        token_file.to_str().unwrap(),
    );
    let server = site.url("");

    // --- the reporter, as the browser does it ---------------------------------------
    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    let credential = keys.credential().to_header_value();
    let today = Day::today();
    let evidence = b"minutes of the meeting where it was decided".repeat(1000);
    let mut evidence_ct = Vec::new();
    let digest = encrypt_attachment(
        site.bureau.recipients(),
        &evidence[..],
        evidence.len() as u64,
        &mut evidence_ct,
    )
    .unwrap();
    let resp = a
        .post(&site.url("/api/v1/uploads"))
        .header("Meldpunt-Mailbox", credential.as_str())
        .send_empty()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = a
        .put(&site.url("/api/v1/uploads/0"))
        .header("Meldpunt-Mailbox", credential.as_str())
        .header("Meldpunt-Offset", "0")
        .send(&evidence_ct[..])
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = a
        .post(&site.url("/api/v1/uploads/0/finish"))
        .header("Meldpunt-Mailbox", credential.as_str())
        .send_empty()
        .unwrap();
    assert_eq!(json(resp)["sha256"], hex::encode(digest.sha256));

    let content = ReportContent {
        category: Category::Fraud,
        concerning: "R. Smit, team lead".into(),
        description: DESCRIPTION.into(),
        when_where: "March, Rijswijk".into(),
        contact: Some(CONTACT.into()),
        attachments: vec![AttachmentEntry::new(
            "../../minutes.pdf".into(),
            evidence.len() as u64,
            &digest,
        )],
        date: today,
        encrypted_by: EncryptedBy::Browser,
    };
    let report = seal_report(&content, &keys, &site.bureau).unwrap();
    let resp = a
        .post(&site.url("/api/v1/reports"))
        .header("Meldpunt-Mailbox", credential.as_str())
        .header("Meldpunt-Destination", "bureau")
        .send(&report[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let case = json(resp)["case"].as_str().unwrap().to_owned();
    let note = seal_reporter_note(
        &ReporterNote::for_report(&site.bureau, &report, today),
        &keys,
    )
    .unwrap();
    let resp = a
        .put(&site.url("/api/v1/note"))
        .header("Meldpunt-Mailbox", credential.as_str())
        .send(&note[..])
        .unwrap();
    assert_eq!(resp.status(), 200);

    // --- the investigator ------------------------------------------------------------
    meldpunt_ok(&[
        "pin",
        bundle_s,
        "bureau",
        site.bureau_key.recipient().as_str(),
    ]);
    meldpunt_ok(&[
        "pull",
        "--server",
        &server,
        "--token-file",
        token_s,
        bundle_s,
    ]);
    let listing = meldpunt_ok(&["cases", bundle_s]);
    assert!(listing.contains(&case), "{listing}");
    meldpunt_ok(&["open", &case, "-i", key_s, bundle_s, "-o", out_s]);
    let folder = out.join(&case);
    let report_md = fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(report_md.contains(DESCRIPTION), "{report_md}");
    assert!(
        !report_md.contains(CONTACT),
        "contact details stay out of the report"
    );
    let report_json = fs::read_to_string(folder.join("report.json")).unwrap();
    assert!(!report_json.contains(CONTACT));
    // The reporter's keys (the thread key travels beside the thread id) stay out of
    // the files one might share inside the bureau.
    let thread_id = hex::encode(keys.thread_id().0);
    assert!(!report_json.contains(&thread_id) && !report_md.contains(&thread_id));
    let contact = fs::read_to_string(folder.join("IDENTIFYING-contact-details.txt")).unwrap();
    assert!(contact.contains(CONTACT));
    // The attachment is saved under a safe name inside the folder, byte for byte.
    let saved: Vec<_> = fs::read_dir(folder.join("attachments"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(saved.len(), 1);
    assert_eq!(fs::read(saved[0].path()).unwrap(), evidence);

    let question = work.path().join("question.txt");
    fs::write(&question, "Thank you. Were you present at that meeting?").unwrap();
    meldpunt_ok(&[
        "reply",
        &case,
        "-i",
        key_s,
        bundle_s,
        "--message-file",
        question.to_str().unwrap(),
        "--status",
        "acknowledged",
    ]);
    meldpunt_ok(&[
        "push",
        "--server",
        &server,
        "--token-file",
        token_s,
        bundle_s,
    ]);

    // --- the reporter, days later, with only the code ----------------------------------
    let resp = a
        .get(&site.url("/api/v1/thread"))
        .header("Meldpunt-Mailbox", credential.as_str())
        .call()
        .unwrap();
    let thread = json(resp);
    assert_eq!(thread["status"], "acknowledged");
    let messages = thread["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    let ct = B64
        .decode(messages[0]["ciphertext"].as_str().unwrap())
        .unwrap();
    let secrets = ThreadSecrets::from_reporter_keys(&keys);
    let m = open_message(&ct, &[&keys.identity()], &secrets).unwrap();
    let mut state = ThreadState::new(meldpunt_crypto::ciphertext_hash(&report));
    state.accept(&ct, &m).unwrap();
    assert_eq!(m.direction, Direction::ToReporter);
    assert_eq!(m.text, "Thank you. Were you present at that meeting?");
    assert_eq!(m.status, Some(CaseStatus::Acknowledged));
    assert_eq!(m.reply_to, vec![site.bureau_key.recipient()]);

    // --- closing ------------------------------------------------------------------------
    meldpunt_ok(&["status", &case, "closed", bundle_s]);
    meldpunt_ok(&[
        "push",
        "--server",
        &server,
        "--token-file",
        token_s,
        bundle_s,
    ]);
    let resp = a
        .get(&site.url("/api/v1/cases"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let cases = json(resp);
    let listed = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == case.as_str())
        .unwrap();
    assert_eq!(listed["status"], "closed");

    // A wrong key is named as such.
    let other = work.path().join("other-key.txt");
    meldpunt_ok(&["keygen", "-o", other.to_str().unwrap()]);
    let wrong = meldpunt(&[
        "open",
        &case,
        "-i",
        other.to_str().unwrap(),
        bundle_s,
        "-o",
        work.path().join("o2").to_str().unwrap(),
    ]);
    assert!(!wrong.status.success());
    let mut err = String::from_utf8_lossy(&wrong.stderr).into_owned();
    err.push_str(&String::from_utf8_lossy(&wrong.stdout));
    assert!(err.contains("not encrypted to the recipient"), "{err}");

    // Nothing readable reached the server's disk.
    let mut stored = Vec::new();
    for entry in walk(&site.data_dir()) {
        let mut bytes = Vec::new();
        fs::File::open(&entry)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        stored.push(bytes);
    }
    for marker in [DESCRIPTION, CONTACT, "Were you present"] {
        assert!(
            !stored
                .iter()
                .any(|b| b.windows(marker.len()).any(|w| w == marker.as_bytes())),
            "plaintext on the server's disk: {marker}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
