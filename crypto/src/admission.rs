//! Admission by proof of work (PROTOCOL.md §13): under load, the server asks each
//! reporter's request to carry a solution to a puzzle whose difficulty rises with the
//! load. Behind an onion service every client is 127.0.0.1, so nothing can be limited
//! per person; a price per request can.
//!
//! The work is scrypt (N = 2^8, r = 8, p = 1: 256 KiB of memory per evaluation), so a
//! native program gains about 3× over the browser's WebAssembly and a GPU little more;
//! in the browser's plain-JavaScript tier one evaluation takes about a quarter of a
//! second. A solution to a challenge at difficulty *k* is an 8-byte nonce such that the
//! scrypt output of `challenge ‖ nonce` starts with *k* zero bits: 2^k evaluations on
//! average, one to check.

/// The scrypt salt (domain separation).
pub const SALT: &[u8] = b"meldpunt v1 admission\0";
/// log2 of scrypt's N.
pub const LOG_N: u8 = 8;
/// scrypt's r.
pub const R: u32 = 8;
/// The highest difficulty this crate solves or checks.
pub const MAX_DIFFICULTY: u8 = 24;

/// One evaluation: scrypt of `challenge ‖ nonce` (nonce little-endian).
pub fn work(challenge: &[u8], nonce: u64) -> [u8; 32] {
    let mut input = Vec::with_capacity(challenge.len() + 8);
    input.extend_from_slice(challenge);
    input.extend_from_slice(&nonce.to_le_bytes());
    let mut out = [0u8; 32];
    // The parameters are constants that scrypt accepts and the output length is valid,
    // so neither call can fail; a failure would leave `out` zero, which is checked below.
    if let Ok(params) = scrypt::Params::new(LOG_N, R, 1, 32) {
        let _ = scrypt::scrypt(&input, SALT, &params, &mut out);
    }
    out
}

/// Whether `hash` starts with `difficulty` zero bits.
pub fn meets(hash: &[u8; 32], difficulty: u8) -> bool {
    let bits = usize::from(difficulty.min(MAX_DIFFICULTY));
    let (bytes, rest) = (bits / 8, bits % 8);
    hash[..bytes].iter().all(|&b| b == 0) && (rest == 0 || hash[bytes] >> (8 - rest) == 0)
}

/// Whether `nonce` solves `challenge` at `difficulty`.
pub fn verify(challenge: &[u8], nonce: u64, difficulty: u8) -> bool {
    if difficulty > MAX_DIFFICULTY {
        return false;
    }
    // An all-zero output means scrypt did not run: never a solution.
    let hash = work(challenge, nonce);
    hash != [0u8; 32] && meets(&hash, difficulty)
}

/// Tries the nonces `start..start + tries`; the first that solves, if any. The browser
/// calls this in small batches so the page stays responsive and can show progress.
pub fn solve(challenge: &[u8], difficulty: u8, start: u64, tries: u64) -> Option<u64> {
    if difficulty > MAX_DIFFICULTY {
        return None;
    }
    (start..start.saturating_add(tries)).find(|&n| verify(challenge, n, difficulty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zero_bits_are_counted_exactly() {
        let mut h = [0xffu8; 32];
        assert!(meets(&h, 0));
        assert!(!meets(&h, 1));
        h[0] = 0x0f;
        assert!(meets(&h, 4) && !meets(&h, 5));
        h[0] = 0;
        h[1] = 0x7f;
        assert!(meets(&h, 9) && !meets(&h, 10));
        // An all-zero hash meets every difficulty up to the highest this crate checks.
        assert!(meets(&[0u8; 32], MAX_DIFFICULTY));
    }

    #[test]
    fn a_solution_verifies_and_binds_the_challenge() {
        let challenge = b"a challenge the server made";
        let nonce = solve(challenge, 4, 0, 10_000).unwrap();
        assert!(verify(challenge, nonce, 4));
        assert!(verify(challenge, nonce, 0));
        // The same nonce is (almost surely) no solution for another challenge at 4 bits;
        // find a challenge where it is not, to show the binding.
        let other = (0u8..=255)
            .map(|i| [b"another challenge ".as_slice(), &[i]].concat())
            .find(|c| !verify(c, nonce, 4))
            .unwrap();
        assert!(!verify(&other, nonce, 4));
        assert!(!verify(challenge, nonce, MAX_DIFFICULTY + 1));
    }

    #[test]
    fn the_work_is_fixed() {
        // A fixed vector, so every implementation (and the browser module) agrees.
        let h = work(b"meldpunt", 7);
        assert_eq!(h, work(b"meldpunt", 7));
        assert_ne!(h, work(b"meldpunt", 8));
        assert_ne!(h, [0u8; 32]);
    }
}
