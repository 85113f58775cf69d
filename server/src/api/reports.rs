//! `POST /api/v1/reports`: the report age file → a receipt (case number and day) that
//! covers the report and every attachment of the mailbox's upload session.
//! `PUT /api/v1/note`: the reporter's note to self, stored with the case.

use meldpunt_wire::reporter::Receipt;
use rocket::data::Data;
use rocket::http::Status;
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{post, put, routes, Route, State};

use crate::body::read_limited;
use crate::error::ApiError;
use crate::guards::{Admitted, ContentLength, DestinationName, ForReport, Mailbox};
use crate::limits::ensure_disk;
use crate::service::reports;
use crate::storage::records::Digest;
use crate::App;

#[post("/reports", data = "<data>")]
async fn file(
    mailbox: Mailbox,
    destination: DestinationName,
    _admitted: Admitted<ForReport>,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Custom<Json<Receipt>>, ApiError> {
    ensure_disk(
        app.storage.free_space()?,
        declared.0.unwrap_or(0),
        app.settings.min_free_disk.as_u64(),
    )?;
    let report = read_limited(data, app.settings.max_report, declared.0).await?;
    let filed = reports::file(app, &mailbox.0, &destination.0, &report).await?;
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

#[put("/note", data = "<data>")]
async fn note(
    mailbox: Mailbox,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Json<Digest>, ApiError> {
    let case = reports::case_of(app, &mailbox.0).await?;
    let bytes = read_limited(data, app.settings.max_message, declared.0).await?;
    reports::store_note(app, &case, &bytes).await?;
    Ok(Json(Digest::of(&bytes)))
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![file, note]
}
