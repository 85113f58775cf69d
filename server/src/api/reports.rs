//! `POST /api/v1/reports`: the report age file → a receipt (case number and day) that
//! covers the report and every attachment of the mailbox's upload session.
//! `PUT /api/v1/note`: the reporter's note to self, stored with the case.

use meldpunt_crypto::{Day, MailboxId};
use rocket::data::Data;
use rocket::http::Status;
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{post, put, routes, Route, State};
use serde::Serialize;

use crate::body::{check_age, read_limited, too_large};
use crate::error::ApiError;
use crate::guards::{ContentLength, DestinationName, Mailbox};
use crate::ids::CaseNumber;
use crate::limits::ensure_disk;
use crate::storage::records::Digest;
use crate::storage::Filed;
use crate::App;

/// What the reporter keeps: proof of what the server accepted.
#[derive(Serialize)]
pub struct Receipt {
    case: CaseNumber,
    received: Day,
    destination: String,
    report_sha256: String,
    attachments: Vec<Digest>,
}

#[post("/reports", data = "<data>")]
async fn file(
    mailbox: Mailbox,
    destination: DestinationName,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Custom<Json<Receipt>>, ApiError> {
    app.limiter.submission()?;
    ensure_disk(
        app.storage.free_space()?,
        declared.0.unwrap_or(0),
        app.settings.min_free_disk.as_u64(),
    )?;
    let report = read_limited(data, app.settings.max_report, declared.0).await?;
    let filed = file_report(app, &mailbox.0, &destination.0, &report).await?;
    let status = if filed.new {
        Status::Created
    } else {
        Status::Ok
    };
    Ok(Custom(
        status,
        Json(Receipt {
            case: filed.case,
            received: filed.record.received,
            destination: filed.record.destination,
            report_sha256: filed.record.report.sha256,
            attachments: filed
                .record
                .attachments
                .into_iter()
                .map(|a| a.digest)
                .collect(),
        }),
    ))
}

/// Checks a report's age file against its destination and files it, with the finished
/// attachments of the mailbox's upload session, on disk before it returns. The one path
/// for reports from the browser and from the no-JavaScript form.
pub async fn file_report(
    app: &App,
    mailbox: &MailboxId,
    destination: &str,
    report: &[u8],
) -> Result<Filed, ApiError> {
    if report.len() as u64 > app.settings.max_report.as_u64() {
        return Err(too_large(app.settings.max_report));
    }
    let header = check_age(report)?;
    let offered = app
        .destinations
        .get(destination)
        .ok_or_else(|| ApiError::new(Status::BadRequest, "no such destination"))?;
    // A Meldpunt client encrypts a report to every recipient of its destination.
    if header.x25519_stanzas != offered.destination.recipients().len() {
        return Err(ApiError::new(
            Status::BadRequest,
            format!(
                "the report is encrypted to {} recipients, but destination \"{}\" has {}: \
                 reload the destinations and encrypt again",
                header.x25519_stanzas,
                destination,
                offered.destination.recipients().len()
            ),
        ));
    }
    let filed = app.storage.file_report(mailbox, destination, report)?;
    // The receipt promises the report is kept: only after it is on disk.
    app.storage.flush().await?;
    if filed.new {
        crate::notify::new_case(app.settings.notify_command.as_deref());
    }
    Ok(filed)
}

#[put("/note", data = "<data>")]
async fn note(
    mailbox: Mailbox,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Json<Digest>, ApiError> {
    let Some((case, _)) = app.storage.case_for_mailbox(&mailbox.0)? else {
        return Err(ApiError::new(
            Status::NotFound,
            "no report was sent with this return code",
        ));
    };
    app.limiter.submission()?;
    let bytes = read_limited(data, app.settings.max_message, declared.0).await?;
    store_note(app, &case, &bytes).await?;
    Ok(Json(Digest::of(&bytes)))
}

/// Checks and stores the reporter's note to self with the case, on disk before it
/// returns (both tiers).
pub async fn store_note(app: &App, case: &CaseNumber, note: &[u8]) -> Result<(), ApiError> {
    if note.len() as u64 > app.settings.max_message.as_u64() {
        return Err(too_large(app.settings.max_message));
    }
    check_age(note)?;
    app.storage.store_note(case, note)?;
    app.storage.flush().await?;
    Ok(())
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![file, note]
}
