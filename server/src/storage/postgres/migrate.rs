//! The PostgreSQL side of `meldpunt-server migrate` (storage/migrate.rs).

use meldpunt_crypto::Day;

use super::{file_id, json, parse, Postgres, PART_SIZE};
use crate::ids::FileId;
use crate::storage::migrate::{Blocks, CaseCopy, SessionCopy};
use crate::storage::records::Digest;
use crate::storage::StoreError;

impl Postgres {
    /// Every upload session.
    pub async fn export_sessions(&self) -> Result<Vec<SessionCopy>, StoreError> {
        let client = self.client().await?;
        let mut out = Vec::new();
        for s in client
            .query(
                "SELECT mailbox, created FROM sessions ORDER BY mailbox",
                &[],
            )
            .await?
        {
            let m: &[u8] = s.get(0);
            let mailbox: [u8; 32] = m
                .try_into()
                .map_err(|_| StoreError::Corrupt("a session's mailbox".into()))?;
            let created = Day::parse(s.get(1))
                .ok_or_else(|| StoreError::Corrupt("a session's day".into()))?;
            let mut attachments = Vec::new();
            for a in client
                .query(
                    "SELECT object, finished FROM attachments WHERE mailbox = $1 ORDER BY n",
                    &[&m],
                )
                .await?
            {
                let finished: Option<Digest> = a
                    .get::<_, Option<&str>>(1)
                    .map(|f| parse(f, "attachment digest"))
                    .transpose()?;
                attachments.push((file_id(a.get(0))?, finished));
            }
            out.push(SessionCopy {
                mailbox,
                created,
                attachments,
            });
        }
        Ok(out)
    }

    /// Stores an object from `blocks` (in parts when large).
    pub async fn import_object(&self, id: &FileId, mut blocks: Blocks) -> Result<(), StoreError> {
        let part = PART_SIZE as usize;
        let first = blocks.next(part).await?.unwrap_or_default();
        if first.len() < part {
            return self.objects.put(id, first).await;
        }
        let upload = self.objects.create_multipart(id).await?;
        let mut tags = vec![self.objects.put_part(id, &upload, 0, first).await?];
        while let Some(b) = blocks.next(part).await? {
            let tag = self.objects.put_part(id, &upload, tags.len(), b).await?;
            tags.push(tag);
        }
        self.objects.complete(id, &upload, tags).await
    }

    /// Writes a case's records and age files in one transaction.
    pub async fn import_case(&self, c: &CaseCopy) -> Result<(), StoreError> {
        let mailbox =
            hex::decode(&c.record.mailbox).map_err(|_| StoreError::Corrupt("mailbox id".into()))?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO cases (case_number, mailbox, record) VALUES ($1, $2, $3)",
            &[&c.case.as_str(), &mailbox, &json(&c.record)?],
        )
        .await?;
        let mut blobs = vec![("report".to_owned(), &c.report)];
        if let Some(note) = &c.note {
            blobs.push(("note".to_owned(), note));
        }
        for (i, m) in c.messages.iter().enumerate() {
            blobs.push((super::cases::message_name(i + 1), m));
        }
        for (name, body) in blobs {
            tx.execute(
                "INSERT INTO ciphertexts (case_number, name, body) VALUES ($1, $2, $3)",
                &[&c.case.as_str(), &name, body],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes an upload session; unfinished attachments start empty.
    pub async fn import_session(&self, s: &SessionCopy) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let m = &s.mailbox[..];
        tx.execute(
            "INSERT INTO sessions (mailbox, created) VALUES ($1, $2)",
            &[&m, &s.created.to_string()],
        )
        .await?;
        for (n, (file, finished)) in s.attachments.iter().enumerate() {
            let size = finished.as_ref().map(|d| super::big(d.size)).unwrap_or(0);
            let finished = finished.as_ref().map(json).transpose()?;
            tx.execute(
                "INSERT INTO attachments (mailbox, n, object, multipart, parts, parted, \
                 received, head, finished) VALUES ($1, $2, $3, NULL, '{}', $4, $4, '\\x', $5)",
                &[&m, &(n as i32), &file.as_str(), &size, &finished],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
