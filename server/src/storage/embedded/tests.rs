//! The age files beside sled: that they are in the segments and not in sled, that a
//! refused or replaced one is erased and nothing recorded is, and that data directories
//! from before (age files inside sled) still open.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::path::Path;

use meldpunt_crypto::{CaseStatus, Day, Direction, MailboxId};

use super::texts;
use super::Embedded;
use crate::clock::Clock;
use crate::storage::{Store, StoreError};

/// Bytes standing in for an age file: the store keeps whatever it is given (the service
/// checks the format), and random bytes are easy to find on disk.
fn age_file(size: usize) -> Vec<u8> {
    let mut b = vec![0u8; size];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    b
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(meldpunt_crypto::ciphertext_hash(bytes))
}

/// Whether `bytes` (their first 64) are anywhere in the files below `dir`.
fn found_below(dir: &Path, bytes: &[u8]) -> bool {
    let needle = &bytes[..64];
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            found_below(&p, bytes)
        } else {
            let hay = std::fs::read(&p).unwrap_or_default();
            hay.windows(needle.len()).any(|w| w == needle)
        }
    })
}

fn open(dir: &Path) -> Embedded {
    // The flushing thread of a store just dropped may hold sled's lock a moment longer.
    let clock = Clock::fixed(Day::parse("2026-12-03").unwrap());
    for _ in 0..100 {
        if let Ok(store) = Embedded::open(dir, clock.clone()) {
            return store;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Embedded::open(dir, clock).unwrap()
}

#[rocket::async_test]
async fn age_files_are_kept_beside_sled_and_erased_when_nothing_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, segments) = (dir.path().join("db"), texts::dir(dir.path()));
    let store = open(dir.path());
    let mailbox = MailboxId([7; 32]);
    let report = age_file(16 * 1024);
    let case = store
        .file_report(&mailbox, "bureau", &report)
        .await
        .unwrap()
        .case;
    store.flush().await.unwrap();
    assert!(found_below(&segments, &report));
    assert!(!found_below(&db, &report), "the report is in sled's files");
    assert_eq!(store.report(&case).await.unwrap(), report);

    // The same report again is the same case; another one is refused and erased.
    assert!(
        !store
            .file_report(&mailbox, "bureau", &report)
            .await
            .unwrap()
            .new
    );
    let other = age_file(16 * 1024);
    assert!(matches!(
        store.file_report(&mailbox, "bureau", &other).await,
        Err(StoreError::AlreadyReported)
    ));
    assert!(!found_below(&segments, &other), "a refused report is kept");

    // A message, then one extending an old head: refused, and erased.
    let message = age_file(2000);
    store
        .append_message(&case, Direction::ToReporter, &sha(&report), &message)
        .await
        .unwrap();
    assert_eq!(store.message(&case, 1).await.unwrap(), message);
    let stale = age_file(2000);
    assert!(matches!(
        store
            .append_message(&case, Direction::FromReporter, &sha(&report), &stale)
            .await,
        Err(StoreError::StaleHead { .. })
    ));
    assert!(!found_below(&segments, &stale), "a refused message is kept");
    // Bytes of a recorded message sent again in a refused change: the recorded copy
    // stays.
    assert!(store
        .file_report(&mailbox, "bureau", &message)
        .await
        .is_err());
    assert_eq!(store.message(&case, 1).await.unwrap(), message);

    // A new note erases the one it replaces.
    let (note1, note2) = (age_file(3000), age_file(3000));
    store.store_note(&case, &note1).await.unwrap();
    store.store_note(&case, &note2).await.unwrap();
    assert_eq!(store.note(&case).await.unwrap().unwrap(), note2);
    assert!(!found_below(&segments, &note1), "a replaced note is kept");

    // Shredding erases every age file of the case.
    store.set_status(&case, CaseStatus::Closed).await.unwrap();
    store.shred(&case).await.unwrap();
    for gone in [&report, &message, &note2] {
        assert!(
            !found_below(dir.path(), gone),
            "a shredded case's file is kept"
        );
    }
    assert!(store.erase.is_empty());
}

#[rocket::async_test]
async fn a_data_directory_with_age_files_in_sled_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = MailboxId([9; 32]);
    let (report, message, note) = (age_file(16 * 1024), age_file(1000), age_file(500));
    let case = {
        let store = open(dir.path());
        let case = store
            .file_report(&mailbox, "bureau", &report)
            .await
            .unwrap()
            .case;
        store
            .append_message(&case, Direction::ToReporter, &sha(&report), &message)
            .await
            .unwrap();
        // As the server kept them before 2026-12: in sled's tree `ciphertexts`, and
        // nothing in the segments.
        store.located.clear().unwrap();
        let old = store.db.open_tree("ciphertexts").unwrap();
        old.insert(format!("{case}/report"), report.as_slice())
            .unwrap();
        old.insert(format!("{case}/thread/00001"), message.as_slice())
            .unwrap();
        old.insert(format!("{case}/note"), note.as_slice()).unwrap();
        store.flush().await.unwrap();
        case
    };
    std::fs::remove_dir_all(texts::dir(dir.path())).unwrap();
    let store = open(dir.path());
    assert_eq!(store.report(&case).await.unwrap(), report);
    assert_eq!(store.message(&case, 1).await.unwrap(), message);
    assert_eq!(store.note(&case).await.unwrap().unwrap(), note);
    assert!(
        !store.db.tree_names().iter().any(|n| n == b"ciphertexts"),
        "the old tree is still there"
    );
}
