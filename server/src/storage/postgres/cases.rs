//! Cases in PostgreSQL: filing a report (one transaction), the case records, the age
//! files, the thread head under the case row's lock, status and shredding.

use meldpunt_crypto::{CaseStatus, Direction, MailboxId};

use super::{file_id, json, parse, Postgres};
use crate::ids::CaseNumber;
use crate::storage::records::{CaseRecord, Digest, StoredAttachment, ThreadEntry};
use crate::storage::{Filed, StoreError};

/// The name of thread message `seq` (as the embedded backend's key ends).
pub(super) fn message_name(seq: usize) -> String {
    format!("thread/{seq:05}")
}

fn case_number(text: &str) -> Result<CaseNumber, StoreError> {
    CaseNumber::parse(text).ok_or_else(|| StoreError::Corrupt("a case number".into()))
}

/// How often filing is tried again when another instance got there first (or a case
/// number was taken).
const FILE_TRIES: usize = 8;

impl Postgres {
    pub(super) async fn file_report_now(
        &self,
        mailbox: &MailboxId,
        destination: &str,
        report: &[u8],
    ) -> Result<Filed, StoreError> {
        let digest = Digest::of(report);
        let m = &mailbox.0[..];
        let mut client = self.client().await?;
        for _ in 0..FILE_TRIES {
            let tx = client.transaction().await?;
            if let Some(row) = tx
                .query_opt(
                    "SELECT case_number, record FROM cases WHERE mailbox = $1",
                    &[&m],
                )
                .await?
            {
                let case = case_number(row.get(0))?;
                let record: CaseRecord = parse(row.get(1), "case")?;
                if record.report == digest {
                    return Ok(Filed {
                        case,
                        record,
                        new: false,
                    });
                }
                return Err(StoreError::AlreadyReported);
            }
            if tx
                .query_opt("SELECT 1 FROM tombstones WHERE mailbox = $1", &[&m])
                .await?
                .is_some()
            {
                return Err(StoreError::AlreadyReported);
            }
            // The session row's lock: no attachment is added while the report is filed.
            tx.query_opt(
                "SELECT 1 FROM sessions WHERE mailbox = $1 FOR UPDATE",
                &[&m],
            )
            .await?;
            let mut attachments = Vec::new();
            for (i, r) in tx
                .query(
                    "SELECT object, finished FROM attachments WHERE mailbox = $1 ORDER BY n",
                    &[&m],
                )
                .await?
                .into_iter()
                .enumerate()
            {
                let finished: Option<&str> = r.get(1);
                let digest = finished.ok_or(StoreError::AttachmentUnfinished(i))?;
                attachments.push(StoredAttachment {
                    file: file_id(r.get(0))?,
                    digest: parse(digest, "attachment digest")?,
                });
            }
            let case = CaseNumber::generate(&mut rand::rngs::OsRng);
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
            let inserted = tx
                .execute(
                    "INSERT INTO cases (case_number, mailbox, record) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    &[&case.as_str(), &m, &json(&record)?],
                )
                .await?;
            if inserted == 0 {
                // Another instance filed for this mailbox (or the number is taken):
                // look again.
                tx.rollback().await?;
                continue;
            }
            tx.execute(
                "INSERT INTO ciphertexts (case_number, name, body) VALUES ($1, 'report', $2)",
                &[&case.as_str(), &report],
            )
            .await?;
            tx.execute("DELETE FROM sessions WHERE mailbox = $1", &[&m])
                .await?;
            tx.commit().await?;
            return Ok(Filed {
                case,
                record,
                new: true,
            });
        }
        Err(StoreError::Db("filing a report kept conflicting".into()))
    }

    pub(super) async fn case_for_mailbox_now(
        &self,
        mailbox: &MailboxId,
    ) -> Result<Option<(CaseNumber, CaseRecord)>, StoreError> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT case_number, record FROM cases WHERE mailbox = $1")
            .await?;
        client
            .query_opt(&st, &[&&mailbox.0[..]])
            .await?
            .map(|r| Ok((case_number(r.get(0))?, parse(r.get(1), "case")?)))
            .transpose()
    }

    pub(super) async fn case_now(
        &self,
        case: &CaseNumber,
    ) -> Result<Option<CaseRecord>, StoreError> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT record FROM cases WHERE case_number = $1")
            .await?;
        client
            .query_opt(&st, &[&case.as_str()])
            .await?
            .map(|r| parse(r.get(0), "case"))
            .transpose()
    }

    pub(super) async fn all_cases(&self) -> Result<Vec<(CaseNumber, CaseRecord)>, StoreError> {
        let client = self.client().await?;
        client
            .query(
                "SELECT case_number, record FROM cases ORDER BY case_number",
                &[],
            )
            .await?
            .iter()
            .map(|r| Ok((case_number(r.get(0))?, parse(r.get(1), "case")?)))
            .collect()
    }

    pub(super) async fn blob(
        &self,
        case: &CaseNumber,
        name: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("SELECT body FROM ciphertexts WHERE case_number = $1 AND name = $2")
            .await?;
        Ok(client
            .query_opt(&st, &[&case.as_str(), &name])
            .await?
            .map(|r| r.get(0)))
    }

    /// Changes a case under its row's lock, with the age file the change brings.
    async fn update_case(
        &self,
        case: &CaseNumber,
        change: impl FnOnce(&mut CaseRecord) -> Result<Option<(String, Vec<u8>)>, StoreError>,
    ) -> Result<CaseRecord, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT record FROM cases WHERE case_number = $1 FOR UPDATE",
                &[&case.as_str()],
            )
            .await?
            .ok_or(StoreError::NoCase)?;
        let mut record: CaseRecord = parse(row.get(0), "case")?;
        let blob = change(&mut record)?;
        if let Some((name, bytes)) = &blob {
            tx.execute(
                "INSERT INTO ciphertexts (case_number, name, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (case_number, name) DO UPDATE SET body = EXCLUDED.body",
                &[&case.as_str(), name, bytes],
            )
            .await?;
        }
        tx.execute(
            "UPDATE cases SET record = $2 WHERE case_number = $1",
            &[&case.as_str(), &json(&record)?],
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    pub(super) async fn store_note_now(
        &self,
        case: &CaseNumber,
        note: &[u8],
    ) -> Result<CaseRecord, StoreError> {
        let today = self.clock.today();
        let digest = Digest::of(note);
        // A newer note replaces the earlier one (PROTOCOL.md §8.5).
        self.update_case(case, |r| match &r.note {
            Some(existing) if *existing == digest => Ok(None),
            _ => {
                r.note = Some(digest);
                r.updated = today;
                Ok(Some(("note".to_owned(), note.to_vec())))
            }
        })
        .await
    }

    pub(super) async fn append_message_now(
        &self,
        case: &CaseNumber,
        direction: Direction,
        extends: &str,
        message: &[u8],
    ) -> Result<(usize, CaseRecord), StoreError> {
        let today = self.clock.today();
        let digest = Digest::of(message);
        let mut seq = 0;
        let record = self
            .update_case(case, |r| {
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
                Ok(Some((message_name(seq), message.to_vec())))
            })
            .await?;
        Ok((seq, record))
    }

    pub(super) async fn set_status_now(
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
        .await
    }

    pub(super) async fn shred_now(&self, case: &CaseNumber) -> Result<(), StoreError> {
        {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let row = tx
                .query_opt(
                    "SELECT record FROM cases WHERE case_number = $1 FOR UPDATE",
                    &[&case.as_str()],
                )
                .await?
                .ok_or(StoreError::NoCase)?;
            let record: CaseRecord = parse(row.get(0), "case")?;
            if record.status != CaseStatus::Closed {
                return Err(StoreError::NotClosed);
            }
            for a in &record.attachments {
                tx.execute(
                    "INSERT INTO doomed (object, multipart) VALUES ($1, NULL) \
                     ON CONFLICT (object) DO NOTHING",
                    &[&a.file.as_str()],
                )
                .await?;
            }
            let mailbox = hex::decode(&record.mailbox)
                .map_err(|_| StoreError::Corrupt("mailbox id".into()))?;
            let tombstone = json(&crate::storage::records::Tombstone {
                closed: record.closed.unwrap_or(record.updated),
                deleted: self.clock.today(),
            })?;
            tx.execute(
                "INSERT INTO tombstones (mailbox, record) VALUES ($1, $2) \
                 ON CONFLICT (mailbox) DO UPDATE SET record = EXCLUDED.record",
                &[&mailbox, &tombstone],
            )
            .await?;
            tx.execute(
                "DELETE FROM cases WHERE case_number = $1",
                &[&case.as_str()],
            )
            .await?;
            tx.commit().await?;
        }
        self.sweep_doomed().await
    }
}
