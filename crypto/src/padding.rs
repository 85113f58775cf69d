//! Length hiding before encryption (PROTOCOL.md §6).
//!
//! Text envelopes are padded to at least 16 KiB, so every ordinary report and message
//! has the same size; above that, Padmé (Nikitin et al., PETS 2019) rounds up so that at
//! most O(log log L) bits of the length leak, with at most 12% overhead.

/// The smallest padded size of every envelope and attachment.
pub const MIN_PADDED: u64 = 16 * 1024;

/// Lengths above this are left unpadded rather than risk overflow; nothing real is
/// that large (4 EiB), and callers reject such sizes long before.
pub const MAX_PADDED_INPUT: u64 = 1 << 62;

/// Padmé: the padded length of a length `len`.
pub fn padme(len: u64) -> u64 {
    if !(2..=MAX_PADDED_INPUT).contains(&len) {
        return len;
    }
    let e = 63 - u64::from(len.leading_zeros()); // floor(log2 len)
    let s = 64 - u64::from(e.leading_zeros()); // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1u64 << last_bits) - 1;
    (len + mask) & !mask
}

/// The size a plaintext of `len` bytes is padded to: `max(16 KiB, padme(len))`.
pub fn padded_len(len: u64) -> u64 {
    if len <= MIN_PADDED {
        MIN_PADDED
    } else {
        padme(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(padme(0), 0);
        assert_eq!(padme(1), 1);
        assert_eq!(padme(9), 10);
        assert_eq!(padme(100), 104);
        assert_eq!(padme(1000), 1024);
        assert_eq!(padme(16_385), 17_408);
        assert_eq!(padded_len(1), 16 * 1024);
        assert_eq!(padded_len(16 * 1024), 16 * 1024);
        assert_eq!(padme(100 * 1024 * 1024), 100 * 1024 * 1024);
        assert_eq!(padme(100 * 1024 * 1024 + 1), 100 * 1024 * 1024 + (1 << 21));
    }

    #[test]
    fn absurd_lengths_do_not_overflow() {
        for len in [
            u64::MAX,
            u64::MAX - 1,
            MAX_PADDED_INPUT,
            MAX_PADDED_INPUT + 1,
        ] {
            assert!(padded_len(len) >= len);
        }
    }

    proptest! {
        #[test]
        fn padding_grows_by_at_most_12_percent(len in 16_385u64..(1u64 << 40)) {
            let p = padded_len(len);
            prop_assert!(p >= len);
            prop_assert!((p - len) as f64 <= len as f64 * 0.12);
            prop_assert_eq!(padded_len(p), p);
        }
    }
}
