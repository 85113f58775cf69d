//! Decrypting and checking what a case folder holds: the report (against the pinned
//! recipients) and the thread (every message's MAC, signature and place). Shared by
//! `open` and `reply`.

use std::fmt;
use std::fs;
use std::path::PathBuf;

use meldpunt_crypto::agefile::DecryptError;
use meldpunt_crypto::recipients::same_set;
use meldpunt_crypto::{
    check_header, ciphertext_hash, fingerprint, open_message, open_report, Direction, Message,
    OpenError, OpenedReport, Recipient, ThreadSecrets, ThreadState,
};

use meldpunt_crypto::header::HEADER_READ_LEN;

use crate::bundle::{read_envelope, Bundle, BundleError, CaseId, CaseMeta};
use crate::keys::LoadedKeys;
use crate::pin::Pins;

/// Why a case's report could not be opened at all.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// The bundle could not be read.
    Bundle(BundleError),
    /// The key is not a recipient of the report.
    NotForThisKey {
        /// The case.
        case: CaseId,
        /// The key file.
        key_file: PathBuf,
        /// The key file's recipients.
        recipients: Vec<Recipient>,
    },
    /// The report file is damaged.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The report decrypts but is not authentic or not a report.
    NotAuthentic {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Bundle(e) => e.fmt(f),
            ReportError::NotForThisKey {
                case,
                key_file,
                recipients,
            } => {
                let list: Vec<&str> = recipients.iter().map(Recipient::as_str).collect();
                write!(
                    f,
                    "case {case} was not encrypted to the recipient of {} ({}); use the key \
                     of an investigator of the report's destination",
                    key_file.display(),
                    list.join(", ")
                )
            }
            ReportError::Damaged { path, detail } => {
                write!(f, "the report file {} is damaged: {detail}", path.display())
            }
            ReportError::NotAuthentic { path, detail } => write!(
                f,
                "the report file {} decrypts but cannot be trusted: {detail}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ReportError {}

impl From<BundleError> for ReportError {
    fn from(e: BundleError) -> Self {
        ReportError::Bundle(e)
    }
}

/// How the report's recipients compare with the pinned ones.
pub enum PinCheck {
    /// The same set.
    Matches {
        /// The set's fingerprint.
        fingerprint: String,
    },
    /// This bundle has no pins for the report's destination.
    NotPinned {
        /// The destination.
        destination: String,
    },
    /// A different set: someone added or removed a key.
    Differs {
        /// The destination.
        destination: String,
        /// In the report but not pinned (a key the server may have added).
        added: Vec<Recipient>,
        /// Pinned but not in the report.
        missing: Vec<Recipient>,
    },
}

impl PinCheck {
    /// Whether the report went to exactly the pinned keys.
    pub fn is_ok(&self) -> bool {
        matches!(self, PinCheck::Matches { .. })
    }

    /// The warning to show, if any. Loud on purpose.
    pub fn warning(&self) -> Option<String> {
        match self {
            PinCheck::Matches { .. } => None,
            PinCheck::NotPinned { destination } => Some(format!(
                "WARNING: no recipients are pinned for destination \"{destination}\", so this \
                 report's recipients cannot be checked. Pin them from the key ceremony: \
                 `meldpunt pin BUNDLE_DIR {destination} age1…`"
            )),
            PinCheck::Differs {
                destination,
                added,
                missing,
            } => {
                let mut s = format!(
                    "WARNING: THIS REPORT WAS ENCRYPTED TO A DIFFERENT SET OF KEYS THAN THE \
                     ONES PINNED FOR \"{destination}\".\nSomeone (possibly the server) may have \
                     added a key to read reports. Tell the key holders and the operator; do not \
                     trust the published key list until this is explained."
                );
                for r in added {
                    s.push_str(&format!(
                        "\n  NOT PINNED, but the report was encrypted to it: {r}"
                    ));
                }
                for r in missing {
                    s.push_str(&format!("\n  pinned, but missing from the report: {r}"));
                }
                Some(s)
            }
        }
    }
}

/// A decrypted report with its checks.
pub struct CaseReport {
    /// The case.
    pub case: CaseId,
    /// The case folder in the bundle.
    pub dir: PathBuf,
    /// The server's metadata.
    pub meta: CaseMeta,
    /// The decrypted, signature-checked report.
    pub opened: OpenedReport,
    /// The recipients against the pins.
    pub pins: PinCheck,
    /// The pinned recipients of the report's destination, if pinned.
    pub pinned: Option<Vec<Recipient>>,
    /// Other warnings about the report.
    pub warnings: Vec<String>,
}

/// Opens and checks a case's report.
pub fn open_case_report(
    bundle: &Bundle,
    case: &CaseId,
    keys: &LoadedKeys,
) -> Result<CaseReport, ReportError> {
    let dir = bundle.require_case(case)?;
    let meta = bundle.case_meta(case)?;
    let path = dir.join("report.age");
    let ciphertext = read_envelope(&path)?;
    let opened = open_report(&ciphertext, &keys.identities()).map_err(|e| match e {
        OpenError::Decrypt(DecryptError::NotARecipient) => ReportError::NotForThisKey {
            case: case.clone(),
            key_file: keys.path().to_owned(),
            recipients: keys.recipients(),
        },
        OpenError::Decrypt(e) => ReportError::Damaged {
            path: path.clone(),
            detail: e.to_string(),
        },
        other => ReportError::NotAuthentic {
            path: path.clone(),
            detail: other.to_string(),
        },
    })?;
    let pins = Pins::read(bundle)?;
    let pinned = pins.recipients(bundle, &opened.destination)?;
    let check = match &pinned {
        None => PinCheck::NotPinned {
            destination: opened.destination.clone(),
        },
        Some(p) if same_set(p, &opened.recipients) => PinCheck::Matches {
            fingerprint: fingerprint(p),
        },
        Some(p) => PinCheck::Differs {
            destination: opened.destination.clone(),
            added: opened
                .recipients
                .iter()
                .filter(|r| !p.contains(r))
                .cloned()
                .collect(),
            missing: p
                .iter()
                .filter(|r| !opened.recipients.contains(r))
                .cloned()
                .collect(),
        },
    };
    let mut warnings = Vec::new();
    // The report lists the keys it was encrypted to; the age header must not hold more.
    let start = &ciphertext[..ciphertext.len().min(HEADER_READ_LEN)];
    match check_header(start) {
        Ok(summary) if summary.x25519_stanzas > opened.recipients.len() => warnings.push(format!(
            "WARNING: the report's age file is encrypted to {} keys but names only {}: \
             someone added a key the report does not list.",
            summary.x25519_stanzas,
            opened.recipients.len()
        )),
        Ok(_) => {}
        Err(e) => warnings.push(format!("WARNING: the report's age header is unusual: {e}")),
    }
    if !meta.destination.is_empty() && meta.destination != opened.destination {
        warnings.push(format!(
            "WARNING: the server files this case under destination \"{}\", but the reporter \
             sent it to \"{}\".",
            meta.destination, opened.destination
        ));
    }
    Ok(CaseReport {
        case: case.clone(),
        dir,
        meta,
        opened,
        pins: check,
        pinned,
        warnings,
    })
}

/// One file of the thread, verified or not.
pub struct ThreadItem {
    /// The file's name in `thread/`.
    pub file: String,
    /// SHA-256 of the file, if it could be read.
    pub sha256: Option<[u8; 32]>,
    /// The verified message, or why it is not trusted.
    pub result: Result<Message, String>,
}

/// A case's thread as checked.
pub struct VerifiedThread {
    /// The files in thread order.
    pub items: Vec<ThreadItem>,
    /// The state after the last verified message.
    pub state: ThreadState,
    /// Problems not tied to one message (e.g. the server's head differs).
    pub notes: Vec<String>,
    /// Signs of a key added to the reporter's messages: shown, but the thread itself
    /// still verifies.
    pub warnings: Vec<String>,
}

impl VerifiedThread {
    /// How many problems were found.
    pub fn failures(&self) -> usize {
        self.items.iter().filter(|i| i.result.is_err()).count() + self.notes.len()
    }
}

/// Parses `0001-to_reporter.age` into its number and direction.
pub fn parse_thread_name(name: &str) -> Option<(u32, Direction)> {
    let stem = name.strip_suffix(".age")?;
    let (number, direction) = stem.split_once('-')?;
    if number.len() < 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let direction = match direction {
        "to_reporter" => Direction::ToReporter,
        "from_reporter" => Direction::FromReporter,
        _ => return None,
    };
    Some((number.parse().ok()?, direction))
}

/// Decrypts and checks every message of a case's thread, in order.
pub fn verify_thread(
    report: &CaseReport,
    keys: &LoadedKeys,
) -> Result<VerifiedThread, BundleError> {
    let dir = report.dir.join("thread");
    let mut files: Vec<(u32, Direction, String)> = Vec::new();
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    if dir.is_dir() {
        for entry in fs::read_dir(&dir).map_err(|e| BundleError::io(&dir, e))? {
            let entry = entry.map_err(|e| BundleError::io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            match parse_thread_name(&name) {
                Some((n, d)) => files.push((n, d, name)),
                None => notes.push(format!("unexpected file in the thread folder: {name}")),
            }
        }
    }
    files.sort_by_key(|f| f.0);
    let mut state = ThreadState::new(report.opened.ciphertext_sha256);
    // Who the reporter's next message should be encrypted to (PROTOCOL.md §8.2).
    let mut reply_set = report.opened.recipients.clone();
    let mut items: Vec<ThreadItem> = Vec::new();
    for (i, (number, named, name)) in files.into_iter().enumerate() {
        let ciphertext = match read_envelope(&dir.join(&name)) {
            Ok(c) => c,
            Err(e) => {
                items.push(ThreadItem {
                    file: name,
                    sha256: None,
                    result: Err(e.to_string()),
                });
                continue;
            }
        };
        let sha256 = Some(ciphertext_hash(&ciphertext));
        // After a failure the order can no longer be trusted (PROTOCOL.md §8.3).
        let result = if items.iter().any(|i| i.result.is_err()) {
            Err(
                "not verified: it comes after a message that failed, so its place in the \
                 thread cannot be trusted"
                    .to_owned(),
            )
        } else {
            check_message(&ciphertext, keys, &report.opened.thread, &mut state, named)
        };
        let result = match result {
            Ok(_) if number as usize != i + 1 => Err(format!(
                "numbered {number} but is message {} of the thread",
                i + 1
            )),
            other => other,
        };
        if let Ok(m) = &result {
            match m.direction {
                Direction::ToReporter if !m.reply_to.is_empty() => reply_set = m.reply_to.clone(),
                Direction::FromReporter => {
                    let start = &ciphertext[..ciphertext.len().min(HEADER_READ_LEN)];
                    if let Ok(h) = check_header(start) {
                        if h.x25519_stanzas > reply_set.len() {
                            warnings.push(format!(
                                "thread/{name}: the reporter's message is encrypted to {} keys, \
                                 but the reporter should have used {}: someone may have added a \
                                 key to read it",
                                h.x25519_stanzas,
                                reply_set.len()
                            ));
                        }
                    }
                }
                Direction::ToReporter => {}
            }
        }
        items.push(ThreadItem {
            file: name,
            sha256,
            result,
        });
    }
    if let Some(server_head) = &report.meta.head {
        if !server_head.eq_ignore_ascii_case(&hex::encode(state.head()))
            && items.iter().all(|i| i.result.is_ok())
        {
            notes.push(
                "the server says the thread has a different last message than the bundle \
                 holds: a message may be missing (pull again) or was dropped by the server"
                    .to_owned(),
            );
        }
    }
    Ok(VerifiedThread {
        items,
        state,
        notes,
        warnings,
    })
}

/// Decrypts and verifies one message and checks its place in the thread.
pub fn check_message(
    ciphertext: &[u8],
    keys: &LoadedKeys,
    thread: &ThreadSecrets,
    state: &mut ThreadState,
    named: Direction,
) -> Result<Message, String> {
    let message = open_message(ciphertext, &keys.identities(), thread).map_err(|e| match e {
        OpenError::Decrypt(DecryptError::NotARecipient) => format!(
            "cannot be decrypted with {}: it was not encrypted to this key",
            keys.path().display()
        ),
        other => other.to_string(),
    })?;
    if message.direction != named {
        return Err(format!(
            "the file name says {} but the message is {}",
            direction_words(named),
            direction_words(message.direction)
        ));
    }
    state
        .accept(ciphertext, &message)
        .map_err(|e| e.to_string())?;
    Ok(message)
}

/// A direction in the user's words.
pub fn direction_words(direction: Direction) -> &'static str {
    match direction {
        Direction::ToReporter => "to the reporter",
        Direction::FromReporter => "from the reporter",
    }
}
