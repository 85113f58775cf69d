//! `meldpunt keygen`: writes a new key file and prints its recipient and fingerprint.

use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::{fingerprint, Day};

use crate::keys::{create_key_file, new_passphrase, KeygenError};

/// `meldpunt keygen -o KEY_FILE [--passphrase]`.
pub fn keygen(path: &Path, protect: bool) -> Result<ExitCode, KeygenError> {
    // Before asking for a passphrase: a key file is never overwritten.
    if path.symlink_metadata().is_ok() {
        return Err(KeygenError::Exists {
            path: path.to_owned(),
        });
    }
    let passphrase = if protect {
        Some(new_passphrase()?)
    } else {
        None
    };
    let recipient = create_key_file(path, passphrase, Day::today())?;
    println!(
        "Wrote the key file {} (readable only by you).",
        path.display()
    );
    if !protect {
        println!("It is not protected by a passphrase: keep it on the offline machine only.");
    }
    println!();
    println!("Recipient:   {recipient}");
    println!(
        "Fingerprint: {}",
        fingerprint(std::slice::from_ref(&recipient))
    );
    println!();
    println!(
        "Give the recipient to the server operator, and read the fingerprint to them over \
         another channel so they can check it."
    );
    Ok(ExitCode::SUCCESS)
}
