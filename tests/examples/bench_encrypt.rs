//! Benchmark: encrypting one 100 MiB attachment with the crypto crate natively, with the
//! reporter's browser module in headless Chromium (WebAssembly, and its wasm2js
//! translation in a Chromium without JIT or WebAssembly), with OpenPGP.js in the same
//! Chromium, and with the Go `age` CLI (docs/BENCHMARKS.md). A measurement, not a test:
//! it fails only when an engine's output does not decrypt to the plaintext.
//!
//! Run by `scripts/bench-encrypt.sh`, which builds and installs what this needs:
//!
//! ```text
//! bench_encrypt            # paths below <target>; environment:
//!   BENCH_SIZE=bytes         plaintext size (default 104857600 = 100 MiB)
//!   BENCH_RUNS=n             timed runs of each engine (default 5)
//!   BENCH_JITLESS_RUNS=n     timed runs of wasm2js without JIT (default 3; ~0.5 MiB/s)
//! ```
//!
//! Every engine encrypts the same pseudo-random plaintext, held in memory (a file in
//! `/tmp`, warm in the page cache, for the CLI), to the same single X25519 recipient.
//! The page (tests/bench/encrypt/) is served from memory by a small HTTP server on
//! 127.0.0.1, and times each run in the page with `performance.now()`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use meldpunt_crypto::padding::padded_len;
use meldpunt_crypto::{age, encrypt_attachment, Day, InvestigatorKey, Recipient};
use meldpunt_tests::bench_page::{self, call, Files, PageServer};
use meldpunt_tests::browser::{self, Browser};
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};

const MIB: f64 = 1024.0 * 1024.0;
/// The jitless warm-up is small: without a JIT there is nothing to warm beyond loading.
const JITLESS_WARMUP: u64 = 1024 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// One engine's timed runs, in seconds.
struct Timings {
    name: &'static str,
    what: &'static str,
    secs: Vec<f64>,
    ciphertext: u64,
}

impl Timings {
    fn new(name: &'static str, what: &'static str) -> Self {
        Self {
            name,
            what,
            secs: Vec::new(),
            ciphertext: 0,
        }
    }
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.secs.clone();
        v.sort_by(f64::total_cmp);
        v
    }
    fn min(&self) -> f64 {
        self.sorted()[0]
    }
    fn median(&self) -> f64 {
        let v = self.sorted();
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let size = env_u64("BENCH_SIZE", 100 * 1024 * 1024);
    let runs = env_u64("BENCH_RUNS", 5).max(1) as usize;
    let jitless_runs = env_u64("BENCH_JITLESS_RUNS", 3).max(1) as usize;
    let paths = Paths::find();
    if let Err(missing) = paths.check() {
        eprintln!(
            "{missing} is missing: run scripts/bench-encrypt.sh, which builds and installs it"
        );
        return ExitCode::FAILURE;
    }

    let work = tempfile::Builder::new()
        .prefix("meldpunt-bench-encrypt.")
        .tempdir_in("/tmp")
        .expect("a work folder in /tmp");
    let key = InvestigatorKey::generate();
    let key_file = work.path().join("key.txt");
    std::fs::write(&key_file, key.to_key_file(Day::today()).as_bytes()).expect("key written");
    let recipient = key.recipient();
    let recipients = [recipient.clone()];

    eprintln!("Making {size} bytes of pseudo-random plaintext");
    let mut plain = vec![0u8; usize::try_from(size).expect("size fits in memory")];
    rand::rngs::StdRng::seed_from_u64(0x4d65_6c64).fill_bytes(&mut plain);
    let plain = Arc::new(plain);
    let plain_file = work.path().join("plain.bin");
    std::fs::write(&plain_file, &*plain).expect("plaintext written");
    let check = Checker {
        dir: work.path().to_owned(),
        key_file: key_file.clone(),
        plain: plain.clone(),
    };

    // --- native, the age crate alone and the age CLI, interleaved ---
    let mut native = Timings::new(
        "native (release)",
        "`encrypt_attachment` from memory into a `Vec`",
    );
    let mut bare = Timings::new(
        "age crate alone (release)",
        "`age::Encryptor` STREAM from memory into a `Vec`: no padding, no SHA-256",
    );
    let mut cli = Timings::new("age CLI", "`age -r … -o out in`, file to file");
    let mut out = Vec::with_capacity(plain.len() + plain.len() / 8 + (1 << 20));
    eprintln!("Warm-up and check: native, age crate, age CLI");
    run_native(&recipients, &plain, &mut out);
    check.age_file("native", &out, true);
    run_age_crate(&recipients, &plain, &mut out);
    check.age_file("age crate", &out, false);
    let cli_out = work.path().join("age.out");
    run_cli(&recipient, &plain_file, &cli_out);
    check.age_file(
        "age CLI",
        &std::fs::read(&cli_out).expect("age output"),
        false,
    );
    for i in 1..=runs {
        eprintln!("Run {i} of {runs}: native, age crate, age CLI");
        native.secs.push(run_native(&recipients, &plain, &mut out));
        native.ciphertext = out.len() as u64;
        bare.secs.push(run_age_crate(&recipients, &plain, &mut out));
        bare.ciphertext = out.len() as u64;
        cli.secs.push(run_cli(&recipient, &plain_file, &cli_out));
        cli.ciphertext = std::fs::metadata(&cli_out).expect("age output").len();
    }
    drop(out);

    let server = start_server(&paths, plain.clone());

    // --- Chromium with JIT: the WebAssembly module and OpenPGP.js, interleaved ---
    let mut wasm = Timings::new(
        "WASM, Chromium",
        "the browser module (`meldpunt_client_wasm.wasm`) through crypto.js",
    );
    let mut pgp_legacy = Timings::new(
        "OpenPGP.js, Chromium",
        "`openpgp.encrypt`, binary, v4 Curve25519 (ECDH) key, SEIPDv1",
    );
    let mut pgp_aead = Timings::new(
        "OpenPGP.js AEAD, Chromium",
        "`openpgp.encrypt`, binary, X25519 (RFC 9580) key, SEIPDv2",
    );
    let mut details = Vec::new();
    {
        let b = open_page(&[], &server).await;
        let info = call(&b, "bench.prepare()", vec![]).await;
        assert_eq!(info["webassembly"], json!(true), "WebAssembly in {info}");
        details.push(format!("Chromium user agent: {}", info["userAgent"]));
        let rcpt = json!([recipient.as_str()]);
        for engine in ["wasm", "openpgp-legacy", "openpgp-aead"] {
            call(
                &b,
                "bench.load(arguments[0], arguments[1])",
                vec![json!(engine), rcpt.clone()],
            )
            .await;
            eprintln!("Warm-up and check: {engine}");
            browser_run(&b, engine, size).await;
            let verdict = call(&b, "bench.check(arguments[0])", vec![json!(engine)]).await;
            if engine == "wasm" {
                let upload = server.take_upload(engine);
                check.digest("WASM", &verdict, &upload);
                check.age_file("WASM", &upload, true);
            } else {
                details.push(format!("{engine}: {verdict}"));
            }
        }
        for i in 1..=runs {
            eprintln!("Run {i} of {runs}: wasm, openpgp-legacy, openpgp-aead");
            for (t, engine) in [
                (&mut wasm, "wasm"),
                (&mut pgp_legacy, "openpgp-legacy"),
                (&mut pgp_aead, "openpgp-aead"),
            ] {
                let (secs, ct) = browser_run(&b, engine, size).await;
                t.secs.push(secs);
                t.ciphertext = ct;
            }
        }
    }

    // --- Chromium without JIT (so without WebAssembly): the wasm2js translation ---
    let mut wasm2js = Timings::new(
        "wasm2js, Chromium --jitless",
        "the browser module's wasm2js translation through crypto.js",
    );
    {
        let b = open_page(&["--js-flags=--jitless --expose-gc"], &server).await;
        let info = call(&b, "bench.prepare()", vec![]).await;
        assert_eq!(
            info["webassembly"],
            json!(false),
            "no WebAssembly in {info}"
        );
        let rcpt = json!([recipient.as_str()]);
        call(&b, "bench.load('wasm2js', arguments[0])", vec![rcpt]).await;
        eprintln!("Warm-up ({JITLESS_WARMUP} bytes): wasm2js without JIT");
        browser_run(&b, "wasm2js", JITLESS_WARMUP).await;
        for i in 1..=jitless_runs {
            eprintln!("Run {i} of {jitless_runs}: wasm2js without JIT (minutes at 100 MiB)");
            let (secs, ct) = browser_run(&b, "wasm2js", size).await;
            eprintln!("  {secs:.1} s");
            wasm2js.secs.push(secs);
            wasm2js.ciphertext = ct;
            if i == 1 {
                let verdict = call(&b, "bench.check('wasm2js')", vec![]).await;
                let upload = server.take_upload("wasm2js");
                check.digest("wasm2js", &verdict, &upload);
                check.age_file("wasm2js", &upload, true);
            }
        }
    }

    // --- Firefox ESR with Tor Browser's "Safer" preferences: the wasm2js translation,
    // on a smaller document (the interpreter is slow), with the hashing worker and
    // without it (the page's own instance hashes, as where no Worker can start) ---
    let firefox_size = env_u64("BENCH_FIREFOX_SIZE", 16 * 1024 * 1024).min(size);
    let firefox_runs = env_u64("BENCH_FIREFOX_RUNS", 2).max(1) as usize;
    let mut firefox = Timings::new(
        "wasm2js, Firefox ESR at Safer",
        "the wasm2js translation through crypto.js, hashed in the worker",
    );
    let mut firefox_here = Timings::new(
        "wasm2js, Firefox ESR at Safer, no worker",
        "the same, hashed in the page's own instance",
    );
    {
        let b = bench_page::open(
            browser::start_firefox(&browser::TOR_SAFER_PREFS).await,
            &server,
            1800,
        )
        .await;
        let info = call(&b, "bench.prepare()", vec![]).await;
        assert_eq!(
            info["webassembly"],
            json!(false),
            "no WebAssembly in {info}"
        );
        details.push(format!("Firefox user agent: {}", info["userAgent"]));
        let rcpt = json!([recipient.as_str()]);
        for engine in ["wasm2js", "wasm2js-here"] {
            call(
                &b,
                "bench.load(arguments[0], arguments[1])",
                vec![json!(engine), rcpt.clone()],
            )
            .await;
            browser_run(&b, engine, JITLESS_WARMUP).await;
        }
        for i in 1..=firefox_runs {
            for (t, engine) in [
                (&mut firefox, "wasm2js"),
                (&mut firefox_here, "wasm2js-here"),
            ] {
                eprintln!("Run {i} of {firefox_runs}: {engine} in Firefox at Safer ({firefox_size} bytes)");
                let (secs, ct) = browser_run(&b, engine, firefox_size).await;
                eprintln!("  {secs:.1} s");
                t.secs.push(secs);
                t.ciphertext = ct;
                if i == 1 {
                    let verdict = call(&b, "bench.check(arguments[0])", vec![json!(engine)]).await;
                    let upload = server.take_upload(engine);
                    if engine == "wasm2js" {
                        check.digest("Firefox wasm2js", &verdict, &upload);
                    }
                    check.age_file_of(engine, &upload, true, firefox_size as usize);
                }
            }
        }
    }

    report(
        size,
        &[
            &native,
            &cli,
            &bare,
            &wasm,
            &wasm2js,
            &pgp_legacy,
            &pgp_aead,
        ],
        &details,
    );
    println!();
    println!(
        "Firefox ESR at Safer, {firefox_size} bytes ({:.0} MiB):",
        firefox_size as f64 / MIB
    );
    println!();
    println!("| engine | runs | min (s) | median (s) | MiB/s (median) |");
    println!("|---|---|---|---|---|");
    for t in [&firefox, &firefox_here] {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.2} |",
            t.name,
            t.secs.len(),
            t.min(),
            t.median(),
            firefox_size as f64 / MIB / t.median()
        );
    }
    ExitCode::SUCCESS
}

/// Where the pieces are: the page in this crate, the loader in client-wasm, the modules
/// and OpenPGP.js under the target folder (which `scripts/bench-encrypt.sh` fills).
struct Paths {
    page: PathBuf,
    loader: PathBuf,
    wasm: PathBuf,
    wasm2js: PathBuf,
    openpgp: PathBuf,
}

impl Paths {
    fn find() -> Self {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
        // This example runs from <target>/release/examples/.
        let exe = std::env::current_exe().expect("the example knows where it runs");
        let target = exe
            .ancestors()
            .nth(3)
            .expect("runs from <target>/<profile>/examples")
            .to_owned();
        let module = target.join("wasm32-unknown-unknown/browser/meldpunt_client_wasm.wasm");
        Self {
            page: tests.join("bench/encrypt"),
            loader: tests.join("../pages/static/crypto.js"),
            wasm2js: module.with_extension("js"),
            wasm: module,
            openpgp: target.join("tools/node_modules/openpgp/dist/openpgp.min.mjs"),
        }
    }

    fn check(&self) -> Result<(), String> {
        for p in [
            self.page.join("bench.js"),
            self.loader.clone(),
            self.wasm.clone(),
            self.wasm2js.clone(),
            self.openpgp.clone(),
        ] {
            if !p.exists() {
                return Err(p.display().to_string());
            }
        }
        for tool in ["/usr/bin/age", browser::CHROMIUM, browser::CHROMEDRIVER] {
            if !Path::new(tool).exists() {
                return Err(tool.to_owned());
            }
        }
        Ok(())
    }
}

/// One native run: the whole of `encrypt_attachment` (header, STREAM, padding, SHA-256
/// of the ciphertext), reading the plaintext from memory, writing into a reserved `Vec`.
fn run_native(recipients: &[Recipient], plain: &[u8], out: &mut Vec<u8>) -> f64 {
    out.clear();
    let t0 = Instant::now();
    encrypt_attachment(recipients, plain, plain.len() as u64, &mut *out).expect("encrypts");
    t0.elapsed().as_secs_f64()
}

/// One run of the age crate alone, as `encrypt_attachment` calls it but without the
/// Meldpunt layer (padding, SHA-256 of the ciphertext): what that layer costs.
fn run_age_crate(recipients: &[Recipient], plain: &[u8], out: &mut Vec<u8>) -> f64 {
    out.clear();
    let t0 = Instant::now();
    let encryptor = age::Encryptor::with_recipients(
        recipients.iter().map(|r| r.as_age() as &dyn age::Recipient),
    )
    .expect("an encryptor");
    let mut w = encryptor.wrap_output(&mut *out).expect("a stream");
    w.write_all(plain).expect("encrypts");
    w.finish().expect("finishes");
    t0.elapsed().as_secs_f64()
}

/// One run of the Go CLI, its earlier output removed first (outside the timing).
fn run_cli(recipient: &Recipient, input: &Path, output: &Path) -> f64 {
    let _ = std::fs::remove_file(output);
    let t0 = Instant::now();
    let status = Command::new("/usr/bin/age")
        .arg("-r")
        .arg(recipient.as_str())
        .arg("-o")
        .arg(output)
        .arg(input)
        .status()
        .expect("age runs");
    let secs = t0.elapsed().as_secs_f64();
    assert!(status.success(), "age -r failed: {status}");
    secs
}

/// Decrypts engines' output with the Go CLI, so a broken engine cannot look fast.
struct Checker {
    dir: PathBuf,
    key_file: PathBuf,
    plain: Arc<Vec<u8>>,
}

impl Checker {
    /// `padded`: the output is a Meldpunt attachment, so the plaintext is followed by
    /// exactly the zero padding `padded_len` asks for.
    /// The manifest's hash, made by the page's hashing worker, is the SHA-256 of the
    /// whole ciphertext.
    fn digest(&self, engine: &str, verdict: &Value, ciphertext: &[u8]) {
        use sha2::{Digest, Sha256};
        assert_eq!(
            verdict["hashed_beside"],
            json!(true),
            "{engine}: not hashed beside: {verdict}"
        );
        assert_eq!(
            verdict["ciphertext_sha256"].as_str(),
            Some(hex::encode(Sha256::digest(ciphertext)).as_str()),
            "{engine}: the manifest's hash is not the ciphertext's"
        );
    }

    fn age_file(&self, engine: &str, ciphertext: &[u8], padded: bool) {
        self.age_file_of(engine, ciphertext, padded, self.plain.len());
    }

    /// As [`age_file`](Self::age_file), for an age file of the plaintext's first `n` bytes.
    fn age_file_of(&self, engine: &str, ciphertext: &[u8], padded: bool, n: usize) {
        let ct = self.dir.join("check.age");
        std::fs::write(&ct, ciphertext).expect("ciphertext written");
        let out = Command::new("/usr/bin/age")
            .arg("-d")
            .arg("-i")
            .arg(&self.key_file)
            .arg(&ct)
            .stderr(Stdio::inherit())
            .output()
            .expect("age -d runs");
        assert!(out.status.success(), "{engine}: age -d failed");
        let len = n as u64;
        let expected = if padded { padded_len(len) } else { len };
        let got = out.stdout;
        assert_eq!(got.len() as u64, expected, "{engine}: decrypted length");
        assert!(
            got[..n] == self.plain[..n],
            "{engine}: decrypted bytes differ"
        );
        assert!(
            got[n..].iter().all(|&b| b == 0),
            "{engine}: padding is not zero"
        );
        std::fs::remove_file(&ct).expect("ciphertext removed");
        eprintln!(
            "  {engine}: {} bytes of age file decrypt with `age -d` to the plaintext",
            ciphertext.len()
        );
    }
}

/// Starts Chromium (with `extra` flags) on the benchmark page, with room for a minutes-long
/// script.
async fn open_page(extra: &[&str], server: &PageServer) -> Browser {
    // --expose-gc: each run starts after a garbage collection, so the last run's garbage
    // is not collected inside the next one's timing.
    let mut flags = extra.to_vec();
    if !flags.iter().any(|f| f.starts_with("--js-flags=")) {
        flags.push("--js-flags=--expose-gc");
    }
    bench_page::open(browser::start(&flags).await, server, 900).await
}

/// One timed run in the page: seconds and ciphertext size.
async fn browser_run(b: &Browser, engine: &str, size: u64) -> (f64, u64) {
    let r = call(
        b,
        "(globalThis.gc && gc(), bench.run(arguments[0], arguments[1]))",
        vec![json!(engine), json!(size)],
    )
    .await;
    let ms = r["ms"].as_f64().expect("ms");
    let ct = r["ciphertext_size"].as_u64().expect("ciphertext_size");
    (ms / 1000.0, ct)
}

/// The benchmark page's server, with the page's files.
fn start_server(paths: &Paths, plain: Arc<Vec<u8>>) -> PageServer {
    let read =
        |p: &Path| Arc::new(std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
    let js = "text/javascript";
    let mut files: Files = HashMap::new();
    files.insert(
        "/",
        (
            "text/html; charset=utf-8",
            read(&paths.page.join("index.html")),
        ),
    );
    files.insert("/bench.js", (js, read(&paths.page.join("bench.js"))));
    files.insert("/crypto.js", (js, read(&paths.loader)));
    files.insert(
        "/hash-worker.js",
        (js, read(&paths.loader.with_file_name("hash-worker.js"))),
    );
    files.insert("/meldpunt.wasm", ("application/wasm", read(&paths.wasm)));
    files.insert("/meldpunt.js", (js, read(&paths.wasm2js)));
    files.insert("/openpgp.mjs", (js, read(&paths.openpgp)));
    files.insert("/plain.bin", ("application/octet-stream", plain));
    PageServer::start(files)
}

/// Prints the results as a Markdown table, with ratios to native and to the age CLI.
fn report(size: u64, all: &[&Timings], details: &[String]) {
    let mib = size as f64 / MIB;
    let native = all[0].median();
    let cli = all[1].median();
    println!("Plaintext: {size} bytes ({mib:.0} MiB), 1 X25519 recipient in every engine.");
    println!();
    println!(
        "| engine | runs | min (s) | median (s) | MiB/s (median) | MiB/s (best) | time ÷ native | time ÷ age CLI | ciphertext (bytes) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for t in all {
        let (min, med) = (t.min(), t.median());
        println!(
            "| {} | {} | {min:.3} | {med:.3} | {:.1} | {:.1} | {:.2} | {:.2} | {} |",
            t.name,
            t.secs.len(),
            mib / med,
            mib / min,
            med / native,
            med / cli,
            t.ciphertext
        );
    }
    println!();
    println!("What each row times:");
    for t in all {
        println!("- {}: {}", t.name, t.what);
    }
    println!();
    println!("Raw runs (s):");
    for t in all {
        let raw: Vec<String> = t.secs.iter().map(|s| format!("{s:.3}")).collect();
        println!("- {}: {}", t.name, raw.join(", "));
    }
    println!();
    for d in details {
        println!("{d}");
    }
}
