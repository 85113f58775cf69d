//! The pins: the recipient set this investigator trusts for each destination.
//!
//! The server tells reporters which keys to encrypt to; a breached server could add its
//! own. The pins, set by hand from the key ceremony's published fingerprint, are what
//! `open` compares a report's recipients with and what `reply` encrypts to.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use meldpunt_crypto::recipients::same_set;
use meldpunt_crypto::{fingerprint, Day, Destination, DestinationError, Recipient};
use serde::{Deserialize, Serialize};

use crate::bundle::{read_json_or_default, write_json, Bundle, BundleError};

/// Name of the pins file in a bundle.
pub const PINS_FILE: &str = "pins.json";

/// The pins of a bundle (`pins.json`).
#[derive(Serialize, Deserialize, Default)]
pub struct Pins {
    /// Pinned recipients per destination name.
    pub destinations: BTreeMap<String, Pin>,
    /// The operator's restore key, which signs announced restores from backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_key: Option<crate::restores::RestoreKeyPin>,
}

/// One destination's pinned recipients.
#[derive(Serialize, Deserialize, Clone)]
pub struct Pin {
    /// The `age1…` recipients.
    pub recipients: Vec<String>,
    /// Their fingerprint, for a person to compare.
    pub fingerprint: String,
    /// The day they were pinned.
    pub pinned: Day,
}

impl Pins {
    /// Reads a bundle's pins (none if the file does not exist).
    pub fn read(bundle: &Bundle) -> Result<Self, BundleError> {
        read_json_or_default(&bundle.root().join(PINS_FILE))
    }

    /// The pinned recipients of a destination, if it is pinned.
    pub fn recipients(
        &self,
        bundle: &Bundle,
        destination: &str,
    ) -> Result<Option<Vec<Recipient>>, BundleError> {
        let Some(pin) = self.destinations.get(destination) else {
            return Ok(None);
        };
        Destination::new(destination, &pin.recipients)
            .map(|d| Some(d.recipients().to_vec()))
            .map_err(|e| BundleError::Damaged {
                path: bundle.root().join(PINS_FILE),
                detail: e.to_string(),
            })
    }
}

/// Why `pin` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PinError {
    /// The bundle could not be read or written.
    Bundle(BundleError),
    /// No recipients were given.
    NoRecipients,
    /// A recipient is not an age recipient.
    BadRecipient(DestinationError),
    /// The recipients file could not be read.
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The system's error.
        error: std::io::Error,
    },
    /// The destination name is empty.
    EmptyDestination,
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinError::Bundle(e) => e.fmt(f),
            PinError::NoRecipients => f.write_str(
                "no recipients given: name them (age1…) after the destination, or give --file",
            ),
            PinError::BadRecipient(e) => e.fmt(f),
            PinError::ReadFile { path, error } => {
                write!(
                    f,
                    "could not read the recipients file {}: {error}",
                    path.display()
                )
            }
            PinError::EmptyDestination => f.write_str("the destination name is empty"),
        }
    }
}

impl std::error::Error for PinError {}

impl From<BundleError> for PinError {
    fn from(e: BundleError) -> Self {
        PinError::Bundle(e)
    }
}

/// Recipients from a file, one per line; blank lines and `#` comments are skipped.
pub fn recipients_from_file(path: &Path) -> Result<Vec<String>, PinError> {
    let text = std::fs::read_to_string(path).map_err(|error| PinError::ReadFile {
        path: path.to_owned(),
        error,
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// What pinning did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pinned {
    /// The destination was pinned to exactly these recipients already; nothing changed.
    Unchanged {
        /// The set's fingerprint.
        fingerprint: String,
    },
    /// The recipients are pinned now.
    New {
        /// How many.
        count: usize,
        /// The set's fingerprint.
        fingerprint: String,
        /// The pins they replace, if the destination was pinned before.
        replaced: Option<Replaced>,
    },
}

/// The pins a new set replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// The old set's fingerprint.
    pub fingerprint: String,
    /// Recipients pinned now that were not before.
    pub added: Vec<Recipient>,
    /// Recipients pinned before that are not now.
    pub removed: Vec<Recipient>,
}

/// Pins `recipients` (`age1…`) for `destination` in the bundle at `bundle_dir`
/// (created if missing), replacing earlier pins of that destination.
pub fn pin_destination(
    bundle_dir: &Path,
    destination: &str,
    recipients: &[String],
    today: Day,
) -> Result<Pinned, PinError> {
    let destination = destination.trim();
    if destination.is_empty() {
        return Err(PinError::EmptyDestination);
    }
    if recipients.is_empty() {
        return Err(PinError::NoRecipients);
    }
    let parsed = Destination::new(destination, recipients).map_err(PinError::BadRecipient)?;
    let bundle = Bundle::create(bundle_dir)?;
    let mut pins = Pins::read(&bundle)?;
    let new_print = fingerprint(parsed.recipients());
    let mut replaced = None;
    if let Some(old) = pins.recipients(&bundle, destination)? {
        if same_set(&old, parsed.recipients()) {
            return Ok(Pinned::Unchanged {
                fingerprint: new_print,
            });
        }
        replaced = Some(Replaced {
            fingerprint: fingerprint(&old),
            added: parsed
                .recipients()
                .iter()
                .filter(|r| !old.contains(r))
                .cloned()
                .collect(),
            removed: old
                .iter()
                .filter(|r| !parsed.recipients().contains(r))
                .cloned()
                .collect(),
        });
    }
    pins.destinations.insert(
        destination.to_owned(),
        Pin {
            recipients: parsed
                .recipients()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            fingerprint: new_print.clone(),
            pinned: today,
        },
    );
    write_json(&bundle.root().join(PINS_FILE), &pins)?;
    Ok(Pinned::New {
        count: parsed.recipients().len(),
        fingerprint: new_print,
        replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_crypto::InvestigatorKey;

    #[test]
    fn pinning_again_says_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let bundle_dir = dir.path().join("bundle");
        let today = Day::parse("2026-11-02").unwrap();
        let (a, b) = (
            InvestigatorKey::generate().recipient(),
            InvestigatorKey::generate().recipient(),
        );
        let texts = |rs: &[&Recipient]| -> Vec<String> {
            rs.iter().map(|r| r.as_str().to_owned()).collect()
        };
        let first = pin_destination(&bundle_dir, " bureau ", &texts(&[&a]), today).unwrap();
        assert!(matches!(
            first,
            Pinned::New {
                count: 1,
                replaced: None,
                ..
            }
        ));
        assert!(matches!(
            pin_destination(&bundle_dir, "bureau", &texts(&[&a]), today).unwrap(),
            Pinned::Unchanged { .. }
        ));
        let Pinned::New {
            replaced: Some(replaced),
            ..
        } = pin_destination(&bundle_dir, "bureau", &texts(&[&b]), today).unwrap()
        else {
            panic!("not replaced");
        };
        assert_eq!(
            (replaced.added, replaced.removed),
            (vec![b.clone()], vec![a.clone()])
        );
        let bundle = Bundle::open(&bundle_dir).unwrap();
        let pinned = Pins::read(&bundle)
            .unwrap()
            .recipients(&bundle, "bureau")
            .unwrap();
        assert_eq!(pinned, Some(vec![b]));
        assert!(matches!(
            pin_destination(&bundle_dir, "bureau", &["age1notakey".into()], today),
            Err(PinError::BadRecipient(_))
        ));
        assert!(matches!(
            pin_destination(&bundle_dir, "  ", &texts(&[&a]), today),
            Err(PinError::EmptyDestination)
        ));
    }
}
