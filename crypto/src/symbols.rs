//! Crockford base32 symbols, shared by return codes and fingerprints.
//!
//! The alphabet leaves out I, L, O and U so that what a person writes down can be read
//! back; when reading, `O` counts as `0` and `I`/`L` as `1`.

/// A 5-bit value, 0..=31.
pub(crate) type Symbol = u8;

/// The 32 symbols in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The ASCII symbol for a 5-bit value.
pub(crate) fn encode(value: Symbol) -> u8 {
    ALPHABET[usize::from(value & 0x1f)]
}

/// The value of a typed character, folding case and look-alikes; `None` if it is not a
/// symbol at all.
pub(crate) fn decode_lenient(c: char) -> Option<Symbol> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        other => other,
    };
    if !c.is_ascii() {
        return None;
    }
    ALPHABET
        .iter()
        .position(|&a| a == c as u8)
        .map(|p| p as Symbol)
}

/// Encodes the first `count` 5-bit groups of `bytes` (big-endian bit order) as symbols.
pub(crate) fn encode_bits(bytes: &[u8], count: usize) -> String {
    let mut out = String::with_capacity(count);
    for i in 0..count {
        let bit = i * 5;
        let mut v: u16 = u16::from(bytes[bit / 8]) << 8;
        if bit / 8 + 1 < bytes.len() {
            v |= u16::from(bytes[bit / 8 + 1]);
        }
        let value = ((v >> (11 - (bit % 8))) & 0x1f) as Symbol;
        out.push(char::from(encode(value)));
    }
    out
}

/// Joins symbols into groups of `size` separated by `sep`.
pub(crate) fn group(symbols: &str, size: usize, sep: char) -> String {
    let mut out = String::with_capacity(symbols.len() + symbols.len() / size);
    for (i, c) in symbols.chars().enumerate() {
        if i > 0 && i % size == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_look_alikes() {
        for v in 0..32u8 {
            assert_eq!(decode_lenient(char::from(encode(v))), Some(v));
            assert_eq!(
                decode_lenient(char::from(encode(v)).to_ascii_lowercase()),
                Some(v)
            );
        }
        assert_eq!(decode_lenient('o'), Some(0));
        assert_eq!(decode_lenient('I'), Some(1));
        assert_eq!(decode_lenient('l'), Some(1));
        assert_eq!(decode_lenient('U'), None);
        assert_eq!(decode_lenient('é'), None);
    }

    #[test]
    fn bits_are_big_endian() {
        // 0b00001_00010_00011_... : first symbols 1, 2, 3.
        let bytes = [0b0000_1000, 0b1000_0110, 0, 0, 0];
        assert_eq!(&encode_bits(&bytes, 3), "123");
        assert_eq!(encode_bits(&[0xff; 15], 24), "Z".repeat(24));
    }
}
