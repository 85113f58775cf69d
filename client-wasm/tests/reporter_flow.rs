//! The browser module's operations, run natively: the reporter's whole flow through the
//! API, checked by the bureau's side of the crypto crate.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_client_wasm::api::State;
use meldpunt_crypto::{
    open_message, open_report, seal_to_reporter, Day, Direction, InvestigatorKey, ThreadState,
};
use serde_json::{json, Value};
use zeroize::Zeroizing;

fn session(meta: &Value) -> u32 {
    meta["session"].as_u64().unwrap() as u32
}

#[test]
fn report_attachment_thread_and_reply() {
    let mut api = State::default();
    let bureau = InvestigatorKey::generate();
    let recipients = json!([bureau.recipient().as_str()]);

    // A new code; the page shows it and keeps only the session number.
    let gen = api.code_generate();
    let code = gen.meta["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 34);
    let s = session(&gen.meta);

    // The code typed back from paper is compared inside the module, group by group.
    let same = api.code_compare(s, code.to_lowercase().as_bytes()).unwrap();
    assert_eq!(same.meta["groups"], json!([]));
    let mut wrong = code.clone().into_bytes();
    wrong[16] = if wrong[16] == b'7' { b'8' } else { b'7' };
    let differs = api.code_compare(s, &wrong).unwrap();
    assert_eq!(differs.meta["groups"], json!([4]));
    let short = api.code_compare(s, &code.as_bytes()[..20]).err().unwrap();
    assert_eq!(short.kind, "length");

    // An attachment in three slices.
    let data = vec![42u8; 150_000];
    let begin = api
        .attachment_begin(
            json!({"recipients": recipients, "size": data.len()})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let a = begin.meta["attachment"].as_u64().unwrap() as u32;
    let mut ct = Vec::new();
    for chunk in data.chunks(64 * 1024) {
        ct.extend(api.attachment_push(a, chunk).unwrap().bytes);
    }
    let fin = api.attachment_finish(a).unwrap();
    ct.extend(fin.bytes);
    assert_eq!(
        fin.meta["ciphertext_size"].as_u64().unwrap(),
        ct.len() as u64
    );

    // The report lists it.
    let req = json!({
        "destination": {"name": "bureau", "recipients": recipients},
        "content": {
            "category": "fraud",
            "concerning": "P. Bakker",
            "description": "Typed in the browser.",
            "when_where": "",
            "contact": "",
            "attachments": [{
                "name": "evidence.pdf",
                "size": data.len(),
                "ciphertext_size": fin.meta["ciphertext_size"],
                "ciphertext_sha256": fin.meta["ciphertext_sha256"],
            }],
            "date": "2026-11-23",
        }
    });
    let sealed = api.report_seal(s, req.to_string().as_bytes()).unwrap();
    let opened = open_report(&sealed.bytes, &[bureau.as_age()]).unwrap();
    assert_eq!(opened.content.description, "Typed in the browser.");
    assert_eq!(
        opened.content.contact, None,
        "an empty contact field is no contact"
    );
    assert_eq!(
        opened.content.attachments[0].ciphertext_size,
        ct.len() as u64
    );
    let note = sealed.meta["note"].as_str().unwrap().to_owned();
    // A report with the code in it is refused.
    let mut leaky = req.clone();
    leaky["content"]["when_where"] = json!(format!("my code: {code}"));
    assert_eq!(
        api.report_seal(s, leaky.to_string().as_bytes())
            .err()
            .unwrap()
            .kind,
        "contains_code"
    );
    api.session_close(s);

    // The bureau asks a question.
    let day = Day::parse("2026-11-24").unwrap();
    let state = ThreadState::new(opened.ciphertext_sha256);
    let q = state.draft(
        Direction::ToReporter,
        day,
        Zeroizing::new("Which month?".into()),
    );
    let question = seal_to_reporter(&q, &opened.thread, &[bureau.recipient()]).unwrap();

    // The reporter comes back with the code, typed sloppily.
    assert_eq!(api.session_open(b"AAAA-AAAA").err().unwrap().kind, "length");
    let sloppy = code.to_lowercase().replace('-', " ");
    let s = session(&api.session_open(sloppy.as_bytes()).unwrap().meta);
    let read = api
        .thread_read(
            s,
            json!({"note": note, "report_sha256": hex::encode(opened.ciphertext_sha256), "messages": [{"direction": "to_reporter", "ciphertext": B64.encode(&question)}]})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(read.meta["messages"][0]["verified"], true);
    assert_eq!(read.meta["messages"][0]["text"], "Which month?");

    // A reply that contains the code is refused; a normal one goes to the bureau.
    let leak = json!({"text": format!("code: {code}"), "date": "2026-11-25"});
    assert_eq!(
        api.reply_seal(s, leak.to_string().as_bytes())
            .err()
            .unwrap()
            .kind,
        "contains_code"
    );
    let reply = api
        .reply_seal(
            s,
            json!({"text": "In March.", "date": "2026-11-25"})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(
        reply.meta["extends"],
        hex::encode(meldpunt_crypto::ciphertext_hash(&question))
    );
    let mut bureau_state = ThreadState::new(opened.ciphertext_sha256);
    let m = open_message(&question, &[bureau.as_age()], &opened.thread).unwrap();
    bureau_state.accept(&question, &m).unwrap();
    let r = open_message(&reply.bytes, &[bureau.as_age()], &opened.thread).unwrap();
    bureau_state.accept(&reply.bytes, &r).unwrap();
    assert_eq!(r.text, "In March.");
    assert_eq!(r.ack, 1);

    // Reading again: the reply is recognised as the reporter's own, and a bureau message
    // that the server mislabels as the reporter's is still opened and verified.
    let msgs = json!([
        {"direction": "from_reporter", "ciphertext": B64.encode(&question)},
        {"direction": "from_reporter", "ciphertext": B64.encode(&reply.bytes)},
    ]);
    let read = api
        .thread_read(s, json!({"note": note, "report_sha256": hex::encode(opened.ciphertext_sha256), "messages": msgs}).to_string().as_bytes())
        .unwrap();
    assert_eq!(read.meta["messages"][0]["verified"], true);
    // Without the note (never stored), the question's verified reply_to is not there
    // (this bureau named none), so replying waits.
    let read_without = api
        .thread_read(s, json!({"note": null, "report_sha256": hex::encode(opened.ciphertext_sha256), "messages": msgs}).to_string().as_bytes())
        .unwrap();
    assert_eq!(read_without.meta["messages"][0]["verified"], true);
    assert_eq!(read_without.meta["can_reply"], false);
    let read = api
        .thread_read(s, json!({"note": note, "report_sha256": hex::encode(opened.ciphertext_sha256), "messages": msgs}).to_string().as_bytes())
        .unwrap();
    assert_eq!(read.meta["messages"][0]["verified"], true);
    assert_eq!(
        read.meta["messages"][1]["verified"],
        serde_json::Value::Null
    );
    assert_eq!(read.meta["sent_by_you"], 1);
}

#[test]
fn a_forged_bureau_message_is_shown_as_unverified() {
    let mut api = State::default();
    let bureau = InvestigatorKey::generate();
    let gen = api.code_generate();
    let s = session(&gen.meta);
    let req = json!({
        "destination": {"name": "bureau", "recipients": [bureau.recipient().as_str()]},
        "content": {"category": "other", "concerning": "", "description": "x", "when_where": "",
                    "contact": null, "attachments": [], "date": "2026-11-23"}
    });
    let sealed = api.report_seal(s, req.to_string().as_bytes()).unwrap();
    let opened = open_report(&sealed.bytes, &[bureau.as_age()]).unwrap();
    // A breached server writes to the reporter without the thread key.
    let mut fake = opened.thread.clone();
    fake.thread_key = meldpunt_crypto::ThreadKey::from_bytes([3u8; 32]);
    let state = ThreadState::new(opened.ciphertext_sha256);
    let draft = state.draft(
        Direction::ToReporter,
        Day::parse("2026-11-24").unwrap(),
        Zeroizing::new("Please send your name.".into()),
    );
    let forged = seal_to_reporter(&draft, &fake, &[]).unwrap();
    let read = api
        .thread_read(
            s,
            json!({"note": sealed.meta["note"], "report_sha256": sealed.meta["report_sha256"], "messages": [{"direction": "to_reporter", "ciphertext": B64.encode(&forged)}]})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(read.meta["messages"][0]["verified"], false);
    assert!(
        read.meta["messages"][0].get("text").is_none(),
        "a forged text is never shown"
    );
    assert_eq!(read.meta["can_reply"], false);
}

/// The page's fast path: one instance encrypts with the digest left out, a second (in a
/// Worker, on another core) hashes the ciphertext it is given; the digest is the
/// SHA-256 of the whole age file, as the manifest needs, and the file decrypts.
#[test]
fn attachment_hashed_beside() {
    use sha2::{Digest, Sha256};
    let mut encrypting = State::default();
    let mut hashing = State::default();
    let bureau = InvestigatorKey::generate();
    let recipients = json!([bureau.recipient().as_str()]);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let begin = encrypting
        .attachment_begin(
            json!({"recipients": recipients, "size": data.len(), "digest_beside": true})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let a = begin.meta["attachment"].as_u64().unwrap() as u32;
    let h = hashing.hash_begin().meta["hash"].as_u64().unwrap() as u32;
    let mut ct = Vec::new();
    let mut keep = |bytes: Vec<u8>, hashing: &mut State| {
        hashing.hash_push(h, &bytes).unwrap();
        ct.extend(bytes);
    };
    for chunk in data.chunks(64 * 1024) {
        keep(
            encrypting.attachment_push(a, chunk).unwrap().bytes,
            &mut hashing,
        );
    }
    loop {
        let pad = encrypting.attachment_pad(a).unwrap();
        keep(pad.bytes, &mut hashing);
        if pad.meta["done"] == json!(true) {
            break;
        }
    }
    let fin = encrypting.attachment_finish(a).unwrap();
    keep(fin.bytes, &mut hashing);
    assert!(fin.meta.get("ciphertext_sha256").is_none(), "{}", fin.meta);
    let digest = hashing.hash_finish(h).unwrap().meta;
    assert_eq!(fin.meta["ciphertext_size"], digest["ciphertext_size"]);
    assert_eq!(digest["ciphertext_size"].as_u64().unwrap(), ct.len() as u64);
    assert_eq!(
        digest["ciphertext_sha256"].as_str().unwrap(),
        hex::encode(Sha256::digest(&ct))
    );
    assert_eq!(
        hashing.hash_finish(h).err().unwrap().kind,
        "session",
        "a finished hash is gone"
    );
    let mut out = Vec::new();
    meldpunt_crypto::decrypt_attachment(&[bureau.as_age()], &ct[..], data.len() as u64, &mut out)
        .unwrap();
    assert_eq!(out, data);
}
