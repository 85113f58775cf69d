//! The hash-chained audit log of investigator actions, in `audit.jsonl`.
//!
//! Every entry holds the hash of the one before it, so investigators who keep the
//! latest hash notice if an entry is later removed or changed. A plain file, not sled,
//! so `meldpunt-server audit verify` and the token commands work while the server runs;
//! appends are serialised across processes with a file lock.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs2::FileExt;
use meldpunt_crypto::Day;

const AUDIT_FILE: &str = "audit.jsonl";
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

/// The audit log of a data directory.
pub struct AuditLog {
    path: PathBuf,
    /// Serialises appends within this process (the file lock does across processes).
    local: std::sync::Mutex<()>,
}

impl AuditLog {
    /// The log in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join(AUDIT_FILE),
            local: std::sync::Mutex::new(()),
        }
    }

    /// Appends an entry and syncs it to disk.
    pub fn append(
        &self,
        day: Day,
        token: &str,
        action: &str,
        case: Option<&str>,
    ) -> Result<AuditEntry, AuditError> {
        let io = |e: std::io::Error| AuditError::File(e.to_string());
        let _g = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(io)?;
        f.lock_exclusive().map_err(io)?;
        let result = (|| {
            let (index, prev) = match last_entry(&mut f)? {
                Some(e) => (e.index + 1, e.hash),
                None => (0, GENESIS.to_owned()),
            };
            let hash = entry_hash(index, day, token, action, case, &prev);
            let entry = AuditEntry {
                index,
                day,
                token: token.to_owned(),
                action: action.to_owned(),
                case: case.map(str::to_owned),
                prev,
                hash,
            };
            let mut line =
                serde_json::to_vec(&entry).map_err(|e| AuditError::File(e.to_string()))?;
            line.push(b'\n');
            f.write_all(&line).map_err(io)?;
            f.sync_data().map_err(io)?;
            let stamp = crate::clock::FileDay::of(day);
            let _ = stamp.apply_file(&f);
            if let Some(dir) = self.path.parent() {
                stamp.apply(dir);
            }
            Ok(entry)
        })();
        let _ = FileExt::unlock(&f);
        result
    }

    /// Every entry, checked: the chain must be whole.
    pub fn read_verified(&self) -> Result<Vec<AuditEntry>, AuditError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(AuditError::File(e.to_string())),
        };
        verify_text(&text)
    }
}

/// The last complete entry of the file.
fn last_entry(f: &mut File) -> Result<Option<AuditEntry>, AuditError> {
    let io = |e: std::io::Error| AuditError::File(e.to_string());
    let len = f.metadata().map_err(io)?.len();
    if len == 0 {
        return Ok(None);
    }
    let from = len.saturating_sub(8192);
    f.seek(SeekFrom::Start(from)).map_err(io)?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).map_err(io)?;
    let line = tail
        .trim_end_matches('\n')
        .rsplit('\n')
        .next()
        .unwrap_or_default();
    serde_json::from_str(line)
        .map(Some)
        .map_err(|_| AuditError::Broken {
            index: u64::MAX,
            reason: "the last line is not an audit entry; run `meldpunt-server audit verify`"
                .into(),
        })
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
        let log = AuditLog::new(dir.path());
        let day = Day::parse("2026-11-23").unwrap();
        for i in 0..4 {
            log.append(day, "alice", "download", Some(&format!("MP-000000000{i}")))
                .unwrap();
        }
        let entries = log.read_verified().unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].prev, GENESIS);
        assert_eq!(entries[3].prev, entries[2].hash);

        let text = std::fs::read_to_string(dir.path().join(AUDIT_FILE)).unwrap();
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
