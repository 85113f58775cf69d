//! Typed identifiers, checked where they enter the server (`FromParam`). The case
//! number is the wire contract's own ([`meldpunt_wire::CaseNumber`]).

use rand::rngs::OsRng;
use rand::RngCore;
use rocket::request::FromParam;
use serde::{Deserialize, Serialize};

pub use meldpunt_wire::CaseNumber;

/// The 0-based number of an attachment within one upload session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AttachmentNumber(pub u32);

/// No session ever holds more attachments than this, whatever the configuration says.
pub const MAX_ATTACHMENT_NUMBER: u32 = 9999;

impl<'r> FromParam<'r> for AttachmentNumber {
    type Error = &'r str;
    fn from_param(param: &'r str) -> Result<Self, Self::Error> {
        // Digits only: no sign, no leading "+", at most 4 digits.
        if param.is_empty() || param.len() > 4 || !param.bytes().all(|b| b.is_ascii_digit()) {
            return Err(param);
        }
        param.parse().map(AttachmentNumber).map_err(|_| param)
    }
}

/// The name of a stored attachment file: random, so a directory listing shows neither
/// order nor case.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug)]
pub struct FileId(String);

impl FileId {
    /// A fresh random file name (128 bits, hex).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        FileId(hex::encode(bytes))
    }

    /// The file name. Only hex digits, so it can never walk out of its directory.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a stored name is one this server made.
    pub fn is_valid(&self) -> bool {
        self.0.len() == 32 && self.0.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_numbers_are_plain_digits() {
        assert_eq!(AttachmentNumber::from_param("0"), Ok(AttachmentNumber(0)));
        assert_eq!(AttachmentNumber::from_param("42"), Ok(AttachmentNumber(42)));
        assert!(AttachmentNumber::from_param("+1").is_err());
        assert!(AttachmentNumber::from_param("-1").is_err());
        assert!(AttachmentNumber::from_param("12345").is_err());
    }
}
