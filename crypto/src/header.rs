//! The server's check of an uploaded ciphertext's age header (PROTOCOL.md §7.2).
//!
//! The server cannot decrypt, but it can refuse anything that is not what a Meldpunt
//! client makes: an age v1 file to X25519 recipients, with at most one grease stanza
//! (age 0.12 always adds one), and never a passphrase (scrypt) stanza.

use std::fmt;

use age_core::format::read::age_stanza;

/// The first line of every age v1 file.
pub const AGE_V1_LINE: &[u8] = b"age-encryption.org/v1\n";
/// The longest header accepted; more stanzas than any destination has is suspicious.
pub const MAX_HEADER_LEN: usize = 16 * 1024;
/// The age payload nonce that follows the header.
const NONCE_LEN: usize = 16;
/// How many first bytes of an upload always suffice for [`check_header`] to decide.
pub const HEADER_READ_LEN: usize = MAX_HEADER_LEN + NONCE_LEN;

/// What the check learned about a valid header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSummary {
    /// Length of the header, up to and including the MAC line.
    pub header_len: usize,
    /// Number of X25519 recipient stanzas.
    pub x25519_stanzas: usize,
}

/// Why a ciphertext is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// Not enough bytes yet to see the whole header and payload nonce.
    Incomplete,
    /// Not an age v1 file.
    NotAge,
    /// The header is malformed.
    Malformed,
    /// Encrypted with a passphrase: a Meldpunt client never does that.
    Passphrase,
    /// A stanza type a Meldpunt client never writes.
    UnexpectedStanza {
        /// The stanza's tag (at most 40 characters of it).
        tag: String,
    },
    /// More than one grease stanza.
    TooMuchGrease,
    /// No X25519 recipient at all.
    NoRecipients,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Incomplete => f.write_str("the age header is incomplete"),
            HeaderError::NotAge => f.write_str("this is not an age v1 file"),
            HeaderError::Malformed => f.write_str("the age header is malformed"),
            HeaderError::Passphrase => {
                f.write_str("passphrase-encrypted (scrypt) files are not accepted")
            }
            HeaderError::UnexpectedStanza { tag } => {
                write!(f, "recipient type \"{tag}\" is not accepted (only X25519)")
            }
            HeaderError::TooMuchGrease => f.write_str("more than one grease stanza"),
            HeaderError::NoRecipients => f.write_str("the file has no X25519 recipient"),
        }
    }
}

impl std::error::Error for HeaderError {}

/// Checks the start of an upload: the whole header and the payload nonce must be in
/// `start` (if not, [`HeaderError::Incomplete`]; given [`HEADER_READ_LEN`] bytes, or the
/// whole file if shorter, it always decides).
pub fn check_header(start: &[u8]) -> Result<HeaderSummary, HeaderError> {
    let version_len = AGE_V1_LINE.len().min(start.len());
    if start[..version_len] != AGE_V1_LINE[..version_len] {
        return Err(HeaderError::NotAge);
    }
    if start.len() < AGE_V1_LINE.len() {
        return Err(HeaderError::Incomplete);
    }
    // The header ends with the MAC line "--- <base64>\n".
    let search = &start[..start.len().min(MAX_HEADER_LEN)];
    let Some(mac_at) = find(search, b"\n--- ").map(|i| i + 1) else {
        return Err(if start.len() >= MAX_HEADER_LEN {
            HeaderError::Malformed
        } else {
            HeaderError::Incomplete
        });
    };
    let Some(header_len) = find(&search[mac_at..], b"\n").map(|i| mac_at + i + 1) else {
        return Err(if start.len() >= MAX_HEADER_LEN {
            HeaderError::Malformed
        } else {
            HeaderError::Incomplete
        });
    };
    if start.len() < header_len + NONCE_LEN {
        return Err(if start.len() >= HEADER_READ_LEN {
            HeaderError::Malformed
        } else {
            HeaderError::Incomplete
        });
    }

    let mut rest = &start[AGE_V1_LINE.len()..mac_at];
    let (mut x25519, mut grease) = (0usize, 0usize);
    while !rest.is_empty() {
        let (after, stanza) = age_stanza(rest).map_err(|_| HeaderError::Malformed)?;
        match stanza.tag {
            "X25519" => {
                if stanza.args.len() != 1 || stanza.body().len() != 32 {
                    return Err(HeaderError::Malformed);
                }
                x25519 += 1;
            }
            "scrypt" => return Err(HeaderError::Passphrase),
            t if t.ends_with("-grease") => grease += 1,
            t => {
                return Err(HeaderError::UnexpectedStanza {
                    tag: t.chars().take(40).collect(),
                })
            }
        }
        rest = after;
    }
    if grease > 1 {
        return Err(HeaderError::TooMuchGrease);
    }
    if x25519 == 0 {
        return Err(HeaderError::NoRecipients);
    }
    // Let age itself parse the header too (MAC line encoding, structural rules).
    age::Decryptor::new_buffered(&start[..header_len + NONCE_LEN])
        .map_err(|_| HeaderError::Malformed)?;
    Ok(HeaderSummary {
        header_len,
        x25519_stanzas: x25519,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agefile::encrypt;
    use crate::recipients::Recipient;
    use proptest::prelude::*;

    #[test]
    fn a_real_age_file_passes_and_prefixes_are_incomplete() {
        let r = Recipient::from_age(age::x25519::Identity::generate().to_public());
        let r2 = Recipient::from_age(age::x25519::Identity::generate().to_public());
        let ct = encrypt(&[r, r2], b"hi").unwrap();
        let s = check_header(&ct).unwrap();
        assert_eq!(s.x25519_stanzas, 2);
        for cut in [0, 5, 30, s.header_len, s.header_len + 15] {
            assert_eq!(
                check_header(&ct[..cut]),
                Err(HeaderError::Incomplete),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn passphrase_files_are_refused() {
        let enc =
            age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from("pw".to_owned()));
        let mut ct = Vec::new();
        let mut w = enc.wrap_output(&mut ct).unwrap();
        std::io::Write::write_all(&mut w, b"x").unwrap();
        w.finish().unwrap();
        assert_eq!(check_header(&ct), Err(HeaderError::Passphrase));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(
            check_header(b"hello world, not age"),
            Err(HeaderError::NotAge)
        );
        assert_eq!(check_header(b"%PDF-1.4"), Err(HeaderError::NotAge));
        let mut fake = AGE_V1_LINE.to_vec();
        fake.extend_from_slice(b"-> ssh-ed25519 abc\nAAAA\n--- AAAA\n");
        fake.extend_from_slice(&[0u8; 32]);
        assert!(matches!(
            check_header(&fake),
            Err(HeaderError::UnexpectedStanza { .. }) | Err(HeaderError::Malformed)
        ));
    }

    proptest! {
        #[test]
        fn never_panics(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut data = AGE_V1_LINE.to_vec();
            data.extend_from_slice(&tail);
            let _ = check_header(&data);
            let _ = check_header(&tail);
        }
    }
}
