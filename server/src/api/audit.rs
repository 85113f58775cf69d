//! `GET /api/v1/audit`: the whole hash-chained audit log, checked, so investigators can
//! keep its head and notice a rewritten past.

use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};

use crate::audit::AuditEntry;
use crate::error::ApiError;
use crate::guards::Authorized;
use crate::App;

#[get("/audit")]
async fn read(_who: Authorized, app: &State<App>) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    app.audit
        .read_verified()
        .await
        .map(Json)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![read]
}
