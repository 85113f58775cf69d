//! Attachments, uploaded before the report: an upload session per mailbox, each
//! attachment an age file sent in chunks, resumable, in bounded memory.
//!
//! `POST /uploads` starts (or shows) the session; `PUT /uploads/<n>` with
//! `Meldpunt-Offset` appends a chunk to attachment n (n = the next number starts a new
//! one); `GET /uploads/<n>` tells how much arrived; `POST /uploads/<n>/finish` checks,
//! syncs and hashes it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use meldpunt_crypto::header::HEADER_READ_LEN;
use meldpunt_crypto::{check_header, HeaderError, MailboxId};
use rocket::data::{ByteUnit, Data};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::{get, post, put, routes, Route, State};
use serde::Serialize;
use serde_json::json;

use crate::body::too_large;
use crate::error::ApiError;
use crate::guards::{ContentLength, Mailbox, Offset};
use crate::ids::AttachmentNumber;
use crate::limits::{ensure_disk, Limiter};
use crate::storage::records::Digest;
use crate::storage::Storage;
use crate::App;

/// Bytes from the start of a file that always hold a valid header and payload nonce.
const HEADER_WINDOW: usize = HEADER_READ_LEN;
/// Memory per upload in flight.
const CHUNK_BUFFER: usize = 64 * 1024;

/// Attachments being written right now, so two connections never append to one file.
#[derive(Default)]
pub struct Busy(Mutex<HashSet<([u8; 32], u32)>>);

struct Claim<'a> {
    busy: &'a Busy,
    key: ([u8; 32], u32),
}

impl Busy {
    fn claim(&self, mailbox: &MailboxId, n: u32) -> Result<Claim<'_>, ApiError> {
        let key = (mailbox.0, n);
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(key) {
            return Err(ApiError::new(
                Status::Conflict,
                "this attachment is being uploaded on another connection; wait, then ask how much arrived",
            ));
        }
        Ok(Claim { busy: self, key })
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.busy
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

/// One attachment's state.
#[derive(Serialize)]
pub struct AttachmentState {
    n: u32,
    received: u64,
    finished: Option<Digest>,
}

/// The session and the limits that apply to it.
#[derive(Serialize)]
pub struct SessionView {
    attachments: Vec<AttachmentState>,
    max_attachments: u32,
    max_attachment_bytes: u64,
    max_total_bytes: u64,
}

fn view(app: &App, mailbox: &MailboxId) -> Result<SessionView, ApiError> {
    let session = app.storage.session(mailbox)?;
    let mut attachments = Vec::new();
    for (n, a) in session.attachments.iter().enumerate() {
        let (path, finished) =
            app.storage
                .attachment(mailbox, n as u32, false, app.settings.max_attachments)?;
        attachments.push(AttachmentState {
            n: n as u32,
            received: app.storage.received(&path)?,
            finished: finished.or_else(|| a.finished.clone()),
        });
    }
    Ok(SessionView {
        attachments,
        max_attachments: app.settings.max_attachments,
        max_attachment_bytes: app.settings.max_attachment.as_u64(),
        max_total_bytes: app.settings.max_case.as_u64(),
    })
}

#[post("/uploads")]
async fn start(mailbox: Mailbox, app: &State<App>) -> Result<Json<SessionView>, ApiError> {
    // Counted only when a session is new; asking again is free.
    if app.storage.session(&mailbox.0).is_err() {
        app.limiter.submission()?;
    }
    let (_, new) = app.storage.open_session(&mailbox.0)?;
    if new {
        app.storage.flush().await?;
    }
    Ok(Json(view(app, &mailbox.0)?))
}

#[get("/uploads")]
fn show(mailbox: Mailbox, app: &State<App>) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(view(app, &mailbox.0)?))
}

#[get("/uploads/<n>")]
fn progress(
    mailbox: Mailbox,
    n: AttachmentNumber,
    app: &State<App>,
) -> Result<Json<AttachmentState>, ApiError> {
    let (path, finished) =
        app.storage
            .attachment(&mailbox.0, n.0, false, app.settings.max_attachments)?;
    Ok(Json(AttachmentState {
        n: n.0,
        received: app.storage.received(&path)?,
        finished,
    }))
}

/// How a chunk upload ended.
enum Stop {
    /// The whole body arrived.
    Done,
    /// The client went away mid-body: keep what arrived, so it can resume.
    Interrupted,
    /// More than allowed: by the size limits (`false`) or this hour's budget (`true`).
    Over(bool),
    /// The bytes are not an age file a Meldpunt client writes.
    NotAge(HeaderError),
}

#[put("/uploads/<n>", data = "<data>")]
async fn append(
    mailbox: Mailbox,
    n: AttachmentNumber,
    offset: Offset,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Json<AttachmentState>, ApiError> {
    let storage: &Arc<Storage> = &app.storage;
    let settings = &app.settings;
    let _claim = app.busy.claim(&mailbox.0, n.0)?;
    let (path, finished) = storage.attachment(&mailbox.0, n.0, true, settings.max_attachments)?;
    if finished.is_some() {
        return Err(crate::storage::StoreError::AttachmentFinished.into());
    }
    let received = storage.received(&path)?;
    if offset.0 != received {
        return Err(ApiError::new(
            Status::Conflict,
            format!("{received} bytes of this attachment arrived: continue from there"),
        )
        .with("received", json!(received)));
    }

    // The limits, all known before a byte of the body is read.
    let per_file = settings.max_attachment.as_u64().saturating_sub(received);
    let others = storage.session_bytes(&mailbox.0, n.0)?;
    let per_case = settings.max_case.as_u64().saturating_sub(others + received);
    let allowance = per_file.min(per_case);
    if declared.0.is_some_and(|len| len > allowance) {
        return Err(too_large(ByteUnit::from(
            settings
                .max_attachment
                .as_u64()
                .min(settings.max_case.as_u64()),
        )));
    }
    let budget = app.limiter.bytes_left()?;
    if declared.0.is_some_and(|len| len > budget) {
        return Err(Limiter::over_budget());
    }
    ensure_disk(
        storage.free_space()?,
        declared.0.unwrap_or(0),
        settings.min_free_disk.as_u64(),
    )?;
    let cap = allowance.min(budget);

    // While the header is not yet complete, the start of the file is checked with every
    // new piece before that piece is written.
    let mut prefix = if (received as usize) < HEADER_WINDOW {
        let p = storage.prefix(&path, HEADER_WINDOW)?;
        match check_header(&p) {
            Ok(_) => None,
            Err(_) => Some(p),
        }
    } else {
        None
    };

    let mut file = rocket::tokio::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .await
        .map_err(|e| ApiError::internal(format!("opening an attachment file: {e}")))?;
    // One byte over the cap tells "too large" apart from "exactly the limit".
    let mut stream = data.open(ByteUnit::from(cap.saturating_add(1)));
    let mut buf = vec![0u8; CHUNK_BUFFER];
    let mut written = 0u64;
    let stop = loop {
        let got = match stream.read(&mut buf).await {
            Ok(0) => break Stop::Done,
            Ok(got) => got,
            Err(_) => break Stop::Interrupted,
        };
        if written + got as u64 > cap {
            break Stop::Over(cap == budget && budget < allowance);
        }
        if let Some(p) = prefix.as_mut() {
            p.extend_from_slice(&buf[..got]);
            match check_header(p) {
                Ok(_) => prefix = None,
                Err(HeaderError::Incomplete) => {}
                Err(e) => break Stop::NotAge(e),
            }
        }
        if let Err(e) = file.write_all(&buf[..got]).await {
            let _ = file.flush().await;
            let _ = storage.truncate(&path, received);
            return Err(ApiError::internal(format!(
                "writing an attachment file: {e}"
            )));
        }
        written += got as u64;
    };
    file.flush()
        .await
        .map_err(|e| ApiError::internal(format!("writing an attachment file: {e}")))?;
    drop(file);
    match stop {
        Stop::Done | Stop::Interrupted => {
            app.limiter.charge_bytes(written);
            storage.file_day().apply(&path);
            if matches!(stop, Stop::Interrupted) {
                return Err(ApiError::new(
                    Status::BadRequest,
                    "the upload was interrupted: ask how much arrived and continue from there",
                ));
            }
            Ok(Json(AttachmentState {
                n: n.0,
                received: received + written,
                finished: None,
            }))
        }
        Stop::Over(budget) => {
            storage.truncate(&path, received)?;
            if budget {
                Err(Limiter::over_budget())
            } else {
                Err(too_large(ByteUnit::from(
                    settings
                        .max_attachment
                        .as_u64()
                        .min(settings.max_case.as_u64()),
                )))
            }
        }
        Stop::NotAge(e) => {
            // The whole attachment is refused, including any start stored earlier.
            storage.truncate(&path, 0)?;
            Err(ApiError::new(Status::BadRequest, format!("refused: {e}")))
        }
    }
}

#[post("/uploads/<n>/finish")]
async fn finish(
    mailbox: Mailbox,
    n: AttachmentNumber,
    app: &State<App>,
) -> Result<Json<Digest>, ApiError> {
    let _claim = app.busy.claim(&mailbox.0, n.0)?;
    let storage = app.storage.clone();
    let (path, finished) =
        storage.attachment(&mailbox.0, n.0, false, app.settings.max_attachments)?;
    if let Some(digest) = finished {
        return Ok(Json(digest));
    }
    match check_header(&storage.prefix(&path, HEADER_WINDOW)?) {
        Ok(_) => {}
        Err(HeaderError::Incomplete) => {
            return Err(ApiError::new(
                Status::BadRequest,
                "this attachment is not a complete age file yet: send the rest first",
            ))
        }
        Err(e) => {
            storage.truncate(&path, 0)?;
            return Err(ApiError::new(Status::BadRequest, format!("refused: {e}")));
        }
    }
    let hashing = storage.clone();
    let digest = rocket::tokio::task::spawn_blocking(move || hashing.digest_file(&path))
        .await
        .map_err(|e| ApiError::internal(format!("hashing an attachment: {e}")))??;
    storage.finish_attachment(&mailbox.0, n.0, digest.clone())?;
    storage.flush().await?;
    Ok(Json(digest))
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![start, show, progress, append, finish]
}
