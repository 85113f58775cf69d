//! What a reporter does, as typed operations: make or type a return code, seal a report
//! with its note to self, read the thread, answer. The browser module (both tiers) and the
//! server's no-JavaScript tier call exactly these; JSON exists only at the browser
//! module's boundary.
//!
//! ```
//! use meldpunt_crypto::reporter::{Reporter, ServedMessage, ServedThread};
//! use meldpunt_crypto::{Category, Day, Destination, EncryptedBy, InvestigatorKey, ReportContent};
//!
//! let investigator = InvestigatorKey::generate();
//! let bureau = Destination::from_recipients("bureau", vec![investigator.recipient()]).unwrap();
//! let today = Day::parse("2026-11-23").unwrap();
//!
//! let reporter = Reporter::generate(&mut rand::rngs::OsRng);
//! let content = ReportContent {
//!     category: Category::Fraud,
//!     concerning: String::new(),
//!     description: "Invoices paid twice.".into(),
//!     when_where: String::new(),
//!     contact: None,
//!     attachments: vec![],
//!     date: today,
//!     encrypted_by: EncryptedBy::Browser,
//! };
//! let sealed = reporter.seal_report(&bureau, &content).unwrap();
//!
//! // Days later, with the code typed back.
//! let typed = reporter.code().to_grouped_string();
//! let mut again = Reporter::open(&typed).unwrap();
//! let thread = again
//!     .read_thread(&ServedThread {
//!         note: Some(&sealed.note),
//!         report_sha256: &hex::encode(sealed.report_sha256),
//!         messages: Vec::<ServedMessage>::new(),
//!     })
//!     .unwrap();
//! assert!(thread.can_reply);
//! let answer = again.seal_answer("One more detail.".to_owned().into(), today).unwrap();
//! assert_eq!(answer.extends, sealed.report_sha256);
//! ```

use std::fmt;

use rand::{CryptoRng, RngCore};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use zeroize::Zeroizing;

use crate::code::{CodeError, ReturnCode};
use crate::day::Day;
use crate::derive::{MailboxCredential, ReporterKeys};
use crate::envelope::{
    ciphertext_hash, open_reporter_note, seal_from_reporter, seal_report, seal_reporter_note,
    CaseStatus, Direction, Message, OpenError, ReportContent, ReporterNote, SealError, SentMessage,
    ThreadSecrets,
};
use crate::reader::{ThreadReader, Unverified, Verdict};
use crate::recipients::{Destination, Recipient};
use crate::thread::ThreadState;

/// One reporter, from one return code: the code and everything derived from it, and
/// after [`Reporter::read_thread`] where the next answer goes. Not `Debug`; everything
/// secret is zeroized when it drops.
pub struct Reporter {
    code: ReturnCode,
    keys: ReporterKeys,
    reply: Option<(ThreadState, Vec<Recipient>)>,
    /// The note to self as last read (to record the next answer in it).
    note: Option<ReporterNote>,
}

/// A report sealed for sending: the report's age file and the note to self.
pub struct SealedReport {
    /// The report, encrypted to the destination's recipients.
    pub report: Vec<u8>,
    /// The note to self, encrypted to the reporter only.
    pub note: Vec<u8>,
    /// SHA-256 of the report's age file: where the thread starts.
    pub report_sha256: [u8; 32],
}

/// Why a report was not sealed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// A field holds the return code, which the bureau must never see.
    ContainsReturnCode,
    /// Sealing failed.
    Seal(SealError),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::ContainsReturnCode => f.write_str(
                "your report contains your return code; remove it (the bureau must never see \
                 the code)",
            ),
            ReportError::Seal(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReportError {}

/// A thread as the server hands it over: nothing in it is trusted.
pub struct ServedThread<'a> {
    /// The reporter's note to self, if the server has one.
    pub note: Option<&'a [u8]>,
    /// The report hash the server names (hex).
    pub report_sha256: &'a str,
    /// The messages in the server's order.
    pub messages: Vec<ServedMessage<'a>>,
}

/// One message as the server lists it.
pub struct ServedMessage<'a> {
    /// The server's label (not trusted).
    pub labelled: Direction,
    /// The day the server says it arrived.
    pub day: Option<Day>,
    /// The age file.
    pub ciphertext: &'a [u8],
}

/// Why the thread could not be read at all.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// The note to self does not verify: where the report went cannot be known, so
    /// nothing is shown and there is no fallback to the server's word.
    Note(OpenError),
    /// The server names another report than the one the note records.
    OtherReport,
    /// The server's report hash is not 64 hex digits.
    BadReportHash,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Note(e) => write!(
                f,
                "the record of where your report went could not be verified: {e}"
            ),
            ReadError::OtherReport => {
                f.write_str("the server names another report than the one you sent")
            }
            ReadError::BadReportHash => f.write_str("bad report hash"),
        }
    }
}

impl std::error::Error for ReadError {}

/// One item of the thread as the reporter sees it.
pub enum ReporterItem {
    /// A verified message from the bureau.
    FromBureau(Message),
    /// One of the reporter's own messages (not readable with the code, by design).
    Own {
        /// The day the server says it arrived.
        day: Option<Day>,
        /// Whether a verified bureau message acknowledges it (by its number, and where
        /// the bureau's tool names it, by its hash).
        acknowledged: bool,
    },
    /// A message that is not trusted.
    Unverified {
        /// The server's label.
        labelled: Direction,
        /// Why.
        reason: Unverified,
    },
}

/// The thread as the reporter's page shows it.
pub struct ReporterThread {
    /// The destination the note records.
    pub destination: Option<String>,
    /// The day the note records the report was sent.
    pub sent: Option<Day>,
    /// The messages, in the server's order.
    pub items: Vec<ReporterItem>,
    /// The thread head an answer extends.
    pub head: [u8; 32],
    /// Whether the reporter may answer now.
    pub can_reply: bool,
    /// How many of the reporter's messages the thread holds.
    pub sent_by_you: u64,
    /// How many of them the bureau acknowledged.
    pub acknowledged_from_you: u64,
    /// The days of answers the note to self records as sent that the thread does not
    /// hold: the server did not deliver them.
    pub missing: Vec<Day>,
    /// The status the latest verified bureau message announced (the server's own record
    /// is only the server's word).
    pub status: Option<CaseStatus>,
}

/// An answer ready to post.
pub struct SealedAnswer {
    /// The age file.
    pub ciphertext: Vec<u8>,
    /// The thread head it extends (the `Meldpunt-Extends` header).
    pub extends: [u8; 32],
}

/// Why an answer was not sealed.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnswerError {
    /// The thread was not read (or did not verify), so there is nothing to extend.
    ThreadNotRead,
    /// The answer holds the return code.
    ContainsReturnCode,
    /// Sealing failed.
    Seal(SealError),
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::ThreadNotRead => f.write_str("read the thread before replying"),
            AnswerError::ContainsReturnCode => SealError::ContainsReturnCode.fmt(f),
            AnswerError::Seal(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for AnswerError {}

impl Reporter {
    /// A new reporter with a fresh return code.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self::from_code(ReturnCode::generate(rng))
    }

    /// A returning reporter, from the code as typed; a typo is reported as a typo.
    pub fn open(typed: &str) -> Result<Self, CodeError> {
        ReturnCode::parse(typed).map(Self::from_code)
    }

    fn from_code(code: ReturnCode) -> Self {
        let keys = ReporterKeys::derive_from(&code);
        Self {
            code,
            keys,
            reply: None,
            note: None,
        }
    }

    /// The return code.
    pub fn code(&self) -> &ReturnCode {
        &self.code
    }

    /// The keys derived from the code.
    pub fn keys(&self) -> &ReporterKeys {
        &self.keys
    }

    /// The credential that opens the mailbox on the server.
    pub fn credential(&self) -> &MailboxCredential {
        self.keys.credential()
    }

    /// Seals the report to `destination` and the note to self that records where it
    /// went. Refuses a report that contains the return code.
    pub fn seal_report(
        &self,
        destination: &Destination,
        content: &ReportContent,
    ) -> Result<SealedReport, ReportError> {
        if content.mentions(&self.code) {
            return Err(ReportError::ContainsReturnCode);
        }
        let report = seal_report(content, &self.keys, destination).map_err(ReportError::Seal)?;
        let note = ReporterNote::for_report(destination, &report, content.date);
        let note = seal_reporter_note(&note, &self.keys).map_err(ReportError::Seal)?;
        Ok(SealedReport {
            report_sha256: ciphertext_hash(&report),
            report,
            note,
        })
    }

    /// Decrypts and verifies the thread (PROTOCOL.md §8.3, "The reporter's side"), and
    /// remembers where the next answer goes: the recipients in the signed note to self,
    /// or those the latest verified bureau message names. Without either (the note was
    /// never stored), answering waits for a bureau message.
    pub fn read_thread(&mut self, served: &ServedThread<'_>) -> Result<ReporterThread, ReadError> {
        // Whatever happens below, never answer on the state of an earlier read.
        self.reply = None;
        let note = served
            .note
            .map(|ct| open_reporter_note(ct, &self.keys))
            .transpose()
            .map_err(ReadError::Note)?;
        let mut claimed = [0u8; 32];
        let claimed_ok = hex::decode_to_slice(served.report_sha256, &mut claimed).is_ok();
        // The note's hash is signed; the server's is checked by the chain (the first
        // bureau message names the report it follows).
        let (report_sha256, reply_set) = match &note {
            Some(n) => {
                let signed = n.report_sha256().map_err(ReadError::Note)?;
                if !claimed_ok || claimed != signed {
                    return Err(ReadError::OtherReport);
                }
                (signed, n.parsed_recipients().map_err(ReadError::Note)?)
            }
            None if claimed_ok => (claimed, Vec::new()),
            None => return Err(ReadError::BadReportHash),
        };
        let mut reader = ThreadReader::new(
            ThreadSecrets::from_reporter_keys(&self.keys),
            report_sha256,
            reply_set,
        );
        let mut items = Vec::with_capacity(served.messages.len());
        let mut own_hashes = Vec::new();
        let mut status = None;
        for m in &served.messages {
            items.push(
                match reader.read_as_reporter(&self.keys, m.labelled, m.ciphertext) {
                    Verdict::Verified(message) => {
                        status = message.status.or(status);
                        ReporterItem::FromBureau(message)
                    }
                    Verdict::Own => {
                        own_hashes.push(ciphertext_hash(m.ciphertext));
                        ReporterItem::Own {
                            day: m.day,
                            acknowledged: false,
                        }
                    }
                    Verdict::Unverified(reason) => ReporterItem::Unverified {
                        labelled: m.labelled,
                        reason,
                    },
                },
            );
        }
        let state = reader.state();
        // An own message is acknowledged when a verified bureau message counts it.
        let acked = state.acknowledged(Direction::FromReporter);
        let mut n = 0u64;
        for item in &mut items {
            if let ReporterItem::Own { acknowledged, .. } = item {
                n += 1;
                *acknowledged = n <= acked;
            }
        }
        let missing = note
            .iter()
            .flat_map(|n| &n.sent)
            .filter(|s| {
                let mut h = [0u8; 32];
                hex::decode_to_slice(&s.sha256, &mut h).is_err() || !own_hashes.contains(&h)
            })
            .map(|s| s.date)
            .collect();
        let thread = ReporterThread {
            destination: note.as_ref().map(|n| n.destination.clone()),
            sent: note.as_ref().map(|n| n.date),
            items,
            head: state.head(),
            can_reply: reader.can_reply(),
            sent_by_you: state.count(Direction::FromReporter),
            acknowledged_from_you: acked,
            missing,
            status,
        };
        self.note = note;
        self.reply = reader.into_reply();
        Ok(thread)
    }

    /// The note to self with `answer` recorded in it, sealed, to store in place of the
    /// old one after the answer was posted (`PUT /note`): a later read then notices if
    /// the server dropped the answer. `None` if no note was read (the thread had none).
    pub fn note_after(&mut self, answer: &[u8], date: Day) -> Option<Result<Vec<u8>, SealError>> {
        let note = self.note.as_mut()?;
        let sha256 = hex::encode(ciphertext_hash(answer));
        if !note.sent.iter().any(|s| s.sha256 == sha256) {
            note.sent.push(SentMessage { sha256, date });
        }
        Some(seal_reporter_note(note, &self.keys))
    }

    /// Seals an answer after [`Reporter::read_thread`], extending the head it read.
    /// Refuses a text that contains the return code.
    pub fn seal_answer(
        &self,
        text: Zeroizing<String>,
        date: Day,
    ) -> Result<SealedAnswer, AnswerError> {
        let Some((state, reply_to)) = &self.reply else {
            return Err(AnswerError::ThreadNotRead);
        };
        let draft = state.draft(Direction::FromReporter, date, text);
        let ciphertext =
            seal_from_reporter(&draft, &self.keys, &self.code, reply_to).map_err(|e| match e {
                SealError::ContainsReturnCode => AnswerError::ContainsReturnCode,
                other => AnswerError::Seal(other),
            })?;
        Ok(SealedAnswer {
            ciphertext,
            extends: state.head(),
        })
    }
}

/// The thread as the pages show it (the browser module's JSON and the no-JavaScript
/// page's template read the same shape): `{"destination", "sent", "messages": [...],
/// "head", "can_reply", "acknowledged_from_you", "sent_by_you", "missing": [days],
/// "status"}`, each message either `{"direction":"to_reporter","verified":true,"seq",
/// "date","text","status","acknowledges"}`, an own message
/// `{"direction":"from_reporter","verified":null,"day","acknowledged"}`, or an
/// unverified one `{"direction", "verified":false, "error"}`.
impl Serialize for ReporterThread {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(9))?;
        map.serialize_entry("destination", &self.destination)?;
        map.serialize_entry("sent", &self.sent)?;
        map.serialize_entry("messages", &Items(&self.items))?;
        map.serialize_entry("head", &hex::encode(self.head))?;
        map.serialize_entry("can_reply", &self.can_reply)?;
        map.serialize_entry("acknowledged_from_you", &self.acknowledged_from_you)?;
        map.serialize_entry("sent_by_you", &self.sent_by_you)?;
        map.serialize_entry("missing", &self.missing)?;
        map.serialize_entry("status", &self.status)?;
        map.end()
    }
}

struct Items<'a>(&'a [ReporterItem]);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl Serialize for ReporterItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ReporterItem::FromBureau(m) => {
                let mut map = s.serialize_map(Some(7))?;
                map.serialize_entry("direction", &Direction::ToReporter)?;
                map.serialize_entry("verified", &true)?;
                map.serialize_entry("seq", &m.seq)?;
                map.serialize_entry("date", &m.date)?;
                map.serialize_entry("text", &m.text)?;
                map.serialize_entry("status", &m.status)?;
                map.serialize_entry("acknowledges", &m.ack)?;
                map.end()
            }
            ReporterItem::Own { day, acknowledged } => {
                let mut map = s.serialize_map(Some(4))?;
                map.serialize_entry("direction", &Direction::FromReporter)?;
                map.serialize_entry("verified", &None::<bool>)?;
                map.serialize_entry("day", day)?;
                map.serialize_entry("acknowledged", acknowledged)?;
                map.end()
            }
            ReporterItem::Unverified { reason, .. } => {
                // A failed message is shown as the bureau's (never as the reporter's own),
                // except a second copy of an own message.
                let shown = match reason {
                    Unverified::CopyOfOwn => Direction::FromReporter,
                    _ => Direction::ToReporter,
                };
                let mut map = s.serialize_map(Some(3))?;
                map.serialize_entry("direction", &shown)?;
                map.serialize_entry("verified", &false)?;
                map.serialize_entry("error", &reason.to_string())?;
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{open_report, seal_to_reporter};
    use crate::{Category, EncryptedBy, InvestigatorKey};

    fn day() -> Day {
        Day::parse("2026-11-23").unwrap()
    }

    struct Case {
        bureau: InvestigatorKey,
        destination: Destination,
        reporter: Reporter,
        sealed: SealedReport,
        report_hex: String,
    }

    fn case() -> Case {
        let bureau = InvestigatorKey::generate();
        let destination = Destination::from_recipients("bureau", vec![bureau.recipient()]).unwrap();
        let reporter = Reporter::generate(&mut rand::rngs::OsRng);
        let content = ReportContent {
            category: Category::Other,
            concerning: String::new(),
            description: "what happened".into(),
            when_where: String::new(),
            contact: None,
            attachments: vec![],
            date: day(),
            encrypted_by: EncryptedBy::Browser,
        };
        let sealed = reporter.seal_report(&destination, &content).unwrap();
        Case {
            bureau,
            destination,
            reporter,
            report_hex: hex::encode(sealed.report_sha256),
            sealed,
        }
    }

    /// The bureau writes the next message on top of `head`.
    fn bureau_message(c: &Case, state: &ThreadState, text: &str) -> Vec<u8> {
        let opened = open_report(&c.sealed.report, &[c.bureau.as_age()]).unwrap();
        let draft = state.draft(Direction::ToReporter, day(), Zeroizing::new(text.into()));
        seal_to_reporter(&draft, &opened.thread, c.destination.recipients()).unwrap()
    }

    fn served<'a>(
        sealed: &'a SealedReport,
        report_hex: &'a str,
        messages: &[(Direction, &'a [u8])],
    ) -> ServedThread<'a> {
        ServedThread {
            note: Some(&sealed.note),
            report_sha256: report_hex,
            messages: messages
                .iter()
                .map(|&(labelled, ciphertext)| ServedMessage {
                    labelled,
                    day: Some(day()),
                    ciphertext,
                })
                .collect(),
        }
    }

    #[test]
    fn a_report_with_the_code_in_it_is_refused() {
        let c = case();
        let mut content = ReportContent {
            category: Category::Other,
            concerning: String::new(),
            description: String::new(),
            when_where: String::new(),
            contact: None,
            attachments: vec![],
            date: day(),
            encrypted_by: EncryptedBy::Browser,
        };
        content.description = format!(
            "my code is {}",
            c.reporter.code().to_grouped_string().as_str()
        );
        assert!(matches!(
            c.reporter.seal_report(&c.destination, &content),
            Err(ReportError::ContainsReturnCode)
        ));
    }

    #[test]
    fn a_conversation_reads_with_own_messages_and_acknowledgements() {
        let mut c = case();
        let first = bureau_message(&c, &ThreadState::new(c.sealed.report_sha256), "Question?");
        let thread = c
            .reporter
            .read_thread(&served(
                &c.sealed,
                &c.report_hex,
                &[(Direction::ToReporter, &first)],
            ))
            .unwrap();
        assert!(thread.can_reply);
        assert!(matches!(&thread.items[0], ReporterItem::FromBureau(m) if m.text == "Question?"));
        let answer = c
            .reporter
            .seal_answer(Zeroizing::new("Answer.".into()), day())
            .unwrap();
        assert_eq!(answer.extends, crate::ciphertext_hash(&first));

        // The bureau reads the answer and writes again, acknowledging it.
        let opened = open_report(&c.sealed.report, &[c.bureau.as_age()]).unwrap();
        let mut bureau = ThreadReader::new(opened.thread.clone(), c.sealed.report_sha256, vec![]);
        assert!(matches!(
            bureau.read_as_bureau(&[c.bureau.as_age()], Direction::ToReporter, &first),
            Verdict::Verified(_)
        ));
        assert!(matches!(
            bureau.read_as_bureau(&[c.bureau.as_age()], Direction::FromReporter, &answer.ciphertext),
            Verdict::Verified(m) if m.text == "Answer."
        ));
        let second = bureau_message(&c, bureau.state(), "Thank you.");

        let mut again = Reporter::open(&c.reporter.code().to_grouped_string()).unwrap();
        let thread = again
            .read_thread(&served(
                &c.sealed,
                &c.report_hex,
                &[
                    (Direction::ToReporter, &first),
                    (Direction::FromReporter, &answer.ciphertext),
                    (Direction::ToReporter, &second),
                ],
            ))
            .unwrap();
        assert!(matches!(thread.items[1], ReporterItem::Own { .. }));
        assert_eq!((thread.sent_by_you, thread.acknowledged_from_you), (1, 1));
        assert!(thread.can_reply);
        c.reporter = again;
        let json = serde_json::to_value(
            c.reporter
                .read_thread(&served(&c.sealed, &c.report_hex, &[]))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(json["messages"], serde_json::json!([]));
    }

    #[test]
    fn after_a_failure_nothing_is_trusted_and_answering_stops() {
        let mut c = case();
        let first = bureau_message(&c, &ThreadState::new(c.sealed.report_sha256), "one");
        let mut state = ThreadState::new(c.sealed.report_sha256);
        let opened = open_report(&c.sealed.report, &[c.bureau.as_age()]).unwrap();
        let m = crate::open_message(&first, &[c.bureau.as_age()], &opened.thread).unwrap();
        state.accept(&first, &m).unwrap();
        let second = bureau_message(&c, &state, "two");
        // The server drops the first and delivers the second.
        let thread = c
            .reporter
            .read_thread(&served(
                &c.sealed,
                &c.report_hex,
                &[
                    (Direction::ToReporter, &second),
                    (Direction::ToReporter, &first),
                ],
            ))
            .unwrap();
        assert!(matches!(
            &thread.items[0],
            ReporterItem::Unverified {
                reason: Unverified::Place(crate::ThreadError::MissingPrevious),
                ..
            }
        ));
        assert!(matches!(
            &thread.items[1],
            ReporterItem::Unverified {
                reason: Unverified::AfterFailure,
                ..
            }
        ));
        assert!(!thread.can_reply);
        assert!(matches!(
            c.reporter.seal_answer(Zeroizing::new("x".into()), day()),
            Err(AnswerError::ThreadNotRead)
        ));
    }

    #[test]
    fn a_forged_note_shows_nothing() {
        let mut c = case();
        let other = case();
        let mut s = served(&c.sealed, &c.report_hex, &[]);
        s.note = Some(&other.sealed.note);
        assert!(matches!(
            c.reporter.read_thread(&s),
            Err(ReadError::Note(_))
        ));
        let s = ServedThread {
            note: Some(&c.sealed.note),
            report_sha256: "00",
            messages: vec![],
        };
        assert!(matches!(
            c.reporter.read_thread(&s),
            Err(ReadError::OtherReport)
        ));
    }

    #[test]
    fn a_dropped_answer_shows_as_missing_and_acknowledgements_name_messages() {
        let mut c = case();
        let thread = c
            .reporter
            .read_thread(&served(&c.sealed, &c.report_hex, &[]))
            .unwrap();
        assert!(thread.missing.is_empty());
        let answer = c
            .reporter
            .seal_answer(Zeroizing::new("First answer.".into()), day())
            .unwrap();
        let note = c
            .reporter
            .note_after(&answer.ciphertext, day())
            .unwrap()
            .unwrap();
        c.sealed.note = note;

        // The server drops the answer: the note says it was sent, the thread lacks it.
        let mut again = Reporter::open(&c.reporter.code().to_grouped_string()).unwrap();
        let thread = again
            .read_thread(&served(&c.sealed, &c.report_hex, &[]))
            .unwrap();
        assert_eq!(thread.missing, vec![day()]);

        // Delivered: present, and not yet acknowledged.
        let thread = again
            .read_thread(&served(
                &c.sealed,
                &c.report_hex,
                &[(Direction::FromReporter, &answer.ciphertext)],
            ))
            .unwrap();
        assert!(thread.missing.is_empty());
        assert!(matches!(
            thread.items[0],
            ReporterItem::Own {
                acknowledged: false,
                ..
            }
        ));

        // The bureau acknowledges it, naming it by its hash.
        let opened = open_report(&c.sealed.report, &[c.bureau.as_age()]).unwrap();
        let mut bureau = ThreadReader::new(opened.thread.clone(), c.sealed.report_sha256, vec![]);
        assert!(matches!(
            bureau.read_as_bureau(
                &[c.bureau.as_age()],
                Direction::FromReporter,
                &answer.ciphertext
            ),
            Verdict::Verified(_)
        ));
        let draft = bureau.state().draft(
            Direction::ToReporter,
            day(),
            Zeroizing::new("Thank you.".into()),
        );
        assert_eq!(
            draft.ack_sha256,
            Some(crate::ciphertext_hash(&answer.ciphertext))
        );
        let thanks = seal_to_reporter(&draft, &opened.thread, c.destination.recipients()).unwrap();
        let thread = again
            .read_thread(&served(
                &c.sealed,
                &c.report_hex,
                &[
                    (Direction::FromReporter, &answer.ciphertext),
                    (Direction::ToReporter, &thanks),
                ],
            ))
            .unwrap();
        assert!(matches!(
            thread.items[0],
            ReporterItem::Own {
                acknowledged: true,
                ..
            }
        ));

        // A bureau message that names another answer than the one in the thread.
        let mut forged =
            bureau
                .state()
                .draft(Direction::ToReporter, day(), Zeroizing::new("x".into()));
        forged.ack_sha256 = Some([7u8; 32]);
        let forged = seal_to_reporter(&forged, &opened.thread, c.destination.recipients()).unwrap();
        let thread = again
            .read_thread(&served(
                &c.sealed,
                &c.report_hex,
                &[
                    (Direction::FromReporter, &answer.ciphertext),
                    (Direction::ToReporter, &forged),
                ],
            ))
            .unwrap();
        assert!(matches!(
            &thread.items[1],
            ReporterItem::Unverified {
                reason: Unverified::Place(crate::ThreadError::WrongAcknowledgement),
                ..
            }
        ));
    }
}
