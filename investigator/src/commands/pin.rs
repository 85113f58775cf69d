//! `meldpunt pin`: pins the recipients this investigator trusts for a destination;
//! `meldpunt pin-restore-key`: pins the operator's restore key.

use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::Day;

use crate::pins::{pin_destination, recipients_from_file, PinError, Pinned};

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
        texts.extend(recipients_from_file(path)?);
    }
    match pin_destination(bundle_dir, destination, &texts, Day::today())? {
        Pinned::Unchanged { fingerprint } => {
            println!("Destination \"{destination}\" is already pinned to these recipients.");
            println!("Fingerprint: {fingerprint}");
        }
        Pinned::New {
            count,
            fingerprint,
            replaced,
        } => {
            if let Some(old) = replaced {
                println!(
                    "Replacing the pins of destination \"{destination}\" (old fingerprint {}).",
                    old.fingerprint
                );
                for r in &old.added {
                    println!("  added:   {r}");
                }
                for r in &old.removed {
                    println!("  removed: {r}");
                }
            }
            println!("Pinned {count} recipient(s) for destination \"{destination}\".");
            println!("Fingerprint: {fingerprint}");
            println!(
                "Compare it with the fingerprint published at the key ceremony before you \
                 rely on it."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `meldpunt pin-restore-key BUNDLE_DIR PUBLIC_KEY_FILE`.
pub fn pin_restore_key(
    bundle_dir: &Path,
    key_file: &Path,
) -> Result<ExitCode, crate::restores::RestoreKeyError> {
    let text = std::fs::read_to_string(key_file).map_err(crate::restores::RestoreKeyError::Read)?;
    let pin = crate::restores::pin_restore_key(bundle_dir, &text, Day::today())?;
    println!("Pinned the operator's restore key {}.", pin.fingerprint);
    println!(
        "Compare this fingerprint with the one the operator gives you in person \
         (ssh-keygen -l -f KEY.pub) before you rely on it."
    );
    Ok(ExitCode::SUCCESS)
}
