//! The `meldpunt-server` command line: start-up checks, demo mode, tokens, audit verify.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::Keys;

const BIN: &str = env!("CARGO_BIN_EXE_meldpunt-server");

fn run(dir: &std::path::Path, config: &str, args: &[&str]) -> Output {
    std::fs::write(dir.join("Meldpunt.toml"), config).unwrap();
    Command::new(BIN)
        .current_dir(dir)
        .env("MELDPUNT_CONFIG", dir.join("Meldpunt.toml"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn an_invalid_key_refuses_to_start_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = Keys::new().bureau.recipients()[0].to_string();
    let config = format!(
        "[[destinations]]\nname = \"bureau\"\nrecipients = [\"{good}\", \"age1qqqqbroken\"]\n"
    );
    let out = run(dir.path(), &config, &["serve"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("age1qqqqbroken") && t.contains("bureau"), "{t}");
    // Nothing configured and no demo: refuses, and says what to do.
    let out = run(dir.path(), "", &["serve"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no destination is configured"),
        "{}",
        text(&out)
    );
    // The same file checked without starting.
    let out = run(dir.path(), &config, &["check-config"]);
    assert!(!out.status.success());
}

/// Runs `serve --demo` in `dir` (no configuration but the port) until it listens, stops
/// it and returns what it printed.
fn demo_once(dir: &std::path::Path) -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(dir.join("Meldpunt.toml"), format!("port = {port}\n")).unwrap();
    let log = dir.join("out.log");
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .env("MELDPUNT_CONFIG", dir.join("Meldpunt.toml"))
        .env_remove("MELDPUNT_DEMO")
        .args(["serve", "--demo"])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("listening on")
    {
        assert!(Instant::now() < deadline, "the demo server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn demo_mode_writes_the_key_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_once(dir.path());
    assert!(
        out.contains("DEMO ONLY: the private key is on the server"),
        "{out}"
    );
    let key_path = dir
        .path()
        .join("meldpunt-data")
        .join("DEMO-ONLY-destination-key.txt");
    assert!(
        out.contains(&key_path.canonicalize().unwrap().display().to_string()),
        "{out}"
    );
    let keys = meldpunt_crypto::load_keys(&std::fs::read(&key_path).unwrap(), || None).unwrap();
    assert!(
        out.contains(&meldpunt_crypto::fingerprint(&[keys[0].recipient()])),
        "{out}"
    );
}

/// The README's first steps on the demo install, with no MELDPUNT_DEMO and no
/// configuration: a token for "demo", check-config, and the recipient to pin printed.
#[test]
fn the_demo_install_takes_the_readmes_commands() {
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        Command::new(BIN)
            .current_dir(dir.path())
            .env("MELDPUNT_CONFIG", dir.path().join("Meldpunt.toml"))
            .env_remove("MELDPUNT_DEMO")
            .args(args)
            .output()
            .unwrap()
    };
    std::fs::write(dir.path().join("Meldpunt.toml"), "").unwrap();
    // Before `serve --demo` there is no demo install: "demo" is unknown.
    let out = cli(&["token", "create", "alice", "--destination", "demo"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("\"demo\""), "{}", text(&out));

    let served = demo_once(dir.path());
    let key_path = dir
        .path()
        .join("meldpunt-data/DEMO-ONLY-destination-key.txt");
    let keys = meldpunt_crypto::load_keys(&std::fs::read(&key_path).unwrap(), || None).unwrap();
    let recipient_line = format!("  recipient {}", keys[0].recipient());
    assert!(served.contains(&recipient_line), "{served}");

    let out = cli(&["token", "create", "alice", "--destination", "demo"]);
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.len() > 20, "{token}");
    let out = cli(&["token", "list"]);
    assert!(text(&out).contains("alice\tdemo\t"), "{}", text(&out));

    let out = cli(&["check-config"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains(&recipient_line), "{t}");
    assert!(t.contains("This is the demo install"), "{t}");
    assert!(t.contains("The configuration is valid."), "{t}");

    // A configured destination replaces the demo, even on the demo's data directory.
    let keys = Keys::new();
    std::fs::write(dir.path().join("Meldpunt.toml"), keys.toml()).unwrap();
    let out = cli(&["token", "create", "bob", "--destination", "demo"]);
    assert!(!out.status.success(), "{}", text(&out));
    let out = cli(&["check-config"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("demo"), "{}", text(&out));
}

#[test]
fn tokens_are_shown_once_revoked_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let config = keys.toml();
    let out = run(
        dir.path(),
        &config,
        &["token", "create", "alice", "--destination", "bureau"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    let stored = std::fs::read_to_string(dir.path().join("meldpunt-data/tokens.json")).unwrap();
    assert!(!stored.contains(&token), "the token itself is stored");
    let out = run(
        dir.path(),
        &config,
        &["token", "create", "bob", "--destination", "nowhere"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("nowhere"));
    let out = run(dir.path(), &config, &["token", "list"]);
    assert!(text(&out).contains("alice\tbureau") && !text(&out).contains(&token));
    let out = run(dir.path(), &config, &["token", "revoke", "alice"]);
    assert!(out.status.success(), "{}", text(&out));
    let tokens = meldpunt_server::tokens::Tokens::new(std::sync::Arc::new(
        meldpunt_server::storage::embedded::registry::FileRegistry::new(
            &dir.path().join("meldpunt-data"),
        ),
    ));
    assert!(rocket::tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(tokens.authenticate(&token))
        .unwrap()
        .is_none());

    let out = run(dir.path(), &config, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 entries"), "{}", text(&out));
    // Alter one entry: verify names it.
    let path = dir.path().join("meldpunt-data/audit.jsonl");
    let log = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        log.replacen("\"token_revoked\"", "\"token_created\"", 1),
    )
    .unwrap();
    let out = run(dir.path(), &config, &["audit", "verify"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("broken at entry 1"), "{}", text(&out));
}
