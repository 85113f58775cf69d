//! The embedded backend, the default: sled for the records, and the age files beside
//! it, all in one data directory. sled is used nowhere else.
//!
//! Layout of the data directory:
//! ```text
//! db/            sled: cases, mailboxes, upload sessions, tombstones of shredded cases
//! texts/         the reports', notes' and messages' age files, in segments (texts.rs)
//! files/         attachment age files, named at random
//! tokens.json    investigator token hashes (see tokens.rs)
//! audit.jsonl    the hash-chained audit log (see audit.rs)
//! snapshot.sock  where `meldpunt-server snapshot` asks for a snapshot (while serving)
//! snapshot-…/    a snapshot being backed up (see snapshot.rs)
//! ```

mod cases;
mod files;
mod flush;
mod migrate;
pub mod registry;
pub mod snapshot;
mod texts;
mod uploads;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use meldpunt_crypto::{CaseStatus, Day, Direction, MailboxId};
use rocket::async_trait;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use flush::Flusher;

use super::pause::Pause;
use super::records::{CaseRecord, Digest, StoredAttachment, Tombstone, UploadSession};
use super::{AttachmentProgress, ChunkWriter, Filed, Store, StoreError};
use crate::clock::{Clock, FileDay};
use crate::ids::{CaseNumber, FileId};

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Db(e.to_string())
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

/// The embedded storage: one data directory.
pub struct Embedded {
    data_dir: PathBuf,
    /// The database, for snapshots (boxed in an Arc: `Embedded` is moved around by value).
    db: Arc<sled::Db>,
    cases: sled::Tree,
    mailboxes: sled::Tree,
    sessions: sled::Tree,
    tombstones: sled::Tree,
    /// Where each report, note and message is in `texts`: `<case>/report`,
    /// `<case>/note`, `<case>/thread/<seq>` → location.
    located: sled::Tree,
    /// Locations no record needs any more, to erase once that is on disk.
    erase: sled::Tree,
    /// The segments holding the age files of cases.
    texts: texts::Texts,
    /// Syncs appends to the segments, several at once.
    syncer: texts::Syncer,
    flusher: Flusher,
    /// Serialises every read-modify-write of records, so no transaction ever conflicts
    /// and checks such as "is this still the thread head" hold until the write.
    write: Mutex<()>,
    /// Held by every change, and by a snapshot to stop them (see `Pause`).
    pause: Arc<Pause>,
    /// Attachments being written right now, so two connections never append to one
    /// file.
    busy: uploads::BusySet,
    /// Shared counters, in memory only: (key, window) → count, and ids used once.
    counters: Mutex<Counters>,
    clock: Clock,
}

/// The embedded backend's counters: one process, so memory is enough.
#[derive(Default)]
struct Counters {
    counts: std::collections::BTreeMap<(String, u64), u64>,
    used: std::collections::HashMap<Vec<u8>, u64>,
    secrets: std::collections::HashMap<String, [u8; 32]>,
}

impl Drop for Embedded {
    /// A last flush, then the day stamp, so a stopped server leaves no exact time on
    /// sled's files.
    fn drop(&mut self) {
        let _ = self.cases.flush();
        let day = self.file_day();
        day.apply_tree(&self.data_dir.join("db"));
        day.apply(&files::dir(&self.data_dir));
        day.apply_tree(&texts::dir(&self.data_dir));
        day.apply(&self.data_dir);
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("encoding a record: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The most memory sled may use to cache its pages.
const SLED_CACHE_BYTES: u64 = 128 * 1024 * 1024;

impl Embedded {
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
        snapshot::remove_leftovers(data_dir)?;
        let texts = texts::Texts::open(&texts::dir(data_dir), FileDay::of(clock.today()))?;
        let storage = Embedded {
            data_dir: data_dir.to_owned(),
            db: Arc::new(db.clone()),
            cases: db.open_tree("cases")?,
            mailboxes: db.open_tree("mailboxes")?,
            sessions: db.open_tree("sessions")?,
            tombstones: db.open_tree("tombstones")?,
            located: db.open_tree("texts")?,
            erase: db.open_tree("erase")?,
            texts,
            syncer: texts::Syncer::start()?,
            flusher: Flusher::start(
                db,
                vec![files::dir(data_dir), data_dir.to_owned()],
                // The segments too: a read moves their access time.
                vec![db_dir, texts::dir(data_dir)],
                clock.clone(),
            )?,
            write: Mutex::new(()),
            pause: Arc::default(),
            busy: Arc::default(),
            counters: Mutex::default(),
            clock,
        };
        storage.move_texts_out_of_sled()?;
        storage.count_texts()?;
        storage.remove_orphan_files()?;
        Ok(storage)
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.write.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pause every change holds, and a snapshot takes.
    pub fn pause(&self) -> &Arc<Pause> {
        &self.pause
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// How many flushes ran (tests of the grouping).
    pub fn flush_count(&self) -> u64 {
        self.flusher.flush_count()
    }

    /// The stamp for files written today.
    fn file_day(&self) -> FileDay {
        FileDay::of(self.clock.today())
    }

    fn file_path(&self, id: &FileId) -> Result<PathBuf, StoreError> {
        if !id.is_valid() {
            return Err(StoreError::Corrupt(
                "a stored file name is not one of ours".into(),
            ));
        }
        Ok(files::path(&self.data_dir, id))
    }

    /// Data directories written before the age files moved to `texts/` (2026-12) keep
    /// them in sled's tree `ciphertexts`, under the keys `located` uses: they are
    /// appended to segments (synced) and moved over, a batch per transaction, and the
    /// tree is dropped. A crash halfway is safe: what was not moved yet is moved on the
    /// next start.
    fn move_texts_out_of_sled(&self) -> Result<(), StoreError> {
        const OLD: &[u8] = b"ciphertexts";
        if !self.db.tree_names().iter().any(|n| n == OLD) {
            return Ok(());
        }
        let old = self.db.open_tree(OLD)?;
        loop {
            let batch: Vec<(sled::IVec, sled::IVec)> =
                old.iter().take(256).collect::<Result<_, _>>()?;
            if batch.is_empty() {
                break;
            }
            let at = self
                .texts
                .append_all(batch.iter().map(|(_, v)| v.as_ref()), self.file_day())?;
            (&old, &self.located).transaction(|(old, located)| -> Tx<()> {
                for ((key, _), at) in batch.iter().zip(&at) {
                    old.remove(key)?;
                    located.insert(key, &at.to_bytes()[..])?;
                }
                Ok(())
            })?;
        }
        self.db.drop_tree(OLD)?;
        self.db.flush()?;
        Ok(())
    }

    /// On opening: erases what the `erase` list still holds (an erase cut short), counts
    /// what each segment holds, and removes the segments that hold nothing recorded.
    fn count_texts(&self) -> Result<(), StoreError> {
        let day = self.file_day();
        for item in self.erase.iter() {
            let (key, _) = item?;
            if let Some(at) = texts::Location::from_bytes(&key) {
                self.texts.zero(at, day)?;
            }
            self.erase.remove(key)?;
        }
        for item in self.located.iter() {
            let (key, at) = item?;
            let at = texts::Location::from_bytes(&at).ok_or_else(|| {
                StoreError::Corrupt(format!("the location of {}", String::from_utf8_lossy(&key)))
            })?;
            self.texts.count(at);
        }
        self.texts.remove_unrecorded_segments(day)?;
        self.db.flush()?;
        Ok(())
    }

    /// Attachment files no session or case refers to: left by a crash between writing
    /// a file and recording it, or between removing a record and its file.
    fn remove_orphan_files(&self) -> Result<(), StoreError> {
        let mut known = HashSet::new();
        for item in self.sessions.iter() {
            let (_, v) = item?;
            let s: UploadSession = parse(&v, "upload session")?;
            known.extend(
                s.attachments
                    .into_iter()
                    .map(|a| a.file.as_str().to_owned()),
            );
        }
        for (_, r) in self.all_cases()? {
            known.extend(
                r.attachments
                    .into_iter()
                    .map(|a| a.file.as_str().to_owned()),
            );
        }
        for e in std::fs::read_dir(files::dir(&self.data_dir))?.flatten() {
            if !known.contains(e.file_name().to_string_lossy().as_ref()) {
                files::remove(&e.path())?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for Embedded {
    fn today(&self) -> Day {
        self.clock.today()
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.flusher.flush().await.map_err(StoreError::Db)
    }

    fn free_space(&self) -> Result<u64, StoreError> {
        Ok(fs2::available_space(&self.data_dir)?)
    }

    async fn open_session(&self, mailbox: &MailboxId) -> Result<(UploadSession, bool), StoreError> {
        self.open_session_now(mailbox)
    }

    async fn session(&self, mailbox: &MailboxId) -> Result<UploadSession, StoreError> {
        self.session_now(mailbox)
    }

    async fn attachment(
        &self,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<AttachmentProgress, StoreError> {
        self.attachment_now(mailbox, n)
    }

    async fn session_bytes(&self, mailbox: &MailboxId, except: u32) -> Result<u64, StoreError> {
        self.session_bytes_now(mailbox, except)
    }

    async fn write_attachment(
        &self,
        mailbox: &MailboxId,
        n: u32,
        max_attachments: u32,
    ) -> Result<Box<dyn ChunkWriter>, StoreError> {
        self.write_attachment_now(mailbox, n, max_attachments).await
    }

    async fn finish_attachment(&self, mailbox: &MailboxId, n: u32) -> Result<Digest, StoreError> {
        self.finish_attachment_now(mailbox, n).await
    }

    async fn discard_session(&self, mailbox: &MailboxId) -> Result<(), StoreError> {
        self.discard_session_now(mailbox)
    }

    async fn remove_stale_sessions(&self, max_age_days: u32) -> Result<usize, StoreError> {
        self.remove_stale_sessions_now(max_age_days)
    }

    async fn file_report(
        &self,
        mailbox: &MailboxId,
        destination: &str,
        report: &[u8],
    ) -> Result<Filed, StoreError> {
        self.file_report_now(mailbox, destination, report).await
    }

    async fn case_for_mailbox(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<(CaseNumber, CaseRecord)>, StoreError> {
        self.case_for_mailbox_now(mailbox)
    }

    async fn case(&self, case: &CaseNumber) -> Result<Option<CaseRecord>, StoreError> {
        self.case_now(case)
    }

    async fn cases(&self) -> Result<Vec<(CaseNumber, CaseRecord)>, StoreError> {
        self.all_cases()
    }

    async fn report(&self, case: &CaseNumber) -> Result<Vec<u8>, StoreError> {
        self.blob(&cases::report_key(case))
    }

    async fn note(&self, case: &CaseNumber) -> Result<Option<Vec<u8>>, StoreError> {
        self.text(&cases::note_key(case))
    }

    async fn message(&self, case: &CaseNumber, seq: usize) -> Result<Vec<u8>, StoreError> {
        self.blob(&cases::message_key(case, seq))
    }

    fn read_attachment(&self, a: &StoredAttachment) -> Result<Box<dyn Read + Send>, StoreError> {
        let file = std::fs::File::open(self.file_path(&a.file)?)?;
        Ok(Box::new(file.take(a.digest.size)))
    }

    async fn store_note(&self, case: &CaseNumber, note: &[u8]) -> Result<CaseRecord, StoreError> {
        self.store_note_now(case, note).await
    }

    async fn append_message(
        &self,
        case: &CaseNumber,
        direction: Direction,
        extends: &str,
        message: &[u8],
    ) -> Result<(usize, CaseRecord), StoreError> {
        self.append_message_now(case, direction, extends, message)
            .await
    }

    async fn set_status(
        &self,
        case: &CaseNumber,
        status: CaseStatus,
    ) -> Result<CaseRecord, StoreError> {
        self.set_status_now(case, status)
    }

    async fn shred(&self, case: &CaseNumber) -> Result<(), StoreError> {
        self.shred_now(case).await
    }

    async fn tombstone(&self, mailbox: &MailboxId) -> Result<Option<Tombstone>, StoreError> {
        self.tombstones
            .get(mailbox.0)?
            .map(|v| parse(&v, "tombstone"))
            .transpose()
    }

    async fn count(&self, key: &str, window: u64, by: u64) -> Result<u64, StoreError> {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        // Windows long past are of no use to anyone: forget them.
        c.counts
            .retain(|(_, w), _| w.saturating_add(COUNTER_WINDOWS_KEPT) >= window);
        let n = c.counts.entry((key.to_owned(), window)).or_default();
        *n = n.saturating_add(by);
        Ok(*n)
    }

    async fn counted(&self, key: &str, from: u64, to: u64) -> Result<u64, StoreError> {
        let c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        Ok(c.counts
            .range((key.to_owned(), from)..=(key.to_owned(), to))
            .map(|(_, n)| *n)
            .sum())
    }

    async fn use_once(&self, id: &[u8], until: u64) -> Result<bool, StoreError> {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let now = until.saturating_sub(COUNTER_WINDOWS_KEPT);
        c.used.retain(|_, until| *until >= now);
        Ok(c.used.insert(id.to_vec(), until).is_none())
    }

    async fn shared_secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        Ok(*c.secrets.entry(name.to_owned()).or_insert_with(|| {
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
            key
        }))
    }
}

/// How many windows back counters are kept.
const COUNTER_WINDOWS_KEPT: u64 = 128;

#[cfg(test)]
mod tests;
