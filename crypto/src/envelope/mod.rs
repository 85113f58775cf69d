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

mod message;
mod note;
mod report;

use std::fmt;

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::agefile::{DecryptError, EncryptError};
use crate::derive::{ReporterKeys, ThreadKey};
use crate::padding::padded_len;
use crate::recipients::Recipient;

pub use message::{
    open_message, seal_from_reporter, seal_to_reporter, CaseStatus, Direction, Message,
    MessageDraft, ThreadSecrets,
};
pub use note::{open_reporter_note, seal_reporter_note, ReporterNote, SentMessage};
pub use report::{
    open_report, seal_report, AttachmentEntry, Category, EncryptedBy, MetadataRecord, OpenedReport,
    ReportContent, MAX_METADATA_KINDS, MAX_METADATA_KIND_LEN,
};

#[cfg(feature = "test-support")]
#[doc(hidden)]
pub mod forge;

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
    /// An attachment's metadata record lists something other than plain kind names
    /// (`MetadataRecord::is_well_formed`).
    BadMetadataRecord,
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
            SealError::BadMetadataRecord => f.write_str(
                "an attachment's metadata record lists something other than plain kind names",
            ),
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

#[allow(clippy::expect_used, reason = "HMAC takes a key of any size")]
fn mac(key: &ThreadKey, kind: Kind, body: &[u8]) -> [u8; MAC_LEN] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).expect("HMAC takes any key size");
    m.update(&auth_input(MAC_DOMAIN, kind, body));
    m.finalize().into_bytes().into()
}

#[allow(clippy::expect_used, reason = "HMAC takes a key of any size")]
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
    let body_len =
        u32::from_be_bytes([plaintext[10], plaintext[11], plaintext[12], plaintext[13]]) as usize;
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
