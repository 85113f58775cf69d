//! A short pause of every change, so a snapshot of the data directory can be taken while
//! the server serves (`crate::snapshot`).
//!
//! Every change holds [`Pause::writing`] from its first write until it is durable and
//! audited, so a snapshot never holds a change without its audit entry, or a report
//! without its attachments. A snapshot holds [`Pause::pause`]: it waits for the changes
//! in flight, and new changes wait for it. Reads never wait. Appending a chunk to an
//! unfinished attachment does not hold it either (a snapshot copies the part that
//! arrived, which restores as an unfinished upload), nor does hashing a finished one
//! (only recording it as finished does): a snapshot never waits for gigabytes.

use rocket::tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The pause every change passes through.
#[derive(Default)]
pub struct Pause(RwLock<()>);

/// A change in progress: a snapshot waits until it is dropped.
pub struct Writing<'a>(#[allow(dead_code, reason = "held, not read")] RwLockReadGuard<'a, ()>);

/// A snapshot in progress: every change waits until it is dropped.
pub struct Paused<'a>(#[allow(dead_code, reason = "held, not read")] RwLockWriteGuard<'a, ()>);

impl Pause {
    /// Waits while a snapshot is being taken, then lets a change begin.
    pub async fn writing(&self) -> Writing<'_> {
        Writing(self.0.read().await)
    }

    /// Waits for the changes in flight, then holds every new one back. (tokio's lock is
    /// fair: a change that asks after the snapshot waits, so a stream of changes
    /// cannot keep a snapshot waiting.)
    pub async fn pause(&self) -> Paused<'_> {
        Paused(self.0.write().await)
    }
}
