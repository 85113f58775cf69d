//! What a breached server (or an insider) might do to a case, and how `open` shows it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::fs;

use common::{Env, DESCRIPTION};
use meldpunt_crypto::{encrypt_attachment, Destination, InvestigatorKey};
use predicates::str::contains;

fn open(env: &Env, case: &str) -> assert_cmd::assert::Assert {
    env.cmd()
        .args(["open", case, "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .arg("-o")
        .arg(&env.out)
        .assert()
}

#[test]
fn a_recipient_added_by_the_server_is_reported() {
    let env = Env::pinned();
    let intruder = InvestigatorKey::generate();
    let mut keys: Vec<_> = env.bureau.recipients().to_vec();
    keys.push(intruder.recipient());
    let to = Destination::from_recipients("bureau", keys).unwrap();
    env.case("MP-ADDEDKEY01", &to, None, &[]);
    open(&env, "MP-ADDEDKEY01")
        .code(3)
        .stderr(contains("DIFFERENT SET OF KEYS THAN THE ONES PINNED"))
        .stderr(contains(format!(
            "NOT PINNED, but the report was encrypted to it: {}",
            intruder.recipient()
        )));
    let dir = env.out.join("MP-ADDEDKEY01");
    // The report is still shown, with the warning at its top.
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains(DESCRIPTION));
    assert!(md.find("PROBLEMS FOUND").unwrap() < md.find(DESCRIPTION).unwrap());
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["recipients_match_pins"], false);
}

#[test]
fn an_unpinned_destination_is_reported() {
    let env = Env::new();
    env.case("MP-N0P1NS0001", &env.bureau, None, &[]);
    open(&env, "MP-N0P1NS0001")
        .code(3)
        .stderr(contains("no recipients are pinned"));
}

#[test]
fn a_swapped_attachment_is_reported_and_not_saved() {
    let env = Env::pinned();
    let case = env.case(
        "MP-SWAPPED001",
        &env.bureau,
        None,
        &[
            ("echt.pdf", b"the real document"),
            ("tweede.pdf", b"second"),
        ],
    );
    // The server replaces the first attachment with another file encrypted to the bureau.
    let mut other = Vec::new();
    let fake = b"a forged document!";
    encrypt_attachment(
        env.bureau.recipients(),
        &fake[..],
        fake.len() as u64,
        &mut other,
    )
    .unwrap();
    fs::write(case.dir.join("attachments/000.age"), &other).unwrap();
    open(&env, "MP-SWAPPED001")
        .code(3)
        .stderr(contains("attachment 1 (\"echt.pdf\""))
        .stderr(contains("swapped or altered"))
        .stdout(contains("1 of 2 verified"));
    let dir = env.out.join("MP-SWAPPED001/attachments");
    assert!(!dir.join("echt.pdf").exists());
    assert_eq!(fs::read(dir.join("tweede.pdf")).unwrap(), b"second");
    // No partial plaintext is left behind.
    let names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let md = fs::read_to_string(env.out.join("MP-SWAPPED001/report.md")).unwrap();
    assert!(md.contains("NOT SAVED"));

    // Same size, different bytes: caught by the hash.
    let mut real = fs::read(case.dir.join("attachments/001.age")).unwrap();
    let last = real.len() - 1;
    real[last] ^= 1;
    fs::write(case.dir.join("attachments/001.age"), &real).unwrap();
    open(&env, "MP-SWAPPED001")
        .code(1)
        .stderr(contains("--replace"));
    env.cmd()
        .args(["open", "MP-SWAPPED001", "--replace", "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .arg("-o")
        .arg(&env.out)
        .assert()
        .code(3)
        .stderr(contains("attachment 2 (\"tweede.pdf\""))
        .stdout(contains("0 of 2 verified"));
}

#[test]
fn a_forged_reporter_message_is_reported_never_hidden() {
    let env = Env::pinned();
    let mut case = env.case("MP-F0RGED0001", &env.bureau, None, &[]);
    case.bureau_says("Kunt u meer vertellen?");
    case.forged_reporter_message("Ik trek mijn melding in.");
    open(&env, "MP-F0RGED0001")
        .code(3)
        .stderr(contains("thread/0002-from_reporter.age"))
        .stderr(contains("NOT authentic"))
        .stdout(contains("1 of 2 message(s) verified"));
    let thread = fs::read_to_string(env.out.join("MP-F0RGED0001/thread.md")).unwrap();
    assert!(thread.contains("Kunt u meer vertellen?"));
    assert!(thread.contains("NOT VERIFIED — thread/0002-from_reporter.age"));
    assert!(!thread.contains("Ik trek mijn melding in."));
}

#[test]
fn a_dropped_or_reordered_message_is_reported() {
    let env = Env::pinned();
    let mut case = env.case("MP-RE0RDER001", &env.bureau, None, &[]);
    case.bureau_says("Eerste vraag");
    case.reporter_says("Eerste antwoord", &env.key);
    case.bureau_says("Tweede vraag");
    // The server drops the middle message and renumbers.
    let t = case.dir.join("thread");
    fs::remove_file(t.join("0002-from_reporter.age")).unwrap();
    fs::rename(
        t.join("0003-to_reporter.age"),
        t.join("0002-to_reporter.age"),
    )
    .unwrap();
    open(&env, "MP-RE0RDER001")
        .code(3)
        .stderr(contains("thread/0002-to_reporter.age"))
        .stderr(contains("a message was removed, or the thread was altered"));

    // Dropping the last message: the thread verifies but ends before the server's head.
    let env = Env::pinned();
    let mut case = env.case("MP-DR0P1AST01", &env.bureau, None, &[]);
    case.bureau_says("Vraag");
    case.reporter_says("Antwoord", &env.key);
    fs::remove_file(case.dir.join("thread/0002-from_reporter.age")).unwrap();
    open(&env, "MP-DR0P1AST01")
        .code(3)
        .stderr(contains("a message may be missing"));
}

#[test]
fn messages_after_a_failure_are_not_accepted_as_verified() {
    let env = Env::pinned();
    let mut case = env.case("MP-AFTERFA111", &env.bureau, None, &[]);
    case.bureau_says("Vraag");
    // An insider inserts a forgery; the real thread goes on after it.
    let forged_at = case.messages + 1;
    case.forged_reporter_message("Vals");
    case.messages -= 1;
    fs::rename(
        case.dir
            .join(format!("thread/{forged_at:04}-from_reporter.age")),
        case.dir.join("thread/9999-from_reporter.age"),
    )
    .unwrap();
    case.reporter_says("Echt antwoord", &env.key);
    fs::rename(
        case.dir.join("thread/0002-from_reporter.age"),
        case.dir.join("thread/0003-from_reporter.age"),
    )
    .unwrap();
    fs::rename(
        case.dir.join("thread/9999-from_reporter.age"),
        case.dir.join("thread/0002-from_reporter.age"),
    )
    .unwrap();
    open(&env, "MP-AFTERFA111")
        .code(3)
        .stderr(contains(
            "thread/0002-from_reporter.age: this message is NOT authentic",
        ))
        .stderr(contains(
            "thread/0003-from_reporter.age: not verified: it comes after a message that failed",
        ));
}

#[test]
fn a_reporter_message_encrypted_to_an_extra_key_is_reported() {
    let env = Env::pinned();
    let mut case = env.case("MP-EXTRAKEY01", &env.bureau, None, &[]);
    // The reporter's browser was given one key more than the report used.
    let intruder = InvestigatorKey::generate();
    let mut keys = env.bureau.recipients().to_vec();
    keys.push(intruder.recipient());
    case.to = Destination::from_recipients("bureau", keys).unwrap();
    case.reporter_says("Antwoord", &env.key);
    open(&env, "MP-EXTRAKEY01").code(3).stderr(contains(
        "encrypted to 3 keys, but the reporter should have used 2",
    ));
}
