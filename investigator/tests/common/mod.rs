//! Test helpers: an investigator with a key and a bundle, and cases made the way the
//! reporter's browser and the server make them (with meldpunt-crypto, written in the
//! bundle format of docs/BUNDLE.md).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use meldpunt_crypto::{
    encrypt_attachment, open_message, seal_from_reporter, seal_report, seal_to_reporter,
    AttachmentEntry, CaseStatus, Category, Day, Destination, Direction, EncryptedBy,
    InvestigatorKey, ReportContent, ReporterKeys, ReturnCode, ThreadSecrets, ThreadState,
};
use meldpunt_wire::{CaseFile, CaseManifest, CaseNumber, CaseSummary, FileEntry};
use tempfile::TempDir;
use zeroize::Zeroizing;

/// The day the test reports are written.
pub const DAY: &str = "2026-11-02";

pub fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

/// One investigator's offline machine.
pub struct Env {
    pub dir: TempDir,
    pub key: InvestigatorKey,
    pub colleague: InvestigatorKey,
    pub key_file: PathBuf,
    pub bundle: PathBuf,
    pub out: PathBuf,
    /// The bureau: this investigator and a colleague.
    pub bureau: Destination,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = InvestigatorKey::generate();
        let colleague = InvestigatorKey::generate();
        let key_file = dir.path().join("key.txt");
        fs::write(&key_file, key.to_key_file(day(DAY)).as_bytes()).unwrap();
        let bureau =
            Destination::from_recipients("bureau", vec![key.recipient(), colleague.recipient()])
                .unwrap();
        Env {
            bundle: dir.path().join("bundle"),
            out: dir.path().join("out"),
            dir,
            key,
            colleague,
            key_file,
            bureau,
        }
    }

    /// A new environment whose bureau recipients are already pinned.
    pub fn pinned() -> Self {
        let env = Env::new();
        env.pin_bureau();
        env
    }

    pub fn pin_bureau(&self) {
        let mut cmd = self.cmd();
        cmd.arg("pin").arg(&self.bundle).arg("bureau");
        for r in self.bureau.recipients() {
            cmd.arg(r.as_str());
        }
        cmd.assert().success();
    }

    /// The meldpunt binary, run in the test's folder with a clean environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("meldpunt").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("MELDPUNT_PASSPHRASE")
            .env_remove("EDITOR")
            .env_remove("VISUAL");
        cmd
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A report with these attachments, encrypted to `to` (normally the bureau).
    pub fn case(
        &self,
        id: &str,
        to: &Destination,
        contact: Option<&str>,
        attachments: &[(&str, &[u8])],
    ) -> Case {
        Case::new(&self.bundle, id, to, contact, attachments)
    }
}

/// A case in the bundle, and the reporter behind it.
pub struct Case {
    pub id: String,
    pub dir: PathBuf,
    pub code: ReturnCode,
    pub keys: ReporterKeys,
    pub to: Destination,
    pub received: Day,
    /// The thread as the bureau sees it (it can read both directions).
    pub state: ThreadState,
    pub report_sha256: [u8; 32],
    pub messages: usize,
    /// The files the server lists in case.json: the report and the attachments.
    pub files: Vec<FileEntry>,
    pub status: CaseStatus,
}

pub const DESCRIPTION: &str = "Collega X zocht het dossier van zijn buurman op zonder reden.";
pub const CONTACT: &str = "Jan Jansen, 06-12345678";

impl Case {
    pub fn new(
        bundle: &Path,
        id: &str,
        to: &Destination,
        contact: Option<&str>,
        attachments: &[(&str, &[u8])],
    ) -> Case {
        Case::with_records(bundle, id, to, contact, attachments, &[])
    }

    /// As [`Case::new`], with what the reporter's page recorded about each attachment's
    /// hidden data (`records[i]` for attachment `i`; missing ones have no record).
    pub fn with_records(
        bundle: &Path,
        id: &str,
        to: &Destination,
        contact: Option<&str>,
        attachments: &[(&str, &[u8])],
        records: &[Option<meldpunt_crypto::MetadataRecord>],
    ) -> Case {
        let dir = bundle.join("cases").join(id);
        fs::create_dir_all(dir.join("attachments")).unwrap();
        fs::create_dir_all(dir.join("thread")).unwrap();
        let code = ReturnCode::generate(&mut rand::rngs::OsRng);
        let keys = ReporterKeys::derive_from(&code);
        let mut entries = Vec::new();
        let mut files = Vec::new();
        for (i, (name, bytes)) in attachments.iter().enumerate() {
            let file = CaseFile::Attachment(i as u32);
            let mut out = Vec::new();
            let digest =
                encrypt_attachment(to.recipients(), *bytes, bytes.len() as u64, &mut out).unwrap();
            fs::write(dir.join(file.to_path()), &out).unwrap();
            let mut entry = AttachmentEntry::new((*name).to_owned(), bytes.len() as u64, &digest);
            entry.metadata = records.get(i).cloned().flatten();
            entries.push(entry);
            files.push(FileEntry {
                path: file,
                sha256: hex::encode(digest.sha256),
                size: digest.size,
            });
        }
        let content = ReportContent {
            category: Category::SystemLookup,
            concerning: "Collega X, afdeling Y".into(),
            description: DESCRIPTION.into(),
            when_where: "Oktober, kantoor Den Haag".into(),
            contact: contact.map(str::to_owned),
            attachments: entries,
            date: day(DAY),
            encrypted_by: EncryptedBy::Browser,
        };
        let report = seal_report(&content, &keys, to).unwrap();
        fs::write(dir.join(CaseFile::Report.to_path()), &report).unwrap();
        let report_sha256 = meldpunt_crypto::ciphertext_hash(&report);
        files.insert(
            0,
            FileEntry {
                path: CaseFile::Report,
                sha256: hex::encode(report_sha256),
                size: report.len() as u64,
            },
        );
        let case = Case {
            id: id.to_owned(),
            dir,
            code,
            keys,
            to: to.clone(),
            received: day(DAY),
            state: ThreadState::new(report_sha256),
            report_sha256,
            messages: 0,
            files,
            status: CaseStatus::Received,
        };
        case.write_meta();
        case
    }

    pub fn secrets(&self) -> ThreadSecrets {
        ThreadSecrets::from_reporter_keys(&self.keys)
    }

    /// The case as the server lists it.
    pub fn summary(&self) -> CaseSummary {
        CaseSummary {
            case: CaseNumber::parse(&self.id).expect("the tests' case numbers are valid"),
            destination: self.to.name.clone(),
            received: self.received,
            status: self.status,
            acknowledged: None,
            closed: None,
            acknowledge_by: self.received.add_days(7),
            feedback_by: self.received.add_days(7).add_months(3),
            retention_until: Some(self.received.add_months(24)),
            head: hex::encode(self.state.head()),
            updated: self.received,
            last_content: self.received,
            attachments: self.files.len() - 1,
            messages: self.messages,
        }
    }

    /// The server's case.json.
    pub fn write_meta(&self) {
        let manifest = CaseManifest {
            summary: self.summary(),
            files: self.files.clone(),
        };
        fs::write(
            self.dir.join(CaseFile::Manifest.to_path()),
            serde_json::to_vec_pretty(&manifest).unwrap(),
        )
        .unwrap();
    }

    fn push_thread(
        &mut self,
        direction: Direction,
        ciphertext: Vec<u8>,
        reader: &dyn age::Identity,
    ) {
        let message = open_message(&ciphertext, &[reader], &self.secrets()).unwrap();
        self.state.accept(&ciphertext, &message).unwrap();
        self.messages += 1;
        let file = CaseFile::Message(self.messages as u32, direction);
        fs::write(self.dir.join(file.to_path()), ciphertext).unwrap();
        self.write_meta();
    }

    /// The reporter answers (encrypted to the report's recipients, as the browser does).
    pub fn reporter_says(&mut self, text: &str, reader: &InvestigatorKey) {
        let draft = self.state.draft(
            Direction::FromReporter,
            day(DAY),
            Zeroizing::new(text.into()),
        );
        let ct = seal_from_reporter(&draft, &self.keys, &self.code, self.to.recipients()).unwrap();
        self.push_thread(Direction::FromReporter, ct, reader.as_age());
    }

    /// A colleague asked something earlier.
    pub fn bureau_says(&mut self, text: &str) {
        let draft = self
            .state
            .draft(Direction::ToReporter, day(DAY), Zeroizing::new(text.into()));
        let ct = seal_to_reporter(&draft, &self.secrets(), self.to.recipients()).unwrap();
        let reporter = self.keys.identity();
        self.push_thread(Direction::ToReporter, ct, &reporter);
    }

    /// Someone who knows the thread key (an insider) writes as if they were the reporter.
    pub fn forged_reporter_message(&mut self, text: &str) {
        let draft = self.state.draft(
            Direction::FromReporter,
            day(DAY),
            Zeroizing::new(text.into()),
        );
        let impostor = ReporterKeys::derive(ReturnCode::generate(&mut rand::rngs::OsRng));
        let ct = meldpunt_crypto::envelope::forge::reporter_message_signed_by(
            &draft,
            &self.secrets(),
            &impostor,
            self.to.recipients(),
        );
        self.messages += 1;
        let file = CaseFile::Message(self.messages as u32, Direction::FromReporter);
        fs::write(self.dir.join(file.to_path()), ct).unwrap();
    }
}

impl Case {
    /// The reporter reads a bureau message the server now holds, and keeps the thread.
    pub fn reporter_reads(&mut self, ciphertext: &[u8]) -> meldpunt_crypto::Message {
        let reporter = self.keys.identity();
        let m = open_message(ciphertext, &[&reporter], &self.secrets()).unwrap();
        self.state.accept(ciphertext, &m).unwrap();
        self.messages += 1;
        m
    }
}

pub mod fake_server;
