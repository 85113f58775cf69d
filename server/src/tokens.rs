//! Investigator tokens: made by `meldpunt-server token create`, shown once, stored only
//! as SHA-256 hashes in the registry (`crate::storage::Registry`), each limited to named
//! destinations. The server reads the registry on every investigator request, so a
//! revocation takes effect at once.

use std::fmt;
use std::sync::Arc;

use meldpunt_crypto::Day;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::storage::{Registry, StoreError};

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
    /// The registry could not be read or written.
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
            TokenError::File(e) => write!(f, "the token registry: {e}"),
        }
    }
}

impl std::error::Error for TokenError {}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks a name for tokens and the audit log: no spaces, no line breaks.
pub fn valid_name(name: &str) -> bool {
    // The audit log's own names for the server and for reporters are not token names.
    !["server", "reporter"].contains(&name)
        && !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TokenExists(n) => TokenError::Exists(n),
            StoreError::NoToken(n) => TokenError::Unknown(n),
            other => TokenError::File(other.to_string()),
        }
    }
}

/// The investigators' tokens.
#[derive(Clone)]
pub struct Tokens {
    registry: Arc<dyn Registry>,
}

impl Tokens {
    /// The tokens kept in `registry`.
    pub fn new(registry: Arc<dyn Registry>) -> Self {
        Self { registry }
    }

    /// Makes a token for `destinations` (each must be in `known`). Returns the token
    /// text, to be shown once.
    pub async fn create(
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
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        let token = Zeroizing::new(format!("{PREFIX}{}", hex::encode(&bytes[..])));
        let mut dests = destinations.to_vec();
        dests.dedup();
        self.registry
            .add_token(TokenRecord {
                name: name.to_owned(),
                sha256: hash(&token),
                destinations: dests,
                created: today,
                revoked: None,
            })
            .await?;
        Ok(token)
    }

    /// Revokes a token.
    pub async fn revoke(&self, name: &str, today: Day) -> Result<(), TokenError> {
        Ok(self.registry.revoke_token(name, today).await?)
    }

    /// Every token record.
    pub async fn list(&self) -> Result<Vec<TokenRecord>, TokenError> {
        Ok(self.registry.tokens().await?)
    }

    /// The investigator a presented token belongs to, if it is valid and not revoked.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Investigator>, TokenError> {
        if !presented.starts_with(PREFIX) || presented.len() != PREFIX.len() + 64 {
            return Ok(None);
        }
        let h = hash(presented);
        Ok(self
            .registry
            .tokens()
            .await?
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

    fn wait<T>(f: impl std::future::Future<Output = T>) -> T {
        rocket::tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn create_authenticate_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = Tokens::new(Arc::new(
            crate::storage::embedded::registry::FileRegistry::new(dir.path()),
        ));
        let known = vec!["bureau".to_owned(), "commission".to_owned()];
        let today = Day::today();
        let t = wait(tokens.create("alice", &["bureau".into()], &known, today)).unwrap();
        let who = wait(tokens.authenticate(&t)).unwrap().unwrap();
        assert_eq!(who.name, "alice");
        assert!(who.sees("bureau") && !who.sees("commission"));
        // Only the hash is on disk.
        let stored = std::fs::read_to_string(dir.path().join("tokens.json")).unwrap();
        assert!(!stored.contains(t.as_str()));
        assert!(wait(tokens.authenticate("mpt_wrong")).unwrap().is_none());
        assert!(matches!(
            wait(tokens.create("alice", &["bureau".into()], &known, today)),
            Err(TokenError::Exists(_))
        ));
        assert!(matches!(
            wait(tokens.create("bob", &["nope".into()], &known, today)),
            Err(TokenError::UnknownDestination(_))
        ));
        wait(tokens.revoke("alice", today)).unwrap();
        assert!(wait(tokens.authenticate(&t)).unwrap().is_none());
        assert!(matches!(
            wait(tokens.revoke("carol", today)),
            Err(TokenError::Unknown(_))
        ));
    }
}
