//! Investigator tokens: made by `meldpunt-server token create`, shown once, stored only
//! as SHA-256 hashes in `tokens.json`, each limited to named destinations.
//!
//! The file, not sled, holds them so the command works while the server runs (sled
//! allows one process); the server reads the file on every investigator request, so a
//! revocation takes effect at once.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use fs2::FileExt;
use meldpunt_crypto::Day;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const TOKENS_FILE: &str = "tokens.json";
const LOCK_FILE: &str = "tokens.lock";
const PREFIX: &str = "mpt_";

/// One token as stored: its hash, never the token.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct TokenRecord {
    /// Who holds it (appears in the audit log).
    pub name: String,
    /// SHA-256 of the token text, hex.
    pub sha256: String,
    /// The destinations whose cases it sees.
    pub destinations: Vec<String>,
    /// The day it was made.
    pub created: Day,
    /// The day it was revoked.
    pub revoked: Option<Day>,
}

#[derive(Serialize, Deserialize, Default)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

/// An authenticated investigator.
#[derive(Clone, Debug)]
pub struct Investigator {
    /// The token's name.
    pub name: String,
    /// The destinations it may see.
    pub destinations: Vec<String>,
}

impl Investigator {
    /// Whether this investigator may see cases of `destination`.
    pub fn sees(&self, destination: &str) -> bool {
        self.destinations.iter().any(|d| d == destination)
    }
}

/// Why a token command failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum TokenError {
    /// The name is not usable.
    BadName(String),
    /// A token of that name exists (also when revoked: names stay unique in the audit log).
    Exists(String),
    /// No token of that name.
    Unknown(String),
    /// A destination that is not configured.
    UnknownDestination(String),
    /// No destination given.
    NoDestination,
    /// The token file could not be read or written.
    File(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::BadName(n) => write!(
                f,
                "token name \"{n}\" is not usable: use 1 to 64 letters, digits, '.', '-' or '_'"
            ),
            TokenError::Exists(n) => write!(
                f,
                "a token named \"{n}\" exists (or existed): choose another name, so the audit \
                 log stays unambiguous"
            ),
            TokenError::Unknown(n) => write!(f, "there is no token named \"{n}\""),
            TokenError::UnknownDestination(d) => write!(
                f,
                "destination \"{d}\" is not configured (see `destinations` in the configuration)"
            ),
            TokenError::NoDestination => {
                f.write_str("name at least one destination with --destination")
            }
            TokenError::File(e) => write!(f, "the token file: {e}"),
        }
    }
}

impl std::error::Error for TokenError {}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks a name for tokens and the audit log: no spaces, no line breaks.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The token store in a data directory.
pub struct Tokens {
    dir: PathBuf,
}

impl Tokens {
    /// The store in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.to_owned(),
        }
    }

    fn read(&self) -> Result<TokenFile, TokenError> {
        match std::fs::read(self.dir.join(TOKENS_FILE)) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| TokenError::File(e.to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
            Err(e) => Err(TokenError::File(e.to_string())),
        }
    }

    fn write(&self, file: &TokenFile, today: Day) -> Result<(), TokenError> {
        let io = |e: std::io::Error| TokenError::File(e.to_string());
        let tmp = self.dir.join(format!("{TOKENS_FILE}.new"));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io)?;
        f.write_all(&serde_json::to_vec_pretty(file).map_err(|e| TokenError::File(e.to_string()))?)
            .map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, self.dir.join(TOKENS_FILE)).map_err(io)?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        let day = crate::clock::FileDay::of(today);
        day.apply(&self.dir.join(TOKENS_FILE));
        day.apply(&self.dir);
        Ok(())
    }

    fn locked<T>(&self, f: impl FnOnce() -> Result<T, TokenError>) -> Result<T, TokenError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| TokenError::File(e.to_string()))?;
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(LOCK_FILE))
            .map_err(|e| TokenError::File(e.to_string()))?;
        lock.lock_exclusive()
            .map_err(|e| TokenError::File(e.to_string()))?;
        let result = f();
        let _ = FileExt::unlock(&lock);
        crate::clock::FileDay::of(Day::today()).apply(&self.dir.join(LOCK_FILE));
        result
    }

    /// Makes a token for `destinations` (each must be in `known`). Returns the token
    /// text, to be shown once.
    pub fn create(
        &self,
        name: &str,
        destinations: &[String],
        known: &[String],
        today: Day,
    ) -> Result<Zeroizing<String>, TokenError> {
        if !valid_name(name) {
            return Err(TokenError::BadName(name.to_owned()));
        }
        if destinations.is_empty() {
            return Err(TokenError::NoDestination);
        }
        if let Some(d) = destinations.iter().find(|d| !known.contains(d)) {
            return Err(TokenError::UnknownDestination(d.clone()));
        }
        self.locked(|| {
            let mut file = self.read()?;
            if file.tokens.iter().any(|t| t.name == name) {
                return Err(TokenError::Exists(name.to_owned()));
            }
            let mut bytes = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(bytes.as_mut());
            let token = Zeroizing::new(format!("{PREFIX}{}", hex::encode(&bytes[..])));
            let mut dests = destinations.to_vec();
            dests.dedup();
            file.tokens.push(TokenRecord {
                name: name.to_owned(),
                sha256: hash(&token),
                destinations: dests,
                created: today,
                revoked: None,
            });
            self.write(&file, today)?;
            Ok(token)
        })
    }

    /// Revokes a token.
    pub fn revoke(&self, name: &str, today: Day) -> Result<(), TokenError> {
        self.locked(|| {
            let mut file = self.read()?;
            let t = file
                .tokens
                .iter_mut()
                .find(|t| t.name == name)
                .ok_or_else(|| TokenError::Unknown(name.to_owned()))?;
            if t.revoked.is_none() {
                t.revoked = Some(today);
            }
            self.write(&file, today)
        })
    }

    /// Every token record.
    pub fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        Ok(self.read()?.tokens)
    }

    /// The investigator a presented token belongs to, if it is valid and not revoked.
    pub fn authenticate(&self, presented: &str) -> Result<Option<Investigator>, TokenError> {
        if !presented.starts_with(PREFIX) || presented.len() != PREFIX.len() + 64 {
            return Ok(None);
        }
        let h = hash(presented);
        Ok(self
            .read()?
            .tokens
            .into_iter()
            .find(|t| t.sha256 == h && t.revoked.is_none())
            .map(|t| Investigator {
                name: t.name,
                destinations: t.destinations,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_authenticate_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = Tokens::new(dir.path());
        let known = vec!["bureau".to_owned(), "commission".to_owned()];
        let today = Day::today();
        let t = tokens
            .create("alice", &["bureau".into()], &known, today)
            .unwrap();
        let who = tokens.authenticate(&t).unwrap().unwrap();
        assert_eq!(who.name, "alice");
        assert!(who.sees("bureau") && !who.sees("commission"));
        // Only the hash is on disk.
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!stored.contains(t.as_str()));
        assert!(tokens.authenticate("mpt_wrong").unwrap().is_none());
        assert!(matches!(
            tokens.create("alice", &["bureau".into()], &known, today),
            Err(TokenError::Exists(_))
        ));
        assert!(matches!(
            tokens.create("bob", &["nope".into()], &known, today),
            Err(TokenError::UnknownDestination(_))
        ));
        tokens.revoke("alice", today).unwrap();
        assert!(tokens.authenticate(&t).unwrap().is_none());
        assert!(matches!(
            tokens.revoke("carol", today),
            Err(TokenError::Unknown(_))
        ));
    }
}
