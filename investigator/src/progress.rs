//! Reading large files with a progress bar, hashing what passes.

use std::io::{self, Read};

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

/// A reader that hashes and counts what is read through it and moves a progress bar.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    bar: ProgressBar,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, bar: ProgressBar) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
            bar,
        }
    }

    /// Reads whatever is left (so the hash covers the whole file), then returns the
    /// SHA-256 and byte count of everything read.
    pub fn finish(mut self) -> io::Result<([u8; 32], u64)> {
        io::copy(&mut self, &mut io::sink())?;
        self.bar.finish_and_clear();
        Ok((self.hasher.finalize().into(), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        self.bar.inc(n as u64);
        Ok(n)
    }
}
