//! Opening a case: decrypting and verifying everything the bundle holds for it into one
//! typed value, [`OpenedCase`] — the report with its pin check and warnings, every
//! thread item verified or not, the attachments located (and, after
//! [`OpenedCase::save_attachments`], decrypted and checked) — without writing any
//! document or printing anything. `meldpunt open` renders it (see [`crate::render`]);
//! another front end can show it its own way.
//!
//! Checks never stop at the first failure and never hide one: [`OpenedCase::problems`]
//! lists every problem found, in a fixed order.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use meldpunt_wire::CaseNumber;

use crate::attachments::{self, Attachment, AttachmentCheck};
use crate::bundle::{Bundle, BundleError};
use crate::keys::LoadedKeys;
use crate::report::{open_case_report, CaseReport, ReportError};
use crate::thread::{read_thread, CaseThread};

/// Why a case could not be opened at all (problems with parts of it are not errors:
/// they are in [`OpenedCase::problems`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenCaseError {
    /// The bundle could not be read.
    Bundle(BundleError),
    /// The report could not be opened.
    Report(ReportError),
    /// A folder for the attachments could not be made.
    Write {
        /// The folder.
        path: PathBuf,
        /// The system's error.
        error: io::Error,
    },
}

impl fmt::Display for OpenCaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenCaseError::Bundle(e) => e.fmt(f),
            OpenCaseError::Report(e) => e.fmt(f),
            OpenCaseError::Write { path, error } => {
                write!(f, "could not write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for OpenCaseError {}

impl From<BundleError> for OpenCaseError {
    fn from(e: BundleError) -> Self {
        OpenCaseError::Bundle(e)
    }
}

impl From<ReportError> for OpenCaseError {
    fn from(e: ReportError) -> Self {
        OpenCaseError::Report(e)
    }
}

/// A case, decrypted and verified as far as it goes.
pub struct OpenedCase {
    /// The report, its pin check and its warnings.
    pub report: CaseReport,
    /// The thread, every message verified or not.
    pub thread: CaseThread,
    /// The report's attachments.
    pub attachments: Vec<Attachment>,
    /// Files in the case's `attachments/` folder the report does not name (not opened).
    pub unnamed_files: Vec<String>,
}

/// Decrypts and verifies a case's report and thread, and finds its attachments (not
/// decrypted yet: see [`OpenedCase::save_attachments`]).
pub fn open_case(
    bundle: &Bundle,
    case: &CaseNumber,
    keys: &LoadedKeys,
) -> Result<OpenedCase, OpenCaseError> {
    let report = open_case_report(bundle, case, keys)?;
    let thread = read_thread(&report, keys)?;
    let attachments = attachments::locate(&report.opened.content.attachments, &report.manifest);
    let unnamed_files = attachments::unnamed_files(&report.dir, &attachments);
    Ok(OpenedCase {
        report,
        thread,
        attachments,
        unnamed_files,
    })
}

impl OpenedCase {
    /// The case number.
    pub fn case(&self) -> &CaseNumber {
        &self.report.case
    }

    /// The reporter's contact details, if they gave any: identifying, to be kept apart
    /// from everything else.
    pub fn contact(&self) -> Option<&str> {
        self.report
            .opened
            .content
            .contact
            .as_deref()
            .filter(|c| !c.trim().is_empty())
    }

    /// Decrypts every attachment into `folder` under safe names, each checked against
    /// the report; what became of each is in [`Attachment::check`].
    pub fn save_attachments(
        &mut self,
        keys: &LoadedKeys,
        folder: &Path,
    ) -> Result<(), OpenCaseError> {
        attachments::save_all(&mut self.attachments, &self.report.dir, keys, folder)
            .map_err(|(path, error)| OpenCaseError::Write { path, error })
    }

    /// Decrypts the attachment at `index` into `folder`, under the name
    /// [`OpenedCase::save_attachments`] would give it, checked against the report; what
    /// became of it is in its [`Attachment::check`].
    pub fn save_attachment(
        &mut self,
        index: usize,
        keys: &LoadedKeys,
        folder: &Path,
    ) -> Result<(), OpenCaseError> {
        attachments::save_at(&mut self.attachments, index, &self.report.dir, keys, folder)
            .map_err(|(path, error)| OpenCaseError::Write { path, error })
    }

    /// Looks at every saved attachment in `folder` again for identifying metadata it
    /// still carries, and writes copies without it to `shareable` (see
    /// [`crate::documents`]); what was found is in each [`Attachment::hidden`]. Never a
    /// problem of the case: the documents are what the reporter sent.
    pub fn check_documents(&mut self, folder: &Path, shareable: &Path) {
        for a in &mut self.attachments {
            if let AttachmentCheck::Saved { name } = &a.check {
                a.hidden = Some(crate::documents::check_document(folder, name, shareable));
            }
        }
    }

    /// How many attachments verified and were saved.
    pub fn attachments_saved(&self) -> usize {
        self.attachments
            .iter()
            .filter(|a| a.saved_as().is_some())
            .count()
    }

    /// Every problem found, most fundamental first: the recipients, the report, the
    /// attachments, the thread's messages, the thread as a whole, doubts about messages
    /// that verify. Each says what it concerns, so a front end can show it next to that
    /// part of the case; a new check belongs here (and nowhere else), and then every
    /// front end shows it.
    pub fn findings(&self) -> Vec<Finding> {
        let mut found: Vec<Finding> = Vec::new();
        let mut add = |concern: Concern, text: String| found.push(Finding { concern, text });
        if let Some(w) = self.report.pins.warning() {
            add(Concern::Recipients, w);
        }
        for w in &self.report.warnings {
            add(Concern::Report, w.clone());
        }
        for (i, a) in self.attachments.iter().enumerate() {
            if let AttachmentCheck::Failed { why } = &a.check {
                add(
                    Concern::Attachment(i),
                    format!(
                        "attachment {} (\"{}\", {}): {why}",
                        i + 1,
                        printable(&a.entry.name),
                        a.file
                    ),
                );
            }
        }
        for name in &self.unnamed_files {
            add(
                Concern::Bundle,
                format!("{name} is in the bundle but the report does not name it: not opened"),
            );
        }
        for (i, item) in self.thread.items.iter().enumerate() {
            if let Err(why) = &item.result {
                add(Concern::Message(i), format!("{}: {why}", item.file));
            }
        }
        for note in &self.thread.notes {
            add(Concern::Thread, format!("thread: {note}"));
        }
        for (i, item) in self.thread.items.iter().enumerate() {
            for w in &item.warnings {
                add(Concern::Message(i), format!("{}: {w}", item.file));
            }
        }
        found
    }

    /// Every problem found ([`OpenedCase::findings`]) as text, in the same order.
    pub fn problems(&self) -> Vec<String> {
        self.findings().into_iter().map(|f| f.text).collect()
    }
}

/// What a problem found in a case concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Concern {
    /// The keys the report was encrypted to, against the pins.
    Recipients,
    /// The report itself (its age header, the server's word about it).
    Report,
    /// One attachment (index into [`OpenedCase::attachments`]).
    Attachment(usize),
    /// Files in the bundle's case folder that belong to nothing.
    Bundle,
    /// One message of the thread (index into the thread's items).
    Message(usize),
    /// The thread as a whole.
    Thread,
}

/// One problem found in a case: what it concerns and what to tell the investigator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it concerns.
    pub concern: Concern,
    /// The sentence for the investigator.
    pub text: String,
}

/// A reporter's text shown on one line: control characters made visible.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Kit;
    use meldpunt_crypto::Direction;
    use std::fs;

    #[test]
    fn an_opened_case_is_data_and_lists_every_problem_in_order() {
        let mut kit = Kit::new(false);
        kit.bureau_says("Question?");
        let mut forged = kit.bureau_says("Second question?");
        let last = forged.len() - 1;
        forged[last] ^= 1;
        fs::write(
            kit.bundle.case_file(
                &kit.case,
                meldpunt_wire::CaseFile::Message(2, Direction::ToReporter),
            ),
            &forged,
        )
        .unwrap();
        let attachments = kit.bundle.case_dir(&kit.case).join("attachments");
        fs::create_dir_all(&attachments).unwrap();
        fs::write(attachments.join("000.age"), "not named").unwrap();

        let opened = open_case(&kit.bundle, &kit.case, &kit.keys).unwrap();
        assert_eq!(opened.case(), &kit.case);
        assert_eq!(
            opened.report.opened.content.description,
            "Invoices paid twice."
        );
        assert!(opened.contact().is_none());
        assert!(opened.attachments.is_empty());
        assert_eq!(opened.thread.verified(), 1);
        let problems = opened.problems();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("no recipients are pinned"));
        assert_eq!(
            problems[1],
            "attachments/000.age is in the bundle but the report does not name it: not opened"
        );
        assert!(
            problems[2].starts_with("thread/0002-to_reporter.age: "),
            "{}",
            problems[2]
        );
        // Each problem says what it concerns, so it can be shown beside it.
        let concerns: Vec<Concern> = opened.findings().iter().map(|f| f.concern).collect();
        assert_eq!(
            concerns,
            [Concern::Recipients, Concern::Bundle, Concern::Message(1)]
        );
    }

    #[test]
    fn a_case_the_key_cannot_open_is_an_error() {
        let kit = Kit::new(true);
        let stranger = LoadedKeys::from_keys(
            vec![meldpunt_crypto::InvestigatorKey::generate()],
            "stranger.txt".into(),
        );
        assert!(matches!(
            open_case(&kit.bundle, &kit.case, &stranger),
            Err(OpenCaseError::Report(ReportError::NotForThisKey { .. }))
        ));
        let other = CaseNumber::parse("MP-AAAAAAAAAA").unwrap();
        assert!(matches!(
            open_case(&kit.bundle, &other, &kit.keys),
            Err(OpenCaseError::Report(ReportError::Bundle(
                BundleError::UnknownCase { .. }
            )))
        ));
    }
}
