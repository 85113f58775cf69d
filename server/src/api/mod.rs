//! The HTTP API under `/api/v1`, one module per area; docs/openapi.yaml describes it.

pub mod audit;
pub mod cases;
pub mod destinations;
pub mod reports;
pub mod thread;
pub mod uploads;

use rocket::Route;

use crate::error::ApiError;

/// The mount point of every API route.
pub const BASE: &str = meldpunt_wire::API_BASE;

/// A whole number from the query (`?from=`), at least `min`, given at most once. Rocket
/// reads a value that does not parse as absent; this refuses it instead (400), as
/// docs/openapi.yaml says.
pub fn query_number(values: &[&str], name: &str, min: u64) -> Result<Option<u64>, ApiError> {
    match values {
        [] => Ok(None),
        [v] => match v.parse::<u64>() {
            Ok(n) if n >= min => Ok(Some(n)),
            _ => Err(bad_number(name, min)),
        },
        _ => Err(bad_number(name, min)),
    }
}

/// The refusal of a query number.
pub fn bad_number(name: &str, min: u64) -> ApiError {
    ApiError::new(
        rocket::http::Status::BadRequest,
        format!("{name} must be a whole number, at least {min}"),
    )
}

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
