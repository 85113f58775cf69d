//! Investigator key files: making a new one, and loading one (asking for its
//! passphrase).
//!
//! The command line's passphrase comes from the terminal, or for scripts from the
//! environment variable `MELDPUNT_PASSPHRASE`; another front end passes its own
//! ([`load_with`]).

use std::fmt;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use meldpunt_crypto::identity::write_key_file;
use meldpunt_crypto::{Day, InvestigatorKey, KeyFileError, Recipient};

/// The environment variable a script can set instead of typing the passphrase.
pub const PASSPHRASE_ENV: &str = "MELDPUNT_PASSPHRASE";

/// Why a key file could not be loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// The file could not be read.
    Read {
        /// The key file.
        path: PathBuf,
        /// The system's error.
        error: io::Error,
    },
    /// The file is protected and no passphrase could be asked for.
    PassphraseRequired {
        /// The key file.
        path: PathBuf,
    },
    /// The passphrase does not open the file.
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The file is not a key file.
    NotAKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        error: KeyFileError,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Read { path, error } => {
                write!(f, "could not read the key file {}: {error}", path.display())
            }
            KeyError::PassphraseRequired { path } => write!(
                f,
                "the key file {} is protected by a passphrase: run in a terminal to type it, \
                 or set {PASSPHRASE_ENV}",
                path.display()
            ),
            KeyError::WrongPassphrase { path } => write!(
                f,
                "wrong passphrase: it does not open the key file {}",
                path.display()
            ),
            KeyError::NotAKeyFile { path, error } => {
                write!(f, "{} is not a usable key file: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// The keys of one key file.
pub struct LoadedKeys {
    keys: Vec<InvestigatorKey>,
    path: PathBuf,
}

impl LoadedKeys {
    /// Keys already loaded, as if from the key file `path` (named in messages).
    pub fn from_keys(keys: Vec<InvestigatorKey>, path: PathBuf) -> Self {
        LoadedKeys { keys, path }
    }

    /// The identities, for decryption.
    pub fn identities(&self) -> Vec<&dyn age::Identity> {
        self.keys
            .iter()
            .map(|k| k.as_age() as &dyn age::Identity)
            .collect()
    }

    /// The recipients of the keys.
    pub fn recipients(&self) -> Vec<Recipient> {
        self.keys.iter().map(InvestigatorKey::recipient).collect()
    }

    /// The key file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Loads a key file, asking for the passphrase if it is protected (from
/// `MELDPUNT_PASSPHRASE`, else at the terminal).
pub fn load(path: &Path) -> Result<LoadedKeys, KeyError> {
    load_with(path, || {
        passphrase(&format!("Passphrase for {}: ", path.display()))
    })
}

/// Loads a key file; `passphrase` is asked only if the file is protected (`None`: there
/// is none to be had).
pub fn load_with(
    path: &Path,
    passphrase: impl FnOnce() -> Option<SecretString>,
) -> Result<LoadedKeys, KeyError> {
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|error| KeyError::Read {
        path: path.to_owned(),
        error,
    })?);
    let keys = meldpunt_crypto::load_keys(&bytes, passphrase).map_err(|error| match error {
        KeyFileError::PassphraseRequired => KeyError::PassphraseRequired {
            path: path.to_owned(),
        },
        KeyFileError::WrongPassphrase => KeyError::WrongPassphrase {
            path: path.to_owned(),
        },
        error => KeyError::NotAKeyFile {
            path: path.to_owned(),
            error,
        },
    })?;
    Ok(LoadedKeys {
        keys,
        path: path.to_owned(),
    })
}

/// The passphrase from the environment, or typed at the terminal (not echoed).
fn passphrase(prompt: &str) -> Option<SecretString> {
    if let Ok(value) = std::env::var(PASSPHRASE_ENV) {
        return Some(SecretString::from(value));
    }
    if !io::stdin().is_terminal() {
        return None;
    }
    rpassword::prompt_password(prompt)
        .ok()
        .map(SecretString::from)
}

/// Why `keygen` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeygenError {
    /// A file of that name exists; key files are never overwritten.
    Exists {
        /// The path given.
        path: PathBuf,
    },
    /// Writing the file failed.
    Write {
        /// The path given.
        path: PathBuf,
        /// The system's error.
        error: io::Error,
    },
    /// `--passphrase` was asked for but none could be read.
    NoPassphrase,
    /// The passphrase is empty.
    EmptyPassphrase,
    /// The two passphrases typed differ.
    PassphrasesDiffer,
    /// Encrypting the key file failed.
    Protect(KeyFileError),
}

impl fmt::Display for KeygenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeygenError::Exists { path } => write!(
                f,
                "{} already exists; a key file is never overwritten (choose another name, \
                 or move the old key away if you really mean to replace it)",
                path.display()
            ),
            KeygenError::Write { path, error } => {
                write!(
                    f,
                    "could not write the key file {}: {error}",
                    path.display()
                )
            }
            KeygenError::NoPassphrase => write!(
                f,
                "--passphrase needs a passphrase: run in a terminal to type it, or set \
                 {PASSPHRASE_ENV}"
            ),
            KeygenError::EmptyPassphrase => f.write_str("the passphrase is empty"),
            KeygenError::PassphrasesDiffer => {
                f.write_str("the two passphrases differ; nothing was written")
            }
            KeygenError::Protect(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for KeygenError {}

/// Writes a new key file at `path` (readable only by its owner, never over an existing
/// file), protected by `passphrase` if one is given, and returns its recipient.
pub fn create_key_file(
    path: &Path,
    passphrase: Option<SecretString>,
    today: Day,
) -> Result<Recipient, KeygenError> {
    if path.symlink_metadata().is_ok() {
        return Err(KeygenError::Exists {
            path: path.to_owned(),
        });
    }
    let key = InvestigatorKey::generate();
    let contents: zeroize::Zeroizing<Vec<u8>> = match passphrase {
        Some(passphrase) => zeroize::Zeroizing::new(
            key.to_protected_key_file(today, passphrase)
                .map_err(KeygenError::Protect)?,
        ),
        None => zeroize::Zeroizing::new(key.to_key_file(today).as_bytes().to_vec()),
    };
    write_key_file(path, &contents).map_err(|error| {
        if error.kind() == io::ErrorKind::AlreadyExists {
            KeygenError::Exists {
                path: path.to_owned(),
            }
        } else {
            KeygenError::Write {
                path: path.to_owned(),
                error,
            }
        }
    })?;
    Ok(key.recipient())
}

/// A new passphrase: from `MELDPUNT_PASSPHRASE`, else typed twice at the terminal.
pub fn new_passphrase() -> Result<SecretString, KeygenError> {
    if let Ok(value) = std::env::var(PASSPHRASE_ENV) {
        if value.is_empty() {
            return Err(KeygenError::EmptyPassphrase);
        }
        return Ok(SecretString::from(value));
    }
    if !io::stdin().is_terminal() {
        return Err(KeygenError::NoPassphrase);
    }
    let first = zeroize::Zeroizing::new(
        rpassword::prompt_password("New passphrase: ").map_err(|_| KeygenError::NoPassphrase)?,
    );
    if first.is_empty() {
        return Err(KeygenError::EmptyPassphrase);
    }
    let second = zeroize::Zeroizing::new(
        rpassword::prompt_password("The same passphrase again: ")
            .map_err(|_| KeygenError::NoPassphrase)?,
    );
    if *first != *second {
        return Err(KeygenError::PassphrasesDiffer);
    }
    Ok(SecretString::from(first.as_str().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_file_loads_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.txt");
        let today = Day::parse("2026-11-02").unwrap();
        let recipient = create_key_file(&path, None, today).unwrap();
        let keys = load_with(&path, || None).unwrap();
        assert_eq!(keys.recipients(), [recipient]);
        assert!(matches!(
            create_key_file(&path, None, today),
            Err(KeygenError::Exists { .. })
        ));

        let protected = dir.path().join("protected.txt");
        create_key_file(
            &protected,
            Some(SecretString::from("pass".to_owned())),
            today,
        )
        .unwrap();
        assert!(matches!(
            load_with(&protected, || None),
            Err(KeyError::PassphraseRequired { .. })
        ));
        assert!(matches!(
            load_with(&protected, || Some(SecretString::from("nope".to_owned()))),
            Err(KeyError::WrongPassphrase { .. })
        ));
        load_with(&protected, || Some(SecretString::from("pass".to_owned()))).unwrap();
    }
}
