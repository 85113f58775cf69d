//! An investigator at work with the real `meldpunt` CLI: a bundle with the bureau's key
//! pinned, a token file, and the commands the tests use.

use std::fs;
use std::path::PathBuf;

use meldpunt_crypto::{
    ciphertext_hash, open_message, open_report, seal_to_reporter, Day, Direction, OpenedReport,
    ThreadState,
};
use zeroize::Zeroizing;

use crate::{agent, json, meldpunt_ok, Site};

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

/// The bureau writing to a case's thread through the API with the crypto crate (no CLI):
/// for filling threads quickly, each message as large as `max_message` allows. Message
/// `n`'s text begins "Message n: ".
pub struct BureauWriter {
    opened: OpenedReport,
    state: ThreadState,
    /// Characters of text per message: the most whose age file fits in `max_message`.
    text_len: usize,
    /// SHA-256 of every message posted, in order.
    pub hashes: Vec<[u8; 32]>,
}

impl BureauWriter {
    /// A writer for the case whose report is `report` (its age file, as filed).
    pub fn new(site: &Site, report: &[u8], max_message: usize) -> Result<Self, String> {
        let opened = open_report(report, &[site.bureau_key.as_age()]).map_err(|e| e.to_string())?;
        let state = ThreadState::new(opened.ciphertext_sha256);
        let mut b = Self {
            opened,
            state,
            text_len: max_message,
            hashes: Vec::new(),
        };
        // Shrink the text until its age file fits (padding rounds sizes up in steps).
        loop {
            let size = b.seal(site, 0)?.len();
            if size <= max_message {
                return Ok(b);
            }
            b.text_len -= (size - max_message) + 256;
        }
    }

    fn seal(&self, site: &Site, n: usize) -> Result<Vec<u8>, String> {
        let mut text = format!("Message {n}: ");
        text.extend(std::iter::repeat_n(
            'x',
            self.text_len.saturating_sub(text.len()),
        ));
        let draft = self
            .state
            .draft(Direction::ToReporter, Day::today(), Zeroizing::new(text));
        seal_to_reporter(&draft, &self.opened.thread, site.bureau.recipients())
            .map_err(|e| e.to_string())
    }

    /// Posts messages to case `case` with `token` until the thread holds `until`; returns
    /// the bytes posted.
    pub fn fill(
        &mut self,
        site: &Site,
        token: &str,
        case: &str,
        until: usize,
    ) -> Result<u64, String> {
        let a = agent();
        let url = site.url(&format!("/api/v1/cases/{case}/messages"));
        let mut bytes = 0;
        while self.hashes.len() < until {
            let ct = self.seal(site, self.hashes.len() + 1)?;
            let resp = a
                .post(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .header("Meldpunt-Extends", &hex::encode(self.state.head()))
                .send(&ct[..])
                .map_err(|e| e.to_string())?;
            if resp.status() != 201 {
                return Err(format!(
                    "message {}: {}: {}",
                    self.hashes.len() + 1,
                    resp.status(),
                    json(resp)
                ));
            }
            let msg = open_message(&ct, &[site.bureau_key.as_age()], &self.opened.thread)
                .map_err(|e| e.to_string())?;
            self.state.accept(&ct, &msg).map_err(|e| e.to_string())?;
            self.hashes.push(ciphertext_hash(&ct));
            bytes += ct.len() as u64;
        }
        Ok(bytes)
    }
}
