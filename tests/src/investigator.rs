//! An investigator at work with the real `meldpunt` CLI: a bundle with the bureau's key
//! pinned, a token file, and the commands the tests use.

use std::fs;
use std::path::PathBuf;

use crate::{meldpunt_ok, Site};

/// An investigator of the site's bureau destination.
pub struct Investigator {
    work: tempfile::TempDir,
    server: String,
    key: PathBuf,
}

impl Investigator {
    /// A new bundle with the bureau's recipient pinned, and `token` saved to a file.
    pub fn new(site: &Site, token: &str) -> Self {
        let work = tempfile::tempdir().expect("a temporary directory");
        fs::write(work.path().join("token.txt"), token).expect("token file");
        let inv = Self {
            work,
            server: site.url(""),
            key: site.bureau_key_file(),
        };
        inv.run(&[
            "pin",
            &inv.bundle_arg(),
            "bureau",
            site.bureau_key.recipient().as_str(),
        ]);
        inv
    }

    fn bundle_arg(&self) -> String {
        self.bundle().to_string_lossy().into_owned()
    }

    fn run(&self, args: &[&str]) -> String {
        meldpunt_ok(args)
    }

    /// The investigator's own directory (bundle, decrypted cases, token): on the offline
    /// laptop, never on the server.
    pub fn dir(&self) -> &std::path::Path {
        self.work.path()
    }

    /// The bundle directory.
    pub fn bundle(&self) -> PathBuf {
        self.work.path().join("bundle")
    }

    /// Where `open` writes decrypted cases.
    pub fn out(&self) -> PathBuf {
        self.work.path().join("out")
    }

    /// The key file.
    pub fn key(&self) -> &std::path::Path {
        &self.key
    }

    /// Runs a command that talks to the server (`pull`, `push`) with the token file.
    fn online(&self, command: &str) -> std::process::Output {
        let token = self.work.path().join("token.txt");
        crate::meldpunt(&[
            command,
            "--server",
            &self.server,
            "--token-file",
            token.to_str().unwrap(),
            &self.bundle_arg(),
        ])
    }

    /// Insists that `meldpunt command` succeeded; returns its standard output.
    fn succeeded(command: &str, out: std::process::Output) -> String {
        assert!(
            out.status.success(),
            "meldpunt {command} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `meldpunt pull`.
    pub fn pull(&self) -> String {
        Self::succeeded("pull", self.online("pull"))
    }

    /// `meldpunt pull` that may fail: whether it succeeded, and what it printed (both
    /// streams).
    pub fn try_pull(&self) -> (bool, String) {
        let out = self.online("pull");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// `meldpunt push`.
    pub fn push(&self) -> String {
        Self::succeeded("push", self.online("push"))
    }

    /// `meldpunt cases`.
    pub fn cases(&self) -> String {
        self.run(&["cases", &self.bundle_arg()])
    }

    /// `meldpunt open` (replacing an earlier decrypted copy); returns the case's folder.
    pub fn open(&self, case: &str) -> PathBuf {
        self.open_printing(case).0
    }

    /// `meldpunt open`, as [`Investigator::open`]; returns the case's folder and what
    /// `open` printed.
    pub fn open_printing(&self, case: &str) -> (PathBuf, String) {
        let out = self.out();
        let printed = self.run(&[
            "open",
            case,
            "-i",
            self.key.to_str().unwrap(),
            &self.bundle_arg(),
            "-o",
            out.to_str().unwrap(),
            "--replace",
        ]);
        (out.join(case), printed)
    }

    /// A file of the case's decrypted folder, as text.
    pub fn read(&self, case: &str, file: &str) -> String {
        fs::read_to_string(self.out().join(case).join(file))
            .unwrap_or_else(|e| panic!("{case}/{file}: {e}"))
    }

    /// `meldpunt reply` with `text`, optionally announcing a status.
    pub fn reply(&self, case: &str, text: &str, status: Option<&str>) {
        let file = self.work.path().join("message.txt");
        fs::write(&file, text).expect("message file");
        let bundle = self.bundle_arg();
        let mut args = vec![
            "reply",
            case,
            "-i",
            self.key.to_str().unwrap(),
            &bundle,
            "--message-file",
            file.to_str().unwrap(),
        ];
        if let Some(s) = status {
            args.extend(["--status", s]);
        }
        self.run(&args);
    }

    /// `meldpunt status`.
    pub fn status(&self, case: &str, status: &str) {
        self.run(&["status", case, status, &self.bundle_arg()]);
    }
}
