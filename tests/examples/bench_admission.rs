//! Benchmark: what an admission puzzle (PROTOCOL.md §13) costs, per evaluation of the
//! work, natively (an attacker's program, one core), in the reporter's browser module as
//! WebAssembly in headless Chromium, and as its wasm2js translation in Chromium without
//! JIT or WebAssembly (Tor Browser "Safer"). From these, the expected seconds per solve
//! at each difficulty, for docs/THREAT_MODEL.md and docs/BENCHMARKS.md. A measurement,
//! not a test. Run by `scripts/bench-admission.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failure

use std::time::{Duration, Instant};

use meldpunt_crypto::admission;
use meldpunt_tests::browser::{self, Browser};
use meldpunt_tests::Site;
use serde_json::Value;

/// Times `tries` evaluations in the page (difficulty 24: none solves), in ms each.
async fn in_page(b: &Browser, site: &Site, loader: &str, tries: u64) -> f64 {
    b.client.goto(&site.url("/en/report")).await.unwrap();
    let script = format!(
        "const done = arguments[arguments.length - 1];
         import('/static/crypto.js').then(async (m) => {{
           const c = await m.{loader};
           const challenge = 'bWVsZHB1bnQgYmVuY2htYXJrIGNoYWxsZW5nZQ';
           c.solveAdmission(challenge, 24, 0, 1);
           const t0 = performance.now();
           c.solveAdmission(challenge, 24, 1, {tries});
           done((performance.now() - t0) / {tries});
         }}).catch((e) => done(String(e)));"
    );
    b.client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            None,
            None,
            Some(Duration::from_secs(900)),
        ))
        .await
        .unwrap();
    match b.client.execute_async(&script, vec![]).await.unwrap() {
        Value::Number(ms) => ms.as_f64().unwrap(),
        other => panic!("the page could not time the work: {other}"),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tries_native = 2000u64;
    let start = Instant::now();
    for n in 0..tries_native {
        std::hint::black_box(admission::work(b"meldpunt benchmark challenge", n));
    }
    let native = start.elapsed().as_secs_f64() * 1000.0 / tries_native as f64;

    let site = Site::new();
    let _server = site.start();
    let b = browser::start(&[]).await;
    let wasm = in_page(&b, &site, "loadWasm('/static/meldpunt.wasm')", 500).await;
    drop(b);
    let b = browser::start(&["--js-flags=--jitless"]).await;
    let js = in_page(&b, &site, "loadJs('/static/meldpunt-wasm2js.js')", 12).await;
    drop(b);

    println!("ms per evaluation: native {native:.3}, WebAssembly (Chromium) {wasm:.3}, wasm2js (jitless Chromium) {js:.1}");
    println!("| difficulty | native attacker, solves/s per core | WebAssembly, s per solve | wasm2js (Safer), s per solve |");
    println!("|---|---|---|---|");
    for k in 0..=10u32 {
        let evals = f64::from(1u32 << k);
        println!(
            "| {k} | {:.1} | {:.3} | {:.1} |",
            1000.0 / (native * evals),
            wasm * evals / 1000.0,
            js * evals / 1000.0
        );
    }
}
