//! Shared parts of Meldpunt's end-to-end tests: a real `meldpunt-server` process with
//! its own data directory, the investigator's `meldpunt` CLI, and headless Chromium.
//!
//! The binaries are the ones `cargo test --workspace` builds (the server and the
//! investigator crates have integration tests, so cargo builds their binaries next to
//! this test's). A missing binary is an error with instructions, never a skip.
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use meldpunt_crypto::{Day, Destination, InvestigatorKey};

pub mod bench_page;
pub mod browser;
pub mod desk;
pub mod investigator;
pub mod reporter;
pub mod services;

pub use investigator::Investigator;
pub use reporter::{ApiReporter, Filed};

/// The directory that holds the workspace's debug binaries.
pub fn bin_dir() -> PathBuf {
    // This test runs from <target>/debug/deps/<test>-<hash>.
    let exe = std::env::current_exe().expect("the test knows where it runs");
    exe.parent()
        .and_then(Path::parent)
        .expect("tests run from <target>/debug/deps")
        .to_owned()
}

/// A workspace binary (`meldpunt-server`, `meldpunt`).
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is not built: run the whole suite with `cargo test --workspace` (scripts/test.sh)",
        path.display()
    );
    path
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port")
        .port()
}

/// An HTTP client that returns every status as a response.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// A response body as JSON.
pub fn json(resp: ureq::http::Response<ureq::Body>) -> serde_json::Value {
    let status = resp.status();
    let mut text = String::new();
    resp.into_body()
        .into_reader()
        .read_to_string(&mut text)
        .expect("a readable body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
}

/// A drop box: data directory, configuration, and the bureau's key (which, in a real
/// deployment, never comes near the server).
pub struct Site {
    dir: tempfile::TempDir,
    /// The bureau's investigator key.
    pub bureau_key: InvestigatorKey,
    /// The bureau destination.
    pub bureau: Destination,
    /// The port the server listens on.
    pub port: u16,
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

impl Site {
    /// A new site with one destination, "bureau".
    pub fn new() -> Self {
        Self::with_config("")
    }

    /// A new site whose configuration also has `settings` (TOML lines).
    pub fn with_settings(settings: &str) -> Self {
        Self::with_config(settings)
    }

    /// A new site with more configuration lines (TOML), such as the PostgreSQL
    /// backend's (`services::PgSite::toml`).
    pub fn with_config(extra: &str) -> Self {
        Self::make(InvestigatorKey::generate(), extra)
    }

    /// Another server instance of this site: its own scratch directory, port and
    /// configuration lines, the same bureau key.
    pub fn instance(&self, extra: &str) -> Self {
        let file = self.bureau_key.to_key_file(Day::today());
        let key = meldpunt_crypto::load_keys(file.as_bytes(), || None)
            .expect("the key file reads back")
            .remove(0);
        Self::make(key, extra)
    }

    fn make(bureau_key: InvestigatorKey, extra: &str) -> Self {
        // No disk reserve and a budget no test reaches, unless the test sets its own
        // (test machines' disks vary; the abuse tests set budgets).
        let mut settings = String::new();
        if !extra.contains("min_free_disk") {
            settings.push_str("min_free_disk = 0\n");
        }
        if !extra.contains("submissions_per_hour") {
            settings.push_str("submissions_per_hour = 100000\n");
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let bureau = Destination::from_recipients("bureau", vec![bureau_key.recipient()])
            .expect("one recipient");
        let port = free_port();
        let config = format!(
            "address = \"127.0.0.1\"\nport = {port}\ndata_dir = \"{}\"\n{settings}\n[[destinations]]\nname = \"bureau\"\n\
             description = \"Bureau Integriteit\"\npublished_at = \"example.org/integriteit\"\n\
             recipients = [\"{}\"]\n",
            dir.path().join("data").display(),
            bureau_key.recipient()
        );
        // Top-level keys go before the first table; a data_dir there replaces ours.
        let config = if extra.contains("data_dir") {
            let ours = format!("data_dir = \"{}\"\n", dir.path().join("data").display());
            format!("{extra}\n{}", config.replacen(&ours, "", 1))
        } else {
            format!("{extra}\n{config}")
        };
        std::fs::write(dir.path().join("Meldpunt.toml"), config).expect("config written");
        Self {
            dir,
            bureau_key,
            bureau,
            port,
        }
    }

    /// The scratch directory of this site (configuration, logs, the data directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The bureau's key as an age key file, written into the scratch directory.
    pub fn bureau_key_file(&self) -> PathBuf {
        let path = self.dir.path().join("bureau-key.txt");
        if !path.exists() {
            std::fs::write(&path, self.bureau_key.to_key_file(Day::today()).as_bytes())
                .expect("key file written");
        }
        path
    }

    /// A URL on this site.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Runs a `meldpunt-server` command (`token`, `audit`, …) on this site.
    pub fn server_cli(&self, args: &[&str]) -> Output {
        self.server_command()
            .args(args)
            .output()
            .expect("meldpunt-server runs")
    }

    fn server_command(&self) -> Command {
        let mut cmd = Command::new(binary("meldpunt-server"));
        cmd.env("MELDPUNT_CONFIG", self.dir.path().join("Meldpunt.toml"))
            .env_remove("MELDPUNT_DATA_DIR")
            .env_remove("MELDPUNT_PORT")
            .env_remove("MELDPUNT_ADDRESS");
        cmd
    }

    fn log(&self, name: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(name))
            .expect("log file")
    }

    /// Everything the server printed, over all runs.
    pub fn logs(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for name in ["server.out", "server.err"] {
            if let Ok(bytes) = std::fs::read(self.dir.path().join(name)) {
                out.extend(bytes);
            }
        }
        out
    }

    /// A new investigator token for `destination`.
    pub fn token(&self, name: &str, destination: &str) -> String {
        let out = self
            .server_command()
            .args(["token", "create", name, "--destination", destination])
            .output()
            .expect("meldpunt-server runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("text")
            .trim()
            .to_owned()
    }

    /// Starts the server and waits until it answers.
    pub fn start(&self) -> Server {
        let child = self
            .server_command()
            .stdout(self.log("server.out"))
            .stderr(self.log("server.err"))
            .spawn()
            .expect("meldpunt-server starts");
        let server = Server(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while agent()
            .get(&self.url("/api/v1/destinations"))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

/// A running server process; killed when dropped.
pub struct Server(Child);

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Stops the server the ordinary way (SIGTERM, as `systemctl stop` does) and waits
    /// until it has exited cleanly.
    pub fn stop(mut self) {
        let pid = self.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs")
            .success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.0.try_wait().expect("the server can be waited for") {
                assert!(status.success(), "the server stopped with {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every regular file under `dir` with its bytes, for scans of what reached a disk. Sockets
/// (the server's `snapshot.sock`) and other special files hold no bytes and are left out;
/// reading one fails.
pub fn stored_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let kind = e.file_type().unwrap();
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p, bytes));
            }
        }
    }
    out
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Resets the kernel's peak (VmHWM) of a process to its current VmRSS.
pub fn reset_peak(pid: u32) -> Result<(), String> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .map_err(|e| format!("resetting VmHWM: {e}"))
}

/// Runs the investigator's `meldpunt` CLI.
pub fn meldpunt(args: &[&str]) -> Output {
    Command::new(binary("meldpunt"))
        .args(args)
        .env_remove("MELDPUNT_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .expect("meldpunt runs")
}

/// Runs `meldpunt` and insists that it succeeds; returns its standard output.
pub fn meldpunt_ok(args: &[&str]) -> String {
    let out = meldpunt(args);
    assert!(
        out.status.success(),
        "meldpunt {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
