//! The PostgreSQL backend: case records, mailboxes, upload sessions, tokens, the audit
//! log and the report, note and message age files in PostgreSQL; attachment ciphertext
//! in an S3-compatible object store under random names. Several server instances can
//! share one database and one bucket: every guarantee of [`crate::storage`] holds
//! across them, because each is a PostgreSQL transaction or lock, never process memory.
//!
//! - A report is filed in one transaction (case, report, mailbox, session removed); the
//!   mailbox column is unique, so two instances filing for one mailbox file once.
//! - The thread head advances under the case row's lock (`SELECT … FOR UPDATE`): the
//!   second of two posts against one head sees the new head and gets `StaleHead`.
//! - Every write has committed (`synchronous_commit = on`) and every object write was
//!   acknowledged by the object store before the call returns, so [`Store::flush`] has
//!   nothing left to wait for.
//! - One writer per attachment: a session-level advisory lock on the writer's own
//!   connection, which PostgreSQL releases when the connection ends (the lease: an
//!   instance that dies loses its claims with its connections).
//! - Resumable chunks: a chunk's bytes go into `pieces` rows as they arrive; when a
//!   chunk ends, whole parts of [`PART_SIZE`] move to an S3 multipart upload. Finishing
//!   uploads the rest as the last part (or one plain object when small), completes the
//!   upload and hashes the object as read back.
//!
//! The schema is `schema.sql`; docs/CONFIG.md and docs/DEPLOY.md describe the set-up.

mod cases;
mod migrate;
mod objects;
pub mod registry;
mod uploads;

use std::io::Read;
use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use meldpunt_crypto::{CaseStatus, Day, Direction, MailboxId};
use rocket::async_trait;
use rocket::tokio::sync::OnceCell;

pub use objects::Objects;

use super::records::{CaseRecord, Digest, StoredAttachment, UploadSession};
use super::{AttachmentProgress, ChunkWriter, Filed, Store, StoreError};
use crate::clock::Clock;
use crate::config::Settings;
use crate::ids::{CaseNumber, FileId};

/// Bytes of one multipart part (the object store's minimum is 5 MiB).
pub const PART_SIZE: u64 = 8 * 1024 * 1024;

const SCHEMA: &str = include_str!("schema.sql");
const SCHEMA_VERSION: i32 = 1;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Db(format!("PostgreSQL: {e}"))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Db(format!("PostgreSQL connection: {e}"))
    }
}

impl From<object_store::Error> for StoreError {
    fn from(e: object_store::Error) -> Self {
        StoreError::Db(format!("object store: {e}"))
    }
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("encoding a record: {e}")))
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A stored object name, checked.
pub(crate) fn file_id(name: &str) -> Result<FileId, StoreError> {
    let id: FileId = serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("object name: {e}")))?;
    if !id.is_valid() {
        return Err(StoreError::Corrupt(
            "a stored object name is not one of ours".into(),
        ));
    }
    Ok(id)
}

/// The connection pool for `settings.postgres_url` (connections are made when needed).
pub fn pool(settings: &Settings) -> Result<Pool, StoreError> {
    let url = settings.postgres_url.as_deref().ok_or_else(|| {
        StoreError::Db("storage = \"postgres\" needs postgres_url (docs/CONFIG.md)".into())
    })?;
    let mut config = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Db(format!("postgres_url: {e}")))?;
    // A receipt follows the commit's flush to disk (and, with a synchronous standby
    // configured on the primary, its confirmation).
    config.options("-c synchronous_commit=on");
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(settings.postgres_pool.max(2))
        .build()
        .map_err(|e| StoreError::Db(format!("PostgreSQL pool: {e}")))
}

/// Applies the schema once per pool.
pub(crate) async fn prepare(pool: &Pool, ready: &OnceCell<()>) -> Result<(), StoreError> {
    ready
        .get_or_try_init(|| async {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            // Two instances starting together apply it one after the other.
            tx.execute("SELECT pg_advisory_xact_lock(7470001)", &[])
                .await?;
            tx.batch_execute(SCHEMA).await?;
            let row = tx
                .query_opt("SELECT version FROM meldpunt_schema", &[])
                .await?;
            match row.map(|r| r.get::<_, i32>(0)) {
                None => {
                    tx.execute(
                        "INSERT INTO meldpunt_schema (version) VALUES ($1)",
                        &[&SCHEMA_VERSION],
                    )
                    .await?;
                }
                Some(v) if v == SCHEMA_VERSION => {}
                Some(v) => {
                    return Err(StoreError::Db(format!(
                        "the database has schema version {v}; this server knows {SCHEMA_VERSION}"
                    )))
                }
            }
            tx.commit().await?;
            Ok(())
        })
        .await
        .map(|_| ())
}

/// Numbers as PostgreSQL's bigint.
pub(crate) fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A bigint read back.
pub(crate) fn unbig(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The PostgreSQL + object store backend.
pub struct Postgres {
    pool: Pool,
    objects: Objects,
    clock: Clock,
    ready: OnceCell<()>,
}

impl Postgres {
    /// The backend the settings name. Nothing is connected yet: the first operation
    /// connects and applies the schema.
    pub fn open(settings: &Settings, clock: Clock) -> Result<Self, StoreError> {
        Ok(Self {
            pool: pool(settings)?,
            objects: Objects::open(settings)?,
            clock,
            ready: OnceCell::new(),
        })
    }

    /// Connects, applies the schema, and removes objects whose records are gone.
    pub async fn prepare(&self) -> Result<(), StoreError> {
        drop(self.client().await?);
        self.sweep_doomed().await
    }

    /// A pooled connection, the schema applied.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        prepare(&self.pool, &self.ready).await?;
        Ok(self.pool.get().await?)
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The object store.
    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// Removes the objects (and unfinished multipart uploads) listed in `doomed`.
    pub(crate) async fn sweep_doomed(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT object, multipart FROM doomed", &[])
            .await?;
        for row in rows {
            let object: String = row.get(0);
            let multipart: Option<String> = row.get(1);
            let id = file_id(&object)?;
            if let Some(m) = multipart {
                self.objects.abort(&id, &m).await;
            }
            self.objects.delete(&id).await?;
            client
                .execute("DELETE FROM doomed WHERE object = $1", &[&object])
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Store for Postgres {
    fn today(&self) -> Day {
        self.clock.today()
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Every write committed (synchronously) and every object was acknowledged before
        // its call returned.
        Ok(())
    }

    fn free_space(&self) -> Result<u64, StoreError> {
        // The database's and the object store's disks are the operator's to watch
        // (docs/DEPLOY.md); no local disk holds uploads.
        Ok(u64::MAX)
    }

    async fn open_session(&self, mailbox: &MailboxId) -> Result<(UploadSession, bool), StoreError> {
        self.open_session_now(mailbox).await
    }

    async fn session(&self, mailbox: &MailboxId) -> Result<UploadSession, StoreError> {
        self.session_now(mailbox).await
    }

    async fn attachment(
        &self,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<AttachmentProgress, StoreError> {
        self.attachment_now(mailbox, n).await
    }

    async fn session_bytes(&self, mailbox: &MailboxId, except: u32) -> Result<u64, StoreError> {
        self.session_bytes_now(mailbox, except).await
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
        self.discard_session_now(mailbox).await
    }

    async fn remove_stale_sessions(&self, max_age_days: u32) -> Result<usize, StoreError> {
        self.remove_stale_sessions_now(max_age_days).await
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
        self.case_for_mailbox_now(mailbox).await
    }

    async fn case(&self, case: &CaseNumber) -> Result<Option<CaseRecord>, StoreError> {
        self.case_now(case).await
    }

    async fn cases(&self) -> Result<Vec<(CaseNumber, CaseRecord)>, StoreError> {
        self.all_cases().await
    }

    async fn report(&self, case: &CaseNumber) -> Result<Vec<u8>, StoreError> {
        self.blob(case, "report")
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("missing ciphertext {case}/report")))
    }

    async fn note(&self, case: &CaseNumber) -> Result<Option<Vec<u8>>, StoreError> {
        self.blob(case, "note").await
    }

    async fn message(&self, case: &CaseNumber, seq: usize) -> Result<Vec<u8>, StoreError> {
        let name = cases::message_name(seq);
        self.blob(case, &name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("missing ciphertext {case}/{name}")))
    }

    fn read_attachment(&self, a: &StoredAttachment) -> Result<Box<dyn Read + Send>, StoreError> {
        self.objects.reader(&a.file, a.digest.size)
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
        self.set_status_now(case, status).await
    }

    async fn shred(&self, case: &CaseNumber) -> Result<(), StoreError> {
        self.shred_now(case).await
    }

    async fn tombstone(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<crate::storage::records::Tombstone>, StoreError> {
        let client = self.client().await?;
        client
            .query_opt(
                "SELECT record FROM tombstones WHERE mailbox = $1",
                &[&&mailbox.0[..]],
            )
            .await?
            .map(|row| parse(row.get(0), "tombstone"))
            .transpose()
    }

    async fn shared_secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let client = self.client().await?;
        let mut fresh = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
        client
            .execute(
                "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &&fresh[..]],
            )
            .await?;
        let row = client
            .query_one("SELECT value FROM secrets WHERE name = $1", &[&name])
            .await?;
        let value: Vec<u8> = row.get(0);
        value
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("the shared secret {name}")))
    }

    async fn count(&self, key: &str, window: u64, by: u64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        // Windows long past are of no use to anyone: forget them.
        let past = big(window.saturating_sub(COUNTER_WINDOWS_KEPT));
        let forget = client
            .prepare_cached("DELETE FROM counters WHERE win < $1")
            .await?;
        client.execute(&forget, &[&past]).await?;
        let add = client
            .prepare_cached(
                "INSERT INTO counters (key, win, n) VALUES ($1, $2, $3) \
                 ON CONFLICT (key, win) DO UPDATE SET n = LEAST(counters.n + EXCLUDED.n, \
                 9223372036854775807) RETURNING n",
            )
            .await?;
        let row = client
            .query_one(&add, &[&key, &big(window), &big(by)])
            .await?;
        Ok(unbig(row.get(0)))
    }

    async fn counted(&self, key: &str, from: u64, to: u64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let sum = client
            .prepare_cached(
                "SELECT COALESCE(sum(n), 0)::bigint FROM counters \
                 WHERE key = $1 AND win BETWEEN $2 AND $3",
            )
            .await?;
        let row = client
            .query_one(&sum, &[&key, &big(from), &big(to)])
            .await?;
        Ok(unbig(row.get(0)))
    }

    async fn use_once(&self, id: &[u8], until: u64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let now = big(until.saturating_sub(COUNTER_WINDOWS_KEPT));
        let forget = client
            .prepare_cached("DELETE FROM used_once WHERE until < $1")
            .await?;
        client.execute(&forget, &[&now]).await?;
        let mark = client
            .prepare_cached(
                "INSERT INTO used_once (id, until) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            )
            .await?;
        Ok(client.execute(&mark, &[&id, &big(until)]).await? == 1)
    }
}

/// How many windows back counters are kept (as in the embedded backend).
const COUNTER_WINDOWS_KEPT: u64 = 128;
