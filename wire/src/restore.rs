//! A restore from backup, announced: the statement the operator signs when restoring
//! (`scripts/restore.sh`), and how it is carried in the audit log.
//!
//! A restore takes the server's audit log back to the backup's head, so every
//! investigator's bundle then holds entries the server no longer has — exactly what a
//! rewrite of history looks like. The operator therefore signs a statement naming the
//! backup and the audit head it goes back to, with the operator's restore key (an SSH
//! key kept offline); the server writes it into the log as the first entry after that
//! head. The investigator's tool accepts the restore only if the signature verifies
//! with the restore key it pinned and the statement's head is the one its own log has
//! at that place; anything else is still refused as a rewrite.

use std::fmt;

use meldpunt_crypto::Day;

/// The SSH signature namespace of restore statements (`ssh-keygen -Y sign -n …`).
pub const NAMESPACE: &str = "meldpunt-restore";

/// The audit action of an announced restore: `restored <statement hex> <signature hex>`.
pub const ACTION: &str = "restored";

/// The first line of a statement.
const TITLE: &str = "Meldpunt restore statement";

/// What the operator states when restoring a backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreStatement {
    /// The day of the restore.
    pub restored: Day,
    /// The SHA-256 of the backup file restored (hex).
    pub backup_sha256: String,
    /// How many entries the restored audit log has.
    pub audit_entries: u64,
    /// The hash of its last entry (hex; the genesis hash for an empty log).
    pub audit_head: String,
}

/// Why a statement or its audit entry cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatementError {
    /// The text is not a restore statement.
    NotAStatement(String),
}

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatementError::NotAStatement(why) => write!(f, "not a restore statement: {why}"),
        }
    }
}

impl std::error::Error for StatementError {}

fn hex64(value: &str, what: &str) -> Result<String, StatementError> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(value.to_owned())
    } else {
        Err(StatementError::NotAStatement(format!(
            "{what} is not 64 lowercase hex digits"
        )))
    }
}

impl RestoreStatement {
    /// Reads a statement as `scripts/restore.sh` writes it: the title line, then
    /// `restored:`, `backup-sha256:`, `audit-entries:` and `audit-head:` lines.
    pub fn parse(text: &str) -> Result<Self, StatementError> {
        let bad = |why: &str| StatementError::NotAStatement(why.to_owned());
        let mut lines = text.lines();
        if lines.next() != Some(TITLE) {
            return Err(bad("the first line is not the title"));
        }
        let mut field = |name: &str| -> Result<String, StatementError> {
            let line = lines
                .next()
                .ok_or_else(|| bad(&format!("{name} is missing")))?;
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(": "))
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("expected {name}, found {line:?}")))
        };
        let restored = field("restored")?;
        let backup = field("backup-sha256")?;
        let entries = field("audit-entries")?;
        let head = field("audit-head")?;
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(bad("it has more lines than a statement"));
        }
        Ok(RestoreStatement {
            restored: Day::parse(&restored).ok_or_else(|| bad("restored is not a day"))?,
            backup_sha256: hex64(&backup, "backup-sha256")?,
            audit_entries: entries
                .parse()
                .map_err(|_| bad("audit-entries is not a number"))?,
            audit_head: hex64(&head, "audit-head")?,
        })
    }

    /// The statement as text, as it is signed.
    pub fn to_text(&self) -> String {
        format!(
            "{TITLE}\nrestored: {}\nbackup-sha256: {}\naudit-entries: {}\naudit-head: {}\n",
            self.restored, self.backup_sha256, self.audit_entries, self.audit_head
        )
    }
}

/// A signed statement as the audit log carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// The statement's exact text (what was signed).
    pub statement: String,
    /// The SSH signature (`-----BEGIN SSH SIGNATURE-----` …).
    pub signature: String,
}

impl Announcement {
    /// The audit action that carries it.
    pub fn action(&self) -> String {
        format!(
            "{ACTION} {} {}",
            hex::encode(self.statement.as_bytes()),
            hex::encode(self.signature.as_bytes())
        )
    }

    /// Reads an audit action; `None` unless it is a restore announcement.
    pub fn from_action(action: &str) -> Option<Self> {
        let mut parts = action.split(' ');
        if parts.next() != Some(ACTION) {
            return None;
        }
        let text = |p: Option<&str>| {
            p.and_then(|h| hex::decode(h).ok())
                .and_then(|b| String::from_utf8(b).ok())
        };
        let statement = text(parts.next())?;
        let signature = text(parts.next())?;
        parts.next().is_none().then_some(Announcement {
            statement,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_reads_back_and_rides_in_an_audit_action() {
        let s = RestoreStatement {
            restored: Day::parse("2026-12-01").unwrap(),
            backup_sha256: "ab".repeat(32),
            audit_entries: 12,
            audit_head: "0c".repeat(32),
        };
        assert_eq!(RestoreStatement::parse(&s.to_text()).unwrap(), s);
        let a = Announcement {
            statement: s.to_text(),
            signature: "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n".into(),
        };
        assert!(!a.action().contains('\n'));
        assert_eq!(Announcement::from_action(&a.action()), Some(a.clone()));
        assert_eq!(Announcement::from_action("message abc"), None);
        assert_eq!(
            Announcement::from_action(&format!("{} x", a.action())),
            None
        );
        for bad in [
            "",
            "Meldpunt restore statement\n",
            &s.to_text()
                .replace("audit-entries: 12", "audit-entries: twelve"),
            &s.to_text().replace(&"ab".repeat(32), "AB"),
            &format!("{}extra: 1\n", s.to_text()),
        ] {
            assert!(RestoreStatement::parse(bad).is_err(), "{bad:?}");
        }
    }
}
