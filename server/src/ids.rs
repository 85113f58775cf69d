//! Typed identifiers, checked where they enter the server (`FromParam`).

use std::fmt;

use rand::rngs::OsRng;
use rand::RngCore;
use rocket::request::FromParam;
use serde::{Deserialize, Serialize};

/// Crockford base32: no I, L, O or U, so a number read aloud or copied is not misread.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random symbols in a case number (50 bits).
const CASE_SYMBOLS: usize = 10;
const CASE_PREFIX: &str = "MP-";

/// A case number such as `MP-7KQ2M9XD4R`. Random, so it tells nobody how many reports
/// arrive.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    /// A fresh random case number.
    pub fn generate() -> Self {
        let mut bytes = [0u8; CASE_SYMBOLS];
        OsRng.fill_bytes(&mut bytes);
        // 256 is a multiple of 32, so masking keeps every symbol equally likely.
        let symbols: String = bytes
            .iter()
            .map(|b| CROCKFORD[(b & 31) as usize] as char)
            .collect();
        CaseNumber(format!("{CASE_PREFIX}{symbols}"))
    }

    /// Reads a case number; lower case is accepted.
    pub fn parse(text: &str) -> Option<Self> {
        let upper = text.trim().to_ascii_uppercase();
        let symbols = upper.strip_prefix(CASE_PREFIX)?;
        (symbols.len() == CASE_SYMBOLS && symbols.bytes().all(|b| CROCKFORD.contains(&b)))
            .then(|| CaseNumber(upper.clone()))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        CaseNumber::parse(&text).ok_or_else(|| format!("\"{text}\" is not a case number"))
    }
}

impl From<CaseNumber> for String {
    fn from(c: CaseNumber) -> String {
        c.0
    }
}

impl<'r> FromParam<'r> for CaseNumber {
    type Error = &'r str;
    fn from_param(param: &'r str) -> Result<Self, Self::Error> {
        CaseNumber::parse(param).ok_or(param)
    }
}

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
    fn case_numbers_are_random_and_parse_back() {
        let a = CaseNumber::generate();
        let b = CaseNumber::generate();
        assert_ne!(a, b);
        assert_eq!(CaseNumber::parse(a.as_str()), Some(a.clone()));
        assert_eq!(CaseNumber::parse(&a.as_str().to_lowercase()), Some(a));
        assert!(CaseNumber::parse("MP-123").is_none());
        assert!(CaseNumber::parse("MP-0123456789U").is_none());
        assert!(CaseNumber::parse("XX-0123456789").is_none());
        assert!(CaseNumber::parse("MP-0123456789/..").is_none());
    }

    #[test]
    fn attachment_numbers_are_plain_digits() {
        assert_eq!(AttachmentNumber::from_param("0"), Ok(AttachmentNumber(0)));
        assert_eq!(AttachmentNumber::from_param("42"), Ok(AttachmentNumber(42)));
        assert!(AttachmentNumber::from_param("+1").is_err());
        assert!(AttachmentNumber::from_param("-1").is_err());
        assert!(AttachmentNumber::from_param("12345").is_err());
    }
}
