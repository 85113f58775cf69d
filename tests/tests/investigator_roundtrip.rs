//! The investigator's whole loop against a real server process: a report made with the
//! crypto crate (as the browser makes it) → `meldpunt pull` → `open` → `reply` → `push`
//! → the reporter reads and verifies the question with the return code → `status closed`
//! → `push` → the server shows the case closed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{open_message, CaseStatus, Direction, ThreadSecrets, ThreadState};
use meldpunt_tests::{
    agent, json, meldpunt, meldpunt_ok, stored_files, ApiReporter, Investigator, Site,
};

const DESCRIPTION: &str = "The team lead approved 14 applications without the required checks.";
const CONTACT: &str = "Call me on 06-12345678 after 18:00";
const QUESTION: &str = "Thank you. Were you present at that meeting?";

#[test]
fn report_pull_open_reply_push_and_close() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();

    // The reporter, as the browser does it; the document's name tries to leave the folder.
    let reporter = ApiReporter::new();
    let evidence = b"minutes of the meeting where it was decided".repeat(1000);
    let filed = reporter.file(
        &site,
        DESCRIPTION,
        Some(CONTACT),
        &[("../../minutes.pdf", &evidence)],
    );
    let case = filed.case.as_str();

    // The investigator.
    let inv = Investigator::new(&site, &token);
    inv.pull();
    assert!(inv.cases().contains(case));
    let folder = inv.open(case);
    let report_md = inv.read(case, "report.md");
    assert!(report_md.contains(DESCRIPTION), "{report_md}");
    assert!(
        !report_md.contains(CONTACT),
        "contact details stay out of the report"
    );
    let report_json = inv.read(case, "report.json");
    assert!(!report_json.contains(CONTACT));
    // The reporter's keys (the thread key travels beside the thread id) stay out of the
    // files one might share inside the bureau.
    let thread_id = hex::encode(reporter.keys.thread_id().0);
    assert!(!report_json.contains(&thread_id) && !report_md.contains(&thread_id));
    assert!(inv
        .read(case, "IDENTIFYING-contact-details.txt")
        .contains(CONTACT));
    // The document is saved under a safe name inside the folder, byte for byte.
    let saved: Vec<_> = fs::read_dir(folder.join("attachments"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(saved.len(), 1);
    assert_eq!(fs::read(saved[0].path()).unwrap(), evidence);

    inv.reply(case, QUESTION, Some("acknowledged"));
    inv.push();

    // The reporter, days later, with only the code.
    let thread = reporter.thread(&site);
    assert_eq!(thread["status"], "acknowledged");
    let messages = thread["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    let ct = B64
        .decode(messages[0]["ciphertext"].as_str().unwrap())
        .unwrap();
    let secrets = ThreadSecrets::from_reporter_keys(&reporter.keys);
    let m = open_message(&ct, &[&reporter.keys.identity()], &secrets).unwrap();
    let mut state = ThreadState::new(meldpunt_crypto::ciphertext_hash(&filed.report));
    state.accept(&ct, &m).unwrap();
    assert_eq!(m.direction, Direction::ToReporter);
    assert_eq!(m.text, QUESTION);
    assert_eq!(m.status, Some(CaseStatus::Acknowledged));
    assert_eq!(m.reply_to, vec![site.bureau_key.recipient()]);

    // Closing.
    inv.status(case, "closed");
    inv.push();
    let cases = json(
        agent()
            .get(&site.url("/api/v1/cases"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap(),
    );
    let listed = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == case)
        .unwrap();
    assert_eq!(listed["status"], "closed");

    // A wrong key is named as such.
    let work = tempfile::tempdir().unwrap();
    let other = work.path().join("other-key.txt");
    meldpunt_ok(&["keygen", "-o", other.to_str().unwrap()]);
    let wrong = meldpunt(&[
        "open",
        case,
        "-i",
        other.to_str().unwrap(),
        inv.bundle().to_str().unwrap(),
        "-o",
        work.path().join("o2").to_str().unwrap(),
    ]);
    assert!(!wrong.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&wrong.stderr),
        String::from_utf8_lossy(&wrong.stdout)
    );
    assert!(said.contains("not encrypted to the recipient"), "{said}");

    // Nothing readable reached the server's disk.
    let stored: Vec<Vec<u8>> = stored_files(&site.data_dir())
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect();
    for marker in [DESCRIPTION, CONTACT, QUESTION] {
        assert!(
            !stored
                .iter()
                .any(|b| b.windows(marker.len()).any(|w| w == marker.as_bytes())),
            "plaintext on the server's disk: {marker}"
        );
    }
}
