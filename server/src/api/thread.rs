//! The reporter's side of a case's thread, authorised by the mailbox credential:
//! `GET /api/v1/thread` (everything, inline), `GET /api/v1/thread/<n>` (one message's
//! age file), `POST /api/v1/thread` (a reply; `Meldpunt-Extends` must name the head).

use meldpunt_wire::reporter::{Posted, ThreadView};
use rocket::data::Data;
use rocket::http::{ContentType, Status};
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route, State};

use crate::body::read_limited;
use crate::error::ApiError;
use crate::guards::{Admitted, ContentLength, Extends, ForAnswer, Mailbox};
use crate::service::thread;
use crate::storage::records::CaseRecord;
use crate::App;

#[get("/thread?<from>")]
async fn read(
    mailbox: Mailbox,
    from: Vec<&str>,
    app: &State<App>,
) -> Result<Json<ThreadView>, ApiError> {
    let from = super::query_number(&from, "from", 1)?.unwrap_or(1);
    let from = usize::try_from(from).map_err(|_| super::bad_number("from", 1))?;
    Ok(Json(thread::view(app, &mailbox.0, from).await?))
}

#[get("/thread/<seq>")]
async fn message(
    mailbox: Mailbox,
    seq: usize,
    app: &State<App>,
) -> Result<(ContentType, Vec<u8>), ApiError> {
    Ok((
        ContentType::Binary,
        thread::message(app, &mailbox.0, seq).await?,
    ))
}

#[post("/thread", data = "<data>")]
async fn post(
    mailbox: Mailbox,
    extends: Extends,
    _admitted: Admitted<ForAnswer>,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<Custom<Json<Posted>>, ApiError> {
    let case = thread::admit_answer(app, &mailbox.0).await?;
    let bytes = read_limited(data, app.settings.max_message, declared.0).await?;
    let (seq, record) = thread::post(
        app,
        &case,
        meldpunt_crypto::Direction::FromReporter,
        thread::REPORTER,
        &extends.0,
        &bytes,
    )
    .await?;
    Ok(posted(seq, &record))
}

/// The answer to a post (the investigator's too).
pub fn posted(seq: usize, record: &CaseRecord) -> Custom<Json<Posted>> {
    Custom(
        Status::Created,
        Json(Posted {
            seq_in_thread: seq,
            sha256: record
                .thread
                .get(seq.saturating_sub(1))
                .map(|m| m.digest.sha256.clone())
                .unwrap_or_default(),
            head: record.head().to_owned(),
        }),
    )
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![read, message, post]
}
