//! Report and message envelopes (PROTOCOL.md §5 and §8).
//!
//! An envelope is a binary frame around a JSON body, authenticated over the exact body
//! bytes, padded, and encrypted with age. Messages and notes are authenticated before
//! their JSON is parsed; a report is parsed first to find the reporter's key, then its
//! signature is checked over the exact bytes before anything in it is used.
//!
//! ```text
//! "MELDPUNT" | version 0x01 | kind | body length (u32 BE) | body (JSON) | auth | zeros
//! ```
//!
//! `kind` 0x01 is a report (auth = Ed25519 signature), 0x02 a message to the reporter
//! (auth = HMAC), 0x03 a message from the reporter (auth = HMAC ‖ signature).

use std::fmt;

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::agefile::{self, DecryptError, EncryptError};
use crate::day::Day;
use crate::derive::{ReporterKeys, ThreadId, ThreadKey};
use crate::padding::padded_len;
use crate::recipients::{Destination, Recipient};

/// First bytes of every envelope plaintext.
pub const MAGIC: &[u8; 8] = b"MELDPUNT";
/// The protocol version this crate writes and reads.
pub const VERSION: u8 = 1;
/// Bytes before the body: magic, version, kind, body length.
pub const FRAME_HEADER: usize = 14;
/// Domain of the HMAC input.
pub const MAC_DOMAIN: &[u8] = b"meldpunt v1 mac\0";
/// Domain of the signature input.
pub const SIGNATURE_DOMAIN: &[u8] = b"meldpunt v1 signature\0";

const MAC_LEN: usize = 32;
const SIG_LEN: usize = 64;

/// What an envelope is; the byte after the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// The report (signed by the reporter).
    Report = 1,
    /// A message from the bureau to the reporter (MAC).
    ToReporter = 2,
    /// A message from the reporter to the bureau (MAC and signature).
    FromReporter = 3,
    /// The reporter's note to self: where the report went (signature).
    ReporterNote = 4,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Kind::Report),
            2 => Some(Kind::ToReporter),
            3 => Some(Kind::FromReporter),
            4 => Some(Kind::ReporterNote),
            _ => None,
        }
    }

    fn auth_len(self) -> usize {
        match self {
            Kind::Report => SIG_LEN,
            Kind::ToReporter => MAC_LEN,
            Kind::ReporterNote => SIG_LEN,
            Kind::FromReporter => MAC_LEN + SIG_LEN,
        }
    }
}

/// What the report is about: the bureau's own list (seeds/000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Looked in systems without need or right.
    SystemLookup,
    /// Gave information to people not entitled to it.
    InformationDisclosure,
    /// Fraud.
    Fraud,
    /// Theft, waste or misuse of property.
    PropertyMisuse,
    /// Conflicting interests or side activities.
    ConflictOfInterest,
    /// Undesirable behaviour: aggression, violence, discrimination, (sexual)
    /// harassment, bullying, stalking.
    UndesirableBehaviour,
    /// Anything else.
    Other,
}

/// Whether the report was encrypted in the reporter's browser or, in the no-JavaScript
/// tier, by the server on arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncryptedBy {
    /// End to end: the browser encrypted it.
    Browser,
    /// The server saw the plaintext while it encrypted it (Tor Browser "Safest").
    Server,
}

/// One attachment in the report's manifest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct AttachmentEntry {
    /// The file name the reporter's file had (untrusted: make it safe before use).
    pub name: String,
    /// Plaintext size in bytes; the decrypted file is padded beyond it with zeros.
    pub size: u64,
    /// Size of the age file in bytes.
    pub ciphertext_size: u64,
    /// SHA-256 of the age file, lower-case hex.
    pub ciphertext_sha256: String,
}

/// What the reporter wrote. Sensitive: zeroized on drop, and not `Debug`.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    /// What the report is about.
    #[zeroize(skip)]
    pub category: Category,
    /// Name and function of the employee concerned (may be empty).
    pub concerning: String,
    /// A detailed description of what happened.
    pub description: String,
    /// Time and place of what happened (may be empty).
    pub when_where: String,
    /// Contact details. Giving them ends anonymity; kept apart so the report can be
    /// shared inside the bureau without them.
    pub contact: Option<String>,
    /// The attachments, uploaded before the report.
    pub attachments: Vec<AttachmentEntry>,
    /// The day the report was written.
    #[zeroize(skip)]
    pub date: Day,
    /// Where the plaintext was encrypted.
    #[zeroize(skip)]
    pub encrypted_by: EncryptedBy,
}

impl ReportContent {
    /// Whether the reporter typed the return code into any field. Sending it would give
    /// the bureau the power to read and write as the reporter, so pages refuse.
    pub fn mentions(&self, code: &crate::ReturnCode) -> bool {
        [&self.concerning, &self.description, &self.when_where]
            .into_iter()
            .chain(self.contact.as_ref())
            .chain(self.attachments.iter().map(|a| &a.name))
            .any(|field| code.appears_in(field))
    }
}

/// The JSON body of a report envelope (PROTOCOL.md §5.2).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    destination: String,
    recipients: Vec<String>,
    content: ReportContent,
    reporter: ReporterBlock,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct ReporterBlock {
    recipient: String,
    verifying_key: String,
    thread_id: String,
    thread_key: String,
}

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

/// A decrypted and verified report.
pub struct OpenedReport {
    /// The destination name the reporter chose.
    pub destination: String,
    /// The recipients the reporter's side says it encrypted to (compare with the
    /// pinned set: a difference means someone added a key).
    pub recipients: Vec<Recipient>,
    /// What the reporter wrote.
    pub content: ReportContent,
    /// What the bureau needs to answer and to check the thread.
    pub thread: ThreadSecrets,
    /// SHA-256 of the report's age file: the head of an empty thread.
    pub ciphertext_sha256: [u8; 32],
}

/// The body of a message (PROTOCOL.md §8.1).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct MessageBody {
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

/// Which way a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

impl Drop for Message {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

/// Why sealing an envelope failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SealError {
    /// The age layer failed.
    Encrypt(EncryptError),
    /// The reporter's message would reveal the return code to the bureau.
    ContainsReturnCode,
    /// The body could not be encoded.
    Encoding(String),
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::Encrypt(e) => e.fmt(f),
            SealError::ContainsReturnCode => f.write_str(
                "the message contains your return code; remove it (the bureau must never \
                 see the code)",
            ),
            SealError::Encoding(e) => write!(f, "the envelope could not be encoded: {e}"),
        }
    }
}

impl std::error::Error for SealError {}

impl From<EncryptError> for SealError {
    fn from(e: EncryptError) -> Self {
        SealError::Encrypt(e)
    }
}

/// Why opening an envelope failed. Each case means something different to the reader,
/// so each is kept apart.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The age layer failed (wrong key, damaged file, not an age file).
    Decrypt(DecryptError),
    /// It decrypted, but is not a Meldpunt envelope of a supported form.
    Malformed(&'static str),
    /// A newer protocol version than this software reads.
    UnsupportedVersion(u8),
    /// A report where a message was expected, or the reverse.
    WrongKind,
    /// The MAC does not verify: not written with this case's thread key.
    BadMac,
    /// The reporter's signature does not verify: not written by the reporter.
    BadSignature,
    /// The message belongs to another thread.
    WrongThread,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Decrypt(e) => e.fmt(f),
            OpenError::Malformed(what) => write!(f, "not a valid Meldpunt envelope: {what}"),
            OpenError::UnsupportedVersion(v) => write!(
                f,
                "this envelope uses protocol version {v}, which this software does not read; \
                 update it"
            ),
            OpenError::WrongKind => f.write_str("this envelope is not of the expected kind"),
            OpenError::BadMac => f.write_str(
                "this message is NOT authentic: its MAC does not match this case's thread key",
            ),
            OpenError::BadSignature => f.write_str(
                "this message is NOT authentic: it claims to come from the reporter but the \
                 reporter's signature does not verify",
            ),
            OpenError::WrongThread => f.write_str("this message belongs to another case's thread"),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<DecryptError> for OpenError {
    fn from(e: DecryptError) -> Self {
        OpenError::Decrypt(e)
    }
}

// --- framing ---------------------------------------------------------------------------

fn auth_input(domain: &[u8], kind: Kind, body: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(Vec::with_capacity(domain.len() + 1 + body.len()));
    v.extend_from_slice(domain);
    v.push(kind as u8);
    v.extend_from_slice(body);
    v
}

fn mac(key: &ThreadKey, kind: Kind, body: &[u8]) -> [u8; MAC_LEN] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).expect("HMAC takes any key size");
    m.update(&auth_input(MAC_DOMAIN, kind, body));
    m.finalize().into_bytes().into()
}

fn verify_mac(key: &ThreadKey, kind: Kind, body: &[u8], tag: &[u8]) -> Result<(), OpenError> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).expect("HMAC takes any key size");
    m.update(&auth_input(MAC_DOMAIN, kind, body));
    m.verify_slice(tag).map_err(|_| OpenError::BadMac)
}

fn sign(keys: &ReporterKeys, kind: Kind, body: &[u8]) -> [u8; SIG_LEN] {
    keys.signing_key()
        .sign(&auth_input(SIGNATURE_DOMAIN, kind, body))
        .to_bytes()
}

fn verify_signature(
    vk: &VerifyingKey,
    kind: Kind,
    body: &[u8],
    sig: &[u8],
) -> Result<(), OpenError> {
    let sig = Signature::from_slice(sig).map_err(|_| OpenError::BadSignature)?;
    // Strict: rejects small-order keys and non-canonical signatures.
    vk.verify_strict(&auth_input(SIGNATURE_DOMAIN, kind, body), &sig)
        .map_err(|_| OpenError::BadSignature)
}

/// Frames and pads a body with its authenticator. Bodies are small JSON; [`to_json`]
/// refuses anything near the 4 GiB the length field can hold.
fn frame(kind: Kind, body: &[u8], auth: &[u8]) -> Zeroizing<Vec<u8>> {
    let len = FRAME_HEADER + body.len() + auth.len();
    let padded = padded_len(len as u64) as usize;
    let mut out = Zeroizing::new(Vec::with_capacity(padded));
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(kind as u8);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(auth);
    out.resize(padded, 0);
    out
}

/// A parsed frame, borrowing from the plaintext.
struct Frame<'a> {
    kind: Kind,
    body: &'a [u8],
    auth: &'a [u8],
}

fn unframe(plaintext: &[u8]) -> Result<Frame<'_>, OpenError> {
    if plaintext.len() < FRAME_HEADER || &plaintext[..8] != MAGIC {
        return Err(OpenError::Malformed(
            "it does not start with the Meldpunt magic bytes",
        ));
    }
    if plaintext[8] != VERSION {
        return Err(OpenError::UnsupportedVersion(plaintext[8]));
    }
    let kind = Kind::from_byte(plaintext[9]).ok_or(OpenError::Malformed("unknown kind"))?;
    let body_len = u32::from_be_bytes(plaintext[10..14].try_into().expect("4 bytes")) as usize;
    let body_end = FRAME_HEADER
        .checked_add(body_len)
        .filter(|&e| e <= plaintext.len())
        .ok_or(OpenError::Malformed("the body length runs past the end"))?;
    let auth_end = body_end
        .checked_add(kind.auth_len())
        .filter(|&e| e <= plaintext.len())
        .ok_or(OpenError::Malformed("the authenticator is missing"))?;
    if plaintext[auth_end..].iter().any(|&b| b != 0) {
        return Err(OpenError::Malformed("the padding is not all zero bytes"));
    }
    if plaintext.len() as u64 != padded_len(auth_end as u64) {
        return Err(OpenError::Malformed("the padding has the wrong length"));
    }
    Ok(Frame {
        kind,
        body: &plaintext[FRAME_HEADER..body_end],
        auth: &plaintext[body_end..auth_end],
    })
}

/// The most a body may hold (the frame's length field is 32 bits; reports are text).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Counts what a serializer writes, so the real buffer is allocated once and no
/// reallocation leaves plaintext copies behind.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).map_err(|e| SealError::Encoding(e.to_string()))?;
    if counter.0 > MAX_BODY {
        return Err(SealError::Encoding(format!(
            "the text is too long ({} bytes; at most {MAX_BODY})",
            counter.0
        )));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(counter.0));
    serde_json::to_writer(&mut *out, value).map_err(|e| SealError::Encoding(e.to_string()))?;
    Ok(out)
}

fn parse_hex<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], OpenError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| OpenError::Malformed(what))?;
    Ok(out)
}

fn parse_recipients(texts: &[String], what: &'static str) -> Result<Vec<Recipient>, OpenError> {
    texts
        .iter()
        .map(|r| Recipient::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| OpenError::Malformed(what))
}

/// SHA-256 of an age file: how the thread refers to it.
pub fn ciphertext_hash(ciphertext: &[u8]) -> [u8; 32] {
    Sha256::digest(ciphertext).into()
}

// --- reports ---------------------------------------------------------------------------

/// Seals a report: signs it with the reporter's key and encrypts it to every recipient
/// of `destination`. The report records the destination and those recipients.
pub fn seal_report(
    content: &ReportContent,
    keys: &ReporterKeys,
    destination: &Destination,
) -> Result<Vec<u8>, SealError> {
    let body = ReportBody {
        destination: destination.name.clone(),
        recipients: destination
            .recipients()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        content: content.clone(),
        reporter: ReporterBlock {
            recipient: keys.recipient().as_str().to_owned(),
            verifying_key: hex::encode(keys.verifying_key().as_bytes()),
            thread_id: hex::encode(keys.thread_id().0),
            thread_key: hex::encode(keys.thread_key().0),
        },
    };
    let json = to_json(&body)?;
    let sig = sign(keys, Kind::Report, &json);
    let plaintext = frame(Kind::Report, &json, &sig);
    Ok(agefile::encrypt(destination.recipients(), &plaintext)?)
}

/// Decrypts a report with any of `identities` and verifies the reporter's signature.
pub fn open_report(
    ciphertext: &[u8],
    identities: &[&dyn age::Identity],
) -> Result<OpenedReport, OpenError> {
    let plaintext = agefile::decrypt(identities, ciphertext)?;
    open_report_plaintext(&plaintext, ciphertext_hash(ciphertext))
}

fn open_report_plaintext(plaintext: &[u8], hash: [u8; 32]) -> Result<OpenedReport, OpenError> {
    let frame = unframe(plaintext)?;
    if frame.kind != Kind::Report {
        return Err(OpenError::WrongKind);
    }
    let body: ReportBody = serde_json::from_slice(frame.body)
        .map_err(|_| OpenError::Malformed("the report body is not valid report JSON"))?;
    let vk_bytes = parse_hex::<32>(&body.reporter.verifying_key, "bad verifying key")?;
    let vk = VerifyingKey::from_bytes(&vk_bytes)
        .map_err(|_| OpenError::Malformed("bad verifying key"))?;
    verify_signature(&vk, Kind::Report, frame.body, frame.auth)?;
    let recipients = parse_recipients(
        &body.recipients,
        "a listed recipient is not an age recipient",
    )?;
    if body
        .content
        .attachments
        .iter()
        .any(|a| a.sha256().is_none())
    {
        return Err(OpenError::Malformed(
            "an attachment hash is not 64 hex digits",
        ));
    }
    let reporter_recipient = Recipient::parse(&body.reporter.recipient)
        .map_err(|_| OpenError::Malformed("the reporter's recipient is not an age recipient"))?;
    let thread = ThreadSecrets {
        thread_id: ThreadId(parse_hex::<16>(&body.reporter.thread_id, "bad thread id")?),
        thread_key: ThreadKey(parse_hex::<32>(
            &body.reporter.thread_key,
            "bad thread key",
        )?),
        reporter_recipient,
        reporter_verifying_key: vk,
    };
    Ok(OpenedReport {
        destination: body.destination.clone(),
        recipients,
        content: body.content.clone(),
        thread,
        ciphertext_sha256: hash,
    })
}

// --- messages --------------------------------------------------------------------------

fn message_body(draft: &MessageDraft, thread_id: ThreadId) -> MessageBody {
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
    })
}

impl Direction {
    /// The envelope kind byte for this direction.
    pub fn kind_byte(self) -> u8 {
        self.kind() as u8
    }
}

// --- the reporter's note to self ---------------------------------------------------------

/// Where a report went, as the reporter's side recorded it when sending.
///
/// The reporter cannot decrypt the report, yet must reply to the recipients it used,
/// not to whatever the server lists later. So a note to self is stored with the case:
/// encrypted to the reporter's own recipient only and signed with the reporter's key,
/// which only the code yields (not the thread key, which the bureau also holds)
/// (PROTOCOL.md §8.5). A breached server or an insider can withhold it, never alter it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterNote {
    /// The destination name.
    pub destination: String,
    /// The recipients the report was encrypted to.
    pub recipients: Vec<String>,
    /// SHA-256 of the report's age file, lower-case hex.
    pub report_sha256: String,
    /// The day the report was sent.
    pub date: Day,
}

impl ReporterNote {
    /// The note for a report just sealed to `destination`.
    pub fn for_report(destination: &Destination, report_ciphertext: &[u8], date: Day) -> Self {
        Self {
            destination: destination.name.clone(),
            recipients: destination
                .recipients()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            report_sha256: hex::encode(ciphertext_hash(report_ciphertext)),
            date,
        }
    }

    /// The report's ciphertext hash as bytes.
    pub fn report_sha256(&self) -> Result<[u8; 32], OpenError> {
        parse_hex::<32>(
            &self.report_sha256,
            "the note's report hash is not 64 hex digits",
        )
    }

    /// The recipients, parsed.
    pub fn parsed_recipients(&self) -> Result<Vec<Recipient>, OpenError> {
        parse_recipients(
            &self.recipients,
            "a recipient in the note is not an age recipient",
        )
    }
}

/// Seals the note to self: signed by the reporter, encrypted to the reporter only.
pub fn seal_reporter_note(note: &ReporterNote, keys: &ReporterKeys) -> Result<Vec<u8>, SealError> {
    let json = to_json(note)?;
    let sig = sign(keys, Kind::ReporterNote, &json);
    let plaintext = frame(Kind::ReporterNote, &json, &sig);
    Ok(agefile::encrypt(&[keys.recipient()], &plaintext)?)
}

/// Opens and verifies the note to self with the keys derived from the code.
pub fn open_reporter_note(
    ciphertext: &[u8],
    keys: &ReporterKeys,
) -> Result<ReporterNote, OpenError> {
    let plaintext = agefile::decrypt(&[&keys.identity()], ciphertext)?;
    let frame = unframe(&plaintext)?;
    if frame.kind != Kind::ReporterNote {
        return Err(OpenError::WrongKind);
    }
    verify_signature(&keys.verifying_key(), frame.kind, frame.body, frame.auth)?;
    let note: ReporterNote = serde_json::from_slice(frame.body)
        .map_err(|_| OpenError::Malformed("the note body is not valid note JSON"))?;
    note.parsed_recipients()?;
    note.report_sha256()?;
    Ok(note)
}

/// Forgeries for tests and test vectors: what an insider who knows the thread key could
/// make. Compiled only with the `test-support` feature, never into a product.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod forge {
    use super::*;

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
}

impl AttachmentEntry {
    /// Whether an attachment's age file is the one this entry names.
    pub fn matches(&self, digest: &crate::agefile::CiphertextDigest) -> bool {
        digest.size == self.ciphertext_size && self.sha256() == Some(digest.sha256)
    }

    /// The listed SHA-256 as bytes (`None` if it is not 64 hex digits).
    pub fn sha256(&self) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&self.ciphertext_sha256, &mut out)
            .ok()
            .map(|_| out)
    }

    /// An entry for an attachment just encrypted.
    pub fn new(name: String, size: u64, digest: &crate::agefile::CiphertextDigest) -> Self {
        Self {
            name,
            size,
            ciphertext_size: digest.size,
            ciphertext_sha256: hex::encode(digest.sha256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn unframe_never_panics(data in proptest::collection::vec(any::<u8>(), 0..20_000)) {
            let _ = unframe(&data);
        }

        #[test]
        fn unframe_never_panics_with_magic(
            kind in 0u8..5, len in any::<u32>(), rest in proptest::collection::vec(any::<u8>(), 0..200)
        ) {
            let mut data = MAGIC.to_vec();
            data.push(VERSION);
            data.push(kind);
            data.extend_from_slice(&len.to_be_bytes());
            data.extend_from_slice(&rest);
            let _ = unframe(&data);
        }
    }

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

    #[test]
    fn the_note_to_self_round_trips_and_resists_forgery() {
        let (_code, keys, thread, bureau) = insider_setup();
        let dest =
            Destination::from_recipients("bureau", vec![Recipient::from_age(bureau.to_public())])
                .unwrap();
        let note =
            ReporterNote::for_report(&dest, b"report bytes", Day::parse("2026-11-23").unwrap());
        let ct = seal_reporter_note(&note, &keys).unwrap();
        let back = open_reporter_note(&ct, &keys).unwrap();
        assert_eq!(back.recipients, note.recipients);
        assert_eq!(
            back.report_sha256,
            hex::encode(ciphertext_hash(b"report bytes"))
        );
        // A server that swaps in its own key cannot MAC the note.
        let mut fake = note.clone();
        fake.recipients =
            vec![Recipient::from_age(age::x25519::Identity::generate().to_public()).to_string()];
        let json = to_json(&fake).unwrap();
        // Not even with the thread key, which the bureau holds too.
        let tag = mac(&thread.thread_key, Kind::ReporterNote, &json);
        let mut auth = tag.to_vec();
        auth.extend_from_slice(&[0u8; 32]);
        let forged = agefile::encrypt(
            &[keys.recipient()],
            &frame(Kind::ReporterNote, &json, &auth),
        )
        .unwrap();
        assert!(matches!(
            open_reporter_note(&forged, &keys),
            Err(OpenError::BadSignature)
        ));
        // A note is not a message, and the bureau cannot read it.
        assert!(matches!(
            open_message(&ct, &[&keys.identity()], &thread),
            Err(OpenError::WrongKind)
        ));
        assert!(open_message(&ct, &[&bureau], &thread).is_err());
    }

    #[test]
    fn frames_round_trip_with_padding() {
        let framed = frame(Kind::ToReporter, b"{}", &[9u8; 32]);
        assert_eq!(framed.len(), 16 * 1024);
        let f = unframe(&framed).unwrap();
        assert_eq!(f.kind, Kind::ToReporter);
        assert_eq!(f.body, b"{}");
        let mut bad = framed.clone();
        bad[framed.len() - 1] = 1;
        assert!(matches!(unframe(&bad), Err(OpenError::Malformed(_))));
        let mut newer = framed.clone();
        newer[8] = 2;
        assert!(matches!(
            unframe(&newer),
            Err(OpenError::UnsupportedVersion(2))
        ));
        let short = &framed[..framed.len() - 1];
        assert!(matches!(unframe(short), Err(OpenError::Malformed(_))));
    }
}
