//! The audit log's hash chain, shared by the server (which writes it) and the
//! investigator's tool (which checks that a new log extends the one it kept).

use sha2::{Digest, Sha256};

use crate::day::Day;

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry's hash, lower-case hex:
/// `SHA-256("meldpunt audit v1\n" index "\n" day "\n" token "\n" action "\n" case "\n"
/// prev "\n")`, where a missing case is written `-`.
pub fn entry_hash(
    index: u64,
    day: Day,
    token: &str,
    action: &str,
    case: Option<&str>,
    prev: &str,
) -> String {
    let text = format!(
        "meldpunt audit v1\n{index}\n{day}\n{token}\n{action}\n{}\n{prev}\n",
        case.unwrap_or("-")
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_is_fixed() {
        let day = Day::parse("2026-11-23").unwrap();
        let expected = hex::encode(Sha256::digest(
            format!("meldpunt audit v1\n0\n2026-11-23\nalice\nstatus closed\nMP-1\n{GENESIS}\n")
                .as_bytes(),
        ));
        assert_eq!(
            entry_hash(0, day, "alice", "status closed", Some("MP-1"), GENESIS),
            expected
        );
        assert_ne!(
            entry_hash(0, day, "alice", "x", None, GENESIS),
            entry_hash(0, day, "alice", "x", Some("-x"), GENESIS)
        );
    }
}
