//! A case's thread: what the reporter's side reads (the note to self and every message
//! as stored), and posts from either side, each extending the current head.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{Day, Direction, MailboxId};
use meldpunt_wire::reporter::{MessageView, ThreadView};
use meldpunt_wire::{CaseNumber, API_BASE};

use super::{check_age, within, ServiceError};
use crate::storage::records::CaseRecord;
use crate::App;

/// A thread as stored: the note to self and every message's age file, in order.
pub struct StoredThread {
    /// The case.
    pub case: CaseNumber,
    /// Its record.
    pub record: CaseRecord,
    /// The reporter's note to self, if one was stored.
    pub note: Option<Vec<u8>>,
    /// The messages: the direction the server recorded, the day, the age file.
    pub messages: Vec<(Direction, Day, Vec<u8>)>,
}

/// The thread of the mailbox's case, as stored.
pub async fn stored(app: &App, mailbox: &MailboxId) -> Result<StoredThread, ServiceError> {
    let (case, record) = app
        .storage
        .case_for_mailbox(mailbox)
        .await?
        .ok_or(ServiceError::NoReport)?;
    let note = app.storage.note(&case).await?;
    let mut messages = Vec::with_capacity(record.thread.len());
    for (i, m) in record.thread.iter().enumerate() {
        messages.push((m.direction, m.day, app.storage.message(&case, i + 1).await?));
    }
    Ok(StoredThread {
        case,
        record,
        note,
        messages,
    })
}

/// The thread as the reporter's page receives it, ciphertext inline.
pub async fn view(app: &App, mailbox: &MailboxId) -> Result<ThreadView, ServiceError> {
    let t = stored(app, mailbox).await?;
    let messages = t
        .record
        .thread
        .iter()
        .zip(&t.messages)
        .enumerate()
        .map(|(i, (entry, (direction, day, bytes)))| MessageView {
            seq_in_thread: i + 1,
            direction: *direction,
            day: *day,
            sha256: entry.digest.sha256.clone(),
            size: entry.digest.size,
            url: format!("{API_BASE}/thread/{}", i + 1),
            ciphertext: B64.encode(bytes),
        })
        .collect();
    Ok(ThreadView {
        note: t.note.map(|n| B64.encode(n)),
        head: t.record.head().to_owned(),
        case: t.case,
        status: t.record.status,
        received: t.record.received,
        report_sha256: t.record.report.sha256,
        messages,
    })
}

/// One message's age file (1-based `seq`) of the mailbox's case.
pub async fn message(app: &App, mailbox: &MailboxId, seq: usize) -> Result<Vec<u8>, ServiceError> {
    let (case, record) = app
        .storage
        .case_for_mailbox(mailbox)
        .await?
        .ok_or(ServiceError::NoReport)?;
    if seq == 0 || seq > record.thread.len() {
        return Err(ServiceError::NoSuchMessage);
    }
    Ok(app.storage.message(&case, seq).await?)
}

/// Checks a message and appends it to the case's thread if `extends` is the current
/// head, durably before it returns. Returns its place in the thread and the record.
pub async fn post(
    app: &App,
    case: &CaseNumber,
    direction: Direction,
    extends: &str,
    message: &[u8],
) -> Result<(usize, CaseRecord), ServiceError> {
    within(message.len() as u64, app.settings.max_message.as_u64())?;
    check_age(message)?;
    let (seq, record) = app
        .storage
        .append_message(case, direction, extends, message)
        .await?;
    app.storage.flush().await?;
    Ok((seq, record))
}

/// Admits a reporter's answer to the mailbox's case before its body is read: the case
/// must exist, and the answer is counted against the budget.
pub async fn admit_answer(app: &App, mailbox: &MailboxId) -> Result<CaseNumber, ServiceError> {
    let case = super::reports::case_of(app, mailbox).await?;
    app.limiter.submission()?;
    Ok(case)
}
