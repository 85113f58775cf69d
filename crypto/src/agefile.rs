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

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
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
    let hashing = Hashing {
        inner: writer,
        hasher: Sha256::new(),
        size: 0,
    };
    let mut stream = encryptor(recipients)?.wrap_output(hashing)?;
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
    Ok(CiphertextDigest {
        sha256: hashing.hasher.finalize().into(),
        size: hashing.size,
    })
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

impl AttachmentEncryptor {
    /// Starts an attachment of exactly `plaintext_len` bytes.
    pub fn new(recipients: &[Recipient], plaintext_len: u64) -> Result<Self, EncryptError> {
        let sink = Sink::default();
        let hashing = Hashing {
            inner: sink.clone(),
            hasher: Sha256::new(),
            size: 0,
        };
        let stream = encryptor(recipients)?.wrap_output(hashing)?;
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
    /// ciphertext and the digest for the manifest.
    pub fn finish(mut self) -> Result<(Vec<u8>, CiphertextDigest), EncryptError> {
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
        let digest = CiphertextDigest {
            sha256: hashing.hasher.finalize().into(),
            size: hashing.size,
        };
        let rest = std::mem::take(&mut *self.sink.0.borrow_mut());
        Ok((rest, digest))
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

        let mut enc = AttachmentEncryptor::new(&[r], data.len() as u64).unwrap();
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
        assert_eq!(d2.size, ct2.len() as u64);
        let mut out2 = Vec::new();
        decrypt_attachment(&[&id], &ct2[..], data.len() as u64, &mut out2).unwrap();
        assert_eq!(out2, data);
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
