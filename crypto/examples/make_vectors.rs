//! Writes the committed test vectors in `crypto/tests/vectors/`.
//!
//! Run once, commit the output, and never again unless the protocol version changes:
//! the tests check that today's code still reads and derives exactly what these files
//! hold. `cargo run -p meldpunt-crypto --features test-support --example make_vectors`
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;
use std::path::Path;

use meldpunt_crypto::envelope::forge;
use meldpunt_crypto::{
    encrypt_attachment, seal_from_reporter, seal_report, seal_to_reporter, AttachmentEntry,
    CaseStatus, Category, Day, Destination, Direction, EncryptedBy, InvestigatorKey, ReportContent,
    ReporterKeys, ReturnCode, ThreadKey, ThreadSecrets, ThreadState,
};
use rand::rngs::OsRng;
use serde_json::json;
use zeroize::Zeroizing;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| fs::write(dir.join(name), bytes).unwrap();
    let day = Day::parse("2026-11-23").unwrap();

    // The bureau: a test-only key, committed on purpose.
    let bureau_key = InvestigatorKey::generate();
    write("bureau-key.txt", bureau_key.to_key_file(day).as_bytes());
    let bureau = Destination::from_recipients("bureau", vec![bureau_key.recipient()]).unwrap();
    write(
        "destination.json",
        serde_json::to_string_pretty(&json!({
            "name": bureau.name,
            "recipients": [bureau_key.recipient().as_str()],
            "fingerprint": bureau.fingerprint(),
        }))
        .unwrap()
        .as_bytes(),
    );

    // The reporter's code and everything derived from it.
    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    write(
        "code.json",
        serde_json::to_string_pretty(&json!({
            "code": code.to_grouped_string().as_str(),
            "mailbox_credential": keys.credential().to_header_value().as_str(),
            "mailbox_id": keys.credential().mailbox_id().to_hex(),
            "reporter_recipient": keys.recipient().as_str(),
            "reporter_verifying_key": hex::encode(keys.verifying_key().as_bytes()),
            "thread_id": hex::encode(keys.thread_id().0),
        }))
        .unwrap()
        .as_bytes(),
    );

    // One attachment, then the report that lists it.
    let attachment = b"Minutes of 12 October: J. Jansen opened file 2024-118 without a case.\n";
    let mut attachment_ct = Vec::new();
    let digest = encrypt_attachment(
        bureau.recipients(),
        &attachment[..],
        attachment.len() as u64,
        &mut attachment_ct,
    )
    .unwrap();
    write("attachment.age", &attachment_ct);
    write("attachment.txt", attachment);

    let content = ReportContent {
        category: Category::SystemLookup,
        concerning: "J. Jansen, case handler".into(),
        description: "Looked up a neighbour's immigration file without any need.".into(),
        when_where: "12 October, office Den Haag".into(),
        contact: Some("reporter@example.org".into()),
        attachments: vec![AttachmentEntry::new(
            "minutes.txt".into(),
            attachment.len() as u64,
            &digest,
        )],
        date: day,
        encrypted_by: EncryptedBy::Browser,
    };
    let report = seal_report(&content, &keys, &bureau).unwrap();
    write("report.age", &report);

    // The reporter's note to self, and a note forged with anything but the reporter's key.
    let note = meldpunt_crypto::ReporterNote::for_report(&bureau, &report, day);
    write(
        "note.age",
        &meldpunt_crypto::seal_reporter_note(&note, &keys).unwrap(),
    );
    write(
        "fail_note_bad_signature.age",
        &forge::raw_envelope(
            1,
            4,
            &serde_json::to_vec(&note).unwrap(),
            &[0x11u8; 64],
            &[keys.recipient()],
        ),
    );

    // The bureau key again, protected by the passphrase "meldpunt test vectors".
    write(
        "bureau-key-protected.age",
        &bureau_key
            .to_protected_key_file(
                day,
                meldpunt_crypto::age::secrecy::SecretString::from(
                    "meldpunt test vectors".to_owned(),
                ),
            )
            .unwrap(),
    );

    // A thread: question, answer, follow-up.
    let thread = ThreadSecrets::from_reporter_keys(&keys);
    let mut state = ThreadState::new(meldpunt_crypto::ciphertext_hash(&report));
    let mut q = state.draft(
        Direction::ToReporter,
        day,
        Zeroizing::new("Thank you. Which office?".into()),
    );
    q.status = Some(CaseStatus::Acknowledged);
    let m1 = seal_to_reporter(&q, &thread, bureau.recipients()).unwrap();
    let opened = meldpunt_crypto::open_message(&m1, &[&keys.identity()], &thread).unwrap();
    state.accept(&m1, &opened).unwrap();
    write("message-1-to_reporter.age", &m1);

    let a = state.draft(
        Direction::FromReporter,
        day,
        Zeroizing::new("Den Haag, second floor.".into()),
    );
    let m2 = seal_from_reporter(&a, &keys, &code, bureau.recipients()).unwrap();
    let opened = meldpunt_crypto::open_message(&m2, &[bureau_key.as_age()], &thread).unwrap();
    state.accept(&m2, &opened).unwrap();
    write("message-2-from_reporter.age", &m2);

    let f = state.draft(
        Direction::ToReporter,
        day,
        Zeroizing::new("Understood.".into()),
    );
    let m3 = seal_to_reporter(&f, &thread, bureau.recipients()).unwrap();
    write("message-3-to_reporter.age", &m3);

    // Files that must be rejected.
    let next = state.draft(Direction::ToReporter, day, Zeroizing::new("forged".into()));
    let mut wrong_key = thread.clone();
    wrong_key.thread_key = ThreadKey::from_bytes([7u8; 32]);
    write(
        "fail_message_bad_mac.age",
        &seal_to_reporter(&next, &wrong_key, bureau.recipients()).unwrap(),
    );

    let insider = ReporterKeys::derive(ReturnCode::generate(&mut OsRng));
    let claim = state.draft(
        Direction::FromReporter,
        day,
        Zeroizing::new("I withdraw everything.".into()),
    );
    write(
        "fail_message_bad_signature.age",
        &forge::reporter_message_signed_by(&claim, &thread, &insider, bureau.recipients()),
    );

    let mut other_thread = thread.clone();
    other_thread.thread_id = meldpunt_crypto::ThreadId([9u8; 16]);
    write(
        "fail_message_wrong_thread.age",
        &seal_to_reporter(&next, &other_thread, bureau.recipients()).unwrap(),
    );

    let other_vk_report = {
        // A valid report body signed with a key that is not the one inside it.
        let plain = meldpunt_crypto::agefile::decrypt(&[bureau_key.as_age()], &report).unwrap();
        let body_len = u32::from_be_bytes(plain[10..14].try_into().unwrap()) as usize;
        let body = &plain[14..14 + body_len];
        forge::raw_envelope(1, 1, body, &[0x42u8; 64], bureau.recipients())
    };
    write("fail_report_bad_signature.age", &other_vk_report);
    write(
        "fail_envelope_version_2.age",
        &forge::raw_envelope(2, 1, b"{}", &[0u8; 64], bureau.recipients()),
    );
    let mut bad_padding = meldpunt_crypto::agefile::decrypt(&[bureau_key.as_age()], &report)
        .unwrap()
        .to_vec();
    let last = bad_padding.len() - 1;
    bad_padding[last] = 1;
    write(
        "fail_envelope_bad_padding.age",
        &meldpunt_crypto::agefile::encrypt(bureau.recipients(), &bad_padding).unwrap(),
    );
    write("fail_envelope_truncated.age", &report[..report.len() - 100]);

    // The attachment with a non-zero byte in its padding.
    let mut padded = attachment.to_vec();
    padded.resize(
        meldpunt_crypto::padding::padded_len(attachment.len() as u64) as usize,
        0,
    );
    *padded.last_mut().unwrap() = 1;
    write(
        "fail_attachment_bad_padding.age",
        &meldpunt_crypto::agefile::encrypt(bureau.recipients(), &padded).unwrap(),
    );
    write(
        "fail_header_not_age.age",
        b"%PDF-1.7\n% a plaintext document, not age\n",
    );
    let mut scrypt_ct = Vec::new();
    let mut w = meldpunt_crypto::age::Encryptor::with_user_passphrase(
        meldpunt_crypto::age::secrecy::SecretString::from("hunter2".to_owned()),
    )
    .wrap_output(&mut scrypt_ct)
    .unwrap();
    std::io::Write::write_all(&mut w, b"plaintext").unwrap();
    w.finish().unwrap();
    write("fail_header_scrypt.age", &scrypt_ct);

    let shown = code.to_grouped_string();
    let mut typo: Vec<char> = shown.chars().collect();
    typo[5] = if typo[5] == 'A' { 'B' } else { 'A' };
    write(
        "fail_code_typo.txt",
        typo.iter().collect::<String>().as_bytes(),
    );
    let mut swapped: Vec<char> = shown.chars().collect();
    let i = (0..swapped.len() - 1)
        .find(|&i| swapped[i] != swapped[i + 1] && swapped[i] != '-' && swapped[i + 1] != '-')
        .unwrap();
    swapped.swap(i, i + 1);
    write(
        "fail_code_swapped.txt",
        swapped.iter().collect::<String>().as_bytes(),
    );
    write("fail_code_short.txt", &shown.as_bytes()[..shown.len() - 5]);
    println!("vectors written to {}", dir.display());
}
