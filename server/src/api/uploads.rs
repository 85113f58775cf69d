//! Attachments, uploaded before the report (the operations: `crate::service::uploads`).
//!
//! `POST /uploads` starts (or shows) the session; `PUT /uploads/<n>` with
//! `Meldpunt-Offset` appends a chunk to attachment n (n = the next number starts a new
//! one); `GET /uploads/<n>` tells how much arrived; `POST /uploads/<n>/finish` checks,
//! syncs and hashes it.

use meldpunt_wire::reporter::{AttachmentState, SessionView};
use rocket::data::{ByteUnit, Data};
use rocket::serde::json::Json;
use rocket::{get, post, put, routes, Route, State};

use crate::error::ApiError;
use crate::guards::{Admitted, ContentLength, ForSession, ForUpload, Mailbox, Offset};
use crate::ids::AttachmentNumber;
use crate::service::uploads;
use crate::storage::records::Digest;
use crate::App;

#[post("/uploads")]
async fn start(
    mailbox: Mailbox,
    _admitted: Admitted<ForSession>,
    app: &State<App>,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(uploads::start(app, &mailbox.0).await?))
}

#[get("/uploads")]
async fn show(mailbox: Mailbox, app: &State<App>) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(uploads::view(app, &mailbox.0).await?))
}

#[get("/uploads/<n>")]
async fn progress(
    mailbox: Mailbox,
    n: AttachmentNumber,
    app: &State<App>,
) -> Result<Json<AttachmentState>, ApiError> {
    Ok(Json(uploads::progress(app, &mailbox.0, n.0).await?))
}

#[put("/uploads/<n>", data = "<data>")]
async fn append(
    mailbox: Mailbox,
    n: AttachmentNumber,
    offset: Offset,
    _admitted: Admitted<ForUpload>,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Json<AttachmentState>, ApiError> {
    // The service stops reading at its own cap; Rocket's limit only has to be above it.
    let mut body = data.open(ByteUnit::max_value());
    Ok(Json(
        uploads::receive_chunk(app, &mailbox.0, n.0, offset.0, declared.0, &mut body).await?,
    ))
}

#[post("/uploads/<n>/finish")]
async fn finish(
    mailbox: Mailbox,
    n: AttachmentNumber,
    app: &State<App>,
) -> Result<Json<Digest>, ApiError> {
    Ok(Json(uploads::finish(app, &mailbox.0, n.0).await?))
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![start, show, progress, append, finish]
}
