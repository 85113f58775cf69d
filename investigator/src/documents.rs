//! Hidden data in the received documents. Each saved attachment is inspected again with
//! the same library the reporter's page uses (`meldpunt-metadata`): what identifying
//! metadata it still carries — the reporter chose to keep the original, the format could
//! not be cleaned, the report came from before pages checked documents — is listed by
//! kind and place, never by value (so `report.md` stays shareable inside the bureau),
//! and a copy without it is written to `shareable/` for colleagues who must not learn
//! who the reporter is (EU Directive 2019/1937, Art. 16). None of this is a verification
//! problem: a document that still carries an author is what the reporter sent.

use std::fs;
use std::io::Write;
use std::path::Path;

use meldpunt_crypto::{AttachmentEntry, EncryptedBy};
use meldpunt_metadata::{clean, inspect, FindingKind};

use crate::fsutil::{create_private_dir_all, create_private_file};

/// The largest document that is inspected (it is read into memory whole).
pub const MAX_CHECKED: u64 = 512 * 1024 * 1024;

/// The folder of the copies without hidden data, beside `attachments/`.
pub const SHAREABLE_DIR: &str = "shareable";

/// What one saved document still carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiddenData {
    /// The format, in plain words ("Word document").
    pub format: &'static str,
    /// The identifying metadata still in the file: kind and place inside the file (empty
    /// for the file itself). Never the value.
    pub found: Vec<(FindingKind, String)>,
    /// Why the file could not be checked (completely), if so.
    pub not_checked: Option<String>,
    /// The copy without hidden data: its name in `shareable/`, or why there is none.
    pub shareable: Result<String, String>,
}

impl HiddenData {
    /// The kinds still found, each once with the places it is in, people and places
    /// first ("author (in docProps/core.xml), GPS position").
    pub fn found_words(&self) -> String {
        let mut kinds: Vec<(FindingKind, Vec<String>)> = Vec::new();
        for (kind, place) in &self.found {
            let place = crate::opened::printable(place);
            match kinds.iter_mut().find(|(k, _)| k == kind) {
                Some((_, places)) => {
                    if !place.is_empty() && !places.contains(&place) {
                        places.push(place);
                    }
                }
                None => kinds.push((
                    *kind,
                    [place].into_iter().filter(|p| !p.is_empty()).collect(),
                )),
            }
        }
        kinds.sort_by_key(|(k, _)| FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()));
        kinds
            .iter()
            .map(|(kind, places)| {
                if places.is_empty() {
                    kind.label().to_owned()
                } else {
                    format!("{} (in {})", kind.label(), places.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What names the reporter most directly comes first.
const FIRST: [FindingKind; 12] = [
    FindingKind::Author,
    FindingKind::LastModifiedBy,
    FindingKind::TrackedChangeAuthor,
    FindingKind::CommentAuthor,
    FindingKind::People,
    FindingKind::CameraOwner,
    FindingKind::GpsPosition,
    FindingKind::Company,
    FindingKind::Manager,
    FindingKind::ComputerName,
    FindingKind::FilePath,
    FindingKind::CameraSerial,
];

/// Inspects the saved document `folder/name` and, where its format can be cleaned, writes
/// a copy without hidden data to `shareable/name`. Never fails: what went wrong is in the
/// result.
pub fn check_document(folder: &Path, name: &str, shareable: &Path) -> HiddenData {
    let path = folder.join(name);
    let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_CHECKED {
        return HiddenData {
            format: "document",
            found: Vec::new(),
            not_checked: Some(format!(
                "larger than {} MiB: not checked",
                MAX_CHECKED / (1024 * 1024)
            )),
            shareable: Err("too large to check".into()),
        };
    }
    let bytes = match fs::read(&path) {
        Ok(b) => zeroize::Zeroizing::new(b),
        Err(e) => {
            return HiddenData {
                format: "document",
                found: Vec::new(),
                not_checked: Some(format!("could not be read: {e}")),
                shareable: Err("could not be read".into()),
            }
        }
    };
    let found = inspect(name, &bytes);
    let not_checked = found
        .warnings
        .iter()
        .filter(|w| w.kind != meldpunt_metadata::WarningKind::VisibleContent)
        .map(|w| {
            if w.location.is_empty() {
                w.message.clone()
            } else {
                format!("{}: {}", crate::opened::printable(&w.location), w.message)
            }
        })
        .reduce(|a, b| format!("{a} {b}"));
    let shareable = match clean(name, &bytes) {
        Ok(cleaned) => write_copy(shareable, name, &cleaned.bytes),
        Err(e) => Err(e.to_string()),
    };
    HiddenData {
        format: found.format.description(),
        found: found
            .findings
            .iter()
            .map(|f| (f.kind, f.location.clone()))
            .collect(),
        not_checked,
        shareable,
    }
}

fn write_copy(folder: &Path, name: &str, bytes: &[u8]) -> Result<String, String> {
    let path = folder.join(name);
    create_private_dir_all(folder)
        .and_then(|()| create_private_file(&path))
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map(|()| name.to_owned())
        .map_err(|e| format!("could not write {}: {e}", path.display()))
}

/// What the signed report says was done about a document's hidden data before it was
/// encrypted, in words for the investigator.
pub fn record_words(entry: &AttachmentEntry, encrypted_by: EncryptedBy) -> String {
    let who = match encrypted_by {
        EncryptedBy::Browser => "the reporter's page",
        EncryptedBy::Server => "the server (no-JavaScript form)",
    };
    match &entry.metadata {
        None => "no record: the document was not checked before it was encrypted".into(),
        Some(r) if !r.checked => {
            format!("{who} could not check this kind of document; it was sent as it was")
        }
        Some(r) if r.kept_original => format!(
            "{who} found hidden data and the reporter CHOSE TO SEND THE ORIGINAL, unchanged"
        ),
        Some(r) if r.removed.is_empty() => format!("{who} found no hidden data to remove"),
        Some(r) => format!(
            "ALTERED before encryption: {who} removed {}",
            r.removed.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_crypto::MetadataRecord;

    // A JPEG with a comment segment ("Jan Jansen") in front of a minimal image.
    fn jpeg() -> Vec<u8> {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x0C];
        jpeg.extend_from_slice(b"Jan Jansen");
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x00, 0xFF, 0xD9]);
        jpeg
    }

    #[test]
    fn a_document_with_hidden_data_is_listed_by_kind_and_copied_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("attachments");
        fs::create_dir_all(&folder).unwrap();
        fs::write(folder.join("photo.jpg"), jpeg()).unwrap();
        fs::write(folder.join("call.mp3"), b"ID3\x03\x00\x00\x00\x00\x00\x00").unwrap();
        let shareable = dir.path().join(SHAREABLE_DIR);

        let photo = check_document(&folder, "photo.jpg", &shareable);
        assert_eq!(photo.found, vec![(FindingKind::Comment, String::new())]);
        assert_eq!(photo.found_words(), "hidden comment");
        assert!(
            !format!("{photo:?}").contains("Jan Jansen"),
            "never the value"
        );
        assert_eq!(photo.shareable, Ok("photo.jpg".to_owned()));
        let copy = fs::read(shareable.join("photo.jpg")).unwrap();
        assert!(!String::from_utf8_lossy(&copy).contains("Jan Jansen"));
        assert!(inspect("photo.jpg", &copy).findings.is_empty());

        let call = check_document(&folder, "call.mp3", &shareable);
        assert!(call.found.is_empty());
        assert!(call.not_checked.is_some());
        assert!(call.shareable.unwrap_err().contains("audio"));
        assert!(!shareable.join("call.mp3").exists());
    }

    #[test]
    fn the_record_is_told_in_words() {
        let digest = meldpunt_crypto::CiphertextDigest {
            size: 1,
            sha256: [0; 32],
        };
        let entry = AttachmentEntry::new("a.docx".into(), 1, &digest);
        assert!(record_words(&entry, EncryptedBy::Browser).starts_with("no record"));
        let removed = entry.clone().with_metadata(MetadataRecord {
            removed: vec!["author".into(), "gps_position".into()],
            kept_original: false,
            checked: true,
        });
        assert_eq!(
            record_words(&removed, EncryptedBy::Browser),
            "ALTERED before encryption: the reporter's page removed author, gps_position"
        );
        let kept = entry.with_metadata(MetadataRecord {
            removed: vec![],
            kept_original: true,
            checked: true,
        });
        assert!(record_words(&kept, EncryptedBy::Server).contains("CHOSE TO SEND THE ORIGINAL"));
    }
}
