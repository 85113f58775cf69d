//! Abuse resistance without identity. Behind a Tor onion service every client is
//! 127.0.0.1, so limits are global: submissions and upload bytes per hour from
//! everyone together, and a free-disk reserve. The counters live in memory only.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::service::ServiceError;

struct Window {
    hour: u64,
    submissions: u32,
    bytes: u64,
}

/// Global per-hour limits.
pub struct Limiter {
    window: Mutex<Window>,
    max_submissions: u32,
    max_bytes: u64,
}

fn this_hour() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 3600)
        .unwrap_or(0)
}

impl Limiter {
    /// Limits per clock hour.
    pub fn new(max_submissions: u32, max_bytes: u64) -> Self {
        Self {
            window: Mutex::new(Window {
                hour: this_hour(),
                submissions: 0,
                bytes: 0,
            }),
            max_submissions,
            max_bytes,
        }
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Window> {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let hour = this_hour();
        if w.hour != hour {
            *w = Window {
                hour,
                submissions: 0,
                bytes: 0,
            };
        }
        w
    }

    /// Counts one submission (report, message, note, new upload session), or refuses.
    pub fn submission(&self) -> Result<(), ServiceError> {
        let mut w = self.current();
        if w.submissions >= self.max_submissions {
            return Err(ServiceError::Busy);
        }
        w.submissions += 1;
        Ok(())
    }

    /// Upload bytes still allowed this hour; refuses when none are.
    pub fn bytes_left(&self) -> Result<u64, ServiceError> {
        let w = self.current();
        let left = self.max_bytes.saturating_sub(w.bytes);
        if left == 0 {
            return Err(ServiceError::Busy);
        }
        Ok(left)
    }

    /// Counts upload bytes received.
    pub fn charge_bytes(&self, n: u64) {
        let mut w = self.current();
        w.bytes = w.bytes.saturating_add(n);
    }
}

/// Refuses when storing `incoming` more bytes would leave less than `reserve` free.
pub fn ensure_disk(free: u64, incoming: u64, reserve: u64) -> Result<(), ServiceError> {
    if free.saturating_sub(incoming) < reserve {
        return Err(ServiceError::OutOfSpace);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submissions_and_bytes_are_capped() {
        let l = Limiter::new(2, 100);
        assert!(l.submission().is_ok());
        assert!(l.submission().is_ok());
        assert!(matches!(l.submission(), Err(ServiceError::Busy)));
        assert_eq!(l.bytes_left().unwrap(), 100);
        l.charge_bytes(100);
        assert!(l.bytes_left().is_err());
    }

    #[test]
    fn disk_reserve() {
        assert!(ensure_disk(1000, 100, 900).is_ok());
        assert!(matches!(
            ensure_disk(1000, 101, 900),
            Err(ServiceError::OutOfSpace)
        ));
    }
}
