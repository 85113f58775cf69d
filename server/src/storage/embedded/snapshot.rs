//! A consistent copy of the data directory, taken while the server serves: the caller
//! holds the [`Pause`](crate::storage::pause::Pause), so no record changes meanwhile.
//!
//! The copy is a data directory of its own (`snapshot-<random>/` inside the data
//! directory, the one place the server may write): sled's trees copied into a new
//! sled database, the segments holding the reports, notes and messages (copied), the
//! attachment files, and the token and audit files. Finished attachment files never
//! change again and are hard-linked (no bytes copied); an
//! unfinished one is copied as far as it arrived, and restores as an unfinished upload.
//! Copies keep their originals' day stamps; the new database carries today's.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use fs2::FileExt;

use super::registry::{AUDIT_FILE, LOCK_FILE};
use super::{files, parse, texts, Embedded, StoreError};
use crate::clock::FileDay;
use crate::storage::records::UploadSession;

/// How snapshot directories inside the data directory are named.
pub const PREFIX: &str = "snapshot-";

/// sled's page cache for the copy: it is written once and closed.
const COPY_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// Records per batch written into the copy.
const BATCH: usize = 1024;

impl Embedded {
    /// Copies the data directory into a new snapshot directory and returns its path.
    /// Call it only while holding the pause, on a thread that may block.
    pub fn snapshot(&self) -> Result<PathBuf, StoreError> {
        let mut name = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut name);
        let dir = self.data_dir.join(format!("{PREFIX}{}", hex::encode(name)));
        DirBuilder::new().mode(0o700).create(&dir)?;
        match self.fill_snapshot(&dir) {
            Ok(()) => Ok(dir),
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    fn fill_snapshot(&self, dir: &Path) -> Result<(), StoreError> {
        self.db.flush()?;
        let db_dir = dir.join("db");
        copy_db(&self.db, &db_dir)?;
        let day = self.file_day();
        day.apply_tree(&db_dir);

        let to = files::dir(dir);
        DirBuilder::new().mode(0o700).create(&to)?;
        for item in self.sessions.iter() {
            let (_, v) = item?;
            let s: UploadSession = parse(&v, "upload session")?;
            for a in s.attachments {
                let from = self.file_path(&a.file)?;
                let into = files::path(dir, &a.file);
                if a.finished.is_some() {
                    link_or_copy(&from, &into)?;
                } else {
                    copy_keeping_day(&from, &into)?;
                }
            }
        }
        // Segments are copied, not linked: erasing a shredded case overwrites them in
        // place, which must not reach into the copy.
        let texts_to = texts::dir(dir);
        DirBuilder::new().mode(0o700).create(&texts_to)?;
        for segment in self.texts.segments()? {
            if let Some(name) = segment.file_name() {
                copy_keeping_day(&segment, &texts_to.join(name))?;
            }
        }
        for (_, record) in self.all_cases()? {
            for a in record.attachments {
                link_or_copy(&self.file_path(&a.file)?, &files::path(dir, &a.file))?;
            }
        }
        copy_registry(&self.data_dir, dir)?;
        day.apply(&to);
        day.apply(&texts_to);
        day.apply(dir);
        // Making the snapshot changed the data directory's time.
        day.apply(&self.data_dir);
        Ok(())
    }
}

/// Copies every tree of `db` into a new database at `to`.
fn copy_db(db: &sled::Db, to: &Path) -> Result<(), StoreError> {
    let copy = sled::Config::new()
        .path(to)
        .create_new(true)
        .cache_capacity(COPY_CACHE_BYTES)
        .open()?;
    for name in db.tree_names() {
        let (from, into) = (db.open_tree(&name)?, copy.open_tree(&name)?);
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in from.iter() {
            let (k, v) = item?;
            batch.insert(k, v);
            n += 1;
            if n == BATCH {
                into.apply_batch(std::mem::take(&mut batch))?;
                n = 0;
            }
        }
        into.apply_batch(batch)?;
    }
    copy.flush()?;
    Ok(())
}

/// The token and audit files, and whatever else lies at the top of the data directory
/// (e.g. a demo key), taken under the locks the token and audit commands use, so a
/// command running in another process cannot change them halfway.
fn copy_registry(data_dir: &Path, dir: &Path) -> Result<(), StoreError> {
    let tokens = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(data_dir.join(LOCK_FILE))?;
    tokens.lock_exclusive()?;
    let audit = match File::open(data_dir.join(AUDIT_FILE)) {
        Ok(f) => {
            f.lock_exclusive()?;
            Some(f)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let copied = (|| {
        for e in fs::read_dir(data_dir)? {
            let e = e?;
            // Regular files only: not sled's or the attachments' directories, not
            // other snapshots, not the socket snapshots are asked for on.
            if e.file_type()?.is_file() {
                copy_keeping_day(&e.path(), &dir.join(e.file_name()))?;
            }
        }
        Ok::<_, io::Error>(())
    })();
    if let Some(f) = audit {
        let _ = FileExt::unlock(&f);
    }
    let _ = FileExt::unlock(&tokens);
    Ok(copied?)
}

/// A hard link (no bytes copied) where the file system allows, else a copy.
fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(_) => copy_keeping_day(from, to),
    }
}

/// Copies a file, with the original's day stamp (modification and access time alike).
fn copy_keeping_day(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to)?;
    let day = FileDay(fs::metadata(from)?.modified()?);
    day.apply_file(&File::options().write(true).open(to)?)
}

/// Removes snapshot directories left behind (a backup cut short): they would only take
/// room, and hold on to files a shredded case no longer has.
pub fn remove_leftovers(data_dir: &Path) -> io::Result<()> {
    for e in fs::read_dir(data_dir)? {
        let e = e?;
        if e.file_type()?.is_dir() && e.file_name().to_string_lossy().starts_with(PREFIX) {
            fs::remove_dir_all(e.path())?;
        }
    }
    Ok(())
}
