//! Answers for requests no route took or a guard refused: JSON with a message under
//! `/api/`, plain text elsewhere. Never an echo of the request.
//!
//! A method the API does not have on a path it does have is 405 with `Allow` (Rocket
//! itself only knows "no route": 404), so a client generated from docs/openapi.yaml
//! tells a wrong method from a wrong path.

use std::io::Cursor;

use rocket::http::{ContentType, Method, Status};
use rocket::response::{self, Responder, Response};
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
        405 => "this method is not allowed here".into(),
        413 => "the upload is too large".into(),
        422 => "the request body is not what this route expects".into(),
        _ => status.reason_lossy().to_lowercase(),
    }
}

/// Whether a route's path (`/api/v1/uploads/<n>`) takes the request's path segments.
fn route_takes(route_path: &str, request: &[&str]) -> bool {
    let mut wanted = request.iter();
    for segment in route_path.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('<') && segment.ends_with("..>") {
            return true;
        }
        match wanted.next() {
            Some(got) if segment.starts_with('<') && segment.ends_with('>') => {
                if got.is_empty() {
                    return false;
                }
            }
            Some(got) if *got == segment => {}
            _ => return false,
        }
    }
    wanted.next().is_none()
}

/// The methods the API has for this request's path (none: not an API path).
fn allowed(req: &Request<'_>) -> Vec<Method> {
    let path: Vec<&str> = req.uri().path().segments().collect();
    let mut methods: Vec<Method> = Vec::new();
    for route in req.rocket().routes() {
        let route_path = route.uri.path();
        if route_path.starts_with(crate::api::BASE)
            && route_takes(route_path, &path)
            && !methods.contains(&route.method)
        {
            methods.push(route.method);
        }
    }
    // Rocket answers HEAD wherever there is GET.
    if methods.contains(&Method::Get) {
        methods.push(Method::Head);
    }
    methods.sort_by_key(|m| m.as_str());
    methods
}

/// A catcher's answer, with `Allow` on 405.
struct Answer {
    status: Status,
    content_type: ContentType,
    body: String,
    allow: Option<String>,
}

impl<'r> Responder<'r, 'static> for Answer {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .status(self.status)
            .header(self.content_type)
            .sized_body(self.body.len(), Cursor::new(self.body));
        if let Some(allow) = self.allow {
            response.raw_header("Allow", allow);
        }
        response.ok()
    }
}

#[catch(default)]
fn any(status: Status, req: &Request<'_>) -> Answer {
    let mut status = status;
    let mut allow = None;
    let api = req.uri().path().starts_with(crate::api::BASE);
    // A method Rocket does not know (QUERY, a made-up one) arrives here as its 400 for
    // the request salvaged as a GET; no guard refused it (a GET has no body to refuse).
    let unknown_method = status == Status::BadRequest
        && req.method() == Method::Get
        && req
            .local_cache(|| GuardFailure(String::new(), None))
            .0
            .is_empty();
    if api && (status == Status::NotFound || unknown_method) {
        let methods = allowed(req);
        if !methods.is_empty() && (unknown_method || !methods.contains(&req.method())) {
            status = Status::MethodNotAllowed;
            allow = Some(
                methods
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
    }
    let text = message(status, req);
    if api {
        let extra = req
            .local_cache(|| GuardFailure(String::new(), None))
            .1
            .clone();
        Answer {
            status,
            content_type: ContentType::JSON,
            body: error_body(&text, extra),
            allow,
        }
    } else {
        Answer {
            status,
            content_type: ContentType::Plain,
            body: format!("{} {}\n", status.code, text),
            allow,
        }
    }
}

/// The catchers.
pub fn catchers() -> Vec<Catcher> {
    catchers![any]
}

#[cfg(test)]
mod tests {
    use super::route_takes;

    #[test]
    fn route_paths_match_by_segment() {
        assert!(route_takes(
            "/api/v1/uploads/<n>",
            &["api", "v1", "uploads", "3"]
        ));
        assert!(!route_takes(
            "/api/v1/uploads/<n>",
            &["api", "v1", "uploads"]
        ));
        assert!(!route_takes(
            "/api/v1/uploads/<n>",
            &["api", "v1", "uploads", "3", "x"]
        ));
        assert!(route_takes("/api/v1/uploads", &["api", "v1", "uploads"]));
        assert!(route_takes("/api/v1/<rest..>", &["api", "v1", "a", "b"]));
        assert!(!route_takes("/api/v1/cases", &["api", "v1", "audit"]));
    }
}
