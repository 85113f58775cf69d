//! Where the server keeps what it holds: case records, upload sessions, the age files.
//! The server's operations (`crate::service`) talk to storage only through [`Store`],
//! an interface narrow enough for a second backend; [`embedded`] (sled with the
//! attachment files beside it, in one data directory) is the default.
//!
//! What every backend must guarantee:
//! - a report is filed whole or not at all, with every finished attachment of its
//!   upload session, and a mailbox files one report;
//! - a thread's head advances atomically: a post that does not extend the current head
//!   is refused ([`StoreError::StaleHead`]), whichever instance receives it;
//! - nothing written is acknowledged before [`Store::flush`] returns;
//! - no exact time: records carry days; file names are random.

mod backend;
pub mod embedded;
pub mod migrate;
pub mod pause;
pub mod postgres;
pub mod records;

pub use backend::{open, registry, Backend, Opened};

use std::fmt;
use std::io::Read;

use meldpunt_crypto::{CaseStatus, Day, Direction, MailboxId};
use rocket::async_trait;

use crate::ids::CaseNumber;
use crate::tokens::TokenRecord;
use meldpunt_wire::audit::AuditEntry;
use records::{CaseRecord, Digest, StoredAttachment, UploadSession};

/// Why a storage operation did not happen. The variants that are the client's doing
/// carry what the client needs to know.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    Db(String),
    /// A file operation failed.
    Io(std::io::Error),
    /// A stored record does not parse.
    Corrupt(String),
    /// This mailbox already has a report (a return code sends one report).
    AlreadyReported,
    /// No upload session for this mailbox.
    NoSession,
    /// The attachment number is neither an existing one nor the next one.
    NoSuchAttachment,
    /// The session already holds the most attachments allowed.
    TooManyAttachments,
    /// The attachment is finished and cannot change.
    AttachmentFinished,
    /// Another connection is writing this attachment right now.
    AttachmentBusy,
    /// The report cannot be filed while an attachment is unfinished.
    AttachmentUnfinished(usize),
    /// No such case (or no case for this mailbox).
    NoCase,
    /// The post does not extend the thread's current head.
    StaleHead {
        /// The current head.
        head: String,
    },
    /// Status can only move forward.
    StatusBackwards {
        /// The current status.
        from: CaseStatus,
    },
    /// Only a closed case can be shredded.
    NotClosed,
    /// A token of that name exists (or existed).
    TokenExists(String),
    /// No token of that name.
    NoToken(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Db(e) => write!(f, "database error: {e}"),
            StoreError::Io(e) => write!(f, "file error: {e}"),
            StoreError::Corrupt(e) => write!(f, "a stored record is damaged: {e}"),
            StoreError::AlreadyReported => {
                f.write_str("a report was already sent with this return code")
            }
            StoreError::NoSession => {
                f.write_str("no upload session for this return code: start one first")
            }
            StoreError::NoSuchAttachment => {
                f.write_str("no such attachment: continue an existing one or start the next number")
            }
            StoreError::TooManyAttachments => f.write_str("too many attachments for one report"),
            StoreError::AttachmentFinished => f.write_str("this attachment is already finished"),
            StoreError::AttachmentBusy => f.write_str(
                "this attachment is being uploaded on another connection; wait, then ask how \
                 much arrived",
            ),
            StoreError::AttachmentUnfinished(n) => write!(
                f,
                "attachment {n} is not finished: finish its upload before sending the report"
            ),
            StoreError::NoCase => f.write_str("no such case"),
            StoreError::StaleHead { .. } => f.write_str(
                "the thread has changed since you read it: read it again before posting",
            ),
            StoreError::StatusBackwards { .. } => {
                f.write_str("a case's status can only move forward")
            }
            StoreError::NotClosed => f.write_str("only a closed case can be shredded"),
            StoreError::TokenExists(n) => write!(
                f,
                "a token named \"{n}\" exists (or existed): choose another name, so the audit \
                 log stays unambiguous"
            ),
            StoreError::NoToken(n) => write!(f, "there is no token named \"{n}\""),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e)
    }
}

/// What a new or repeated report submission returns.
pub struct Filed {
    /// The case number.
    pub case: CaseNumber,
    /// The case.
    pub record: CaseRecord,
    /// False when this exact report was already filed (the receipt was lost).
    pub new: bool,
}

/// How far one attachment's upload got.
#[derive(Clone, Debug)]
pub struct AttachmentProgress {
    /// Bytes stored so far.
    pub received: u64,
    /// Set once the upload is finished and checked.
    pub finished: Option<Digest>,
}

/// One connection's claim on one attachment, to append a chunk. Only one writer per
/// attachment exists at a time; dropping it without [`ChunkWriter::keep`] keeps what
/// arrived (an interrupted upload resumes from there).
#[async_trait]
pub trait ChunkWriter: Send {
    /// Bytes stored before this chunk.
    fn received(&self) -> u64;
    /// The first `max` bytes stored so far (to check the age header as it arrives).
    async fn prefix(&mut self, max: usize) -> Result<Vec<u8>, StoreError>;
    /// Appends a piece of the chunk.
    async fn write(&mut self, piece: &[u8]) -> Result<(), StoreError>;
    /// Keeps everything written; returns the attachment's length now.
    async fn keep(self: Box<Self>) -> Result<u64, StoreError>;
    /// Cuts the attachment back to `len` bytes (a refused chunk leaves nothing behind;
    /// 0 throws the whole attachment away).
    async fn cut(self: Box<Self>, len: u64) -> Result<(), StoreError>;
}

/// The storage interface: every operation the server performs on what it keeps.
#[async_trait]
pub trait Store: Send + Sync {
    /// Today, as the storage's clock says.
    fn today(&self) -> Day;
    /// Waits until everything written before the call is durable (group commit).
    async fn flush(&self) -> Result<(), StoreError>;
    /// Bytes still free for uploads (the disk reserve is kept out of them).
    fn free_space(&self) -> Result<u64, StoreError>;

    // --- upload sessions ------------------------------------------------------------

    /// The mailbox's upload session, started if there is none. Refused once the
    /// mailbox has a report. Returns the session and whether it is new.
    async fn open_session(&self, mailbox: &MailboxId) -> Result<(UploadSession, bool), StoreError>;
    /// The mailbox's upload session.
    async fn session(&self, mailbox: &MailboxId) -> Result<UploadSession, StoreError>;
    /// How far attachment `n` got.
    async fn attachment(
        &self,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<AttachmentProgress, StoreError>;
    /// Bytes received for every attachment of the session except `except`.
    async fn session_bytes(&self, mailbox: &MailboxId, except: u32) -> Result<u64, StoreError>;
    /// Claims attachment `n` to append a chunk: an existing unfinished one, or a new one
    /// if `n` is the next number (at most `max_attachments`).
    async fn write_attachment(
        &self,
        mailbox: &MailboxId,
        n: u32,
        max_attachments: u32,
    ) -> Result<Box<dyn ChunkWriter>, StoreError>;
    /// Hashes and records a complete attachment as finished, durably.
    async fn finish_attachment(&self, mailbox: &MailboxId, n: u32) -> Result<Digest, StoreError>;
    /// Removes the mailbox's upload session and its files at once.
    async fn discard_session(&self, mailbox: &MailboxId) -> Result<(), StoreError>;
    /// Removes upload sessions older than `max_age_days` and their files; returns how
    /// many.
    async fn remove_stale_sessions(&self, max_age_days: u32) -> Result<usize, StoreError>;

    // --- cases ----------------------------------------------------------------------

    /// Files a report for `mailbox` with every finished attachment of its upload
    /// session. Filing the same report again returns the first receipt's case.
    async fn file_report(
        &self,
        mailbox: &MailboxId,
        destination: &str,
        report: &[u8],
    ) -> Result<Filed, StoreError>;
    /// The case a mailbox's report opened.
    async fn case_for_mailbox(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<(CaseNumber, CaseRecord)>, StoreError>;
    /// One case.
    async fn case(&self, case: &CaseNumber) -> Result<Option<CaseRecord>, StoreError>;
    /// Every case, in case-number order (which is random, not arrival order).
    async fn cases(&self) -> Result<Vec<(CaseNumber, CaseRecord)>, StoreError>;
    /// The report's age file.
    async fn report(&self, case: &CaseNumber) -> Result<Vec<u8>, StoreError>;
    /// The reporter's note to self.
    async fn note(&self, case: &CaseNumber) -> Result<Option<Vec<u8>>, StoreError>;
    /// Message `seq` (1-based) of the thread.
    async fn message(&self, case: &CaseNumber, seq: usize) -> Result<Vec<u8>, StoreError>;
    /// A reader of one of a case's attachment files, to use on a blocking thread.
    fn read_attachment(&self, a: &StoredAttachment) -> Result<Box<dyn Read + Send>, StoreError>;
    /// Stores the reporter's note to self, in place of an earlier one.
    async fn store_note(&self, case: &CaseNumber, note: &[u8]) -> Result<CaseRecord, StoreError>;
    /// Appends a message to the thread if `extends` is the current head. The same
    /// message posted again against the head it extended is accepted once.
    async fn append_message(
        &self,
        case: &CaseNumber,
        direction: Direction,
        extends: &str,
        message: &[u8],
    ) -> Result<(usize, CaseRecord), StoreError>;
    /// Moves a case's status forward (setting the current status again is fine).
    async fn set_status(
        &self,
        case: &CaseNumber,
        status: CaseStatus,
    ) -> Result<CaseRecord, StoreError>;
    /// Removes a closed case: its records, age files and attachment files, leaving only a
    /// [`records::Tombstone`] under its mailbox id.
    async fn shred(&self, case: &CaseNumber) -> Result<(), StoreError>;
    /// What is left of the mailbox's shredded case, if its case was shredded.
    async fn tombstone(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<records::Tombstone>, StoreError>;

    // --- shared counters (budgets and admission) -------------------------------------

    /// Adds `by` to counter `key` in time window `window` and returns its new value.
    /// Counters are not records: a backend keeps them no longer than their use needs
    /// (the embedded one in memory only).
    async fn count(&self, key: &str, window: u64, by: u64) -> Result<u64, StoreError>;
    /// The sum of counter `key` over the windows `from..=to`.
    async fn counted(&self, key: &str, from: u64, to: u64) -> Result<u64, StoreError>;
    /// Marks `id` used until window `until`; false if it was used already.
    async fn use_once(&self, id: &[u8], until: u64) -> Result<bool, StoreError>;
    /// A random secret named `name`, the same for every server instance on this
    /// storage, made on first use (e.g. the key that MACs admission challenges). The
    /// embedded backend keeps it in memory: a restart makes a new one.
    async fn shared_secret(&self, name: &str) -> Result<[u8; 32], StoreError>;
}

/// The investigators' tokens and the audit log of their actions. Apart from [`Store`]
/// because the operator's commands (`meldpunt-server token …`, `audit verify`) use it
/// while the server runs.
#[async_trait]
pub trait Registry: Send + Sync {
    /// Every token record (hashes, never tokens).
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Adds a token record; a name that exists or existed is refused.
    async fn add_token(&self, record: TokenRecord) -> Result<(), StoreError>;
    /// Marks a token revoked on `day` (again: no change).
    async fn revoke_token(&self, name: &str, day: Day) -> Result<(), StoreError>;
    /// Appends an entry to the audit log, chained to the last one atomically, durably.
    async fn append_audit(
        &self,
        day: Day,
        token: &str,
        action: &str,
        case: Option<&str>,
        scope: &[String],
    ) -> Result<AuditEntry, StoreError>;
    /// The audit entries from index `from` on, as stored (the caller checks the chain).
    async fn audit_entries(&self, from: u64) -> Result<Vec<AuditEntry>, StoreError>;
}
