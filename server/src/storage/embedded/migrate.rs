//! The embedded side of `meldpunt-server migrate` (storage/migrate.rs): reading upload
//! sessions and writing copied cases, sessions and attachment files in the usual format.

use std::io::Write;

use sled::Transactional;

use super::{cases, json, parse, Embedded, Tx};
use crate::ids::FileId;
use crate::storage::migrate::{Blocks, CaseCopy, SessionCopy};
use crate::storage::records::{UploadEntry, UploadSession};
use crate::storage::StoreError;

impl Embedded {
    /// Every upload session.
    pub fn export_sessions(&self) -> Result<Vec<SessionCopy>, StoreError> {
        let mut out = Vec::new();
        for item in self.sessions.iter() {
            let (k, v) = item?;
            let s: UploadSession = parse(&v, "upload session")?;
            let mailbox: [u8; 32] = k
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::Corrupt("a session key".into()))?;
            out.push(SessionCopy {
                mailbox,
                created: s.created,
                attachments: s
                    .attachments
                    .into_iter()
                    .map(|a| (a.file, a.finished))
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Writes an attachment file from `blocks`, synced.
    pub async fn import_file(&self, id: &FileId, mut blocks: Blocks) -> Result<(), StoreError> {
        let path = self.file_path(id)?;
        let mut f = std::fs::File::create(&path)?;
        while let Some(b) = blocks.next(8 << 20).await? {
            f.write_all(&b)?;
        }
        f.sync_all()?;
        self.file_day().apply(&path);
        Ok(())
    }

    /// Writes a case's age files (synced), then its records and their locations in one
    /// transaction, durably.
    pub fn import_case(&self, c: &CaseCopy) -> Result<(), StoreError> {
        let _g = self.lock();
        let mailbox =
            hex::decode(&c.record.mailbox).map_err(|_| StoreError::Corrupt("mailbox id".into()))?;
        let keys = std::iter::once(cases::report_key(&c.case))
            .chain(c.note.as_ref().map(|_| cases::note_key(&c.case)))
            .chain((1..=c.messages.len()).map(|seq| cases::message_key(&c.case, seq)));
        let bytes = std::iter::once(&c.report)
            .chain(c.note.as_ref())
            .chain(c.messages.iter())
            .map(Vec::as_slice);
        let texts: Vec<_> = keys
            .zip(self.texts.append_all(bytes, self.file_day())?)
            .collect();
        let record = json(&c.record)?;
        (&self.cases, &self.mailboxes, &self.located).transaction(
            |(cases, mailboxes, located)| -> Tx<()> {
                for (key, at) in &texts {
                    located.insert(key.as_bytes(), &at.to_bytes()[..])?;
                }
                cases.insert(c.case.as_str(), record.as_slice())?;
                mailboxes.insert(mailbox.as_slice(), c.case.as_str())?;
                Ok(())
            },
        )?;
        self.cases.flush()?;
        Ok(())
    }

    /// Writes an upload session; unfinished attachments start empty.
    pub fn import_session(&self, s: &SessionCopy) -> Result<(), StoreError> {
        let _g = self.lock();
        let mut attachments = Vec::new();
        for (file, finished) in &s.attachments {
            if finished.is_none() {
                let path = self.file_path(file)?;
                std::fs::File::create(&path)?.sync_all()?;
                self.file_day().apply(&path);
            }
            attachments.push(UploadEntry {
                file: file.clone(),
                finished: finished.clone(),
            });
        }
        let session = UploadSession {
            created: s.created,
            attachments,
        };
        self.sessions.insert(s.mailbox, json(&session)?)?;
        self.cases.flush()?;
        Ok(())
    }
}
