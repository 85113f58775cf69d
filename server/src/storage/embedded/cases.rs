//! Cases: filing a report with its attachments, the case records, the report, note and
//! message age files, the thread head, status and shredding.
//!
//! Every change that brings an age file appends it to a segment first (synced, see
//! texts.rs) and records its location with the case; if the change is refused, or
//! needs no new file, the appended bytes are erased again. A location that is no longer
//! needed (a replaced note, a shredded case) is put on the `erase` list in the same
//! transaction, and erased once that transaction is on disk.

use meldpunt_crypto::{CaseStatus, Direction, MailboxId};
use sled::Transactional;

use super::texts::Location;
use super::{files, json, parse, Embedded, Tx};
use crate::ids::CaseNumber;
use crate::storage::records::{CaseRecord, Digest, StoredAttachment, ThreadEntry, Tombstone};
use crate::storage::{Filed, StoreError};

pub(super) fn report_key(case: &CaseNumber) -> String {
    format!("{case}/report")
}
pub(super) fn note_key(case: &CaseNumber) -> String {
    format!("{case}/note")
}
pub(super) fn message_key(case: &CaseNumber, seq: usize) -> String {
    format!("{case}/thread/{seq:05}")
}

impl Embedded {
    /// Appends an age file to the segments, synced.
    async fn append_text(&self, bytes: &[u8]) -> Result<Location, StoreError> {
        Ok(self
            .texts
            .append_synced(bytes, self.file_day(), &self.syncer)
            .await?)
    }

    /// Erases, now, appended bytes that no record took.
    fn unused_text(&self, at: Location) {
        self.texts.erase(at, self.file_day());
    }

    /// Erases locations this request put on the `erase` list. Call it once the
    /// transaction that put them there is on disk (only this request's: another's may
    /// not be).
    fn erase_listed(&self, listed: &[Location]) -> Result<(), StoreError> {
        for at in listed {
            self.texts.erase(*at, self.file_day());
            self.erase.remove(at.to_bytes())?;
        }
        Ok(())
    }

    /// Files a report for `mailbox` with every finished attachment of its upload
    /// session. Filing the same report again returns the first receipt's case.
    pub(super) async fn file_report_now(
        &self,
        mailbox: &MailboxId,
        destination: &str,
        report: &[u8],
    ) -> Result<Filed, StoreError> {
        let at = self.append_text(report).await?;
        let filed = self.record_report(mailbox, destination, &Digest::of(report), at);
        if !matches!(filed, Ok(Filed { new: true, .. })) {
            self.unused_text(at);
        }
        filed
    }

    fn record_report(
        &self,
        mailbox: &MailboxId,
        destination: &str,
        digest: &Digest,
        at: Location,
    ) -> Result<Filed, StoreError> {
        let _g = self.lock();
        if self.tombstones.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        if let Some(existing) = self.mailboxes.get(mailbox.0)? {
            let case = CaseNumber::parse(&String::from_utf8_lossy(&existing))
                .ok_or_else(|| StoreError::Corrupt("mailbox index".into()))?;
            let record = self.case_now(&case)?.ok_or(StoreError::NoCase)?;
            if record.report == *digest {
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
        let today = self.clock.today();
        let record = CaseRecord {
            destination: destination.to_owned(),
            mailbox: mailbox.to_hex(),
            received: today,
            status: CaseStatus::Received,
            acknowledged: None,
            closed: None,
            updated: today,
            last_content: today,
            report: digest.clone(),
            note: None,
            attachments,
            thread: vec![],
        };
        let record_json = json(&record)?;
        (&self.cases, &self.mailboxes, &self.sessions, &self.located).transaction(
            |(cases, mailboxes, sessions, located)| -> Tx<()> {
                located.insert(report_key(&case).as_bytes(), &at.to_bytes()[..])?;
                cases.insert(case.as_str(), record_json.as_slice())?;
                mailboxes.insert(&mailbox.0, case.as_str())?;
                sessions.remove(&mailbox.0)?;
                Ok(())
            },
        )?;
        Ok(Filed {
            case,
            record,
            new: true,
        })
    }

    /// The case a mailbox's report opened.
    pub(super) fn case_for_mailbox_now(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<(CaseNumber, CaseRecord)>, StoreError> {
        let Some(v) = self.mailboxes.get(mailbox.0)? else {
            return Ok(None);
        };
        let case = CaseNumber::parse(&String::from_utf8_lossy(&v))
            .ok_or_else(|| StoreError::Corrupt("mailbox index".into()))?;
        Ok(self.case_now(&case)?.map(|r| (case, r)))
    }

    /// One case.
    pub(super) fn case_now(&self, case: &CaseNumber) -> Result<Option<CaseRecord>, StoreError> {
        self.cases
            .get(case.as_str())?
            .map(|v| parse(&v, "case"))
            .transpose()
    }

    /// Every case, in case-number order (which is random, not arrival order).
    pub(super) fn all_cases(&self) -> Result<Vec<(CaseNumber, CaseRecord)>, StoreError> {
        let mut out = Vec::new();
        for item in self.cases.iter() {
            let (k, v) = item?;
            let case = CaseNumber::parse(&String::from_utf8_lossy(&k))
                .ok_or_else(|| StoreError::Corrupt("case key".into()))?;
            out.push((case, parse(&v, "case")?));
        }
        Ok(out)
    }

    /// The age file recorded under `key`.
    pub(super) fn text(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(v) = self.located.get(key)? else {
            return Ok(None);
        };
        let at = Location::from_bytes(&v)
            .ok_or_else(|| StoreError::Corrupt(format!("the location of {key}")))?;
        Ok(Some(self.texts.read(at)?))
    }

    pub(super) fn blob(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        self.text(key)?
            .ok_or_else(|| StoreError::Corrupt(format!("missing ciphertext {key}")))
    }

    /// Changes a case's record. `change` returns the key under which the age file at
    /// `at` is recorded, or `None` if the change needs no new file. Returns the record,
    /// whether `at` was recorded, and the location the key held before, which goes on
    /// the `erase` list.
    fn update_case(
        &self,
        case: &CaseNumber,
        at: Option<Location>,
        change: impl FnOnce(&mut CaseRecord) -> Result<Option<String>, StoreError>,
    ) -> Result<(CaseRecord, bool, Option<Location>), StoreError> {
        let _g = self.lock();
        let mut record = self.case_now(case)?.ok_or(StoreError::NoCase)?;
        let key = change(&mut record)?.filter(|_| at.is_some());
        let before = match &key {
            Some(k) => self.located.get(k)?,
            None => None,
        };
        let record_json = json(&record)?;
        (&self.cases, &self.located, &self.erase).transaction(
            |(cases, located, erase)| -> Tx<()> {
                if let (Some(key), Some(at)) = (&key, at) {
                    located.insert(key.as_bytes(), &at.to_bytes()[..])?;
                    if let Some(before) = &before {
                        erase.insert(before, &[][..])?;
                    }
                }
                cases.insert(case.as_str(), record_json.as_slice())?;
                Ok(())
            },
        )?;
        let before = before.as_deref().and_then(Location::from_bytes);
        Ok((record, key.is_some(), before))
    }

    /// Stores the reporter's note to self, in place of an earlier one (the reporter's side
    /// adds each answer it sends to it; PROTOCOL.md §8.5). The earlier note is erased
    /// once the new one is on disk.
    pub(super) async fn store_note_now(
        &self,
        case: &CaseNumber,
        note: &[u8],
    ) -> Result<CaseRecord, StoreError> {
        let at = self.append_text(note).await?;
        let today = self.clock.today();
        let digest = Digest::of(note);
        let stored = self.update_case(case, Some(at), |r| match &r.note {
            Some(existing) if *existing == digest => Ok(None),
            _ => {
                r.note = Some(digest);
                r.updated = today;
                Ok(Some(note_key(case)))
            }
        });
        match stored {
            Ok((record, true, before)) => {
                if let Some(before) = before {
                    self.flusher.flush().await.map_err(StoreError::Db)?;
                    self.erase_listed(&[before])?;
                }
                Ok(record)
            }
            Ok((record, false, _)) => {
                self.unused_text(at);
                Ok(record)
            }
            Err(e) => {
                self.unused_text(at);
                Err(e)
            }
        }
    }

    /// Appends a message to the thread if `extends` is the current head. The same
    /// message posted again against the head it extended is accepted once.
    pub(super) async fn append_message_now(
        &self,
        case: &CaseNumber,
        direction: Direction,
        extends: &str,
        message: &[u8],
    ) -> Result<(usize, CaseRecord), StoreError> {
        let at = self.append_text(message).await?;
        let today = self.clock.today();
        let digest = Digest::of(message);
        let mut seq = 0;
        let appended = self.update_case(case, Some(at), |r| {
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
            Ok(Some(message_key(case, seq)))
        });
        match appended {
            Ok((record, recorded, _)) => {
                if !recorded {
                    self.unused_text(at);
                }
                Ok((seq, record))
            }
            Err(e) => {
                self.unused_text(at);
                Err(e)
            }
        }
    }

    /// Moves a case's status forward (setting the current status again is fine).
    pub(super) fn set_status_now(
        &self,
        case: &CaseNumber,
        status: CaseStatus,
    ) -> Result<CaseRecord, StoreError> {
        let today = self.clock.today();
        let (record, ..) = self.update_case(case, None, |r| {
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
        })?;
        Ok(record)
    }

    /// Removes a closed case: its records, then (once that is on disk) its age files
    /// and attachment files.
    pub(super) async fn shred_now(&self, case: &CaseNumber) -> Result<(), StoreError> {
        let (record, texts) = self.remove_case(case)?;
        // Flushed first: a power cut must not leave the case without its files.
        self.flusher.flush().await.map_err(StoreError::Db)?;
        self.erase_listed(&texts)?;
        for a in &record.attachments {
            files::remove(&self.file_path(&a.file)?)?;
        }
        self.file_day().apply(&files::dir(&self.data_dir));
        Ok(())
    }

    /// Removes a closed case's records, leaving its reporter a tombstone; its age files
    /// go on the `erase` list.
    fn remove_case(&self, case: &CaseNumber) -> Result<(CaseRecord, Vec<Location>), StoreError> {
        let _g = self.lock();
        let record = self.case_now(case)?.ok_or(StoreError::NoCase)?;
        if record.status != CaseStatus::Closed {
            return Err(StoreError::NotClosed);
        }
        let mailbox =
            hex::decode(&record.mailbox).map_err(|_| StoreError::Corrupt("mailbox id".into()))?;
        let texts: Vec<(sled::IVec, sled::IVec)> = self
            .located
            .scan_prefix(format!("{case}/"))
            .collect::<Result<_, _>>()?;
        let tombstone = json(&Tombstone {
            closed: record.closed.unwrap_or(record.updated),
            deleted: self.clock.today(),
        })?;
        (
            &self.cases,
            &self.mailboxes,
            &self.located,
            &self.erase,
            &self.tombstones,
        )
            .transaction(|(cases, mailboxes, located, erase, tombstones)| -> Tx<()> {
                cases.remove(case.as_str())?;
                mailboxes.remove(mailbox.as_slice())?;
                tombstones.insert(mailbox.as_slice(), tombstone.as_slice())?;
                for (key, at) in &texts {
                    located.remove(key)?;
                    erase.insert(at, &[][..])?;
                }
                Ok(())
            })?;
        let texts = texts
            .iter()
            .filter_map(|(_, at)| Location::from_bytes(at))
            .collect();
        Ok((record, texts))
    }
}
