//! Shredding: removing a case from the bundle and from a decrypted folder when its
//! retention ends. The server deletes its copy itself; copies that crossed the air gap
//! only this can reach.

use std::fmt;
use std::path::{Path, PathBuf};

use meldpunt_wire::CaseNumber;

use crate::bundle::{Bundle, BundleError};
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
        case: CaseNumber,
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

/// What shredding removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shredded {
    /// Files removed from the bundle's case folder.
    pub bundle_files: u64,
    /// Files removed from the outbox.
    pub outbox_files: u64,
    /// The decrypted folder, and how many plaintext files were overwritten and removed.
    pub decrypted: Option<(PathBuf, u64)>,
}

/// Removes a case from the bundle (case folder, outbox files and items) and, if
/// `opened_into` is given (OUT_DIR of `open`), its decrypted folder there, overwriting
/// the plaintext first; records it so `pull` does not fetch it again. Refuses while the
/// outbox holds unsent items for it, unless `force`.
pub fn shred_case(
    bundle: &Bundle,
    case: &CaseNumber,
    opened_into: Option<&Path>,
    force: bool,
) -> Result<Shredded, ShredError> {
    let in_bundle = bundle.case_dir(case);
    let opened = opened_into.map(|d| child(d, case.as_str()));
    let mut outbox = Outbox::read(bundle)?;
    let queued = outbox.for_case(case).count();
    let exists = in_bundle.exists() || queued > 0 || opened.as_ref().is_some_and(|p| p.exists());
    if !exists {
        return Err(ShredError::Bundle(BundleError::UnknownCase {
            known: bundle.cases()?,
            case: case.clone(),
        }));
    }
    let unsent = outbox
        .for_case(case)
        .filter(|i| i.state() == State::Queued)
        .count();
    if unsent > 0 && !force {
        return Err(ShredError::Unsent {
            case: case.clone(),
            count: unsent,
        });
    }

    let bundle_files = remove(&in_bundle, false)?;
    let outbox_files = remove(&child(&bundle.outbox_dir(), case.as_str()), false)?;
    outbox.items.retain(|i| i.case() != case);
    outbox.write(bundle)?;
    let mut index = bundle.index()?;
    if !index.shredded.iter().any(|c| c == case.as_str()) {
        index.shredded.push(case.to_string());
    }
    bundle.write_index(&index)?;
    let decrypted = match opened {
        // The decrypted copy is plaintext: overwrite before removing.
        Some(path) => {
            let removed = remove(&path, true)?;
            Some((path, removed))
        }
        None => None,
    };
    Ok(Shredded {
        bundle_files,
        outbox_files,
        decrypted,
    })
}

fn remove(path: &Path, scrub: bool) -> Result<u64, ShredError> {
    remove_tree(path, scrub).map_err(|error| ShredError::Remove {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Item;
    use meldpunt_crypto::{CaseStatus, Day};
    use std::fs;

    #[test]
    fn shredding_removes_everywhere_and_waits_for_unsent_items() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = Bundle::create(&dir.path().join("bundle")).unwrap();
        let case = CaseNumber::parse("MP-AAAAAAAAAA").unwrap();
        let keep = CaseNumber::parse("MP-BBBBBBBBBB").unwrap();
        for c in [&case, &keep] {
            fs::create_dir_all(bundle.case_dir(c).join("thread")).unwrap();
            fs::write(bundle.case_dir(c).join("case.json"), "{}").unwrap();
            fs::write(bundle.case_dir(c).join("report.age"), "x").unwrap();
        }
        let out = dir.path().join("out");
        fs::create_dir_all(out.join(case.as_str())).unwrap();
        fs::write(out.join(case.as_str()).join("report.md"), "secret").unwrap();
        let mut outbox = Outbox::default();
        let day = Day::parse("2026-11-02").unwrap();
        for c in [&case, &keep] {
            outbox.items.push(Item::Status {
                case: c.clone(),
                status: CaseStatus::Closed,
                queued: day,
                state: State::Queued,
                sent: None,
            });
        }
        outbox.write(&bundle).unwrap();

        assert!(matches!(
            shred_case(&bundle, &case, Some(&out), false),
            Err(ShredError::Unsent { count: 1, .. })
        ));
        let done = shred_case(&bundle, &case, Some(&out), true).unwrap();
        assert_eq!(done.bundle_files, 2);
        assert_eq!(done.decrypted, Some((out.join(case.as_str()), 1)));
        assert!(!bundle.case_dir(&case).exists() && !out.join(case.as_str()).exists());
        assert_eq!(bundle.cases().unwrap(), std::slice::from_ref(&keep));
        let left = Outbox::read(&bundle).unwrap();
        assert!(left.items.iter().all(|i| *i.case() == keep));
        assert_eq!(bundle.index().unwrap().shredded, [case.to_string()]);
        assert!(matches!(
            shred_case(&bundle, &case, None, false),
            Err(ShredError::Bundle(BundleError::UnknownCase { .. }))
        ));
    }
}
