//! `meldpunt reply` and `meldpunt status`: messages to the reporter and status
//! changes, written offline into the outbox for `push`.
//!
//! A reply is encrypted to the reporter and to the destination's PINNED recipients,
//! never to whatever the bundle lists, and extends the thread head after everything
//! already verified or queued.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meldpunt_crypto::{ciphertext_hash, seal_to_reporter, CaseStatus, Day, Direction, SealError};

use crate::bundle::{read_envelope, Bundle, BundleError, CaseId};
use crate::cases::status_word;
use crate::compose::{message_text, ComposeError};
use crate::fsutil::{child, create_private_dir_all, create_private_file};
use crate::keys::{self, KeyError};
use crate::outbox::{Item, Outbox, State};
use crate::verify::{check_message, open_case_report, verify_thread, ReportError};

/// Why `reply` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplyError {
    /// The key file could not be used.
    Key(KeyError),
    /// The bundle could not be read or written.
    Bundle(BundleError),
    /// The report could not be opened.
    Report(ReportError),
    /// No recipients are pinned for the report's destination.
    NotPinned {
        /// The destination.
        destination: String,
    },
    /// The thread does not verify; a reply would build on it.
    ThreadNotVerified {
        /// The case.
        case: CaseId,
        /// How many problems.
        problems: usize,
    },
    /// No message text.
    Compose(ComposeError),
    /// Encryption failed.
    Seal(SealError),
    /// Writing the outbox failed.
    Write {
        /// The file.
        path: PathBuf,
        /// The system's error.
        error: std::io::Error,
    },
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Key(e) => e.fmt(f),
            ReplyError::Bundle(e) => e.fmt(f),
            ReplyError::Report(e) => e.fmt(f),
            ReplyError::NotPinned { destination } => write!(
                f,
                "no recipients are pinned for destination \"{destination}\": a reply is \
                 encrypted to the pinned recipients only. Pin them first: \
                 `meldpunt pin BUNDLE_DIR {destination} age1…`"
            ),
            ReplyError::ThreadNotVerified { case, problems } => write!(
                f,
                "the thread of case {case} does not verify ({problems} problem(s)); a reply \
                 would build on messages that cannot be trusted. See `meldpunt open` for what \
                 is wrong"
            ),
            ReplyError::Compose(e) => e.fmt(f),
            ReplyError::Seal(e) => write!(f, "the message could not be encrypted: {e}"),
            ReplyError::Write { path, error } => {
                write!(f, "could not write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for ReplyError {}

impl From<BundleError> for ReplyError {
    fn from(e: BundleError) -> Self {
        ReplyError::Bundle(e)
    }
}

/// `meldpunt reply CASE -i KEY_FILE BUNDLE_DIR [--message-file FILE] [--status S]`.
pub fn reply(
    case: &str,
    key_file: &Path,
    bundle_dir: &Path,
    message_file: Option<&Path>,
    status: Option<CaseStatus>,
) -> Result<ExitCode, ReplyError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = CaseId::parse(case)?;
    bundle.require_case(&case)?;
    let keys = keys::load(key_file).map_err(ReplyError::Key)?;
    let report = open_case_report(&bundle, &case, &keys).map_err(ReplyError::Report)?;
    let pinned = report.pinned.clone().ok_or_else(|| ReplyError::NotPinned {
        destination: report.opened.destination.clone(),
    })?;
    if let Some(warning) = report.pins.warning() {
        eprintln!("{warning}\n(The reply goes to the pinned recipients only.)\n");
    }
    let thread = verify_thread(&report, &keys)?;
    if thread.failures() > 0 {
        return Err(ReplyError::ThreadNotVerified {
            case,
            problems: thread.failures(),
        });
    }
    let mut state = thread.state;
    let in_thread: Vec<[u8; 32]> = thread.items.iter().filter_map(|i| i.sha256).collect();

    // Messages written earlier but not yet in the pulled thread come first.
    let mut outbox = Outbox::read(&bundle)?;
    let mut pending = 0usize;
    let today = Day::today();
    for item in outbox
        .items
        .iter_mut()
        .filter(|i| i.case() == case.as_str())
    {
        let Item::Message {
            file,
            state: item_state,
            ..
        } = item
        else {
            continue;
        };
        if *item_state == State::Stale {
            continue;
        }
        let path = bundle.outbox_dir().join(file.as_str());
        let ciphertext = read_envelope(&path)?;
        if in_thread.contains(&ciphertext_hash(&ciphertext)) {
            continue;
        }
        match check_message(
            &ciphertext,
            &keys,
            &report.opened.thread,
            &mut state,
            Direction::ToReporter,
        ) {
            Ok(_) => pending += 1,
            Err(why) if *item_state == State::Queued => {
                eprintln!(
                    "The queued message {file} no longer fits the thread ({why}); the server \
                     would refuse it. It is marked stale and will not be sent."
                );
                *item_state = State::Stale;
            }
            Err(why) => {
                return Err(ReplyError::Bundle(BundleError::Damaged {
                    path,
                    detail: why,
                }));
            }
        }
    }

    let text = message_text(message_file, case.as_str()).map_err(ReplyError::Compose)?;
    let mut draft = state.draft(Direction::ToReporter, today, text);
    draft.status = status;
    draft.reply_to = pinned.clone();
    let sealed =
        seal_to_reporter(&draft, &report.opened.thread, &pinned).map_err(ReplyError::Seal)?;

    let number = thread.items.len() + pending + 1;
    let case_dir = child(&bundle.outbox_dir(), case.as_str());
    create_private_dir_all(&case_dir).map_err(|error| ReplyError::Write {
        path: case_dir.clone(),
        error,
    })?;
    let name = format!("{number:04}-to_reporter.age");
    let path = case_dir.join(&name);
    {
        use std::io::Write;
        let mut f = create_private_file(&path).map_err(|error| ReplyError::Write {
            path: path.clone(),
            error,
        })?;
        f.write_all(&sealed)
            .and_then(|()| f.sync_all())
            .map_err(|error| ReplyError::Write {
                path: path.clone(),
                error,
            })?;
    }
    outbox.items.push(Item::Message {
        case: case.to_string(),
        file: format!("{case}/{name}"),
        extends: hex::encode(state.head()),
        sha256: hex::encode(ciphertext_hash(&sealed)),
        queued: today,
        state: State::Queued,
        sent: None,
    });
    if let Some(status) = status {
        outbox.items.push(Item::Status {
            case: case.to_string(),
            status,
            queued: today,
            state: State::Queued,
            sent: None,
        });
    }
    outbox.write(&bundle)?;

    println!(
        "Queued message {number} of the thread of case {case} in outbox/{case}/{name}, \
         encrypted to the reporter and the {} pinned recipient(s) of \"{}\".",
        pinned.len(),
        report.opened.destination
    );
    if let Some(status) = status {
        println!(
            "It announces the status \"{}\"; the status change is queued too.",
            status_word(status)
        );
    }
    if !keys.recipients().iter().any(|r| pinned.contains(r)) {
        eprintln!(
            "Note: your key is not among the pinned recipients, so you cannot read this \
             message back."
        );
    }
    println!("`meldpunt push` sends it.");
    Ok(ExitCode::SUCCESS)
}

/// Why `status` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StatusError {
    /// The bundle could not be read or written.
    Bundle(BundleError),
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusError::Bundle(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StatusError {}

impl From<BundleError> for StatusError {
    fn from(e: BundleError) -> Self {
        StatusError::Bundle(e)
    }
}

/// `meldpunt status CASE STATUS BUNDLE_DIR`: queues a status change.
pub fn status(case: &str, status: CaseStatus, bundle_dir: &Path) -> Result<ExitCode, StatusError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = CaseId::parse(case)?;
    let meta = bundle.case_meta(&case)?;
    let mut outbox = Outbox::read(&bundle)?;
    outbox.items.push(Item::Status {
        case: case.to_string(),
        status,
        queued: Day::today(),
        state: State::Queued,
        sent: None,
    });
    outbox.write(&bundle)?;
    println!(
        "Queued: case {case} from \"{}\" to \"{}\". `meldpunt push` sends it.",
        status_word(meta.status),
        status_word(status)
    );
    if status == CaseStatus::Closed {
        println!(
            "Tell the reporter too: `meldpunt reply {case} --status closed …` sends a message \
             that announces it."
        );
    }
    Ok(ExitCode::SUCCESS)
}
