//! Forgeries for tests and test vectors: what an insider who knows the thread key could
//! make. Compiled only with the `test-support` feature, never into a product.
#![allow(
    clippy::expect_used,
    reason = "test support: a panic is a failing test"
)]

use super::message::message_body;
use super::{frame, mac, sign, to_json, Kind};
use crate::agefile;
use crate::derive::ReporterKeys;
use crate::recipients::Recipient;
use crate::{MessageDraft, ThreadSecrets};

/// A "reporter" message MACed with the real thread key but signed by `signer`.
pub fn reporter_message_signed_by(
    draft: &MessageDraft,
    thread: &ThreadSecrets,
    signer: &ReporterKeys,
    recipients: &[Recipient],
) -> Vec<u8> {
    let json = to_json(&message_body(draft, thread.thread_id)).expect("encodes");
    let mut auth = mac(&thread.thread_key, Kind::FromReporter, &json).to_vec();
    auth.extend_from_slice(&sign(signer, Kind::FromReporter, &json));
    agefile::encrypt(recipients, &frame(Kind::FromReporter, &json, &auth)).expect("encrypts")
}

/// Any frame with any body and authenticator, encrypted to `recipients`.
pub fn raw_envelope(
    version: u8,
    kind: u8,
    body: &[u8],
    auth: &[u8],
    recipients: &[Recipient],
) -> Vec<u8> {
    let mut framed = frame(Kind::Report, body, auth).to_vec();
    framed[8] = version;
    framed[9] = kind;
    agefile::encrypt(recipients, &framed).expect("encrypts")
}
