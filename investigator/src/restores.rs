//! Announced restores: the server's audit log taken back to a backup's head, accepted
//! only when the operator's signed statement says so.
//!
//! After a restore the server's log lacks entries this bundle verified — what a
//! rewrite of history looks like too. The operator signs a restore statement with the
//! restore key (an SSH Ed25519 key kept offline); the server writes it into the log as
//! the first entry after the backup's head ([`meldpunt_wire::restore`]). This bundle
//! accepts the shorter history only if
//!
//! - the investigator pinned that restore key (`meldpunt pin-restore-key`),
//! - the signature verifies with it,
//! - the statement is the very entry where the server's log leaves this bundle's, and
//!   names the head both logs share just before it,
//!
//! and then keeps the entries it had and the server lost apart, for a person to read.
//! Everything else stays a loud refusal.

use std::fmt;
use std::path::Path;

use meldpunt_crypto::Day;
use meldpunt_wire::audit::{check_records_from, AuditRecord, GENESIS};
use meldpunt_wire::restore::{Announcement, RestoreStatement, NAMESPACE};
use serde::{Deserialize, Serialize};

use crate::bundle::{write_json, Bundle, BundleError};
use crate::pins::{Pins, PINS_FILE};

/// The operator's pinned restore key.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RestoreKeyPin {
    /// The OpenSSH public key (`ssh-ed25519 AAAA…`).
    pub key: String,
    /// Its SHA-256 fingerprint (`SHA256:…`), for a person to compare.
    pub fingerprint: String,
    /// The day it was pinned.
    pub pinned: Day,
}

/// Why a restore key cannot be pinned.
#[derive(Debug)]
#[non_exhaustive]
pub enum RestoreKeyError {
    /// The text is not an OpenSSH Ed25519 public key.
    NotAKey(String),
    /// The key file could not be read.
    Read(std::io::Error),
    /// The bundle could not be written.
    Bundle(BundleError),
}

impl fmt::Display for RestoreKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreKeyError::NotAKey(e) => write!(
                f,
                "not an SSH Ed25519 public key (the operator's restore key, a .pub file): {e}"
            ),
            RestoreKeyError::Read(e) => write!(f, "the key file cannot be read: {e}"),
            RestoreKeyError::Bundle(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RestoreKeyError {}

fn parse_key(text: &str) -> Result<ssh_key::PublicKey, String> {
    let key = ssh_key::PublicKey::from_openssh(text.trim()).map_err(|e| e.to_string())?;
    if key.algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(format!("it is {}, not ssh-ed25519", key.algorithm()));
    }
    Ok(key)
}

/// Pins the operator's restore key (the text of its `.pub` file) in the bundle at
/// `bundle_dir`, replacing one pinned before; returns the pin.
pub fn pin_restore_key(
    bundle_dir: &Path,
    public_key: &str,
    today: Day,
) -> Result<RestoreKeyPin, RestoreKeyError> {
    let key = parse_key(public_key).map_err(RestoreKeyError::NotAKey)?;
    let bundle = Bundle::create(bundle_dir).map_err(RestoreKeyError::Bundle)?;
    let mut pins = Pins::read(&bundle).map_err(RestoreKeyError::Bundle)?;
    let pin = RestoreKeyPin {
        key: key
            .to_openssh()
            .map_err(|e| RestoreKeyError::NotAKey(e.to_string()))?,
        fingerprint: key.fingerprint(ssh_key::HashAlg::Sha256).to_string(),
        pinned: today,
    };
    pins.restore_key = Some(pin.clone());
    write_json(&bundle.root().join(PINS_FILE), &pins).map_err(RestoreKeyError::Bundle)?;
    Ok(pin)
}

/// A restore this bundle accepted.
#[derive(Debug, Clone)]
pub struct AcceptedRestore {
    /// What the operator stated.
    pub statement: RestoreStatement,
    /// The restore key's fingerprint.
    pub fingerprint: String,
    /// The entries this bundle had verified that the server no longer has.
    pub lost: Vec<AuditRecord>,
}

/// Whether the server's `log`, which does not extend `known`, is an announced restore.
/// `Err` says why not, in words for the investigator.
pub fn accept(
    log: &[AuditRecord],
    known: &[AuditRecord],
    key: Option<&RestoreKeyPin>,
) -> Result<AcceptedRestore, String> {
    check_records_from(log, 0, GENESIS).map_err(|e| e.to_string())?;
    // Where the server's log leaves this bundle's.
    let at = known
        .iter()
        .zip(log)
        .position(|(a, b)| a.index() != b.index() || a.hash() != b.hash())
        .unwrap_or(known.len().min(log.len()));
    let Some(announcement) = log
        .get(at)
        .and_then(AuditRecord::entry)
        .filter(|e| e.token == "operator")
        .and_then(|e| Announcement::from_action(&e.action))
    else {
        return Err("no restore was announced where the log changes".into());
    };
    let statement = RestoreStatement::parse(&announcement.statement).map_err(|e| e.to_string())?;
    let head = if at == 0 {
        GENESIS.to_owned()
    } else {
        log[at - 1].hash().to_owned()
    };
    if statement.audit_entries != at as u64 || statement.audit_head != head {
        return Err(format!(
            "the announcement names audit entry {} with head {}, but it stands after entry {at} \
             with head {head}",
            statement.audit_entries, statement.audit_head
        ));
    }
    let Some(pin) = key else {
        return Err(
            "no restore key is pinned in this bundle (meldpunt pin-restore-key), so \
                    the announcement cannot be checked"
                .into(),
        );
    };
    let public = parse_key(&pin.key).map_err(|e| format!("the pinned restore key: {e}"))?;
    let signature = ssh_key::SshSig::from_pem(announcement.signature.as_bytes())
        .map_err(|e| format!("the signature is not an SSH signature: {e}"))?;
    public
        .verify(NAMESPACE, announcement.statement.as_bytes(), &signature)
        .map_err(|_| {
            format!(
                "the announcement is NOT signed by the pinned restore key {}",
                pin.fingerprint
            )
        })?;
    Ok(AcceptedRestore {
        statement,
        fingerprint: pin.fingerprint.clone(),
        lost: known[at.min(known.len())..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_wire::audit::AuditEntry;

    fn entry(index: u64, prev: &str, token: &str, action: &str) -> AuditRecord {
        let day = Day::parse("2026-12-01").unwrap();
        let mut e = AuditEntry {
            index,
            day,
            token: token.into(),
            action: action.into(),
            case: None,
            scope: vec![],
            prev: prev.into(),
            hash: String::new(),
        };
        e.hash = e.expected_hash();
        AuditRecord::Entry(e)
    }

    fn chain(actions: &[(&str, &str)]) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for (i, (token, action)) in actions.iter().enumerate() {
            let prev = out
                .last()
                .map_or(GENESIS.to_owned(), |e| e.hash().to_owned());
            out.push(entry(i as u64, &prev, token, action));
        }
        out
    }

    #[test]
    fn only_a_signed_announcement_where_the_log_changes_is_accepted() {
        let known = chain(&[
            ("alice", "list"),
            ("alice", "status_closed"),
            ("bob", "list"),
        ]);
        let statement = RestoreStatement {
            restored: Day::parse("2026-12-01").unwrap(),
            backup_sha256: "ab".repeat(32),
            audit_entries: 1,
            audit_head: known[0].hash().to_owned(),
        };
        let signing =
            ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)
                .unwrap();
        let sign = |key: &ssh_key::PrivateKey, text: &str| {
            key.sign(NAMESPACE, ssh_key::HashAlg::Sha512, text.as_bytes())
                .unwrap()
                .to_pem(ssh_key::LineEnding::LF)
                .unwrap()
        };
        let announce = |text: &str, signature: String| {
            Announcement {
                statement: text.to_owned(),
                signature,
            }
            .action()
        };
        let good = announce(&statement.to_text(), sign(&signing, &statement.to_text()));
        let restored = chain(&[
            ("alice", "list"),
            ("operator", &good),
            ("alice", "token_revoked"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let pin = pin_restore_key(
            dir.path(),
            &signing.public_key().to_openssh().unwrap(),
            Day::parse("2026-12-01").unwrap(),
        )
        .unwrap();

        let accepted = accept(&restored, &known, Some(&pin)).unwrap();
        assert_eq!(accepted.lost, known[1..].to_vec());
        assert_eq!(accepted.statement, statement);

        // No key pinned; another key; a statement naming another head; no announcement.
        assert!(accept(&restored, &known, None)
            .unwrap_err()
            .contains("pin-restore-key"));
        let other =
            ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)
                .unwrap();
        let forged = announce(&statement.to_text(), sign(&other, &statement.to_text()));
        let log = chain(&[("alice", "list"), ("operator", &forged)]);
        assert!(accept(&log, &known, Some(&pin))
            .unwrap_err()
            .contains("NOT signed"));
        let elsewhere = RestoreStatement {
            audit_entries: 0,
            audit_head: GENESIS.into(),
            ..statement.clone()
        };
        let moved = announce(&elsewhere.to_text(), sign(&signing, &elsewhere.to_text()));
        let log = chain(&[("alice", "list"), ("operator", &moved)]);
        assert!(accept(&log, &known, Some(&pin))
            .unwrap_err()
            .contains("names audit entry 0"));
        let truncated = chain(&[("alice", "list")]);
        assert!(accept(&truncated, &known, Some(&pin)).is_err());
        // The same announcement again, at the same place, after it was accepted: the
        // histories do not part there, so it justifies nothing.
        let later = chain(&[
            ("alice", "list"),
            ("operator", &good),
            ("mallory", "rewritten"),
        ]);
        assert!(accept(&later, &restored, Some(&pin)).is_err());
        // Signed by someone else than an operator entry: not an announcement.
        let by_token = chain(&[("alice", "list"), ("alice", &good)]);
        assert!(accept(&by_token, &known, Some(&pin)).is_err());
        // A key that is not Ed25519 text at all.
        assert!(pin_restore_key(dir.path(), "age1abc", Day::parse("2026-12-01").unwrap()).is_err());
    }
}
