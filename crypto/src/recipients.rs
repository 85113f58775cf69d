//! age X25519 recipients and destinations (PROTOCOL.md §4).

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::symbols;

/// One age X25519 recipient (`age1…`).
#[derive(Clone)]
pub struct Recipient {
    inner: age::x25519::Recipient,
    text: String,
}

impl Recipient {
    pub(crate) fn from_age(inner: age::x25519::Recipient) -> Self {
        let text = inner.to_string();
        Self { inner, text }
    }

    /// Parses an `age1…` recipient.
    pub fn parse(text: &str) -> Result<Self, RecipientError> {
        let trimmed = text.trim();
        trimmed
            .parse::<age::x25519::Recipient>()
            .map(Self::from_age)
            .map_err(|_| RecipientError {
                text: trimmed.chars().take(80).collect(),
            })
    }

    /// The `age1…` text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The age recipient, for encryption.
    pub fn as_age(&self) -> &age::x25519::Recipient {
        &self.inner
    }
}

impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for Recipient {}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({})", self.text)
    }
}

/// A text that is not an age X25519 recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientError {
    /// The offending text (at most 80 characters of it).
    pub text: String,
}

impl fmt::Display for RecipientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\"{}\" is not an age X25519 recipient (expected a key starting with age1)",
            self.text
        )
    }
}

impl std::error::Error for RecipientError {}

/// Turns a 32-byte X25519 secret into an age identity.
///
/// age has no constructor from bytes, so the secret takes the bech32 route: encode with
/// the HRP `age-secret-key-`, upper-case, and parse (PROTOCOL.md §3).
#[allow(
    clippy::expect_used,
    reason = "a constant HRP and 32 bytes always make a valid age identity (tested with every derived key)"
)]
pub(crate) fn identity_from_secret(secret: &[u8; 32]) -> age::x25519::Identity {
    let hrp = bech32::Hrp::parse("age-secret-key-").expect("constant HRP is valid");
    let encoded = Zeroizing::new(
        bech32::encode_upper::<bech32::Bech32>(hrp, secret).expect("32 bytes always encode"),
    );
    encoded
        .parse()
        .expect("a bech32-encoded 32-byte secret is a valid age identity")
}

/// Prefix of the destination fingerprint hash.
pub const FINGERPRINT_PREFIX: &[u8] = b"meldpunt v1 destination fingerprint\0";
/// Symbols in a fingerprint (24 × 5 = 120 bits).
pub const FINGERPRINT_SYMBOLS: usize = 24;

/// Where a report goes: a named set of recipients (the bureau, an independent
/// commission, …). A report is encrypted to every recipient of its destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// Short name, as the reporter sees it (and as the configuration keys it).
    pub name: String,
    recipients: Vec<Recipient>,
}

/// Why a destination cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestinationError {
    /// A destination needs at least one recipient.
    NoRecipients {
        /// The destination's name.
        name: String,
    },
    /// One of the recipients is not an age X25519 recipient.
    BadRecipient {
        /// The destination's name.
        name: String,
        /// What was wrong.
        error: RecipientError,
    },
}

impl fmt::Display for DestinationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DestinationError::NoRecipients { name } => {
                write!(f, "destination \"{name}\" has no recipients")
            }
            DestinationError::BadRecipient { name, error } => {
                write!(f, "destination \"{name}\": {error}")
            }
        }
    }
}

impl std::error::Error for DestinationError {}

impl Destination {
    /// A destination from a name and recipient texts.
    pub fn new<S: AsRef<str>>(name: &str, recipients: &[S]) -> Result<Self, DestinationError> {
        let parsed = recipients
            .iter()
            .map(|r| Recipient::parse(r.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| DestinationError::BadRecipient {
                name: name.to_owned(),
                error,
            })?;
        Self::from_recipients(name, parsed)
    }

    /// A destination from parsed recipients. Duplicates are dropped; order is kept.
    pub fn from_recipients(
        name: &str,
        recipients: Vec<Recipient>,
    ) -> Result<Self, DestinationError> {
        let mut unique: Vec<Recipient> = Vec::with_capacity(recipients.len());
        for r in recipients {
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        if unique.is_empty() {
            return Err(DestinationError::NoRecipients {
                name: name.to_owned(),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            recipients: unique,
        })
    }

    /// The recipients, without duplicates.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// The recipient set's fingerprint: see [`fingerprint`].
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.recipients)
    }
}

/// The fingerprint of a recipient set: 120 bits as 24 symbols in six groups of four,
/// e.g. `7KQ2-M9XD-…`. Order and duplicates do not matter; the name is not included.
///
/// `SHA-256(prefix ‖ for each distinct recipient text in byte order: text ‖ "\n")`,
/// first 120 bits in Crockford base32.
pub fn fingerprint(recipients: &[Recipient]) -> String {
    let mut texts: Vec<&str> = recipients.iter().map(Recipient::as_str).collect();
    texts.sort_unstable();
    texts.dedup();
    let mut h = Sha256::new();
    h.update(FINGERPRINT_PREFIX);
    for t in texts {
        h.update(t.as_bytes());
        h.update(b"\n");
    }
    let digest = h.finalize();
    symbols::group(&symbols::encode_bits(&digest, FINGERPRINT_SYMBOLS), 4, '-')
}

/// Whether two recipient sets are the same set.
pub fn same_set(a: &[Recipient], b: &[Recipient]) -> bool {
    a.iter().all(|r| b.contains(r)) && b.iter().all(|r| a.contains(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Recipient {
        Recipient::from_age(age::x25519::Identity::generate().to_public())
    }

    #[test]
    fn fingerprint_ignores_order_and_duplicates() {
        let (a, b) = (fresh(), fresh());
        let f1 = fingerprint(&[a.clone(), b.clone()]);
        let f2 = fingerprint(&[b.clone(), a.clone(), b.clone()]);
        assert_eq!(f1, f2);
        assert_eq!(f1.len(), 24 + 5);
        assert_ne!(f1, fingerprint(&[a]));
    }

    #[test]
    fn bad_recipient_is_named() {
        let err = Destination::new("bureau", &["age1notakey"]).unwrap_err();
        assert!(err.to_string().contains("age1notakey"), "{err}");
        assert!(matches!(
            Destination::new::<&str>("x", &[]),
            Err(DestinationError::NoRecipients { .. })
        ));
    }

    #[test]
    fn secret_bytes_become_an_identity() {
        let id = identity_from_secret(&[7u8; 32]);
        let again = identity_from_secret(&[7u8; 32]);
        assert_eq!(id.to_public().to_string(), again.to_public().to_string());
        assert_ne!(
            id.to_public().to_string(),
            identity_from_secret(&[8u8; 32]).to_public().to_string()
        );
    }
}
