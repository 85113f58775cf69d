//! Investigator keys: age identity files, optionally protected by a passphrase
//! (PROTOCOL.md §9).
//!
//! A plain key file is what `age-keygen` writes; a protected one is that text
//! encrypted with age's scrypt recipient and ASCII-armored, which `age -d -i` also opens
//! (it asks for the passphrase).

use std::fmt;
use std::io::{Read, Write};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use crate::day::Day;
use crate::recipients::Recipient;

/// The highest scrypt work factor accepted when opening a protected key file, so a
/// crafted file cannot make loading take hours (age's own default is about 2^18).
pub const MAX_SCRYPT_WORK_FACTOR: u8 = 22;
/// The scrypt work factor used when protecting a key file: fixed, so a file made on a
/// fast machine still opens in about a second on the offline laptop.
pub const SCRYPT_WORK_FACTOR: u8 = 18;

/// An investigator's (or a destination's) X25519 identity.
///
/// Not `Debug`, not `Display`; the age identity inside zeroizes on drop.
pub struct InvestigatorKey {
    identity: age::x25519::Identity,
}

impl InvestigatorKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self {
            identity: age::x25519::Identity::generate(),
        }
    }

    /// The public recipient to give to the server operator.
    pub fn recipient(&self) -> Recipient {
        Recipient::from_age(self.identity.to_public())
    }

    /// The age identity, for decryption.
    pub fn as_age(&self) -> &age::x25519::Identity {
        &self.identity
    }

    /// The key file text, in the form `age-keygen` writes.
    pub fn to_key_file(&self, created: Day) -> Zeroizing<String> {
        use age::secrecy::ExposeSecret;
        let secret = self.identity.to_string();
        Zeroizing::new(format!(
            "# created: {created}\n# public key: {}\n{}\n",
            self.recipient(),
            secret.expose_secret()
        ))
    }

    /// The key file text encrypted with `passphrase` (age scrypt, ASCII armor).
    pub fn to_protected_key_file(
        &self,
        created: Day,
        passphrase: SecretString,
    ) -> Result<Vec<u8>, KeyFileError> {
        let text = self.to_key_file(created);
        let mut recipient = age::scrypt::Recipient::new(passphrase);
        recipient.set_work_factor(SCRYPT_WORK_FACTOR);
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|_| KeyFileError::Write)?;
        let mut out = Vec::new();
        let armored =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .map_err(|_| KeyFileError::Write)?;
        let mut w = encryptor
            .wrap_output(armored)
            .map_err(|_| KeyFileError::Write)?;
        w.write_all(text.as_bytes())
            .map_err(|_| KeyFileError::Write)?;
        w.finish()
            .and_then(|armored| armored.finish())
            .map_err(|_| KeyFileError::Write)?;
        Ok(out)
    }
}

/// Why a key file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file is protected and no passphrase was given.
    PassphraseRequired,
    /// The passphrase does not open the file.
    WrongPassphrase,
    /// A line is neither a comment nor an age X25519 secret key.
    BadLine {
        /// 1-based line number in the (decrypted) key file.
        line: usize,
    },
    /// The file holds no key at all.
    NoKeys,
    /// The file is not text.
    NotText,
    /// The protected file is damaged or is not a key file at all.
    Damaged,
    /// Writing the protected file failed.
    Write,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::PassphraseRequired => {
                f.write_str("this key file is protected by a passphrase; give the passphrase")
            }
            KeyFileError::WrongPassphrase => {
                f.write_str("the passphrase does not open this key file")
            }
            KeyFileError::BadLine { line } => write!(
                f,
                "line {line} of the key file is not an age secret key (AGE-SECRET-KEY-1…) \
                 or a comment"
            ),
            KeyFileError::NoKeys => f.write_str("the key file contains no key"),
            KeyFileError::NotText => f.write_str("the key file is not a text file"),
            KeyFileError::Damaged => {
                f.write_str("the protected key file is damaged or is not a key file")
            }
            KeyFileError::Write => f.write_str("the protected key file could not be written"),
        }
    }
}

impl std::error::Error for KeyFileError {}

/// Whether a key file is passphrase-protected (an age file rather than key text).
pub fn is_protected(file: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&file[..file.len().min(64)]).into_owned();
    let start = start.trim_start();
    start.starts_with("age-encryption.org/") || start.starts_with("-----BEGIN AGE ENCRYPTED FILE")
}

/// Reads the keys in a key file. `passphrase` is asked for only if the file is
/// protected.
pub fn load_keys(
    file: &[u8],
    passphrase: impl FnOnce() -> Option<SecretString>,
) -> Result<Vec<InvestigatorKey>, KeyFileError> {
    if !is_protected(file) {
        return parse_key_text(file);
    }
    let passphrase = passphrase().ok_or(KeyFileError::PassphraseRequired)?;
    let mut identity = age::scrypt::Identity::new(passphrase);
    identity.set_max_work_factor(MAX_SCRYPT_WORK_FACTOR);
    let decryptor = age::Decryptor::new(age::armor::ArmoredReader::new(file))
        .map_err(|_| KeyFileError::Damaged)?;
    if !decryptor.is_scrypt() {
        return Err(KeyFileError::Damaged);
    }
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::ExcessiveWork { .. } | age::DecryptError::InvalidHeader => {
                KeyFileError::Damaged
            }
            _ => KeyFileError::WrongPassphrase,
        })?;
    let mut text = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut text)
        .map_err(|_| KeyFileError::Damaged)?;
    parse_key_text(&text)
}

fn parse_key_text(file: &[u8]) -> Result<Vec<InvestigatorKey>, KeyFileError> {
    let text = std::str::from_utf8(file).map_err(|_| KeyFileError::NotText)?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let identity = line
            .parse::<age::x25519::Identity>()
            .map_err(|_| KeyFileError::BadLine { line: i + 1 })?;
        keys.push(InvestigatorKey { identity });
    }
    if keys.is_empty() {
        return Err(KeyFileError::NoKeys);
    }
    Ok(keys)
}

/// Writes a new key file readable only by its owner (mode 0600), refusing to
/// overwrite an existing file.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_key_file(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> Day {
        Day::parse("2026-11-23").unwrap()
    }

    #[test]
    fn plain_key_file_round_trip() {
        let key = InvestigatorKey::generate();
        let text = key.to_key_file(day());
        assert!(text.starts_with("# created: 2026-11-23\n# public key: age1"));
        let loaded = load_keys(text.as_bytes(), || None).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].recipient(), key.recipient());
    }

    #[test]
    fn protected_key_file_round_trip_and_wrong_passphrase() {
        let key = InvestigatorKey::generate();
        let file = key
            .to_protected_key_file(day(), SecretString::from("correct horse".to_owned()))
            .unwrap();
        assert!(is_protected(&file));
        assert_eq!(
            load_keys(&file, || None).err(),
            Some(KeyFileError::PassphraseRequired)
        );
        assert_eq!(
            load_keys(&file, || Some(SecretString::from("wrong".to_owned()))).err(),
            Some(KeyFileError::WrongPassphrase)
        );
        let loaded = load_keys(&file, || {
            Some(SecretString::from("correct horse".to_owned()))
        })
        .unwrap();
        assert_eq!(loaded[0].recipient(), key.recipient());
    }

    #[test]
    fn bad_key_files() {
        assert_eq!(
            load_keys(b"# nothing\n", || None).err(),
            Some(KeyFileError::NoKeys)
        );
        assert_eq!(
            load_keys(b"# c\nhello\n", || None).err(),
            Some(KeyFileError::BadLine { line: 2 })
        );
        assert_eq!(
            load_keys(&[0xff, 0xfe], || None).err(),
            Some(KeyFileError::NotText)
        );
        let damaged = b"-----BEGIN AGE ENCRYPTED FILE-----\nnot base64 at all\n-----END AGE ENCRYPTED FILE-----\n";
        assert_eq!(
            load_keys(damaged, || Some(SecretString::from("x".to_owned()))).err(),
            Some(KeyFileError::Damaged)
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("meldpunt-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.txt");
        let _ = std::fs::remove_file(&path);
        write_key_file(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(write_key_file(&path, b"y").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
