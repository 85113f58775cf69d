//! Today's date: the only time the server knows. Tests set the day to check deadlines
//! and retention.

use std::fs::{File, FileTimes};
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use meldpunt_crypto::Day;

/// Where "today" comes from.
#[derive(Clone, Default)]
pub struct Clock {
    fixed: Arc<Mutex<Option<Day>>>,
}

impl Clock {
    /// The system clock (UTC day).
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that says `day` until it is set again.
    pub fn fixed(day: Day) -> Self {
        let clock = Self::default();
        clock.set(day);
        clock
    }

    /// Sets the day (tests: deadlines and retention).
    pub fn set(&self, day: Day) {
        *self.fixed.lock().unwrap_or_else(|p| p.into_inner()) = Some(day);
    }

    /// Today.
    pub fn today(&self) -> Day {
        self.fixed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_else(Day::today)
    }
}

/// Midnight (UTC) at the start of `day`, as a file time: stored files carry the day
/// only, never the time of day.
#[allow(clippy::expect_used, reason = "1970-01-01 is a valid day")]
pub fn midnight(day: Day) -> std::time::SystemTime {
    let epoch = Day::from_ymd(1970, 1, 1).expect("the epoch is a day");
    let days = epoch.days_until(day).max(0) as u64;
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(days * 86_400)
}

/// Sets file times to one moment (midnight of the day), so stored files do not tell
/// when in the day something arrived.
#[derive(Clone, Copy)]
pub struct FileDay(pub SystemTime);

impl FileDay {
    /// The stamp for `day`.
    pub fn of(day: Day) -> Self {
        FileDay(midnight(day))
    }
}

impl FileDay {
    fn times(self) -> FileTimes {
        FileTimes::new().set_accessed(self.0).set_modified(self.0)
    }

    /// Stamps an open file.
    pub fn apply_file(self, file: &File) -> io::Result<()> {
        file.set_times(self.times())
    }

    /// Stamps an open file's access time only (a read moved it; its modification time
    /// is left to show a write that comes meanwhile).
    pub fn apply_access(self, file: &File) -> io::Result<()> {
        file.set_times(FileTimes::new().set_accessed(self.0))
    }

    /// Stamps one path (file or directory). Errors are ignored: a file may vanish
    /// between listing and stamping.
    pub fn apply(self, path: &Path) {
        if let Ok(f) = File::open(path) {
            let _ = f.set_times(self.times());
        }
    }

    /// Stamps a directory, everything in it, recursively (sled's few files).
    pub fn apply_tree(self, path: &Path) {
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries.flatten() {
                let p = e.path();
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    self.apply_tree(&p);
                } else {
                    self.apply(&p);
                }
            }
        }
        self.apply(path);
    }
}
