//! The bundle: the folder of ciphertext that crosses the air gap. Plain directories of
//! age files and JSON indexes, so `age -d -i KEY_FILE` opens any file by hand
//! (docs/BUNDLE.md describes it for investigators).
//!
//! ```text
//! BUNDLE_DIR/bundle.json                    index: server, last pull, audit chain head
//! BUNDLE_DIR/pins.json                      the recipients this investigator trusts
//! BUNDLE_DIR/audit.json                     the verified audit log
//! BUNDLE_DIR/cases/CASE/case.json           the server's metadata and file list
//! BUNDLE_DIR/cases/CASE/report.age
//! BUNDLE_DIR/cases/CASE/attachments/000.age
//! BUNDLE_DIR/cases/CASE/thread/0001-to_reporter.age
//! BUNDLE_DIR/outbox/outbox.json             queued messages and status changes
//! BUNDLE_DIR/outbox/CASE/0002-to_reporter.age
//! ```

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use meldpunt_crypto::Day;
use meldpunt_wire::{CaseFile, CaseManifest, CaseNumber};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::fsutil;

/// Name of the bundle's index file.
pub const INDEX_FILE: &str = "bundle.json";
/// The format this tool writes and reads.
pub const FORMAT: &str = "meldpunt-bundle/1";
/// The largest report or message file read into memory. Envelopes are small (padded
/// text); anything bigger is damage or an attack, not a report.
pub const MAX_ENVELOPE_BYTES: u64 = 64 * 1024 * 1024;

/// Why the bundle could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum BundleError {
    /// The folder does not exist or is not a bundle.
    NotABundle {
        /// The folder given.
        path: PathBuf,
    },
    /// Not a case number.
    BadCaseNumber {
        /// What was given.
        text: String,
    },
    /// The bundle holds no such case.
    UnknownCase {
        /// The case asked for.
        case: CaseNumber,
        /// The cases the bundle does hold.
        known: Vec<CaseNumber>,
    },
    /// A file is not what the tool wrote or the server sent.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// Reading or writing failed.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        error: io::Error,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::NotABundle { path } => write!(
                f,
                "{} is not a bundle folder (it does not exist or is not a folder); \
                 `meldpunt pull` or `meldpunt pin` creates one",
                path.display()
            ),
            BundleError::BadCaseNumber { text } => write!(
                f,
                "\"{text}\" is not a case number (case numbers look like MP-7KQ2M9XD4A)"
            ),
            BundleError::UnknownCase { case, known } => {
                write!(f, "the bundle holds no case {case}")?;
                if known.is_empty() {
                    write!(f, "; it holds no cases at all (run `meldpunt pull` first)")
                } else {
                    let list: Vec<&str> = known.iter().map(CaseNumber::as_str).collect();
                    write!(f, "; it holds: {}", list.join(", "))
                }
            }
            BundleError::Damaged { path, detail } => write!(
                f,
                "the file {} is damaged or not a Meldpunt bundle file: {detail}",
                path.display()
            ),
            BundleError::Io { path, error } => {
                write!(f, "could not read or write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for BundleError {}

/// Reads a case number as a person or the server wrote it (case-insensitive).
pub fn parse_case(text: &str) -> Result<CaseNumber, BundleError> {
    CaseNumber::parse(text).ok_or_else(|| BundleError::BadCaseNumber {
        text: text.chars().take(60).collect(),
    })
}

impl BundleError {
    /// An I/O error about `path`.
    pub fn io(path: &Path, error: io::Error) -> Self {
        BundleError::Io {
            path: path.to_owned(),
            error,
        }
    }
}

/// The bundle index (`bundle.json`).
#[derive(Serialize, Deserialize, Clone)]
pub struct Index {
    /// Always [`FORMAT`].
    pub format: String,
    /// The server last pulled from.
    #[serde(default)]
    pub server: Option<String>,
    /// The day of the last complete pull.
    #[serde(default)]
    pub pulled: Option<Day>,
    /// The last audit log entry this bundle verified: a new log must extend it.
    #[serde(default)]
    pub audit_head: Option<AuditHead>,
    /// Cases shredded here; `pull` does not bring them back.
    #[serde(default)]
    pub shredded: Vec<String>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            format: FORMAT.to_owned(),
            server: None,
            pulled: None,
            audit_head: None,
            shredded: Vec::new(),
        }
    }
}

/// The head of the audit hash chain.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct AuditHead {
    /// The entry's index.
    pub index: u64,
    /// The entry's hash, as the server wrote it.
    pub hash: String,
}

/// A bundle folder.
pub struct Bundle {
    root: PathBuf,
}

impl Bundle {
    /// An existing bundle.
    pub fn open(root: &Path) -> Result<Self, BundleError> {
        if !root.is_dir() {
            return Err(BundleError::NotABundle {
                path: root.to_owned(),
            });
        }
        Ok(Bundle {
            root: root.to_owned(),
        })
    }

    /// A bundle, created (private to the owner) if it does not exist yet.
    pub fn create(root: &Path) -> Result<Self, BundleError> {
        fsutil::create_private_dir_all(root).map_err(|e| BundleError::io(root, e))?;
        Bundle::open(root)
    }

    /// The bundle folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `cases/` inside the bundle.
    pub fn cases_dir(&self) -> PathBuf {
        self.root.join("cases")
    }

    /// The folder of one case (which may not exist).
    pub fn case_dir(&self, case: &CaseNumber) -> PathBuf {
        fsutil::child(&self.cases_dir(), case.as_str())
    }

    /// Where a file of a case download is kept in the bundle.
    pub fn case_file(&self, case: &CaseNumber, file: CaseFile) -> PathBuf {
        self.case_dir(case).join(file.to_path())
    }

    /// `outbox/` inside the bundle.
    pub fn outbox_dir(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// The cases the bundle holds, sorted.
    pub fn cases(&self) -> Result<Vec<CaseNumber>, BundleError> {
        let dir = self.cases_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(BundleError::io(&dir, e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| BundleError::io(&dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if entry.path().join(CaseFile::Manifest.to_path()).is_file() {
                if let Some(id) = CaseNumber::parse(name) {
                    if id.as_str() == name {
                        ids.push(id);
                    }
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The folder of a case the bundle must hold.
    pub fn require_case(&self, case: &CaseNumber) -> Result<PathBuf, BundleError> {
        let dir = self.case_dir(case);
        if dir.join(CaseFile::Manifest.to_path()).is_file() {
            Ok(dir)
        } else {
            Err(BundleError::UnknownCase {
                case: case.clone(),
                known: self.cases()?,
            })
        }
    }

    /// A case's `case.json`, as the server wrote it. The server is not trusted: nothing
    /// in it is believed about the report itself; it is used for deadlines and to find
    /// files.
    pub fn case_manifest(&self, case: &CaseNumber) -> Result<CaseManifest, BundleError> {
        let dir = self.require_case(case)?;
        read_json(&dir.join(CaseFile::Manifest.to_path()))
    }

    /// The index; a fresh one if the bundle has none yet.
    pub fn index(&self) -> Result<Index, BundleError> {
        let path = self.root.join(INDEX_FILE);
        let index: Index = read_json_or_default(&path)?;
        if index.format != FORMAT {
            return Err(BundleError::Damaged {
                path,
                detail: format!(
                    "format \"{}\" is not {FORMAT}; use the meldpunt version that made it",
                    index.format
                ),
            });
        }
        Ok(index)
    }

    /// Replaces the index.
    pub fn write_index(&self, index: &Index) -> Result<(), BundleError> {
        write_json(&self.root.join(INDEX_FILE), index)
    }
}

/// Reads a JSON file; a parse failure names the file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, BundleError> {
    let bytes = fs::read(path).map_err(|e| BundleError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| BundleError::Damaged {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// Reads a JSON file, or the default if there is no such file.
pub fn read_json_or_default<T: DeserializeOwned + Default>(path: &Path) -> Result<T, BundleError> {
    if !path.exists() {
        return Ok(T::default());
    }
    read_json(path)
}

/// Writes a JSON file atomically (pretty, so a person can read it).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), BundleError> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| BundleError::Damaged {
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    text.push(b'\n');
    if let Some(parent) = path.parent() {
        fsutil::create_private_dir_all(parent).map_err(|e| BundleError::io(parent, e))?;
    }
    fsutil::write_atomic(path, &text).map_err(|e| BundleError::io(path, e))
}

/// Reads a ciphertext file of at most [`MAX_ENVELOPE_BYTES`].
pub fn read_envelope(path: &Path) -> Result<Vec<u8>, BundleError> {
    let len = fs::metadata(path)
        .map_err(|e| BundleError::io(path, e))?
        .len();
    if len > MAX_ENVELOPE_BYTES {
        return Err(BundleError::Damaged {
            path: path.to_owned(),
            detail: format!("{len} bytes is far larger than any report or message"),
        });
    }
    fs::read(path).map_err(|e| BundleError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strict_case_numbers_name_a_case() {
        assert_eq!(
            parse_case(" mp-7kq2m9xd4a ").unwrap().as_str(),
            "MP-7KQ2M9XD4A"
        );
        for bad in [
            "../etc",
            "MP/1",
            "",
            "MP-1",
            ".hidden",
            "MP-OLDOLDOLD1",
            "MP-1\0",
        ] {
            assert!(
                matches!(parse_case(bad), Err(BundleError::BadCaseNumber { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_case_folder_counts_only_under_its_exact_number() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = Bundle::open(dir.path()).unwrap();
        for name in [
            "MP-7KQ2M9XD4A",
            "mp-7kq2m9xd4b",
            "MP-NOTACASE01",
            "MP-AAAAAAAAAA",
        ] {
            fs::create_dir_all(bundle.cases_dir().join(name)).unwrap();
            fs::write(bundle.cases_dir().join(name).join("case.json"), "{}").unwrap();
        }
        fs::create_dir_all(bundle.cases_dir().join("MP-BBBBBBBBBB")).unwrap();
        let listed: Vec<String> = bundle
            .cases()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(listed, ["MP-7KQ2M9XD4A", "MP-AAAAAAAAAA"]);
        let missing = parse_case("MP-BBBBBBBBBB").unwrap();
        assert!(matches!(
            bundle.require_case(&missing),
            Err(BundleError::UnknownCase { known, .. }) if known.len() == 2
        ));
    }
}
