//! Group commit: many requests waiting for durability share one flush.
//!
//! A request makes its writes, then asks for a flush and waits. One thread flushes
//! sled (which fsyncs), syncs the directories that changed, and answers
//! every request that asked before the flush began. Requests that arrive during a
//! flush are answered together by the next one, so sixteen concurrent submissions cost
//! a few fsyncs, not sixteen.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use rocket::tokio::sync::oneshot;

use crate::clock::Clock;
use crate::clock::FileDay;

type Waiter = oneshot::Sender<Result<(), String>>;

/// The handle requests use to wait for durability.
pub struct Flusher {
    tx: mpsc::Sender<Waiter>,
    flushes: Arc<AtomicU64>,
}

impl Flusher {
    /// Starts the flushing thread for `db`. On every flush the directories `dirs`, and
    /// everything below `scrub`, are synced and stamped with the day if they changed
    /// since the flush before.
    pub fn start(
        db: sled::Db,
        dirs: Vec<PathBuf>,
        scrub: Vec<PathBuf>,
        clock: Clock,
    ) -> io::Result<Self> {
        let flushes = Arc::new(AtomicU64::new(0));
        let count = flushes.clone();
        let tx = batches("meldpunt-flush", move |waiters: Vec<Waiter>| {
            let result = flush_once(&db, &dirs, &scrub, &clock);
            count.fetch_add(1, Ordering::Relaxed);
            for w in waiters {
                let _ = w.send(result.clone());
            }
        })?;
        Ok(Self { tx, flushes })
    }

    /// Waits until everything written before the call is on disk.
    pub async fn flush(&self) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(tx)
            .map_err(|_| "the flushing thread has stopped".to_owned())?;
        rx.await
            .map_err(|_| "the flushing thread has stopped".to_owned())?
    }

    /// How many flushes ran (for tests of the grouping).
    pub fn flush_count(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }
}

/// Runs `serve` on a thread of its own (`name`) for batches of what is sent to it: the
/// first item waiting and every one queued behind it. This is what makes a group
/// commit. The thread ends when every sender is dropped.
pub fn batches<T: Send + 'static>(
    name: &str,
    mut serve: impl FnMut(Vec<T>) + Send + 'static,
) -> io::Result<mpsc::Sender<T>> {
    let (tx, rx) = mpsc::channel::<T>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                batch.extend(rx.try_iter());
                serve(batch);
            }
        })?;
    Ok(tx)
}

fn flush_once(
    db: &sled::Db,
    dirs: &[PathBuf],
    scrub: &[PathBuf],
    clock: &Clock,
) -> Result<(), String> {
    db.flush()
        .map_err(|e| format!("flushing the database: {e}"))?;
    // sled rewrites its files, and new files change their directory, which stamps them
    // with the exact time; put them back to the day. (The inode change time cannot be
    // set from user space: see CONFIG.md.)
    let day = FileDay::of(clock.today());
    for path in scrub {
        sync_changed_tree(path, day).map_err(|e| format!("syncing {}: {e}", path.display()))?;
    }
    for dir in dirs {
        sync_if_changed(dir, day).map_err(|e| format!("syncing {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Syncs every file and directory below `path` that changed since the last flush (its
/// modification time is no longer the day stamp), then stamps it.
///
/// sled 0.34's flush writes its log with `sync_file_range`, which neither commits the
/// file's metadata (its size, as the log grows) nor flushes the disk's write cache, and
/// it never syncs the files it writes large values to (sled issue #1452). Without this
/// fsync a power cut could lose a report whose receipt was sent.
fn sync_changed_tree(path: &Path, day: FileDay) -> io::Result<()> {
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_changed_tree(&entry.path(), day)?;
        } else {
            sync_if_changed(&entry.path(), day)?;
        }
    }
    // The directory after its files, so new entries point at synced files.
    sync_if_changed(path, day)
}

fn sync_if_changed(path: &Path, day: FileDay) -> io::Result<()> {
    // Most of sled's files, and the directories, are untouched since the last flush, and
    // a stat costs much less than opening, stamping and syncing: leave alone what still
    // carries the day's stamp.
    let m = match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    let (written, read) = (m.modified()? != day.0, m.accessed()? != day.0);
    if !written && !read {
        return Ok(());
    }
    let file = match File::open(path) {
        // sled removes old snapshots and blobs as it goes.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    // Stamping is best effort, as everywhere (see FileDay).
    if written {
        // Stamp first, then sync: a write after the stamp moves the time again, so the
        // next flush syncs it; one before the sync is in this one. (Stamping after the
        // sync would hide a write that came between the two.)
        let _ = day.apply_file(&file);
        file.sync_all()
    } else {
        // Only read (this walk itself reads the directories): nothing to sync. Only
        // the access time is put back, so a write meanwhile still shows.
        let _ = day.apply_access(&file);
        Ok(())
    }
}
