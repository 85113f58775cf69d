//! Reading request bodies within their route's limit.

use rocket::data::{ByteUnit, Data};
use rocket::http::Status;

use crate::error::ApiError;

/// The error for a body over its limit.
pub fn too_large(limit: ByteUnit) -> ApiError {
    ApiError::new(
        Status::PayloadTooLarge,
        format!("the upload is larger than this drop box accepts ({limit})"),
    )
}

/// Reads a whole (small) body: refused with 413 before reading if the declared length
/// is over `limit`, and as soon as more than `limit` bytes arrive.
pub async fn read_limited(
    data: Data<'_>,
    limit: ByteUnit,
    declared: Option<u64>,
) -> Result<Vec<u8>, ApiError> {
    if declared.is_some_and(|n| n > limit.as_u64()) {
        return Err(too_large(limit));
    }
    let capped = data
        .open(limit)
        .into_bytes()
        .await
        .map_err(|_| ApiError::new(Status::BadRequest, "the upload was interrupted"))?;
    if !capped.is_complete() {
        return Err(too_large(limit));
    }
    Ok(capped.into_inner())
}
