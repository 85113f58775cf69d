//! Filing a report and storing the reporter's note to self — for the browser's API and
//! the no-JavaScript form alike.

use meldpunt_crypto::MailboxId;

use super::{check_age, within, ServiceError};
use crate::ids::CaseNumber;
use crate::storage::Filed;
use crate::App;

/// Checks a report's age file against its destination and files it, with the finished
/// attachments of the mailbox's upload session, durably before it returns.
pub async fn file(
    app: &App,
    mailbox: &MailboxId,
    destination: &str,
    report: &[u8],
) -> Result<Filed, ServiceError> {
    within(report.len() as u64, app.settings.max_report.as_u64())?;
    let header = check_age(report)?;
    let offered = app
        .destinations
        .get(destination)
        .ok_or(ServiceError::NoSuchDestination)?;
    // A Meldpunt client encrypts a report to every recipient of its destination.
    let expected = offered.destination.recipients().len();
    if header.x25519_stanzas != expected {
        return Err(ServiceError::WrongRecipients {
            found: header.x25519_stanzas,
            destination: destination.to_owned(),
            expected,
        });
    }
    let writing = app.writes.writing().await;
    let filed = app
        .storage
        .file_report(mailbox, destination, report)
        .await?;
    // The receipt promises the report is kept: only after it is on disk.
    app.storage.flush().await?;
    drop(writing);
    if filed.new {
        crate::notify::new_case(app.settings.notify_command.as_deref());
    }
    Ok(filed)
}

/// The case a mailbox's report opened; a shredded case's tombstone, or no report.
pub async fn mailbox_case(
    app: &App,
    mailbox: &MailboxId,
) -> Result<(CaseNumber, crate::storage::records::CaseRecord), ServiceError> {
    if let Some(found) = app.storage.case_for_mailbox(mailbox).await? {
        return Ok(found);
    }
    match app.storage.tombstone(mailbox).await? {
        Some(t) => Err(ServiceError::Deleted(t)),
        None => Err(ServiceError::NoReport),
    }
}

/// The case a mailbox's report opened.
pub async fn case_of(app: &App, mailbox: &MailboxId) -> Result<CaseNumber, ServiceError> {
    Ok(super::reports::mailbox_case(app, mailbox).await?.0)
}

/// Checks and stores the reporter's note to self with the case, durably.
pub async fn store_note(app: &App, case: &CaseNumber, note: &[u8]) -> Result<(), ServiceError> {
    within(note.len() as u64, app.settings.max_message.as_u64())?;
    check_age(note)?;
    let _writing = app.writes.writing().await;
    app.storage.store_note(case, note).await?;
    app.storage.flush().await?;
    Ok(())
}
