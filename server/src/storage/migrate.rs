//! `meldpunt-server migrate`: copies everything from one backend to the other (the
//! embedded data directory into PostgreSQL and the object store, or back), then checks
//! every case's bytes on both sides.
//!
//! What is copied: every case (record, report, note, thread, attachments under the same
//! random names), upload sessions (finished attachments with their bytes; an unfinished
//! attachment restarts empty, since the parts of an unfinished multipart upload cannot be
//! read back: its client asks how much arrived and sends it again), the token records,
//! and the audit log, entry by entry, so the chain and its hashes are the same.
//! Counters are not copied (budgets start afresh). Run it with every server stopped.

use std::io::Read;

use meldpunt_crypto::Day;
use sha2::{Digest as _, Sha256};

use super::embedded::Embedded;
use super::postgres::Postgres;
use super::records::{CaseRecord, Digest, StoredAttachment};
use super::{Registry, Store, StoreError};
use crate::ids::{CaseNumber, FileId};

/// One case, as read from the source.
pub struct CaseCopy {
    /// The case number.
    pub case: CaseNumber,
    /// Its record.
    pub record: CaseRecord,
    /// The report's age file.
    pub report: Vec<u8>,
    /// The note to self.
    pub note: Option<Vec<u8>>,
    /// The thread's messages, in order.
    pub messages: Vec<Vec<u8>>,
}

/// One upload session, as read from the source.
pub struct SessionCopy {
    /// The mailbox id.
    pub mailbox: [u8; 32],
    /// The day it began.
    pub created: Day,
    /// Its attachments: name and, when finished, size and hash.
    pub attachments: Vec<(FileId, Option<Digest>)>,
}

/// An attachment's bytes, read block by block on a blocking thread.
pub struct Blocks {
    reader: Option<Box<dyn Read + Send>>,
}

impl Blocks {
    /// Blocks of `reader`.
    pub fn new(reader: Box<dyn Read + Send>) -> Self {
        Self {
            reader: Some(reader),
        }
    }

    /// The next block of at most `max` bytes; `None` at the end.
    pub async fn next(&mut self, max: usize) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(mut reader) = self.reader.take() else {
            return Ok(None);
        };
        let (reader, block) = rocket::tokio::task::spawn_blocking(move || {
            let mut block = Vec::with_capacity(max.min(1 << 20));
            let r = (&mut reader).take(max as u64).read_to_end(&mut block);
            (reader, r.map(|_| block))
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        let block = block?;
        if block.is_empty() {
            return Ok(None);
        }
        self.reader = Some(reader);
        Ok(Some(block))
    }
}

/// One side of a migration.
pub enum Side {
    /// The data directory.
    Embedded(Box<Embedded>),
    /// PostgreSQL and the object store.
    Postgres(Postgres),
}

impl Side {
    fn store(&self) -> &dyn Store {
        match self {
            Side::Embedded(e) => e.as_ref(),
            Side::Postgres(p) => p,
        }
    }

    async fn sessions(&self) -> Result<Vec<SessionCopy>, StoreError> {
        match self {
            Side::Embedded(e) => e.export_sessions(),
            Side::Postgres(p) => p.export_sessions().await,
        }
    }

    async fn import_attachment(&self, id: &FileId, blocks: Blocks) -> Result<(), StoreError> {
        match self {
            Side::Embedded(e) => e.import_file(id, blocks).await,
            Side::Postgres(p) => p.import_object(id, blocks).await,
        }
    }

    async fn import_case(&self, copy: &CaseCopy) -> Result<(), StoreError> {
        match self {
            Side::Embedded(e) => e.import_case(copy),
            Side::Postgres(p) => p.import_case(copy).await,
        }
    }

    async fn import_session(&self, copy: &SessionCopy) -> Result<(), StoreError> {
        match self {
            Side::Embedded(e) => e.import_session(copy),
            Side::Postgres(p) => p.import_session(copy).await,
        }
    }
}

/// What a migration copied.
#[derive(Debug, Default)]
pub struct Summary {
    /// Cases copied (or found identical already).
    pub cases: usize,
    /// Attachment files copied.
    pub attachments: usize,
    /// Upload sessions copied.
    pub sessions: usize,
    /// Token records copied.
    pub tokens: usize,
    /// Audit entries copied.
    pub audit: usize,
}

async fn read_case(
    store: &dyn Store,
    case: &CaseNumber,
    record: CaseRecord,
) -> Result<CaseCopy, StoreError> {
    let mut messages = Vec::new();
    for seq in 1..=record.thread.len() {
        messages.push(store.message(case, seq).await?);
    }
    Ok(CaseCopy {
        case: case.clone(),
        report: store.report(case).await?,
        note: store.note(case).await?,
        messages,
        record,
    })
}

async fn attachment_digest(store: &dyn Store, a: &StoredAttachment) -> Result<Digest, StoreError> {
    let mut blocks = Blocks::new(store.read_attachment(a)?);
    let mut h = Sha256::new();
    let mut size = 0u64;
    while let Some(b) = blocks.next(1 << 20).await? {
        h.update(&b);
        size += b.len() as u64;
    }
    Ok(Digest {
        sha256: hex::encode(h.finalize()),
        size,
    })
}

fn differ(what: String) -> StoreError {
    StoreError::Corrupt(format!(
        "after copying, {what} differs between the two sides"
    ))
}

/// Copies everything from `from` to `to`, then checks every case's bytes.
pub async fn migrate(
    from: &Side,
    from_registry: &dyn Registry,
    to: &Side,
    to_registry: &dyn Registry,
) -> Result<Summary, StoreError> {
    let mut summary = Summary::default();
    let (src, dst) = (from.store(), to.store());

    // Tokens and the audit log first: a destination that has others is refused.
    let have = to_registry.tokens().await?;
    for t in from_registry.tokens().await? {
        match have.iter().find(|h| h.name == t.name) {
            Some(h) if serde_json::to_value(h).ok() == serde_json::to_value(&t).ok() => {}
            Some(_) => return Err(StoreError::TokenExists(t.name)),
            None => {
                to_registry.add_token(t).await?;
                summary.tokens += 1;
            }
        }
    }
    let have = to_registry.audit_entries(0).await?;
    let entries = from_registry.audit_entries(0).await?;
    if have.len() > entries.len() || have.iter().zip(&entries).any(|(a, b)| a.hash != b.hash) {
        return Err(StoreError::Corrupt(
            "the destination's audit log is not a beginning of the source's".into(),
        ));
    }
    for e in entries.iter().skip(have.len()) {
        let copied = to_registry
            .append_audit(e.day, &e.token, &e.action, e.case.as_deref(), &e.scope)
            .await?;
        if copied.hash != e.hash || copied.index != e.index {
            return Err(differ(format!("audit entry {}", e.index)));
        }
        summary.audit += 1;
    }

    // Cases: attachments first, then the records that refer to them.
    for (case, record) in src.cases().await? {
        if let Some(existing) = dst.case(&case).await? {
            if serde_json::to_value(&existing).ok() != serde_json::to_value(&record).ok() {
                return Err(StoreError::Corrupt(format!(
                    "case {case} exists on the destination with other contents"
                )));
            }
        } else {
            for a in &record.attachments {
                to.import_attachment(&a.file, Blocks::new(src.read_attachment(a)?))
                    .await?;
                summary.attachments += 1;
            }
            to.import_case(&read_case(src, &case, record.clone()).await?)
                .await?;
        }
        summary.cases += 1;
    }

    // Upload sessions, with their finished attachments.
    for s in from.sessions().await? {
        for (file, finished) in &s.attachments {
            if let Some(digest) = finished {
                let a = StoredAttachment {
                    file: file.clone(),
                    digest: digest.clone(),
                };
                to.import_attachment(file, Blocks::new(src.read_attachment(&a)?))
                    .await?;
                summary.attachments += 1;
            }
        }
        to.import_session(&s).await?;
        summary.sessions += 1;
    }

    verify(src, dst).await?;
    Ok(summary)
}

/// Compares every case's record and bytes on both sides.
pub async fn verify(src: &dyn Store, dst: &dyn Store) -> Result<(), StoreError> {
    let a = src.cases().await?;
    let b = dst.cases().await?;
    if a.len() != b.len() {
        return Err(differ(format!(
            "the number of cases ({} and {})",
            a.len(),
            b.len()
        )));
    }
    for ((case, record), (case2, record2)) in a.iter().zip(&b) {
        if case != case2 || serde_json::to_value(record).ok() != serde_json::to_value(record2).ok()
        {
            return Err(differ(format!("the record of {case}")));
        }
        let one = read_case(src, case, record.clone()).await?;
        let two = read_case(dst, case, record2.clone()).await?;
        if one.report != two.report || one.note != two.note || one.messages != two.messages {
            return Err(differ(format!("an age file of {case}")));
        }
        if Digest::of(&one.report) != record.report {
            return Err(differ(format!("the report of {case} and its record")));
        }
        for a in &record.attachments {
            let d1 = attachment_digest(src, a).await?;
            let d2 = attachment_digest(dst, a).await?;
            if d1 != a.digest || d2 != a.digest {
                return Err(differ(format!("attachment {} of {case}", a.file.as_str())));
            }
        }
    }
    Ok(())
}

/// Opens both sides the settings name and copies `to` one of them (`postgres` or
/// `embedded`).
pub async fn run(settings: &crate::config::Settings, to: &str) -> Result<Summary, StoreError> {
    let clock = crate::clock::Clock::system();
    let embedded = Side::Embedded(Box::new(Embedded::open(&settings.data_dir, clock.clone())?));
    let pg = Postgres::open(settings, clock)?;
    pg.prepare().await?;
    let pg_registry = super::postgres::registry::PgRegistry::new(pg.pool().clone());
    let file_registry = super::embedded::registry::FileRegistry::new(&settings.data_dir);
    let pg = Side::Postgres(pg);
    match to {
        "postgres" => migrate(&embedded, &file_registry, &pg, &pg_registry).await,
        "embedded" => migrate(&pg, &pg_registry, &embedded, &file_registry).await,
        other => Err(StoreError::Corrupt(format!(
            "migrate --to takes postgres or embedded, not {other}"
        ))),
    }
}
