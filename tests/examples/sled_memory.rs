//! Diagnostic for docs/BENCHMARKS.md ("Run of 2026-12-02 under load"): how much memory
//! sled 0.34 keeps after COUNT values of SIZE bytes under random keys, with the server's
//! cache limit (128 MiB) and a given log segment size, flushing every 16 inserts. Not a
//! test and not part of a benchmark script: it shows what holds the server's memory.
//!
//! ```text
//! sled_memory COUNT SIZE SEGMENT_BYTES     e.g. sled_memory 60000 16619 524288
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // a diagnostic: a panic says enough

use rand::rngs::OsRng;
use rand::RngCore;

/// A `kB` field of this process's /proc status, in MiB.
fn mib(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kib as f64 / 1024.0
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .expect("usage: sled_memory COUNT SIZE SEGMENT_BYTES")
        })
        .collect();
    let [count, size, segment] = args[..] else {
        panic!("usage: sled_memory COUNT SIZE SEGMENT_BYTES");
    };
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(128 << 20)
        .segment_size(segment)
        .open()
        .unwrap();
    let mut value = vec![0u8; size];
    OsRng.fill_bytes(&mut value);
    let start = std::time::Instant::now();
    for i in 0..count {
        let mut key = [0u8; 16];
        OsRng.fill_bytes(&mut key);
        db.insert(key, &value[..]).unwrap();
        if i % 16 == 0 {
            db.flush().unwrap();
        }
    }
    db.flush().unwrap();
    let blobs = std::fs::read_dir(dir.path().join("blobs")).map_or(0, |d| d.count());
    println!(
        "{count} values of {size} bytes, segment {segment}: {:.1} s, VmRSS {:.1} MiB, VmHWM {:.1} MiB, RssAnon {:.1} MiB, {blobs} blob files",
        start.elapsed().as_secs_f64(),
        mib("VmRSS"),
        mib("VmHWM"),
        mib("RssAnon")
    );
}
