//! The hash-chained audit log of investigator actions, kept in the registry
//! (`crate::storage::Registry`; in the embedded backend the file `audit.jsonl`).
//!
//! Every entry holds the hash of the one before it, so investigators who keep the
//! latest hash notice if an entry is later removed or changed.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use meldpunt_crypto::Day;

use crate::storage::Registry;
pub use meldpunt_wire::audit::{entry_hash, AuditEntry, GENESIS};

/// Why the log cannot be read or checked.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuditError {
    /// The file cannot be read or written.
    File(String),
    /// The chain breaks at this entry (0-based line), for this reason.
    Broken {
        /// The line (= expected index) where the chain first breaks.
        index: u64,
        /// What is wrong there.
        reason: String,
    },
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::File(e) => write!(f, "the audit log: {e}"),
            AuditError::Broken { index, reason } => {
                write!(f, "the audit log is broken at entry {index}: {reason}")
            }
        }
    }
}

impl std::error::Error for AuditError {}

/// The audit log, kept in the registry.
#[derive(Clone)]
pub struct AuditLog {
    registry: Arc<dyn Registry>,
    /// Reads already written today (day, then "token action case" lines).
    reads: Arc<Mutex<(Option<Day>, HashSet<String>)>>,
}

impl AuditLog {
    /// The log kept in `registry`.
    pub fn new(registry: Arc<dyn Registry>) -> Self {
        Self {
            registry,
            reads: Arc::default(),
        }
    }

    /// Records a read (a list, a view, a download) once per token, action, case and day:
    /// reads show who looked at what, but must not let one token grow the log without
    /// bound. (After a restart a read may be recorded once more that day.)
    pub async fn append_read(
        &self,
        day: Day,
        token: &str,
        action: &str,
        case: Option<&str>,
        scope: &[String],
    ) -> Result<(), AuditError> {
        let line = format!("{token} {action} {}", case.unwrap_or("-"));
        {
            let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
            if reads.0 != Some(day) {
                *reads = (Some(day), HashSet::new());
            }
            if reads.1.contains(&line) {
                return Ok(());
            }
        }
        self.append(day, token, action, case, scope).await?;
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if reads.0 == Some(day) {
            reads.1.insert(line);
        }
        Ok(())
    }

    /// Appends an entry, durably; `scope` names the destinations it concerns (who may
    /// read it in full).
    pub async fn append(
        &self,
        day: Day,
        token: &str,
        action: &str,
        case: Option<&str>,
        scope: &[String],
    ) -> Result<AuditEntry, AuditError> {
        self.registry
            .append_audit(day, token, action, case, scope)
            .await
            .map_err(|e| AuditError::File(e.to_string()))
    }

    /// The entries from index `from` on, checked to chain to each other (and from the
    /// start, when `from` is 0); `None` if the log has fewer than `from` entries.
    pub async fn read_from(&self, from: u64) -> Result<Option<Vec<AuditEntry>>, AuditError> {
        let entries = self
            .registry
            .audit_entries(from.saturating_sub(1))
            .await
            .map_err(|e| AuditError::File(e.to_string()))?;
        if from == 0 {
            meldpunt_wire::audit::check_chain(&entries).map_err(|b| AuditError::Broken {
                index: b.index,
                reason: b.reason,
            })?;
            return Ok(Some(entries));
        }
        let Some((before, rest)) = entries.split_first() else {
            return Ok(None);
        };
        meldpunt_wire::audit::check_chain_from(rest, from, &before.hash).map_err(|b| {
            AuditError::Broken {
                index: b.index,
                reason: b.reason,
            }
        })?;
        Ok(Some(rest.to_vec()))
    }

    /// Every entry, checked: the chain must be whole.
    pub async fn read_verified(&self) -> Result<Vec<AuditEntry>, AuditError> {
        let entries = self
            .registry
            .audit_entries(0)
            .await
            .map_err(|e| AuditError::File(e.to_string()))?;
        meldpunt_wire::audit::check_chain(&entries).map_err(|b| AuditError::Broken {
            index: b.index,
            reason: b.reason,
        })?;
        Ok(entries)
    }
}

/// Checks a whole log text and returns its entries, or names the first broken entry.
pub fn verify_text(text: &str) -> Result<Vec<AuditEntry>, AuditError> {
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let e: AuditEntry = serde_json::from_str(line).map_err(|_| AuditError::Broken {
            index: i as u64,
            reason: "the line is not an audit entry".into(),
        })?;
        entries.push(e);
    }
    meldpunt_wire::audit::check_chain(&entries).map_err(|b| AuditError::Broken {
        index: b.index,
        reason: b.reason,
    })?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_verifies_and_names_the_first_broken_entry() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(Arc::new(
            crate::storage::embedded::registry::FileRegistry::new(dir.path()),
        ));
        let day = Day::parse("2026-11-23").unwrap();
        let rt = rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for i in 0..4 {
            rt.block_on(log.append(
                day,
                "alice",
                "download",
                Some(&format!("MP-000000000{i}")),
                &["bureau".to_owned()],
            ))
            .unwrap();
        }
        let entries = rt.block_on(log.read_verified()).unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].prev, GENESIS);
        assert_eq!(entries[3].prev, entries[2].hash);

        let text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
        let altered = text.replacen("MP-0000000002", "MP-0000000009", 1);
        match verify_text(&altered) {
            Err(AuditError::Broken { index, .. }) => assert_eq!(index, 2),
            other => panic!("expected a broken chain, got {other:?}"),
        }
        let lines: Vec<&str> = text.lines().collect();
        let removed = format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3]);
        match verify_text(&removed) {
            Err(AuditError::Broken { index, .. }) => assert_eq!(index, 1),
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }
}
