//! Everything the reporter's side derives from the return code (PROTOCOL.md §3).
//!
//! HKDF-SHA256 with the code's 28 canonical ASCII symbols as input keying material, a
//! fixed salt, and one `info` label per output, so no two outputs can ever coincide.

use ed25519_dalek::{SigningKey, VerifyingKey};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::code::ReturnCode;
use crate::recipients::{identity_from_secret, Recipient};

/// HKDF salt for every derivation from a return code.
pub const SALT: &[u8] = b"meldpunt v1 return code";
/// HKDF info for the mailbox credential.
pub const INFO_MAILBOX: &[u8] = b"meldpunt v1 mailbox credential";
/// HKDF info for the reporter's X25519 secret.
pub const INFO_X25519: &[u8] = b"meldpunt v1 reporter x25519";
/// HKDF info for the reporter's Ed25519 seed.
pub const INFO_ED25519: &[u8] = b"meldpunt v1 reporter ed25519";
/// HKDF info for the thread key.
pub const INFO_THREAD_KEY: &[u8] = b"meldpunt v1 thread key";
/// HKDF info for the thread id.
pub const INFO_THREAD_ID: &[u8] = b"meldpunt v1 thread id";
/// Prefix hashed with the credential to make the mailbox id the server stores.
pub const MAILBOX_ID_PREFIX: &[u8] = b"meldpunt v1 mailbox id\0";

/// The credential that opens a case's mailbox on the server.
///
/// Sent in the `Meldpunt-Mailbox` request header, never in a URL. The server keeps
/// only its [`MailboxId`].
pub struct MailboxCredential([u8; 32]);

impl Drop for MailboxCredential {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl MailboxCredential {
    /// The form sent in the `Meldpunt-Mailbox` header: 64 lower-case hex digits.
    pub fn to_header_value(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }

    /// Reads the header form back (as the server does).
    pub fn from_header_value(value: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        let ok = value.len() == 64 && hex::decode_to_slice(value, &mut bytes).is_ok();
        let credential = Self(bytes);
        ok.then_some(credential)
    }

    /// The public hash under which the server files the mailbox.
    pub fn mailbox_id(&self) -> MailboxId {
        let mut h = Sha256::new();
        h.update(MAILBOX_ID_PREFIX);
        h.update(self.0);
        MailboxId(h.finalize().into())
    }
}

/// `SHA-256("meldpunt v1 mailbox id\0" ‖ credential)`: what the server stores.
///
/// Not a secret: the credential is derived from a 130-bit code, so neither it nor the
/// code can be found from the hash, and it identifies a case but not a person.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MailboxId(pub [u8; 32]);

impl MailboxId {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The key that authenticates every message of one case.
///
/// The reporter derives it from the code; the bureau learns it from the decrypted report.
#[derive(Clone)]
pub struct ThreadKey(pub(crate) [u8; 32]);

impl Drop for ThreadKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ThreadKey {
    /// Wraps raw key bytes (as carried in the report).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

/// The public name of a case's thread, bound into every message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ThreadId(pub [u8; 16]);

/// Everything the reporter's side derives from a return code.
///
/// # Warning
/// Whoever has these keys can read the bureau's messages and write as the reporter.
/// Keep them only as long as a page needs them.
pub struct ReporterKeys {
    credential: MailboxCredential,
    x25519_secret: [u8; 32],
    signing_key: SigningKey,
    thread_key: ThreadKey,
    thread_id: ThreadId,
}

impl Drop for ReporterKeys {
    fn drop(&mut self) {
        self.x25519_secret.zeroize();
        // SigningKey zeroizes itself on drop (ed25519-dalek's `zeroize` feature).
    }
}

#[allow(
    clippy::expect_used,
    reason = "every output is at most 32 bytes, far below the 8160-byte limit"
)]
fn expand(hk: &Hkdf<Sha256>, info: &[u8], out: &mut [u8]) {
    hk.expand(info, out)
        .expect("32 bytes is far below HKDF-SHA256's 8160-byte limit");
}

impl ReporterKeys {
    /// Derives all keys from a return code. The code is consumed so it cannot linger.
    pub fn derive(code: ReturnCode) -> Self {
        Self::derive_from(&code)
    }

    /// Derives all keys from a borrowed code (for pages that still show it).
    pub fn derive_from(code: &ReturnCode) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(SALT), code.canonical_bytes());
        let mut credential = [0u8; 32];
        let mut x25519_secret = [0u8; 32];
        let mut seed = Zeroizing::new([0u8; 32]);
        let mut thread_key = [0u8; 32];
        let mut thread_id = [0u8; 16];
        expand(&hk, INFO_MAILBOX, &mut credential);
        expand(&hk, INFO_X25519, &mut x25519_secret);
        expand(&hk, INFO_ED25519, seed.as_mut());
        expand(&hk, INFO_THREAD_KEY, &mut thread_key);
        expand(&hk, INFO_THREAD_ID, &mut thread_id);
        Self {
            credential: MailboxCredential(credential),
            x25519_secret,
            signing_key: SigningKey::from_bytes(&seed),
            thread_key: ThreadKey(thread_key),
            thread_id: ThreadId(thread_id),
        }
    }

    /// The mailbox credential.
    pub fn credential(&self) -> &MailboxCredential {
        &self.credential
    }

    /// The reporter's age identity, to decrypt the bureau's messages.
    pub fn identity(&self) -> age::x25519::Identity {
        identity_from_secret(&self.x25519_secret)
    }

    /// The reporter's age recipient, to which the bureau encrypts its messages.
    pub fn recipient(&self) -> Recipient {
        Recipient::from_age(self.identity().to_public())
    }

    /// The key that signs the report and the reporter's messages.
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The reporter's public signing key, carried inside the report.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The thread key.
    pub fn thread_key(&self) -> &ThreadKey {
        &self.thread_key
    }

    /// The thread id.
    pub fn thread_id(&self) -> ThreadId {
        self.thread_id
    }
}
