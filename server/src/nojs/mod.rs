//! The "Safest" tier: the reporter's pages without JavaScript (Tor Browser at "Safest").
//!
//! The browser cannot encrypt, so it posts the plaintext (`multipart/form-data`, read
//! part by part with `multer`, see [`form`]) and the server encrypts it on arrival with
//! the same crypto crate, to the same files and records as the JavaScript tiers
//! ([`report`]). Checking back, the server derives the reporter's keys from the posted
//! code and verifies and decrypts the thread with the reporter's own operations, as the
//! browser does (`meldpunt_crypto::reporter`), and seals answers the same way
//! ([`check`]).
//!
//! What stays in memory, and for how long: each document is held whole in a wiping
//! buffer ([`secret::SecretBuf`]) until it is encrypted, because its length must be
//! known for the padding before the first byte is encrypted; hence the per-document
//! limit [`DOCUMENT_LIMIT`], stated on the form, and a memory budget for all forms
//! together ([`MEMORY`], accounted by what each request really holds, so slow senders
//! cannot keep others out; a form that stops arriving for [`form::IDLE`] is dropped).
//! Text fields, the return code, the rendered pages and the chunks read from
//! the connection are wiped when dropped. Not wiped: the buffers inside `multer`, hyper
//! and minijinja, which are freed as soon as the request ends but not overwritten.
//! Nothing is written to a file except ciphertext, and nothing about a request is
//! logged.

pub mod check;
pub mod form;
pub mod hidden;
pub mod once;
pub mod report;
pub mod secret;

use meldpunt_pages::{Lang, Page, Pages};
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::Route;
use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::service::ServiceError;
use crate::App;
use secret::SecretBuf;

/// The largest document this tier accepts: it is held in memory until encrypted.
pub const DOCUMENT_LIMIT: u64 = 64 * 1024 * 1024;
/// The most documents with one report in this tier.
pub const MAX_DOCUMENTS: u32 = 5;
/// The largest text field (a description, an answer).
pub const TEXT_LIMIT: usize = 1024 * 1024;
/// The memory all no-JavaScript forms may hold at once: two forms with the largest
/// document each.
pub const MEMORY: u64 = 2 * (DOCUMENT_LIMIT + 8 * TEXT_LIMIT as u64);

/// The limits of this tier under the operator's configuration.
#[derive(Clone, Copy)]
pub struct Limits {
    /// Largest document (plaintext bytes).
    pub document: u64,
    /// Most documents.
    pub documents: u32,
    /// Largest whole form body.
    pub body: u64,
}

impl Limits {
    /// The tier's limits, never above what the configuration allows for attachments
    /// (whose limit counts the padded ciphertext: leave room for padding and header).
    pub fn of(app: &App) -> Self {
        let max_attachment = app.settings.max_attachment.as_u64();
        let document = DOCUMENT_LIMIT.min(max_attachment - max_attachment / 8);
        let documents = MAX_DOCUMENTS.min(app.settings.max_attachments);
        // Documents, the text fields, and the multipart framing.
        let body = document * u64::from(documents) + 8 * TEXT_LIMIT as u64 + 64 * 1024;
        Self {
            document,
            documents,
            body,
        }
    }
}

/// An HTML page whose bytes are wiped once sent (it may show a return code or
/// decrypted messages).
pub struct HtmlPage {
    status: Status,
    body: Zeroizing<Vec<u8>>,
}

impl<'r> Responder<'r, 'static> for HtmlPage {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .status(self.status)
            .header(ContentType::HTML)
            .sized_body(self.body.len(), std::io::Cursor::new(self.body))
            .ok()
    }
}

/// Renders `page` with `extra` (then wipes `extra`: it may hold plaintext).
pub fn render(
    app: &App,
    pages: &Pages,
    page: Page,
    lang: Lang,
    status: Status,
    mut extra: Value,
) -> HtmlPage {
    let mut out = SecretBuf::with_capacity(64 * 1024);
    #[allow(
        clippy::expect_used,
        reason = "writing into memory cannot fail, and every template renders (tested)"
    )]
    pages
        .render_into(
            page,
            lang,
            &crate::pages::views(app, lang),
            &extra,
            &mut out,
        )
        .expect("rendering into memory does not fail");
    wipe_json(&mut extra);
    HtmlPage {
        status,
        body: out.into_inner(),
    }
}

/// Overwrites every string in a JSON value.
pub fn wipe_json(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe_json),
        Value::Object(map) => map.values_mut().for_each(wipe_json),
        _ => {}
    }
}

/// Why a no-JavaScript request was refused: a status and the key of the text that
/// tells the reporter (in their language).
pub struct Refusal {
    status: Status,
    key: &'static str,
    /// Values for `{name}` places in the text.
    values: Vec<(&'static str, String)>,
}

impl Refusal {
    /// A refusal with this status and text key.
    pub fn new(status: Status, key: &'static str) -> Self {
        Self {
            status,
            key,
            values: Vec::new(),
        }
    }

    /// The same, with a value for the text's `{name}`.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.values.push((name, value.to_string()));
        self
    }

    /// From an operation's error; a server fault goes to the operator's log (its
    /// detail names no client and holds no plaintext).
    pub fn from_service(e: ServiceError) -> Self {
        let status = crate::error::ApiError::from(e).status();
        let key = match status {
            Status::PayloadTooLarge => "nojs_too_large",
            Status::TooManyRequests => "nojs_busy",
            _ => "nojs_failed",
        };
        Self::new(status, key)
    }

    /// A fault of the server, logged without client or plaintext.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        crate::log::error(detail);
        Self::new(Status::InternalServerError, "nojs_failed")
    }

    /// The reporter's text, in `lang`.
    pub fn text(&self, pages: &Pages, lang: Lang) -> String {
        let mut text = pages.text(lang, self.key);
        for (name, value) in &self.values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

impl From<ServiceError> for Refusal {
    fn from(e: ServiceError) -> Self {
        Self::from_service(e)
    }
}

impl From<crate::storage::StoreError> for Refusal {
    fn from(e: crate::storage::StoreError) -> Self {
        Self::from_service(e.into())
    }
}

impl From<form::FormError> for Refusal {
    fn from(e: form::FormError) -> Self {
        match e {
            form::FormError::TooLarge => Self::new(Status::PayloadTooLarge, "nojs_too_large"),
            form::FormError::Malformed => Self::new(Status::BadRequest, "nojs_bad_form"),
            form::FormError::TooSlow => Self::new(Status::RequestTimeout, "nojs_too_slow"),
            form::FormError::Busy => Self::new(Status::ServiceUnavailable, "nojs_busy"),
        }
    }
}

/// The routes of the no-JavaScript pages.
pub fn routes() -> Vec<Route> {
    let mut all = report::routes();
    all.extend(check::routes());
    all
}
