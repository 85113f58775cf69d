//! `meldpunt open`: decrypts and verifies one case into a folder an investigator can
//! read (see [`crate::opened`] for the checks and [`crate::render`] for the documents),
//! then prints a summary and every problem found. The exit code is 3 if there was any.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::bundle::{parse_case, Bundle, BundleError};
use crate::fsutil::{create_private_dir_all, remove_tree};
use crate::keys::{self, KeyError};
use crate::opened::{open_case, OpenCaseError, OpenedCase};
use crate::render::{pin_line, write_documents, CONTACT_FILE};

/// Exit code when the case was opened but something did not verify.
pub const EXIT_PROBLEMS: u8 = 3;

/// Why `open` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenCommandError {
    /// The key file could not be used.
    Key(KeyError),
    /// The case could not be opened or written.
    Case(OpenCaseError),
    /// The case was opened into this folder before.
    AlreadyOpened {
        /// The case's output folder.
        path: PathBuf,
    },
}

impl fmt::Display for OpenCommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenCommandError::Key(e) => e.fmt(f),
            OpenCommandError::Case(e) => e.fmt(f),
            OpenCommandError::AlreadyOpened { path } => write!(
                f,
                "{} already exists: the case was opened before. Give --replace to write it \
                 anew (the old folder is removed), or choose another OUT_DIR",
                path.display()
            ),
        }
    }
}

impl std::error::Error for OpenCommandError {}

impl From<OpenCaseError> for OpenCommandError {
    fn from(e: OpenCaseError) -> Self {
        OpenCommandError::Case(e)
    }
}

impl From<BundleError> for OpenCommandError {
    fn from(e: BundleError) -> Self {
        OpenCommandError::Case(OpenCaseError::Bundle(e))
    }
}

/// `meldpunt open CASE -i KEY_FILE BUNDLE_DIR -o OUT_DIR [--replace]`.
pub fn open(
    case: &str,
    key_file: &Path,
    bundle_dir: &Path,
    out_dir: &Path,
    replace: bool,
) -> Result<ExitCode, OpenCommandError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = parse_case(case)?;
    bundle.require_case(&case)?;
    let keys = keys::load(key_file).map_err(OpenCommandError::Key)?;
    let mut opened = open_case(&bundle, &case, &keys)?;

    let target = out_dir.join(case.as_str());
    let write_err = |error| {
        OpenCommandError::Case(OpenCaseError::Write {
            path: target.clone(),
            error,
        })
    };
    if target.symlink_metadata().is_ok() {
        if !replace {
            return Err(OpenCommandError::AlreadyOpened { path: target });
        }
        remove_tree(&target, true).map_err(write_err)?;
    }
    create_private_dir_all(&target).map_err(write_err)?;
    opened.save_attachments(&keys, &target.join("attachments"))?;
    opened.check_documents(
        &target.join("attachments"),
        &target.join(crate::documents::SHAREABLE_DIR),
    );
    let problems = opened.problems();
    write_documents(&opened, &target, &problems)?;

    print_summary(&opened, &target);
    if problems.is_empty() {
        println!("Everything verified.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!();
        eprintln!(
            "{} PROBLEM(S) FOUND — read them before you rely on this case:",
            problems.len()
        );
        for p in &problems {
            eprintln!();
            eprintln!("{p}");
        }
        Ok(ExitCode::from(EXIT_PROBLEMS))
    }
}

fn print_summary(opened: &OpenedCase, target: &Path) {
    let report = &opened.report;
    println!(
        "Case {}: report of {} to \"{}\", decrypted into {}",
        report.case,
        report.manifest.summary.received,
        report.opened.destination,
        target.display()
    );
    println!("  encrypted to:  {}", pin_line(&report.pins));
    println!(
        "  attachments:   {} of {} verified and saved",
        opened.attachments_saved(),
        opened.attachments.len()
    );
    println!(
        "  thread:        {} of {} message(s) verified",
        opened.thread.verified(),
        opened.thread.items.len()
    );
    if opened.contact().is_some() {
        println!("  contact:       {CONTACT_FILE} — IDENTIFYING, do not share");
    }
    print_hidden_data(opened);
}

/// The documents' hidden data: what the report records, what is still in them, the
/// copies without it. Kinds and places only, never values.
fn print_hidden_data(opened: &OpenedCase) {
    let encrypted_by = opened.report.opened.content.encrypted_by;
    let mut copies = false;
    for (i, a) in opened.attachments.iter().enumerate() {
        let Some(hidden) = &a.hidden else { continue };
        println!(
            "  document {}:    {}",
            i + 1,
            crate::documents::record_words(&a.entry, encrypted_by)
        );
        if !hidden.found.is_empty() {
            println!(
                "                 STILL CARRIES identifying metadata: {}",
                hidden.found_words()
            );
        }
        if let Some(why) = &hidden.not_checked {
            println!("                 not fully checked: {why}");
        }
        match &hidden.shareable {
            Ok(name) => {
                copies = true;
                println!(
                    "                 copy without it: {}/{name}",
                    crate::documents::SHAREABLE_DIR
                )
            }
            Err(why) => println!("                 no copy without it: {why}"),
        }
    }
    if copies {
        println!(
            "  Share the copies in {}/ with colleagues, not the originals (Art. 16 of EU \
             Directive 2019/1937): the originals may name the reporter.",
            crate::documents::SHAREABLE_DIR
        );
    }
}
