//! The disk reserve, accounted as bytes are written: every writer claims room for what
//! it is about to write before it writes it, so parallel uploads (whose length is not
//! known in advance) can never eat into the reserve together. Uploads stop at twice the
//! reserve, so reports and answers — small, and what the drop box is for — still have
//! room when attachments have filled the disk.

use std::sync::Mutex;

use crate::service::ServiceError;

/// Refuses when storing `incoming` more bytes would leave less than `reserve` free.
pub fn ensure_disk(free: u64, incoming: u64, reserve: u64) -> Result<(), ServiceError> {
    if free.saturating_sub(incoming) < reserve {
        return Err(ServiceError::OutOfSpace);
    }
    Ok(())
}

/// Bytes being written right now, not yet visible in the free-space figure.
#[derive(Default)]
pub struct DiskReserve {
    in_flight: Mutex<u64>,
}

/// Room claimed for one write; released when dropped (the bytes are then on disk and
/// counted by the file system).
pub struct Claimed<'a> {
    reserve: &'a DiskReserve,
    bytes: u64,
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        let mut n = self
            .reserve
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(self.bytes);
    }
}

impl DiskReserve {
    /// Claims room for `bytes` when `free` bytes are free and `keep` must stay free.
    pub fn claim(&self, free: u64, bytes: u64, keep: u64) -> Result<Claimed<'_>, ServiceError> {
        let mut n = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        ensure_disk(free.saturating_sub(*n), bytes, keep)?;
        *n = n.saturating_add(bytes);
        Ok(Claimed {
            reserve: self,
            bytes,
        })
    }
}

/// What uploads must leave free: twice the reserve, so reports and answers keep room.
pub fn upload_reserve(min_free: u64) -> u64 {
    min_free.saturating_mul(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_reserve() {
        assert!(ensure_disk(1000, 100, 900).is_ok());
        assert!(matches!(
            ensure_disk(1000, 101, 900),
            Err(ServiceError::OutOfSpace)
        ));
    }

    #[test]
    fn claims_in_flight_count_against_the_reserve() {
        let r = DiskReserve::default();
        let a = r.claim(1000, 60, 900).unwrap();
        // The first 60 bytes are not yet visible in `free`: the next claim sees them.
        assert!(r.claim(1000, 60, 900).is_err());
        drop(a);
        assert!(r.claim(1000, 60, 900).is_ok());
    }
}
