//! The embedded registry: investigator tokens in `tokens.json` (hashes only) and the
//! audit log in `audit.jsonl`, plain files beside sled so the operator's commands work
//! while the server runs (sled allows one process). Writes are serialised across
//! processes with file locks.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs2::FileExt;
use meldpunt_crypto::Day;
use meldpunt_wire::audit::{entry_hash, AuditEntry, GENESIS};
use rocket::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::FileDay;
use crate::storage::{Registry, StoreError};
use crate::tokens::TokenRecord;

const TOKENS_FILE: &str = "tokens.json";
pub(super) const LOCK_FILE: &str = "tokens.lock";
pub(super) const AUDIT_FILE: &str = "audit.jsonl";

#[derive(Serialize, Deserialize, Default)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

/// The registry files of a data directory.
pub struct FileRegistry {
    dir: PathBuf,
    /// Serialises audit appends within this process (the file lock does across).
    audit: std::sync::Mutex<()>,
}

impl FileRegistry {
    /// The registry in `data_dir` (files are made when first written).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.to_owned(),
            audit: std::sync::Mutex::new(()),
        }
    }

    /// The audit log's file.
    pub fn audit_path(&self) -> PathBuf {
        self.dir.join(AUDIT_FILE)
    }

    fn read_tokens(&self) -> Result<TokenFile, StoreError> {
        match std::fs::read(self.dir.join(TOKENS_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Corrupt(format!("{TOKENS_FILE}: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
            Err(e) => Err(e.into()),
        }
    }

    fn write_tokens(&self, file: &TokenFile, today: Day) -> Result<(), StoreError> {
        let tmp = self.dir.join(format!("{TOKENS_FILE}.new"));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        let json = serde_json::to_vec_pretty(file)
            .map_err(|e| StoreError::Corrupt(format!("{TOKENS_FILE}: {e}")))?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.dir.join(TOKENS_FILE))?;
        File::open(&self.dir)?.sync_all()?;
        let day = FileDay::of(today);
        day.apply(&self.dir.join(TOKENS_FILE));
        day.apply(&self.dir);
        Ok(())
    }

    fn locked<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        std::fs::create_dir_all(&self.dir)?;
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(LOCK_FILE))?;
        lock.lock_exclusive()?;
        let result = f();
        let _ = FileExt::unlock(&lock);
        FileDay::of(Day::today()).apply(&self.dir.join(LOCK_FILE));
        result
    }

    fn append_line(
        &self,
        day: Day,
        token: &str,
        action: &str,
        case: Option<&str>,
        scope: &[String],
    ) -> Result<AuditEntry, StoreError> {
        let _g = self.audit.lock().unwrap_or_else(|p| p.into_inner());
        std::fs::create_dir_all(&self.dir)?;
        let path = self.audit_path();
        let mut f = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        f.lock_exclusive()?;
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
                scope: scope.to_vec(),
            };
            let mut line = serde_json::to_vec(&entry)
                .map_err(|e| StoreError::Corrupt(format!("{AUDIT_FILE}: {e}")))?;
            line.push(b'\n');
            // A full disk must not leave half a line: cut back to where the line began.
            let before = f.metadata()?.len();
            if let Err(e) = f.write_all(&line).and_then(|()| f.sync_data()) {
                let _ = f.set_len(before);
                let _ = f.sync_data();
                return Err(e.into());
            }
            let stamp = FileDay::of(day);
            let _ = stamp.apply_file(&f);
            stamp.apply(&self.dir);
            Ok(entry)
        })();
        let _ = FileExt::unlock(&f);
        result
    }
}

impl FileRegistry {
    /// Removes a last line that is not a whole audit entry (left by a crash or a full
    /// disk in the middle of an append, before this server cut such lines back itself).
    /// Returns the removed text, or `None` if the last line is whole. Run it with the
    /// server stopped (`meldpunt-server audit repair`).
    pub fn repair_audit(&self) -> Result<Option<String>, StoreError> {
        let path = self.audit_path();
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let body = text.strip_suffix(b"\n").unwrap_or(&text);
        let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let last = &text[start..];
        let whole = last.ends_with(b"\n")
            && serde_json::from_slice::<AuditEntry>(&last[..last.len() - 1]).is_ok();
        if whole || last.is_empty() {
            return Ok(None);
        }
        let f = OpenOptions::new().write(true).open(&path)?;
        f.set_len(start as u64)?;
        f.sync_all()?;
        Ok(Some(String::from_utf8_lossy(last).into_owned()))
    }
}

/// The last complete entry of the file.
fn last_entry(f: &mut File) -> Result<Option<AuditEntry>, StoreError> {
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let from = len.saturating_sub(8192);
    f.seek(SeekFrom::Start(from))?;
    let mut tail = String::new();
    f.read_to_string(&mut tail)?;
    let line = tail
        .trim_end_matches('\n')
        .rsplit('\n')
        .next()
        .unwrap_or_default();
    serde_json::from_str(line).map(Some).map_err(|_| {
        StoreError::Corrupt(
            "the audit log's last line is not a whole audit entry; stop the server and run \
             `meldpunt-server audit repair`"
                .into(),
        )
    })
}

#[async_trait]
impl Registry for FileRegistry {
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(self.read_tokens()?.tokens)
    }

    async fn add_token(&self, record: TokenRecord) -> Result<(), StoreError> {
        self.locked(|| {
            let mut file = self.read_tokens()?;
            if file.tokens.iter().any(|t| t.name == record.name) {
                return Err(StoreError::TokenExists(record.name.clone()));
            }
            let day = record.created;
            file.tokens.push(record);
            self.write_tokens(&file, day)
        })
    }

    async fn revoke_token(&self, name: &str, day: Day) -> Result<(), StoreError> {
        self.locked(|| {
            let mut file = self.read_tokens()?;
            let t = file
                .tokens
                .iter_mut()
                .find(|t| t.name == name)
                .ok_or_else(|| StoreError::NoToken(name.to_owned()))?;
            if t.revoked.is_none() {
                t.revoked = Some(day);
            }
            self.write_tokens(&file, day)
        })
    }

    async fn append_audit(
        &self,
        day: Day,
        token: &str,
        action: &str,
        case: Option<&str>,
        scope: &[String],
    ) -> Result<AuditEntry, StoreError> {
        self.append_line(day, token, action, case, scope)
    }

    async fn audit_entries(&self, from: u64) -> Result<Vec<AuditEntry>, StoreError> {
        let text = match std::fs::read_to_string(self.audit_path()) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate().skip(from as usize) {
            let e: AuditEntry = serde_json::from_str(line).map_err(|_| {
                StoreError::Corrupt(format!(
                    "audit log line {} is not an audit entry; if it is the last line, stop the \
                     server and run `meldpunt-server audit repair`",
                    i + 1
                ))
            })?;
            out.push(e);
        }
        Ok(out)
    }
}
