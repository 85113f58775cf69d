//! The server's audit log of investigator actions, checked on every pull.
//!
//! The entries and their hash chain are the wire contract's
//! ([`meldpunt_wire::audit`]); this module adds what only the investigator's bundle
//! knows: the log it verified before and its head. A new log must be a whole chain,
//! contain that log unchanged and go on from it. Anything else means someone rewrote
//! the server's history.

use std::fmt;

use meldpunt_wire::audit::{check_records_from, ChainBreak};

use meldpunt_crypto::Direction;

use crate::bundle::AuditHead;

pub use meldpunt_wire::audit::{AuditEntry, AuditRecord, GENESIS};

/// Why a new audit log is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    /// The log is not JSON entries.
    Unreadable(String),
    /// The chain is broken inside the new log.
    Broken(ChainBreak),
    /// The new log is shorter than the one verified before.
    Truncated {
        /// Entries in the new log.
        now: u64,
        /// The head verified before.
        head: u64,
    },
    /// An entry verified before is different now.
    Rewritten {
        /// The first entry that differs.
        index: u64,
    },
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Unreadable(e) => write!(f, "the audit log is not readable: {e}"),
            AuditError::Broken(e) => e.fmt(f),
            AuditError::Truncated { now, head } => write!(
                f,
                "the audit log now has {now} entries, but this bundle verified entry {head} \
                 before: entries were REMOVED"
            ),
            AuditError::Rewritten { index } => write!(
                f,
                "entry {index} of the audit log is not the entry this bundle verified before: \
                 the log was REWRITTEN"
            ),
        }
    }
}

impl std::error::Error for AuditError {}

/// Reads a log sent as a JSON array or as JSON lines.
pub fn parse(body: &[u8]) -> Result<Vec<AuditRecord>, AuditError> {
    let text = std::str::from_utf8(body).map_err(|e| AuditError::Unreadable(e.to_string()))?;
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| AuditError::Unreadable(e.to_string()));
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| AuditError::Unreadable(e.to_string())))
        .collect()
}

/// The first index where `log` has another entry than `known` (compared by hash: the
/// hash commits to the content, and an entry redacted for this token has no content).
fn first_difference(log: &[AuditRecord], known: &[AuditRecord]) -> Option<u64> {
    known
        .iter()
        .zip(log)
        .position(|(a, b)| a.index() != b.index() || a.hash() != b.hash())
        .map(|i| i as u64)
}

/// The log verified before (`known`, whole and checked) extended by `fetched`: the
/// entries the server sent from `known`'s last entry on. That entry must come back
/// unchanged — its hash commits to every entry before it — and the rest must go on from
/// it.
pub fn extend(
    known: &[AuditRecord],
    fetched: Vec<AuditRecord>,
) -> Result<Vec<AuditRecord>, AuditError> {
    let Some(head) = known.last() else {
        check_records_from(&fetched, 0, GENESIS).map_err(AuditError::Broken)?;
        return Ok(fetched);
    };
    let mut fetched = fetched.into_iter();
    match fetched.next() {
        None => {
            return Err(AuditError::Truncated {
                now: head.index(),
                head: head.index(),
            })
        }
        Some(first) if first.index() != head.index() || first.hash() != head.hash() => {
            return Err(AuditError::Rewritten {
                index: head.index(),
            })
        }
        Some(_) => {}
    }
    let new: Vec<AuditRecord> = fetched.collect();
    check_records_from(&new, known.len() as u64, head.hash()).map_err(|b| {
        if b.index == known.len() as u64 && b.reason.contains("does not follow") {
            AuditError::Rewritten {
                index: b.index.saturating_sub(1),
            }
        } else {
            AuditError::Broken(b)
        }
    })?;
    let mut log = known.to_vec();
    log.extend(new);
    Ok(log)
}

/// Checks a whole log, and that it extends what was verified before (`known`, whose
/// last entry is `head`).
pub fn verify(
    log: &[AuditRecord],
    known: &[AuditRecord],
    head: Option<&AuditHead>,
) -> Result<(), AuditError> {
    check_records_from(log, 0, GENESIS).map_err(AuditError::Broken)?;
    if let Some(i) = first_difference(log, known) {
        return Err(AuditError::Rewritten { index: i });
    }
    if let Some(head) = head {
        if (log.len() as u64) <= head.index {
            return Err(AuditError::Truncated {
                now: log.len() as u64,
                head: head.index,
            });
        }
        let at_head = usize::try_from(head.index).ok().and_then(|i| log.get(i));
        if at_head.is_none_or(|e| e.hash() != head.hash) {
            return Err(AuditError::Rewritten { index: head.index });
        }
    }
    if known.len() > log.len() {
        return Err(AuditError::Truncated {
            now: log.len() as u64,
            head: known.len() as u64 - 1,
        });
    }
    Ok(())
}

/// The messages of `case` the audit log records (`message <sha256>` for the bureau's,
/// `reporter_message <sha256>` for the reporter's), with their hashes; `None` when the
/// log records no message by hash at all (a server from before it did), so nothing can
/// be cross-checked.
pub fn audited_messages(records: &[AuditRecord], case: &str) -> Option<Vec<(Direction, [u8; 32])>> {
    let mut any = false;
    let mut out = Vec::new();
    for e in records.iter().filter_map(AuditRecord::entry) {
        let Some((action, hash)) = e.action.split_once(' ') else {
            continue;
        };
        let direction = match action {
            "message" => Direction::ToReporter,
            "reporter_message" => Direction::FromReporter,
            _ => continue,
        };
        any = true;
        let mut h = [0u8; 32];
        if e.case.as_deref() == Some(case)
            && hex::decode_to_slice(hash, &mut h).is_ok()
            && !out.contains(&(direction, h))
        {
            out.push((direction, h));
        }
    }
    any.then_some(out)
}

/// The case's thread files against the audit log, by hash, without decrypting
/// anything: a message no entry records (written outside the API) and an entry whose
/// message the download lacks (dropped). Empty when they agree, or when the log records
/// no message by hash at all.
pub fn cross_check(records: &[AuditRecord], manifest: &meldpunt_wire::CaseManifest) -> Vec<String> {
    let case = manifest.summary.case.as_str();
    let Some(audited) = audited_messages(records, case) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let mut held = Vec::new();
    for f in &manifest.files {
        if let meldpunt_wire::CaseFile::Message(..) = f.path {
            let mut h = [0u8; 32];
            if hex::decode_to_slice(&f.sha256, &mut h).is_ok() {
                held.push(h);
                if !audited.iter().any(|(_, a)| *a == h) {
                    problems.push(format!(
                        "{}: WRITTEN OUTSIDE THE API: no entry of the audit log records it",
                        f.path
                    ));
                }
            }
        }
    }
    for (direction, h) in &audited {
        if !held.contains(h) {
            problems.push(format!(
                "the audit log records a message {} ({}…) that the download does not hold: \
                 the server dropped it",
                meldpunt_crypto::reader::direction_words(*direction),
                &hex::encode(h)[..16]
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_crypto::Day;

    fn chain(n: u64) -> Vec<AuditRecord> {
        entries(n).into_iter().map(AuditRecord::Entry).collect()
    }

    fn entries(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_owned();
        (0..n)
            .map(|index| {
                let mut e = AuditEntry {
                    index,
                    day: Day::parse("2026-11-23").unwrap(),
                    token: "anna".into(),
                    action: "download".into(),
                    case: Some("MP-7KQ2M9XD4R".into()),
                    prev: prev.clone(),
                    hash: String::new(),
                    scope: vec![],
                };
                e.hash = e.expected_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn head(log: &[AuditRecord]) -> AuditHead {
        let last = log.last().unwrap();
        AuditHead {
            index: last.index(),
            hash: last.hash().to_owned(),
        }
    }

    #[test]
    fn a_longer_log_extends_the_old_one() {
        let old = chain(3);
        let new = chain(5);
        verify(&new, &old, Some(&head(&old))).unwrap();
        let lines: Vec<String> = new
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        assert_eq!(parse(lines.join("\n").as_bytes()).unwrap().len(), 5);
        assert_eq!(
            parse(serde_json::to_string(&new).unwrap().as_bytes())
                .unwrap()
                .len(),
            5
        );
    }

    #[test]
    fn removal_rewriting_and_breaks_are_caught() {
        let old = chain(4);
        assert!(matches!(
            verify(&chain(2), &old, Some(&head(&old))),
            Err(AuditError::Truncated { .. })
        ));
        // Rewritten with recomputed hashes: the chain holds, but it is not the old log.
        let mut forged = entries(5);
        forged[1].action = "nothing".into();
        let mut prev = forged[0].hash.clone();
        for e in forged.iter_mut().skip(1) {
            e.prev = prev.clone();
            e.hash = e.expected_hash();
            prev = e.hash.clone();
        }
        let forged: Vec<AuditRecord> = forged.into_iter().map(AuditRecord::Entry).collect();
        verify(&forged, &[], None).unwrap();
        assert_eq!(
            verify(&forged, &old, Some(&head(&old))),
            Err(AuditError::Rewritten { index: 1 })
        );
        assert_eq!(
            verify(&forged, &[], Some(&head(&old))),
            Err(AuditError::Rewritten { index: 3 })
        );
        assert_eq!(
            verify(&forged, &old, None),
            Err(AuditError::Rewritten { index: 1 })
        );
        // Altered without recomputing.
        let mut altered = entries(3);
        altered[2].token = "mallory".into();
        let altered: Vec<AuditRecord> = altered.into_iter().map(AuditRecord::Entry).collect();
        assert!(matches!(
            verify(&altered, &[], None),
            Err(AuditError::Broken(ChainBreak { index: 2, .. }))
        ));
        let mut dropped = chain(4);
        dropped.remove(1);
        assert!(matches!(
            verify(&dropped, &[], None),
            Err(AuditError::Broken(ChainBreak { index: 1, .. }))
        ));
    }
}
