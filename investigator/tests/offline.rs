//! The offline commands, run as the investigator runs them, with good and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::fs;

use common::{day, Env, CONTACT, DESCRIPTION};
use meldpunt_crypto::{open_message, Destination, Direction, InvestigatorKey, ThreadState};
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn every_command_has_help() {
    let env = Env::new();
    env.cmd()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("MELDPUNT_PASSPHRASE"));
    for command in [
        "keygen", "pin", "cases", "open", "reply", "status", "shred", "pull", "push",
    ] {
        env.cmd()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(contains("Usage: meldpunt"));
    }
    env.cmd().arg("frobnicate").assert().code(2);
}

#[test]
fn keygen_writes_a_private_key_and_prints_recipient_and_fingerprint() {
    let env = Env::new();
    let path = env.path("new-key.txt");
    let out = env
        .cmd()
        .args(["keygen", "-o"])
        .arg(&path)
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let recipient = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Recipient:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(recipient.starts_with("age1"));
    let fp = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Fingerprint:"))
        .unwrap()
        .trim();
    let r = meldpunt_crypto::Recipient::parse(&recipient).unwrap();
    assert_eq!(fp, meldpunt_crypto::fingerprint(&[r]));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let keys = meldpunt_crypto::load_keys(&fs::read(&path).unwrap(), || None).unwrap();
    assert_eq!(keys[0].recipient().as_str(), recipient);

    // Never overwritten.
    let before = fs::read(&path).unwrap();
    env.cmd()
        .args(["keygen", "-o"])
        .arg(&path)
        .assert()
        .failure()
        .stderr(contains("already exists"));
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn protected_key_needs_the_right_passphrase() {
    let env = Env::pinned();
    let path = env.path("protected.txt");
    env.cmd()
        .args(["keygen", "--passphrase", "-o"])
        .arg(&path)
        .env("MELDPUNT_PASSPHRASE", "correct horse battery")
        .assert()
        .success();
    assert!(fs::read_to_string(&path)
        .unwrap()
        .starts_with("-----BEGIN AGE ENCRYPTED FILE"));
    // Without a terminal and without the variable: no passphrase to be had.
    env.cmd()
        .args(["keygen", "--passphrase", "-o"])
        .arg(env.path("other.txt"))
        .assert()
        .failure()
        .stderr(contains("MELDPUNT_PASSPHRASE"));
    assert!(!env.path("other.txt").exists());

    env.case("MP-AAAAAAAAAA", &env.bureau, None, &[]);
    let open = |pass: Option<&str>| {
        let mut cmd = env.cmd();
        cmd.args(["open", "MP-AAAAAAAAAA", "-i"])
            .arg(&path)
            .arg(&env.bundle)
            .arg("-o")
            .arg(&env.out);
        if let Some(p) = pass {
            cmd.env("MELDPUNT_PASSPHRASE", p);
        }
        cmd.assert()
    };
    open(Some("wrong"))
        .failure()
        .stderr(contains("wrong passphrase"));
    open(None)
        .failure()
        .stderr(contains("protected by a passphrase"));
    // The right passphrase opens the key, which is not a recipient of this case.
    open(Some("correct horse battery"))
        .failure()
        .stderr(contains("was not encrypted to the recipient of"));
}

#[test]
fn pin_records_recipients_and_refuses_bad_ones() {
    let env = Env::new();
    let mut cmd = env.cmd();
    cmd.arg("pin").arg(&env.bundle).arg("bureau");
    for r in env.bureau.recipients() {
        cmd.arg(r.as_str());
    }
    cmd.assert()
        .success()
        .stdout(contains(env.bureau.fingerprint()));
    let pins: serde_json::Value =
        serde_json::from_slice(&fs::read(env.bundle.join("pins.json")).unwrap()).unwrap();
    assert_eq!(
        pins["destinations"]["bureau"]["fingerprint"],
        env.bureau.fingerprint()
    );

    // From a file, replacing: the change is shown.
    let extra = InvestigatorKey::generate().recipient();
    let file = env.path("recipients.txt");
    fs::write(
        &file,
        format!("# the bureau\n{}\n{}\n", env.key.recipient(), extra),
    )
    .unwrap();
    env.cmd()
        .arg("pin")
        .arg(&env.bundle)
        .arg("bureau")
        .arg("--file")
        .arg(&file)
        .assert()
        .success()
        .stdout(contains(format!("added:   {extra}")))
        .stdout(contains(format!("removed: {}", env.colleague.recipient())));

    env.cmd()
        .arg("pin")
        .arg(&env.bundle)
        .args(["bureau", "age1notakey"])
        .assert()
        .failure()
        .stderr(contains("age1notakey"));
    env.cmd()
        .arg("pin")
        .arg(&env.bundle)
        .arg("bureau")
        .assert()
        .failure()
        .stderr(contains("no recipients given"));
}

#[test]
fn cases_shows_deadlines_with_overdue_first() {
    let env = Env::pinned();
    // Received on DAY (2026-11-02): acknowledge by 2026-11-09.
    env.case("MP-01D01D01D1", &env.bureau, None, &[]);
    let mut fresh = env.case("MP-NEWNEWNEW1", &env.bureau, None, &[]);
    fresh.received = day("2026-11-20");
    fresh.write_meta();
    let mut closed = env.case("MP-C10SED0001", &env.bureau, None, &[]);
    closed.status = meldpunt_crypto::CaseStatus::Closed;
    closed.write_meta();

    let out = env
        .cmd()
        .arg("cases")
        .arg(&env.bundle)
        .args(["--on", "2026-11-23"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let row = |id: &str| lines.iter().position(|l| l.contains(id)).unwrap();
    assert!(row("MP-01D01D01D1") < row("MP-NEWNEWNEW1"), "{stdout}");
    assert!(row("MP-NEWNEWNEW1") < row("MP-C10SED0001"), "{stdout}");
    let old_line = lines[row("MP-01D01D01D1")];
    assert!(old_line.starts_with('!'), "{old_line}");
    assert!(
        old_line.contains("OVERDUE 14 day(s) (2026-11-09)"),
        "{old_line}"
    );
    assert!(
        old_line.contains("2027-02-09"),
        "feedback 3 months after day 7: {old_line}"
    );
    let new_line = lines[row("MP-NEWNEWNEW1")];
    assert!(!new_line.starts_with('!'));
    assert!(
        new_line.contains("4 day(s) left (2026-11-27)"),
        "{new_line}"
    );
    assert!(stdout.contains("1 case(s) OVERDUE"));

    // Acknowledging here moves the feedback deadline to 3 months after that day.
    env.cmd()
        .args(["status", "MP-01D01D01D1", "acknowledged"])
        .arg(&env.bundle)
        .assert()
        .success();
    let out = env
        .cmd()
        .arg("cases")
        .arg(&env.bundle)
        .args(["--on", "2026-11-23"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.contains("MP-01D01D01D1"))
        .unwrap();
    assert!(line.contains("acknowledged (queued)"), "{line}");
    assert!(line.contains("done"), "{line}");
    let today = meldpunt_crypto::Day::today();
    assert!(line.contains(&today.add_months(3).to_string()), "{line}");

    // Retention: past it, the table says to shred.
    env.cmd()
        .arg("cases")
        .arg(&env.bundle)
        .args(["--on", "2028-12-01"])
        .assert()
        .success()
        .stdout(contains("ENDED 2028-11-02: shred"));

    env.cmd()
        .arg("cases")
        .arg(env.path("nope"))
        .assert()
        .failure()
        .stderr(contains("is not a bundle folder"));
    env.cmd()
        .arg("cases")
        .arg(&env.bundle)
        .args(["--on", "23-11-2026"])
        .assert()
        .code(2);
}

#[test]
fn open_decrypts_report_attachments_and_thread_keeping_contact_apart() {
    let env = Env::pinned();
    let pdf: &[u8] = b"%PDF-1.4 screenshot of the log";
    let big = vec![7u8; 300_000];
    let mut case = env.case(
        "MP-7KQ2M9XD4A",
        &env.bureau,
        Some(CONTACT),
        &[("log.pdf", pdf), ("../../../etc/evil.txt", &big)],
    );
    case.bureau_says("Dank voor uw melding. Wanneer precies?");
    case.reporter_says("Op 14 oktober, rond de middag.", &env.key);

    env.cmd()
        .args(["open", "mp-7kq2m9xd4a", "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .arg("-o")
        .arg(&env.out)
        .assert()
        .success()
        .stdout(contains("2 of 2 verified"))
        .stdout(contains("2 of 2 message(s) verified"))
        .stdout(contains("IDENTIFYING"));

    let dir = env.out.join("MP-7KQ2M9XD4A");
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains(DESCRIPTION));
    assert!(md.contains(&env.bureau.fingerprint()));
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["description"], DESCRIPTION);
    assert_eq!(json["recipients_match_pins"], true);
    // Contact details only in their own file.
    for f in ["report.md", "report.json", "thread.md", "thread.json"] {
        assert!(
            !fs::read_to_string(dir.join(f))
                .unwrap()
                .contains("06-12345678"),
            "{f}"
        );
    }
    let contact = fs::read_to_string(dir.join("IDENTIFYING-contact-details.txt")).unwrap();
    assert!(contact.starts_with("IDENTIFYING INFORMATION"));
    assert!(contact.contains(CONTACT));
    // Attachments: exact content, the hostile name made safe inside the folder.
    assert_eq!(fs::read(dir.join("attachments/log.pdf")).unwrap(), pdf);
    assert_eq!(fs::read(dir.join("attachments/evil.txt")).unwrap(), big);
    assert!(!env.dir.path().join("etc").exists());
    let names: Vec<_> = fs::read_dir(dir.join("attachments"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // The thread, verified and in order.
    let thread = fs::read_to_string(dir.join("thread.md")).unwrap();
    let q = thread.find("Wanneer precies?").unwrap();
    let a = thread.find("Op 14 oktober").unwrap();
    assert!(q < a);
    assert_eq!(thread.matches("— verified").count(), 2);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(dir.join("report.md"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    // Opening again needs --replace.
    let again = || {
        let mut c = env.cmd();
        c.args(["open", "MP-7KQ2M9XD4A", "-i"])
            .arg(&env.key_file)
            .arg(&env.bundle)
            .arg("-o")
            .arg(&env.out);
        c
    };
    again().assert().failure().stderr(contains("--replace"));
    again().arg("--replace").assert().success();
}

#[test]
fn bundle_files_open_with_the_age_command() {
    let env = Env::pinned();
    let case = env.case(
        "MP-AGEC110001",
        &env.bureau,
        None,
        &[("a.txt", b"hello age")],
    );
    let out = std::process::Command::new("/usr/bin/age")
        .arg("-d")
        .arg("-i")
        .arg(&env.key_file)
        .arg(case.dir.join("report.age"))
        .output()
        .expect("the age command is installed at /usr/bin/age");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"MELDPUNT"));
    let out = std::process::Command::new("/usr/bin/age")
        .arg("-d")
        .arg("-i")
        .arg(&env.key_file)
        .arg(case.dir.join("attachments/000.age"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.starts_with(b"hello age"));
}

#[test]
fn open_reports_wrong_key_unknown_case_and_damaged_report() {
    let env = Env::pinned();
    let case = env.case("MP-AAAAAAAAAA", &env.bureau, None, &[]);
    let stranger = env.path("stranger.txt");
    fs::write(
        &stranger,
        InvestigatorKey::generate()
            .to_key_file(day("2026-01-01"))
            .as_bytes(),
    )
    .unwrap();
    let open = |id: &str, key: &std::path::Path| {
        let mut c = env.cmd();
        c.args(["open", id, "-i"])
            .arg(key)
            .arg(&env.bundle)
            .arg("-o")
            .arg(&env.out);
        c.assert()
    };
    open("MP-AAAAAAAAAA", &stranger)
        .failure()
        .stderr(contains(
            "case MP-AAAAAAAAAA was not encrypted to the recipient of",
        ))
        .stderr(contains("stranger.txt"));
    open("MP-BBBBBBBBBB", &env.key_file)
        .failure()
        .stderr(contains(
            "the bundle holds no case MP-BBBBBBBBBB; it holds: MP-AAAAAAAAAA",
        ));
    open("../../etc", &env.key_file)
        .failure()
        .stderr(contains("is not a case number"));
    fs::write(env.path("notakey.txt"), "hello\n").unwrap();
    open("MP-AAAAAAAAAA", &env.path("notakey.txt"))
        .failure()
        .stderr(contains("is not a usable key file"));

    // Cut the report short.
    let report = fs::read(case.dir.join("report.age")).unwrap();
    fs::write(case.dir.join("report.age"), &report[..report.len() - 40]).unwrap();
    open("MP-AAAAAAAAAA", &env.key_file)
        .failure()
        .stderr(contains("report.age is damaged"));
    fs::write(case.dir.join("report.age"), b"not age at all").unwrap();
    open("MP-AAAAAAAAAA", &env.key_file)
        .failure()
        .stderr(contains("report.age is damaged"));
    assert!(!env.out.join("MP-AAAAAAAAAA").exists());
}

#[test]
fn reply_goes_to_the_reporter_and_pinned_recipients_and_extends_the_thread() {
    let env = Env::pinned();
    let mut case = env.case("MP-REP1Y00001", &env.bureau, None, &[]);
    case.reporter_says("Is er al nieuws?", &env.key);
    let msg = env.path("question.txt");
    fs::write(&msg, "Kunt u de datum noemen?\n").unwrap();
    env.cmd()
        .args(["reply", "MP-REP1Y00001", "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .arg("--message-file")
        .arg(&msg)
        .args(["--status", "acknowledged"])
        .assert()
        .success()
        .stdout(contains("outbox/MP-REP1Y00001/0002-to_reporter.age"));
    // A second reply, through the editor, extends the first.
    let editor = env.path("editor.sh");
    let seen = env.path("editor-env.txt");
    fs::write(
        &editor,
        format!(
            "#!/bin/sh\nenv > '{}'\necho 'En de plaats?' >> \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&editor, fs::Permissions::from_mode(0o700)).unwrap();
    env.cmd()
        .args(["reply", "MP-REP1Y00001", "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .env("EDITOR", &editor)
        .env("MELDPUNT_PASSPHRASE", "not for the editor")
        .assert()
        .success()
        .stdout(contains("0003-to_reporter.age"));
    // The editor runs without the key's passphrase in its environment.
    let editor_env = fs::read_to_string(&seen).unwrap();
    assert!(!editor_env.contains("MELDPUNT_PASSPHRASE"), "{editor_env}");
    assert!(!editor_env.contains("not for the editor"));

    // The reporter, with only the return code, reads and verifies both in order.
    let reporter = case.keys.identity();
    let secrets = case.secrets();
    let mut state = ThreadState::new(case.report_sha256);
    let mine = fs::read(case.dir.join("thread/0001-from_reporter.age")).unwrap();
    state.skip_own(&mine).unwrap();
    let outbox: serde_json::Value =
        serde_json::from_slice(&fs::read(env.bundle.join("outbox/outbox.json")).unwrap()).unwrap();
    let items = outbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{outbox}");
    assert_eq!(items[1]["kind"], "status");
    assert_eq!(items[1]["status"], "acknowledged");
    let mut texts = Vec::new();
    for item in items.iter().filter(|i| i["kind"] == "message") {
        assert_eq!(item["extends"], hex::encode(state.head()));
        let ct = fs::read(
            env.bundle
                .join("outbox")
                .join(item["file"].as_str().unwrap()),
        )
        .unwrap();
        let m = open_message(&ct, &[&reporter], &secrets).unwrap();
        state.accept(&ct, &m).unwrap();
        assert_eq!(m.direction, Direction::ToReporter);
        assert_eq!(m.reply_to, env.bureau.recipients());
        texts.push((m.text.clone(), m.status));
        // The colleague (pinned) can read it too.
        open_message(&ct, &[env.colleague.as_age()], &secrets).unwrap();
    }
    assert_eq!(texts[0].0, "Kunt u de datum noemen?");
    assert_eq!(texts[0].1, Some(meldpunt_crypto::CaseStatus::Acknowledged));
    assert_eq!(texts[1].0, "En de plaats?");
}

#[test]
fn reply_refuses_without_pins_text_or_trustworthy_thread() {
    let env = Env::new();
    let mut case = env.case("MP-REP1Y00002", &env.bureau, None, &[]);
    let msg = env.path("m.txt");
    fs::write(&msg, "Vraag").unwrap();
    let reply = |file: Option<&std::path::Path>| {
        let mut c = env.cmd();
        c.args(["reply", "MP-REP1Y00002", "-i"])
            .arg(&env.key_file)
            .arg(&env.bundle);
        if let Some(f) = file {
            c.arg("--message-file").arg(f);
        }
        c.assert()
    };
    reply(Some(&msg)).failure().stderr(contains(
        "no recipients are pinned for destination \"bureau\"",
    ));
    env.pin_bureau();
    reply(None).failure().stderr(contains("set EDITOR"));
    fs::write(env.path("empty.txt"), "  \n").unwrap();
    reply(Some(&env.path("empty.txt")))
        .failure()
        .stderr(contains("the message is empty"));
    reply(Some(&env.path("missing.txt")))
        .failure()
        .stderr(contains("missing.txt"));
    case.forged_reporter_message("Ik trek mijn melding in.");
    reply(Some(&msg))
        .failure()
        .stderr(contains("does not verify"));
    assert!(!env.bundle.join("outbox/outbox.json").exists());
}

#[test]
fn reply_never_encrypts_to_a_key_the_server_added() {
    let env = Env::pinned();
    let intruder = InvestigatorKey::generate();
    let mut tampered: Vec<_> = env.bureau.recipients().to_vec();
    tampered.push(intruder.recipient());
    let to = Destination::from_recipients("bureau", tampered).unwrap();
    let case = env.case("MP-1NTRVDER01", &to, None, &[]);
    let msg = env.path("m.txt");
    fs::write(&msg, "Vraag").unwrap();
    env.cmd()
        .args(["reply", "MP-1NTRVDER01", "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .arg("--message-file")
        .arg(&msg)
        .assert()
        .success()
        .stderr(contains("DIFFERENT SET OF KEYS"));
    let ct = fs::read(env.bundle.join("outbox/MP-1NTRVDER01/0001-to_reporter.age")).unwrap();
    assert!(open_message(&ct, &[intruder.as_age()], &case.secrets()).is_err());
    open_message(&ct, &[&case.keys.identity()], &case.secrets()).unwrap();
}

#[test]
fn status_is_queued_and_checked() {
    let env = Env::pinned();
    env.case("MP-STATVS0001", &env.bureau, None, &[]);
    env.cmd()
        .args(["status", "MP-STATVS0001", "closed"])
        .arg(&env.bundle)
        .assert()
        .success()
        .stdout(contains("from \"received\" to \"closed\""));
    let outbox = fs::read_to_string(env.bundle.join("outbox/outbox.json")).unwrap();
    assert!(
        outbox.contains("\"closed\"") && outbox.contains("\"queued\""),
        "{outbox}"
    );
    env.cmd()
        .args(["status", "MP-N0SVCHCASE", "closed"])
        .arg(&env.bundle)
        .assert()
        .failure()
        .stderr(contains("holds no case MP-N0SVCHCASE"));
    env.cmd()
        .args(["status", "MP-STATVS0001", "received"])
        .arg(&env.bundle)
        .assert()
        .code(2)
        .stderr(contains("possible values"));
}

#[test]
fn shred_removes_the_case_everywhere_and_keeps_it_away() {
    let env = Env::pinned();
    env.case(
        "MP-SHRED00001",
        &env.bureau,
        Some(CONTACT),
        &[("a.txt", b"secret")],
    );
    env.case("MP-KEEP000001", &env.bureau, None, &[]);
    env.cmd()
        .args(["open", "MP-SHRED00001", "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .arg("-o")
        .arg(&env.out)
        .assert()
        .success();
    env.cmd()
        .args(["status", "MP-SHRED00001", "closed"])
        .arg(&env.bundle)
        .assert()
        .success();
    // A queued, unsent status change stops it…
    env.cmd()
        .args(["shred", "MP-SHRED00001"])
        .arg(&env.bundle)
        .arg(&env.out)
        .assert()
        .failure()
        .stderr(contains("never sent"));
    assert!(env.out.join("MP-SHRED00001").exists());
    // …unless forced.
    env.cmd()
        .args(["shred", "MP-SHRED00001", "--force"])
        .arg(&env.bundle)
        .arg(&env.out)
        .assert()
        .success()
        .stdout(contains("decrypted file(s) overwritten and removed"));
    assert!(!env.out.join("MP-SHRED00001").exists());
    assert!(!env.bundle.join("cases/MP-SHRED00001").exists());
    assert!(env.bundle.join("cases/MP-KEEP000001").exists());
    let index = fs::read_to_string(env.bundle.join("bundle.json")).unwrap();
    assert!(index.contains("MP-SHRED00001"));
    env.cmd()
        .args(["shred", "MP-SHRED00001"])
        .arg(&env.bundle)
        .assert()
        .failure()
        .stderr(contains("holds no case"));
    env.cmd()
        .args(["shred", "../cases"])
        .arg(&env.bundle)
        .assert()
        .failure()
        .stderr(contains("not a case number"));
    assert!(predicate::path::exists().eval(&env.bundle.join("cases")));
}

/// The reporter's page recorded what it did about each document's hidden data; `open`
/// shows the record, lists the identifying metadata still in the files (kinds and
/// places, never values) and writes copies without it to `shareable/`.
#[test]
fn open_lists_hidden_data_still_in_documents_and_writes_shareable_copies() {
    use meldpunt_crypto::MetadataRecord;
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../metadata/tests/fixtures");
    let docx = fs::read(fixtures.join("memo.docx")).unwrap();
    let jpeg = fs::read(fixtures.join("photo.jpg")).unwrap();
    let audio: &[u8] = b"ID3\x03\x00\x00\x00\x00\x00\x00 a recording";
    assert!(String::from_utf8_lossy(&jpeg).contains("Jan Jansen"));
    let env = Env::pinned();
    let kept = MetadataRecord {
        removed: vec![],
        kept_original: true,
        checked: true,
    };
    let unchecked = MetadataRecord {
        removed: vec![],
        kept_original: false,
        checked: false,
    };
    common::Case::with_records(
        &env.bundle,
        "MP-7KQ2M9XD4A",
        &env.bureau,
        None,
        &[
            ("memo.docx", &docx),
            ("photo.jpg", &jpeg),
            ("call.mp3", audio),
        ],
        &[Some(kept), None, Some(unchecked)],
    );
    let out = env
        .cmd()
        .args(["open", "MP-7KQ2M9XD4A", "-i"])
        .arg(&env.key_file)
        .arg(&env.bundle)
        .arg("-o")
        .arg(&env.out)
        .assert()
        // Hidden data is not a verification problem: the exit code stays 0.
        .success()
        .stdout(contains("CHOSE TO SEND THE ORIGINAL"))
        .stdout(contains("STILL CARRIES identifying metadata: author"))
        .stdout(contains("GPS position"))
        .stdout(contains("no record"))
        .stdout(contains("could not check this kind of document"))
        .stdout(contains("shareable/memo.docx"))
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let dir = env.out.join("MP-7KQ2M9XD4A");
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("identifying metadata STILL IN THE FILE: author"),
        "{md}"
    );
    assert!(md.contains("`shareable/photo.jpg`"), "{md}");
    // Kinds and places only: the names the files carry are in neither.
    for text in [
        &md,
        &out,
        &fs::read_to_string(dir.join("report.json")).unwrap(),
    ] {
        for name in ["Jan Jansen", "Piet Pietersen"] {
            assert!(!text.contains(name), "{name} in {text}");
        }
    }
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        json["attachments"][0]["metadata_record"]["kept_original"],
        true
    );
    assert!(json["attachments"][1]["metadata_record"].is_null());
    assert_eq!(
        json["attachments"][2]["shareable_copy"],
        serde_json::Value::Null
    );
    // The originals are as sent; the copies carry no identifying metadata.
    assert_eq!(fs::read(dir.join("attachments/memo.docx")).unwrap(), docx);
    for name in ["memo.docx", "photo.jpg"] {
        let copy = fs::read(dir.join("shareable").join(name)).unwrap();
        assert!(
            meldpunt_metadata::inspect(name, &copy).findings.is_empty(),
            "{name}"
        );
    }
    assert!(!dir.join("shareable/call.mp3").exists());
}
