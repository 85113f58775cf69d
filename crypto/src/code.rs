//! The return code: the reporter's only secret, written on paper and typed back.
//!
//! 26 random symbols of Crockford base32 (130 bits) followed by two check symbols,
//! printed as seven groups of four: `K7QM-2XRD-9F4T-…`. The check symbols make the 28
//! symbols a codeword of a Reed–Solomon code over GF(32) with minimum distance 3, so any
//! one or two wrong symbols (which includes every swap of two neighbours) are always
//! caught and reported as a typo, never as "no such report". See docs/PROTOCOL.md §2.

use rand::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::symbols::{self, Symbol};

/// Random symbols in a return code (26 × 5 = 130 bits of entropy).
pub const RANDOM_SYMBOLS: usize = 26;
/// Check symbols appended to the random ones.
pub const CHECK_SYMBOLS: usize = 2;
/// Symbols in a return code, without separators.
pub const CODE_SYMBOLS: usize = RANDOM_SYMBOLS + CHECK_SYMBOLS;
/// Symbols per printed group.
pub const GROUP_SIZE: usize = 4;

/// A return code.
///
/// Whoever holds it can read the bureau's messages in the case and write as the
/// reporter, so it zeroizes on drop and is neither `Debug` nor `Display`.
/// Show it with [`ReturnCode::to_grouped_string`].
pub struct ReturnCode {
    /// The 28 canonical ASCII symbols (upper case, no separators).
    canonical: [u8; CODE_SYMBOLS],
}

impl Drop for ReturnCode {
    fn drop(&mut self) {
        self.canonical.zeroize();
    }
}

/// Why typed text is not a return code. Every variant has a message for the reporter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeError {
    /// A character that never occurs in a return code.
    InvalidCharacter {
        /// 1-based position among the code's symbols (separators not counted).
        position: usize,
    },
    /// Too few or too many symbols.
    WrongLength {
        /// How many symbols were typed.
        found: usize,
    },
    /// All characters are valid but the check symbols do not match: a typo.
    Typo,
}

impl std::fmt::Display for CodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeError::InvalidCharacter { position } => write!(
                f,
                "character {position} of the return code is not one that return codes use \
                 (they use the digits 0-9 and the letters A-Z except I, L, O and U)"
            ),
            CodeError::WrongLength { found } => write!(
                f,
                "a return code has {CODE_SYMBOLS} characters (seven groups of four); \
                 {found} were entered"
            ),
            CodeError::Typo => f.write_str(
                "the return code contains a typo: compare each group of four with what you \
                 wrote down",
            ),
        }
    }
}

impl std::error::Error for CodeError {}

impl CodeError {
    /// A stable word for the kind of mistake (`character`, `length`, `typo`), for pages
    /// that show their own text for each.
    pub fn kind(&self) -> &'static str {
        match self {
            CodeError::InvalidCharacter { .. } => "character",
            CodeError::WrongLength { .. } => "length",
            CodeError::Typo => "typo",
        }
    }
}

impl ReturnCode {
    /// Makes a new return code from a cryptographically secure random source.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut random = Zeroizing::new([0u8; RANDOM_SYMBOLS]);
        rng.fill_bytes(random.as_mut());
        let mut values = Zeroizing::new([0u8; CODE_SYMBOLS]);
        for (v, r) in values.iter_mut().zip(random.iter()) {
            // 256 is a multiple of 32, so the low five bits are uniform.
            *v = r & 0x1f;
        }
        let (c0, c1) = check_symbols(&values[..RANDOM_SYMBOLS]);
        values[RANDOM_SYMBOLS] = c0;
        values[RANDOM_SYMBOLS + 1] = c1;
        Self::from_values(&values)
    }

    /// Parses a code as a person typed it: case, spaces, dashes and dots are ignored,
    /// and `O` is read as `0`, `I` and `L` as `1`.
    pub fn parse(typed: &str) -> Result<Self, CodeError> {
        let mut values = Zeroizing::new([0u8; CODE_SYMBOLS]);
        let mut count = 0usize;
        for c in typed.chars() {
            if is_separator(c) {
                continue;
            }
            count += 1;
            let value = symbols::decode_lenient(c)
                .ok_or(CodeError::InvalidCharacter { position: count })?;
            if count <= CODE_SYMBOLS {
                values[count - 1] = value;
            }
        }
        if count != CODE_SYMBOLS {
            return Err(CodeError::WrongLength { found: count });
        }
        if !is_codeword(values.as_ref()) {
            return Err(CodeError::Typo);
        }
        Ok(Self::from_values(&values))
    }

    fn from_values(values: &[u8; CODE_SYMBOLS]) -> Self {
        let mut canonical = [0u8; CODE_SYMBOLS];
        for (c, v) in canonical.iter_mut().zip(values.iter()) {
            *c = symbols::encode(*v as Symbol);
        }
        Self { canonical }
    }

    /// The 28 canonical ASCII symbols: the input to every derivation.
    pub(crate) fn canonical_bytes(&self) -> &[u8; CODE_SYMBOLS] {
        &self.canonical
    }

    /// The code as it is shown to the reporter: seven groups of four, joined by `-`.
    pub fn to_grouped_string(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(CODE_SYMBOLS + 6));
        for (i, chunk) in self.canonical.chunks(GROUP_SIZE).enumerate() {
            if i > 0 {
                out.push('-');
            }
            for b in chunk {
                out.push(char::from(*b));
            }
        }
        out
    }

    /// The groups (numbered from 1, as the reporter sees them) in which `typed` differs
    /// from this code, read as [`ReturnCode::parse`] reads it (case, separators and
    /// look-alikes do not matter). Empty: the reporter wrote the code down correctly.
    ///
    /// This is how the page checks the code the reporter copied onto paper, typed back
    /// in full: it names the group to correct instead of only saying "typo".
    pub fn differing_groups(&self, typed: &str) -> Result<Vec<usize>, CodeError> {
        let mut values = Zeroizing::new([0u8; CODE_SYMBOLS]);
        let mut count = 0usize;
        for c in typed.chars() {
            if is_separator(c) {
                continue;
            }
            count += 1;
            let value = symbols::decode_lenient(c)
                .ok_or(CodeError::InvalidCharacter { position: count })?;
            if count <= CODE_SYMBOLS {
                values[count - 1] = symbols::encode(value);
            }
        }
        if count != CODE_SYMBOLS {
            return Err(CodeError::WrongLength { found: count });
        }
        Ok(self
            .canonical
            .chunks(GROUP_SIZE)
            .zip(values.chunks(GROUP_SIZE))
            .enumerate()
            .filter(|(_, (mine, theirs))| mine != theirs)
            .map(|(i, _)| i + 1)
            .collect())
    }

    /// Whether `text` contains this code, however it is spaced or cased.
    ///
    /// Used to refuse a message that would hand the code to the bureau.
    pub fn appears_in(&self, text: &str) -> bool {
        let mut folded = Zeroizing::new(Vec::with_capacity(text.len()));
        for c in text.chars() {
            if let Some(v) = symbols::decode_lenient(c) {
                folded.push(symbols::encode(v));
            }
        }
        // Any 12 consecutive symbols (60 bits) of the code are as good as a leak.
        const WINDOW: usize = 12;
        self.canonical
            .windows(WINDOW)
            .any(|w| folded.windows(WINDOW).any(|f| f == w))
    }
}

/// Characters people put between groups: spaces of every kind, and every dash a phone
/// keyboard may turn "-" into.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '_' | '\u{2010}'
                ..='\u{2015}' | '\u{2212}' | '\u{fe58}' | '\u{fe63}' | '\u{ff0d}'
        )
}

// --- GF(32) arithmetic for the check symbols -------------------------------------------
//
// Field: GF(2)[x] / (x^5 + x^2 + 1); alpha = x (the value 2) is primitive, order 31.
// A code c_0 … c_27 is valid when sum c_i·alpha^i = 0 and sum c_i·alpha^(2i) = 0.

/// Multiplication in GF(32), without branches on the (secret) operands.
fn gf_mul(mut a: u8, b: u8) -> u8 {
    let mut product = 0u8;
    for bit in 0..5 {
        product ^= a & 0u8.wrapping_sub((b >> bit) & 1);
        a <<= 1;
        a ^= 0x25 & 0u8.wrapping_sub((a >> 5) & 1);
    }
    product
}

fn syndromes(values: &[u8]) -> (u8, u8) {
    let (mut s1, mut s2) = (0u8, 0u8);
    let (mut a1, mut a2) = (1u8, 1u8); // alpha^i and alpha^(2i)
    for &v in values {
        s1 ^= gf_mul(v, a1);
        s2 ^= gf_mul(v, a2);
        a1 = gf_mul(a1, 2);
        a2 = gf_mul(a2, 4);
    }
    (s1, s2)
}

fn is_codeword(values: &[u8]) -> bool {
    syndromes(values) == (0, 0)
}

/// The unique pair (c26, c27) that makes `data ‖ c26 ‖ c27` a codeword, in closed form
/// (constant time): with s1, s2 the syndromes of the data symbols,
/// c26 = (s2 ⊕ 11·s1)·15 and c27 = (s2 ⊕ 23·s1)·21 (PROTOCOL.md §2).
fn check_symbols(data: &[u8]) -> (u8, u8) {
    let (s1, s2) = syndromes(data);
    (
        gf_mul(s2 ^ gf_mul(11, s1), 15),
        gf_mul(s2 ^ gf_mul(23, s1), 21),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::OsRng;
    use rand::RngCore;

    /// The closed form agrees with the definition: the only pair that zeroes both
    /// syndromes, found by search.
    #[test]
    fn closed_form_matches_search() {
        for _ in 0..300 {
            let mut data = [0u8; RANDOM_SYMBOLS];
            OsRng.fill_bytes(&mut data);
            data.iter_mut().for_each(|d| *d &= 0x1f);
            let mut word = [0u8; CODE_SYMBOLS];
            word[..RANDOM_SYMBOLS].copy_from_slice(&data);
            let mut found = Vec::new();
            for c0 in 0..32u8 {
                for c1 in 0..32u8 {
                    word[RANDOM_SYMBOLS] = c0;
                    word[RANDOM_SYMBOLS + 1] = c1;
                    if is_codeword(&word) {
                        found.push((c0, c1));
                    }
                }
            }
            assert_eq!(found, vec![check_symbols(&data)]);
        }
    }

    #[test]
    fn gf_mul_is_the_field_multiplication() {
        // x^5 = x^2 + 1, so 2·16 = 32 -> 0b00101 = 5.
        assert_eq!(gf_mul(2, 16), 5);
        for a in 0..32u8 {
            assert_eq!(gf_mul(a, 1), a);
            assert_eq!(gf_mul(a, 0), 0);
            for b in 0..32u8 {
                assert_eq!(gf_mul(a, b), gf_mul(b, a));
            }
        }
    }

    #[test]
    fn phone_dashes_and_spaces_are_separators() {
        let code = ReturnCode::generate(&mut OsRng);
        let shown = code.to_grouped_string();
        for sep in ["\u{2014}", "\u{2013}", "\u{2212}", "\u{202f}", " \u{2011} "] {
            let typed = shown.replace('-', sep);
            assert_eq!(
                ReturnCode::parse(&typed).unwrap().canonical_bytes(),
                code.canonical_bytes()
            );
        }
    }

    #[test]
    fn generated_codes_parse_back() {
        for _ in 0..200 {
            let code = ReturnCode::generate(&mut OsRng);
            let shown = code.to_grouped_string();
            assert_eq!(shown.len(), 34);
            let back = ReturnCode::parse(&shown).unwrap();
            assert_eq!(back.canonical_bytes(), code.canonical_bytes());
        }
    }

    #[test]
    fn tolerant_parsing() {
        let code = ReturnCode::generate(&mut OsRng);
        let shown = code.to_grouped_string().to_lowercase().replace('-', " ");
        let back = ReturnCode::parse(&format!("  {shown}\n")).unwrap();
        assert_eq!(back.canonical_bytes(), code.canonical_bytes());
    }

    #[test]
    fn look_alikes_are_read_as_digits() {
        // Build a code and write every 0 as O and every 1 as l.
        loop {
            let code = ReturnCode::generate(&mut OsRng);
            let shown = code.to_grouped_string();
            if !shown.contains('0') && !shown.contains('1') {
                continue;
            }
            let typed = shown.replace('0', "O").replace('1', "l");
            let back = ReturnCode::parse(&typed).unwrap();
            assert_eq!(back.canonical_bytes(), code.canonical_bytes());
            break;
        }
    }

    #[test]
    fn wrong_length_and_bad_characters() {
        assert_eq!(
            ReturnCode::parse("ABCD-EFGH").err(),
            Some(CodeError::WrongLength { found: 8 })
        );
        assert_eq!(
            ReturnCode::parse("ABCU").err(),
            Some(CodeError::InvalidCharacter { position: 4 })
        );
        assert_eq!(
            ReturnCode::parse("").err(),
            Some(CodeError::WrongLength { found: 0 })
        );
    }

    #[test]
    fn every_single_substitution_is_a_typo() {
        let code = ReturnCode::generate(&mut OsRng);
        let canonical = *code.canonical_bytes();
        for pos in 0..CODE_SYMBOLS {
            for v in 0..32u8 {
                let mut typed = canonical;
                typed[pos] = symbols::encode(v);
                if typed == canonical {
                    continue;
                }
                let s = std::str::from_utf8(&typed).unwrap();
                assert_eq!(
                    ReturnCode::parse(s).err(),
                    Some(CodeError::Typo),
                    "pos {pos}"
                );
            }
        }
    }

    #[test]
    fn every_neighbour_swap_is_a_typo() {
        for _ in 0..50 {
            let code = ReturnCode::generate(&mut OsRng);
            let canonical = *code.canonical_bytes();
            for pos in 0..CODE_SYMBOLS - 1 {
                let mut typed = canonical;
                typed.swap(pos, pos + 1);
                if typed == canonical {
                    continue;
                }
                let s = std::str::from_utf8(&typed).unwrap();
                assert_eq!(ReturnCode::parse(s).err(), Some(CodeError::Typo));
            }
        }
    }

    #[test]
    fn differing_groups_names_the_group_to_correct() {
        let code = ReturnCode::generate(&mut OsRng);
        let shown = code.to_grouped_string();
        assert_eq!(code.differing_groups(&shown).unwrap(), Vec::<usize>::new());
        let sloppy = shown.to_lowercase().replace('-', " ");
        assert_eq!(code.differing_groups(&sloppy).unwrap(), Vec::<usize>::new());
        let mut typed: Vec<u8> = shown.as_bytes().to_vec();
        // Index 6 of the grouped text lies in group 2 (after one dash), 32 in group 7.
        for (at, group) in [(6usize, 2usize), (32, 7)] {
            typed[at] = if typed[at] == b'7' { b'8' } else { b'7' };
            let text = std::str::from_utf8(&typed).unwrap();
            assert!(code.differing_groups(text).unwrap().contains(&group));
        }
        assert_eq!(
            code.differing_groups(std::str::from_utf8(&typed).unwrap())
                .unwrap(),
            vec![2, 7]
        );
        assert_eq!(
            code.differing_groups(&shown[..9]).err(),
            Some(CodeError::WrongLength { found: 8 })
        );
        assert_eq!(
            code.differing_groups("U").err(),
            Some(CodeError::InvalidCharacter { position: 1 })
        );
    }

    #[test]
    fn code_is_found_in_a_message() {
        let code = ReturnCode::generate(&mut OsRng);
        let shown = code.to_grouped_string();
        let message = format!("Hello, my code is {} thanks", shown.to_lowercase());
        assert!(code.appears_in(&message));
        assert!(code.appears_in(&shown.replace('-', " ")));
        assert!(!code.appears_in("Nothing to see here, just a normal answer."));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = ReturnCode::parse(&s);
        }

        #[test]
        fn any_two_substitutions_are_caught(
            p1 in 0usize..CODE_SYMBOLS, p2 in 0usize..CODE_SYMBOLS,
            d1 in 1u8..32, d2 in 1u8..32,
        ) {
            let code = ReturnCode::generate(&mut OsRng);
            let mut values = [0u8; CODE_SYMBOLS];
            for (v, c) in values.iter_mut().zip(code.canonical_bytes()) {
                *v = symbols::decode_lenient(char::from(*c)).unwrap();
            }
            values[p1] ^= d1;
            if p2 != p1 { values[p2] ^= d2; }
            prop_assert!(!is_codeword(&values));
        }
    }
}
