//! A byte buffer for plaintext that wipes every allocation it ever held: a `Vec` that
//! grows frees its old allocation unwiped, so this one grows by copying into a fresh
//! zeroizing allocation and dropping (wiping) the old one.

use std::io;

use zeroize::Zeroizing;

/// Plaintext bytes, wiped when dropped and whenever the buffer grows.
pub struct SecretBuf(Zeroizing<Vec<u8>>);

impl SecretBuf {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    /// Takes over a vector (its allocation is wiped when the buffer drops).
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Appends `bytes`.
    pub fn extend(&mut self, bytes: &[u8]) {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(self.0.capacity() * 2)));
            bigger.extend_from_slice(&self.0);
            // The old allocation is wiped as it drops.
            self.0 = bigger;
        }
        self.0.extend_from_slice(bytes);
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// How many bytes it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes as text, if they are UTF-8 (the buffer moves into the string, so
    /// nothing is copied; a non-UTF-8 buffer is wiped).
    pub fn into_text(mut self) -> Option<Zeroizing<String>> {
        let bytes = std::mem::take(&mut *self.0);
        match String::from_utf8(bytes) {
            Ok(text) => Some(Zeroizing::new(text)),
            Err(e) => {
                drop(Zeroizing::new(e.into_bytes()));
                None
            }
        }
    }

    /// The buffer's own zeroizing vector (for a response body).
    pub fn into_inner(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl io::Write for SecretBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.extend(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_keeps_the_bytes() {
        let mut b = SecretBuf::with_capacity(2);
        for i in 0..100u8 {
            b.extend(&[i, i]);
        }
        assert_eq!(b.len(), 200);
        assert_eq!(&b.as_slice()[..4], &[0, 0, 1, 1]);
        let t = SecretBuf::with_capacity(0);
        assert!(t.is_empty());
        let mut u = SecretBuf::with_capacity(1);
        u.extend("héllo".as_bytes());
        assert_eq!(u.into_text().unwrap().as_str(), "héllo");
        let mut bad = SecretBuf::with_capacity(1);
        bad.extend(&[0xff, 0xfe]);
        assert!(bad.into_text().is_none());
    }
}
