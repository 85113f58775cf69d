//! The API description matches the server: schemathesis (PyPI) generates requests from
//! docs/openapi.yaml — valid and invalid ones, every method on every path — and sends
//! them to a real server process holding a filed case, with a mailbox credential and an
//! investigator token, with every check on (`--checks all`): no 5xx, only the status
//! codes, content types and bodies the description lists, 405 with `Allow` for methods
//! a path lacks, valid requests accepted and invalid ones refused.
//!
//! schemathesis is installed by scripts/test.sh into `<target>/tools/schemathesis`
//! (a Python venv); `MELDPUNT_SCHEMATHESIS` names another binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meldpunt_tests::{bin_dir, ApiReporter, Site};

/// The schemathesis version scripts/test.sh installs.
const VERSION: &str = "4.32.5";

fn schemathesis() -> PathBuf {
    let path = std::env::var_os("MELDPUNT_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            bin_dir()
                .parent()
                .expect("the target folder")
                .join("tools/schemathesis/bin/schemathesis")
        });
    assert!(
        path.exists(),
        "schemathesis is not installed at {}: run scripts/test.sh (it installs it), or \
         python3 -m venv <target>/tools/schemathesis && \
         <target>/tools/schemathesis/bin/pip install schemathesis=={VERSION}",
        path.display()
    );
    path
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
}

#[test]
fn the_api_description_matches_the_server() {
    let schemathesis = schemathesis();
    let site = Site::new();
    let token = site.token("contract", "bureau");
    let _server = site.start();
    let reporter = ApiReporter::new();
    let filed = reporter.file(
        &site,
        "A report for the API contract run.",
        None,
        &[("minutes.txt", b"the minutes")],
    );

    let log = site.dir().join("schemathesis.log");
    let mut child = Command::new(&schemathesis)
        .current_dir(site.dir())
        .arg("--config-file")
        .arg(workspace().join("tests/schemathesis/schemathesis.toml"))
        .arg("run")
        .arg(workspace().join("docs/openapi.yaml"))
        .args(["--url", &site.url("/api/v1"), "--checks", "all"])
        .args(["--no-color", "--workers", "1"])
        .env("MELDPUNT_MAILBOX", reporter.credential())
        .env("MELDPUNT_TOKEN", &token)
        .env("MELDPUNT_CASE", &filed.case)
        // No telemetry, no report upload: the run stays on this machine.
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env_remove("SCHEMATHESIS_API_KEY")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::options().append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "schemathesis ran over 300 s:\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(
        status.success(),
        "schemathesis found mismatches ({status}):\n{out}"
    );
    // It really ran: every operation of the description was tested.
    let operations = std::fs::read_to_string(workspace().join("docs/openapi.yaml"))
        .unwrap()
        .lines()
        .filter(|l| {
            ["get:", "post:", "put:", "delete:"]
                .iter()
                .any(|m| l.trim_start() == *m && l.starts_with("    ") && !l.starts_with("     "))
        })
        .count();
    assert!(
        out.contains(&format!("Tested: {operations}")),
        "expected {operations} operations tested:\n{out}"
    );
}
