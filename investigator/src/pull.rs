//! `meldpunt pull`: fetches new and changed cases and the audit log into the bundle.
//!
//! Incremental and safe to interrupt: a case is downloaded into `.incoming/` and put in
//! place with renames only when complete and checked, so an interrupted pull leaves each
//! case as it was before or as it is now, never half. The server is not trusted: each
//! file is checked against the case's file list, only known file names are accepted
//! (nothing from a tar path reaches the disk as a path), a case whose earlier report or
//! messages changed is refused, and the audit log must extend the one verified before.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meldpunt_crypto::{CaseStatus, Day};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditEntry, AuditError};
use crate::bundle::{
    read_json, read_json_or_default, write_json, AuditHead, Bundle, BundleError, CaseId, CaseMeta,
};
use crate::fsutil::{child, create_private_dir_all, create_private_file, remove_tree};
use crate::http::{HttpError, Server};
use crate::progress::{bar, HashingReader};
use crate::verify::parse_thread_name;

/// The verified audit log in the bundle.
pub const AUDIT_FILE: &str = "audit.json";
const INCOMING: &str = ".incoming";

/// Why `pull` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PullError {
    /// Talking to the server failed.
    Http(HttpError),
    /// The bundle could not be read or written.
    Bundle(BundleError),
    /// The audit log does not extend the one verified before.
    Audit {
        /// What is wrong.
        error: AuditError,
        /// Where the refused log was kept.
        kept: PathBuf,
    },
    /// Some cases could not be pulled or were refused.
    Cases {
        /// One line per case.
        problems: Vec<String>,
    },
}

impl fmt::Display for PullError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullError::Http(e) => e.fmt(f),
            PullError::Bundle(e) => e.fmt(f),
            PullError::Audit { error, kept } => write!(
                f,
                "\n\n!!! THE SERVER'S AUDIT LOG DOES NOT EXTEND THE ONE THIS BUNDLE VERIFIED !!!\n\
                 {error}.\nSomeone rewrote the server's history of investigator actions. \
                 Nothing was fetched; the bundle keeps the log it verified before, and the \
                 refused log is kept in {} as evidence. Tell the bureau's management and the \
                 operator before you pull again.",
                kept.display()
            ),
            PullError::Cases { problems } => {
                write!(f, "{} case(s) were not pulled:", problems.len())?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PullError {}

impl From<HttpError> for PullError {
    fn from(e: HttpError) -> Self {
        PullError::Http(e)
    }
}

impl From<BundleError> for PullError {
    fn from(e: BundleError) -> Self {
        PullError::Bundle(e)
    }
}

/// One case in the server's list.
#[derive(Deserialize)]
struct Listing {
    case: String,
    #[serde(default)]
    status: Option<CaseStatus>,
    #[serde(default)]
    head: Option<String>,
    #[serde(default)]
    updated: Option<Day>,
}

/// `meldpunt pull --server URL --token-file FILE BUNDLE_DIR`.
pub fn pull(server_url: &str, token_file: &Path, bundle_dir: &Path) -> Result<ExitCode, PullError> {
    let server = Server::new(server_url, token_file)?;
    let bundle = Bundle::create(bundle_dir)?;
    let mut index = bundle.index()?;
    if let Some(before) = &index.server {
        if before != server.url() {
            eprintln!(
                "Note: this bundle was pulled from {before} before; now from {}.",
                server.url()
            );
        }
    }
    recover_interrupted(&bundle)?;

    // The audit log first: if history was rewritten, stop before anything else.
    let body = server.get_bytes("/api/v1/audit", "the audit log request")?;
    let audit_path = bundle.root().join(AUDIT_FILE);
    let known: Vec<AuditEntry> = read_json_or_default(&audit_path)?;
    let log = audit::parse(&body).and_then(|log| {
        audit::verify(&log, &known, index.audit_head.as_ref())?;
        Ok(log)
    });
    let log = match log {
        Ok(log) => log,
        Err(error) => {
            let kept = bundle
                .root()
                .join(format!("audit-refused-{}.json", Day::today()));
            fs::write(&kept, &body).map_err(|e| BundleError::io(&kept, e))?;
            return Err(PullError::Audit { error, kept });
        }
    };
    write_json(&audit_path, &log)?;
    index.audit_head = log.last().map(|e| AuditHead {
        index: e.index,
        hash: e.hash.clone(),
    });
    index.server = Some(server.url().to_owned());
    bundle.write_index(&index)?;

    let listings: Vec<Listing> = server.get_json("/api/v1/cases", "the case list request")?;
    let (mut new, mut updated, mut unchanged) = (0, 0, 0);
    let mut problems = Vec::new();
    let mut on_server = Vec::new();
    for listing in listings {
        let case = match CaseId::parse(&listing.case) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!(
                    "{}: {e}",
                    listing.case.chars().take(60).collect::<String>()
                ));
                continue;
            }
        };
        on_server.push(case.clone());
        if index.shredded.iter().any(|s| s == case.as_str()) {
            println!("{case}: shredded here, not fetched again");
            continue;
        }
        let local: Option<CaseMeta> = bundle.case_meta(&case).ok();
        if let Some(local) = &local {
            let same = listing.head.is_some()
                && local.head == listing.head
                && Some(local.status) == listing.status
                && local.updated == listing.updated;
            if same {
                unchanged += 1;
                continue;
            }
        }
        match fetch_case(&server, &bundle, &case) {
            Ok(notes) => {
                for n in notes {
                    eprintln!("{case}: {n}");
                }
                if local.is_some() {
                    updated += 1;
                    println!("{case}: updated");
                } else {
                    new += 1;
                    println!("{case}: new");
                }
            }
            Err(e @ HttpErrorOr::Http(HttpError::TokenRefused { .. })) => {
                return Err(PullError::Http(e.into_http()));
            }
            Err(e) => problems.push(format!("{case}: {e}")),
        }
    }
    for gone in bundle
        .case_ids()?
        .into_iter()
        .filter(|c| !on_server.contains(c))
    {
        println!("{gone}: no longer on the server (retention ended?); shred it here when its retention ends");
    }
    println!(
        "Pulled from {}: {new} new, {updated} updated, {unchanged} unchanged case(s). \
         Audit log verified: {} entries{}.",
        server.url(),
        log.len(),
        index
            .audit_head
            .as_ref()
            .map(|h| format!(", head {} {}", h.index, &h.hash[..h.hash.len().min(16)]))
            .unwrap_or_default()
    );
    let incoming = bundle.root().join(INCOMING);
    remove_tree(&incoming, false).map_err(|e| BundleError::io(&incoming, e))?;
    if !problems.is_empty() {
        return Err(PullError::Cases { problems });
    }
    index.pulled = Some(Day::today());
    bundle.write_index(&index)?;
    Ok(ExitCode::SUCCESS)
}

/// Puts back a case whose swap was interrupted, and clears partial downloads.
fn recover_interrupted(bundle: &Bundle) -> Result<(), BundleError> {
    let incoming = bundle.root().join(INCOMING);
    let Ok(entries) = fs::read_dir(&incoming) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name
            .strip_suffix(".old")
            .and_then(|n| CaseId::parse(n).ok())
        {
            let live = bundle.case_dir(&id);
            if !live.exists() {
                fs::rename(entry.path(), &live).map_err(|e| BundleError::io(&live, e))?;
            }
        }
    }
    remove_tree(&incoming, false).map_err(|e| BundleError::io(&incoming, e))?;
    Ok(())
}

/// A case-level failure: the server, the bundle, or what the server sent.
#[derive(Debug)]
enum HttpErrorOr {
    Http(HttpError),
    Bundle(BundleError),
    Refused(String),
}

impl HttpErrorOr {
    fn into_http(self) -> HttpError {
        match self {
            HttpErrorOr::Http(e) => e,
            other => HttpError::BadAnswer {
                what: "a case download".into(),
                detail: other.to_string(),
            },
        }
    }
}

impl fmt::Display for HttpErrorOr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpErrorOr::Http(e) => e.fmt(f),
            HttpErrorOr::Bundle(e) => e.fmt(f),
            HttpErrorOr::Refused(why) => f.write_str(why),
        }
    }
}

impl From<HttpError> for HttpErrorOr {
    fn from(e: HttpError) -> Self {
        HttpErrorOr::Http(e)
    }
}

impl From<BundleError> for HttpErrorOr {
    fn from(e: BundleError) -> Self {
        HttpErrorOr::Bundle(e)
    }
}

/// The name a file of a case download is stored under, if it is one the format has.
pub fn accepted_name(raw: &str) -> Option<String> {
    let name = raw.strip_prefix("./").unwrap_or(raw);
    let ok = match name.split_once('/') {
        None => name == "case.json" || name == "report.age",
        Some(("attachments", file)) => file
            .strip_suffix(".age")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
        Some(("thread", file)) => parse_thread_name(file).is_some(),
        _ => false,
    };
    ok.then(|| name.to_owned())
}

/// Downloads one case into `.incoming/`, checks it, and puts it in place.
fn fetch_case(server: &Server, bundle: &Bundle, case: &CaseId) -> Result<Vec<String>, HttpErrorOr> {
    let incoming = bundle.root().join(INCOMING);
    let staging = child(&incoming, case.as_str());
    let io = |p: &Path| {
        let p = p.to_owned();
        move |e: io::Error| HttpErrorOr::Bundle(BundleError::io(&p, e))
    };
    remove_tree(&staging, false).map_err(io(&staging))?;
    create_private_dir_all(&staging).map_err(io(&staging))?;
    let mut notes = Vec::new();

    let answer = server.get(&format!("/api/v1/cases/{case}/download"))?;
    if answer.status != 200 {
        return Err(HttpError::Status {
            what: format!("the download of case {case}"),
            status: answer.status,
            message: answer.message(),
        }
        .into());
    }
    let mut received: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut archive = tar::Archive::new(answer.into_reader());
    let broken = |e: io::Error| {
        HttpErrorOr::Refused(format!(
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
        let Some(name) = accepted_name(&raw).filter(|_| kind.is_file()) else {
            notes.push(format!(
                "ignored an unexpected entry in the download: {raw:?}"
            ));
            continue;
        };
        let path = staging.join(&name);
        if let Some(parent) = path.parent() {
            create_private_dir_all(parent).map_err(io(parent))?;
        }
        let file = create_private_file(&path).map_err(io(&path))?;
        let size = entry.size();
        let mut reader = HashingReader::new(&mut entry, bar(size, format!("{case} {name}")));
        let mut out = BufWriter::new(file);
        io::copy(&mut reader, &mut out).map_err(broken)?;
        out.flush().map_err(io(&path))?;
        out.get_ref().sync_all().map_err(io(&path))?;
        let (sha, n) = reader.finish().map_err(broken)?;
        received.insert(name, (hex::encode(sha), n));
    }

    let meta_path = staging.join("case.json");
    if !meta_path.is_file() {
        return Err(HttpErrorOr::Refused("the download has no case.json".into()));
    }
    let meta: CaseMeta = read_json(&meta_path)?;
    if CaseId::parse(&meta.case).ok().as_ref() != Some(case) {
        return Err(HttpErrorOr::Refused(format!(
            "the download is for case \"{}\", not {case}",
            meta.case
        )));
    }
    if !received.contains_key("report.age") {
        return Err(HttpErrorOr::Refused(
            "the download has no report.age".into(),
        ));
    }
    if meta.files.is_empty() {
        notes.push(
            "case.json lists no files, so the download could not be checked against it".into(),
        );
    }
    for listed in &meta.files {
        match received.get(&listed.name) {
            Some((sha, size))
                if sha.eq_ignore_ascii_case(&listed.sha256) && *size == listed.size => {}
            Some(_) => {
                return Err(HttpErrorOr::Refused(format!(
                    "{} does not match the hash and size case.json gives it: damaged in transit",
                    listed.name
                )))
            }
            None => {
                return Err(HttpErrorOr::Refused(format!(
                    "{} is listed in case.json but missing from the download",
                    listed.name
                )))
            }
        }
    }

    let live = bundle.case_dir(case);
    if live.join("case.json").is_file() {
        if let Some(why) = history_changed(&live, &staging)? {
            let rejected = bundle.root().join("rejected").join(case.as_str());
            let _ = remove_tree(&rejected, false);
            let _ = create_private_dir_all(rejected.parent().unwrap_or(bundle.root()));
            let _ = fs::rename(&staging, &rejected);
            return Err(HttpErrorOr::Refused(format!(
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
fn history_changed(old: &Path, new: &Path) -> Result<Option<String>, HttpErrorOr> {
    if file_hash(&old.join("report.age"))? != file_hash(&new.join("report.age"))? {
        return Ok(Some("report.age is a different file".into()));
    }
    let Ok(entries) = fs::read_dir(old.join("thread")) else {
        return Ok(None);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let there = new.join("thread").join(&name);
        if !there.exists() {
            return Ok(Some(format!("thread/{name} was removed")));
        }
        if file_hash(&entry.path())? != file_hash(&there)? {
            return Ok(Some(format!("thread/{name} is a different file")));
        }
    }
    Ok(None)
}

fn file_hash(path: &Path) -> Result<Option<[u8; 32]>, HttpErrorOr> {
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(HttpErrorOr::Bundle(BundleError::io(path, e))),
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| HttpErrorOr::Bundle(BundleError::io(path, e)))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Some(hasher.finalize().into()))
}

#[cfg(test)]
mod tests {
    use super::accepted_name;

    #[test]
    fn only_the_formats_names_are_accepted() {
        for good in [
            "case.json",
            "report.age",
            "./report.age",
            "attachments/000.age",
            "thread/0001-to_reporter.age",
        ] {
            assert!(accepted_name(good).is_some(), "{good}");
        }
        for bad in [
            "../report.age",
            "/etc/passwd",
            "attachments/../../x.age",
            "attachments/000.age/x",
            "thread/0001-sideways.age",
            "thread/../../0001-to_reporter.age",
            "report.age.sh",
            "attachments/.age",
            "note.age",
        ] {
            assert!(accepted_name(bad).is_none(), "{bad}");
        }
    }
}
