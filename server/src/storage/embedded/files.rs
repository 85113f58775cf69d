//! Attachment files: one file per attachment in `files/`, named at random.
//!
//! Attachments can be gigabytes, so they live beside sled as plain files, written in
//! chunks and synced when the upload finishes.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::ids::FileId;
use crate::storage::records::Digest;

/// The directory attachment files live in.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("files")
}

/// The path of one attachment file.
pub fn path(data_dir: &Path, id: &FileId) -> PathBuf {
    // FileId is hex only (checked when read back), so this stays inside files/.
    dir(data_dir).join(id.as_str())
}

/// Creates an empty attachment file.
pub fn create(path: &Path) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map(|_| ())
}

/// The file's current length: how much of the attachment arrived.
pub fn len(path: &Path) -> io::Result<u64> {
    Ok(std::fs::metadata(path)?.len())
}

/// Up to `max` bytes from the start of the file.
pub fn read_prefix(path: &Path, max: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(max.min(64 * 1024));
    File::open(path)?.take(max as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// Cuts the file back to `len` bytes (a refused chunk leaves nothing behind).
pub fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}

/// Hashes the whole file, in bounded memory, and syncs it to disk.
pub fn digest_and_sync(path: &Path) -> io::Result<Digest> {
    let mut f = OpenOptions::new().read(true).write(true).open(path)?;
    f.sync_all()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Digest {
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}

/// Removes a file; a file already gone is fine.
pub fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
