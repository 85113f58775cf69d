//! The envelope parsers (crypto/src/envelope.rs), reached only through the public API,
//! the way a report, a message or a note to self arrives:
//!
//! - mode 0: the input is the age file itself (the age parser, then whatever it yields);
//! - mode 1: the input is the plaintext, encrypted as a standard age file to a fixed
//!   reporter identity (the frame parser: magic, version, kind, lengths, padding);
//! - mode 2: the input is an envelope body, framed, padded and authenticated with keys
//!   the target knows (a valid signature or MAC), so the JSON and everything checked
//!   after the authenticator is reached too;
//! - mode 3: a report or message built from the input, sealed and opened again: what
//!   opens is what was sealed, or a refusal the protocol calls for.
//!
//! Every opener must refuse or succeed, never panic.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::derive::{ThreadId, ThreadKey};
use meldpunt_crypto::envelope::{FRAME_HEADER, MAC_DOMAIN, MAGIC, SIGNATURE_DOMAIN, VERSION};
use meldpunt_crypto::padding::padded_len;
use meldpunt_crypto::{
    agefile, open_message, open_report, open_reporter_note, seal_from_reporter, seal_report,
    seal_reporter_note, seal_to_reporter, AttachmentEntry, CaseStatus, Category, Day, Destination,
    Direction, EncryptedBy, MessageDraft, OpenError, Recipient, ReportContent, ReporterKeys,
    ReporterNote, ReturnCode, SealError, ThreadSecrets, ThreadState,
};
use sha2::Sha256;
use zeroize::Zeroizing;

/// A fixed return code (a valid one: its check symbols are right).
const CODE: &str = "0000-0000-0000-0000-0000-0000-0000";

struct Fixture {
    code: ReturnCode,
    keys: ReporterKeys,
    identity: meldpunt_crypto::age::x25519::Identity,
    recipient: Recipient,
    /// The reporter's own view of the thread (from the code).
    reporter_thread: ThreadSecrets,
    /// A thread whose keys the target knows, to authenticate fuzzed bodies.
    known_thread: ThreadSecrets,
    thread_key: [u8; 32],
    signer: SigningKey,
    destination: Destination,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let code = ReturnCode::parse(CODE).expect("the fixed code is valid");
        let keys = ReporterKeys::derive_from(&code);
        let identity = keys.identity();
        let recipient = keys.recipient();
        let signer = SigningKey::from_bytes(&[42u8; 32]);
        let thread_key = [7u8; 32];
        let known_thread = ThreadSecrets {
            thread_id: ThreadId([9u8; 16]),
            thread_key: ThreadKey::from_bytes(thread_key),
            reporter_recipient: recipient.clone(),
            reporter_verifying_key: signer.verifying_key(),
        };
        let destination =
            Destination::from_recipients("bureau", vec![recipient.clone()]).expect("one key");
        Fixture {
            reporter_thread: ThreadSecrets::from_reporter_keys(&keys),
            code,
            keys,
            identity,
            recipient,
            known_thread,
            thread_key,
            signer,
            destination,
        }
    })
}

fn seal(plaintext: &[u8]) -> Vec<u8> {
    agefile::encrypt(&[fixture().recipient.clone()], plaintext).expect("age encrypts")
}

/// Runs one of the openers on an age file, chosen by `which`.
fn open_with(which: u8, ciphertext: &[u8]) {
    let f = fixture();
    match which % 4 {
        0 => {
            if let Ok(report) = open_report(ciphertext, &[&f.identity]) {
                // Whatever opens is usable: its attachment hashes parse.
                for a in &report.content.attachments {
                    assert!(a.sha256().is_some());
                }
                let _ = report.content.mentions(&f.code);
            }
        }
        1 | 2 => {
            let thread = if which % 4 == 1 {
                &f.known_thread
            } else {
                &f.reporter_thread
            };
            if let Ok(message) = open_message(ciphertext, &[&f.identity], thread) {
                if message.direction == Direction::FromReporter {
                    assert!(message.status.is_none() && message.reply_to.is_empty());
                }
                // The thread's bookkeeping takes any verified message without panicking.
                let mut state = ThreadState::new(message.prev);
                let _ = state.accept(ciphertext, &message);
                let _ = state.draft(Direction::ToReporter, message.date, Zeroizing::default());
            }
        }
        _ => {
            if let Ok(note) = open_reporter_note(ciphertext, &f.keys) {
                assert!(note.report_sha256().is_ok());
                assert!(note.parsed_recipients().is_ok());
            }
        }
    }
}

/// Frames `body` like the crate does, with a valid authenticator for `kind` under the
/// known keys (kinds the protocol does not have get 96 bytes of zeros).
fn framed(kind: u8, body: &[u8], break_padding: bool) -> Vec<u8> {
    let f = fixture();
    let mut input = Vec::with_capacity(SIGNATURE_DOMAIN.len() + 1 + body.len());
    let sig = |input: &mut Vec<u8>| {
        input.clear();
        input.extend_from_slice(SIGNATURE_DOMAIN);
        input.push(kind);
        input.extend_from_slice(body);
        f.signer.sign(input).to_bytes().to_vec()
    };
    let mac = |input: &mut Vec<u8>| {
        input.clear();
        input.extend_from_slice(MAC_DOMAIN);
        input.push(kind);
        input.extend_from_slice(body);
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&f.thread_key).expect("any key");
        m.update(input);
        m.finalize().into_bytes().to_vec()
    };
    let auth = match kind {
        1 | 4 => sig(&mut input),
        2 => mac(&mut input),
        3 => {
            let mut a = mac(&mut input);
            a.extend(sig(&mut input));
            a
        }
        _ => vec![0u8; 96],
    };
    let len = FRAME_HEADER + body.len() + auth.len();
    let mut out = Vec::with_capacity(padded_len(len as u64) as usize + 1);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(kind);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&auth);
    out.resize(padded_len(len as u64) as usize, 0);
    if break_padding {
        out.push(0);
    }
    out
}

/// A report body whose reporter key is the known signer's, so its signature verifies.
fn with_known_signer(body: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    if let Some(reporter) = value.get_mut("reporter").and_then(|r| r.as_object_mut()) {
        reporter.insert(
            "verifying_key".into(),
            hex::encode(fixture().signer.verifying_key().as_bytes()).into(),
        );
    }
    serde_json::to_vec(&value).expect("a JSON value serializes")
}

#[derive(Arbitrary)]
enum Sealed {
    Report {
        concerning: String,
        description: String,
        contact: Option<String>,
        attachments: Vec<(String, u64, u64, String)>,
        day: u16,
    },
    Message {
        from_reporter: bool,
        seq: u64,
        ack: u64,
        prev: [u8; 32],
        day: u16,
        text: String,
        status: Option<u8>,
        reply_to_self: bool,
    },
    Note {
        destination: String,
        recipients: Vec<String>,
        report_sha256: String,
        day: u16,
    },
}

fn day(n: u16) -> Day {
    Day::parse("2026-01-01")
        .expect("a day")
        .add_days(i64::from(n) - 30_000)
}

fn roundtrip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let f = fixture();
    match Sealed::arbitrary(u)? {
        Sealed::Report {
            concerning,
            description,
            contact,
            attachments,
            day: d,
        } => {
            let content = ReportContent {
                category: Category::Fraud,
                concerning,
                description,
                when_where: String::new(),
                contact,
                attachments: attachments
                    .into_iter()
                    .map(
                        |(name, size, ciphertext_size, ciphertext_sha256)| AttachmentEntry {
                            name,
                            size,
                            ciphertext_size,
                            ciphertext_sha256,
                            metadata: None,
                        },
                    )
                    .collect(),
                date: day(d),
                encrypted_by: EncryptedBy::Browser,
            };
            let Ok(ct) = seal_report(&content, &f.keys, &f.destination) else {
                return Ok(());
            };
            let bad_hash = content.attachments.iter().any(|a| a.sha256().is_none());
            match open_report(&ct, &[&f.identity]) {
                Ok(report) => {
                    assert!(!bad_hash, "a report with a bad attachment hash opened");
                    assert!(report.content.description == content.description);
                    assert!(report.content.concerning == content.concerning);
                    assert!(report.content.contact == content.contact);
                    assert!(report.content.attachments == content.attachments);
                    assert_eq!(report.content.date, content.date);
                    assert_eq!(report.destination, "bureau");
                    assert_eq!(report.thread.thread_id.0, f.keys.thread_id().0);
                }
                Err(OpenError::Malformed(_)) if bad_hash => {}
                Err(e) => panic!("a sealed report does not open: {e}"),
            }
        }
        Sealed::Message {
            from_reporter,
            seq,
            ack,
            prev,
            day: d,
            text,
            status,
            reply_to_self,
        } => {
            let status = status.map(|s| match s % 4 {
                0 => CaseStatus::Received,
                1 => CaseStatus::Acknowledged,
                2 => CaseStatus::Investigating,
                _ => CaseStatus::Closed,
            });
            let draft = MessageDraft {
                seq,
                ack,
                prev,
                date: day(d),
                text: Zeroizing::new(text),
                status,
                reply_to: if reply_to_self {
                    vec![f.recipient.clone()]
                } else {
                    vec![]
                },
            };
            let bureau = [f.recipient.clone()];
            let sealed = if from_reporter {
                seal_from_reporter(&draft, &f.keys, &f.code, &bureau)
            } else {
                seal_to_reporter(&draft, &f.reporter_thread, &bureau)
            };
            let ct = match sealed {
                Ok(ct) => ct,
                Err(SealError::ContainsReturnCode) => {
                    assert!(from_reporter && f.code.appears_in(&draft.text));
                    return Ok(());
                }
                Err(_) => return Ok(()),
            };
            let bureau_fields = status.is_some() || reply_to_self;
            match open_message(&ct, &[&f.identity], &f.reporter_thread) {
                Ok(m) => {
                    assert!(!(from_reporter && bureau_fields));
                    assert_eq!(m.direction == Direction::FromReporter, from_reporter);
                    assert_eq!((m.seq, m.ack, m.prev), (seq, ack, prev));
                    assert_eq!(m.date, draft.date);
                    assert!(m.text == *draft.text);
                    assert_eq!(m.status, status);
                    assert!(m.reply_to == draft.reply_to);
                }
                Err(OpenError::Malformed(_)) if from_reporter && bureau_fields => {}
                Err(e) => panic!("a sealed message does not open: {e}"),
            }
            // Under another thread's keys it never opens.
            assert!(open_message(&ct, &[&f.identity], &f.known_thread).is_err());
        }
        Sealed::Note {
            destination,
            recipients,
            report_sha256,
            day: d,
        } => {
            let note = ReporterNote {
                destination,
                recipients,
                report_sha256,
                date: day(d),
            };
            let valid = note.parsed_recipients().is_ok() && note.report_sha256().is_ok();
            let Ok(ct) = seal_reporter_note(&note, &f.keys) else {
                return Ok(());
            };
            match open_reporter_note(&ct, &f.keys) {
                Ok(opened) => {
                    assert!(valid);
                    assert_eq!(opened.destination, note.destination);
                    assert_eq!(opened.recipients, note.recipients);
                }
                Err(OpenError::Malformed(_)) if !valid => {}
                Err(e) => panic!("a sealed note does not open: {e}"),
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            let Some((&which, ct)) = rest.split_first() else {
                return;
            };
            open_with(which, ct);
        }
        1 => {
            let Some((&which, plaintext)) = rest.split_first() else {
                return;
            };
            open_with(which, &seal(plaintext));
        }
        2 => {
            let [which, kind, flags, body @ ..] = rest else {
                return;
            };
            let body = if *kind == 1 {
                with_known_signer(body)
            } else {
                body.to_vec()
            };
            let plaintext = framed(*kind, &body, flags & 1 == 1);
            open_with(*which, &seal(&plaintext));
        }
        _ => {
            let _ = roundtrip(&mut Unstructured::new(rest));
        }
    }
});
