//! All of the server's state on disk: sled (case records, small age files, upload
//! sessions) and the attachment files beside it. sled is used nowhere else, so it can
//! be replaced here alone.
//!
//! Layout of the data directory:
//! ```text
//! db/            sled: cases, mailboxes, upload sessions, reports, notes, messages
//! files/         attachment age files, named at random
//! tokens.json    investigator token hashes (see tokens.rs)
//! audit.jsonl    the hash-chained audit log (see audit.rs)
//! ```

mod files;
mod flush;
pub mod records;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use meldpunt_crypto::{CaseStatus, Day, Direction, MailboxId};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

pub use files::FileDay;
use flush::Flusher;
use records::{CaseRecord, Digest, StoredAttachment, ThreadEntry, UploadEntry, UploadSession};

use crate::clock::Clock;
use crate::ids::{CaseNumber, FileId};

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
    /// A different note to self is already stored.
    NoteExists,
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
            StoreError::NoteExists => {
                f.write_str("a different note is already stored for this report")
            }
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io(e)
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

type Tx<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// What a new or repeated report submission returns.
pub struct Filed {
    /// The case number.
    pub case: CaseNumber,
    /// The case.
    pub record: CaseRecord,
    /// False when this exact report was already filed (the receipt was lost).
    pub new: bool,
}

/// The server's storage.
pub struct Storage {
    data_dir: PathBuf,
    cases: sled::Tree,
    mailboxes: sled::Tree,
    sessions: sled::Tree,
    ciphertexts: sled::Tree,
    flusher: Flusher,
    /// Serialises every read-modify-write of records, so no transaction ever conflicts
    /// and checks such as "is this still the thread head" hold until the write.
    write: Mutex<()>,
    clock: Clock,
}

impl Drop for Storage {
    /// A last flush, then the day stamp, so a stopped server leaves no exact time on
    /// sled's files.
    fn drop(&mut self) {
        let _ = self.cases.flush();
        let day = self.file_day();
        day.apply_tree(&self.data_dir.join("db"));
        day.apply(&files::dir(&self.data_dir));
        day.apply(&self.data_dir);
    }
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records always serialise")
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn report_key(case: &CaseNumber) -> String {
    format!("{case}/report")
}
fn note_key(case: &CaseNumber) -> String {
    format!("{case}/note")
}
fn message_key(case: &CaseNumber, seq: usize) -> String {
    format!("{case}/thread/{seq:05}")
}

/// The most memory sled may use to cache its pages.
const SLED_CACHE_BYTES: u64 = 128 * 1024 * 1024;

impl Storage {
    /// Opens (or creates) the data directory.
    pub fn open(data_dir: &Path, clock: Clock) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        std::fs::create_dir_all(files::dir(data_dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let db_dir = data_dir.join("db");
        // sled's default page cache is 1 GiB, which a busy server fills with reports it
        // has already stored (measured: 1.29 GiB after 60,000 reports, BENCHMARKS.md).
        // Reports are read back rarely, so a smaller cache costs little.
        let db = sled::Config::new()
            .path(&db_dir)
            .cache_capacity(SLED_CACHE_BYTES)
            .open()?;
        let storage = Storage {
            data_dir: data_dir.to_owned(),
            cases: db.open_tree("cases")?,
            mailboxes: db.open_tree("mailboxes")?,
            sessions: db.open_tree("sessions")?,
            ciphertexts: db.open_tree("ciphertexts")?,
            flusher: Flusher::start(
                db,
                vec![files::dir(data_dir), data_dir.to_owned()],
                vec![db_dir],
                clock.clone(),
            ),
            write: Mutex::new(()),
            clock,
        };
        storage.remove_orphan_files()?;
        Ok(storage)
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Today, as the storage's clock says.
    pub fn today(&self) -> Day {
        self.clock.today()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Waits until everything written so far is on disk (shared with concurrent
    /// callers: see flush.rs).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush().await.map_err(StoreError::Db)
    }

    /// How many flushes ran (tests of the grouping).
    pub fn flush_count(&self) -> u64 {
        self.flusher.flush_count()
    }

    /// Bytes free for unprivileged use on the data directory's file system.
    pub fn free_space(&self) -> Result<u64, StoreError> {
        Ok(fs2::available_space(&self.data_dir)?)
    }

    /// The stamp for files written today.
    pub fn file_day(&self) -> FileDay {
        FileDay(crate::clock::midnight(self.today()))
    }

    // --- upload sessions ---------------------------------------------------------------

    fn load_session(&self, mailbox: &MailboxId) -> Result<Option<UploadSession>, StoreError> {
        self.sessions
            .get(mailbox.0)?
            .map(|v| parse(&v, "upload session"))
            .transpose()
    }

    /// The mailbox's upload session, started if there is none. Refused once the
    /// mailbox has a report. Returns the session and whether it is new.
    pub fn open_session(&self, mailbox: &MailboxId) -> Result<(UploadSession, bool), StoreError> {
        let _g = self.lock();
        if self.mailboxes.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        if let Some(s) = self.load_session(mailbox)? {
            return Ok((s, false));
        }
        let session = UploadSession {
            created: self.today(),
            attachments: vec![],
        };
        self.sessions.insert(mailbox.0, json(&session))?;
        Ok((session, true))
    }

    /// The mailbox's upload session.
    pub fn session(&self, mailbox: &MailboxId) -> Result<UploadSession, StoreError> {
        if self.mailboxes.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        self.load_session(mailbox)?.ok_or(StoreError::NoSession)
    }

    /// Attachment `n` of the session: the existing one, or a new one if `n` is the next
    /// number and `create` is set. Returns its file path and whether it is finished.
    pub fn attachment(
        &self,
        mailbox: &MailboxId,
        n: u32,
        create: bool,
        max_attachments: u32,
    ) -> Result<(PathBuf, Option<Digest>), StoreError> {
        let _g = self.lock();
        if self.mailboxes.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        let mut session = self.load_session(mailbox)?.ok_or(StoreError::NoSession)?;
        let n = n as usize;
        if let Some(entry) = session.attachments.get(n) {
            return Ok((self.file_path(&entry.file)?, entry.finished.clone()));
        }
        if !create || n != session.attachments.len() {
            return Err(StoreError::NoSuchAttachment);
        }
        if n >= max_attachments as usize {
            return Err(StoreError::TooManyAttachments);
        }
        let file = FileId::generate();
        let path = self.file_path(&file)?;
        files::create(&path)?;
        session.attachments.push(UploadEntry {
            file,
            finished: None,
        });
        self.sessions.insert(mailbox.0, json(&session))?;
        Ok((path, None))
    }

    /// Bytes received so far for every attachment of the session except `except`.
    pub fn session_bytes(&self, mailbox: &MailboxId, except: u32) -> Result<u64, StoreError> {
        let session = self.session(mailbox)?;
        let mut total = 0;
        for (i, a) in session.attachments.iter().enumerate() {
            if i != except as usize {
                total += files::len(&self.file_path(&a.file)?).unwrap_or(0);
            }
        }
        Ok(total)
    }

    /// How many bytes of an attachment file arrived.
    pub fn received(&self, path: &Path) -> Result<u64, StoreError> {
        Ok(files::len(path)?)
    }

    /// The first `max` bytes of an attachment file.
    pub fn prefix(&self, path: &Path, max: usize) -> Result<Vec<u8>, StoreError> {
        Ok(files::read_prefix(path, max)?)
    }

    /// Cuts an attachment file back to `len` bytes.
    pub fn truncate(&self, path: &Path, len: u64) -> Result<(), StoreError> {
        files::truncate(path, len)?;
        self.file_day().apply(path);
        Ok(())
    }

    /// Hashes and syncs a finished attachment file (blocking: run off the async
    /// threads).
    pub fn digest_file(&self, path: &Path) -> Result<Digest, StoreError> {
        let digest = files::digest_and_sync(path)?;
        self.file_day().apply(path);
        Ok(digest)
    }

    /// Records attachment `n` as finished with `digest`.
    pub fn finish_attachment(
        &self,
        mailbox: &MailboxId,
        n: u32,
        digest: Digest,
    ) -> Result<(), StoreError> {
        let _g = self.lock();
        let mut session = self.load_session(mailbox)?.ok_or(StoreError::NoSession)?;
        let entry = session
            .attachments
            .get_mut(n as usize)
            .ok_or(StoreError::NoSuchAttachment)?;
        entry.finished = Some(digest);
        self.sessions.insert(mailbox.0, json(&session))?;
        Ok(())
    }

    fn file_path(&self, id: &FileId) -> Result<PathBuf, StoreError> {
        if !id.is_valid() {
            return Err(StoreError::Corrupt(
                "a stored file name is not one of ours".into(),
            ));
        }
        Ok(files::path(&self.data_dir, id))
    }

    // --- cases -------------------------------------------------------------------------

    /// Files a report for `mailbox` with every finished attachment of its upload
    /// session. Filing the same report again returns the first receipt's case.
    pub fn file_report(
        &self,
        mailbox: &MailboxId,
        destination: &str,
        report: &[u8],
    ) -> Result<Filed, StoreError> {
        let _g = self.lock();
        let digest = Digest::of(report);
        if let Some(existing) = self.mailboxes.get(mailbox.0)? {
            let case = CaseNumber::parse(&String::from_utf8_lossy(&existing))
                .ok_or_else(|| StoreError::Corrupt("mailbox index".into()))?;
            let record = self.case(&case)?.ok_or(StoreError::NoCase)?;
            if record.report == digest {
                return Ok(Filed {
                    case,
                    record,
                    new: false,
                });
            }
            return Err(StoreError::AlreadyReported);
        }
        let mut attachments = Vec::new();
        if let Some(session) = self.load_session(mailbox)? {
            for (i, a) in session.attachments.into_iter().enumerate() {
                let digest = a.finished.ok_or(StoreError::AttachmentUnfinished(i))?;
                attachments.push(StoredAttachment {
                    file: a.file,
                    digest,
                });
            }
        }
        let case = loop {
            let candidate = CaseNumber::generate(&mut rand::rngs::OsRng);
            if !self.cases.contains_key(candidate.as_str())? {
                break candidate;
            }
        };
        let today = self.today();
        let record = CaseRecord {
            destination: destination.to_owned(),
            mailbox: mailbox.to_hex(),
            received: today,
            status: CaseStatus::Received,
            acknowledged: None,
            closed: None,
            updated: today,
            last_content: today,
            report: digest,
            note: None,
            attachments,
            thread: vec![],
        };
        let record_json = json(&record);
        (
            &self.cases,
            &self.mailboxes,
            &self.sessions,
            &self.ciphertexts,
        )
            .transaction(|(cases, mailboxes, sessions, cts)| -> Tx<()> {
                cts.insert(report_key(&case).as_bytes(), report)?;
                cases.insert(case.as_str(), record_json.as_slice())?;
                mailboxes.insert(&mailbox.0, case.as_str())?;
                sessions.remove(&mailbox.0)?;
                Ok(())
            })?;
        Ok(Filed {
            case,
            record,
            new: true,
        })
    }

    /// The case a mailbox's report opened.
    pub fn case_for_mailbox(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<(CaseNumber, CaseRecord)>, StoreError> {
        let Some(v) = self.mailboxes.get(mailbox.0)? else {
            return Ok(None);
        };
        let case = CaseNumber::parse(&String::from_utf8_lossy(&v))
            .ok_or_else(|| StoreError::Corrupt("mailbox index".into()))?;
        Ok(self.case(&case)?.map(|r| (case, r)))
    }

    /// One case.
    pub fn case(&self, case: &CaseNumber) -> Result<Option<CaseRecord>, StoreError> {
        self.cases
            .get(case.as_str())?
            .map(|v| parse(&v, "case"))
            .transpose()
    }

    /// Every case, in case-number order (which is random, not arrival order).
    pub fn cases(&self) -> Result<Vec<(CaseNumber, CaseRecord)>, StoreError> {
        let mut out = Vec::new();
        for item in self.cases.iter() {
            let (k, v) = item?;
            let case = CaseNumber::parse(&String::from_utf8_lossy(&k))
                .ok_or_else(|| StoreError::Corrupt("case key".into()))?;
            out.push((case, parse(&v, "case")?));
        }
        Ok(out)
    }

    /// The report's age file.
    pub fn report(&self, case: &CaseNumber) -> Result<Vec<u8>, StoreError> {
        self.blob(&report_key(case))
    }

    /// The reporter's note to self.
    pub fn note(&self, case: &CaseNumber) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.ciphertexts.get(note_key(case))?.map(|v| v.to_vec()))
    }

    /// Message `seq` (1-based) of the thread.
    pub fn message(&self, case: &CaseNumber, seq: usize) -> Result<Vec<u8>, StoreError> {
        self.blob(&message_key(case, seq))
    }

    /// The path of one of a case's attachment files.
    pub fn attachment_path(&self, a: &StoredAttachment) -> Result<PathBuf, StoreError> {
        self.file_path(&a.file)
    }

    fn blob(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.ciphertexts
            .get(key)?
            .map(|v| v.to_vec())
            .ok_or_else(|| StoreError::Corrupt(format!("missing ciphertext {key}")))
    }

    fn update_case(
        &self,
        case: &CaseNumber,
        change: impl FnOnce(&mut CaseRecord) -> Result<Option<(String, Vec<u8>)>, StoreError>,
    ) -> Result<CaseRecord, StoreError> {
        let _g = self.lock();
        let mut record = self.case(case)?.ok_or(StoreError::NoCase)?;
        let blob = change(&mut record)?;
        let record_json = json(&record);
        (&self.cases, &self.ciphertexts).transaction(|(cases, cts)| -> Tx<()> {
            if let Some((key, bytes)) = &blob {
                cts.insert(key.as_bytes(), bytes.as_slice())?;
            }
            cases.insert(case.as_str(), record_json.as_slice())?;
            Ok(())
        })?;
        Ok(record)
    }

    /// Stores the reporter's note to self (once; the same note again is fine).
    pub fn store_note(&self, case: &CaseNumber, note: &[u8]) -> Result<CaseRecord, StoreError> {
        let today = self.today();
        let digest = Digest::of(note);
        self.update_case(case, |r| match &r.note {
            Some(existing) if *existing == digest => Ok(None),
            Some(_) => Err(StoreError::NoteExists),
            None => {
                r.note = Some(digest);
                r.updated = today;
                Ok(Some((note_key(case), note.to_vec())))
            }
        })
    }

    /// Appends a message to the thread if `extends` is the current head. The same
    /// message posted again against the head it extended is accepted once.
    pub fn append_message(
        &self,
        case: &CaseNumber,
        direction: Direction,
        extends: &str,
        message: &[u8],
    ) -> Result<(usize, CaseRecord), StoreError> {
        let today = self.today();
        let digest = Digest::of(message);
        let mut seq = 0;
        let record = self.update_case(case, |r| {
            let head = r.head().to_owned();
            if head != extends {
                // A retry whose answer was lost: the message is already the head and
                // extended what the client says.
                let n = r.thread.len();
                let before_last = match n {
                    0 => None,
                    1 => Some(r.report.sha256.as_str()),
                    _ => Some(r.thread[n - 2].digest.sha256.as_str()),
                };
                if n > 0 && r.thread[n - 1].digest == digest && before_last == Some(extends) {
                    seq = n;
                    return Ok(None);
                }
                return Err(StoreError::StaleHead { head });
            }
            r.thread.push(ThreadEntry {
                direction,
                digest,
                day: today,
            });
            r.updated = today;
            r.last_content = today;
            seq = r.thread.len();
            Ok(Some((message_key(case, seq), message.to_vec())))
        })?;
        Ok((seq, record))
    }

    /// Moves a case's status forward (setting the current status again is fine).
    pub fn set_status(
        &self,
        case: &CaseNumber,
        status: CaseStatus,
    ) -> Result<CaseRecord, StoreError> {
        let today = self.today();
        self.update_case(case, |r| {
            if status < r.status {
                return Err(StoreError::StatusBackwards { from: r.status });
            }
            if status != r.status {
                r.status = status;
                r.updated = today;
                if status >= CaseStatus::Acknowledged && r.acknowledged.is_none() {
                    r.acknowledged = Some(today);
                }
                if status == CaseStatus::Closed {
                    r.closed = Some(today);
                }
            }
            Ok(None)
        })
    }

    /// Removes a closed case: its records, age files and attachment files.
    pub fn shred(&self, case: &CaseNumber) -> Result<(), StoreError> {
        let _g = self.lock();
        let record = self.case(case)?.ok_or(StoreError::NoCase)?;
        if record.status != CaseStatus::Closed {
            return Err(StoreError::NotClosed);
        }
        let mailbox =
            hex::decode(&record.mailbox).map_err(|_| StoreError::Corrupt("mailbox id".into()))?;
        let keys: Vec<sled::IVec> = self
            .ciphertexts
            .scan_prefix(format!("{case}/"))
            .keys()
            .collect::<Result<_, _>>()?;
        (&self.cases, &self.mailboxes, &self.ciphertexts).transaction(
            |(cases, mailboxes, cts)| -> Tx<()> {
                cases.remove(case.as_str())?;
                mailboxes.remove(mailbox.as_slice())?;
                for k in &keys {
                    cts.remove(k)?;
                }
                Ok(())
            },
        )?;
        for a in &record.attachments {
            files::remove(&self.file_path(&a.file)?)?;
        }
        Ok(())
    }

    /// Removes the mailbox's upload session and its files at once: a no-JavaScript
    /// submission that failed half-way leaves nothing for anyone to finish.
    pub fn discard_session(&self, mailbox: &MailboxId) -> Result<(), StoreError> {
        let _g = self.lock();
        if let Some(session) = self.load_session(mailbox)? {
            self.sessions.remove(mailbox.0)?;
            for a in &session.attachments {
                files::remove(&self.file_path(&a.file)?)?;
            }
        }
        Ok(())
    }

    /// Removes upload sessions older than `max_age_days` (no report followed) and their
    /// files. Returns how many were removed.
    pub fn remove_stale_sessions(&self, max_age_days: u32) -> Result<usize, StoreError> {
        let _g = self.lock();
        let today = self.today();
        let mut removed = 0;
        for item in self.sessions.iter() {
            let (k, v) = item?;
            let session: UploadSession = parse(&v, "upload session")?;
            if session.created.add_days(i64::from(max_age_days)) <= today {
                self.sessions.remove(&k)?;
                for a in &session.attachments {
                    files::remove(&self.file_path(&a.file)?)?;
                }
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Attachment files no session or case refers to: left by a crash between writing
    /// a file and recording it, or between removing a record and its file.
    fn remove_orphan_files(&self) -> Result<(), StoreError> {
        let mut known = std::collections::HashSet::new();
        for item in self.sessions.iter() {
            let (_, v) = item?;
            let s: UploadSession = parse(&v, "upload session")?;
            known.extend(
                s.attachments
                    .into_iter()
                    .map(|a| a.file.as_str().to_owned()),
            );
        }
        for (_, r) in self.cases()? {
            known.extend(
                r.attachments
                    .into_iter()
                    .map(|a| a.file.as_str().to_owned()),
            );
        }
        for e in std::fs::read_dir(files::dir(&self.data_dir))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) {
                files::remove(&e.path())?;
            }
        }
        Ok(())
    }
}
