//! A case as the investigators' API shows it, and the case download (a tar of the
//! case's age files with a `case.json` manifest; docs/BUNDLE.md).

use std::fmt;

use meldpunt_crypto::{CaseStatus, Day, Direction};
use serde::{Deserialize, Serialize};

use crate::CaseNumber;

/// Size and SHA-256 (hex) of a stored age file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    /// SHA-256 of the age file, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Digest {
    /// The digest of bytes in memory.
    pub fn of(bytes: &[u8]) -> Self {
        Digest {
            sha256: hex::encode(meldpunt_crypto::ciphertext_hash(bytes)),
            size: bytes.len() as u64,
        }
    }
}

/// A case as investigators see it (`GET /api/v1/cases`): metadata and deadlines, no
/// content. Everything here is the server's word, used for deadlines and to find files;
/// nothing in it is believed about the report itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CaseSummary {
    /// The case number.
    pub case: CaseNumber,
    /// The destination the report was sent to.
    pub destination: String,
    /// The day the report arrived.
    pub received: Day,
    /// Where the case stands on the server.
    pub status: CaseStatus,
    /// The day it was first set to acknowledged (or beyond).
    pub acknowledged: Option<Day>,
    /// The day it was closed.
    pub closed: Option<Day>,
    /// Acknowledgement due (7 days after receipt).
    pub acknowledge_by: Day,
    /// Feedback due (3 months after the acknowledgement, or after day 7).
    pub feedback_by: Day,
    /// The day the server deletes the closed case.
    pub retention_until: Option<Day>,
    /// SHA-256 (hex) of the last age file in the thread, or of the report.
    pub head: String,
    /// The last day anything changed.
    pub updated: Day,
    /// The last day new content (report or message) arrived.
    pub last_content: Day,
    /// How many attachments.
    pub attachments: usize,
    /// How many messages in the thread.
    pub messages: usize,
}

/// `case.json` in a case download: the summary and every file with its hash.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CaseManifest {
    /// The case.
    #[serde(flatten)]
    pub summary: CaseSummary,
    /// The files of the download.
    pub files: Vec<FileEntry>,
}

/// One file of a case download.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Which file.
    pub path: CaseFile,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The body of `POST /api/v1/cases/{case}/status`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// The new status.
    pub status: CaseStatus,
}

/// A file of a case download, by what it is. Its path inside the case folder is
/// [`CaseFile::to_path`]; nothing else is a file of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaseFile {
    /// `case.json`: the manifest.
    Manifest,
    /// `report.age`.
    Report,
    /// `attachments/000.age`: attachment n (from 0, in upload order).
    Attachment(u32),
    /// `thread/0001-to_reporter.age`: message n of the thread (from 1), with the
    /// direction the server records (a label: the envelope tells the truth).
    Message(u32, Direction),
}

impl CaseFile {
    /// The path inside the case folder (and the tar).
    pub fn to_path(self) -> String {
        match self {
            CaseFile::Manifest => "case.json".to_owned(),
            CaseFile::Report => "report.age".to_owned(),
            CaseFile::Attachment(n) => format!("attachments/{n:03}.age"),
            CaseFile::Message(n, direction) => {
                format!("thread/{n:04}-{}.age", direction.as_str())
            }
        }
    }

    /// The file a path names, if it is one the download format has. A leading `./` is
    /// allowed (as tar writes it); anything else that is not exactly such a path —
    /// another folder, `..`, a suffix — is refused.
    pub fn parse(path: &str) -> Option<Self> {
        let path = path.strip_prefix("./").unwrap_or(path);
        match path.split_once('/') {
            None => match path {
                "case.json" => Some(CaseFile::Manifest),
                "report.age" => Some(CaseFile::Report),
                _ => None,
            },
            Some(("attachments", file)) => {
                let n = file.strip_suffix(".age")?;
                (n.len() >= 3 && n.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| n.parse().ok().map(CaseFile::Attachment))
                    .flatten()
            }
            Some(("thread", file)) => {
                let (number, direction) = file.strip_suffix(".age")?.split_once('-')?;
                if number.len() < 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                Some(CaseFile::Message(
                    number.parse().ok()?,
                    Direction::parse(direction)?,
                ))
            }
            _ => None,
        }
    }
}

impl fmt::Display for CaseFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_path())
    }
}

impl Serialize for CaseFile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_path())
    }
}

impl<'de> Deserialize<'de> for CaseFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        CaseFile::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "\"{}\" is not a file of a case download",
                text.chars().take(80).collect::<String>()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_nothing_else_parses() {
        for file in [
            CaseFile::Manifest,
            CaseFile::Report,
            CaseFile::Attachment(0),
            CaseFile::Attachment(12),
            CaseFile::Attachment(1234),
            CaseFile::Message(1, Direction::ToReporter),
            CaseFile::Message(42, Direction::FromReporter),
            CaseFile::Message(12345, Direction::ToReporter),
        ] {
            assert_eq!(CaseFile::parse(&file.to_path()), Some(file), "{file}");
        }
        assert_eq!(CaseFile::parse("./report.age"), Some(CaseFile::Report));
        for bad in [
            "../report.age",
            "/etc/passwd",
            "attachments/../../x.age",
            "attachments/000.age/x",
            "attachments/.age",
            "attachments/+01.age",
            "thread/0001-sideways.age",
            "thread/../../0001-to_reporter.age",
            "thread/001-to_reporter.age",
            "report.age.sh",
            "note.age",
            "",
        ] {
            assert!(CaseFile::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_manifest_reads_what_the_server_writes() {
        let json = r#"{"case":"MP-7KQ2M9XD4A","destination":"bureau","received":"2026-11-23",
            "status":"received","acknowledged":null,"closed":null,"acknowledge_by":"2026-11-30",
            "feedback_by":"2027-02-28","retention_until":null,"head":"ab","updated":"2026-11-23",
            "last_content":"2026-11-23","attachments":1,"messages":1,
            "files":[{"path":"report.age","sha256":"ab","size":3},
                     {"path":"thread/0001-to_reporter.age","sha256":"cd","size":4}]}"#;
        let m: CaseManifest = serde_json::from_str(json).unwrap();
        assert_eq!(m.files[1].path, CaseFile::Message(1, Direction::ToReporter));
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(back["files"][1]["path"], "thread/0001-to_reporter.age");
        assert!(
            serde_json::from_str::<CaseManifest>(&json.replace("report.age\"", "../x\"")).is_err()
        );
    }
}
