//! `meldpunt shred`: removes a case from the bundle and from a decrypted folder when
//! its retention ends. The server deletes its copy itself; copies that crossed the air
//! gap only this command can reach.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use crate::bundle::{Bundle, BundleError, CaseId};
use crate::fsutil::{child, remove_tree};
use crate::outbox::{Outbox, State};

/// Why `shred` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ShredError {
    /// The bundle could not be read or written.
    Bundle(BundleError),
    /// The case has messages or status changes that were never sent.
    Unsent {
        /// The case.
        case: CaseId,
        /// How many.
        count: usize,
    },
    /// Removing failed part-way.
    Remove {
        /// The folder.
        path: std::path::PathBuf,
        /// The system's error.
        error: std::io::Error,
    },
}

impl fmt::Display for ShredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShredError::Bundle(e) => e.fmt(f),
            ShredError::Unsent { case, count } => write!(
                f,
                "case {case} has {count} queued item(s) in the outbox that were never sent; \
                 `meldpunt push` them first, or give --force to shred them too"
            ),
            ShredError::Remove { path, error } => write!(
                f,
                "could not remove {}: {error}; run shred again to finish",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ShredError {}

impl From<BundleError> for ShredError {
    fn from(e: BundleError) -> Self {
        ShredError::Bundle(e)
    }
}

/// `meldpunt shred CASE BUNDLE_DIR [OUT_DIR] [--force]`.
pub fn shred(
    case: &str,
    bundle_dir: &Path,
    out_dir: Option<&Path>,
    force: bool,
) -> Result<ExitCode, ShredError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = CaseId::parse(case)?;
    let in_bundle = bundle.case_dir(&case);
    let opened = out_dir.map(|d| child(d, case.as_str()));
    let mut outbox = Outbox::read(&bundle)?;
    let queued = outbox.for_case(&case).count();
    let exists = in_bundle.exists() || queued > 0 || opened.as_ref().is_some_and(|p| p.exists());
    if !exists {
        return Err(ShredError::Bundle(BundleError::UnknownCase {
            known: bundle.case_ids()?,
            case,
        }));
    }
    let unsent = outbox
        .for_case(&case)
        .filter(|i| i.state() == State::Queued)
        .count();
    if unsent > 0 && !force {
        return Err(ShredError::Unsent {
            case,
            count: unsent,
        });
    }

    let removed_bundle = remove(&in_bundle, false)?;
    let removed_outbox = remove(&child(&bundle.outbox_dir(), case.as_str()), false)?;
    outbox.items.retain(|i| i.case() != case.as_str());
    outbox.write(&bundle)?;
    let mut index = bundle.index()?;
    if !index.shredded.iter().any(|c| c == case.as_str()) {
        index.shredded.push(case.to_string());
    }
    bundle.write_index(&index)?;
    println!("Shredded case {case}:");
    println!("  bundle: {removed_bundle} file(s) removed, {removed_outbox} outbox file(s)");
    if let Some(path) = opened {
        // The decrypted copy is plaintext: overwrite before removing.
        let removed = remove(&path, true)?;
        println!(
            "  {}: {removed} decrypted file(s) overwritten and removed",
            path.display()
        );
    }
    println!(
        "`meldpunt pull` will not fetch this case again. Copies elsewhere (backups, other \
         machines, printed pages) are not reached by this command; on SSDs overwriting is \
         a best effort, which is why the offline machine's disk should be encrypted."
    );
    Ok(ExitCode::SUCCESS)
}

fn remove(path: &Path, scrub: bool) -> Result<u64, ShredError> {
    remove_tree(path, scrub).map_err(|error| ShredError::Remove {
        path: path.to_owned(),
        error,
    })
}
