//! Attachments, uploaded before the report: an upload session per mailbox, each
//! attachment an age file sent in chunks, resumable, in bounded memory, checked as it
//! arrives.

use meldpunt_crypto::header::HEADER_READ_LEN;
use meldpunt_crypto::{check_header, HeaderError, MailboxId};
use meldpunt_wire::reporter::{AttachmentState, SessionView};
use rocket::tokio::io::{AsyncRead, AsyncReadExt};

use super::ServiceError;
use crate::admission::Purpose;
use crate::limits::{ensure_disk, upload_reserve};
use crate::storage::records::Digest;
use crate::App;

/// Memory per upload in flight.
const CHUNK_BUFFER: usize = 64 * 1024;
const MIB: u64 = 1024 * 1024;

/// The mailbox's upload session and the limits that apply to it.
pub async fn view(app: &App, mailbox: &MailboxId) -> Result<SessionView, ServiceError> {
    let session = app.storage.session(mailbox).await?;
    let mut attachments = Vec::new();
    for n in 0..session.attachments.len() as u32 {
        let progress = app.storage.attachment(mailbox, n).await?;
        attachments.push(AttachmentState {
            n,
            received: progress.received,
            finished: progress.finished,
        });
    }
    Ok(SessionView {
        attachments,
        max_attachments: app.settings.max_attachments,
        max_attachment_bytes: app.settings.max_attachment.as_u64(),
        max_total_bytes: app.settings.max_case.as_u64(),
    })
}

/// Starts the mailbox's upload session (or shows it, if it exists).
pub async fn start(app: &App, mailbox: &MailboxId) -> Result<SessionView, ServiceError> {
    let writing = app.writes.writing().await;
    let (_, new) = app.storage.open_session(mailbox).await?;
    if new {
        app.storage.flush().await?;
    }
    drop(writing);
    view(app, mailbox).await
}

/// How far attachment `n` got.
pub async fn progress(
    app: &App,
    mailbox: &MailboxId,
    n: u32,
) -> Result<AttachmentState, ServiceError> {
    let p = app.storage.attachment(mailbox, n).await?;
    Ok(AttachmentState {
        n,
        received: p.received,
        finished: p.finished,
    })
}

fn per_attachment_limit(app: &App) -> u64 {
    app.settings
        .max_attachment
        .as_u64()
        .min(app.settings.max_case.as_u64())
}

/// Appends a chunk (`body`, `declared` bytes if the client said) to attachment `n` at
/// `offset`, which must be what arrived so far. Every limit is known before a byte is
/// read; while the age header is incomplete, each piece is checked before it is stored.
/// If the client goes away mid-chunk, what arrived is kept so it can resume.
pub async fn receive_chunk(
    app: &App,
    mailbox: &MailboxId,
    n: u32,
    offset: u64,
    declared: Option<u64>,
    body: &mut (dyn AsyncRead + Send + Unpin),
) -> Result<AttachmentState, ServiceError> {
    let settings = &app.settings;
    // Only starting an attachment waits for a snapshot; its bytes do not.
    let writing = app.writes.writing().await;
    let mut writer = app
        .storage
        .write_attachment(mailbox, n, settings.max_attachments)
        .await?;
    drop(writing);
    let received = writer.received();
    if offset != received {
        return Err(ServiceError::WrongOffset { received });
    }

    // The limits, all known before a byte of the body is read.
    let per_file = settings.max_attachment.as_u64().saturating_sub(received);
    let others = app.storage.session_bytes(mailbox, n).await?;
    let per_case = settings.max_case.as_u64().saturating_sub(others + received);
    let allowance = per_file.min(per_case);
    if declared.is_some_and(|len| len > allowance) {
        return Err(ServiceError::TooLarge {
            limit: per_attachment_limit(app),
        });
    }
    let keep = upload_reserve(settings.min_free_disk.as_u64());
    ensure_disk(app.storage.free_space()?, declared.unwrap_or(0), keep)?;
    let cap = allowance;

    let mut prefix = if (received as usize) < HEADER_READ_LEN {
        let p = writer.prefix(HEADER_READ_LEN).await?;
        match check_header(&p) {
            Ok(_) => None,
            Err(_) => Some(p),
        }
    } else {
        None
    };

    enum Stop {
        Done,
        Interrupted,
        Over,
        NotAge(HeaderError),
    }
    let mut buf = vec![0u8; CHUNK_BUFFER];
    let mut written = 0u64;
    let stop = loop {
        let got = match body.read(&mut buf).await {
            Ok(0) => break Stop::Done,
            Ok(got) => got,
            Err(_) => break Stop::Interrupted,
        };
        if written + got as u64 > cap {
            break Stop::Over;
        }
        // Room for this piece is claimed before it is written: the reserve holds under
        // any number of parallel uploads, whatever they declared.
        let claim = match app.disk.claim(app.storage.free_space()?, got as u64, keep) {
            Ok(c) => c,
            Err(e) => {
                let _ = writer.cut(received).await;
                return Err(e);
            }
        };
        if let Some(p) = prefix.as_mut() {
            p.extend_from_slice(&buf[..got]);
            match check_header(p) {
                Ok(_) => prefix = None,
                Err(HeaderError::Incomplete) => {}
                Err(e) => break Stop::NotAge(e),
            }
        }
        if let Err(e) = writer.write(&buf[..got]).await {
            let _ = writer.cut(received).await;
            return Err(ServiceError::Internal(format!(
                "writing an attachment: {e}"
            )));
        }
        drop(claim);
        written += got as u64;
    };
    match stop {
        Stop::Done | Stop::Interrupted => {
            let now = writer.keep().await?;
            app.gate
                .count(&*app.storage, Purpose::Upload, written.div_ceil(MIB))
                .await?;
            if matches!(stop, Stop::Interrupted) {
                return Err(ServiceError::Interrupted);
            }
            Ok(AttachmentState {
                n,
                received: now,
                finished: None,
            })
        }
        Stop::Over => {
            writer.cut(received).await?;
            Err(ServiceError::TooLarge {
                limit: per_attachment_limit(app),
            })
        }
        Stop::NotAge(e) => {
            // The whole attachment is refused, including any start stored earlier.
            writer.cut(0).await?;
            Err(ServiceError::NotAge(e))
        }
    }
}

/// Checks, syncs and hashes a complete attachment, and records it as finished.
pub async fn finish(app: &App, mailbox: &MailboxId, n: u32) -> Result<Digest, ServiceError> {
    if let Some(digest) = app.storage.attachment(mailbox, n).await?.finished {
        return Ok(digest);
    }
    let writing = app.writes.writing().await;
    let mut writer = app
        .storage
        .write_attachment(mailbox, n, app.settings.max_attachments)
        .await?;
    drop(writing);
    match check_header(&writer.prefix(HEADER_READ_LEN).await?) {
        Ok(_) => drop(writer),
        Err(HeaderError::Incomplete) => return Err(ServiceError::AttachmentIncomplete),
        Err(e) => {
            writer.cut(0).await?;
            return Err(ServiceError::NotAge(e));
        }
    }
    // (The storage holds the pause only to record it finished, not while hashing.)
    let digest = app.storage.finish_attachment(mailbox, n).await?;
    app.storage.flush().await?;
    Ok(digest)
}
