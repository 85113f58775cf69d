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

/// The name the audit log gives a reporter's post (never a token's name).
pub const REPORTER: &str = "reporter";

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

/// The thread of a case (found with [`super::reports::mailbox_case`]), as stored: every
/// message read into memory (see [`stored_size`]).
pub async fn stored(
    app: &App,
    case: CaseNumber,
    record: CaseRecord,
) -> Result<StoredThread, ServiceError> {
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

/// The bytes [`stored`] reads of a case's messages, known from its record before reading.
pub fn stored_size(record: &CaseRecord) -> u64 {
    record.thread.iter().map(|m| m.digest.size).sum()
}

/// Ciphertext per page of `GET /thread`: the memory one request needs is bounded by it
/// (about three times, base64 and JSON), whatever the thread holds.
pub const PAGE_BYTES: u64 = 2 * 1024 * 1024;

/// One page of the thread as the reporter's page receives it, ciphertext inline, from
/// message `from` (1-based): messages up to [`PAGE_BYTES`] (at least one).
pub async fn view(app: &App, mailbox: &MailboxId, from: usize) -> Result<ThreadView, ServiceError> {
    let (case, record) = super::reports::mailbox_case(app, mailbox).await?;
    let from = from.max(1);
    let mut messages = Vec::new();
    let mut bytes = 0u64;
    let mut next = None;
    for (i, entry) in record.thread.iter().enumerate().skip(from - 1) {
        if !messages.is_empty() && bytes + entry.digest.size > PAGE_BYTES {
            next = Some(i + 1);
            break;
        }
        bytes += entry.digest.size;
        let ciphertext = app.storage.message(&case, i + 1).await?;
        messages.push(MessageView {
            seq_in_thread: i + 1,
            direction: entry.direction,
            day: entry.day,
            sha256: entry.digest.sha256.clone(),
            size: entry.digest.size,
            url: format!("{API_BASE}/thread/{}", i + 1),
            ciphertext: B64.encode(ciphertext),
        });
    }
    Ok(ThreadView {
        note: app.storage.note(&case).await?.map(|n| B64.encode(n)),
        head: record.head().to_owned(),
        status: record.status,
        received: record.received,
        report_sha256: record.report.sha256.clone(),
        first: from,
        total: record.thread.len(),
        next,
        messages,
        case,
    })
}

/// One message's age file (1-based `seq`) of the mailbox's case.
pub async fn message(app: &App, mailbox: &MailboxId, seq: usize) -> Result<Vec<u8>, ServiceError> {
    let (case, record) = super::reports::mailbox_case(app, mailbox).await?;
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
    author: &str,
    extends: &str,
    message: &[u8],
) -> Result<(usize, CaseRecord), ServiceError> {
    within(message.len() as u64, app.settings.max_message.as_u64())?;
    check_age(message)?;
    // Work per read grows with the thread: it has a ceiling.
    if let Some(record) = app.storage.case(case).await? {
        if record.thread.len() >= app.settings.max_thread_messages as usize
            || stored_size(&record) + message.len() as u64 > app.settings.max_thread_bytes.as_u64()
        {
            return Err(ServiceError::ThreadFull);
        }
    }
    // Held until the audit entry is written: a snapshot has both or neither.
    let _writing = app.writes.writing().await;
    let (seq, record) = app
        .storage
        .append_message(case, direction, extends, message)
        .await?;
    app.storage.flush().await?;
    // Every message has its audit entry, naming it by its hash: the investigators' tool
    // flags a message with none (written outside the API) and an entry whose message
    // the download lacks (dropped).
    let action = match direction {
        Direction::ToReporter => "message",
        Direction::FromReporter => "reporter_message",
    };
    let sha256 = record
        .thread
        .get(seq.saturating_sub(1))
        .map(|m| m.digest.sha256.clone())
        .unwrap_or_default();
    app.audit
        .append(
            app.storage.today(),
            author,
            &format!("{action} {sha256}"),
            Some(case.as_str()),
            std::slice::from_ref(&record.destination),
        )
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok((seq, record))
}

/// The case a reporter's answer goes to, before its body is read.
pub async fn admit_answer(app: &App, mailbox: &MailboxId) -> Result<CaseNumber, ServiceError> {
    super::reports::case_of(app, mailbox).await
}
