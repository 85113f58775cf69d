//! age encryption and decryption: whole buffers for envelopes, streams for attachments.
//!
//! Every ciphertext Meldpunt makes is a standard age v1 file to X25519 recipients, so
//! `age -d -i KEY_FILE` opens any of them (PROTOCOL.md §7).

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Read, Write};
use std::rc::Rc;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::padding::padded_len;
use crate::recipients::Recipient;

/// Why encryption failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EncryptError {
    /// No recipients were given.
    NoRecipients,
    /// age refused the recipients.
    Age(String),
    /// Reading the plaintext or writing the ciphertext failed.
    Io(io::Error),
    /// The plaintext was not as long as announced.
    LengthMismatch {
        /// Announced length.
        expected: u64,
        /// Length actually read.
        found: u64,
    },
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncryptError::NoRecipients => f.write_str("there is no recipient to encrypt to"),
            EncryptError::Age(e) => write!(f, "encryption failed: {e}"),
            EncryptError::Io(e) => write!(f, "encryption failed while reading or writing: {e}"),
            EncryptError::LengthMismatch { expected, found } => write!(
                f,
                "the file changed while it was being encrypted ({expected} bytes expected, \
                 {found} read)"
            ),
        }
    }
}

impl std::error::Error for EncryptError {}

impl From<io::Error> for EncryptError {
    fn from(e: io::Error) -> Self {
        EncryptError::Io(e)
    }
}

/// Why decryption failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum DecryptError {
    /// Not an age file, or a damaged one.
    NotAgeFile,
    /// The file is encrypted with a passphrase, not to recipients.
    Passphrase,
    /// None of the given identities is a recipient of this file.
    NotARecipient,
    /// The file was cut short or altered after encryption.
    Damaged,
    /// Reading or writing failed.
    Io(io::Error),
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::NotAgeFile => f.write_str("this is not an age-encrypted file"),
            DecryptError::Passphrase => {
                f.write_str("this file is protected by a passphrase, not encrypted to a key")
            }
            DecryptError::NotARecipient => {
                f.write_str("this file was not encrypted to the recipient of the given key")
            }
            DecryptError::Damaged => {
                f.write_str("this file is damaged: it was cut short or altered after encryption")
            }
            DecryptError::Io(e) => write!(f, "reading or writing failed: {e}"),
        }
    }
}

impl std::error::Error for DecryptError {}

fn map_age_decrypt(e: age::DecryptError) -> DecryptError {
    match e {
        age::DecryptError::NoMatchingKeys => DecryptError::NotARecipient,
        age::DecryptError::Io(io) => DecryptError::Io(io),
        age::DecryptError::DecryptionFailed | age::DecryptError::InvalidMac => {
            DecryptError::Damaged
        }
        _ => DecryptError::NotAgeFile,
    }
}

fn map_read_error(e: io::Error) -> DecryptError {
    // age's STREAM reader reports a failed chunk or a truncated file as InvalidData /
    // UnexpectedEof.
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => DecryptError::Damaged,
        _ => DecryptError::Io(e),
    }
}

fn encryptor(recipients: &[Recipient]) -> Result<age::Encryptor, EncryptError> {
    if recipients.is_empty() {
        return Err(EncryptError::NoRecipients);
    }
    age::Encryptor::with_recipients(recipients.iter().map(|r| r.as_age() as &dyn age::Recipient))
        .map_err(|e| EncryptError::Age(e.to_string()))
}

/// Encrypts a whole buffer to `recipients` (which must not be empty).
pub fn encrypt(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    let mut writer = encryptor(recipients)?.wrap_output(&mut out)?;
    writer.write_all(plaintext)?;
    writer.finish()?;
    Ok(out)
}

fn decryptor<R: Read>(input: R) -> Result<age::Decryptor<R>, DecryptError> {
    let d = age::Decryptor::new(input).map_err(|e| match e {
        // A header that ends early or cannot be read is not an age file at all.
        age::DecryptError::Io(ref io)
            if matches!(
                io.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) =>
        {
            DecryptError::NotAgeFile
        }
        other => map_age_decrypt(other),
    })?;
    if d.is_scrypt() {
        return Err(DecryptError::Passphrase);
    }
    Ok(d)
}

/// Decrypts a whole buffer with any of `identities`.
pub fn decrypt(
    identities: &[&dyn age::Identity],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let d = decryptor(ciphertext)?;
    let mut reader = d
        .decrypt(identities.iter().copied())
        .map_err(map_age_decrypt)?;
    let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    reader.read_to_end(&mut out).map_err(map_read_error)?;
    Ok(out)
}

/// SHA-256 and size of an attachment's ciphertext, as listed in the report's manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CiphertextDigest {
    /// SHA-256 of the whole age file.
    pub sha256: [u8; 32],
    /// Size of the whole age file in bytes.
    pub size: u64,
}

/// Computes an age file's SHA-256 and size, as the report's manifest lists them, over its
/// bytes as they pass. [`AttachmentEncryptor::new`] runs one inside;
/// [`AttachmentEncryptor::digest_beside`] leaves it to the caller, so that the browser can
/// hash on another core (in a second instance of the module) while this one encrypts.
#[derive(Clone, Default)]
pub struct CiphertextHasher {
    sha256: Sha256,
    size: u64,
}

impl CiphertextHasher {
    /// Starts over an empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes of the age file, in order.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// The digest of everything passed to [`update`](Self::update).
    pub fn finish(self) -> CiphertextDigest {
        CiphertextDigest {
            sha256: self.sha256.finalize().into(),
            size: self.size,
        }
    }
}

/// A writer that counts, and hashes unless told not to, what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Option<CiphertextHasher>,
    size: u64,
}

impl<W> Hashing<W> {
    fn new(inner: W, hash: bool) -> Self {
        Self {
            inner,
            hasher: hash.then(CiphertextHasher::new),
            size: 0,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const ZEROS: [u8; 8192] = [0u8; 8192];

/// Streams an attachment of exactly `plaintext_len` bytes from `reader` into an age file
/// on `writer`, padded with zero bytes to [`padded_len`]. Memory use does not depend on
/// the file's size.
///
/// Returns the ciphertext's SHA-256 and size for the report's manifest.
pub fn encrypt_attachment<R: Read, W: Write>(
    recipients: &[Recipient],
    mut reader: R,
    plaintext_len: u64,
    writer: W,
) -> Result<CiphertextDigest, EncryptError> {
    let mut stream = encryptor(recipients)?.wrap_output(Hashing::new(writer, true))?;
    let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
    let mut read = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        read += n as u64;
        if read > plaintext_len {
            return Err(EncryptError::LengthMismatch {
                expected: plaintext_len,
                found: read,
            });
        }
        stream.write_all(&buf[..n])?;
    }
    if read != plaintext_len {
        return Err(EncryptError::LengthMismatch {
            expected: plaintext_len,
            found: read,
        });
    }
    write_zeros(&mut stream, padded_len(plaintext_len) - plaintext_len)?;
    let hashing = stream.finish()?;
    // Made with a hasher just above; never None.
    hashing
        .hasher
        .map(CiphertextHasher::finish)
        .ok_or_else(|| io::Error::other("the digest was not computed").into())
}

fn write_zeros<W: Write>(w: &mut W, mut count: u64) -> io::Result<()> {
    while count > 0 {
        let n = count.min(ZEROS.len() as u64) as usize;
        w.write_all(&ZEROS[..n])?;
        count -= n as u64;
    }
    Ok(())
}

/// Why an attachment could not be decrypted.
#[derive(Debug)]
#[non_exhaustive]
pub enum AttachmentError {
    /// The age layer failed.
    Decrypt(DecryptError),
    /// The decrypted size or padding does not match the report's manifest.
    WrongSize {
        /// The size the report names.
        expected: u64,
    },
}

impl fmt::Display for AttachmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachmentError::Decrypt(e) => e.fmt(f),
            AttachmentError::WrongSize { expected } => write!(
                f,
                "the attachment does not have the size the report names ({expected} bytes)"
            ),
        }
    }
}

impl std::error::Error for AttachmentError {}

/// Streams an attachment's age file from `reader`, writes its first `plaintext_len`
/// bytes to `writer`, and checks that the rest is exactly the zero padding.
pub fn decrypt_attachment<R: Read, W: Write>(
    identities: &[&dyn age::Identity],
    reader: R,
    plaintext_len: u64,
    mut writer: W,
) -> Result<(), AttachmentError> {
    let d = decryptor(reader).map_err(AttachmentError::Decrypt)?;
    let mut stream = d
        .decrypt(identities.iter().copied())
        .map_err(|e| AttachmentError::Decrypt(map_age_decrypt(e)))?;
    let mut buf = Zeroizing::new(vec![0u8; 64 * 1024]);
    let mut seen = 0u64;
    let wrong = AttachmentError::WrongSize {
        expected: plaintext_len,
    };
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(AttachmentError::Decrypt(map_read_error(e))),
        };
        let chunk = &buf[..n];
        let keep = plaintext_len.saturating_sub(seen).min(n as u64) as usize;
        writer
            .write_all(&chunk[..keep])
            .map_err(|e| AttachmentError::Decrypt(DecryptError::Io(e)))?;
        if chunk[keep..].iter().any(|&b| b != 0) {
            return Err(wrong);
        }
        seen += n as u64;
    }
    if seen != padded_len(plaintext_len) {
        return Err(wrong);
    }
    writer
        .flush()
        .map_err(|e| AttachmentError::Decrypt(DecryptError::Io(e)))?;
    Ok(())
}

/// A shared output buffer, so the push-style encryptor can hand out what age wrote.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Push-style streaming encryption of one attachment, for callers that receive the
/// plaintext in slices (the browser reads a `File` with `slice`): feed slices with
/// [`push`](Self::push), collect ciphertext as it is produced, then
/// [`finish`](Self::finish). Memory stays bounded by the slice size.
pub struct AttachmentEncryptor {
    stream: age::stream::StreamWriter<Hashing<Sink>>,
    sink: Sink,
    expected: u64,
    pushed: u64,
    padded: u64,
}

/// What finishing an attachment gives for the report's manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finished {
    /// The digest, computed by the encryptor ([`AttachmentEncryptor::new`]).
    Digest(CiphertextDigest),
    /// Only the age file's size: the caller hashed every byte the encryptor gave out
    /// with a [`CiphertextHasher`] ([`AttachmentEncryptor::digest_beside`]).
    Size(u64),
}

impl AttachmentEncryptor {
    /// Starts an attachment of exactly `plaintext_len` bytes; [`finish`](Self::finish)
    /// gives its digest.
    pub fn new(recipients: &[Recipient], plaintext_len: u64) -> Result<Self, EncryptError> {
        Self::start(recipients, plaintext_len, true)
    }

    /// Starts an attachment whose digest the caller computes: [`finish`](Self::finish)
    /// gives only the size. The SHA-256 is a large part of the work in a browser, and
    /// this lets another core do it.
    ///
    /// # Warning
    /// Every byte returned by [`push`](Self::push), [`pad`](Self::pad) and
    /// [`finish`](Self::finish) must go, in order, into one [`CiphertextHasher`]; the
    /// manifest needs its digest, and the investigator's tool refuses an attachment whose
    /// bytes do not match it.
    pub fn digest_beside(
        recipients: &[Recipient],
        plaintext_len: u64,
    ) -> Result<Self, EncryptError> {
        Self::start(recipients, plaintext_len, false)
    }

    fn start(
        recipients: &[Recipient],
        plaintext_len: u64,
        hash: bool,
    ) -> Result<Self, EncryptError> {
        let sink = Sink::default();
        let stream = encryptor(recipients)?.wrap_output(Hashing::new(sink.clone(), hash))?;
        Ok(Self {
            stream,
            sink,
            expected: plaintext_len,
            pushed: 0,
            padded: 0,
        })
    }

    /// Encrypts the next slice and returns the ciphertext produced so far.
    pub fn push(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        self.pushed += plaintext.len() as u64;
        if self.pushed > self.expected {
            return Err(EncryptError::LengthMismatch {
                expected: self.expected,
                found: self.pushed,
            });
        }
        self.stream.write_all(plaintext)?;
        Ok(self.take())
    }

    /// Writes up to `max` bytes of the zero padding and returns the ciphertext produced,
    /// and whether the padding is complete. Call it until it says so before
    /// [`finish`](Self::finish), so that padding a large file (up to 12% of it) never
    /// needs a buffer of that size.
    pub fn pad(&mut self, max: usize) -> Result<(Vec<u8>, bool), EncryptError> {
        if self.pushed != self.expected {
            return Err(EncryptError::LengthMismatch {
                expected: self.expected,
                found: self.pushed,
            });
        }
        let remaining = padded_len(self.expected) - self.expected - self.padded;
        let n = remaining.min(max as u64);
        write_zeros(&mut self.stream, n)?;
        self.padded += n;
        Ok((self.take(), n == remaining))
    }

    /// Pads (what [`pad`](Self::pad) has not yet), finishes, and returns the last
    /// ciphertext and what the manifest needs.
    pub fn finish(mut self) -> Result<(Vec<u8>, Finished), EncryptError> {
        if self.pushed != self.expected {
            return Err(EncryptError::LengthMismatch {
                expected: self.expected,
                found: self.pushed,
            });
        }
        write_zeros(
            &mut self.stream,
            padded_len(self.expected) - self.expected - self.padded,
        )?;
        let hashing = self.stream.finish()?;
        let finished = match hashing.hasher {
            Some(h) => Finished::Digest(h.finish()),
            None => Finished::Size(hashing.size),
        };
        let rest = std::mem::take(&mut *self.sink.0.borrow_mut());
        Ok((rest, finished))
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.sink.0.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (age::x25519::Identity, Recipient) {
        let id = age::x25519::Identity::generate();
        let r = Recipient::from_age(id.to_public());
        (id, r)
    }

    #[test]
    fn buffer_round_trip_and_wrong_key() {
        let (id, r) = pair();
        let (other, _) = pair();
        let ct = encrypt(&[r], b"hello").unwrap();
        assert_eq!(&decrypt(&[&id], &ct).unwrap()[..], b"hello");
        assert!(matches!(
            decrypt(&[&other], &ct),
            Err(DecryptError::NotARecipient)
        ));
        assert!(matches!(
            decrypt(&[&id], b"garbage"),
            Err(DecryptError::NotAgeFile)
        ));
        let mut cut = ct.clone();
        cut.truncate(ct.len() - 3);
        assert!(matches!(decrypt(&[&id], &cut), Err(DecryptError::Damaged)));
        assert!(matches!(
            encrypt(&[], b"x"),
            Err(EncryptError::NoRecipients)
        ));
    }

    #[test]
    fn attachment_stream_and_push_agree_on_format() {
        let (id, r) = pair();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut ct = Vec::new();
        let digest = encrypt_attachment(
            std::slice::from_ref(&r),
            &data[..],
            data.len() as u64,
            &mut ct,
        )
        .unwrap();
        assert_eq!(digest.size, ct.len() as u64);
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&ct)));
        let mut out = Vec::new();
        decrypt_attachment(&[&id], &ct[..], data.len() as u64, &mut out).unwrap();
        assert_eq!(out, data);
        // Claiming another size is caught.
        let err = decrypt_attachment(&[&id], &ct[..], data.len() as u64 - 1, &mut Vec::new());
        assert!(matches!(err, Err(AttachmentError::WrongSize { .. })));

        let mut enc =
            AttachmentEncryptor::new(std::slice::from_ref(&r), data.len() as u64).unwrap();
        let mut ct2 = Vec::new();
        for chunk in data.chunks(70_001) {
            ct2.extend(enc.push(chunk).unwrap());
        }
        // Padding in small steps gives the same file format.
        loop {
            let (bytes, done) = enc.pad(1000).unwrap();
            assert!(bytes.len() <= 1000 + 2 * 65_552);
            ct2.extend(bytes);
            if done {
                break;
            }
        }
        let (rest, d2) = enc.finish().unwrap();
        ct2.extend(rest);
        let Finished::Digest(d2) = d2 else {
            panic!("no digest")
        };
        assert_eq!(d2.size, ct2.len() as u64);
        assert_eq!(d2.sha256, <[u8; 32]>::from(Sha256::digest(&ct2)));
        let mut out2 = Vec::new();
        decrypt_attachment(&[&id], &ct2[..], data.len() as u64, &mut out2).unwrap();
        assert_eq!(out2, data);

        // With the digest computed beside: the same format, and the hasher fed with what
        // the encryptor gives out has the digest of the whole file.
        let mut enc = AttachmentEncryptor::digest_beside(&[r], data.len() as u64).unwrap();
        let mut hasher = CiphertextHasher::new();
        let mut ct3 = Vec::new();
        let mut keep = |bytes: Vec<u8>| {
            hasher.update(&bytes);
            ct3.extend(bytes);
        };
        for chunk in data.chunks(65_536) {
            keep(enc.push(chunk).unwrap());
        }
        let (rest, size) = enc.finish().unwrap();
        keep(rest);
        assert_eq!(size, Finished::Size(ct3.len() as u64));
        let d3 = hasher.finish();
        assert_eq!(d3.size, ct3.len() as u64);
        assert_eq!(d3.sha256, <[u8; 32]>::from(Sha256::digest(&ct3)));
        let mut out3 = Vec::new();
        decrypt_attachment(&[&id], &ct3[..], data.len() as u64, &mut out3).unwrap();
        assert_eq!(out3, data);
    }

    #[test]
    fn length_mismatch_is_refused() {
        let (_, r) = pair();
        let err = encrypt_attachment(std::slice::from_ref(&r), &b"abc"[..], 4, Vec::new());
        assert!(matches!(err, Err(EncryptError::LengthMismatch { .. })));
        let err = encrypt_attachment(&[r], &b"abcde"[..], 4, Vec::new());
        assert!(matches!(err, Err(EncryptError::LengthMismatch { .. })));
    }
}
