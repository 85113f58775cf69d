//! Files the tool writes: private (0600/0700) and replaced atomically, so an interrupted
//! run never leaves half an index behind.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates a directory and its parents; the ones created are private to the owner.
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// Opens a new file readable only by the owner; fails if anything (also a symbolic
/// link) already has that name, so a planted link cannot redirect the write.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes `contents` to `path` through a temporary file in the same directory and a
/// rename: readers see the old file or the new one, never a mix.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".meldpunt-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A path shown to the user: as given, without surprises.
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Removes a file or a directory tree without following symbolic links. Plaintext files
/// are overwritten with zeros first when `scrub` is set (a best effort: see
/// docs/BUNDLE.md on what that cannot reach).
pub fn remove_tree(path: &Path, scrub: bool) -> io::Result<u64> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            removed += remove_tree(&entry?.path(), scrub)?;
        }
        fs::remove_dir(path)?;
    } else {
        if scrub && meta.is_file() {
            overwrite_with_zeros(path, meta.len())?;
        }
        fs::remove_file(path)?;
        removed += 1;
    }
    Ok(removed)
}

fn overwrite_with_zeros(path: &Path, len: u64) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(path)?;
    let zeros = [0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_all()
}

/// `dir/name`, for a name already known to be one plain path component.
pub fn child(dir: &Path, name: &str) -> PathBuf {
    debug_assert!(!name.contains('/') && name != ".." && name != ".");
    dir.join(name)
}
