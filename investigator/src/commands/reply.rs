//! `meldpunt reply` and `meldpunt status`: the command line's front to the outbox. The
//! message text comes from a file, standard input or the investigator's editor
//! ([`super::compose`]), asked for only once the thread verified.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::{CaseStatus, Day};

use super::compose::{message_text, ComposeError};
use crate::bundle::{parse_case, Bundle, BundleError};
use crate::keys::{self, KeyError};
use crate::reply::{prepare_reply, queue_status, ReplyError};
use crate::report::{open_case_report, ReportError};

/// Why `reply` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplyCommandError {
    /// The key file could not be used.
    Key(KeyError),
    /// The reply could not be made or queued.
    Reply(ReplyError),
    /// No message text.
    Compose(ComposeError),
}

impl fmt::Display for ReplyCommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyCommandError::Key(e) => e.fmt(f),
            ReplyCommandError::Reply(e) => e.fmt(f),
            ReplyCommandError::Compose(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReplyCommandError {}

impl From<ReplyError> for ReplyCommandError {
    fn from(e: ReplyError) -> Self {
        ReplyCommandError::Reply(e)
    }
}

impl From<BundleError> for ReplyCommandError {
    fn from(e: BundleError) -> Self {
        ReplyCommandError::Reply(ReplyError::Bundle(e))
    }
}

impl From<ReportError> for ReplyCommandError {
    fn from(e: ReportError) -> Self {
        ReplyCommandError::Reply(ReplyError::Report(e))
    }
}

/// `meldpunt reply CASE -i KEY_FILE BUNDLE_DIR [--message-file FILE] [--status S]`.
pub fn reply(
    case: &str,
    key_file: &Path,
    bundle_dir: &Path,
    message_file: Option<&Path>,
    status: Option<CaseStatus>,
) -> Result<ExitCode, ReplyCommandError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = parse_case(case)?;
    bundle.require_case(&case)?;
    let keys = keys::load(key_file).map_err(ReplyCommandError::Key)?;
    let report = open_case_report(&bundle, &case, &keys)?;
    if report.pinned.is_some() {
        if let Some(warning) = report.pins.warning() {
            eprintln!("{warning}\n(The reply goes to the pinned recipients only.)\n");
        }
    }
    let prepared = prepare_reply(&bundle, report, &keys)?;
    for stale in &prepared.now_stale {
        eprintln!(
            "The queued message {} no longer fits the thread ({}); the server would refuse \
             it. It is marked stale and will not be sent.",
            stale.file, stale.why
        );
    }
    let text = message_text(message_file, case.as_str()).map_err(ReplyCommandError::Compose)?;
    let queued = prepared.seal(&bundle, text, status, Day::today())?;

    println!(
        "Queued message {} of the thread of case {case} in outbox/{}, encrypted to the \
         reporter and the {} pinned recipient(s) of \"{}\".",
        queued.number, queued.file, queued.recipients, queued.destination
    );
    if let Some(status) = queued.status {
        println!(
            "It announces the status \"{}\"; the status change is queued too.",
            status.as_str()
        );
    }
    if !queued.readable_by_you {
        eprintln!(
            "Note: your key is not among the pinned recipients, so you cannot read this \
             message back."
        );
    }
    println!("`meldpunt push` sends it.");
    Ok(ExitCode::SUCCESS)
}

/// `meldpunt status CASE STATUS BUNDLE_DIR`: queues a status change.
pub fn status(case: &str, status: CaseStatus, bundle_dir: &Path) -> Result<ExitCode, BundleError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = parse_case(case)?;
    let queued = queue_status(&bundle, &case, status, Day::today())?;
    println!(
        "Queued: case {case} from \"{}\" to \"{}\". `meldpunt push` sends it.",
        queued.from.as_str(),
        queued.to.as_str()
    );
    if status == CaseStatus::Closed {
        println!(
            "Tell the reporter too: `meldpunt reply {case} --status closed …` sends a message \
             that announces it."
        );
    }
    Ok(ExitCode::SUCCESS)
}
