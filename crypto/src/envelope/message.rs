//! Messages of a case's thread (kinds 0x02 and 0x03, PROTOCOL.md §8.1 and §8.2): MAC'd
//! under the thread key, the reporter's also signed; their place in the thread is checked
//! by [`crate::thread::ThreadState`].

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{
    frame, mac, parse_hex, parse_recipients, sign, to_json, unframe, verify_mac, verify_signature,
    Kind, OpenError, SealError, MAC_LEN, SIG_LEN,
};
use crate::agefile;
use crate::day::Day;
use crate::derive::{ReporterKeys, ThreadId, ThreadKey};
use crate::recipients::Recipient;

/// What the two sides of a case share: everything needed to write and check messages.
///
/// The reporter gets it from the code ([`ThreadSecrets::from_reporter_keys`]); the bureau
/// from the decrypted report. Contains the thread key: not `Debug`.
#[derive(Clone)]
pub struct ThreadSecrets {
    /// The thread's id.
    pub thread_id: ThreadId,
    /// The key that MACs every message.
    pub thread_key: ThreadKey,
    /// The reporter's age recipient.
    pub reporter_recipient: Recipient,
    /// The reporter's signature key.
    pub reporter_verifying_key: VerifyingKey,
}

impl ThreadSecrets {
    /// The reporter's view, derived from the code.
    pub fn from_reporter_keys(keys: &ReporterKeys) -> Self {
        Self {
            thread_id: keys.thread_id(),
            thread_key: keys.thread_key().clone(),
            reporter_recipient: keys.recipient(),
            reporter_verifying_key: keys.verifying_key(),
        }
    }
}

/// The body of a message (PROTOCOL.md §8.1).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub(super) struct MessageBody {
    thread_id: String,
    seq: u64,
    ack: u64,
    prev: String,
    #[zeroize(skip)]
    date: Day,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[zeroize(skip)]
    status: Option<CaseStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    reply_to: Vec<String>,
    /// SHA-256 of the other side's message number `ack` (PROTOCOL.md §8.1); added after
    /// v1's first release, so a reader accepts its absence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ack_sha256: Option<String>,
}

/// A case's status, as the bureau reports it to the reporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Received, not yet acknowledged.
    Received,
    /// The bureau has acknowledged the report.
    Acknowledged,
    /// The bureau is investigating.
    Investigating,
    /// The case is closed.
    Closed,
}

impl CaseStatus {
    /// The name in messages, the API and stored records (`received`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::Acknowledged => "acknowledged",
            CaseStatus::Investigating => "investigating",
            CaseStatus::Closed => "closed",
        }
    }
}

/// Which way a message goes. Its name (`to_reporter`, `from_reporter`) is the one word
/// for a direction everywhere: in the API, in stored records and in file names. Where
/// the server says it, it is only a label; the envelope's kind byte tells the truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the bureau to the reporter.
    ToReporter,
    /// From the reporter to the bureau.
    FromReporter,
}

impl Direction {
    fn kind(self) -> Kind {
        match self {
            Direction::ToReporter => Kind::ToReporter,
            Direction::FromReporter => Kind::FromReporter,
        }
    }
}

/// A message before it is sealed. [`crate::thread::ThreadState::draft`] fills in the
/// sequence fields.
pub struct MessageDraft {
    /// Sequence number in this direction, starting at 1.
    pub seq: u64,
    /// The highest sequence number seen from the other side (0 for none).
    pub ack: u64,
    /// SHA-256 of the previous age file in the thread (the report's for the first).
    pub prev: [u8; 32],
    /// The day of writing.
    pub date: Day,
    /// The text. Zeroized when the draft is dropped.
    pub text: Zeroizing<String>,
    /// A status change announced with this message (bureau only).
    pub status: Option<CaseStatus>,
    /// The recipients the reporter should encrypt replies to (bureau only; empty means
    /// "the ones the report used").
    pub reply_to: Vec<Recipient>,
    /// SHA-256 of the other side's message number `ack`: which message, exactly, the
    /// author acknowledges (`None` when `ack` is 0).
    pub ack_sha256: Option<[u8; 32]>,
}

/// A decrypted and verified message. Holds the text: not `Debug`, zeroized on drop.
#[derive(Clone)]
pub struct Message {
    /// Which way it went.
    pub direction: Direction,
    /// Sequence number in its direction.
    pub seq: u64,
    /// Highest sequence number its author had seen from the other side.
    pub ack: u64,
    /// SHA-256 of the age file it follows.
    pub prev: [u8; 32],
    /// The day it was written.
    pub date: Day,
    /// The text.
    pub text: String,
    /// A status change it announces.
    pub status: Option<CaseStatus>,
    /// Where the reporter's replies should go (bureau messages only).
    pub reply_to: Vec<Recipient>,
    /// SHA-256 of the other side's message it acknowledges last, if the writer named it
    /// (writers since this field was added always do when `ack` > 0).
    pub ack_sha256: Option<[u8; 32]>,
}

impl Drop for Message {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

pub(super) fn message_body(draft: &MessageDraft, thread_id: ThreadId) -> MessageBody {
    MessageBody {
        thread_id: hex::encode(thread_id.0),
        seq: draft.seq,
        ack: draft.ack,
        prev: hex::encode(draft.prev),
        date: draft.date,
        text: draft.text.as_str().to_owned(),
        status: draft.status,
        reply_to: draft
            .reply_to
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        ack_sha256: draft.ack_sha256.map(hex::encode),
    }
}

/// Seals a message from the bureau: MAC under the thread key, encrypted to the reporter
/// and to `bureau` (the destination's pinned recipients, so the bureau reads its own
/// thread).
pub fn seal_to_reporter(
    draft: &MessageDraft,
    thread: &ThreadSecrets,
    bureau: &[Recipient],
) -> Result<Vec<u8>, SealError> {
    let json = to_json(&message_body(draft, thread.thread_id))?;
    let tag = mac(&thread.thread_key, Kind::ToReporter, &json);
    let plaintext = frame(Kind::ToReporter, &json, &tag);
    let mut to: Vec<Recipient> = vec![thread.reporter_recipient.clone()];
    to.extend(
        bureau
            .iter()
            .filter(|r| **r != thread.reporter_recipient)
            .cloned(),
    );
    Ok(agefile::encrypt(&to, &plaintext)?)
}

/// Seals a message from the reporter: MAC and signature, encrypted to `bureau` only
/// (the recipients the report used, or those the latest verified bureau message names).
///
/// # Warning
/// The reporter cannot decrypt it afterwards: see PROTOCOL.md §8.4 for why.
pub fn seal_from_reporter(
    draft: &MessageDraft,
    keys: &ReporterKeys,
    code: &crate::ReturnCode,
    bureau: &[Recipient],
) -> Result<Vec<u8>, SealError> {
    if code.appears_in(&draft.text) {
        return Err(SealError::ContainsReturnCode);
    }
    let json = to_json(&message_body(draft, keys.thread_id()))?;
    let mut auth = Zeroizing::new(Vec::with_capacity(MAC_LEN + SIG_LEN));
    auth.extend_from_slice(&mac(keys.thread_key(), Kind::FromReporter, &json));
    auth.extend_from_slice(&sign(keys, Kind::FromReporter, &json));
    let plaintext = frame(Kind::FromReporter, &json, &auth);
    Ok(agefile::encrypt(bureau, &plaintext)?)
}

/// Decrypts a message and verifies its MAC, its signature (for the reporter's) and that
/// it belongs to this thread. Its place in the thread is checked by
/// [`crate::thread::ThreadState`].
pub fn open_message(
    ciphertext: &[u8],
    identities: &[&dyn age::Identity],
    thread: &ThreadSecrets,
) -> Result<Message, OpenError> {
    let plaintext = agefile::decrypt(identities, ciphertext)?;
    open_message_plaintext(&plaintext, thread)
}

fn open_message_plaintext(plaintext: &[u8], thread: &ThreadSecrets) -> Result<Message, OpenError> {
    let frame = unframe(plaintext)?;
    let direction = match frame.kind {
        Kind::ToReporter => Direction::ToReporter,
        Kind::FromReporter => Direction::FromReporter,
        Kind::Report | Kind::ReporterNote => return Err(OpenError::WrongKind),
    };
    verify_mac(
        &thread.thread_key,
        frame.kind,
        frame.body,
        &frame.auth[..MAC_LEN],
    )?;
    if direction == Direction::FromReporter {
        verify_signature(
            &thread.reporter_verifying_key,
            frame.kind,
            frame.body,
            &frame.auth[MAC_LEN..],
        )?;
    }
    let body: MessageBody = serde_json::from_slice(frame.body)
        .map_err(|_| OpenError::Malformed("the message body is not valid message JSON"))?;
    if parse_hex::<16>(&body.thread_id, "bad thread id")? != thread.thread_id.0 {
        return Err(OpenError::WrongThread);
    }
    if direction == Direction::FromReporter && (!body.reply_to.is_empty() || body.status.is_some())
    {
        return Err(OpenError::Malformed(
            "a reporter's message cannot carry bureau fields",
        ));
    }
    let reply_to = parse_recipients(
        &body.reply_to,
        "a reply-to recipient is not an age recipient",
    )?;
    Ok(Message {
        direction,
        seq: body.seq,
        ack: body.ack,
        prev: parse_hex::<32>(&body.prev, "bad previous hash")?,
        date: body.date,
        text: body.text.clone(),
        status: body.status,
        reply_to,
        ack_sha256: body
            .ack_sha256
            .as_deref()
            .map(|h| parse_hex::<32>(h, "bad acknowledged hash"))
            .transpose()?,
    })
}

impl Direction {
    /// The name in the API, stored records and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToReporter => "to_reporter",
            Direction::FromReporter => "from_reporter",
        }
    }

    /// The direction with this name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "to_reporter" => Some(Direction::ToReporter),
            "from_reporter" => Some(Direction::FromReporter),
            _ => None,
        }
    }

    /// The envelope kind byte for this direction.
    pub fn kind_byte(self) -> u8 {
        self.kind() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insider_setup() -> (
        crate::ReturnCode,
        ReporterKeys,
        ThreadSecrets,
        age::x25519::Identity,
    ) {
        let code = crate::ReturnCode::generate(&mut rand::rngs::OsRng);
        let keys = ReporterKeys::derive_from(&code);
        let thread = ThreadSecrets::from_reporter_keys(&keys);
        (code, keys, thread, age::x25519::Identity::generate())
    }

    #[test]
    fn an_insider_with_the_thread_key_cannot_write_as_the_reporter() {
        // The insider decrypted the report, so knows the thread key and thread id, and
        // signs with a key of their own.
        let (_code, keys, thread, bureau) = insider_setup();
        let bureau_r = Recipient::from_age(bureau.to_public());
        let draft = crate::ThreadState::new([0; 32]).draft(
            Direction::FromReporter,
            Day::parse("2026-11-23").unwrap(),
            Zeroizing::new("I withdraw my report.".into()),
        );
        let json = to_json(&message_body(&draft, keys.thread_id())).unwrap();
        let other = ReporterKeys::derive(crate::ReturnCode::generate(&mut rand::rngs::OsRng));
        let mut auth = mac(&thread.thread_key, Kind::FromReporter, &json).to_vec();
        auth.extend_from_slice(&sign(&other, Kind::FromReporter, &json));
        let ct = agefile::encrypt(
            std::slice::from_ref(&bureau_r),
            &frame(Kind::FromReporter, &json, &auth),
        )
        .unwrap();
        assert!(matches!(
            open_message(&ct, &[&bureau], &thread),
            Err(OpenError::BadSignature)
        ));

        // Nor pass it off as a bureau message with the reporter's kind byte stripped of
        // its signature: the MAC covers the kind byte.
        let tag = mac(&thread.thread_key, Kind::FromReporter, &json);
        let ct = agefile::encrypt(&[bureau_r], &frame(Kind::ToReporter, &json, &tag)).unwrap();
        assert!(matches!(
            open_message(&ct, &[&bureau], &thread),
            Err(OpenError::BadMac)
        ));
    }
}
