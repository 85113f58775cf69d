//! The investigator's side, authorised by bearer tokens in request guards: list cases
//! with their deadlines, download one case as a streamed tar, post a message, move the
//! status forward, shred a closed case (the operations: `crate::service::cases`).

use std::io::{self, Write};

use meldpunt_wire::reporter::Posted;
use meldpunt_wire::{CaseNumber, CaseSummary, StatusChange};
use rocket::data::Data;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::status::Custom;
use rocket::response::stream::ByteStream;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::tokio::sync::mpsc;
use rocket::{delete, get, post, routes, Route, State};
use serde::Serialize;

use crate::body::read_limited;
use crate::error::ApiError;
use crate::guards::{Authorized, CaseAccess, ContentLength, Extends};
use crate::service::cases;
use crate::App;

#[get("/cases")]
async fn list(who: Authorized, app: &State<App>) -> Result<Json<Vec<CaseSummary>>, ApiError> {
    Ok(Json(cases::list(app, &who.0).await?))
}

#[get("/cases/<_case>")]
async fn show(
    _case: CaseNumber,
    access: CaseAccess,
    app: &State<App>,
) -> Result<Json<CaseSummary>, ApiError> {
    Ok(Json(
        cases::show(app, &access.investigator, &access.case, &access.record).await?,
    ))
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

#[get("/cases/<_case>/download")]
async fn download(
    _case: CaseNumber,
    access: CaseAccess,
    app: &State<App>,
) -> Result<TarDownload<impl rocket::futures::Stream<Item = Vec<u8>>>, ApiError> {
    let download = cases::download(app, &access.investigator, access.case, access.record).await?;
    let name = download.case.to_string();
    let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
    let app = app.inner().clone();
    rocket::tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(PIECE),
        };
        if let Err(e) = download.write(&app, writer) {
            // The stream ends without the tar trailer: the client sees it is incomplete.
            crate::log::error(format!("a case download stopped: {e}"));
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
) -> Result<Custom<Json<Posted>>, ApiError> {
    let bytes = read_limited(data, app.settings.max_message, declared.0).await?;
    let (seq, record) =
        cases::post(app, &access.investigator, &access.case, &extends.0, &bytes).await?;
    Ok(crate::api::thread::posted(seq, &record))
}

#[post("/cases/<_case>/status", data = "<change>")]
async fn status(
    _case: CaseNumber,
    access: CaseAccess,
    change: Json<StatusChange>,
    app: &State<App>,
) -> Result<Json<CaseSummary>, ApiError> {
    Ok(Json(
        cases::set_status(app, &access.investigator, &access.case, change.status).await?,
    ))
}

/// What a shred returns: shredded (200), or requested and waiting for a second,
/// different investigator (202).
#[derive(Serialize)]
pub struct Shredded {
    #[serde(skip_serializing_if = "Option::is_none")]
    shredded: Option<CaseNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested: Option<CaseNumber>,
}

#[delete("/cases/<_case>")]
async fn shred(
    _case: CaseNumber,
    access: CaseAccess,
    app: &State<App>,
) -> Result<Custom<Json<Shredded>>, ApiError> {
    Ok(
        match cases::shred(app, &access.investigator, &access.case, &access.record).await? {
            cases::Shred::Done => Custom(
                Status::Ok,
                Json(Shredded {
                    shredded: Some(access.case),
                    requested: None,
                }),
            ),
            cases::Shred::Requested => Custom(
                Status::Accepted,
                Json(Shredded {
                    shredded: None,
                    requested: Some(access.case),
                }),
            ),
        },
    )
}

/// The routes of this area.
pub fn routes() -> Vec<Route> {
    routes![list, show, download, message, status, shred]
}
