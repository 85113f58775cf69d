//! The investigator's side, authorised by bearer tokens in request guards: list cases
//! with their deadlines, download one case as a streamed tar, post a message, move the
//! status forward, shred a closed case. Every action goes into the audit log.

use std::io::{self, Write};

use meldpunt_crypto::{CaseStatus, Day};
use rocket::data::Data;
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::stream::ByteStream;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::tokio::sync::mpsc;
use rocket::{delete, get, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use crate::body::{check_age, read_limited};
use crate::error::ApiError;
use crate::guards::{Authorized, CaseAccess, ContentLength, Extends};
use crate::ids::CaseNumber;
use crate::storage::records::CaseRecord;
use crate::App;
use meldpunt_crypto::Direction;

/// A case as investigators see it: metadata and deadlines, no content.
#[derive(Serialize, Clone)]
pub struct CaseSummary {
    case: CaseNumber,
    destination: String,
    received: Day,
    status: CaseStatus,
    acknowledged: Option<Day>,
    closed: Option<Day>,
    acknowledge_by: Day,
    feedback_by: Day,
    retention_until: Option<Day>,
    head: String,
    updated: Day,
    last_content: Day,
    attachments: usize,
    messages: usize,
}

fn summary(app: &App, case: &CaseNumber, r: &CaseRecord) -> CaseSummary {
    CaseSummary {
        case: case.clone(),
        destination: r.destination.clone(),
        received: r.received,
        status: r.status,
        acknowledged: r.acknowledged,
        closed: r.closed,
        acknowledge_by: r.acknowledge_by(),
        feedback_by: r.feedback_by(),
        retention_until: r.retention_until(
            app.settings.retention_days,
            app.settings.retention_grace_days,
        ),
        head: r.head().to_owned(),
        updated: r.updated,
        last_content: r.last_content,
        attachments: r.attachments.len(),
        messages: r.thread.len(),
    }
}

/// One file in a case download.
#[derive(Serialize)]
struct FileEntry {
    path: String,
    sha256: String,
    size: u64,
}

/// `case.json` in a download: the summary and the files with their hashes.
#[derive(Serialize)]
struct CaseManifest {
    #[serde(flatten)]
    summary: CaseSummary,
    files: Vec<FileEntry>,
}

fn audit(app: &App, who: &str, action: &str, case: Option<&CaseNumber>) -> Result<(), ApiError> {
    app.audit
        .append(
            app.storage.today(),
            who,
            action,
            case.map(CaseNumber::as_str),
        )
        .map(|_| ())
        .map_err(|e| ApiError::internal(e.to_string()))
}

#[get("/cases")]
fn list(who: Authorized, app: &State<App>) -> Result<Json<Vec<CaseSummary>>, ApiError> {
    audit(app, &who.0.name, "list", None)?;
    let mut out: Vec<CaseSummary> = app
        .storage
        .cases()?
        .iter()
        .filter(|(_, r)| who.0.sees(&r.destination))
        .map(|(c, r)| summary(app, c, r))
        .collect();
    // Oldest first, so what is due first is on top.
    out.sort_by(|a, b| a.received.cmp(&b.received).then(a.case.cmp(&b.case)));
    Ok(Json(out))
}

#[get("/cases/<_case>")]
fn show(
    _case: CaseNumber,
    access: CaseAccess,
    app: &State<App>,
) -> Result<Json<CaseSummary>, ApiError> {
    audit(app, &access.investigator.name, "view", Some(&access.case))?;
    Ok(Json(summary(app, &access.case, &access.record)))
}

/// A streamed tar download with a file name.
pub struct TarDownload<S> {
    stream: ByteStream<S>,
    name: String,
}

impl<'r, S> Responder<'r, 'r> for TarDownload<S>
where
    S: rocket::futures::Stream<Item = Vec<u8>> + Send + 'r,
{
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'r> {
        let mut resp = self.stream.respond_to(req)?;
        resp.set_header(ContentType::new("application", "x-tar"));
        resp.set_header(Header::new(
            "Content-Disposition",
            format!("attachment; filename=\"{}.tar\"", self.name),
        ));
        Ok(resp)
    }
}

/// A `Write` that hands 64 KiB pieces to the response stream; blocks (on its own
/// thread) while the client is slower than the disk, so memory stays bounded.
struct ChannelWriter {
    tx: mpsc::Sender<Vec<u8>>,
    buf: Vec<u8>,
}

const PIECE: usize = 64 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE));
        self.tx
            .blocking_send(piece)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

fn tar_header(size: u64, day: Day) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o600);
    // The day only, like every stamp Meldpunt writes.
    let secs = crate::clock::midnight(day)
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    h.set_mtime(secs);
    h.set_cksum();
    h
}

fn write_tar(
    storage: std::sync::Arc<crate::storage::Storage>,
    case: CaseNumber,
    record: CaseRecord,
    summary: CaseSummary,
    out: ChannelWriter,
) -> Result<(), String> {
    let mut files = vec![FileEntry {
        path: "report.age".into(),
        sha256: record.report.sha256.clone(),
        size: record.report.size,
    }];
    for (i, a) in record.attachments.iter().enumerate() {
        files.push(FileEntry {
            path: format!("attachments/{i:03}.age"),
            sha256: a.digest.sha256.clone(),
            size: a.digest.size,
        });
    }
    for (i, m) in record.thread.iter().enumerate() {
        files.push(FileEntry {
            path: format!("thread/{:04}-{}.age", i + 1, m.direction.as_str()),
            sha256: m.digest.sha256.clone(),
            size: m.digest.size,
        });
    }
    let manifest =
        serde_json::to_vec_pretty(&CaseManifest { summary, files }).map_err(|e| e.to_string())?;
    let mut tar = tar::Builder::new(out);
    let e = |e: io::Error| e.to_string();
    tar.append_data(
        &mut tar_header(manifest.len() as u64, record.updated),
        "case.json",
        manifest.as_slice(),
    )
    .map_err(e)?;
    let report = storage.report(&case).map_err(|e| e.to_string())?;
    tar.append_data(
        &mut tar_header(report.len() as u64, record.received),
        "report.age",
        report.as_slice(),
    )
    .map_err(e)?;
    for (i, a) in record.attachments.iter().enumerate() {
        let path = storage.attachment_path(a).map_err(|e| e.to_string())?;
        let file = std::fs::File::open(&path).map_err(e)?;
        tar.append_data(
            &mut tar_header(a.digest.size, record.received),
            format!("attachments/{i:03}.age"),
            io::Read::take(file, a.digest.size),
        )
        .map_err(e)?;
    }
    for (i, m) in record.thread.iter().enumerate() {
        let bytes = storage.message(&case, i + 1).map_err(|e| e.to_string())?;
        tar.append_data(
            &mut tar_header(bytes.len() as u64, m.day),
            format!("thread/{:04}-{}.age", i + 1, m.direction.as_str()),
            bytes.as_slice(),
        )
        .map_err(e)?;
    }
    let mut out = tar.into_inner().map_err(e)?;
    out.flush().map_err(e)
}

#[get("/cases/<_case>/download")]
fn download(
    _case: CaseNumber,
    access: CaseAccess,
    app: &State<App>,
) -> Result<TarDownload<impl rocket::futures::Stream<Item = Vec<u8>>>, ApiError> {
    audit(
        app,
        &access.investigator.name,
        "download",
        Some(&access.case),
    )?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
    let storage = app.storage.clone();
    let summary = summary(app, &access.case, &access.record);
    let name = access.case.to_string();
    let (case, record) = (access.case, access.record);
    rocket::tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(PIECE),
        };
        if let Err(e) = write_tar(storage, case, record, summary, writer) {
            // The stream ends without the tar trailer: the client sees it is incomplete.
            eprintln!("meldpunt-server: error: a case download stopped: {e}");
        }
    });
    Ok(TarDownload {
        stream: ByteStream(rocket::futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|piece| (piece, rx))
        })),
        name,
    })
}

#[post("/cases/<_case>/messages", data = "<data>")]
async fn message(
    _case: CaseNumber,
    access: CaseAccess,
    extends: Extends,
    declared: ContentLength,
    data: Data<'_>,
    app: &State<App>,
) -> Result<rocket::response::status::Custom<Json<crate::api::thread::Posted>>, ApiError> {
    let bytes = read_limited(data, app.settings.max_message, declared.0).await?;
    check_age(&bytes)?;
    let (seq, record) =
        app.storage
            .append_message(&access.case, Direction::ToReporter, &extends.0, &bytes)?;
    app.storage.flush().await?;
    audit(
        app,
        &access.investigator.name,
        "message",
        Some(&access.case),
    )?;
    Ok(crate::api::thread::posted(seq, &record))
}

/// The body of a status change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: CaseStatus,
}

#[post("/cases/<_case>/status", data = "<change>")]
async fn status(
    _case: CaseNumber,
    access: CaseAccess,
    change: Json<StatusChange>,
    app: &State<App>,
) -> Result<Json<CaseSummary>, ApiError> {
    let record = app.storage.set_status(&access.case, change.status)?;
    app.storage.flush().await?;
    let action = match change.status {
        CaseStatus::Received => "status_received",
        CaseStatus::Acknowledged => "status_acknowledged",
        CaseStatus::Investigating => "status_investigating",
        CaseStatus::Closed => "status_closed",
    };
    audit(app, &access.investigator.name, action, Some(&access.case))?;
    Ok(Json(summary(app, &access.case, &record)))
}

/// What a shred returns.
#[derive(Serialize)]
pub struct Shredded {
    shredded: CaseNumber,
}

#[delete("/cases/<_case>")]
async fn shred(
    _case: CaseNumber,
    access: CaseAccess,
    app: &State<App>,
) -> Result<Json<Shredded>, ApiError> {
    app.storage.shred(&access.case)?;
    app.storage.flush().await?;
    audit(app, &access.investigator.name, "shred", Some(&access.case))?;
    Ok(Json(Shredded {
        shredded: access.case,
    }))
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![list, show, download, message, status, shred]
}
