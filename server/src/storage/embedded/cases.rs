//! Cases: filing a report with its attachments, the case records, the report, note and
//! message age files, the thread head, status and shredding.

use meldpunt_crypto::{CaseStatus, Direction, MailboxId};
use sled::Transactional;

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
    /// Files a report for `mailbox` with every finished attachment of its upload
    /// session. Filing the same report again returns the first receipt's case.
    pub(super) fn file_report_now(
        &self,
        mailbox: &MailboxId,
        destination: &str,
        report: &[u8],
    ) -> Result<Filed, StoreError> {
        let _g = self.lock();
        let digest = Digest::of(report);
        if self.tombstones.contains_key(mailbox.0)? {
            return Err(StoreError::AlreadyReported);
        }
        if let Some(existing) = self.mailboxes.get(mailbox.0)? {
            let case = CaseNumber::parse(&String::from_utf8_lossy(&existing))
                .ok_or_else(|| StoreError::Corrupt("mailbox index".into()))?;
            let record = self.case_now(&case)?.ok_or(StoreError::NoCase)?;
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
            report: digest,
            note: None,
            attachments,
            thread: vec![],
        };
        let record_json = json(&record)?;
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

    pub(super) fn blob(&self, key: &str) -> Result<Vec<u8>, StoreError> {
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
        let mut record = self.case_now(case)?.ok_or(StoreError::NoCase)?;
        let blob = change(&mut record)?;
        let record_json = json(&record)?;
        (&self.cases, &self.ciphertexts).transaction(|(cases, cts)| -> Tx<()> {
            if let Some((key, bytes)) = &blob {
                cts.insert(key.as_bytes(), bytes.as_slice())?;
            }
            cases.insert(case.as_str(), record_json.as_slice())?;
            Ok(())
        })?;
        Ok(record)
    }

    /// Stores the reporter's note to self, in place of an earlier one (the reporter's side
    /// adds each answer it sends to it; PROTOCOL.md §8.5).
    pub(super) fn store_note_now(
        &self,
        case: &CaseNumber,
        note: &[u8],
    ) -> Result<CaseRecord, StoreError> {
        let today = self.clock.today();
        let digest = Digest::of(note);
        self.update_case(case, |r| match &r.note {
            Some(existing) if *existing == digest => Ok(None),
            _ => {
                r.note = Some(digest);
                r.updated = today;
                Ok(Some((note_key(case), note.to_vec())))
            }
        })
    }

    /// Appends a message to the thread if `extends` is the current head. The same
    /// message posted again against the head it extended is accepted once.
    pub(super) fn append_message_now(
        &self,
        case: &CaseNumber,
        direction: Direction,
        extends: &str,
        message: &[u8],
    ) -> Result<(usize, CaseRecord), StoreError> {
        let today = self.clock.today();
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
    pub(super) fn set_status_now(
        &self,
        case: &CaseNumber,
        status: CaseStatus,
    ) -> Result<CaseRecord, StoreError> {
        let today = self.clock.today();
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
    pub(super) fn shred_now(&self, case: &CaseNumber) -> Result<(), StoreError> {
        let _g = self.lock();
        let record = self.case_now(case)?.ok_or(StoreError::NoCase)?;
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
        let tombstone = json(&Tombstone {
            closed: record.closed.unwrap_or(record.updated),
            deleted: self.clock.today(),
        })?;
        (
            &self.cases,
            &self.mailboxes,
            &self.ciphertexts,
            &self.tombstones,
        )
            .transaction(|(cases, mailboxes, cts, tombstones)| -> Tx<()> {
                cases.remove(case.as_str())?;
                mailboxes.remove(mailbox.as_slice())?;
                tombstones.insert(mailbox.as_slice(), tombstone.as_slice())?;
                for k in &keys {
                    cts.remove(k)?;
                }
                Ok(())
            })?;
        for a in &record.attachments {
            files::remove(&self.file_path(&a.file)?)?;
        }
        Ok(())
    }
}
