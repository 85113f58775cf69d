//! A case's small age files — the report, the reporter's note to self, the thread's
//! messages — appended to segment files in `texts/`; sled keeps only where each one is
//! (its [`Location`]).
//!
//! Why not inside sled: sled keeps what it writes in memory and rewrites it as its
//! pages grow, so with the reports inside, 60,000 reports left the server at 600 MiB
//! resident and a third of its time went to sled's large-value files
//! (docs/BENCHMARKS.md). Why not one file each: a file's birth and change times, which
//! no program can set, would tell the exact time every report and message arrived. A
//! segment, like sled's log, shows only the order of what is in it and the time of its
//! latest change.
//!
//! Each age file is appended and synced before the record that locates it is written,
//! so a record never points at bytes that a power cut could take. What nothing records
//! any more (a refused change, a replaced note, a shredded case) is overwritten with
//! zeros, and a segment that holds nothing recorded is removed.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use rocket::tokio::sync::oneshot;

use super::flush::batches;
use crate::clock::FileDay;

/// The directory the segments live in.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("texts")
}

/// A segment is closed and a new one begun once it holds this much.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// A segment grows by this many zeros at a time, ahead of the appends. Within what is
/// already written, an append's sync is a data write only; one that grows the file also
/// commits the file system's journal, which took 2.4 times as long (0.42 against 0.17 ms
/// per 16 KiB report, BENCHMARKS.md).
const SEGMENT_STEP: u64 = 1024 * 1024;

/// Where one age file is: segment, offset, length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    segment: u32,
    offset: u64,
    len: u64,
}

impl Location {
    /// As sled keeps it: 20 bytes, big-endian.
    pub fn to_bytes(self) -> [u8; 20] {
        let mut out = [0u8; 20];
        out[..4].copy_from_slice(&self.segment.to_be_bytes());
        out[4..12].copy_from_slice(&self.offset.to_be_bytes());
        out[12..].copy_from_slice(&self.len.to_be_bytes());
        out
    }

    /// From sled's 20 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != 20 {
            return None;
        }
        Some(Location {
            segment: u32::from_be_bytes(b[..4].try_into().ok()?),
            offset: u64::from_be_bytes(b[4..12].try_into().ok()?),
            len: u64::from_be_bytes(b[12..].try_into().ok()?),
        })
    }
}

/// The segment being appended to.
struct Active {
    segment: u32,
    file: Arc<File>,
    /// Where the next age file goes.
    len: u64,
    /// The file's length: zeros from `len` on.
    grown: u64,
}

/// The segments of one data directory.
pub struct Texts {
    dir: PathBuf,
    active: Mutex<Active>,
    /// How many recorded (or just appended) age files each segment holds.
    live: Mutex<HashMap<u32, u64>>,
}

fn segment_name(segment: u32) -> String {
    format!("{segment:08}")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Texts {
    /// Opens the segments in `dir` (created if missing); appends go to the newest.
    /// Call [`Texts::count`] for every recorded location, then
    /// [`Texts::remove_unrecorded_segments`].
    pub fn open(dir: &Path, day: FileDay) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let newest = numbered(dir)?.into_iter().map(|(n, _)| n).max();
        let segment = newest.unwrap_or(1);
        let file = open_segment(dir, segment, day)?;
        // Appends go after the file's end: what zeros were grown ahead of them before
        // (at most a step) are left as they are.
        let len = file.metadata()?.len();
        Ok(Texts {
            dir: dir.to_owned(),
            active: Mutex::new(Active {
                segment,
                file: Arc::new(file),
                len,
                grown: len,
            }),
            live: Mutex::default(),
        })
    }

    /// Counts a recorded location (on opening).
    pub fn count(&self, at: Location) {
        *lock(&self.live).entry(at.segment).or_default() += 1;
    }

    /// Removes every segment but the newest that holds nothing recorded (after
    /// counting).
    pub fn remove_unrecorded_segments(&self, day: FileDay) -> io::Result<()> {
        let active = lock(&self.active).segment;
        let live = lock(&self.live).clone();
        let mut removed = false;
        for (n, path) in numbered(&self.dir)? {
            if n != active && live.get(&n).copied().unwrap_or(0) == 0 {
                fs::remove_file(path)?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&self.dir, day)?;
        }
        Ok(())
    }

    /// Appends several age files and syncs them, once per segment they went to
    /// (moving old data directories over, importing).
    pub fn append_all<'a>(
        &self,
        files: impl IntoIterator<Item = &'a [u8]>,
        day: FileDay,
    ) -> io::Result<Vec<Location>> {
        let mut written: Vec<(Arc<File>, Location)> = Vec::new();
        let synced = || -> io::Result<()> {
            for bytes in files {
                written.push(self.write(bytes, day)?);
            }
            let mut done: Vec<&Arc<File>> = Vec::new();
            for (file, _) in &written {
                if !done.iter().any(|f| Arc::ptr_eq(f, file)) {
                    file.sync_data()?;
                    done.push(file);
                }
            }
            Ok(())
        };
        let result = synced();
        let locations = written.into_iter().map(|(_, at)| at).collect::<Vec<_>>();
        if let Err(e) = result {
            for at in locations {
                self.erase(at, day);
            }
            return Err(e);
        }
        Ok(locations)
    }

    /// Appends an age file and waits until it is synced, in one sync with the other
    /// appends waiting at the same time (group commit: a sync each would queue up
    /// behind one another).
    pub async fn append_synced(
        &self,
        bytes: &[u8],
        day: FileDay,
        syncer: &Syncer,
    ) -> io::Result<Location> {
        // Into the page cache only: as quick as sled's own writes, which also run here.
        let (file, at) = self.write(bytes, day)?;
        if let Err(e) = syncer.sync(file).await {
            self.erase(at, day);
            return Err(e);
        }
        Ok(at)
    }

    /// Appends an age file, not yet synced.
    fn write(&self, bytes: &[u8], day: FileDay) -> io::Result<(Arc<File>, Location)> {
        let mut active = lock(&self.active);
        if active.len >= SEGMENT_BYTES {
            let next = active.segment + 1;
            let file = open_segment(&self.dir, next, day)?;
            sync_dir(&self.dir, day)?;
            *active = Active {
                segment: next,
                file: Arc::new(file),
                len: 0,
                grown: 0,
            };
        }
        let at = Location {
            segment: active.segment,
            offset: active.len,
            len: bytes.len() as u64,
        };
        // The length moves on even if the write fails, so a failed write's bytes are
        // never under a later one's location.
        active.len += at.len;
        let written = grow(&mut active).and_then(|()| active.file.write_all_at(bytes, at.offset));
        // A write sets the time to now: back to the day, under the lock, so the last
        // change to the times is always a stamp.
        let _ = day.apply_file(&active.file);
        written?;
        *lock(&self.live).entry(at.segment).or_default() += 1;
        Ok((active.file.clone(), at))
    }

    /// One age file's bytes.
    pub fn read(&self, at: Location) -> io::Result<Vec<u8>> {
        let file = File::open(self.dir.join(segment_name(at.segment)))?;
        let len = usize::try_from(at.len).map_err(io::Error::other)?;
        let mut out = vec![0u8; len];
        file.read_exact_at(&mut out, at.offset)?;
        Ok(out)
    }

    /// Overwrites an age file nothing records any more with zeros, synced, and removes
    /// its segment once it holds nothing recorded. Best effort: what cannot be
    /// overwritten now is when the segment goes.
    pub fn erase(&self, at: Location, day: FileDay) {
        let _ = self.zero(at, day);
        let emptied = {
            let mut live = lock(&self.live);
            let n = live.entry(at.segment).or_default();
            *n = n.saturating_sub(1);
            *n == 0
        };
        let active = lock(&self.active).segment;
        if emptied && at.segment != active {
            lock(&self.live).remove(&at.segment);
            let _ = fs::remove_file(self.dir.join(segment_name(at.segment)));
            let _ = sync_dir(&self.dir, day);
        }
    }

    /// Overwrites with zeros, without counting (an erase cut short before a restart).
    pub fn zero(&self, at: Location, day: FileDay) -> io::Result<()> {
        let file = match OpenOptions::new()
            .write(true)
            .open(self.dir.join(segment_name(at.segment)))
        {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            other => other?,
        };
        // Never past the end: zeros there would only grow the file.
        let end = (at.offset + at.len).min(file.metadata()?.len());
        let zeros = vec![0u8; 64 * 1024];
        let mut offset = at.offset;
        while offset < end {
            let n = (end - offset).min(zeros.len() as u64) as usize;
            file.write_all_at(&zeros[..n], offset)?;
            offset += n as u64;
        }
        let _ = day.apply_file(&file);
        file.sync_data()
    }

    /// The segments' paths (for a snapshot).
    pub fn segments(&self) -> io::Result<Vec<PathBuf>> {
        Ok(numbered(&self.dir)?.into_iter().map(|(_, p)| p).collect())
    }
}

/// Writes zeros ahead of the appends (by steps, to at least `active.len`): written
/// zeros, not a hole, since filling a hole also changes the file's block map.
fn grow(active: &mut Active) -> io::Result<()> {
    if active.len <= active.grown {
        return Ok(());
    }
    let to = active.len.div_ceil(SEGMENT_STEP) * SEGMENT_STEP;
    let zeros = vec![0u8; SEGMENT_STEP as usize];
    while active.grown < to {
        let n = (to - active.grown).min(SEGMENT_STEP);
        active.file.write_all_at(&zeros[..n as usize], active.grown)?;
        active.grown += n;
    }
    Ok(())
}

/// The segments in `dir`: their numbers and paths. Nothing else is written there, and
/// anything else found there is left alone.
fn numbered(dir: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name();
        if let Some(n) = name
            .to_str()
            .filter(|n| n.len() == 8)
            .and_then(|n| n.parse::<u32>().ok())
        {
            out.push((n, e.path()));
        }
    }
    Ok(out)
}

fn open_segment(dir: &Path, segment: u32, day: FileDay) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(segment_name(segment)))?;
    let _ = day.apply_file(&file);
    Ok(file)
}

type SyncWaiter = (Arc<File>, oneshot::Sender<Result<(), String>>);

/// Syncs segments for appends waiting at the same time, on a thread of its own: it
/// takes the first waiting append and every one queued behind it, syncs each segment
/// they wrote to once, and answers them all.
pub struct Syncer {
    tx: mpsc::Sender<SyncWaiter>,
}

impl Syncer {
    /// Starts the syncing thread; it ends when the `Syncer` is dropped.
    pub fn start() -> io::Result<Self> {
        let tx = batches("meldpunt-texts", |waiting: Vec<SyncWaiter>| {
            let mut synced: Vec<(Arc<File>, Result<(), String>)> = Vec::new();
            for (file, answer) in waiting {
                let result = match synced.iter().find(|(f, _)| Arc::ptr_eq(f, &file)) {
                    Some((_, r)) => r.clone(),
                    None => {
                        let r = file.sync_data().map_err(|e| e.to_string());
                        synced.push((file, r.clone()));
                        r
                    }
                };
                let _ = answer.send(result);
            }
        })?;
        Ok(Syncer { tx })
    }

    /// Waits until everything written to `file` before the call is on disk.
    async fn sync(&self, file: Arc<File>) -> io::Result<()> {
        let stopped = || io::Error::other("the segment syncing thread has stopped");
        let (tx, rx) = oneshot::channel();
        self.tx.send((file, tx)).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?.map_err(io::Error::other)
    }
}

/// Syncs the directory, so the names in it survive a power cut, and stamps it.
fn sync_dir(dir: &Path, day: FileDay) -> io::Result<()> {
    let d = File::open(dir)?;
    d.sync_all()?;
    let _ = day.apply_file(&d);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use super::*;

    fn one(texts: &Texts, bytes: &[u8]) -> Location {
        texts.append_all([bytes], day()).unwrap()[0]
    }

    fn day() -> FileDay {
        FileDay::of(meldpunt_crypto::Day::from_ymd(2026, 12, 3).unwrap())
    }

    #[test]
    fn locations_survive_sled() {
        let at = Location {
            segment: 7,
            offset: 1 << 40,
            len: 16_597,
        };
        assert_eq!(Location::from_bytes(&at.to_bytes()), Some(at));
        assert_eq!(Location::from_bytes(&[0; 19]), None);
    }

    #[test]
    fn appended_files_read_back_and_erased_ones_are_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let texts = Texts::open(dir.path(), day()).unwrap();
        let a = one(&texts, b"first age file");
        let b = one(&texts, b"second");
        assert_eq!(texts.read(a).unwrap(), b"first age file");
        assert_eq!(texts.read(b).unwrap(), b"second");
        texts.erase(a, day());
        assert_eq!(texts.read(a).unwrap(), vec![0u8; 14]);
        assert_eq!(texts.read(b).unwrap(), b"second");
        let on_disk = fs::read(dir.path().join(segment_name(1))).unwrap();
        assert!(!on_disk.windows(5).any(|w| w == b"first"));
    }

    #[test]
    fn a_segment_with_nothing_recorded_goes() {
        let dir = tempfile::tempdir().unwrap();
        let texts = Texts::open(dir.path(), day()).unwrap();
        let a = one(&texts, &[1u8; 1024]);
        // Pretend the segment is full, so the next append begins a new one.
        lock(&texts.active).len = SEGMENT_BYTES;
        let b = one(&texts, b"in the second segment");
        assert_eq!(b.segment, 2);
        assert_eq!(texts.segments().unwrap().len(), 2);
        texts.erase(a, day());
        assert_eq!(
            texts.segments().unwrap().len(),
            1,
            "the emptied segment is removed"
        );
        // The newest stays even when empty: appends go there.
        texts.erase(b, day());
        assert_eq!(texts.segments().unwrap().len(), 1);

        // On opening, only segments holding something recorded stay.
        fs::write(dir.path().join(segment_name(1)), b"left by a crash").unwrap();
        let reopened = Texts::open(dir.path(), day()).unwrap();
        reopened.remove_unrecorded_segments(day()).unwrap();
        assert_eq!(texts.segments().unwrap().len(), 1);
        assert!(dir.path().join(segment_name(2)).exists());
    }

    #[test]
    fn a_segment_grows_by_zeros_ahead_and_a_restart_appends_after_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(segment_name(1));
        let size = |p: &Path| fs::metadata(p).unwrap().len();
        let texts = Texts::open(dir.path(), day()).unwrap();
        let a = one(&texts, b"first");
        assert_eq!(size(&path), SEGMENT_STEP, "grown a step ahead");
        let big = vec![7u8; SEGMENT_STEP as usize + 10];
        let b = one(&texts, &big);
        assert_eq!(b.offset, 5);
        assert_eq!(size(&path), 2 * SEGMENT_STEP, "grown to the step past the append");
        assert_eq!(texts.read(a).unwrap(), b"first");
        assert_eq!(texts.read(b).unwrap(), big);
        let past = fs::read(&path).unwrap();
        assert!(past[5 + big.len()..].iter().all(|&z| z == 0), "zeros ahead");
        drop(texts);

        let reopened = Texts::open(dir.path(), day()).unwrap();
        let c = one(&reopened, b"after a restart");
        assert_eq!(c.offset, 2 * SEGMENT_STEP, "after the zeros, never over a file");
        assert_eq!(reopened.read(a).unwrap(), b"first");
        assert_eq!(reopened.read(b).unwrap(), big);
        assert_eq!(reopened.read(c).unwrap(), b"after a restart");
    }
}
