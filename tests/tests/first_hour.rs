//! docs/FIRST-HOUR.md, followed line for line: scripts/first-hour.sh runs every command
//! block of the walk-through in order against a fresh demo drop box (the binaries this
//! test run built), checks what each command prints against the text the walk-through
//! shows after it, and checks every text it quotes from a page against that page.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::path::Path;
use std::process::Command;

use meldpunt_tests::{bin_dir, binary};

#[test]
fn the_first_hour_walk_through_runs_as_written() {
    // Both programs must be built (cargo test --workspace builds them).
    binary("meldpunt-server");
    binary("meldpunt");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new("bash")
        .arg(repo.join("scripts/first-hour.sh"))
        .env("MELDPUNT_FIRST_HOUR_BIN", bin_dir())
        .env_remove("MELDPUNT_FIRST_HOUR_KEEP")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    // It really followed the walk-through: every block ran, every quote was checked.
    let doc = std::fs::read_to_string(repo.join("docs/FIRST-HOUR.md")).unwrap();
    let blocks = doc.lines().filter(|l| *l == "```sh").count();
    assert!(blocks >= 7, "the walk-through has {blocks} command blocks");
    assert!(
        text.contains(&format!("== block {blocks:02}")),
        "not every block ran:\n{text}"
    );
    // Quotes under the reporter's page headings (the introduction explains the “…”).
    let reporter = doc.split("## The reporter").nth(1).unwrap_or_default();
    let quotes = reporter.matches('“').count();
    assert!(
        text.contains(&format!("{quotes} quoted page texts are on their pages")),
        "expected {quotes} quoted page texts checked:\n{text}"
    );
}
