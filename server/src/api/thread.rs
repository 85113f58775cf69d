//! The reporter's side of a case's thread, authorised by the mailbox credential:
//! `GET /api/v1/thread` (everything, inline), `GET /api/v1/thread/<n>` (one message's
//! age file), `POST /api/v1/thread` (a reply; `Meldpunt-Extends` must name the head).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{CaseStatus, Day};
use rocket::data::Data;
use rocket::http::{ContentType, Status};
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};
use serde::Serialize;

use crate::body::{check_age, read_limited, too_large};
use crate::error::ApiError;
use crate::guards::{ContentLength, Extends, Mailbox};
use crate::ids::CaseNumber;
use crate::storage::records::CaseRecord;
use crate::App;
use meldpunt_crypto::Direction;

/// One message as the reporter's page receives it.
#[derive(Serialize)]
pub struct MessageView {
    seq_in_thread: usize,
    direction: Direction,
    day: Day,
    sha256: String,
    size: u64,
    url: String,
    /// The age file, base64.
    ciphertext: String,
}

/// The thread as the reporter's page receives it.
#[derive(Serialize)]
pub struct ThreadView {
    case: CaseNumber,
    status: CaseStatus,
    received: Day,
    report_sha256: String,
    head: String,
    /// The reporter's note to self (base64 age file), if one was stored.
    note: Option<String>,
    messages: Vec<MessageView>,
}

/// What a post returns.
#[derive(Serialize)]
pub struct Posted {
    seq_in_thread: usize,
    sha256: String,
    head: String,
}

fn no_report() -> ApiError {
    ApiError::new(Status::NotFound, "no report was sent with this return code")
}

fn case_of(app: &App, mailbox: &Mailbox) -> Result<(CaseNumber, CaseRecord), ApiError> {
    app.storage
        .case_for_mailbox(&mailbox.0)?
        .ok_or_else(no_report)
}

#[get("/thread")]
fn read(mailbox: Mailbox, app: &State<App>) -> Result<Json<ThreadView>, ApiError> {
    let (case, record) = case_of(app, &mailbox)?;
    Ok(Json(view(app, case, record)?))
}

/// The thread as the reporter's side reads it, ciphertext inline: what the browser
/// gets, and what the no-JavaScript check-back hands to the same verifying code.
pub fn view(app: &App, case: CaseNumber, record: CaseRecord) -> Result<ThreadView, ApiError> {
    let mut messages = Vec::with_capacity(record.thread.len());
    for (i, m) in record.thread.iter().enumerate() {
        let seq = i + 1;
        messages.push(MessageView {
            seq_in_thread: seq,
            direction: m.direction,
            day: m.day,
            sha256: m.digest.sha256.clone(),
            size: m.digest.size,
            url: format!("{}/thread/{seq}", crate::api::BASE),
            ciphertext: B64.encode(app.storage.message(&case, seq)?),
        });
    }
    Ok(ThreadView {
        note: app.storage.note(&case)?.map(|n| B64.encode(n)),
        head: record.head().to_owned(),
        case,
        status: record.status,
        received: record.received,
        report_sha256: record.report.sha256,
        messages,
    })
}

#[get("/thread/<seq>")]
fn message(
    mailbox: Mailbox,
    seq: usize,
    app: &State<App>,
) -> Result<(ContentType, Vec<u8>), ApiError> {
    let (case, record) = case_of(app, &mailbox)?;
    if seq == 0 || seq > record.thread.len() {
        return Err(ApiError::new(Status::NotFound, "no such message"));
    }
    Ok((ContentType::Binary, app.storage.message(&case, seq)?))
}

#[post("/thread", data = "<data>")]
async fn post(
    mailbox: Mailbox,
    extends: Extends,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Custom<Json<Posted>>, ApiError> {
    let (case, _) = case_of(app, &mailbox)?;
    app.limiter.submission()?;
    let bytes = read_limited(data, app.settings.max_message, declared.0).await?;
    let (seq, record) = post_from_reporter(app, &case, &extends.0, &bytes).await?;
    Ok(posted(seq, &record))
}

/// Checks a reporter's message and appends it to the case's thread if `extends` is
/// the current head, on disk before it returns (both tiers).
pub async fn post_from_reporter(
    app: &App,
    case: &CaseNumber,
    extends: &str,
    message: &[u8],
) -> Result<(usize, CaseRecord), ApiError> {
    if message.len() as u64 > app.settings.max_message.as_u64() {
        return Err(too_large(app.settings.max_message));
    }
    check_age(message)?;
    let (seq, record) =
        app.storage
            .append_message(case, Direction::FromReporter, extends, message)?;
    app.storage.flush().await?;
    Ok((seq, record))
}

/// The answer to a post (the investigator's too).
pub fn posted(seq: usize, record: &CaseRecord) -> Custom<Json<Posted>> {
    Custom(
        Status::Created,
        Json(Posted {
            seq_in_thread: seq,
            sha256: record.thread[seq - 1].digest.sha256.clone(),
            head: record.head().to_owned(),
        }),
    )
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![read, message, post]
}
