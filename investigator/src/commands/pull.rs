//! `meldpunt pull`: fetches new and changed cases and the audit log into the bundle
//! (checked as [`crate::download`] describes), saying what came and what was refused.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meldpunt_crypto::Day;

use crate::audit::AuditError;
use crate::bundle::{Bundle, BundleError};
use crate::download::{
    clear_incoming, fetch_case, recover_interrupted, update_audit_log, AuditUpdateError,
    DownloadError,
};
use crate::http::{HttpError, Server};

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
        /// Why it is not an announced restore either.
        not_a_restore: String,
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
            PullError::Audit {
                error,
                kept,
                not_a_restore,
            } => write!(
                f,
                "\n\n!!! THE SERVER'S AUDIT LOG DOES NOT EXTEND THE ONE THIS BUNDLE VERIFIED !!!\n\
                 {error}.\nIt is not an announced restore from backup either: {not_a_restore}.\n\
                 Someone rewrote the server's history of investigator actions. \
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

impl From<AuditUpdateError> for PullError {
    fn from(e: AuditUpdateError) -> Self {
        match e {
            AuditUpdateError::Http(e) => PullError::Http(e),
            AuditUpdateError::Bundle(e) => PullError::Bundle(e),
            AuditUpdateError::Refused {
                error,
                kept,
                not_a_restore,
            } => PullError::Audit {
                error,
                kept,
                not_a_restore,
            },
        }
    }
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
    let update = update_audit_log(&server, &bundle, &mut index)?;
    if let Some((restore, lost)) = &update.restore {
        println!(
            "The server was RESTORED FROM A BACKUP on {}, announced by the operator (restore \
             key {}, backup SHA-256 {}): its audit log went back to entry {}.",
            restore.statement.restored,
            restore.fingerprint,
            restore.statement.backup_sha256,
            restore.statement.audit_entries
        );
        println!(
            "{} entr{} this bundle had verified are gone from the server; they are kept in {}. \
             Messages and status changes after the backup may be lost: check the cases below.",
            restore.lost.len(),
            if restore.lost.len() == 1 { "y" } else { "ies" },
            lost.display()
        );
    }
    let log = update.log;
    index.server = Some(server.url().to_owned());
    bundle.write_index(&index)?;

    let list = server.case_list()?;
    let (mut new, mut updated, mut unchanged) = (0, 0, 0);
    let mut problems: Vec<String> = list
        .refused
        .iter()
        .map(|(named, why)| format!("{named}: {why}"))
        .collect();
    let mut on_server = Vec::new();
    for listed in list.cases {
        let case = listed.case.clone();
        on_server.push(case.clone());
        if index.shredded.iter().any(|s| s == case.as_str()) {
            println!("{case}: shredded here, not fetched again");
            continue;
        }
        let local = bundle.case_manifest(&case).ok();
        if let Some(local) = &local {
            let same = local.summary.head == listed.head
                && local.summary.status == listed.status
                && local.summary.updated == listed.updated;
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
            Err(DownloadError::Http(e @ HttpError::TokenRefused { .. })) => {
                return Err(PullError::Http(e));
            }
            Err(e) => problems.push(format!("{case}: {e}")),
        }
    }
    // Every case's messages against the audit log's entries for them (by hash).
    let mut alarms = Vec::new();
    for case in bundle.cases()? {
        if let Ok(manifest) = bundle.case_manifest(&case) {
            for p in crate::audit::cross_check(&log, &manifest) {
                alarms.push(format!("{case}: {p}"));
            }
        }
    }
    for gone in bundle
        .cases()?
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
            .map(|h| format!(
                ", head {} {}",
                h.index,
                h.hash.chars().take(16).collect::<String>()
            ))
            .unwrap_or_default()
    );
    clear_incoming(&bundle)?;
    if !problems.is_empty() {
        return Err(PullError::Cases { problems });
    }
    index.pulled = Some(Day::today());
    bundle.write_index(&index)?;
    if !alarms.is_empty() {
        eprintln!(
            "\n!!! THE THREADS DO NOT MATCH THE AUDIT LOG !!!\nThe server's storage holds messages \
             no audit entry records, or lacks messages the log records. Open the case for \
             details; tell the bureau's management and the operator."
        );
        for a in &alarms {
            eprintln!("  {a}");
        }
        return Ok(ExitCode::from(crate::commands::open::EXIT_PROBLEMS));
    }
    Ok(ExitCode::SUCCESS)
}
