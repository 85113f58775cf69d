//! `GET /<lang>/report-nojs`: the plain form; `POST /<lang>/report-nojs`: the report and
//! its documents in plaintext, encrypted here on arrival and filed exactly as a report
//! from the browser (the upload session, `api::reports::file_report`, the note to
//! self). Without the reporter's explicit consent nothing is encrypted or stored.

use std::io::Write;

use meldpunt_crypto::{
    encrypt_attachment, seal_report, seal_reporter_note, AttachmentEntry, Category, Day,
    EncryptedBy, MailboxId, ReportContent, ReporterKeys, ReporterNote, ReturnCode,
};
use meldpunt_pages::{Page, Pages};
use rand::rngs::OsRng;
use rocket::data::Data;
use rocket::http::{ContentType, Status};
use rocket::{get, post, routes, Route, State};
use serde::de::value::{Error as DeError, StrDeserializer};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::form::{FormReader, Part};
use super::hidden;
use super::secret::SecretBuf;
use super::{render, HtmlPage, Limits, Refusal, TEXT_LIMIT};
use crate::config::OfferedDestination;
use crate::guards::ContentLength;
use crate::ids::CaseNumber;
use crate::limits::ensure_disk;
use crate::pages::LangParam;
use crate::service::{reports, ServiceError};
use crate::App;

/// What the result page shows.
struct Receipt {
    code: Zeroizing<String>,
    case: CaseNumber,
    received: Day,
    documents: usize,
    /// What became of each document's hidden data (see [`DocumentOutcome`]).
    hidden_data: Vec<serde_json::Value>,
}

fn form_page(
    app: &App,
    pages: &Pages,
    lang: LangParam,
    status: Status,
    error: Option<String>,
) -> HtmlPage {
    let limits = Limits::of(app);
    let mut extra = json!({
        "limit": size_text(limits.document),
        "max_documents": limits.documents,
        "once": super::once::token(),
    });
    if let Some(error) = error {
        extra["error"] = error.into();
    }
    render(app, pages, Page::NojsReport, lang.0, status, extra)
}

/// A size as the form states it, in the units people know: whole "MB", else whole
/// "KB" (counted in binary units and rounded down, so the stated limit is never more
/// than what is allowed).
fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    if bytes >= KIB * KIB {
        format!("{} MB", bytes / (KIB * KIB))
    } else {
        format!("{} KB", bytes / KIB)
    }
}

// Rank 1: `/static/<name>` has the same shape and comes first.
#[get("/<lang>/report-nojs", rank = 1)]
fn form(lang: LangParam, app: &State<App>, pages: &State<Pages>) -> HtmlPage {
    form_page(app, pages, lang, Status::Ok, None)
}

#[post("/<lang>/report-nojs", data = "<data>")]
async fn submit(
    lang: LangParam,
    content_type: Option<&ContentType>,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
    pages: &State<Pages>,
) -> HtmlPage {
    match receive(app, content_type, declared.0, data).await {
        Ok(receipt) => {
            let extra = json!({
                "code": receipt.code.as_str(),
                "case": receipt.case,
                "received": receipt.received,
                "documents": receipt.documents,
                "hidden_data": hidden::with_labels(receipt.hidden_data, pages, lang.0),
            });
            render(app, pages, Page::NojsResult, lang.0, Status::Created, extra)
        }
        Err(refusal) => {
            let text = refusal.text(pages, lang.0);
            form_page(app, pages, lang, refusal.status, Some(text))
        }
    }
}

async fn receive(
    app: &App,
    content_type: Option<&ContentType>,
    declared: Option<u64>,
    data: Data<'_>,
) -> Result<Receipt, Refusal> {
    let limits = Limits::of(app);
    // 413 before a byte of the body is read.
    if declared.is_some_and(|n| n > limits.body) {
        return Err(Refusal::new(Status::PayloadTooLarge, "nojs_too_large"));
    }
    app.gate.nojs(&*app.storage).await?;
    ensure_disk(
        app.storage.free_space()?,
        declared.unwrap_or(0),
        app.settings.min_free_disk.as_u64(),
    )?;
    let mut form = FormReader::new(
        content_type,
        data,
        (limits.body, TEXT_LIMIT, limits.document as usize),
        &app.nojs,
    )?;

    // The server makes the return code, as the browser would.
    let code = ReturnCode::generate(&mut OsRng);
    let keys = ReporterKeys::derive_from(&code);
    let mailbox = keys.credential().mailbox_id();
    match read_and_file(app, &mut form, &keys, &mailbox, limits).await {
        Ok((case, received, documents, hidden_data)) => Ok(Receipt {
            code: code.to_grouped_string(),
            case,
            received,
            documents,
            hidden_data,
        }),
        Err(refusal) => {
            // Whatever was encrypted before the refusal goes too.
            let _writing = app.writes.writing().await;
            if let Err(e) = app.storage.discard_session(&mailbox).await {
                crate::log::error(format!(
                    "discarding an unfinished no-JavaScript upload: {e}"
                ));
            }
            Err(refusal)
        }
    }
}

/// The form's fields as they arrive. Documents are encrypted as they arrive, so the
/// consent and the destination must come before them (they do, in the form's order).
async fn read_and_file(
    app: &App,
    form: &mut FormReader<'_>,
    keys: &ReporterKeys,
    mailbox: &MailboxId,
    limits: Limits,
) -> Result<(CaseNumber, Day, usize, Vec<serde_json::Value>), Refusal> {
    let mut consent = false;
    // The form asks before the documents (they are encrypted as they arrive); removing
    // hidden data is the default, also when the field is missing.
    let mut clean_documents = true;
    let mut hidden_data = Vec::new();
    let mut destination: Option<&OfferedDestination> = None;
    let mut category = Category::Other;
    let mut concerning = Zeroizing::new(String::new());
    let mut description = Zeroizing::new(String::new());
    let mut when_where = Zeroizing::new(String::new());
    let mut contact = Zeroizing::new(String::new());
    let mut attachments: Vec<AttachmentEntry> = Vec::new();
    // The form's one-time token (first in the form; a client that sends none is not
    // protected against sending twice).
    let mut once: Option<Zeroizing<String>> = None;
    let already_sent = || Refusal::new(Status::Conflict, "nojs_already_sent");
    while let Some(part) = form.next().await? {
        match part {
            Part::Text { name, value } => match name.as_str() {
                super::once::FIELD => {
                    if app.filed_forms.filed(&value) {
                        return Err(already_sent());
                    }
                    once = Some(value);
                }
                "consent" => consent = value.as_str() == "yes",
                "destination" => {
                    destination = Some(
                        app.destinations
                            .get(value.as_str())
                            .ok_or(Refusal::new(Status::BadRequest, "nojs_no_destination"))?,
                    )
                }
                "category" => {
                    category =
                        Category::deserialize(StrDeserializer::<DeError>::new(value.as_str()))
                            .map_err(|_| Refusal::new(Status::BadRequest, "nojs_bad_form"))?
                }
                "concerning" => concerning = value,
                "description" => description = value,
                "when_where" => when_where = value,
                "contact" => contact = value,
                "metadata" => clean_documents = value.as_str() != "keep",
                // Anything else is dropped (and wiped) unread.
                _ => {}
            },
            Part::File {
                name,
                file_name,
                bytes,
            } => {
                // A file input left empty still sends an empty part.
                if name != "files" || (file_name.is_empty() && bytes.is_empty()) {
                    continue;
                }
                if !consent {
                    return Err(Refusal::new(Status::BadRequest, "nojs_consent_missing"));
                }
                let to =
                    destination.ok_or(Refusal::new(Status::BadRequest, "nojs_no_destination"))?;
                if attachments.len() as u32 >= limits.documents {
                    return Err(Refusal::new(Status::PayloadTooLarge, "nojs_too_many"));
                }
                let n = attachments.len() as u32;
                let size = bytes.len() as u64;
                let (bytes, record, outcome) =
                    hidden::handle(&file_name, bytes, clean_documents).await?;
                hidden_data.push(outcome.to_json(&file_name));
                let entry = store_document(app, mailbox, n, to, file_name, bytes).await?;
                attachments.push(entry.with_metadata(record));
                // The document is encrypted and wiped: its memory is free for others.
                form.release(size);
            }
        }
    }
    if !consent {
        return Err(Refusal::new(Status::BadRequest, "nojs_consent_missing"));
    }
    let to = destination.ok_or(Refusal::new(Status::BadRequest, "nojs_no_destination"))?;
    if description.trim().is_empty() {
        return Err(Refusal::new(Status::BadRequest, "nojs_no_description"));
    }
    let date = app.storage.today();
    let content = ReportContent {
        category,
        concerning: std::mem::take(&mut *concerning),
        description: std::mem::take(&mut *description),
        when_where: std::mem::take(&mut *when_where),
        contact: Some(std::mem::take(&mut *contact)).filter(|c| !c.trim().is_empty()),
        attachments,
        date,
        encrypted_by: EncryptedBy::Server,
    };
    let report = seal_report(&content, keys, &to.destination).map_err(Refusal::internal)?;
    drop(content);
    // Checked again: the same form may have been filed while this one arrived.
    if once.as_ref().is_some_and(|t| app.filed_forms.filed(t)) {
        return Err(already_sent());
    }
    let filed = reports::file(app, mailbox, &to.destination.name, &report).await?;
    if let Some(token) = &once {
        app.filed_forms.remember(token);
    }
    // The note to self, as the browser seals it: where replies go.
    let note = ReporterNote::for_report(&to.destination, &report, date);
    let stored = match seal_reporter_note(&note, keys) {
        Ok(note) => reports::store_note(app, &filed.case, &note).await,
        Err(e) => Err(ServiceError::Internal(format!(
            "sealing a note to self: {e}"
        ))),
    };
    // The report is filed: the reporter gets the code even if the note failed (replies
    // then wait for a bureau message that names its recipients).
    if let Err(e) = stored {
        let detail = match &e {
            ServiceError::Internal(detail) => detail.clone(),
            other => other.to_string(),
        };
        crate::log::error(format!(
            "a no-JavaScript report was filed without its note to self: {detail}"
        ));
    }
    let documents = filed.record.attachments.len();
    Ok((filed.case, filed.record.received, documents, hidden_data))
}

/// Encrypts one document (held whole in memory, see the module docs of `nojs`) into the
/// next attachment of the mailbox's upload session, slice by slice as the browser would,
/// and finishes it there.
async fn store_document(
    app: &App,
    mailbox: &MailboxId,
    n: u32,
    to: &OfferedDestination,
    mut file_name: Zeroizing<String>,
    bytes: SecretBuf,
) -> Result<AttachmentEntry, Refusal> {
    /// Plaintext encrypted per step: the ciphertext of one step is held at a time.
    const SLICE: usize = 1024 * 1024;
    let size = bytes.len() as u64;
    ensure_disk(
        app.storage.free_space()?,
        size,
        crate::limits::upload_reserve(app.settings.min_free_disk.as_u64()),
    )?;
    let writing = app.writes.writing().await;
    if n == 0 {
        app.storage.open_session(mailbox).await?;
    }
    let mut writer = app
        .storage
        .write_attachment(mailbox, n, app.settings.max_attachments)
        .await?;
    drop(writing);
    // Encrypted on a blocking thread (age's streaming writer), handed over in pieces.
    let (tx, mut rx) = rocket::tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let recipients = to.destination.recipients().to_vec();
    let encrypting = rocket::tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::with_capacity(SLICE, PieceSender(tx));
        let digest = encrypt_attachment(&recipients, bytes.as_slice(), size, &mut out)
            .map_err(|e| format!("encrypting a document: {e}"))?;
        out.flush()
            .map_err(|e| format!("encrypting a document: {e}"))?;
        // The plaintext is wiped here, as soon as it is encrypted.
        drop(bytes);
        Ok::<_, String>(digest)
    });
    while let Some(piece) = rx.recv().await {
        writer.write(&piece).await?;
    }
    let digest = encrypting
        .await
        .map_err(Refusal::internal)?
        .map_err(Refusal::internal)?;
    writer.keep().await?;
    let stored = crate::service::uploads::finish(app, mailbox, n).await?;
    if stored.sha256 != hex::encode(digest.sha256) || stored.size != digest.size {
        return Err(Refusal::internal(
            "an attachment file does not hold what was encrypted",
        ));
    }
    app.gate
        .count(
            &*app.storage,
            crate::admission::Purpose::Upload,
            size.div_ceil(1024 * 1024),
        )
        .await?;
    Ok(AttachmentEntry {
        name: std::mem::take(&mut *file_name),
        size,
        ciphertext_size: digest.size,
        ciphertext_sha256: hex::encode(digest.sha256),
        metadata: None,
    })
}

/// Hands the encrypted pieces from the blocking thread to the request's task.
struct PieceSender(rocket::tokio::sync::mpsc::Sender<Vec<u8>>);

impl Write for PieceSender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(buf.to_vec())
            .map_err(|_| std::io::Error::other("the request ended"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The routes of this page.
pub fn routes() -> Vec<Route> {
    routes![form, submit]
}
