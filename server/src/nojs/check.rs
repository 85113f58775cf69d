//! Checking back without JavaScript. `POST /<lang>/check-nojs` with the return code:
//! the server derives the keys in memory and reads the thread with the reporter's own
//! operations, as the browser does ([`meldpunt_crypto::reporter`]: the note to self,
//! every bureau message authenticated and chained, an unverified one never shown as the
//! bureau's words). `POST /<lang>/reply-nojs` with the code, the head the reporter saw
//! and the answer: sealed to the recipients the note records (or the latest verified
//! bureau message names) and posted like the browser's answer. The code travels in POST
//! bodies only; nothing is kept after the response.

use meldpunt_crypto::reporter::{
    AnswerError, Reporter, ReporterThread, ServedMessage, ServedThread,
};
use meldpunt_crypto::{CaseStatus, CodeError};
use meldpunt_pages::{Lang, Page, Pages};
use rocket::data::Data;
use rocket::http::{ContentType, Status};
use rocket::tokio::sync::{OwnedSemaphorePermit, Semaphore};
use rocket::{get, post, routes, Route, State};
use serde_json::json;
use std::sync::Arc;
use zeroize::Zeroizing;

use super::form::{FormReader, Part};
use super::{render, HtmlPage, Refusal, TEXT_LIMIT};
use crate::guards::ContentLength;
use crate::ids::CaseNumber;
use crate::pages::LangParam;
use crate::service::ServiceError;
use crate::storage::StoreError;
use crate::App;

/// The largest code form (a code and little else).
const CODE_FORM_LIMIT: u64 = 16 * 1024;
/// The largest answer form: the answer and the code.
const REPLY_FORM_LIMIT: u64 = TEXT_LIMIT as u64 + 64 * 1024;

/// A thread opened with the code: the reporter's keys live in `reporter` until it drops.
struct Opened {
    reporter: Reporter,
    case: CaseNumber,
    status: CaseStatus,
    /// The thread as read and verified (decrypted text included; wiped on drop).
    thread: ReporterThread,
    /// Its share of [`Reading`], given back when the page is rendered and this drops.
    _room: OwnedSemaphorePermit,
}

/// The memory the no-JavaScript check-back may hold for threads at once. The server reads
/// and decrypts a whole thread per request (bounded by `max_thread_bytes`), so without a
/// limit a few clients asking at once for a full thread would hold many times that. A
/// request waits, in order of arrival, until its share is free, rather than being refused:
/// a reporter behind a crowd is late, never turned away.
pub struct Reading {
    room: Arc<Semaphore>,
    /// The whole budget, KiB.
    total: u32,
}

/// What reading a thread holds per stored byte: the age files as read, the decrypted
/// text and the page made of it (measured: about 2.5 times the thread, docs/BENCHMARKS.md).
const HELD_PER_BYTE: u64 = 3;

impl Reading {
    /// Room for one thread at the cap `max_thread_bytes` and 4 MiB besides: large threads
    /// are read one at a time (two at once also scatter the allocator's heap: measured,
    /// 16 check-backs of a 6 MiB thread raised the peak by 160 MiB two at a time, by
    /// 31 MiB one at a time), small ones beside them.
    pub fn new(max_thread_bytes: u64) -> Self {
        let kib = (HELD_PER_BYTE.saturating_mul(max_thread_bytes) + (4 << 20)) / 1024;
        let total = u32::try_from(kib).unwrap_or(u32::MAX);
        Self {
            room: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until reading a thread of `bytes` stored bytes fits (at least 1 KiB; at most
    /// the whole budget, so a thread over the cap is still read, alone).
    async fn room(&self, bytes: u64) -> Result<OwnedSemaphorePermit, Refusal> {
        let kib = (HELD_PER_BYTE.saturating_mul(bytes) / 1024).clamp(1, u64::from(self.total));
        self.room
            .clone()
            .acquire_many_owned(u32::try_from(kib).unwrap_or(self.total))
            .await
            .map_err(|_| Refusal::internal("the check-back's memory budget was closed"))
    }
}

fn code_error(e: &CodeError) -> Refusal {
    match e {
        CodeError::Typo => Refusal::new(Status::BadRequest, "check_typo"),
        CodeError::WrongLength { .. } => Refusal::new(Status::BadRequest, "check_length"),
        _ => Refusal::new(Status::BadRequest, "check_character"),
    }
}

/// Derives the keys from the typed code, finds the case and reads its thread, once the
/// memory for it is free.
async fn open(app: &App, typed: &str) -> Result<Opened, Refusal> {
    let mut reporter = Reporter::open(typed).map_err(|e| code_error(&e))?;
    let mailbox = reporter.credential().mailbox_id();
    let (case, record) = match crate::service::reports::mailbox_case(app, &mailbox).await {
        Ok(found) => found,
        Err(ServiceError::NoReport) => return Err(Refusal::new(Status::NotFound, "check_unknown")),
        Err(ServiceError::Deleted(t)) => {
            return Err(Refusal::new(Status::Gone, "check_deleted")
                .with("closed", t.closed)
                .with("deleted", t.deleted))
        }
        Err(e) => return Err(e.into()),
    };
    let room = app
        .nojs_reading
        .room(crate::service::thread::stored_size(&record))
        .await?;
    let stored = crate::service::thread::stored(app, case, record).await?;
    let served = ServedThread {
        note: stored.note.as_deref(),
        report_sha256: &stored.record.report.sha256,
        messages: stored
            .messages
            .iter()
            .map(|(direction, day, ct)| ServedMessage {
                labelled: *direction,
                day: Some(*day),
                ciphertext: ct,
            })
            .collect(),
    };
    let thread = reporter
        .read_thread(&served)
        .map_err(|_| Refusal::new(Status::BadGateway, "nojs_cannot_open"))?;
    Ok(Opened {
        reporter,
        case: stored.case,
        status: stored.record.status,
        thread,
        _room: room,
    })
}

/// The thread page, with an optional error, a "sent" notice and the answer kept for
/// another try.
#[allow(clippy::too_many_arguments)] // each is one piece of what the page shows
fn thread_page(
    app: &App,
    pages: &Pages,
    lang: Lang,
    status: Status,
    opened: &Opened,
    error: Option<&'static str>,
    sent: bool,
    draft: Option<&str>,
) -> HtmlPage {
    let code = opened.reporter.code().to_grouped_string();
    let mut extra = json!({
        "case": opened.case,
        "status": opened.status,
        "code": code.as_str(),
        "thread": &opened.thread,
    });
    if let Some(key) = error {
        extra["error"] = pages.text(lang, key).into();
    }
    if sent {
        extra["sent"] = true.into();
    }
    if let Some(draft) = draft {
        extra["draft"] = draft.into();
    }
    render(app, pages, Page::NojsCheck, lang, status, extra)
}

fn code_page(app: &App, pages: &Pages, lang: Lang, refusal: Option<Refusal>) -> HtmlPage {
    match refusal {
        None => render(app, pages, Page::NojsCheck, lang, Status::Ok, json!({})),
        Some(r) => {
            let extra = json!({ "error": r.text(pages, lang) });
            render(app, pages, Page::NojsCheck, lang, r.status, extra)
        }
    }
}

/// The text fields of a small form, by name (wiped on drop).
async fn fields(
    content_type: Option<&ContentType>,
    declared: Option<u64>,
    data: Data<'_>,
    limit: u64,
    memory: &std::sync::Arc<super::form::Memory>,
) -> Result<Vec<(String, Zeroizing<String>)>, Refusal> {
    if declared.is_some_and(|n| n > limit) {
        return Err(Refusal::new(Status::PayloadTooLarge, "nojs_too_large"));
    }
    let mut form = FormReader::new(content_type, data, (limit, TEXT_LIMIT, 0), memory)?;
    let mut out = Vec::new();
    while let Some(part) = form.next().await? {
        if let Part::Text { name, value } = part {
            out.push((name, value));
        }
    }
    Ok(out)
}

fn field<'a>(fields: &'a [(String, Zeroizing<String>)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

// Rank 1: `/static/<name>` has the same shape and comes first.
#[get("/<lang>/check-nojs", rank = 1)]
fn form(lang: LangParam, app: &State<App>, pages: &State<Pages>) -> HtmlPage {
    code_page(app, pages, lang.0, None)
}

#[post("/<lang>/check-nojs", data = "<data>")]
async fn read(
    lang: LangParam,
    content_type: Option<&ContentType>,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
    pages: &State<Pages>,
) -> HtmlPage {
    let fields = match fields(content_type, declared.0, data, CODE_FORM_LIMIT, &app.nojs).await {
        Ok(f) => f,
        Err(r) => return code_page(app, pages, lang.0, Some(r)),
    };
    match open(app, field(&fields, "code")).await {
        Ok(opened) => thread_page(app, pages, lang.0, Status::Ok, &opened, None, false, None),
        Err(r) => code_page(app, pages, lang.0, Some(r)),
    }
}

/// What became of an answer before it is posted.
enum Sealed {
    /// Ready: the age file, the head it extends, the case.
    Ready(Vec<u8>, String, CaseNumber, Option<Vec<u8>>),
    /// Not sent; show the thread with this error (and the answer, to try again).
    Refused(Box<Opened>, &'static str, Status),
}

#[post("/<lang>/reply-nojs", data = "<data>")]
async fn reply(
    lang: LangParam,
    content_type: Option<&ContentType>,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
    pages: &State<Pages>,
) -> HtmlPage {
    let lang = lang.0;
    let fields = match fields(content_type, declared.0, data, REPLY_FORM_LIMIT, &app.nojs).await {
        Ok(f) => f,
        Err(r) => return code_page(app, pages, lang, Some(r)),
    };
    let (code, seen_head, text) = (
        field(&fields, "code"),
        field(&fields, "head"),
        field(&fields, "text"),
    );
    let (message, extends, case, note) = {
        let sealed: Result<Sealed, Refusal> = async {
            let mut opened = open(app, code).await?;
            if hex::encode(opened.thread.head) != seen_head {
                return Ok(Sealed::Refused(
                    Box::new(opened),
                    "check_stale",
                    Status::Conflict,
                ));
            }
            if !opened.thread.can_reply {
                return Ok(Sealed::Refused(
                    Box::new(opened),
                    "check_cannot_reply",
                    Status::Conflict,
                ));
            }
            app.gate.nojs(&*app.storage).await?;
            let text = Zeroizing::new(text.to_owned());
            match opened.reporter.seal_answer(text, app.storage.today()) {
                Ok(answer) => {
                    // The note to self, with this answer recorded (PROTOCOL.md §8.5).
                    let note = opened
                        .reporter
                        .note_after(&answer.ciphertext, app.storage.today())
                        .transpose()
                        .map_err(|e| Refusal::internal(format!("sealing the note: {e}")))?;
                    Ok(Sealed::Ready(
                        answer.ciphertext,
                        hex::encode(answer.extends),
                        opened.case.clone(),
                        note,
                    ))
                }
                Err(AnswerError::ContainsReturnCode) => Ok(Sealed::Refused(
                    Box::new(opened),
                    "nojs_reply_contains_code",
                    Status::BadRequest,
                )),
                Err(e) => Err(Refusal::internal(format!("sealing an answer: {e}"))),
            }
        }
        .await;
        match sealed {
            Ok(Sealed::Ready(message, extends, case, note)) => (message, extends, case, note),
            Ok(Sealed::Refused(opened, key, status)) => {
                return thread_page(
                    app,
                    pages,
                    lang,
                    status,
                    &opened,
                    Some(key),
                    false,
                    Some(text),
                )
            }
            Err(r) => return code_page(app, pages, lang, Some(r)),
        }
    };
    let posted = crate::service::thread::post(
        app,
        &case,
        meldpunt_crypto::Direction::FromReporter,
        crate::service::thread::REPORTER,
        &extends,
        &message,
    )
    .await;
    if let (Ok(_), Some(note)) = (&posted, &note) {
        if let Err(e) = crate::service::reports::store_note(app, &case, note).await {
            crate::log::error(format!("storing a no-JavaScript answer's note: {e}"));
        }
    }
    // Read the thread again, with the answer (or the message that arrived meanwhile).
    let opened = match open(app, code).await {
        Ok(o) => o,
        Err(r) => return code_page(app, pages, lang, Some(r)),
    };
    match posted {
        Ok(_) => thread_page(app, pages, lang, Status::Created, &opened, None, true, None),
        Err(ServiceError::Store(StoreError::StaleHead { .. })) => thread_page(
            app,
            pages,
            lang,
            Status::Conflict,
            &opened,
            Some("check_stale"),
            false,
            Some(text),
        ),
        Err(e) => {
            let r = Refusal::from_service(e);
            let key = r.key;
            thread_page(
                app,
                pages,
                lang,
                r.status,
                &opened,
                Some(key),
                false,
                Some(text),
            )
        }
    }
}

/// The routes of this page.
pub fn routes() -> Vec<Route> {
    routes![form, read, reply]
}
