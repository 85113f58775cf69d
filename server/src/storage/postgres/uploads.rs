//! Upload sessions in PostgreSQL, attachment bytes on their way to the object store.
//!
//! A chunk's bytes are written to `pieces` rows (at most [`PIECE`] bytes each, each
//! committed with the attachment's new length, so what a client is told arrived has
//! arrived). When a chunk ends, whole [`PART_SIZE`] parts move from `pieces` to the
//! attachment's multipart upload in the object store. Finishing stores the rest, completes
//! the object and hashes it as read back. A refused chunk only ever removes pieces: no
//! part holds bytes of a chunk that was not kept.

use meldpunt_crypto::header::HEADER_READ_LEN;
use meldpunt_crypto::{Day, MailboxId};
use rocket::async_trait;
use sha2::{Digest as _, Sha256};

use super::{big, file_id, json, parse, unbig, Objects, Postgres, PART_SIZE};
use crate::ids::FileId;
use crate::storage::records::{Digest, UploadEntry, UploadSession};
use crate::storage::{AttachmentProgress, ChunkWriter, StoreError};

/// Most bytes of one `pieces` row (and the writer's buffer).
const PIECE: usize = 1024 * 1024;
/// The attachment's first bytes kept in its row, for the age header check.
const HEAD: i32 = HEADER_READ_LEN as i32;

/// How long a claim is tried before the attachment counts as busy: a writer that just
/// ended may still be releasing its lock.
const CLAIM_TRIES: u32 = 10;

fn lock_key(mailbox: &MailboxId, n: u32) -> i64 {
    let mut h = Sha256::new();
    h.update(b"meldpunt attachment claim");
    h.update(mailbox.0);
    h.update(n.to_be_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

fn number(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// One attachment's row.
pub(super) struct AttachmentRow {
    pub object: FileId,
    pub multipart: Option<String>,
    pub parts: Vec<String>,
    pub parted: u64,
    pub received: u64,
    pub finished: Option<Digest>,
}

async fn attachment_row(
    client: &tokio_postgres::Client,
    mailbox: &[u8],
    n: i32,
) -> Result<Option<AttachmentRow>, StoreError> {
    let row = client
        .query_opt(
            "SELECT object, multipart, parts, parted, received, finished FROM attachments \
             WHERE mailbox = $1 AND n = $2",
            &[&mailbox, &n],
        )
        .await?;
    row.map(|r| {
        Ok(AttachmentRow {
            object: file_id(r.get(0))?,
            multipart: r.get(1),
            parts: r.get(2),
            parted: unbig(r.get(3)),
            received: unbig(r.get(4)),
            finished: r
                .get::<_, Option<&str>>(5)
                .map(|f| parse(f, "attachment digest"))
                .transpose()?,
        })
    })
    .transpose()
}

/// A claim on one attachment: a connection holding its advisory lock.
struct Claim {
    conn: Option<deadpool_postgres::Object>,
    key: i64,
}

impl Claim {
    async fn take(store: &Postgres, mailbox: &MailboxId, n: u32) -> Result<Self, StoreError> {
        let conn = store.client().await?;
        let key = lock_key(mailbox, n);
        for i in 0..CLAIM_TRIES {
            let row = conn
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await?;
            if row.get::<_, bool>(0) {
                return Ok(Claim {
                    conn: Some(conn),
                    key,
                });
            }
            if i + 1 < CLAIM_TRIES {
                rocket::tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }
        Err(StoreError::AttachmentBusy)
    }

    fn conn(&self) -> Result<&deadpool_postgres::Object, StoreError> {
        self.conn
            .as_ref()
            .ok_or_else(|| StoreError::Db("the claim was released".into()))
    }

    async fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            if conn
                .execute("SELECT pg_advisory_unlock($1)", &[&self.key])
                .await
                .is_err()
            {
                // Never back into the pool with the lock: the connection closes, and
                // PostgreSQL releases the lock with it.
                drop(deadpool_postgres::Object::take(conn));
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let key = self.key;
            match rocket::tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn(async move {
                        if conn
                            .execute("SELECT pg_advisory_unlock($1)", &[&key])
                            .await
                            .is_err()
                        {
                            drop(deadpool_postgres::Object::take(conn));
                        }
                    });
                }
                Err(_) => drop(deadpool_postgres::Object::take(conn)),
            }
        }
    }
}

/// Appends a chunk's bytes to one attachment.
struct PgWriter {
    claim: Claim,
    objects: Objects,
    mailbox: Vec<u8>,
    n: i32,
    received: u64,
    stored: u64,
    buf: Vec<u8>,
}

impl PgWriter {
    async fn flush_buf(&mut self) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let len = self.buf.len() as u64;
        let conn = self.claim.conn()?;
        let insert = conn
            .prepare_cached(
                "WITH p AS (INSERT INTO pieces (mailbox, n, \"offset\", body) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (mailbox, n, \"offset\") \
                 DO UPDATE SET body = EXCLUDED.body) \
                 UPDATE attachments SET received = $5, head = CASE WHEN length(head) < $6 \
                 THEN substring(head || $4 from 1 for $6) ELSE head END \
                 WHERE mailbox = $1 AND n = $2 AND received = $3",
            )
            .await?;
        let changed = conn
            .execute(
                &insert,
                &[
                    &self.mailbox,
                    &self.n,
                    &big(self.stored),
                    &self.buf,
                    &big(self.stored + len),
                    &HEAD,
                ],
            )
            .await?;
        if changed != 1 {
            return Err(StoreError::Db(
                "the attachment changed under its writer (discarded?)".into(),
            ));
        }
        self.stored += len;
        self.buf.clear();
        Ok(())
    }
}

/// Moves whole parts from `pieces` to the object store's multipart upload.
async fn promote(
    conn: &tokio_postgres::Client,
    objects: &Objects,
    mailbox: &[u8],
    n: i32,
    whole_parts_only: bool,
) -> Result<(), StoreError> {
    loop {
        let Some(row) = attachment_row(conn, mailbox, n).await? else {
            return Err(StoreError::NoSuchAttachment);
        };
        let pending = row.received - row.parted;
        if pending == 0 || (whole_parts_only && pending < PART_SIZE) {
            return Ok(());
        }
        let want = pending.min(PART_SIZE);
        let end = row.parted + want;
        let pieces = conn
            .query(
                "SELECT \"offset\", body FROM pieces WHERE mailbox = $1 AND n = $2 \
                 AND \"offset\" >= $3 AND \"offset\" < $4 ORDER BY \"offset\"",
                &[&mailbox, &n, &big(row.parted), &big(end)],
            )
            .await?;
        let mut part = Vec::with_capacity(want as usize);
        let mut rest: Option<Vec<u8>> = None;
        for p in &pieces {
            let offset = unbig(p.get(0));
            let body: &[u8] = p.get(1);
            if offset != row.parted + part.len() as u64 {
                return Err(StoreError::Corrupt(
                    "an attachment's pieces have a gap".into(),
                ));
            }
            let take = ((want - part.len() as u64) as usize).min(body.len());
            part.extend_from_slice(&body[..take]);
            if take < body.len() {
                rest = Some(body[take..].to_vec());
            }
        }
        if part.len() as u64 != want {
            return Err(StoreError::Corrupt(
                "an attachment's pieces are short".into(),
            ));
        }
        let multipart = match row.multipart {
            Some(m) => m,
            None => {
                let m = objects.create_multipart(&row.object).await?;
                conn.execute(
                    "UPDATE attachments SET multipart = $3 WHERE mailbox = $1 AND n = $2",
                    &[&mailbox, &n, &m],
                )
                .await?;
                m
            }
        };
        // A part stored twice (after a crash before the commit below) is overwritten.
        let tag = objects
            .put_part(&row.object, &multipart, row.parts.len(), part)
            .await?;
        conn.batch_execute("BEGIN").await?;
        let done = async {
            conn.execute(
                "DELETE FROM pieces WHERE mailbox = $1 AND n = $2 AND \"offset\" >= $3 \
                 AND \"offset\" < $4",
                &[&mailbox, &n, &big(row.parted), &big(end)],
            )
            .await?;
            if let Some(rest) = &rest {
                conn.execute(
                    "INSERT INTO pieces (mailbox, n, \"offset\", body) VALUES ($1, $2, $3, $4)",
                    &[&mailbox, &n, &big(end), rest],
                )
                .await?;
            }
            conn.execute(
                "UPDATE attachments SET parts = array_append(parts, $3), parted = $4 \
                 WHERE mailbox = $1 AND n = $2",
                &[&mailbox, &n, &tag, &big(end)],
            )
            .await?;
            conn.batch_execute("COMMIT").await
        }
        .await;
        if let Err(e) = done {
            let _ = conn.batch_execute("ROLLBACK").await;
            return Err(e.into());
        }
    }
}

#[async_trait]
impl ChunkWriter for PgWriter {
    fn received(&self) -> u64 {
        self.received
    }

    async fn prefix(&mut self, max: usize) -> Result<Vec<u8>, StoreError> {
        self.flush_buf().await?;
        let row = self
            .claim
            .conn()?
            .query_one(
                "SELECT head FROM attachments WHERE mailbox = $1 AND n = $2",
                &[&self.mailbox, &self.n],
            )
            .await?;
        let mut head: Vec<u8> = row.get(0);
        head.truncate(max);
        Ok(head)
    }

    async fn write(&mut self, piece: &[u8]) -> Result<(), StoreError> {
        self.buf.extend_from_slice(piece);
        if self.buf.len() >= PIECE {
            self.flush_buf().await?;
        }
        Ok(())
    }

    async fn keep(mut self: Box<Self>) -> Result<u64, StoreError> {
        self.flush_buf().await?;
        promote(
            self.claim.conn()?,
            &self.objects,
            &self.mailbox,
            self.n,
            true,
        )
        .await?;
        let stored = self.stored;
        let PgWriter { claim, .. } = *self;
        claim.release().await;
        Ok(stored)
    }

    async fn cut(mut self: Box<Self>, len: u64) -> Result<(), StoreError> {
        self.buf.clear();
        let conn = self.claim.conn()?;
        let row = attachment_row(conn, &self.mailbox, self.n)
            .await?
            .ok_or(StoreError::NoSuchAttachment)?;
        if len == 0 {
            conn.execute(
                "DELETE FROM pieces WHERE mailbox = $1 AND n = $2",
                &[&self.mailbox, &self.n],
            )
            .await?;
            conn.execute(
                "UPDATE attachments SET multipart = NULL, parts = '{}', parted = 0, \
                 received = 0, head = '\\x' WHERE mailbox = $1 AND n = $2",
                &[&self.mailbox, &self.n],
            )
            .await?;
            if let Some(m) = &row.multipart {
                self.objects.abort(&row.object, m).await;
            }
        } else if len < row.parted {
            // Parts only ever hold bytes of chunks that were kept, and a chunk is only
            // cut back to where it began.
            return Err(StoreError::Corrupt(
                "an attachment cannot be cut into its stored parts".into(),
            ));
        } else {
            let l = big(len);
            conn.batch_execute("BEGIN").await?;
            let done = async {
                conn.execute(
                    "DELETE FROM pieces WHERE mailbox = $1 AND n = $2 AND \"offset\" >= $3",
                    &[&self.mailbox, &self.n, &l],
                )
                .await?;
                conn.execute(
                    "UPDATE pieces SET body = substring(body from 1 for ($3 - \"offset\")::int) \
                     WHERE mailbox = $1 AND n = $2 AND \"offset\" < $3 \
                     AND \"offset\" + length(body) > $3",
                    &[&self.mailbox, &self.n, &l],
                )
                .await?;
                conn.execute(
                    "UPDATE attachments SET received = $3, \
                     head = substring(head from 1 for $4) WHERE mailbox = $1 AND n = $2",
                    &[&self.mailbox, &self.n, &l, &(len.min(HEAD as u64) as i32)],
                )
                .await?;
                conn.batch_execute("COMMIT").await
            }
            .await;
            if let Err(e) = done {
                let _ = conn.batch_execute("ROLLBACK").await;
                return Err(e.into());
            }
        }
        let PgWriter { claim, .. } = *self;
        claim.release().await;
        Ok(())
    }
}

impl Postgres {
    pub(super) async fn reported(
        client: &deadpool_postgres::ClientWrapper,
        mailbox: &MailboxId,
    ) -> Result<bool, StoreError> {
        let st = client
            .prepare_cached(
                "SELECT 1 FROM cases WHERE mailbox = $1 \
                 UNION ALL SELECT 1 FROM tombstones WHERE mailbox = $1",
            )
            .await?;
        Ok(client.query_opt(&st, &[&&mailbox.0[..]]).await?.is_some())
    }

    async fn load_session(
        client: &tokio_postgres::Client,
        mailbox: &MailboxId,
    ) -> Result<Option<UploadSession>, StoreError> {
        let m = &mailbox.0[..];
        let Some(row) = client
            .query_opt("SELECT created FROM sessions WHERE mailbox = $1", &[&m])
            .await?
        else {
            return Ok(None);
        };
        let created =
            Day::parse(row.get(0)).ok_or_else(|| StoreError::Corrupt("a session's day".into()))?;
        let mut attachments = Vec::new();
        for r in client
            .query(
                "SELECT object, finished FROM attachments WHERE mailbox = $1 ORDER BY n",
                &[&m],
            )
            .await?
        {
            attachments.push(UploadEntry {
                file: file_id(r.get(0))?,
                finished: r
                    .get::<_, Option<&str>>(1)
                    .map(|f| parse(f, "attachment digest"))
                    .transpose()?,
            });
        }
        Ok(Some(UploadSession {
            created,
            attachments,
        }))
    }

    pub(super) async fn open_session_now(
        &self,
        mailbox: &MailboxId,
    ) -> Result<(UploadSession, bool), StoreError> {
        let client = self.client().await?;
        if Self::reported(&client, mailbox).await? {
            return Err(StoreError::AlreadyReported);
        }
        let new = client
            .execute(
                "INSERT INTO sessions (mailbox, created) VALUES ($1, $2) \
                 ON CONFLICT (mailbox) DO NOTHING",
                &[&&mailbox.0[..], &self.clock.today().to_string()],
            )
            .await?
            == 1;
        let session = Self::load_session(&client, mailbox)
            .await?
            .ok_or(StoreError::NoSession)?;
        Ok((session, new))
    }

    pub(super) async fn session_now(
        &self,
        mailbox: &MailboxId,
    ) -> Result<UploadSession, StoreError> {
        let client = self.client().await?;
        if Self::reported(&client, mailbox).await? {
            return Err(StoreError::AlreadyReported);
        }
        Self::load_session(&client, mailbox)
            .await?
            .ok_or(StoreError::NoSession)
    }

    async fn check_session(
        client: &deadpool_postgres::ClientWrapper,
        mailbox: &MailboxId,
    ) -> Result<(), StoreError> {
        if Self::reported(client, mailbox).await? {
            return Err(StoreError::AlreadyReported);
        }
        let st = client
            .prepare_cached("SELECT 1 FROM sessions WHERE mailbox = $1")
            .await?;
        if client.query_opt(&st, &[&&mailbox.0[..]]).await?.is_none() {
            return Err(StoreError::NoSession);
        }
        Ok(())
    }

    pub(super) async fn attachment_now(
        &self,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<AttachmentProgress, StoreError> {
        let client = self.client().await?;
        Self::check_session(&client, mailbox).await?;
        let row = attachment_row(&client, &mailbox.0, number(n))
            .await?
            .ok_or(StoreError::NoSuchAttachment)?;
        Ok(AttachmentProgress {
            received: row.received,
            finished: row.finished,
        })
    }

    pub(super) async fn session_bytes_now(
        &self,
        mailbox: &MailboxId,
        except: u32,
    ) -> Result<u64, StoreError> {
        let client = self.client().await?;
        Self::check_session(&client, mailbox).await?;
        let row = client
            .query_one(
                "SELECT COALESCE(sum(received), 0)::bigint FROM attachments \
                 WHERE mailbox = $1 AND n <> $2",
                &[&&mailbox.0[..], &number(except)],
            )
            .await?;
        Ok(unbig(row.get(0)))
    }

    /// Under the claim: the attachment's length, the row made if `n` is the next number.
    async fn open_attachment(
        conn: &deadpool_postgres::Object,
        mailbox: &MailboxId,
        n: u32,
        max_attachments: u32,
    ) -> Result<u64, StoreError> {
        let m = &mailbox.0[..];
        conn.batch_execute("BEGIN").await?;
        let done = async {
            if Self::reported(conn, mailbox).await? {
                return Err(StoreError::AlreadyReported);
            }
            // The session row's lock orders new attachments and filing the report.
            if conn
                .query_opt(
                    "SELECT 1 FROM sessions WHERE mailbox = $1 FOR UPDATE",
                    &[&m],
                )
                .await?
                .is_none()
            {
                return Err(StoreError::NoSession);
            }
            if let Some(row) = attachment_row(conn, m, number(n)).await? {
                if row.finished.is_some() {
                    return Err(StoreError::AttachmentFinished);
                }
                return Ok(row.received);
            }
            let count: i64 = conn
                .query_one("SELECT count(*) FROM attachments WHERE mailbox = $1", &[&m])
                .await?
                .get(0);
            if i64::from(n) != count {
                return Err(StoreError::NoSuchAttachment);
            }
            if n >= max_attachments {
                return Err(StoreError::TooManyAttachments);
            }
            conn.execute(
                "INSERT INTO attachments (mailbox, n, object, multipart, parts, parted, \
                 received, head, finished) VALUES ($1, $2, $3, NULL, '{}', 0, 0, '\\x', NULL)",
                &[&m, &number(n), &FileId::generate().as_str()],
            )
            .await?;
            Ok(0)
        }
        .await;
        match done {
            Ok(received) => {
                conn.batch_execute("COMMIT").await?;
                Ok(received)
            }
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK").await;
                Err(e)
            }
        }
    }

    pub(super) async fn write_attachment_now(
        &self,
        mailbox: &MailboxId,
        n: u32,
        max_attachments: u32,
    ) -> Result<Box<dyn ChunkWriter>, StoreError> {
        let claim = Claim::take(self, mailbox, n).await?;
        let received = match Self::open_attachment(claim.conn()?, mailbox, n, max_attachments).await
        {
            Ok(r) => r,
            Err(e) => {
                claim.release().await;
                return Err(e);
            }
        };
        Ok(Box::new(PgWriter {
            claim,
            objects: self.objects.clone(),
            mailbox: mailbox.0.to_vec(),
            n: number(n),
            received,
            stored: received,
            buf: Vec::with_capacity(PIECE),
        }))
    }

    pub(super) async fn finish_attachment_now(
        &self,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<Digest, StoreError> {
        let claim = Claim::take(self, mailbox, n).await?;
        let result = self.finish_claimed(claim.conn()?, mailbox, n).await;
        claim.release().await;
        result
    }

    async fn finish_claimed(
        &self,
        conn: &deadpool_postgres::Object,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<Digest, StoreError> {
        Self::check_session(conn, mailbox).await?;
        let m = &mailbox.0[..];
        let n = number(n);
        let row = attachment_row(conn, m, n)
            .await?
            .ok_or(StoreError::NoSuchAttachment)?;
        if let Some(d) = row.finished {
            return Ok(d);
        }
        let object = row.object.clone();
        match row.multipart {
            None if row.received <= PART_SIZE => {
                // Small: one plain object from the pieces.
                let pieces = conn
                    .query(
                        "SELECT body FROM pieces WHERE mailbox = $1 AND n = $2 \
                         ORDER BY \"offset\"",
                        &[&m, &n],
                    )
                    .await?;
                let mut all = Vec::with_capacity(row.received as usize);
                for p in &pieces {
                    all.extend_from_slice(p.get::<_, &[u8]>(0));
                }
                if all.len() as u64 != row.received {
                    return Err(StoreError::Corrupt(
                        "an attachment's pieces are short".into(),
                    ));
                }
                self.objects.put(&object, all).await?;
            }
            _ => {
                promote(conn, &self.objects, m, n, false).await?;
                let row = attachment_row(conn, m, n)
                    .await?
                    .ok_or(StoreError::NoSuchAttachment)?;
                let multipart = row
                    .multipart
                    .ok_or_else(|| StoreError::Corrupt("no multipart upload".into()))?;
                if let Err(e) = self.objects.complete(&object, &multipart, row.parts).await {
                    // Completed already, by an attempt cut short before its commit?
                    if self.objects.size(&object).await? != Some(row.received) {
                        return Err(e);
                    }
                }
            }
        }
        let digest = self.objects.digest(&object).await?;
        if digest.size != row.received {
            return Err(StoreError::Corrupt(format!(
                "the object store holds {} bytes of an attachment of {}",
                digest.size, row.received
            )));
        }
        conn.batch_execute("BEGIN").await?;
        let done = async {
            conn.execute(
                "DELETE FROM pieces WHERE mailbox = $1 AND n = $2",
                &[&m, &n],
            )
            .await?;
            conn.execute(
                "UPDATE attachments SET finished = $3, multipart = NULL, parts = '{}', \
                 parted = received WHERE mailbox = $1 AND n = $2",
                &[&m, &n, &json(&digest)?],
            )
            .await?;
            conn.batch_execute("COMMIT").await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if let Err(e) = done {
            let _ = conn.batch_execute("ROLLBACK").await;
            return Err(e);
        }
        Ok(digest)
    }

    /// Removes a session's rows, listing its objects as doomed in the same transaction,
    /// then removes the objects.
    async fn remove_session(&self, mailbox: &[u8]) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let objects = tx
            .query(
                "SELECT object, multipart FROM attachments WHERE mailbox = $1",
                &[&mailbox],
            )
            .await?;
        for o in &objects {
            tx.execute(
                "INSERT INTO doomed (object, multipart) VALUES ($1, $2) \
                 ON CONFLICT (object) DO NOTHING",
                &[&o.get::<_, &str>(0), &o.get::<_, Option<&str>>(1)],
            )
            .await?;
        }
        let removed = tx
            .execute("DELETE FROM sessions WHERE mailbox = $1", &[&mailbox])
            .await?;
        tx.commit().await?;
        if !objects.is_empty() {
            self.sweep_doomed().await?;
        }
        Ok(removed == 1)
    }

    pub(super) async fn discard_session_now(&self, mailbox: &MailboxId) -> Result<(), StoreError> {
        self.remove_session(&mailbox.0).await.map(|_| ())
    }

    pub(super) async fn remove_stale_sessions_now(
        &self,
        max_age_days: u32,
    ) -> Result<usize, StoreError> {
        let today = self.clock.today();
        let rows = self
            .client()
            .await?
            .query("SELECT mailbox, created FROM sessions", &[])
            .await?;
        let mut removed = 0;
        for r in rows {
            let created = Day::parse(r.get(1))
                .ok_or_else(|| StoreError::Corrupt("a session's day".into()))?;
            if created.add_days(i64::from(max_age_days)) <= today
                && self.remove_session(r.get(0)).await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
