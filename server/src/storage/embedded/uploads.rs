//! Upload sessions: the attachments uploaded with one mailbox credential before its
//! report, each an attachment file written in chunks.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use meldpunt_crypto::MailboxId;
use rocket::async_trait;
use rocket::tokio::io::AsyncWriteExt;

use super::{files, json, parse, Embedded};
use crate::clock::FileDay;
use crate::ids::FileId;
use crate::storage::records::{Digest, UploadEntry, UploadSession};
use crate::storage::{AttachmentProgress, ChunkWriter, StoreError};

/// The attachments (mailbox id, number) being written right now.
pub(super) type BusySet = Arc<Mutex<HashSet<([u8; 32], u32)>>>;

/// A claim on one attachment file: appends go to the file; the claim ends on drop.
struct FileWriter {
    path: PathBuf,
    file: rocket::tokio::fs::File,
    received: u64,
    written: u64,
    day: FileDay,
    busy: BusySet,
    key: ([u8; 32], u32),
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

#[async_trait]
impl ChunkWriter for FileWriter {
    fn received(&self) -> u64 {
        self.received
    }

    async fn prefix(&mut self, max: usize) -> Result<Vec<u8>, StoreError> {
        self.file.flush().await?;
        let path = self.path.clone();
        Ok(files::read_prefix(&path, max)?)
    }

    async fn write(&mut self, piece: &[u8]) -> Result<(), StoreError> {
        self.file.write_all(piece).await?;
        self.written += piece.len() as u64;
        Ok(())
    }

    async fn keep(mut self: Box<Self>) -> Result<u64, StoreError> {
        self.file.flush().await?;
        self.day.apply(&self.path);
        Ok(self.received + self.written)
    }

    async fn cut(mut self: Box<Self>, len: u64) -> Result<(), StoreError> {
        let _ = self.file.flush().await;
        files::truncate(&self.path, len)?;
        self.day.apply(&self.path);
        Ok(())
    }
}

impl Embedded {
    pub(super) fn load_session(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<UploadSession>, StoreError> {
        self.sessions
            .get(mailbox.0)?
            .map(|v| parse(&v, "upload session"))
            .transpose()
    }

    pub(super) fn open_session_now(
        &self,
        mailbox: &MailboxId,
    ) -> Result<(UploadSession, bool), StoreError> {
        let _g = self.lock();
        if self.mailboxes.contains_key(mailbox.0)? || self.tombstones.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        if let Some(s) = self.load_session(mailbox)? {
            return Ok((s, false));
        }
        let session = UploadSession {
            created: self.clock.today(),
            attachments: vec![],
        };
        self.sessions.insert(mailbox.0, json(&session)?)?;
        Ok((session, true))
    }

    pub(super) fn session_now(&self, mailbox: &MailboxId) -> Result<UploadSession, StoreError> {
        if self.mailboxes.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        self.load_session(mailbox)?.ok_or(StoreError::NoSession)
    }

    pub(super) fn attachment_now(
        &self,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<AttachmentProgress, StoreError> {
        let session = self.session_now(mailbox)?;
        let entry = session
            .attachments
            .get(n as usize)
            .ok_or(StoreError::NoSuchAttachment)?;
        Ok(AttachmentProgress {
            received: files::len(&self.file_path(&entry.file)?)?,
            finished: entry.finished.clone(),
        })
    }

    pub(super) fn session_bytes_now(
        &self,
        mailbox: &MailboxId,
        except: u32,
    ) -> Result<u64, StoreError> {
        let session = self.session_now(mailbox)?;
        let mut total = 0;
        for (i, a) in session.attachments.iter().enumerate() {
            if i != except as usize {
                total += files::len(&self.file_path(&a.file)?).unwrap_or(0);
            }
        }
        Ok(total)
    }

    fn claim(&self, mailbox: &MailboxId, n: u32) -> Result<([u8; 32], u32), StoreError> {
        let key = (mailbox.0, n);
        let mut set = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(key) {
            return Err(StoreError::AttachmentBusy);
        }
        Ok(key)
    }

    fn release(&self, key: ([u8; 32], u32)) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
    }

    /// The path of attachment `n`, created if `n` is the next number.
    fn attachment_file(
        &self,
        mailbox: &MailboxId,
        n: u32,
        max_attachments: u32,
    ) -> Result<PathBuf, StoreError> {
        let _g = self.lock();
        if self.mailboxes.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        let mut session = self.load_session(mailbox)?.ok_or(StoreError::NoSession)?;
        let i = n as usize;
        if let Some(entry) = session.attachments.get(i) {
            if entry.finished.is_some() {
                return Err(StoreError::AttachmentFinished);
            }
            return self.file_path(&entry.file);
        }
        if i != session.attachments.len() {
            return Err(StoreError::NoSuchAttachment);
        }
        if i >= max_attachments as usize {
            return Err(StoreError::TooManyAttachments);
        }
        let file = FileId::generate();
        let path = self.file_path(&file)?;
        files::create(&path)?;
        session.attachments.push(UploadEntry {
            file,
            finished: None,
        });
        self.sessions.insert(mailbox.0, json(&session)?)?;
        Ok(path)
    }

    pub(super) async fn write_attachment_now(
        &self,
        mailbox: &MailboxId,
        n: u32,
        max_attachments: u32,
    ) -> Result<Box<dyn ChunkWriter>, StoreError> {
        let key = self.claim(mailbox, n)?;
        let path = match self.attachment_file(mailbox, n, max_attachments) {
            Ok(p) => p,
            Err(e) => {
                self.release(key);
                return Err(e);
            }
        };
        let received = match files::len(&path) {
            Ok(n) => n,
            Err(e) => {
                self.release(key);
                return Err(e.into());
            }
        };
        Ok(Box::new(FileWriter {
            received,
            written: 0,
            file: match rocket::tokio::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .await
            {
                Ok(f) => f,
                Err(e) => {
                    self.release(key);
                    return Err(e.into());
                }
            },
            path,
            day: self.file_day(),
            busy: self.busy.clone(),
            key,
        }))
    }

    pub(super) async fn finish_attachment_now(
        &self,
        mailbox: &MailboxId,
        n: u32,
    ) -> Result<Digest, StoreError> {
        let key = self.claim(mailbox, n)?;
        let result = self.finish_claimed(mailbox, n).await;
        self.release(key);
        result
    }

    async fn finish_claimed(&self, mailbox: &MailboxId, n: u32) -> Result<Digest, StoreError> {
        let session = self.session_now(mailbox)?;
        let entry = session
            .attachments
            .get(n as usize)
            .ok_or(StoreError::NoSuchAttachment)?;
        if let Some(d) = &entry.finished {
            return Ok(d.clone());
        }
        let path = self.file_path(&entry.file)?;
        let day = self.file_day();
        let digest = rocket::tokio::task::spawn_blocking(move || {
            let digest = files::digest_and_sync(&path);
            day.apply(&path);
            digest
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        // Only the record waits for a snapshot: the hashing above may take long.
        let _writing = self.pause.writing().await;
        {
            let _g = self.lock();
            let mut session = self.load_session(mailbox)?.ok_or(StoreError::NoSession)?;
            let entry = session
                .attachments
                .get_mut(n as usize)
                .ok_or(StoreError::NoSuchAttachment)?;
            entry.finished = Some(digest.clone());
            self.sessions.insert(mailbox.0, json(&session)?)?;
        }
        Ok(digest)
    }

    pub(super) fn discard_session_now(&self, mailbox: &MailboxId) -> Result<(), StoreError> {
        let _g = self.lock();
        if let Some(session) = self.load_session(mailbox)? {
            self.sessions.remove(mailbox.0)?;
            for a in &session.attachments {
                files::remove(&self.file_path(&a.file)?)?;
            }
        }
        Ok(())
    }

    pub(super) fn remove_stale_sessions_now(&self, max_age_days: u32) -> Result<usize, StoreError> {
        let _g = self.lock();
        let today = self.clock.today();
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
}
