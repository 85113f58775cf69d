//! For the unit tests: a bundle with one real case in it, made the way the reporter's
//! browser and the server make them, and the thread written as the server would.
// Test scaffolding: a setup that fails should stop the test at once, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use meldpunt_crypto::{
    ciphertext_hash, open_message, seal_from_reporter, seal_report, seal_to_reporter, CaseStatus,
    Category, Day, Destination, Direction, EncryptedBy, InvestigatorKey, ReportContent,
    ReporterKeys, ReturnCode, ThreadSecrets, ThreadState,
};
use meldpunt_wire::{CaseFile, CaseManifest, CaseNumber, CaseSummary, FileEntry};
use tempfile::TempDir;
use zeroize::Zeroizing;

use crate::bundle::{write_json, Bundle};
use crate::keys::LoadedKeys;
use crate::pins::pin_destination;

/// The day everything happens.
pub fn day() -> Day {
    Day::parse("2026-11-02").unwrap()
}

/// One investigator, a bundle, and one case in it.
pub struct Kit {
    /// The temporary folder everything is in (removed when the kit drops).
    _dir: TempDir,
    pub bundle: Bundle,
    pub keys: LoadedKeys,
    pub bureau: Destination,
    pub case: CaseNumber,
    pub code: ReturnCode,
    pub reporter: ReporterKeys,
    /// The thread as the bureau and the reporter together know it.
    pub state: ThreadState,
    pub report: Vec<u8>,
    pub messages: u32,
}

impl Kit {
    /// A case with a report to the bureau (this investigator and a colleague), pinned
    /// or not.
    pub fn new(pinned: bool) -> Kit {
        Kit::with_contact(pinned, None)
    }

    /// Like [`Kit::new`], the reporter giving `contact` details.
    pub fn with_contact(pinned: bool, contact: Option<&str>) -> Kit {
        let dir = tempfile::tempdir().unwrap();
        let key = InvestigatorKey::generate();
        let colleague = InvestigatorKey::generate();
        let bureau =
            Destination::from_recipients("bureau", vec![key.recipient(), colleague.recipient()])
                .unwrap();
        let keys = LoadedKeys::from_keys(vec![key], dir.path().join("key.txt"));
        let bundle = Bundle::create(&dir.path().join("bundle")).unwrap();
        if pinned {
            let texts: Vec<String> = bureau
                .recipients()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect();
            pin_destination(bundle.root(), "bureau", &texts, day()).unwrap();
        }
        let code = ReturnCode::generate(&mut rand::rngs::OsRng);
        let reporter = ReporterKeys::derive_from(&code);
        let content = ReportContent {
            category: Category::Fraud,
            concerning: "X".into(),
            description: "Invoices paid twice.".into(),
            when_where: "October".into(),
            contact: contact.map(str::to_owned),
            attachments: vec![],
            date: day(),
            encrypted_by: EncryptedBy::Browser,
        };
        let report = seal_report(&content, &reporter, &bureau).unwrap();
        let case = CaseNumber::parse("MP-7KQ2M9XD4A").unwrap();
        fs::create_dir_all(bundle.case_dir(&case).join("thread")).unwrap();
        fs::write(bundle.case_file(&case, CaseFile::Report), &report).unwrap();
        let kit = Kit {
            state: ThreadState::new(ciphertext_hash(&report)),
            _dir: dir,
            bundle,
            keys,
            bureau,
            case,
            code,
            reporter,
            report,
            messages: 0,
        };
        kit.write_manifest();
        kit
    }

    pub fn secrets(&self) -> ThreadSecrets {
        ThreadSecrets::from_reporter_keys(&self.reporter)
    }

    /// The server's `case.json`, its head at the last message written.
    pub fn write_manifest(&self) {
        let manifest = CaseManifest {
            summary: CaseSummary {
                case: self.case.clone(),
                destination: "bureau".into(),
                received: day(),
                status: CaseStatus::Received,
                acknowledged: None,
                closed: None,
                acknowledge_by: day().add_days(7),
                feedback_by: day().add_days(7).add_months(3),
                retention_until: None,
                head: hex::encode(self.state.head()),
                updated: day(),
                last_content: day(),
                attachments: 0,
                messages: self.messages as usize,
            },
            files: vec![FileEntry {
                path: CaseFile::Report,
                sha256: hex::encode(ciphertext_hash(&self.report)),
                size: self.report.len() as u64,
            }],
        };
        write_json(
            &self.bundle.case_file(&self.case, CaseFile::Manifest),
            &manifest,
        )
        .unwrap();
    }

    /// Writes the next thread file as the server names it.
    pub fn add_message(&mut self, direction: Direction, ciphertext: &[u8]) -> CaseFile {
        self.messages += 1;
        let file = CaseFile::Message(self.messages, direction);
        fs::write(self.bundle.case_file(&self.case, file), ciphertext).unwrap();
        self.write_manifest();
        file
    }

    /// A bureau message on top of the thread.
    pub fn bureau_says(&mut self, text: &str) -> Vec<u8> {
        let draft = self
            .state
            .draft(Direction::ToReporter, day(), Zeroizing::new(text.into()));
        let ct = seal_to_reporter(&draft, &self.secrets(), self.bureau.recipients()).unwrap();
        let m = open_message(&ct, &[&self.reporter.identity()], &self.secrets()).unwrap();
        self.state.accept(&ct, &m).unwrap();
        self.add_message(Direction::ToReporter, &ct);
        ct
    }

    /// The reporter answers, encrypted to the bureau.
    pub fn reporter_says(&mut self, text: &str) -> Vec<u8> {
        let draft = self
            .state
            .draft(Direction::FromReporter, day(), Zeroizing::new(text.into()));
        let ct = seal_from_reporter(&draft, &self.reporter, &self.code, self.bureau.recipients())
            .unwrap();
        let m = open_message(&ct, &self.keys.identities(), &self.secrets()).unwrap();
        self.state.accept(&ct, &m).unwrap();
        self.add_message(Direction::FromReporter, &ct);
        ct
    }
}
