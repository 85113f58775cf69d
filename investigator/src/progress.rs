//! Reading large files with a progress bar, hashing what passes.

use std::io::{self, Read};
use std::sync::mpsc;
use std::thread;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// Files at least this large get a progress bar (on a terminal only).
pub const BAR_FROM_BYTES: u64 = 16 * 1024 * 1024;

/// A progress bar for `total` bytes; hidden for small files, and by indicatif itself
/// when standard error is not a terminal.
pub fn bar(total: u64, message: String) -> ProgressBar {
    if total < BAR_FROM_BYTES {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

/// Bytes handed to the hashing thread at a time.
const HASH_CHUNK: usize = 1024 * 1024;
/// Chunks that may wait for the hashing thread (so memory stays at a few MiB).
const HASH_QUEUE: usize = 4;

/// A reader that hashes and counts what is read through it and moves a progress bar.
/// The SHA-256 runs on a thread of its own, beside whatever consumes the reader
/// (decryption): on two cores the hash then costs hardly any wall time.
pub struct HashingReader<R> {
    inner: R,
    /// Bytes read but not yet handed to the hashing thread.
    pending: Vec<u8>,
    chunks: Option<mpsc::SyncSender<Vec<u8>>>,
    hashing: Option<thread::JoinHandle<[u8; 32]>>,
    count: u64,
    bar: ProgressBar,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, bar: ProgressBar) -> Self {
        let (chunks, queue) = mpsc::sync_channel::<Vec<u8>>(HASH_QUEUE);
        let hashing = thread::spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in queue {
                hasher.update(&chunk);
            }
            hasher.finalize().into()
        });
        HashingReader {
            inner,
            pending: Vec::with_capacity(HASH_CHUNK),
            chunks: Some(chunks),
            hashing: Some(hashing),
            count: 0,
            bar,
        }
    }

    fn hand_over(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(HASH_CHUNK));
        match &self.chunks {
            Some(chunks) => chunks.send(chunk).map_err(|_| hashing_stopped()),
            None => Err(hashing_stopped()),
        }
    }

    /// Reads whatever is left (so the hash covers the whole file), then returns the
    /// SHA-256 and byte count of everything read.
    pub fn finish(mut self) -> io::Result<([u8; 32], u64)> {
        io::copy(&mut self, &mut io::sink())?;
        if !self.pending.is_empty() {
            self.hand_over()?;
        }
        drop(self.chunks.take());
        let digest = self
            .hashing
            .take()
            .ok_or_else(hashing_stopped)?
            .join()
            .map_err(|_| hashing_stopped())?;
        self.bar.finish_and_clear();
        Ok((digest, self.count))
    }
}

fn hashing_stopped() -> io::Error {
    io::Error::other("the hashing thread stopped")
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() >= HASH_CHUNK {
            self.hand_over()?;
        }
        self.count += n as u64;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_and_count_cover_every_byte_whatever_the_reads() {
        for size in [0, 1, HASH_CHUNK - 1, HASH_CHUNK, 3 * HASH_CHUNK + 17] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            // Part read by the caller in odd pieces, the rest by `finish`.
            let mut reader = HashingReader::new(&data[..], ProgressBar::hidden());
            let mut buf = [0u8; 4099];
            let mut taken = 0;
            while taken < size / 2 {
                taken += reader.read(&mut buf).unwrap();
            }
            let (digest, count) = reader.finish().unwrap();
            assert_eq!(count, size as u64);
            assert_eq!(
                digest,
                <[u8; 32]>::from(Sha256::digest(&data)),
                "{size} bytes"
            );
        }
    }
}
