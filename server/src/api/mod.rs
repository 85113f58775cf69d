//! The HTTP API under `/api/v1`, one module per area; docs/openapi.yaml describes it.

pub mod audit;
pub mod cases;
pub mod destinations;
pub mod reports;
pub mod thread;
pub mod uploads;

use rocket::Route;

/// The mount point of every API route.
pub const BASE: &str = meldpunt_wire::API_BASE;

/// Every API route.
pub fn routes() -> Vec<Route> {
    let mut all = destinations::routes();
    all.extend(uploads::routes());
    all.extend(reports::routes());
    all.extend(thread::routes());
    all.extend(cases::routes());
    all.extend(audit::routes());
    all
}
