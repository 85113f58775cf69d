//! The case number: random, so it tells nobody how many reports arrive.

use std::fmt;

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

/// Crockford base32: no I, L, O or U, so a number read aloud or copied is not misread.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random symbols in a case number (50 bits).
const CASE_SYMBOLS: usize = 10;
const CASE_PREFIX: &str = "MP-";

/// A case number such as `MP-7KQ2M9XD4R`: `MP-` and ten random Crockford symbols. Being
/// checked on every way in, it is always one safe path component.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

impl CaseNumber {
    /// A fresh random case number.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = [0u8; CASE_SYMBOLS];
        rng.fill_bytes(&mut bytes);
        // 256 is a multiple of 32, so masking keeps every symbol equally likely.
        let symbols: String = bytes
            .iter()
            .map(|b| CROCKFORD[(b & 31) as usize] as char)
            .collect();
        CaseNumber(format!("{CASE_PREFIX}{symbols}"))
    }

    /// Reads a case number as a person or the server wrote it; lower case and white
    /// space around it are accepted.
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
        CaseNumber::parse(&text).ok_or_else(|| {
            format!(
                "\"{}\" is not a case number (case numbers look like MP-7KQ2M9XD4A)",
                text.chars().take(60).collect::<String>()
            )
        })
    }
}

impl From<CaseNumber> for String {
    fn from(c: CaseNumber) -> String {
        c.0
    }
}

#[cfg(feature = "rocket")]
impl<'r> rocket::request::FromParam<'r> for CaseNumber {
    type Error = &'r str;
    fn from_param(param: &'r str) -> Result<Self, Self::Error> {
        CaseNumber::parse(param).ok_or(param)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_are_random_and_parse_back() {
        let a = CaseNumber::generate(&mut rand::rngs::OsRng);
        let b = CaseNumber::generate(&mut rand::rngs::OsRng);
        assert_ne!(a, b);
        assert_eq!(CaseNumber::parse(a.as_str()), Some(a.clone()));
        assert_eq!(CaseNumber::parse(&a.as_str().to_lowercase()), Some(a));
        for bad in [
            "MP-123",
            "MP-0123456789U",
            "XX-0123456789",
            "MP-0123456789/..",
            "../etc",
            "",
            "MP 0123456789",
            "MP-012345678\0",
        ] {
            assert!(CaseNumber::parse(bad).is_none(), "{bad:?}");
        }
    }
}
