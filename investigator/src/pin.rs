//! `meldpunt pin`: the recipient set this investigator trusts for a destination.
//!
//! The server tells reporters which keys to encrypt to; a breached server could add its
//! own. The pins, set by hand from the key ceremony's published fingerprint, are what
//! `open` compares a report's recipients with and what `reply` encrypts to.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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

/// `meldpunt pin BUNDLE_DIR DESTINATION RECIPIENT… [--file FILE]`.
pub fn pin(
    bundle_dir: &Path,
    destination: &str,
    recipients: &[String],
    file: Option<&Path>,
) -> Result<ExitCode, PinError> {
    let destination = destination.trim();
    if destination.is_empty() {
        return Err(PinError::EmptyDestination);
    }
    let mut texts: Vec<String> = recipients.to_vec();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|error| PinError::ReadFile {
            path: path.to_owned(),
            error,
        })?;
        texts.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    if texts.is_empty() {
        return Err(PinError::NoRecipients);
    }
    let parsed = Destination::new(destination, &texts).map_err(PinError::BadRecipient)?;
    let bundle = Bundle::create(bundle_dir)?;
    let mut pins = Pins::read(&bundle)?;
    let new_print = fingerprint(parsed.recipients());
    if let Some(old) = pins.recipients(&bundle, destination)? {
        if same_set(&old, parsed.recipients()) {
            println!("Destination \"{destination}\" is already pinned to these recipients.");
            println!("Fingerprint: {new_print}");
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "Replacing the pins of destination \"{destination}\" (old fingerprint {}).",
            fingerprint(&old)
        );
        for r in parsed.recipients().iter().filter(|r| !old.contains(r)) {
            println!("  added:   {r}");
        }
        for r in old.iter().filter(|r| !parsed.recipients().contains(r)) {
            println!("  removed: {r}");
        }
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
            pinned: Day::today(),
        },
    );
    write_json(&bundle.root().join(PINS_FILE), &pins)?;
    println!(
        "Pinned {} recipient(s) for destination \"{destination}\".",
        parsed.recipients().len()
    );
    println!("Fingerprint: {new_print}");
    println!(
        "Compare it with the fingerprint published at the key ceremony before you rely on it."
    );
    Ok(ExitCode::SUCCESS)
}
