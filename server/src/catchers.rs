//! Answers for requests no route took or a guard refused: JSON with a message under
//! `/api/`, plain text elsewhere. Never an echo of the request.

use rocket::http::{ContentType, Status};
use rocket::{catch, catchers, Catcher, Request};

use crate::error::error_body;
use crate::guards::GuardFailure;

fn message(status: Status, req: &Request<'_>) -> String {
    let from_guard = &req.local_cache(|| GuardFailure(String::new(), None)).0;
    if !from_guard.is_empty() {
        return from_guard.clone();
    }
    match status.code {
        400 => "the request is not valid".into(),
        401 => "not authorised".into(),
        403 => "not allowed".into(),
        404 => "not found".into(),
        413 => "the upload is too large".into(),
        422 => "the request body is not what this route expects".into(),
        _ => status.reason_lossy().to_lowercase(),
    }
}

#[catch(default)]
fn any(status: Status, req: &Request<'_>) -> (Status, (ContentType, String)) {
    let text = message(status, req);
    if req.uri().path().starts_with(crate::api::BASE) {
        let extra = req
            .local_cache(|| GuardFailure(String::new(), None))
            .1
            .clone();
        (status, (ContentType::JSON, error_body(&text, extra)))
    } else {
        (
            status,
            (ContentType::Plain, format!("{} {}\n", status.code, text)),
        )
    }
}

/// The catchers.
pub fn catchers() -> Vec<Catcher> {
    catchers![any]
}
