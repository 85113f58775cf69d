//! What a breached server or an insider might try, and how each attempt shows.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use meldpunt_crypto::envelope::forge;
use meldpunt_crypto::{
    ciphertext_hash, encrypt_attachment, open_message, open_report, seal_from_reporter,
    seal_report, seal_to_reporter, AttachmentEntry, Category, CiphertextDigest, Day, Destination,
    Direction, EncryptedBy, InvestigatorKey, Message, OpenError, ReportContent, ReporterKeys,
    ReturnCode, ThreadError, ThreadKey, ThreadSecrets, ThreadState,
};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

struct Case {
    code: ReturnCode,
    keys: ReporterKeys,
    bureau_key: InvestigatorKey,
    bureau: Destination,
    report: Vec<u8>,
    /// report, then: to_reporter #1, from_reporter #1, to_reporter #2, from_reporter #2.
    thread: Vec<Vec<u8>>,
}

fn day() -> Day {
    Day::parse("2026-11-23").unwrap()
}

fn content(attachments: Vec<AttachmentEntry>) -> ReportContent {
    ReportContent {
        category: Category::Fraud,
        concerning: "A. de Vries, team lead".into(),
        description: "Approved applications that did not meet the rules.".into(),
        when_where: "Spring, Rijswijk".into(),
        contact: None,
        attachments,
        date: day(),
        encrypted_by: EncryptedBy::Browser,
    }
}

fn case() -> Case {
    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    let bureau_key = InvestigatorKey::generate();
    let bureau = Destination::from_recipients("bureau", vec![bureau_key.recipient()]).unwrap();
    let report = seal_report(&content(vec![]), &keys, &bureau).unwrap();
    let secrets = ThreadSecrets::from_reporter_keys(&keys);
    let mut state = ThreadState::new(ciphertext_hash(&report));
    let mut thread = Vec::new();
    for (i, direction) in [
        Direction::ToReporter,
        Direction::FromReporter,
        Direction::ToReporter,
        Direction::FromReporter,
    ]
    .into_iter()
    .enumerate()
    {
        let draft = state.draft(direction, day(), Zeroizing::new(format!("message {i}")));
        let ct = match direction {
            Direction::ToReporter => seal_to_reporter(&draft, &secrets, bureau.recipients()),
            Direction::FromReporter => {
                seal_from_reporter(&draft, &keys, &code, bureau.recipients())
            }
        }
        .unwrap();
        let m = open_message(&ct, &[bureau_key.as_age()], &secrets).unwrap();
        state.accept(&ct, &m).unwrap();
        thread.push(ct);
    }
    Case {
        code,
        keys,
        bureau_key,
        bureau,
        report,
        thread,
    }
}

/// The bureau's check of a thread as the server hands it over.
fn bureau_verifies(case: &Case, thread: &[Vec<u8>]) -> Result<(), String> {
    let report =
        open_report(&case.report, &[case.bureau_key.as_age()]).map_err(|e| e.to_string())?;
    let mut state = ThreadState::new(report.ciphertext_sha256);
    for ct in thread {
        let m: Message = open_message(ct, &[case.bureau_key.as_age()], &report.thread)
            .map_err(|e| e.to_string())?;
        state.accept(ct, &m).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[test]
fn the_untouched_thread_verifies() {
    let c = case();
    bureau_verifies(&c, &c.thread).unwrap();
}

#[test]
fn a_dropped_message_is_detected() {
    let c = case();
    let mut t = c.thread.clone();
    t.remove(1);
    let err = bureau_verifies(&c, &t).unwrap_err();
    assert!(err.contains("a message was removed"), "{err}");
}

#[test]
fn a_reordered_thread_is_detected() {
    let c = case();
    let mut t = c.thread.clone();
    t.swap(0, 2);
    let err = bureau_verifies(&c, &t).unwrap_err();
    assert!(
        err.contains("removed") || err.contains("reordered"),
        "{err}"
    );
}

#[test]
fn a_replayed_message_is_detected() {
    let c = case();
    let mut t = c.thread.clone();
    t.insert(2, t[0].clone());
    let err = bureau_verifies(&c, &t).unwrap_err();
    assert!(err.contains("replay"), "{err}");
    // Someone with the thread key who numbers a message wrongly is caught too.
    let secrets = ThreadSecrets::from_reporter_keys(&c.keys);
    let mut state = ThreadState::new(ciphertext_hash(&c.report));
    let first = open_message(&c.thread[0], &[c.bureau_key.as_age()], &secrets).unwrap();
    state.accept(&c.thread[0], &first).unwrap();
    let mut draft = state.draft(Direction::ToReporter, day(), Zeroizing::new("again".into()));
    draft.seq = 1;
    let renumbered = seal_to_reporter(&draft, &secrets, c.bureau.recipients()).unwrap();
    let m = open_message(&renumbered, &[c.bureau_key.as_age()], &secrets).unwrap();
    assert_eq!(
        state.accept(&renumbered, &m),
        Err(ThreadError::BadNumbering {
            expected: 2,
            found: 1
        })
    );
}

#[test]
fn a_reflected_message_is_detected() {
    let c = case();
    // The server hands the reporter's own message back to the reporter as the
    // bureau's answer: the reporter cannot even decrypt it.
    let secrets = ThreadSecrets::from_reporter_keys(&c.keys);
    assert!(matches!(
        open_message(&c.thread[1], &[&c.keys.identity()], &secrets),
        Err(OpenError::Decrypt(_))
    ));
    // The server re-posts the bureau's first message as if the reporter sent it next.
    let mut t = c.thread[..2].to_vec();
    t.push(c.thread[0].clone());
    let err = bureau_verifies(&c, &t).unwrap_err();
    assert!(err.contains("replay"), "{err}");
}

#[test]
fn an_altered_ciphertext_is_detected() {
    let c = case();
    let mut t = c.thread.clone();
    let n = t[2].len();
    t[2][n - 40] ^= 0x01;
    let err = bureau_verifies(&c, &t).unwrap_err();
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn a_breached_server_cannot_write_as_the_bureau() {
    // The server knows the reporter's recipient? No, but suppose it did, and the thread id:
    // without the thread key its message fails the MAC.
    let c = case();
    let mut fake = ThreadSecrets::from_reporter_keys(&c.keys);
    fake.thread_key = ThreadKey::from_bytes([1u8; 32]);
    let state = ThreadState::new(ciphertext_hash(&c.report));
    let draft = state.draft(
        Direction::ToReporter,
        day(),
        Zeroizing::new("Your case is closed, no further action.".into()),
    );
    let forged = seal_to_reporter(&draft, &fake, c.bureau.recipients()).unwrap();
    let real = ThreadSecrets::from_reporter_keys(&c.keys);
    assert!(matches!(
        open_message(&forged, &[&c.keys.identity()], &real),
        Err(OpenError::BadMac)
    ));
}

#[test]
fn nobody_else_can_sign_as_the_reporter() {
    let c = case();
    let secrets = ThreadSecrets::from_reporter_keys(&c.keys);
    let mut state = ThreadState::new(ciphertext_hash(&c.report));
    for ct in &c.thread {
        let m = open_message(ct, &[c.bureau_key.as_age()], &secrets).unwrap();
        state.accept(ct, &m).unwrap();
    }
    let draft = state.draft(
        Direction::FromReporter,
        day(),
        Zeroizing::new("I made it all up.".into()),
    );
    let insider = ReporterKeys::derive(ReturnCode::generate(&mut OsRng));
    let forged =
        forge::reporter_message_signed_by(&draft, &secrets, &insider, c.bureau.recipients());
    assert!(matches!(
        open_message(&forged, &[c.bureau_key.as_age()], &secrets),
        Err(OpenError::BadSignature)
    ));
    // And a report re-signed by someone else no longer matches the reporter's messages.
    let other = seal_report(&content(vec![]), &insider, &c.bureau).unwrap();
    let reopened = open_report(&other, &[c.bureau_key.as_age()]).unwrap();
    assert!(open_message(&c.thread[1], &[c.bureau_key.as_age()], &reopened.thread).is_err());
}

#[test]
fn a_swapped_attachment_is_detected() {
    let bureau_key = InvestigatorKey::generate();
    let bureau = Destination::from_recipients("bureau", vec![bureau_key.recipient()]).unwrap();
    let encrypt = |data: &[u8]| {
        let mut ct = Vec::new();
        let d = encrypt_attachment(bureau.recipients(), data, data.len() as u64, &mut ct).unwrap();
        (ct, d)
    };
    let (_real, real_digest) = encrypt(b"the real evidence");
    let (swapped, _) = encrypt(b"something else entirely");
    let entry = AttachmentEntry::new("evidence.pdf".into(), 17, &real_digest);
    let swapped_digest = CiphertextDigest {
        sha256: Sha256::digest(&swapped).into(),
        size: swapped.len() as u64,
    };
    assert!(entry.matches(&real_digest));
    assert!(!entry.matches(&swapped_digest));
}

#[test]
fn a_message_that_contains_the_code_is_refused() {
    let c = case();
    let state = ThreadState::new(ciphertext_hash(&c.report));
    let text = format!("my code is {}", c.code.to_grouped_string().as_str());
    let draft = state.draft(Direction::FromReporter, day(), Zeroizing::new(text));
    assert!(matches!(
        seal_from_reporter(&draft, &c.keys, &c.code, c.bureau.recipients()),
        Err(meldpunt_crypto::SealError::ContainsReturnCode)
    ));
}
