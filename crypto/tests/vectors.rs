//! The committed test vectors (`tests/vectors/`, written once by `examples/make_vectors.rs`):
//! today's code must derive and read exactly what they hold, and reject every `fail_*`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;
use std::path::PathBuf;

use meldpunt_crypto::{
    check_header, decrypt_attachment, load_keys, open_message, open_report, CaseStatus,
    CiphertextDigest, CodeError, Destination, Direction, InvestigatorKey, OpenError, ReporterKeys,
    ReturnCode, ThreadSecrets, ThreadState,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read(name: &str) -> Vec<u8> {
    fs::read(dir().join(name)).unwrap_or_else(|e| panic!("vector {name}: {e}"))
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&read(name)).unwrap()
}

fn bureau_key() -> InvestigatorKey {
    load_keys(&read("bureau-key.txt"), || None)
        .unwrap()
        .remove(0)
}

#[test]
fn code_derives_the_recorded_values() {
    let v = json("code.json");
    let code = ReturnCode::parse(v["code"].as_str().unwrap()).unwrap();
    let keys = ReporterKeys::derive(code);
    assert_eq!(
        keys.credential().to_header_value().as_str(),
        v["mailbox_credential"]
    );
    assert_eq!(keys.credential().mailbox_id().to_hex(), v["mailbox_id"]);
    assert_eq!(keys.recipient().as_str(), v["reporter_recipient"]);
    assert_eq!(
        hex::encode(keys.verifying_key().as_bytes()),
        v["reporter_verifying_key"]
    );
    assert_eq!(hex::encode(keys.thread_id().0), v["thread_id"]);
}

#[test]
fn destination_fingerprint_is_stable() {
    let v = json("destination.json");
    let recipients: Vec<&str> = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let d = Destination::new(v["name"].as_str().unwrap(), &recipients).unwrap();
    assert_eq!(d.fingerprint(), v["fingerprint"]);
}

#[test]
fn report_attachment_and_thread_open_and_verify() {
    let key = bureau_key();
    let report_ct = read("report.age");
    let report = open_report(&report_ct, &[key.as_age()]).unwrap();
    assert_eq!(report.destination, "bureau");
    assert_eq!(report.recipients, vec![key.recipient()]);
    assert_eq!(
        report.content.contact.as_deref(),
        Some("reporter@example.org")
    );
    assert!(report.content.description.contains("neighbour"));

    // The attachment matches the manifest and decrypts to the recorded plaintext.
    let entry = &report.content.attachments[0];
    let att = read("attachment.age");
    let digest = CiphertextDigest {
        sha256: Sha256::digest(&att).into(),
        size: att.len() as u64,
    };
    assert!(entry.matches(&digest));
    let mut plain = Vec::new();
    decrypt_attachment(&[key.as_age()], &att[..], entry.size, &mut plain).unwrap();
    assert_eq!(plain, read("attachment.txt"));

    // The bureau checks the whole thread.
    let mut state = ThreadState::new(report.ciphertext_sha256);
    let mut texts = Vec::new();
    for name in [
        "message-1-to_reporter.age",
        "message-2-from_reporter.age",
        "message-3-to_reporter.age",
    ] {
        let ct = read(name);
        let m = open_message(&ct, &[key.as_age()], &report.thread).unwrap();
        state.accept(&ct, &m).unwrap();
        texts.push((m.direction, m.text.clone(), m.status));
    }
    assert_eq!(texts[0].2, Some(CaseStatus::Acknowledged));
    assert_eq!(texts[1].0, Direction::FromReporter);
    assert_eq!(texts[1].1, "Den Haag, second floor.");

    // The reporter, with only the code, reads the bureau's messages but not their own.
    let v = json("code.json");
    let keys = ReporterKeys::derive(ReturnCode::parse(v["code"].as_str().unwrap()).unwrap());
    let thread = ThreadSecrets::from_reporter_keys(&keys);
    let mut state = ThreadState::new(Sha256::digest(&report_ct).into());
    let m1 = read("message-1-to_reporter.age");
    let m = open_message(&m1, &[&keys.identity()], &thread).unwrap();
    state.accept(&m1, &m).unwrap();
    let m2 = read("message-2-from_reporter.age");
    assert!(matches!(
        open_message(&m2, &[&keys.identity()], &thread),
        Err(OpenError::Decrypt(_))
    ));
    state.skip_own(&m2).unwrap();
    assert_eq!(
        state.clone().skip_own(&m2),
        Err(meldpunt_crypto::ThreadError::Replayed)
    );
    let m3 = read("message-3-to_reporter.age");
    let m = open_message(&m3, &[&keys.identity()], &thread).unwrap();
    state.accept(&m3, &m).unwrap();
    assert_eq!(m.ack, 1);
    assert_eq!(state.acknowledged(Direction::FromReporter), 1);
}

#[test]
fn every_fail_vector_is_rejected() {
    let key = bureau_key();
    let report = open_report(&read("report.age"), &[key.as_age()]).unwrap();
    let mut seen = 0;
    for entry in fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.starts_with("fail_") {
            continue;
        }
        seen += 1;
        let bytes = read(&name);
        let rejected = if name.starts_with("fail_code_") {
            let err = ReturnCode::parse(std::str::from_utf8(&bytes).unwrap()).err();
            if name.contains("typo") || name.contains("swapped") {
                assert_eq!(err, Some(CodeError::Typo), "{name}");
            }
            err.is_some()
        } else if name.starts_with("fail_header_") {
            check_header(&bytes).is_err() && open_report(&bytes, &[key.as_age()]).is_err()
        } else if name.starts_with("fail_report_") {
            matches!(
                open_report(&bytes, &[key.as_age()]),
                Err(OpenError::BadSignature)
            )
        } else if name.starts_with("fail_message_") {
            let err = open_message(&bytes, &[key.as_age()], &report.thread).err();
            match name.as_str() {
                "fail_message_bad_mac.age" => matches!(err, Some(OpenError::BadMac)),
                "fail_message_bad_signature.age" => matches!(err, Some(OpenError::BadSignature)),
                "fail_message_wrong_thread.age" => matches!(err, Some(OpenError::WrongThread)),
                _ => err.is_some(),
            }
        } else if name.starts_with("fail_note_") {
            let v = json("code.json");
            let keys =
                ReporterKeys::derive(ReturnCode::parse(v["code"].as_str().unwrap()).unwrap());
            matches!(
                meldpunt_crypto::open_reporter_note(&bytes, &keys),
                Err(OpenError::BadSignature)
            )
        } else if name.starts_with("fail_attachment_") {
            let size = report.content.attachments[0].size;
            matches!(
                decrypt_attachment(&[key.as_age()], &bytes[..], size, &mut Vec::new()),
                Err(meldpunt_crypto::agefile::AttachmentError::WrongSize { .. })
            )
        } else if name.starts_with("fail_envelope_") {
            open_report(&bytes, &[key.as_age()]).is_err()
                && open_message(&bytes, &[key.as_age()], &report.thread).is_err()
        } else {
            panic!("unknown fail vector family: {name}");
        };
        assert!(rejected, "{name} was not rejected as it should be");
    }
    assert!(
        seen >= 14,
        "expected the committed fail_* vectors, found {seen}"
    );
}

#[test]
fn the_note_to_self_opens_with_the_code_only() {
    let v = json("code.json");
    let keys = ReporterKeys::derive(ReturnCode::parse(v["code"].as_str().unwrap()).unwrap());
    let note = meldpunt_crypto::open_reporter_note(&read("note.age"), &keys).unwrap();
    assert_eq!(note.destination, "bureau");
    assert_eq!(
        note.recipients,
        vec![bureau_key().recipient().as_str().to_owned()]
    );
    assert_eq!(
        note.report_sha256,
        hex::encode(Sha256::digest(read("report.age")))
    );
    // The bureau cannot read it.
    assert!(
        meldpunt_crypto::agefile::decrypt(&[bureau_key().as_age()], &read("note.age")).is_err()
    );
}

#[test]
fn the_protected_key_file_opens_with_its_passphrase() {
    let file = read("bureau-key-protected.age");
    let keys = load_keys(&file, || {
        Some(meldpunt_crypto::age::secrecy::SecretString::from(
            "meldpunt test vectors".to_owned(),
        ))
    })
    .unwrap();
    assert_eq!(keys[0].recipient(), bureau_key().recipient());
    assert_eq!(
        load_keys(&file, || Some(
            meldpunt_crypto::age::secrecy::SecretString::from("wrong".to_owned())
        ))
        .err(),
        Some(meldpunt_crypto::KeyFileError::WrongPassphrase)
    );
}
