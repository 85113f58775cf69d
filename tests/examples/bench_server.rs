//! Server benchmarks (scripts/bench-server.sh, docs/BENCHMARKS.md). A measurement, not a
//! test: it fails only when the server refuses or answers wrongly, never on speed.
//!
//! ```text
//! bench_server load CLIENTS:COUNT ...     durable reports at each concurrency, then raw sled
//! bench_server memory [BYTES [CHUNK]]     the server's memory while one attachment is uploaded
//! ```
//!
//! Both start a real release `meldpunt-server` (next to this example in
//! `target/release`) on 127.0.0.1 with a fresh data directory under the temporary
//! directory (`TMPDIR`, else `/tmp`), through the end-to-end harness (`Site`).
//!
//! `load`: for each level, COUNT reports are sealed first (each with a fresh return code,
//! so a fresh mailbox credential), then CLIENTS threads post them as fast as the server
//! answers, each on its own keep-alive connection; every answer must be 201 with a case
//! number. Then the same number of values of a report's size is written under random
//! keys to a fresh sled database in the same directory by CLIENTS threads, each `insert`
//! followed by sled's `flush` (which on Linux is `sync_file_range`, not an fsync), and
//! once more with an fsync of sled's log file after each flush.
//!
//! `memory`: one attachment of BYTES plaintext (default 2 GiB), encrypted while it is
//! sent (one thread encrypts, one sends CHUNK-sized parts, default 1 MiB as the browser
//! does), finished and listed in a report; the server's VmRSS is sampled every 100 ms.
//!
//! `threads`: one case's thread filled with MESSAGES bureau messages (default 2000) of
//! the largest size `max_message` admits (1 MiB), the per-thread caps raised to hold
//! them; after 1/8, 1/2 and all of them, READERS clients (default 4) at once read the
//! whole thread page by page (`GET /api/v1/thread?from=`), checking every message's
//! hash. Then READERS no-JavaScript check-backs at once on a thread of a quarter of the
//! default 32 MiB cap and on one at the cap. VmRSS sampled every 100 ms; VmHWM reset
//! before each phase (`/proc/<pid>/clear_refs`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{
    ciphertext_hash, seal_report, AttachmentEncryptor, AttachmentEntry, Category, CiphertextDigest,
    Day, EncryptedBy, Finished, ReportContent, ReporterKeys, ReturnCode,
};
use meldpunt_tests::investigator::BureauWriter;
use meldpunt_tests::{agent, json, reset_peak, status_kib, Server, Site};
use rand::rngs::OsRng;
use rand::RngCore;

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("load") => load(&args[1..]),
        Some("memory") => memory(&args[1..]),
        Some("threads") => threads(&args[1..]),
        _ => Err(
            "usage: bench_server load CLIENTS:COUNT ... | memory [BYTES [CHUNK]] | threads [MESSAGES [READERS]]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A site whose limits never refuse the benchmark: `settings` replace the harness's
/// values for the same keys (top-level keys, so they go before the first table).
fn site(settings: &[(&str, &str)]) -> Site {
    let site = Site::new();
    let path = site.dir().join("Meldpunt.toml");
    let old = std::fs::read_to_string(&path).expect("the harness wrote a configuration");
    let mut new: String = settings
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    for line in old.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        if !settings.iter().any(|(k, _)| *k == key) {
            new.push_str(line);
            new.push('\n');
        }
    }
    std::fs::write(&path, new).expect("configuration written");
    site
}

/// A fresh site with these settings, its release server running, and the server's pid.
fn start(settings: &[(&str, &str)]) -> Result<(Site, Server, u32), String> {
    let site = site(settings);
    let server = site.start();
    let pid = server.pid();
    eprintln!(
        "server pid {pid}, data directory {}",
        site.data_dir().display()
    );
    Ok((site, server, pid))
}

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state is field 3 of stat, utime 14 and stime 15 → indexes 11 and 12.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| f.get(i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

/// Nearest-rank percentile of sorted durations, in milliseconds.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1].as_secs_f64() * 1000.0
}

struct Level {
    clients: usize,
    count: usize,
}

fn parse_levels(args: &[String]) -> Result<Vec<Level>, String> {
    if args.is_empty() {
        return Err("give the levels as CLIENTS:COUNT, e.g. 1:5000 16:25000 64:30000".into());
    }
    args.iter()
        .map(|a| {
            let (c, n) = a
                .split_once(':')
                .ok_or(format!("{a}: expected CLIENTS:COUNT"))?;
            Ok(Level {
                clients: c.parse().map_err(|_| format!("{a}: bad CLIENTS"))?,
                count: n.parse().map_err(|_| format!("{a}: bad COUNT"))?,
            })
        })
        .collect()
}

/// A report as a reporter's browser would send it: (credential header, age file).
fn sealed_report(site: &Site) -> (String, Vec<u8>) {
    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    let content = ReportContent {
        category: Category::Fraud,
        concerning: "the head of purchasing".into(),
        description: "Invoices from one supplier are approved without any delivery. ".repeat(20),
        when_where: "this year, head office".into(),
        contact: None,
        attachments: vec![],
        date: Day::today(),
        encrypted_by: EncryptedBy::Browser,
    };
    let report = seal_report(&content, &keys, &site.bureau).expect("a report seals");
    (keys.credential().to_header_value().to_string(), report)
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: Vec<String>,
    wall: Duration,
}

/// What a thread returns: its latencies and its errors.
type Measured = (Vec<Duration>, Vec<String>);

impl Outcome {
    /// Waits for every thread started at `start` and gathers what they measured.
    fn join(handles: Vec<std::thread::JoinHandle<Measured>>, start: Instant) -> Self {
        let mut out = Outcome {
            latencies: Vec::new(),
            errors: Vec::new(),
            wall: Duration::ZERO,
        };
        for h in handles {
            let (lat, errors) = h.join().expect("a measuring thread finishes");
            out.latencies.extend(lat);
            out.errors.extend(errors);
        }
        out.wall = start.elapsed();
        out
    }
}

/// Posts every report, `clients` at a time; each thread its own connection.
fn post_all(site: &Site, reports: Vec<(String, Vec<u8>)>, clients: usize) -> Outcome {
    let reports = Arc::new(reports);
    let next = Arc::new(AtomicUsize::new(0));
    let url = site.url("/api/v1/reports");
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (reports, next, url) = (reports.clone(), next.clone(), url.clone());
            thread::spawn(move || {
                let a = agent();
                let mut lat = Vec::new();
                let mut errors = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((cred, body)) = reports.get(i) else {
                        break;
                    };
                    let t = Instant::now();
                    let resp = a
                        .post(&url)
                        .header("Meldpunt-Mailbox", cred)
                        .header("Meldpunt-Destination", "bureau")
                        .send(&body[..]);
                    match resp {
                        Ok(resp) if resp.status() == 201 => {
                            let receipt = json(resp);
                            lat.push(t.elapsed());
                            if !receipt["case"]
                                .as_str()
                                .is_some_and(|c| c.starts_with("MP-"))
                            {
                                errors.push(format!("201 without a case number: {receipt}"));
                            }
                        }
                        Ok(resp) => {
                            let status = resp.status();
                            let mut text = String::new();
                            let _ = resp.into_body().into_reader().read_to_string(&mut text);
                            errors.push(format!("{status}: {text}"));
                        }
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    Outcome::join(handles, start)
}

/// A random key, as the server's case numbers are random (sequential keys would only
/// ever append to sled's last leaf).
fn key() -> [u8; 16] {
    let mut k = [0u8; 16];
    OsRng.fill_bytes(&mut k);
    k
}

/// `threads` threads insert `count` values of `size` bytes into a fresh sled database
/// in `dir`, each `insert` followed by `flush` (which fsyncs). Latency per insert+flush.
fn sled_run(dir: &Path, count: usize, threads: usize, size: usize, fsync: bool) -> Outcome {
    let db = sled::Config::new()
        .path(dir)
        .open()
        .expect("a fresh sled database");
    let mut value = vec![0u8; size];
    OsRng.fill_bytes(&mut value);
    let value = Arc::new(value);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (db, value, next) = (db.clone(), value.clone(), next.clone());
            let log = dir.join("db");
            thread::spawn(move || {
                let mut lat = Vec::new();
                let mut errors = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let t = Instant::now();
                    let r = db
                        .insert(key(), &value[..])
                        .and_then(|_| db.flush())
                        .map_err(|e| e.to_string())
                        .and_then(|_| {
                            // sled's flush is sync_file_range; this is a real fsync.
                            if fsync {
                                std::fs::File::open(&log)
                                    .and_then(|f| f.sync_all())
                                    .map_err(|e| e.to_string())?;
                            }
                            Ok(())
                        });
                    match r {
                        Ok(()) => lat.push(t.elapsed()),
                        Err(e) => errors.push(e),
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    Outcome::join(handles, start)
}

fn row(what: &str, clients: usize, o: &mut Outcome, extra: &str) {
    o.latencies.sort();
    let n = o.latencies.len();
    let (p50, p99, max) = if n > 0 {
        (
            pct(&o.latencies, 50.0),
            pct(&o.latencies, 99.0),
            pct(&o.latencies, 100.0),
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    println!(
        "| {what} | {clients} | {n} | {:.1} | {:.0} | {p50:.2} | {p99:.2} | {max:.2} | {} |{extra}",
        o.wall.as_secs_f64(),
        n as f64 / o.wall.as_secs_f64(),
        o.errors.len()
    );
}

fn load(args: &[String]) -> Result<(), String> {
    let levels = parse_levels(args)?;
    let (site, server, pid) = start(&[
        ("submissions_per_hour", "4000000000"),
        ("min_free_disk", "0"),
    ])?;

    // Warm-up, not counted: the first connections, sled's first segments.
    let warm: Vec<_> = (0..200).map(|_| sealed_report(&site)).collect();
    let size = warm[0].1.len();
    let o = post_all(&site, warm, 4);
    if !o.errors.is_empty() {
        return Err(format!("warm-up refused: {}", o.errors[0]));
    }
    // age's header varies a little in length (its random "grease" stanza).
    let mut sizes = Vec::new();
    println!("| what | clients | done | seconds | per second | p50 ms | p99 ms | max ms | errors | server CPU s | bench CPU s |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");

    let mut failed = Vec::new();
    for level in &levels {
        let t = Instant::now();
        let reports: Vec<_> = (0..level.count).map(|_| sealed_report(&site)).collect();
        eprintln!(
            "{} clients: {} reports sealed in {:.1} s; posting (load {})",
            level.clients,
            level.count,
            t.elapsed().as_secs_f64(),
            loadavg()
        );
        sizes.extend(reports.iter().map(|r| r.1.len()));
        settle();
        let (cpu, own) = (cpu_seconds(pid), cpu_seconds(std::process::id()));
        let mut o = post_all(&site, reports, level.clients);
        let cpu = cpu_seconds(pid) - cpu;
        let own = cpu_seconds(std::process::id()) - own;
        row(
            "server: POST /api/v1/reports",
            level.clients,
            &mut o,
            &format!(" {cpu:.1} | {own:.1} |"),
        );
        failed.extend(o.errors.iter().take(3).cloned());
    }
    println!();
    println!(
        "Report age files: {} to {} bytes, mean {:.0} ({:.2} KiB)",
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64,
        sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64 / KIB
    );
    let rss = status_kib(pid, "VmHWM").unwrap_or(0);
    // What stays resident once the load is over: anonymous memory (sled's cache, the
    // heap) apart from mapped files.
    thread::sleep(Duration::from_secs(2));
    let resident = ["VmRSS", "RssAnon", "RssFile"].map(|f| status_kib(pid, f).unwrap_or(0));
    let db_bytes = dir_size(&site.data_dir().join("db"));
    let texts_bytes = dir_size(&site.data_dir().join("texts"));
    drop(server);

    // The same levels on the PostgreSQL backend (a real PostgreSQL and s3s-fs on this
    // machine), with one and with two server instances sharing the database.
    if std::env::var("BENCH_POSTGRES").as_deref() != Ok("0") {
        failed.extend(pg_load(&levels)?);
    }

    // The same counts, as threads writing straight into sled (a fresh database each):
    // sled's flush alone, then followed by an fsync of sled's log file, as the server does.
    for fsync in [false, true] {
        for level in &levels {
            let dir = site.dir().join(format!("sled-{}", level.clients));
            settle();
            let cpu = cpu_seconds(std::process::id());
            let mut o = sled_run(&dir, level.count, level.clients, size, fsync);
            let cpu = cpu_seconds(std::process::id()) - cpu;
            let what = if fsync {
                format!("sled: insert {size} B + flush + fsync")
            } else {
                format!("sled: insert {size} B + flush")
            };
            row(&what, level.clients, &mut o, &format!(" – | {cpu:.1} |"));
            failed.extend(o.errors.iter().take(3).cloned());
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    println!();
    println!(
        "Server peak resident memory (VmHWM) over the load runs: {:.1} MiB; after them sled's directory held {:.0} MiB and texts/ (the age files kept beside sled) {:.0} MiB",
        rss as f64 / KIB,
        db_bytes as f64 / MIB,
        texts_bytes as f64 / MIB
    );
    println!(
        "Server resident memory 2 s after the last level: VmRSS {:.1} MiB (RssAnon {:.1}, RssFile {:.1})",
        resident[0] as f64 / KIB,
        resident[1] as f64 / KIB,
        resident[2] as f64 / KIB
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("refused or failed: {failed:?}"))
    }
}

/// Before each row: what earlier rows wrote goes to disk first (`sync`), so no row pays
/// for the write-back of another's hundreds of megabytes.
fn settle() {
    let _ = std::process::Command::new("sync").status();
    thread::sleep(Duration::from_secs(2));
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" / "))
        .unwrap_or_default()
}

/// One memory sample: seconds since the start, VmRSS KiB.
type Sample = (f64, u64);

fn memory(args: &[String]) -> Result<(), String> {
    let bytes: u64 = match args.first() {
        Some(a) => a
            .parse()
            .map_err(|_| format!("{a}: not a number of bytes"))?,
        None => 2 << 30,
    };
    let chunk: usize = match args.get(1) {
        Some(a) => a
            .parse()
            .map_err(|_| format!("{a}: not a number of bytes"))?,
        None => 1 << 20,
    };
    let (site, server, pid) = start(&[
        ("max_attachment", "\"3 GiB\""),
        ("upload_bytes_per_hour", "\"100 GiB\""),
        ("submissions_per_hour", "1000"),
        ("min_free_disk", "0"),
    ])?;

    // The sampler runs from before the upload until after the report is filed.
    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut samples: Vec<Sample> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some(kib) = status_kib(pid, "VmRSS") {
                    samples.push((t0.elapsed().as_secs_f64(), kib));
                }
                thread::sleep(Duration::from_millis(100));
            }
            samples
        })
    };
    thread::sleep(Duration::from_secs(2));
    let baseline = status_kib(pid, "VmRSS").unwrap_or(0);

    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    let cred = keys.credential().to_header_value().to_string();
    let a = agent();
    let resp = a
        .post(&site.url("/api/v1/uploads"))
        .header("Meldpunt-Mailbox", &cred)
        .send_empty()
        .map_err(|e| e.to_string())?;
    if resp.status() != 200 {
        return Err(format!("upload session: {}", resp.status()));
    }

    // One thread encrypts, the other sends: a bounded channel keeps at most a few
    // chunks of ciphertext in this process.
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
    let recipients = site.bureau.recipients().to_vec();
    let encryptor = thread::spawn(move || -> Result<(CiphertextDigest, Duration), String> {
        let mut enc = AttachmentEncryptor::new(&recipients, bytes).map_err(|e| e.to_string())?;
        let mut plain = vec![0u8; chunk];
        OsRng.fill_bytes(&mut plain);
        let mut busy = Duration::ZERO;
        let mut left = bytes;
        let mut pending = Vec::new();
        let send = |part: Vec<u8>, pending: &mut Vec<u8>, flush: bool| {
            pending.extend_from_slice(&part);
            if pending.len() >= chunk || (flush && !pending.is_empty()) {
                let _ = tx.send(std::mem::take(pending));
            }
        };
        while left > 0 {
            let n = left.min(chunk as u64) as usize;
            let t = Instant::now();
            let ct = enc.push(&plain[..n]).map_err(|e| e.to_string())?;
            busy += t.elapsed();
            send(ct, &mut pending, false);
            left -= n as u64;
        }
        loop {
            let t = Instant::now();
            let (ct, done) = enc.pad(chunk).map_err(|e| e.to_string())?;
            busy += t.elapsed();
            send(ct, &mut pending, false);
            if done {
                break;
            }
        }
        let t = Instant::now();
        let (ct, finished) = enc.finish().map_err(|e| e.to_string())?;
        busy += t.elapsed();
        send(ct, &mut pending, true);
        match finished {
            Finished::Digest(digest) => Ok((digest, busy)),
            _ => Err("the encryptor gave no digest".to_owned()),
        }
    });

    let upload_start = Instant::now();
    let start_s = t0.elapsed().as_secs_f64();
    let mut offset = 0u64;
    let mut puts = 0usize;
    for part in rx {
        let resp = a
            .put(&site.url("/api/v1/uploads/0"))
            .header("Meldpunt-Mailbox", &cred)
            .header("Meldpunt-Offset", &offset.to_string())
            .send(&part[..])
            .map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(format!(
                "chunk at {offset}: {}: {}",
                resp.status(),
                json(resp)
            ));
        }
        offset += part.len() as u64;
        puts += 1;
    }
    let sent = upload_start.elapsed();
    let (digest, busy) = encryptor.join().expect("the encryptor finishes")?;
    if offset != digest.size {
        return Err(format!(
            "sent {offset} bytes of a {}-byte age file",
            digest.size
        ));
    }
    let t = Instant::now();
    let resp = a
        .post(&site.url("/api/v1/uploads/0/finish"))
        .header("Meldpunt-Mailbox", &cred)
        .send_empty()
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let answer = json(resp);
    let finished = t.elapsed();
    if status != 200 || answer["sha256"] != hex::encode(digest.sha256) {
        return Err(format!("finish: {status}: {answer}"));
    }
    let end_s = t0.elapsed().as_secs_f64();

    let content = ReportContent {
        category: Category::Fraud,
        concerning: "the head of purchasing".into(),
        description: "The invoices are in the attached archive.".into(),
        when_where: "this year, head office".into(),
        contact: None,
        attachments: vec![AttachmentEntry::new("invoices.zip".into(), bytes, &digest)],
        date: Day::today(),
        encrypted_by: EncryptedBy::Browser,
    };
    let report = seal_report(&content, &keys, &site.bureau).map_err(|e| e.to_string())?;
    let receipt = post_report(&a, &site, &cred, &report)?;
    thread::sleep(Duration::from_secs(2));
    let at_end = status_kib(pid, "VmRSS").unwrap_or(0);
    let hwm = status_kib(pid, "VmHWM").unwrap_or(0);
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("the sampler finishes");
    let stored = std::fs::read_dir(site.data_dir().join("files"))
        .map_err(|e| e.to_string())?
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .max()
        .unwrap_or(0);
    server.stop();

    let during: Vec<&Sample> = samples
        .iter()
        .filter(|(t, _)| *t >= start_s && *t <= end_s)
        .collect();
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let peak_during = during.iter().map(|s| s.1).max().unwrap_or(0);
    let mut sorted: Vec<u64> = during.iter().map(|s| s.1).collect();
    sorted.sort();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    let mib = |kib: u64| kib as f64 / KIB;
    println!(
        "Attachment: {bytes} bytes of plaintext, age file {} bytes ({:.1} MiB) sent in {puts} PUTs of {:.0} KiB; stored file {} bytes; case {}",
        digest.size,
        digest.size as f64 / MIB,
        chunk as f64 / KIB,
        stored,
        receipt["case"].as_str().unwrap_or("?")
    );
    println!();
    println!("| server VmRSS | MiB |");
    println!("|---|---|");
    println!("| baseline (started, idle) | {:.1} |", mib(baseline));
    println!(
        "| median while uploading ({} samples) | {:.1} |",
        during.len(),
        mib(median)
    );
    println!("| peak sampled while uploading | {:.1} |", mib(peak_during));
    println!("| peak sampled over the whole run | {:.1} |", mib(peak));
    println!("| VmHWM (kernel's peak) at the end | {:.1} |", mib(hwm));
    println!(
        "| at the end (report filed, 2 s later) | {:.1} |",
        mib(at_end)
    );
    println!();
    println!("| upload step | seconds | MiB/s |");
    println!("|---|---|---|");
    let s = sent.as_secs_f64();
    println!(
        "| PUT chunks (client encrypts while sending) | {s:.2} | {:.0} |",
        digest.size as f64 / MIB / s
    );
    let f = finished.as_secs_f64();
    println!(
        "| POST finish (server syncs and hashes the file) | {f:.2} | {:.0} |",
        digest.size as f64 / MIB / f
    );
    println!(
        "| both | {:.2} | {:.0} |",
        s + f,
        digest.size as f64 / MIB / (s + f)
    );
    println!();
    println!(
        "Client-side encryption alone took {:.2} s of the PUT phase's {s:.2} s (one thread, overlapping the sending).",
        busy.as_secs_f64()
    );
    Ok(())
}

/// Durable submissions on the PostgreSQL backend: for one and two instances, a fresh
/// database and bucket, every level; the clients spread over the instances.
fn pg_load(levels: &[Level]) -> Result<Vec<String>, String> {
    use meldpunt_tests::services::{ObjectStore, PgSite, Postgres};
    let pg = Postgres::start();
    let s3 = ObjectStore::start();
    let mut failed = Vec::new();
    for instances in [1usize, 2] {
        let shared = PgSite::new(&pg, &s3);
        let quoted = |v: &str| format!("\"{v}\"");
        let (url, endpoint, bucket) = (
            quoted(&shared.url),
            quoted(&shared.endpoint),
            quoted(&shared.bucket),
        );
        let key = quoted(meldpunt_tests::services::S3_KEY);
        let secret = quoted(meldpunt_tests::services::S3_SECRET);
        let settings = [
            ("submissions_per_hour", "4000000000"),
            ("min_free_disk", "0"),
            ("storage", "\"postgres\""),
            ("postgres_url", url.as_str()),
            ("s3_endpoint", endpoint.as_str()),
            ("s3_bucket", bucket.as_str()),
            ("s3_access_key_id", key.as_str()),
            ("s3_secret_access_key", secret.as_str()),
            ("s3_allow_http", "true"),
        ];
        let first = site(&settings);
        let mut sites = vec![first];
        for _ in 1..instances {
            let other = sites[0].instance("");
            let path = other.dir().join("Meldpunt.toml");
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let extra: String = settings
                .iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect();
            let text = text
                .lines()
                .filter(|l| {
                    !settings
                        .iter()
                        .any(|(k, _)| l.split('=').next().unwrap_or("").trim() == *k)
                })
                .map(|l| format!("{l}\n"))
                .collect::<String>();
            std::fs::write(&path, format!("{extra}{text}")).map_err(|e| e.to_string())?;
            sites.push(other);
        }
        let servers: Vec<Server> = sites.iter().map(|s| s.start()).collect();
        let warm: Vec<_> = (0..200).map(|_| sealed_report(&sites[0])).collect();
        let o = post_spread(&sites, warm, 4);
        if !o.errors.is_empty() {
            return Err(format!("postgres warm-up refused: {}", o.errors[0]));
        }
        for level in levels {
            let reports: Vec<_> = (0..level.count).map(|_| sealed_report(&sites[0])).collect();
            eprintln!(
                "postgres, {instances} instance(s), {} clients: posting (load {})",
                level.clients,
                loadavg()
            );
            let own = cpu_seconds(std::process::id());
            let mut o = post_spread(&sites, reports, level.clients);
            let own = cpu_seconds(std::process::id()) - own;
            row(
                &format!("server ×{instances} on PostgreSQL + S3: POST /api/v1/reports"),
                level.clients,
                &mut o,
                &format!(" – | {own:.1} |"),
            );
            failed.extend(o.errors.iter().take(3).cloned());
        }
        drop(servers);
    }
    Ok(failed)
}

/// Like [`post_all`], with client `i` posting to instance `i % sites.len()`.
fn post_spread(sites: &[Site], reports: Vec<(String, Vec<u8>)>, clients: usize) -> Outcome {
    let reports = Arc::new(reports);
    let next = Arc::new(AtomicUsize::new(0));
    let urls: Vec<String> = sites.iter().map(|s| s.url("/api/v1/reports")).collect();
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let (reports, next, url) =
                (reports.clone(), next.clone(), urls[c % urls.len()].clone());
            thread::spawn(move || {
                let a = agent();
                let mut lat = Vec::new();
                let mut errors = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((cred, body)) = reports.get(i) else {
                        break;
                    };
                    let t = Instant::now();
                    match a
                        .post(&url)
                        .header("Meldpunt-Mailbox", cred)
                        .header("Meldpunt-Destination", "bureau")
                        .send(&body[..])
                    {
                        Ok(resp) if resp.status() == 201 => lat.push(t.elapsed()),
                        Ok(resp) => errors.push(format!("{}", resp.status())),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    Outcome::join(handles, start)
}

/// A reporter's case: the code, its mailbox credential, the report's age file, the case.
struct Case {
    code: ReturnCode,
    cred: String,
    report: Vec<u8>,
    number: String,
}

/// Posts a sealed report as the reporter's page does; its receipt (201) or the refusal.
fn post_report(
    a: &ureq::Agent,
    site: &Site,
    cred: &str,
    report: &[u8],
) -> Result<serde_json::Value, String> {
    let resp = a
        .post(&site.url("/api/v1/reports"))
        .header("Meldpunt-Mailbox", cred)
        .header("Meldpunt-Destination", "bureau")
        .send(report)
        .map_err(|e| e.to_string())?;
    if resp.status() != 201 {
        return Err(format!("report: {}: {}", resp.status(), json(resp)));
    }
    Ok(json(resp))
}

/// Files a short report with a fresh return code.
fn file_case(site: &Site) -> Result<Case, String> {
    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    let content = ReportContent {
        category: Category::Fraud,
        concerning: "the head of purchasing".into(),
        description: "Invoices from one supplier are approved without any delivery.".into(),
        when_where: "this year, head office".into(),
        contact: None,
        attachments: vec![],
        date: Day::today(),
        encrypted_by: EncryptedBy::Browser,
    };
    let report = seal_report(&content, &keys, &site.bureau).map_err(|e| e.to_string())?;
    let cred = keys.credential().to_header_value().to_string();
    let receipt = post_report(&agent(), site, &cred, &report)?;
    let number = receipt["case"].as_str().unwrap_or("").to_owned();
    Ok(Case {
        code,
        cred,
        report,
        number,
    })
}

/// Samples the server's VmRSS every 100 ms until `stop`; returns the samples in KiB.
fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> thread::JoinHandle<Vec<u64>> {
    thread::spawn(move || {
        let mut samples = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            if let Some(kib) = status_kib(pid, "VmRSS") {
                samples.push(kib);
            }
            thread::sleep(Duration::from_millis(100));
        }
        samples
    })
}

/// What one phase cost the server: resident memory before, while and at the end.
struct Memory {
    baseline: u64,
    median: u64,
    peak: u64,
    hwm: u64,
    samples: usize,
}

/// Runs `work` on `clients` threads at once while the server's memory is sampled, after
/// 2 s idle for the baseline. Returns the memory and the threads' results.
fn measured<T: Send + 'static>(
    pid: u32,
    clients: usize,
    work: impl Fn() -> T + Send + Sync + 'static,
) -> Result<(Memory, Vec<T>, Duration), String> {
    thread::sleep(Duration::from_secs(2));
    reset_peak(pid)?;
    let baseline = status_kib(pid, "VmRSS").unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(pid, stop.clone());
    let work = Arc::new(work);
    let t = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let work = work.clone();
            thread::spawn(move || work())
        })
        .collect();
    let results: Vec<T> = handles
        .into_iter()
        .map(|h| h.join().expect("a client finishes"))
        .collect();
    let wall = t.elapsed();
    let hwm = status_kib(pid, "VmHWM").unwrap_or(0);
    stop.store(true, Ordering::Relaxed);
    let mut samples = sampler.join().expect("the sampler finishes");
    samples.sort();
    let memory = Memory {
        baseline,
        median: samples.get(samples.len() / 2).copied().unwrap_or(0),
        peak: samples.last().copied().unwrap_or(0),
        hwm,
        samples: samples.len(),
    };
    Ok((memory, results, wall))
}

/// Reads the whole thread page by page as the reporter's page does, checking every
/// message against what was posted. Returns (pages, ciphertext bytes, largest page's
/// ciphertext bytes).
fn read_pages(url: &str, cred: &str, expected: &[[u8; 32]]) -> Result<(usize, u64, u64), String> {
    let a = agent();
    let (mut from, mut pages, mut bytes, mut largest) = (1usize, 0, 0u64, 0u64);
    let mut seen = 0;
    loop {
        let resp = a
            .get(&format!("{url}?from={from}"))
            .header("Meldpunt-Mailbox", cred)
            .call()
            .map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(format!("GET thread from {from}: {}", resp.status()));
        }
        let page = json(resp);
        let mut page_bytes = 0;
        for m in page["messages"]
            .as_array()
            .ok_or("a page without messages")?
        {
            let ct = B64
                .decode(m["ciphertext"].as_str().unwrap_or(""))
                .map_err(|e| e.to_string())?;
            if expected.get(seen) != Some(&ciphertext_hash(&ct)) {
                return Err(format!("message {} differs from what was posted", seen + 1));
            }
            seen += 1;
            page_bytes += ct.len() as u64;
        }
        pages += 1;
        bytes += page_bytes;
        largest = largest.max(page_bytes);
        match page["next"].as_u64() {
            Some(n) => from = n as usize,
            None => break,
        }
    }
    if seen != expected.len() {
        return Err(format!("read {seen} of {} messages", expected.len()));
    }
    Ok((pages, bytes, largest))
}

/// The no-JavaScript check-back: the return code in a form; the server opens the thread
/// with it and answers the page with every message decrypted. Returns the page's bytes.
fn check_back(url: &str, code: &str, last: usize) -> Result<usize, String> {
    let boundary = "meldpunt-bench-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n{code}\r\n--{boundary}--\r\n"
    );
    let resp = agent()
        .post(url)
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(body.as_bytes())
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let mut page = String::new();
    resp.into_body()
        .into_reader()
        .read_to_string(&mut page)
        .map_err(|e| e.to_string())?;
    if status != 200 || !page.contains(&format!("Message {last}: ")) {
        return Err(format!("check-back: {status}, the last message not shown"));
    }
    Ok(page.len())
}

fn threads(args: &[String]) -> Result<(), String> {
    let number = |i: usize, default: usize| -> Result<usize, String> {
        args.get(i).map_or(Ok(default), |a| {
            a.parse().map_err(|_| format!("{a}: not a number"))
        })
    };
    let total = number(0, 2000)?;
    let readers = number(1, 4)?;
    let max_message = 1 << 20; // the default `max_message`, unchanged
                               // The caps are raised so one thread can hold every message: the point is that a
                               // page's cost does not depend on the thread's size. The check-back reads whole
                               // threads, so it is measured on threads within the default cap (32 MiB).
                               // (At least 64, so the check-back's thread at the default cap fits in a short run.)
    let cap = total.max(64);
    let (cap_messages, cap_bytes) = (cap.to_string(), format!("\"{} MiB\"", cap + 64));
    let site = site(&[
        ("submissions_per_hour", "4000000000"),
        ("min_free_disk", "0"),
        ("max_thread_messages", &cap_messages),
        ("max_thread_bytes", &cap_bytes),
    ]);
    let token = site.token("bench", "bureau");
    let server = site.start();
    let pid = server.pid();
    eprintln!(
        "server pid {pid}, data directory {}",
        site.data_dir().display()
    );

    let big = file_case(&site)?;
    let mut bureau = BureauWriter::new(&site, &big.report, max_message)?;
    let thread_url = site.url("/api/v1/thread");
    let mib = |kib: u64| kib as f64 / KIB;

    println!("| thread: messages | thread MiB | readers | pages each | largest page MiB | seconds | MiB/s read | server VmRSS before | median | peak sampled | VmHWM | peak − before |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut thread_bytes = 0u64;
    let mut msg_size = 0u64;
    for stage in [total / 8, total / 2, total] {
        let t = Instant::now();
        thread_bytes += bureau.fill(&site, &token, &big.number, stage.max(1))?;
        msg_size = thread_bytes / bureau.hashes.len() as u64;
        eprintln!(
            "thread holds {} messages ({:.0} MiB), posted in {:.1} s (load {}); {readers} readers",
            bureau.hashes.len(),
            thread_bytes as f64 / MIB,
            t.elapsed().as_secs_f64(),
            loadavg()
        );
        let expected = Arc::new(bureau.hashes.clone());
        let (url, cred) = (thread_url.clone(), big.cred.clone());
        let (m, results, wall) =
            measured(pid, readers, move || read_pages(&url, &cred, &expected))?;
        let results: Vec<_> = results.into_iter().collect::<Result<_, _>>()?;
        let pages = results.iter().map(|r| r.0).max().unwrap_or(0);
        let largest = results.iter().map(|r| r.2).max().unwrap_or(0);
        let read: u64 = results.iter().map(|r| r.1).sum();
        println!(
            "| {} | {:.0} | {readers} | {pages} | {:.2} | {:.1} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            bureau.hashes.len(),
            thread_bytes as f64 / MIB,
            largest as f64 / MIB,
            wall.as_secs_f64(),
            read as f64 / MIB / wall.as_secs_f64(),
            mib(m.baseline),
            mib(m.median),
            mib(m.peak),
            mib(m.hwm),
            mib(m.peak.max(m.hwm)) - mib(m.baseline)
        );
        eprintln!("({} samples)", m.samples);
    }
    println!();
    println!(
        "Messages: the largest the default `max_message` (1 MiB) admits, {msg_size} bytes each on average; all from the bureau."
    );

    // The no-JavaScript check-back decrypts the whole thread in the server (the reporter
    // typed the code): its cost follows the thread's size, which the cap bounds.
    println!();
    println!("| check-back (no JavaScript): thread messages | thread MiB | clients | seconds | page MiB | server VmRSS before | median | peak sampled | VmHWM | peak − before |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let default_cap = 32 << 20;
    let fits = (default_cap / msg_size.max(1)) as usize;
    for count in [fits / 4, fits] {
        let case = file_case(&site)?;
        let mut b = BureauWriter::new(&site, &case.report, max_message)?;
        let bytes = b.fill(&site, &token, &case.number, count.max(1))?;
        let url = site.url("/en/check-nojs");
        let code = case.code.to_grouped_string().as_str().to_owned();
        let last = b.hashes.len();
        let (m, results, wall) = measured(pid, readers, move || check_back(&url, &code, last))?;
        let sizes: Vec<usize> = results.into_iter().collect::<Result<_, _>>()?;
        println!(
            "| {last} | {:.1} | {readers} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            bytes as f64 / MIB,
            wall.as_secs_f64(),
            sizes.iter().max().copied().unwrap_or(0) as f64 / MIB,
            mib(m.baseline),
            mib(m.median),
            mib(m.peak),
            mib(m.hwm),
            mib(m.peak.max(m.hwm)) - mib(m.baseline)
        );
    }
    println!();
    println!(
        "At the end: sled's directory {:.0} MiB, texts/ (the age files beside sled) {:.0} MiB",
        dir_size(&site.data_dir().join("db")) as f64 / MIB,
        dir_size(&site.data_dir().join("texts")) as f64 / MIB
    );
    server.stop();
    Ok(())
}
