//! `GET /api/v1/audit`: the hash-chained audit log, checked, so investigators can keep its
//! head and notice a rewritten past — each token seeing in full only its destinations'
//! entries.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};

use crate::error::ApiError;
use crate::guards::Authorized;
use crate::App;
use meldpunt_wire::audit::AuditRecord;

/// The log from entry `from` on (all of it without): a reader that kept the log fetches
/// only what is new, and checks that it goes on from the head it kept. A `from` past
/// the end is 416: entries the reader saw are gone.
/// Entries that concern only destinations the token does not cover are sent as their
/// place in the chain alone (index, previous hash, hash): the chain still verifies, and
/// one destination's investigators learn nothing of another's cases or people.
#[get("/audit?<from>")]
async fn read(
    who: Authorized,
    from: Vec<&str>,
    app: &State<App>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    let from = super::query_number(&from, "from", 0)?.unwrap_or(0);
    let entries = app
        .audit
        .read_from(from)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match entries {
        Some(entries) => Ok(Json(
            entries
                .into_iter()
                .map(|e| AuditRecord::for_reader(e, &who.0.destinations))
                .collect(),
        )),
        None => Err(ApiError::new(
            Status::RangeNotSatisfiable,
            "the audit log has fewer entries than that: entries were removed",
        )),
    }
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![read]
}
