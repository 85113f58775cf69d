//! The audit log of investigator actions: entries, and the hash chain that lets
//! investigators notice a removed or rewritten entry. The server writes the log; the
//! investigator's tool checks that each new log extends the one it verified before.

use std::fmt;

use meldpunt_crypto::Day;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// One audit entry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Position in the log, from 0.
    pub index: u64,
    /// The day of the action.
    pub day: Day,
    /// The token's name (or `server` for the server's own retention).
    pub token: String,
    /// What was done.
    pub action: String,
    /// The case it concerned.
    pub case: Option<String>,
    /// The previous entry's hash.
    pub prev: String,
    /// This entry's hash.
    pub hash: String,
    /// The destinations the entry concerns (a case's, or a token's): who may read it.
    /// Not part of the hash; empty in entries written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
}

/// An entry as a reader receives it: whole, or — when it concerns only destinations the
/// reader's token does not cover — only its place in the chain, so the chain still
/// verifies without telling one destination's investigators about another's cases.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum AuditRecord {
    /// The whole entry.
    Entry(AuditEntry),
    /// Only its place in the chain.
    Redacted(Redacted),
}

/// An entry of another destination: its index, the hash before it and its own hash.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Redacted {
    /// Position in the log.
    pub index: u64,
    /// The previous entry's hash.
    pub prev: String,
    /// This entry's hash (its content is not shown, so it cannot be recomputed).
    pub hash: String,
    /// Always true.
    pub redacted: bool,
}

impl AuditRecord {
    /// The record for a reader whose token covers `destinations`.
    pub fn for_reader(entry: AuditEntry, destinations: &[String]) -> Self {
        if entry.scope.is_empty() || entry.scope.iter().any(|d| destinations.contains(d)) {
            AuditRecord::Entry(entry)
        } else {
            AuditRecord::Redacted(Redacted {
                index: entry.index,
                prev: entry.prev,
                hash: entry.hash,
                redacted: true,
            })
        }
    }

    /// Its position in the log.
    pub fn index(&self) -> u64 {
        match self {
            AuditRecord::Entry(e) => e.index,
            AuditRecord::Redacted(r) => r.index,
        }
    }

    /// The previous entry's hash.
    pub fn prev(&self) -> &str {
        match self {
            AuditRecord::Entry(e) => &e.prev,
            AuditRecord::Redacted(r) => &r.prev,
        }
    }

    /// Its hash.
    pub fn hash(&self) -> &str {
        match self {
            AuditRecord::Entry(e) => &e.hash,
            AuditRecord::Redacted(r) => &r.hash,
        }
    }

    /// The whole entry, if shown.
    pub fn entry(&self) -> Option<&AuditEntry> {
        match self {
            AuditRecord::Entry(e) => Some(e),
            AuditRecord::Redacted(_) => None,
        }
    }
}

/// Checks that `records` are a whole chain going on from entry `first - 1` (hash
/// `prev`): every link, and the hash of every entry shown in full.
pub fn check_records_from<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
    first: u64,
    prev: &str,
) -> Result<(), ChainBreak> {
    let mut prev = prev.to_owned();
    for (i, r) in records.into_iter().enumerate() {
        let index = first + i as u64;
        let broken = |reason: String| ChainBreak { index, reason };
        if r.index() != index {
            return Err(broken(format!(
                "it says it is entry {}: an entry was removed or inserted",
                r.index()
            )));
        }
        if r.prev() != prev {
            return Err(broken("it does not follow the entry before it".into()));
        }
        if let Some(e) = r.entry() {
            if e.hash != e.expected_hash() {
                return Err(broken(
                    "its content does not match its hash: it was altered".into(),
                ));
            }
        }
        prev = r.hash().to_owned();
    }
    Ok(())
}

impl AuditEntry {
    /// The hash this entry should carry.
    pub fn expected_hash(&self) -> String {
        entry_hash(
            self.index,
            self.day,
            &self.token,
            &self.action,
            self.case.as_deref(),
            &self.prev,
        )
    }
}

/// Where a hash chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first entry that does not fit (its expected index).
    pub index: u64,
    /// Why.
    pub reason: String,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the audit log's hash chain is broken at entry {}: {}",
            self.index, self.reason
        )
    }
}

impl std::error::Error for ChainBreak {}

/// Checks that `entries` are a whole chain from the first entry on.
pub fn check_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<(), ChainBreak> {
    check_chain_from(entries, 0, GENESIS)
}

/// Checks that `entries` are a whole chain that goes on from entry `first - 1`, whose
/// hash is `prev` (for `first` = 0, [`GENESIS`]): how a log fetched from where the
/// reader left off is checked.
pub fn check_chain_from<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    first: u64,
    prev: &str,
) -> Result<(), ChainBreak> {
    let mut prev = prev.to_owned();
    for (i, e) in entries.into_iter().enumerate() {
        let index = first + i as u64;
        let broken = |reason: String| ChainBreak { index, reason };
        if e.index != index {
            return Err(broken(format!(
                "it says it is entry {}: an entry was removed or inserted",
                e.index
            )));
        }
        if e.prev != prev {
            return Err(broken("it does not follow the entry before it".into()));
        }
        if e.hash != e.expected_hash() {
            return Err(broken(
                "its content does not match its hash: it was altered".into(),
            ));
        }
        prev.clone_from(&e.hash);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let day = Day::parse("2026-11-23").unwrap();
        let mut out: Vec<AuditEntry> = Vec::new();
        for index in 0..n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or(GENESIS.into());
            let case = Some(format!("MP-000000000{index}"));
            let hash = entry_hash(index, day, "alice", "download", case.as_deref(), &prev);
            out.push(AuditEntry {
                index,
                day,
                token: "alice".into(),
                action: "download".into(),
                case,
                prev,
                hash,
                scope: vec![if index % 2 == 0 {
                    "bureau"
                } else {
                    "commission"
                }
                .into()],
            });
        }
        out
    }

    #[test]
    fn a_chain_with_foreign_entries_redacted_still_verifies() {
        let log = chain(4);
        let mine = ["bureau".to_owned()];
        let records: Vec<AuditRecord> = log
            .iter()
            .cloned()
            .map(|e| AuditRecord::for_reader(e, &mine))
            .collect();
        assert!(records[0].entry().is_some() && records[1].entry().is_none());
        let json = serde_json::to_string(&records).unwrap();
        assert!(!json.contains("MP-0000000001"), "{json}");
        let back: Vec<AuditRecord> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, records);
        assert_eq!(check_records_from(&back, 0, GENESIS), Ok(()));
        // A rewritten foreign entry breaks the link after it.
        let mut bad = back.clone();
        if let AuditRecord::Redacted(r) = &mut bad[1] {
            r.hash = "00".into();
        }
        assert_eq!(check_records_from(&bad, 0, GENESIS).unwrap_err().index, 2);
    }

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

    #[test]
    fn a_chain_verifies_and_names_the_first_broken_entry() {
        let log = chain(4);
        assert_eq!(check_chain(&log), Ok(()));
        let mut altered = log.clone();
        altered[2].case = Some("MP-0000000009".into());
        assert_eq!(check_chain(&altered).unwrap_err().index, 2);
        let removed: Vec<AuditEntry> = [0, 2, 3].iter().map(|&i| log[i].clone()).collect();
        assert_eq!(check_chain(&removed).unwrap_err().index, 1);
    }
}
