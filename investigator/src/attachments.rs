//! The report's attachments: which bundle file holds each one, and decrypting it into a
//! folder under a safe name, checked against the size and SHA-256 the signed report
//! gives it. A file that does not match is never saved, and no partial plaintext is
//! left behind.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use meldpunt_crypto::{decrypt_attachment, AttachmentEntry};
use meldpunt_wire::{CaseFile, CaseManifest};

use crate::fsutil::{create_private_dir_all, create_private_file, remove_tree};
use crate::keys::LoadedKeys;
use crate::progress::{bar, HashingReader};
use crate::safename::{safe_name, unique_name};

/// One attachment the report names.
#[derive(Clone)]
pub struct Attachment {
    /// What the signed report says about it (name, size, hash).
    pub entry: AttachmentEntry,
    /// The bundle file that should hold it.
    pub file: CaseFile,
    /// Whether it was decrypted and checked.
    pub check: AttachmentCheck,
    /// The identifying metadata it still carries, once looked at
    /// ([`crate::opened::OpenedCase::check_documents`]).
    pub hidden: Option<crate::documents::HiddenData>,
}

/// What became of one attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentCheck {
    /// Not decrypted yet, so not verified either.
    NotChecked,
    /// Verified against the report and saved under this name in the folder.
    Saved {
        /// The file name inside the attachments folder.
        name: String,
    },
    /// Not saved, and why.
    Failed {
        /// What is wrong.
        why: String,
    },
}

impl Attachment {
    /// The name it was saved under, if it verified.
    pub fn saved_as(&self) -> Option<&str> {
        match &self.check {
            AttachmentCheck::Saved { name } => Some(name),
            _ => None,
        }
    }

    /// Why it was not saved, if it failed.
    pub fn problem(&self) -> Option<&str> {
        match &self.check {
            AttachmentCheck::Failed { why } => Some(why),
            _ => None,
        }
    }
}

/// The attachments of a report, each with the bundle file that holds it: the one the
/// server's file list gives the report's hash, else the one at the report's position.
/// Either way the hash is checked while decrypting.
pub fn locate(entries: &[AttachmentEntry], manifest: &CaseManifest) -> Vec<Attachment> {
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let file = manifest
                .files
                .iter()
                .filter(|f| f.sha256.eq_ignore_ascii_case(&entry.ciphertext_sha256))
                .map(|f| f.path)
                .find(|p| matches!(p, CaseFile::Attachment(_)))
                .unwrap_or_else(|| CaseFile::Attachment(u32::try_from(index).unwrap_or(u32::MAX)));
            Attachment {
                entry: entry.clone(),
                file,
                check: AttachmentCheck::NotChecked,
                hidden: None,
            }
        })
        .collect()
}

/// Files in the case's `attachments/` folder that no attachment of the report is read
/// from (as `attachments/NAME`): the server sent them, the report does not name them,
/// so they are not opened.
pub fn unnamed_files(case_dir: &Path, attachments: &[Attachment]) -> Vec<String> {
    let used: HashSet<String> = attachments.iter().map(|a| a.file.to_path()).collect();
    let mut unnamed = Vec::new();
    if let Ok(dir) = fs::read_dir(case_dir.join("attachments")) {
        for f in dir.flatten() {
            let name = format!("attachments/{}", f.file_name().to_string_lossy());
            if !used.contains(&name) {
                unnamed.push(name);
            }
        }
    }
    unnamed.sort();
    unnamed
}

/// Decrypts every attachment from `case_dir` into `folder` (created if needed) under
/// safe, distinct names, checking each against the report. Fails only if the folder
/// cannot be made; each attachment's own outcome is in its [`AttachmentCheck`].
pub fn save_all(
    attachments: &mut [Attachment],
    case_dir: &Path,
    keys: &LoadedKeys,
    folder: &Path,
) -> Result<(), (PathBuf, io::Error)> {
    save_some(attachments, None, case_dir, keys, folder)
}

/// Like [`save_all`] for the attachment at `index` only (under the name `save_all`
/// would give it); the others are left as they are.
pub fn save_at(
    attachments: &mut [Attachment],
    index: usize,
    case_dir: &Path,
    keys: &LoadedKeys,
    folder: &Path,
) -> Result<(), (PathBuf, io::Error)> {
    save_some(attachments, Some(index), case_dir, keys, folder)
}

fn save_some(
    attachments: &mut [Attachment],
    only: Option<usize>,
    case_dir: &Path,
    keys: &LoadedKeys,
    folder: &Path,
) -> Result<(), (PathBuf, io::Error)> {
    if !attachments.is_empty() {
        create_private_dir_all(folder).map_err(|e| (folder.to_owned(), e))?;
    }
    let mut taken = HashSet::new();
    for (i, a) in attachments.iter_mut().enumerate() {
        // Every name is taken in turn, so each attachment keeps the name it gets in
        // the whole folder.
        let name = unique_name(folder, &safe_name(&a.entry.name, i), &mut taken);
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let from = case_dir.join(a.file.to_path());
        a.check = match save_one(&from, &a.entry, keys, folder, &name, i) {
            Ok(()) => AttachmentCheck::Saved { name },
            Err(why) => AttachmentCheck::Failed { why },
        };
    }
    Ok(())
}

fn save_one(
    path: &Path,
    entry: &AttachmentEntry,
    keys: &LoadedKeys,
    out: &Path,
    name: &str,
    index: usize,
) -> Result<(), String> {
    let swapped = "it is not the file the report names (swapped or altered): not saved";
    let file = File::open(path).map_err(|e| format!("missing from the bundle ({e})"))?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    if size != entry.ciphertext_size {
        return Err(format!(
            "{swapped}; it has {size} bytes, the report says {}",
            entry.ciphertext_size
        ));
    }
    let partial = out.join(format!(".partial-{index:03}"));
    let _ = fs::remove_file(&partial);
    let output = create_private_file(&partial).map_err(|e| e.to_string())?;
    let mut reader = HashingReader::new(
        io::BufReader::with_capacity(256 * 1024, file),
        bar(size, format!("attachment {}", index + 1)),
    );
    let decrypted = decrypt_attachment(
        &keys.identities(),
        &mut reader,
        entry.size,
        BufWriter::with_capacity(256 * 1024, output),
    );
    let digest = reader.finish();
    let outcome = match (decrypted, digest) {
        (_, Ok((sha, n)))
            if hex::encode(sha) != entry.ciphertext_sha256.to_ascii_lowercase() || n != size =>
        {
            Err(swapped.to_owned())
        }
        (Err(e), _) => Err(format!("{e}: not saved")),
        (_, Err(e)) => Err(e.to_string()),
        (Ok(()), Ok(_)) => fs::rename(&partial, out.join(name)).map_err(|e| e.to_string()),
    };
    if outcome.is_err() {
        let _ = remove_tree(&partial, true);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_crypto::{encrypt_attachment, Day, InvestigatorKey, Recipient};
    use meldpunt_wire::{CaseNumber, CaseSummary, FileEntry};

    fn manifest(files: Vec<FileEntry>) -> CaseManifest {
        let day = Day::parse("2026-11-02").unwrap();
        CaseManifest {
            summary: CaseSummary {
                case: CaseNumber::parse("MP-7KQ2M9XD4A").unwrap(),
                destination: "bureau".into(),
                received: day,
                status: meldpunt_crypto::CaseStatus::Received,
                acknowledged: None,
                closed: None,
                acknowledge_by: day,
                feedback_by: day,
                retention_until: None,
                head: String::new(),
                updated: day,
                last_content: day,
                attachments: files.len(),
                messages: 0,
            },
            files,
        }
    }

    fn entry(name: &str, bytes: &[u8], to: &Recipient) -> (AttachmentEntry, Vec<u8>) {
        let mut out = Vec::new();
        let digest = encrypt_attachment(
            std::slice::from_ref(to),
            bytes,
            bytes.len() as u64,
            &mut out,
        )
        .unwrap();
        (
            AttachmentEntry::new(name.into(), bytes.len() as u64, &digest),
            out,
        )
    }

    #[test]
    fn attachments_are_found_by_hash_else_by_position() {
        let to = InvestigatorKey::generate().recipient();
        let (a, _) = entry("a.txt", b"first", &to);
        let (b, _) = entry("b.txt", b"second", &to);
        // The server lists b's file at position 0 and nothing for a.
        let m = manifest(vec![FileEntry {
            path: CaseFile::Attachment(7),
            sha256: b.ciphertext_sha256.to_ascii_uppercase(),
            size: b.ciphertext_size,
        }]);
        let found = locate(&[a, b], &m);
        assert_eq!(found[0].file, CaseFile::Attachment(0));
        assert_eq!(found[1].file, CaseFile::Attachment(7));
        assert!(found.iter().all(|f| f.check == AttachmentCheck::NotChecked));
    }

    #[test]
    fn only_a_matching_file_is_saved_and_strays_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let key = InvestigatorKey::generate();
        let to = key.recipient();
        let keys = LoadedKeys::from_keys(vec![key], dir.path().join("key.txt"));
        let case_dir = dir.path().join("case");
        fs::create_dir_all(case_dir.join("attachments")).unwrap();
        let (a, a_ct) = entry("../report.pdf", b"the real one", &to);
        let (b, _) = entry("b.txt", b"second", &to);
        let (_, other_ct) = entry("x", b"a forgery!!!", &to);
        fs::write(case_dir.join("attachments/000.age"), &a_ct).unwrap();
        fs::write(case_dir.join("attachments/001.age"), &other_ct).unwrap();
        fs::write(case_dir.join("attachments/002.age"), b"extra").unwrap();
        let mut found = locate(&[a, b], &manifest(vec![]));
        assert_eq!(unnamed_files(&case_dir, &found), ["attachments/002.age"]);
        let out = dir.path().join("out");
        save_all(&mut found, &case_dir, &keys, &out).unwrap();
        assert_eq!(found[0].saved_as(), Some("report.pdf"));
        assert_eq!(fs::read(out.join("report.pdf")).unwrap(), b"the real one");
        assert!(found[1].problem().unwrap().contains("swapped or altered"));
        let names: Vec<_> = fs::read_dir(&out).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);

        // One at a time: only that one is decrypted, under the same name.
        let mut again = locate(
            &[found[0].entry.clone(), found[1].entry.clone()],
            &manifest(vec![]),
        );
        let one = dir.path().join("one");
        save_at(&mut again, 0, &case_dir, &keys, &one).unwrap();
        assert_eq!(again[0].saved_as(), Some("report.pdf"));
        assert_eq!(again[1].check, AttachmentCheck::NotChecked);
        assert_eq!(fs::read(one.join("report.pdf")).unwrap(), b"the real one");
        save_at(&mut again, 1, &case_dir, &keys, &one).unwrap();
        assert!(again[1].problem().is_some());
    }
}
