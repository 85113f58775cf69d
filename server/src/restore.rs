//! Taking in an announced restore: the first start after `scripts/restore.sh`.
//!
//! `restore.sh` leaves the operator's signed restore statement in the data directory
//! ([`STATEMENT_FILE`], [`SIGNATURE_FILE`]). On its next start the server
//!
//! - checks that the statement names the audit log it found (entries and head), so a
//!   statement cannot be carried over to another log;
//! - writes it into the audit log as the first entry after the backup's head, where
//!   every investigator's tool finds it ([`meldpunt_wire::restore`]);
//! - revokes every investigator token, with an audit entry each: the backup cannot know
//!   which tokens were revoked after it was made, so none it holds is trusted again.
//!   The operator makes new tokens.
//!
//! The signature is not checked here: the server has no key to check it against. Each
//! investigator's tool checks it with the restore key it pinned.

use std::fmt;
use std::io::ErrorKind;
use std::path::Path;

use meldpunt_crypto::Day;
use meldpunt_wire::restore::{Announcement, RestoreStatement};

use crate::audit::{AuditLog, GENESIS};
use crate::tokens::Tokens;

/// The statement `scripts/restore.sh` writes into the data directory.
pub const STATEMENT_FILE: &str = "restore-statement.txt";
/// Its SSH signature, beside it.
pub const SIGNATURE_FILE: &str = "restore-statement.txt.sig";

/// The audit log's name for the operator's own entries.
const OPERATOR: &str = "operator";

/// What the server did with a restore statement.
#[derive(Debug)]
pub struct TakenIn {
    /// The statement.
    pub statement: RestoreStatement,
    /// The tokens it revoked.
    pub revoked: Vec<String>,
}

/// Why a restore statement cannot be taken in. The server does not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum RestoreError {
    /// A file cannot be read or removed.
    File(String),
    /// The statement or its signature is not one `restore.sh` writes.
    Statement(String),
    /// The statement does not name the audit log in the data directory.
    WrongLog {
        /// What the statement names: entries and head.
        stated: (u64, String),
        /// What the log has.
        found: (u64, String),
    },
    /// The audit log or the tokens cannot be read or written.
    Registry(String),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::File(e) => write!(f, "the restore statement: {e}"),
            RestoreError::Statement(e) => write!(
                f,
                "{STATEMENT_FILE} is not a restore statement ({e}); restore the backup again \
                 with scripts/restore.sh"
            ),
            RestoreError::WrongLog { stated, found } => write!(
                f,
                "{STATEMENT_FILE} names an audit log of {} entries with head {}, but the data \
                 directory's has {} entries with head {}: it belongs to another restore. \
                 Restore the backup again with scripts/restore.sh",
                stated.0, stated.1, found.0, found.1
            ),
            RestoreError::Registry(e) => write!(f, "taking in the restore: {e}"),
        }
    }
}

impl std::error::Error for RestoreError {}

fn read(path: &Path) -> Result<Option<String>, RestoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RestoreError::File(format!("{}: {e}", path.display()))),
    }
}

/// Takes in the restore statement in `data_dir`, if there is one (see the module
/// documentation). Safe to run again after a crash halfway: an announcement already at
/// its place is not written twice, and revoking is repeated.
pub async fn take_in(
    data_dir: &Path,
    tokens: &Tokens,
    audit: &AuditLog,
    today: Day,
) -> Result<Option<TakenIn>, RestoreError> {
    let statement_path = data_dir.join(STATEMENT_FILE);
    let signature_path = data_dir.join(SIGNATURE_FILE);
    let Some(text) = read(&statement_path)? else {
        return Ok(None);
    };
    let signature = read(&signature_path)?
        .ok_or_else(|| RestoreError::Statement(format!("{SIGNATURE_FILE} is missing")))?;
    if !signature.starts_with("-----BEGIN SSH SIGNATURE-----") {
        return Err(RestoreError::Statement(format!(
            "{SIGNATURE_FILE} is not an SSH signature"
        )));
    }
    let statement =
        RestoreStatement::parse(&text).map_err(|e| RestoreError::Statement(e.to_string()))?;
    let announcement = Announcement {
        statement: text,
        signature,
    };

    let registry = |e: crate::audit::AuditError| RestoreError::Registry(e.to_string());
    let entries = audit.read_verified().await.map_err(registry)?;
    let stated = statement.audit_entries;
    // After a crash between writing the announcement and removing the files, the
    // announcement is already at its place: do not write it twice.
    let already = entries
        .get(usize::try_from(stated).unwrap_or(usize::MAX))
        .is_some_and(|e| e.token == OPERATOR && e.action == announcement.action());
    let before = if already {
        &entries[..usize::try_from(stated).unwrap_or(0)]
    } else {
        &entries[..]
    };
    let head = before
        .last()
        .map_or(GENESIS, |e| e.hash.as_str())
        .to_owned();
    if before.len() as u64 != stated || head != statement.audit_head {
        return Err(RestoreError::WrongLog {
            stated: (stated, statement.audit_head.clone()),
            found: (before.len() as u64, head),
        });
    }
    if !already {
        audit
            .append(today, OPERATOR, &announcement.action(), None, &[])
            .await
            .map_err(registry)?;
    }

    let mut revoked = Vec::new();
    let all = tokens
        .list()
        .await
        .map_err(|e| RestoreError::Registry(e.to_string()))?;
    for token in all.into_iter().filter(|t| t.revoked.is_none()) {
        tokens
            .revoke(&token.name, today)
            .await
            .map_err(|e| RestoreError::Registry(e.to_string()))?;
        audit
            .append(
                today,
                &token.name,
                "token_revoked",
                None,
                &token.destinations,
            )
            .await
            .map_err(registry)?;
        revoked.push(token.name);
    }

    for path in [&signature_path, &statement_path] {
        std::fs::remove_file(path)
            .map_err(|e| RestoreError::File(format!("{}: {e}", path.display())))?;
    }
    Ok(Some(TakenIn { statement, revoked }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use std::sync::Arc;

    use super::*;
    use crate::storage::embedded::registry::FileRegistry;

    const SIGNATURE: &str = "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n";

    fn statement(entries: u64, head: &str) -> String {
        RestoreStatement {
            restored: Day::parse("2026-12-02").unwrap(),
            backup_sha256: "ab".repeat(32),
            audit_entries: entries,
            audit_head: head.to_owned(),
        }
        .to_text()
    }

    #[rocket::async_test]
    async fn a_statement_is_written_once_and_every_token_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let registry: Arc<dyn crate::storage::Registry> = Arc::new(FileRegistry::new(dir.path()));
        let (tokens, audit) = (Tokens::new(registry.clone()), AuditLog::new(registry));
        let today = Day::parse("2026-12-02").unwrap();
        let known = vec!["bureau".to_owned()];
        tokens.create("alice", &known, &known, today).await.unwrap();
        tokens.create("bob", &known, &known, today).await.unwrap();
        tokens.revoke("bob", today).await.unwrap();
        let head = audit
            .append(today, "alice", "token_created", None, &known)
            .await
            .unwrap()
            .hash;

        // Nothing to take in.
        assert!(take_in(dir.path(), &tokens, &audit, today)
            .await
            .unwrap()
            .is_none());

        // A statement for another log is refused, and left for the operator to see.
        std::fs::write(dir.path().join(STATEMENT_FILE), statement(1, GENESIS)).unwrap();
        std::fs::write(dir.path().join(SIGNATURE_FILE), SIGNATURE).unwrap();
        let wrong = take_in(dir.path(), &tokens, &audit, today).await;
        assert!(
            matches!(wrong, Err(RestoreError::WrongLog { .. })),
            "{wrong:?}"
        );
        assert_eq!(audit.read_verified().await.unwrap().len(), 1);

        // A statement without its signature is refused.
        let text = statement(1, &head);
        std::fs::write(dir.path().join(STATEMENT_FILE), &text).unwrap();
        std::fs::remove_file(dir.path().join(SIGNATURE_FILE)).unwrap();
        assert!(matches!(
            take_in(dir.path(), &tokens, &audit, today).await,
            Err(RestoreError::Statement(_))
        ));

        // The right one: announced right after the backup's head, every active token
        // revoked, the files gone.
        std::fs::write(dir.path().join(SIGNATURE_FILE), SIGNATURE).unwrap();
        let taken = take_in(dir.path(), &tokens, &audit, today)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(taken.revoked, vec!["alice".to_owned()]);
        let log = audit.read_verified().await.unwrap();
        assert_eq!(log.len(), 3);
        let announced = Announcement::from_action(&log[1].action).unwrap();
        assert_eq!((log[1].token.as_str(), log[1].index), ("operator", 1));
        assert_eq!(announced.statement, text);
        assert_eq!(announced.signature, SIGNATURE);
        assert_eq!(
            (log[2].token.as_str(), log[2].action.as_str()),
            ("alice", "token_revoked")
        );
        assert!(tokens
            .list()
            .await
            .unwrap()
            .iter()
            .all(|t| t.revoked.is_some()));
        assert!(!dir.path().join(STATEMENT_FILE).exists());
        assert!(!dir.path().join(SIGNATURE_FILE).exists());

        // Run again after a crash before the files were removed: not written twice.
        std::fs::write(dir.path().join(STATEMENT_FILE), &text).unwrap();
        std::fs::write(dir.path().join(SIGNATURE_FILE), SIGNATURE).unwrap();
        let again = take_in(dir.path(), &tokens, &audit, today)
            .await
            .unwrap()
            .unwrap();
        assert!(again.revoked.is_empty());
        assert_eq!(audit.read_verified().await.unwrap().len(), 3);
    }
}
