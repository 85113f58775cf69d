//! Group commit: many requests waiting for durability share one flush.
//!
//! A request makes its writes, then asks for a flush and waits. One thread flushes
//! sled (which fsyncs), syncs the directories holding attachment files, and answers
//! every request that asked before the flush began. Requests that arrive during a
//! flush are answered together by the next one, so sixteen concurrent submissions cost
//! a few fsyncs, not sixteen.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

use rocket::tokio::sync::oneshot;

use crate::clock::Clock;

type Waiter = oneshot::Sender<Result<(), String>>;

/// The handle requests use to wait for durability.
pub struct Flusher {
    tx: mpsc::Sender<Waiter>,
    flushes: Arc<AtomicU64>,
}

impl Flusher {
    /// Starts the flushing thread for `db`. On every flush the directories `dirs` are
    /// synced and stamped with the day, and so is everything below `scrub`.
    pub fn start(db: sled::Db, dirs: Vec<PathBuf>, scrub: Vec<PathBuf>, clock: Clock) -> Self {
        let (tx, rx) = mpsc::channel::<Waiter>();
        let flushes = Arc::new(AtomicU64::new(0));
        let count = flushes.clone();
        std::thread::Builder::new()
            .name("meldpunt-flush".into())
            .spawn(move || {
                // Ends when the storage (every sender) is dropped.
                while let Ok(first) = rx.recv() {
                    let mut waiters = vec![first];
                    waiters.extend(rx.try_iter());
                    let result = flush_once(&db, &dirs, &scrub, &clock);
                    count.fetch_add(1, Ordering::Relaxed);
                    for w in waiters {
                        let _ = w.send(result.clone());
                    }
                }
            })
            .expect("a thread can be started");
        Self { tx, flushes }
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
    let day = super::files::FileDay(crate::clock::midnight(clock.today()));
    for dir in dirs {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("syncing {}: {e}", dir.display()))?;
        day.apply(dir);
    }
    for path in scrub {
        day.apply_tree(path);
    }
    Ok(())
}
