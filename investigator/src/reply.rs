//! Messages to the reporter and status changes, written offline into the outbox for
//! `push`.
//!
//! A reply is encrypted to the reporter and to the destination's PINNED recipients,
//! never to whatever the bundle lists, and extends the thread head after everything
//! already verified or queued. It is made in two steps, so a front end can show the
//! investigator what it found before asking for the text: [`prepare_reply`] checks the
//! thread (a reply is never written on top of one that does not verify) and the
//! messages queued before; [`PreparedReply::seal`] encrypts the text and queues it.

use std::fmt;
#[cfg(test)]
use std::fs;
use std::io::Write;
use std::path::PathBuf;

use meldpunt_crypto::{
    ciphertext_hash, open_message, seal_to_reporter, CaseStatus, Day, Direction, Recipient,
    SealError, ThreadReader, Verdict,
};
use meldpunt_wire::{CaseFile, CaseNumber};
use zeroize::Zeroizing;

use crate::bundle::{read_envelope, Bundle, BundleError};
use crate::fsutil::{child, create_private_dir_all, create_private_file};
use crate::keys::LoadedKeys;
use crate::opened::OpenedCase;
use crate::outbox::{Item, Outbox, State};
use crate::report::{CaseReport, ReportError};
use crate::thread::{explain, read_thread};

/// Why a reply could not be queued.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplyError {
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
        case: CaseNumber,
        /// How many problems.
        problems: usize,
    },
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

impl From<ReportError> for ReplyError {
    fn from(e: ReportError) -> Self {
        ReplyError::Report(e)
    }
}

/// A queued message that no longer fits the thread: marked stale, never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NowStale {
    /// The message's file, relative to `outbox/`.
    pub file: String,
    /// Why it does not fit.
    pub why: String,
}

/// A case checked and ready for a reply: the thread verified, the messages queued
/// before read on top of it.
pub struct PreparedReply {
    report: CaseReport,
    pinned: Vec<Recipient>,
    reader: ThreadReader,
    outbox: Outbox,
    number: usize,
    readable_by_you: bool,
    /// Queued messages that no longer fit the thread; [`PreparedReply::seal`] records
    /// them as stale.
    pub now_stale: Vec<NowStale>,
}

/// A reply in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedReply {
    /// The case.
    pub case: CaseNumber,
    /// Its place in the thread (from 1).
    pub number: usize,
    /// Its file, relative to `outbox/` (`MP-…/0003-to_reporter.age`).
    pub file: String,
    /// How many pinned recipients it is encrypted to (besides the reporter).
    pub recipients: usize,
    /// The destination whose pinned recipients those are.
    pub destination: String,
    /// The status it announces (also queued as a status change).
    pub status: Option<CaseStatus>,
    /// Whether the investigator's own key is among the recipients (else they cannot
    /// read it back).
    pub readable_by_you: bool,
}

/// Checks a case for a reply: its report's destination must be pinned, its thread
/// must verify, and the messages queued before (not yet in the pulled thread) must
/// extend it; those that no longer do are set aside as stale.
pub fn prepare_reply(
    bundle: &Bundle,
    report: CaseReport,
    keys: &LoadedKeys,
) -> Result<PreparedReply, ReplyError> {
    let pinned = report.pinned.clone().ok_or_else(|| ReplyError::NotPinned {
        destination: report.opened.destination.clone(),
    })?;
    let thread = read_thread(&report, keys)?;
    if thread.failures() > 0 {
        return Err(ReplyError::ThreadNotVerified {
            case: report.case.clone(),
            problems: thread.failures(),
        });
    }
    let in_thread: Vec<[u8; 32]> = thread.items.iter().filter_map(|i| i.sha256).collect();
    let pulled = thread.items.len();
    let mut reader = thread.into_reader();

    // Messages written earlier but not yet in the pulled thread come first.
    let mut outbox = Outbox::read(bundle)?;
    let mut pending = 0usize;
    let mut now_stale = Vec::new();
    let identities = keys.identities();
    for item in outbox.items.iter_mut().filter(|i| *i.case() == report.case) {
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
        match reader.read_as_bureau(&identities, Direction::ToReporter, &ciphertext) {
            Verdict::Verified(_) => pending += 1,
            Verdict::Unverified(reason) if *item_state == State::Queued => {
                now_stale.push(NowStale {
                    file: file.clone(),
                    why: explain(&reason, keys),
                });
                *item_state = State::Stale;
            }
            Verdict::Unverified(reason) => {
                return Err(ReplyError::Bundle(BundleError::Damaged {
                    path,
                    detail: explain(&reason, keys),
                }));
            }
            // The bureau's side has no messages of its own.
            Verdict::Own => {
                return Err(ReplyError::Bundle(BundleError::Damaged {
                    path,
                    detail: "not a message of the bureau".into(),
                }));
            }
        }
    }
    let readable_by_you = keys.recipients().iter().any(|r| pinned.contains(r));
    Ok(PreparedReply {
        report,
        pinned,
        reader,
        outbox,
        number: pulled + pending + 1,
        readable_by_you,
        now_stale,
    })
}

impl PreparedReply {
    /// The checked report (its pin check, destination, …).
    pub fn report(&self) -> &CaseReport {
        &self.report
    }

    /// The place in the thread the reply will take (from 1).
    pub fn number(&self) -> usize {
        self.number
    }

    /// Encrypts `text` as the next message (announcing `status` if given, which is then
    /// queued as a status change too) and queues it in the outbox.
    pub fn seal(
        mut self,
        bundle: &Bundle,
        text: Zeroizing<String>,
        status: Option<CaseStatus>,
        today: Day,
    ) -> Result<QueuedReply, ReplyError> {
        let case = self.report.case.clone();
        let state = self.reader.state();
        let mut draft = state.draft(Direction::ToReporter, today, text);
        draft.status = status;
        draft.reply_to = self.pinned.clone();
        let sealed = seal_to_reporter(&draft, &self.report.opened.thread, &self.pinned)
            .map_err(ReplyError::Seal)?;

        let case_dir = child(&bundle.outbox_dir(), case.as_str());
        create_private_dir_all(&case_dir).map_err(|error| ReplyError::Write {
            path: case_dir.clone(),
            error,
        })?;
        // The name the server will give it in the thread, inside the case's folder.
        let number = u32::try_from(self.number).unwrap_or(u32::MAX);
        let in_thread = CaseFile::Message(number, Direction::ToReporter).to_path();
        let name = in_thread.strip_prefix("thread/").unwrap_or(&in_thread);
        let path = case_dir.join(name);
        let failed = |error| ReplyError::Write {
            path: path.clone(),
            error,
        };
        let mut f = create_private_file(&path).map_err(failed)?;
        f.write_all(&sealed)
            .and_then(|()| f.sync_all())
            .map_err(failed)?;
        let file = format!("{case}/{name}");
        self.outbox.items.push(Item::Message {
            case: case.clone(),
            file: file.clone(),
            extends: hex::encode(state.head()),
            sha256: hex::encode(ciphertext_hash(&sealed)),
            queued: today,
            state: State::Queued,
            sent: None,
        });
        if let Some(status) = status {
            self.outbox.items.push(Item::Status {
                case: case.clone(),
                status,
                queued: today,
                state: State::Queued,
                sent: None,
            });
        }
        self.outbox.write(bundle)?;
        Ok(QueuedReply {
            case,
            number: self.number,
            file,
            recipients: self.pinned.len(),
            destination: self.report.opened.destination.clone(),
            status,
            readable_by_you: self.readable_by_you,
        })
    }
}

/// A status change in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedStatus {
    /// The status the server had when the bundle was last pulled.
    pub from: CaseStatus,
    /// The new status.
    pub to: CaseStatus,
}

/// Queues a status change for a case the bundle holds (sent by `push`).
pub fn queue_status(
    bundle: &Bundle,
    case: &CaseNumber,
    status: CaseStatus,
    today: Day,
) -> Result<QueuedStatus, BundleError> {
    let manifest = bundle.case_manifest(case)?;
    let mut outbox = Outbox::read(bundle)?;
    outbox.items.push(Item::Status {
        case: case.clone(),
        status,
        queued: today,
        state: State::Queued,
        sent: None,
    });
    outbox.write(bundle)?;
    Ok(QueuedStatus {
        from: manifest.summary.status,
        to: status,
    })
}

/// One item of a case's outbox as a front end shows it: a message (its text, when this
/// key can read it back) or a status change, with where it is on its way.
pub struct Outgoing {
    /// The outbox entry (state, days, the status of a status change).
    pub item: Item,
    /// A message's text and the status it announces, if this key can read it back.
    pub message: Option<(Zeroizing<String>, Option<CaseStatus>)>,
    /// Whether a message is already in the pulled thread (shown there, verified).
    pub in_thread: bool,
}

/// The outbox items of an opened case, oldest first, each message read back with
/// `keys` (it was encrypted to the pinned recipients, which may not include this key).
pub fn outgoing(
    bundle: &Bundle,
    opened: &OpenedCase,
    keys: &LoadedKeys,
) -> Result<Vec<Outgoing>, BundleError> {
    let outbox = Outbox::read(bundle)?;
    let in_thread: Vec<[u8; 32]> = opened
        .thread
        .items
        .iter()
        .filter_map(|i| i.sha256)
        .collect();
    let identities = keys.identities();
    let mut out = Vec::new();
    for item in outbox.for_case(opened.case()) {
        let (message, pulled) = match item {
            Item::Message { file, .. } => {
                match read_envelope(&bundle.outbox_dir().join(file.as_str())) {
                    Ok(ct) => (
                        open_message(&ct, &identities, &opened.report.opened.thread)
                            .ok()
                            .map(|m| (Zeroizing::new(m.text.clone()), m.status)),
                        in_thread.contains(&ciphertext_hash(&ct)),
                    ),
                    Err(_) => (None, false),
                }
            }
            Item::Status { .. } => (None, false),
        };
        out.push(Outgoing {
            item: item.clone(),
            message,
            in_thread: pulled,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::open_case_report;
    use crate::testkit::{day, Kit};
    use meldpunt_crypto::open_message;

    fn prepare(kit: &Kit) -> Result<PreparedReply, ReplyError> {
        let report = open_case_report(&kit.bundle, &kit.case, &kit.keys)?;
        prepare_reply(&kit.bundle, report, &kit.keys)
    }

    fn text(s: &str) -> Zeroizing<String> {
        Zeroizing::new(s.to_owned())
    }

    #[test]
    fn a_reply_is_sealed_into_the_outbox_and_the_next_one_extends_it() {
        let mut kit = Kit::new(true);
        kit.reporter_says("Any news?");
        let prepared = prepare(&kit).unwrap();
        assert_eq!(prepared.number(), 2);
        assert!(prepared.now_stale.is_empty());
        let queued = prepared
            .seal(
                &kit.bundle,
                text("We are on it."),
                Some(CaseStatus::Investigating),
                day(),
            )
            .unwrap();
        assert_eq!(queued.file, "MP-7KQ2M9XD4A/0002-to_reporter.age");
        assert_eq!((queued.number, queued.recipients), (2, 2));
        assert!(queued.readable_by_you);
        let outbox = Outbox::read(&kit.bundle).unwrap();
        let [Item::Message {
            extends, sha256, ..
        }, Item::Status { status, .. }] = outbox.items.as_slice()
        else {
            panic!("{outbox:?}");
        };
        assert_eq!(*status, CaseStatus::Investigating);
        assert_eq!(*extends, hex::encode(kit.state.head()));
        // The reporter, with only the code, reads it on top of the thread.
        let ct = fs::read(kit.bundle.outbox_dir().join(&queued.file)).unwrap();
        assert_eq!(*sha256, hex::encode(ciphertext_hash(&ct)));
        let m = open_message(&ct, &[&kit.reporter.identity()], &kit.secrets()).unwrap();
        assert_eq!(
            (m.text.as_str(), m.status),
            ("We are on it.", Some(CaseStatus::Investigating))
        );
        assert_eq!(m.reply_to, kit.bureau.recipients());
        kit.state.accept(&ct, &m).unwrap();

        // Not pushed yet: the next reply comes after it.
        let next = prepare(&kit)
            .unwrap()
            .seal(&kit.bundle, text("And?"), None, day())
            .unwrap();
        assert_eq!(next.file, "MP-7KQ2M9XD4A/0003-to_reporter.age");
        let outbox = Outbox::read(&kit.bundle).unwrap();
        assert!(matches!(
            &outbox.items[2],
            Item::Message { extends, .. } if *extends == hex::encode(kit.state.head())
        ));
    }

    #[test]
    fn a_queued_reply_the_thread_overtook_becomes_stale() {
        let mut kit = Kit::new(true);
        prepare(&kit)
            .unwrap()
            .seal(&kit.bundle, text("First"), None, day())
            .unwrap();
        // Meanwhile the reporter wrote, and the bundle was pulled.
        kit.reporter_says("I was first");
        let prepared = prepare(&kit).unwrap();
        assert_eq!(prepared.now_stale.len(), 1);
        assert_eq!(
            prepared.now_stale[0].file,
            "MP-7KQ2M9XD4A/0001-to_reporter.age"
        );
        assert_eq!(prepared.number(), 2);
        prepared
            .seal(&kit.bundle, text("Again"), None, day())
            .unwrap();
        let states: Vec<State> = Outbox::read(&kit.bundle)
            .unwrap()
            .items
            .iter()
            .map(Item::state)
            .collect();
        assert_eq!(states, [State::Stale, State::Queued]);
    }

    #[test]
    fn no_reply_without_pins_or_on_a_thread_that_does_not_verify() {
        let kit = Kit::new(false);
        assert!(matches!(prepare(&kit), Err(ReplyError::NotPinned { .. })));
        let mut kit = Kit::new(true);
        let mut ct = kit.bureau_says("one");
        ct[10] ^= 1;
        fs::write(
            kit.bundle
                .case_file(&kit.case, CaseFile::Message(1, Direction::ToReporter)),
            &ct,
        )
        .unwrap();
        assert!(matches!(
            prepare(&kit),
            Err(ReplyError::ThreadNotVerified { problems: 1, .. })
        ));
        assert!(Outbox::read(&kit.bundle).unwrap().items.is_empty());
    }

    #[test]
    fn a_status_change_is_queued_for_a_case_the_bundle_holds() {
        let kit = Kit::new(true);
        let queued = queue_status(&kit.bundle, &kit.case, CaseStatus::Closed, day()).unwrap();
        assert_eq!(
            queued,
            QueuedStatus {
                from: CaseStatus::Received,
                to: CaseStatus::Closed
            }
        );
        let other = CaseNumber::parse("MP-AAAAAAAAAA").unwrap();
        assert!(matches!(
            queue_status(&kit.bundle, &other, CaseStatus::Closed, day()),
            Err(BundleError::UnknownCase { .. })
        ));
        assert_eq!(Outbox::read(&kit.bundle).unwrap().items.len(), 1);
    }

    #[test]
    fn the_outbox_of_a_case_is_read_back_for_a_front_end() {
        let mut kit = Kit::new(true);
        kit.reporter_says("Hello?");
        prepare(&kit)
            .unwrap()
            .seal(
                &kit.bundle,
                text("Thank you."),
                Some(CaseStatus::Acknowledged),
                day(),
            )
            .unwrap();
        let opened = crate::opened::open_case(&kit.bundle, &kit.case, &kit.keys).unwrap();
        let items = outgoing(&kit.bundle, &opened, &kit.keys).unwrap();
        assert_eq!(items.len(), 2);
        let (text, status) = items[0].message.as_ref().unwrap();
        assert_eq!(
            (text.as_str(), *status),
            ("Thank you.", Some(CaseStatus::Acknowledged))
        );
        assert!(!items[0].in_thread);
        assert_eq!(items[0].item.state(), State::Queued);
        assert!(matches!(
            items[1].item,
            Item::Status {
                status: CaseStatus::Acknowledged,
                ..
            }
        ));
        assert!(items[1].message.is_none());
        // A key that is not among the pinned recipients cannot read it back.
        let stranger = LoadedKeys::from_keys(
            vec![meldpunt_crypto::InvestigatorKey::generate()],
            "stranger.txt".into(),
        );
        let items = outgoing(&kit.bundle, &opened, &stranger).unwrap();
        assert!(items[0].message.is_none());
    }
}
