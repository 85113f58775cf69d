//! The one error type of the HTTP API. What the client reads (`message`) is kept apart
//! from what the operator's log gets (`detail`, only for server faults, never naming a
//! client).

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use serde_json::{json, Value};

use crate::service::ServiceError;
use crate::storage::StoreError;

/// An API error: a status, a message for the client, and for server faults a detail
/// for the log.
#[derive(Debug)]
pub struct ApiError {
    status: Status,
    message: String,
    detail: Option<String>,
    extra: Vec<(&'static str, Value)>,
}

impl ApiError {
    /// An error the client caused, with a message it can act on.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            detail: None,
            extra: Vec::new(),
        }
    }

    /// A fault of the server: the client reads a generic message, the log the detail.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self {
            status: Status::InternalServerError,
            message: "the server could not complete this request; try again later".into(),
            detail: Some(detail.into()),
            extra: Vec::new(),
        }
    }

    /// Adds one more field to the JSON body (e.g. the current thread head on 409).
    pub fn with(mut self, key: &'static str, value: Value) -> Self {
        self.extra.push((key, value));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The client's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What the operator's log gets, for a fault of the server (never names a client).
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let message = e.to_string();
        let status = match &e {
            ServiceError::Internal(detail) => return ApiError::internal(detail.clone()),
            ServiceError::Store(s) => match s {
                StoreError::NoSession | StoreError::NoSuchAttachment | StoreError::NoCase => {
                    Status::NotFound
                }
                StoreError::TooManyAttachments => Status::PayloadTooLarge,
                StoreError::StaleHead { head } => {
                    return ApiError::new(Status::Conflict, message)
                        .with("head", Value::String(head.clone()))
                }
                StoreError::StatusBackwards { from } => {
                    return ApiError::new(Status::Conflict, message).with("status", json!(from))
                }
                StoreError::Db(_) | StoreError::Io(_) | StoreError::Corrupt(_) => {
                    return ApiError::internal(message)
                }
                _ => Status::Conflict,
            },
            ServiceError::TooLarge { .. } => Status::PayloadTooLarge,
            ServiceError::ThreadFull => Status::Conflict,
            ServiceError::TooEarly { from } => {
                return ApiError::new(Status::Conflict, message).with("from", json!(from))
            }
            ServiceError::Deleted(t) => {
                return ApiError::new(Status::Gone, message)
                    .with("closed", json!(t.closed))
                    .with("deleted", json!(t.deleted))
            }
            ServiceError::NoReport | ServiceError::NoSuchMessage => Status::NotFound,
            ServiceError::WrongOffset { received } => {
                return ApiError::new(Status::Conflict, message).with("received", json!(received))
            }
            ServiceError::Busy => Status::TooManyRequests,
            ServiceError::OutOfSpace => Status::InsufficientStorage,
            _ => Status::BadRequest,
        };
        ApiError::new(status, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

/// The JSON body of every API error.
pub fn error_body(message: &str, extra: impl IntoIterator<Item = (&'static str, Value)>) -> String {
    let mut body = json!({ "error": message });
    for (k, v) in extra {
        body[k] = v;
    }
    body.to_string()
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        if let Some(detail) = &self.detail {
            crate::log::error(detail);
        }
        let body = error_body(&self.message, self.extra);
        Response::build()
            .status(self.status)
            .header(ContentType::JSON)
            .sized_body(body.len(), std::io::Cursor::new(body))
            .ok()
    }
}
