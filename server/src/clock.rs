//! Today's date: the only time the server knows. Tests set the day to check deadlines
//! and retention.

use std::sync::{Arc, Mutex};

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
pub fn midnight(day: Day) -> std::time::SystemTime {
    let epoch = Day::from_ymd(1970, 1, 1).expect("the epoch is a day");
    let days = epoch.days_until(day).max(0) as u64;
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(days * 86_400)
}
