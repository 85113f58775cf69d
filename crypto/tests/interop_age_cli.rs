//! Interoperability with the reference Go implementation (Debian package `age`).
//!
//! These run the real `age` binary. If it is missing they fail with instructions; they
//! never skip.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use meldpunt_crypto::{
    agefile, check_header, encrypt_attachment, load_keys, seal_report, seal_to_reporter, Category,
    Day, Destination, Direction, EncryptedBy, InvestigatorKey, ReportContent, ReporterKeys,
    ReturnCode, ThreadSecrets, ThreadState,
};
use rand::rngs::OsRng;
use zeroize::Zeroizing;

fn age(args: &[&str]) -> Output {
    let out = Command::new("age").args(args).output().unwrap_or_else(|e| {
        panic!("the age CLI is required for these tests (apt-get install age): {e}")
    });
    assert!(
        out.status.success(),
        "age {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn day() -> Day {
    Day::parse("2026-11-23").unwrap()
}

#[test]
fn what_the_crate_encrypts_opens_with_age() {
    let dir = tempfile::tempdir().unwrap();
    let key = InvestigatorKey::generate();
    let key_file = dir.path().join("key.txt");
    fs::write(&key_file, key.to_key_file(day()).as_bytes()).unwrap();
    let bureau = Destination::from_recipients("bureau", vec![key.recipient()]).unwrap();

    // A streamed attachment: age's output is the file plus the zero padding.
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let ct_path = dir.path().join("attachment.age");
    let mut ct = Vec::new();
    encrypt_attachment(bureau.recipients(), &data[..], data.len() as u64, &mut ct).unwrap();
    fs::write(&ct_path, &ct).unwrap();
    let out = age(&["-d", "-i", path(&key_file), path(&ct_path)]);
    assert_eq!(
        out.stdout.len() as u64,
        meldpunt_crypto::padding::padded_len(data.len() as u64)
    );
    assert_eq!(&out.stdout[..data.len()], &data[..]);
    assert!(out.stdout[data.len()..].iter().all(|&b| b == 0));

    // A report: age shows the framed envelope with the reporter's words in it.
    let keys = ReporterKeys::derive(ReturnCode::generate(&mut OsRng));
    let content = ReportContent {
        category: Category::InformationDisclosure,
        concerning: String::new(),
        description: "Gave an applicant's address to a journalist.".into(),
        when_where: String::new(),
        contact: None,
        attachments: vec![],
        date: day(),
        encrypted_by: EncryptedBy::Browser,
    };
    let report_path = dir.path().join("report.age");
    fs::write(&report_path, seal_report(&content, &keys, &bureau).unwrap()).unwrap();
    let out = age(&["-d", "-i", path(&key_file), path(&report_path)]);
    assert!(out.stdout.starts_with(b"MELDPUNT\x01\x01"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Gave an applicant's address to a journalist."));
}

#[test]
fn what_age_encrypts_opens_with_the_crate() {
    let dir = tempfile::tempdir().unwrap();
    let key = InvestigatorKey::generate();
    let plain = dir.path().join("plain.txt");
    fs::write(&plain, b"encrypted by the Go age CLI").unwrap();
    let ct_path = dir.path().join("ct.age");
    age(&[
        "-r",
        key.recipient().as_str(),
        "-o",
        path(&ct_path),
        path(&plain),
    ]);
    let ct = fs::read(&ct_path).unwrap();
    // The server's header check accepts it too.
    assert_eq!(check_header(&ct).unwrap().x25519_stanzas, 1);
    let out = agefile::decrypt(&[key.as_age()], &ct).unwrap();
    assert_eq!(&out[..], b"encrypted by the Go age CLI");
}

#[test]
fn an_identity_derived_from_a_return_code_works_with_age() {
    let dir = tempfile::tempdir().unwrap();
    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    // Write the reporter's identity as an age key file and let age decrypt the bureau's
    // message with it.
    let id_file = dir.path().join("reporter.txt");
    {
        use meldpunt_crypto::age::secrecy::ExposeSecret;
        let secret = keys.identity().to_string();
        fs::write(&id_file, format!("{}\n", secret.expose_secret())).unwrap();
    }
    let bureau_key = InvestigatorKey::generate();
    let thread = ThreadSecrets::from_reporter_keys(&keys);
    let draft = ThreadState::new([0; 32]).draft(
        Direction::ToReporter,
        day(),
        Zeroizing::new("Could you tell us the date?".into()),
    );
    let ct = seal_to_reporter(&draft, &thread, &[bureau_key.recipient()]).unwrap();
    let ct_path = dir.path().join("message.age");
    fs::write(&ct_path, ct).unwrap();
    let out = age(&["-d", "-i", path(&id_file), path(&ct_path)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Could you tell us the date?"));
    // age derives the same public key from it as the crate.
    let out = Command::new("age-keygen")
        .args(["-y", path(&id_file)])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        keys.recipient().as_str()
    );
}

#[test]
fn key_files_are_shared_with_age_keygen() {
    let dir = tempfile::tempdir().unwrap();
    // age-keygen's file loads in the crate...
    let go_key = dir.path().join("go.txt");
    let out = Command::new("age-keygen")
        .args(["-o", path(&go_key)])
        .output()
        .unwrap();
    assert!(out.status.success());
    let keys = load_keys(&fs::read(&go_key).unwrap(), || None).unwrap();
    let pubkey = Command::new("age-keygen")
        .args(["-y", path(&go_key)])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&pubkey.stdout).trim(),
        keys[0].recipient().as_str()
    );
    // ...and the crate's file works with age-keygen.
    let ours = dir.path().join("ours.txt");
    let key = InvestigatorKey::generate();
    meldpunt_crypto::identity::write_key_file(&ours, key.to_key_file(day()).as_bytes()).unwrap();
    let pubkey = Command::new("age-keygen")
        .args(["-y", path(&ours)])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&pubkey.stdout).trim(),
        key.recipient().as_str()
    );
}
