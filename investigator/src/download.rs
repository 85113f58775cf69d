//! Bringing the server's data into the bundle, checked: the audit log (it must extend
//! the one verified before, or nothing is taken) and case downloads.
//!
//! A case is downloaded into `.incoming/` and put in place with renames only when
//! complete and checked, so an interruption leaves each case as it was before or as it
//! is now, never half. Only the download format's file names are accepted ([`CaseFile`]:
//! nothing from a tar path reaches the disk as a path), each file is checked against
//! `case.json`, and a case whose earlier report or messages changed is refused.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use meldpunt_crypto::Day;
use meldpunt_wire::{CaseFile, CaseManifest, CaseNumber};
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditError, AuditRecord};
use crate::bundle::{
    read_json, read_json_or_default, write_json, AuditHead, Bundle, BundleError, Index,
};
use crate::fsutil::{child, create_private_dir_all, create_private_file, remove_tree};
use crate::http::{HttpError, Server};
use crate::pins::Pins;
use crate::progress::{bar, HashingReader};
use crate::restores;

/// The verified audit log in the bundle.
pub const AUDIT_FILE: &str = "audit.json";
/// Where downloads are staged inside the bundle.
pub const INCOMING: &str = ".incoming";

/// Why the server's audit log was not taken.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuditUpdateError {
    /// Talking to the server failed.
    Http(HttpError),
    /// The bundle could not be read or written.
    Bundle(BundleError),
    /// The log does not extend the one verified before.
    Refused {
        /// What is wrong.
        error: AuditError,
        /// Where the refused log was kept, as evidence.
        kept: PathBuf,
        /// Why it is not an announced restore either.
        not_a_restore: String,
    },
}

impl From<HttpError> for AuditUpdateError {
    fn from(e: HttpError) -> Self {
        AuditUpdateError::Http(e)
    }
}

impl From<BundleError> for AuditUpdateError {
    fn from(e: BundleError) -> Self {
        AuditUpdateError::Bundle(e)
    }
}

/// Fetches the server's audit log and, if it extends the one this bundle verified
/// before, keeps it and moves `index`'s head (the caller writes the index). A log that
/// does not is accepted only as an announced restore from backup ([`crate::restores`]):
/// the entries the server lost are then kept apart in the bundle and returned. Any
/// other log is kept apart as evidence and nothing changes.
pub fn update_audit_log(
    server: &Server,
    bundle: &Bundle,
    index: &mut Index,
) -> Result<AuditUpdate, AuditUpdateError> {
    let audit_path = bundle.root().join(AUDIT_FILE);
    let known: Vec<AuditRecord> = read_json_or_default(&audit_path)?;
    // Only what is new since the log this bundle verified (the server's log can grow
    // large), from the head kept here on: that entry must come back unchanged (its hash
    // commits to everything before it), and the rest must go on from it.
    let incremental = !known.is_empty()
        && index
            .audit_head
            .as_ref()
            .is_some_and(|h| h.index + 1 == known.len() as u64);
    let (mut body, log) = if incremental {
        match server.audit_log_from(known.len() as u64 - 1)? {
            Some(body) => {
                let log = audit::parse(&body).and_then(|new| audit::extend(&known, new));
                (body, log)
            }
            None => (
                Vec::new(),
                Err(AuditError::Truncated {
                    now: 0,
                    head: known.len() as u64 - 1,
                }),
            ),
        }
    } else {
        let body = server.audit_log()?;
        let log = audit::parse(&body).and_then(|log| {
            audit::verify(&log, &known, index.audit_head.as_ref())?;
            Ok(log)
        });
        (body, log)
    };
    let (log, restore) = match log {
        Ok(log) => (log, None),
        Err(error) => {
            // A restore from backup takes the log back: accepted only when announced.
            if incremental {
                body = server.audit_log()?;
            }
            let whole = audit::parse(&body).map_err(|e| e.to_string());
            let pins = Pins::read(bundle)?;
            match whole.and_then(|log| {
                restores::accept(&log, &known, pins.restore_key.as_ref()).map(|r| (log, r))
            }) {
                Ok((log, restore)) => {
                    let lost = bundle
                        .root()
                        .join(format!("audit-lost-in-restore-{}.json", Day::today()));
                    write_json(&lost, &restore.lost)?;
                    (log, Some((restore, lost)))
                }
                Err(not_a_restore) => {
                    let kept = bundle
                        .root()
                        .join(format!("audit-refused-{}.json", Day::today()));
                    fs::write(&kept, &body).map_err(|e| BundleError::io(&kept, e))?;
                    return Err(AuditUpdateError::Refused {
                        error,
                        kept,
                        not_a_restore,
                    });
                }
            }
        }
    };
    write_json(&audit_path, &log)?;
    index.audit_head = log.last().map(|e| AuditHead {
        index: e.index(),
        hash: e.hash().to_owned(),
    });
    Ok(AuditUpdate { log, restore })
}

/// The audit log after a pull.
pub struct AuditUpdate {
    /// The whole log, verified.
    pub log: Vec<AuditRecord>,
    /// An announced restore that was accepted, and where the lost entries were kept.
    pub restore: Option<(restores::AcceptedRestore, PathBuf)>,
}

/// Puts back a case whose swap was interrupted, and clears partial downloads.
pub fn recover_interrupted(bundle: &Bundle) -> Result<(), BundleError> {
    let incoming = bundle.root().join(INCOMING);
    let Ok(entries) = fs::read_dir(&incoming) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".old").and_then(CaseNumber::parse) {
            let live = bundle.case_dir(&id);
            if !live.exists() {
                fs::rename(entry.path(), &live).map_err(|e| BundleError::io(&live, e))?;
            }
        }
    }
    clear_incoming(bundle)
}

/// Removes what is left in `.incoming/`.
pub fn clear_incoming(bundle: &Bundle) -> Result<(), BundleError> {
    let incoming = bundle.root().join(INCOMING);
    remove_tree(&incoming, false).map_err(|e| BundleError::io(&incoming, e))?;
    Ok(())
}

/// Why a case download was not taken.
#[derive(Debug)]
#[non_exhaustive]
pub enum DownloadError {
    /// Talking to the server failed.
    Http(HttpError),
    /// The bundle could not be read or written.
    Bundle(BundleError),
    /// What the server sent is refused.
    Refused(String),
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownloadError::Http(e) => e.fmt(f),
            DownloadError::Bundle(e) => e.fmt(f),
            DownloadError::Refused(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for DownloadError {}

impl From<HttpError> for DownloadError {
    fn from(e: HttpError) -> Self {
        DownloadError::Http(e)
    }
}

impl From<BundleError> for DownloadError {
    fn from(e: BundleError) -> Self {
        DownloadError::Bundle(e)
    }
}

/// Downloads one case into `.incoming/`, checks it, and puts it in place; returns notes
/// for the investigator (ignored entries and the like).
pub fn fetch_case(
    server: &Server,
    bundle: &Bundle,
    case: &CaseNumber,
) -> Result<Vec<String>, DownloadError> {
    let incoming = bundle.root().join(INCOMING);
    let staging = child(&incoming, case.as_str());
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e: io::Error| DownloadError::Bundle(BundleError::io(&p, e))
    };
    remove_tree(&staging, false).map_err(io(&staging))?;
    create_private_dir_all(&staging).map_err(io(&staging))?;
    let mut notes = Vec::new();

    let answer = server.download(case)?;
    if answer.status != 200 {
        return Err(HttpError::Status {
            what: format!("the download of case {case}"),
            status: answer.status,
            message: answer.message(),
        }
        .into());
    }
    let mut received: BTreeMap<CaseFile, (String, u64)> = BTreeMap::new();
    let mut archive = tar::Archive::new(answer.into_reader());
    let broken = |e: io::Error| {
        DownloadError::Refused(format!(
            "the download broke off or is not a tar stream: {e}"
        ))
    };
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let Some(file) = CaseFile::parse(&raw).filter(|_| kind.is_file()) else {
            notes.push(format!(
                "ignored an unexpected entry in the download: {raw:?}"
            ));
            continue;
        };
        // Stored under the format's own name for the file, whatever the tar calls it.
        let name = file.to_path();
        let path = staging.join(&name);
        if let Some(parent) = path.parent() {
            create_private_dir_all(parent).map_err(io(parent))?;
        }
        let out = create_private_file(&path).map_err(io(&path))?;
        let size = entry.size();
        let mut reader = HashingReader::new(&mut entry, bar(size, format!("{case} {name}")));
        let mut out = BufWriter::new(out);
        io::copy(&mut reader, &mut out).map_err(broken)?;
        out.flush().map_err(io(&path))?;
        out.get_ref().sync_all().map_err(io(&path))?;
        let (sha, n) = reader.finish().map_err(broken)?;
        received.insert(file, (hex::encode(sha), n));
    }

    let manifest_path = staging.join(CaseFile::Manifest.to_path());
    if !manifest_path.is_file() {
        return Err(DownloadError::Refused(
            "the download has no case.json".into(),
        ));
    }
    let manifest: CaseManifest = read_json(&manifest_path)?;
    if manifest.summary.case != *case {
        return Err(DownloadError::Refused(format!(
            "the download is for case \"{}\", not {case}",
            manifest.summary.case
        )));
    }
    if !received.contains_key(&CaseFile::Report) {
        return Err(DownloadError::Refused(
            "the download has no report.age".into(),
        ));
    }
    if manifest.files.is_empty() {
        notes.push(
            "case.json lists no files, so the download could not be checked against it".into(),
        );
    }
    for listed in &manifest.files {
        match received.get(&listed.path) {
            Some((sha, size))
                if sha.eq_ignore_ascii_case(&listed.sha256) && *size == listed.size => {}
            Some(_) => {
                return Err(DownloadError::Refused(format!(
                    "{} does not match the hash and size case.json gives it: damaged in transit",
                    listed.path
                )))
            }
            None => {
                return Err(DownloadError::Refused(format!(
                    "{} is listed in case.json but missing from the download",
                    listed.path
                )))
            }
        }
    }

    let live = bundle.case_dir(case);
    if live.join(CaseFile::Manifest.to_path()).is_file() {
        if let Some(why) = history_changed(&live, &staging)? {
            let rejected = bundle.root().join("rejected").join(case.as_str());
            let _ = remove_tree(&rejected, false);
            let _ = create_private_dir_all(rejected.parent().unwrap_or(bundle.root()));
            let _ = fs::rename(&staging, &rejected);
            return Err(DownloadError::Refused(format!(
                "REFUSED: the server changed this case's history: {why}. The copy pulled \
                 before is kept; the new download is in {} as evidence",
                rejected.display()
            )));
        }
    }
    let old = incoming.join(format!("{case}.old"));
    create_private_dir_all(&bundle.cases_dir()).map_err(io(&bundle.cases_dir()))?;
    if live.exists() {
        fs::rename(&live, &old).map_err(io(&live))?;
    }
    fs::rename(&staging, &live).map_err(io(&live))?;
    remove_tree(&old, false).map_err(io(&old))?;
    Ok(notes)
}

/// What changed in a case's report or thread between two copies, if anything did.
/// Messages may be added, never changed or removed.
fn history_changed(old: &Path, new: &Path) -> Result<Option<String>, DownloadError> {
    let report = CaseFile::Report.to_path();
    if file_hash(&old.join(&report))? != file_hash(&new.join(&report))? {
        return Ok(Some(format!("{report} is a different file")));
    }
    let Ok(entries) = fs::read_dir(old.join("thread")) else {
        return Ok(None);
    };
    for entry in entries.flatten() {
        let name = format!("thread/{}", entry.file_name().to_string_lossy());
        let there = new.join(&name);
        if !there.exists() {
            return Ok(Some(format!("{name} was removed")));
        }
        if file_hash(&entry.path())? != file_hash(&there)? {
            return Ok(Some(format!("{name} is a different file")));
        }
    }
    Ok(None)
}

fn file_hash(path: &Path) -> Result<Option<[u8; 32]>, DownloadError> {
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DownloadError::Bundle(BundleError::io(path, e))),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| DownloadError::Bundle(BundleError::io(path, e)))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Some(hasher.finalize().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_may_grow_but_never_change() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("old"), dir.path().join("new"));
        for d in [&old, &new] {
            fs::create_dir_all(d.join("thread")).unwrap();
            fs::write(d.join("report.age"), "report").unwrap();
            fs::write(d.join("thread/0001-to_reporter.age"), "one").unwrap();
        }
        fs::write(new.join("thread/0002-from_reporter.age"), "two").unwrap();
        assert_eq!(history_changed(&old, &new).unwrap(), None);
        fs::write(new.join("thread/0001-to_reporter.age"), "ONE").unwrap();
        assert_eq!(
            history_changed(&old, &new).unwrap().as_deref(),
            Some("thread/0001-to_reporter.age is a different file")
        );
        fs::remove_file(new.join("thread/0001-to_reporter.age")).unwrap();
        assert_eq!(
            history_changed(&old, &new).unwrap().as_deref(),
            Some("thread/0001-to_reporter.age was removed")
        );
        fs::write(new.join("report.age"), "another").unwrap();
        assert_eq!(
            history_changed(&old, &new).unwrap().as_deref(),
            Some("report.age is a different file")
        );
    }
}
