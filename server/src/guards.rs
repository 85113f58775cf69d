//! Request guards: every authorisation and every request header the API reads is
//! checked here, never by hand in a handler.

use meldpunt_crypto::{MailboxCredential, MailboxId};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::State;

use crate::admission::{Decision, Purpose};
use crate::ids::CaseNumber;
use crate::storage::records::CaseRecord;
use crate::tokens::Investigator;
use crate::App;

/// Header carrying the mailbox credential (64 hex digits).
pub const MAILBOX_HEADER: &str = meldpunt_wire::headers::MAILBOX;
/// Header naming the thread head a post extends.
pub const EXTENDS_HEADER: &str = meldpunt_wire::headers::EXTENDS;
/// Header giving how many bytes of an attachment the client already sent.
pub const OFFSET_HEADER: &str = meldpunt_wire::headers::OFFSET;
/// Header naming the destination of a report.
pub const DESTINATION_HEADER: &str = meldpunt_wire::headers::DESTINATION;
/// Header carrying a solved admission puzzle.
pub const ADMISSION_HEADER: &str = meldpunt_wire::headers::ADMISSION;

/// Why a guard refused: read by the catchers to tell the client (a message, and for
/// some refusals one more member of the JSON body).
pub struct GuardFailure(pub String, pub Option<(&'static str, serde_json::Value)>);

fn refuse<T>(req: &Request<'_>, status: Status, message: &str) -> request::Outcome<T, ()> {
    let message = message.to_owned();
    req.local_cache(|| GuardFailure(message, None));
    Outcome::Error((status, ()))
}

/// Which admission purpose a route's [`Admitted`] guard checks.
pub trait AdmissionPurpose: Send + Sync + 'static {
    /// The purpose.
    const PURPOSE: Purpose;
}

/// A report (`POST /reports`).
pub struct ForReport;
impl AdmissionPurpose for ForReport {
    const PURPOSE: Purpose = Purpose::Report;
}
/// A reporter's answer (`POST /thread`).
pub struct ForAnswer;
impl AdmissionPurpose for ForAnswer {
    const PURPOSE: Purpose = Purpose::Answer;
}
/// An upload session (`POST /uploads`).
pub struct ForSession;
impl AdmissionPurpose for ForSession {
    const PURPOSE: Purpose = Purpose::Session;
}
/// Attachment bytes (`PUT /uploads/<n>`).
pub struct ForUpload;
impl AdmissionPurpose for ForUpload {
    const PURPOSE: Purpose = Purpose::Upload;
}

/// The request may go ahead: free while the drop box is quiet, with a solved puzzle
/// (`Meldpunt-Admission`) under load. Refused with 429 and the puzzle to solve.
pub struct Admitted<P>(std::marker::PhantomData<P>);

#[rocket::async_trait]
impl<'r, P: AdmissionPurpose> FromRequest<'r> for Admitted<P> {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let app = match req.guard::<&State<App>>().await {
            Outcome::Success(app) => app,
            _ => return Outcome::Error((Status::InternalServerError, ())),
        };
        let presented = req.headers().get_one(ADMISSION_HEADER);
        match app.gate.admit(&*app.storage, P::PURPOSE, presented).await {
            Ok(Decision::Admitted) => Outcome::Success(Admitted(std::marker::PhantomData)),
            Ok(Decision::Solve(challenge, why)) => {
                let extra = serde_json::to_value(&challenge)
                    .ok()
                    .map(|v| ("admission", v));
                req.local_cache(|| GuardFailure(why.to_owned(), extra));
                Outcome::Error((Status::TooManyRequests, ()))
            }
            Err(e) => {
                crate::log::error(e);
                refuse(
                    req,
                    Status::InternalServerError,
                    "admission cannot be checked",
                )
            }
        }
    }
}

/// The reporter's mailbox, from the credential in the `Meldpunt-Mailbox` header. Only
/// its hash (the mailbox id) leaves this guard; the credential is zeroized on drop.
pub struct Mailbox(pub MailboxId);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Mailbox {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let Some(value) = req.headers().get_one(MAILBOX_HEADER) else {
            return refuse(
                req,
                Status::Unauthorized,
                "send the mailbox credential (derived from the return code) in the Meldpunt-Mailbox header",
            );
        };
        match MailboxCredential::from_header_value(value) {
            Some(credential) => Outcome::Success(Mailbox(credential.mailbox_id())),
            None => refuse(
                req,
                Status::Unauthorized,
                "the Meldpunt-Mailbox header must be 64 hexadecimal digits",
            ),
        }
    }
}

/// An investigator, from `Authorization: Bearer <token>`.
pub struct Authorized(pub Investigator);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Authorized {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let app = match req.guard::<&State<App>>().await {
            Outcome::Success(app) => app,
            _ => return Outcome::Error((Status::InternalServerError, ())),
        };
        let Some(token) = req
            .headers()
            .get_one("Authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return refuse(
                req,
                Status::Unauthorized,
                "send an investigator token: Authorization: Bearer <token>",
            );
        };
        match app.tokens.authenticate(token.trim()).await {
            Ok(Some(investigator)) => Outcome::Success(Authorized(investigator)),
            Ok(None) => refuse(
                req,
                Status::Unauthorized,
                "this token is not valid (wrong or revoked)",
            ),
            Err(e) => {
                crate::log::error(e);
                refuse(
                    req,
                    Status::InternalServerError,
                    "the token store cannot be read",
                )
            }
        }
    }
}

/// A case the investigator's token may see: the `<case>` in `/api/v1/cases/<case>…`.
pub struct CaseAccess {
    /// Who.
    pub investigator: Investigator,
    /// Which case.
    pub case: CaseNumber,
    /// The case as stored when the request began.
    pub record: CaseRecord,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CaseAccess {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let investigator = match req.guard::<Authorized>().await {
            Outcome::Success(Authorized(i)) => i,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        let app = match req.guard::<&State<App>>().await {
            Outcome::Success(app) => app,
            _ => return Outcome::Error((Status::InternalServerError, ())),
        };
        // Segments after the /api/v1 mount point: "cases", "<case>", …
        let case = match req.param::<CaseNumber>(1) {
            Some(Ok(case)) => case,
            _ => return refuse(req, Status::NotFound, "not a case number"),
        };
        match app.storage.case(&case).await {
            Ok(Some(record)) if investigator.sees(&record.destination) => {
                Outcome::Success(CaseAccess {
                    investigator,
                    case,
                    record,
                })
            }
            Ok(Some(_)) => refuse(
                req,
                Status::Forbidden,
                "this case went to a destination your token does not cover",
            ),
            Ok(None) => refuse(req, Status::NotFound, "no such case"),
            Err(e) => {
                crate::log::error(e);
                refuse(req, Status::InternalServerError, "the case cannot be read")
            }
        }
    }
}

/// The thread head a post extends (`Meldpunt-Extends`: 64 lower-case hex digits).
pub struct Extends(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Extends {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req.headers().get_one(EXTENDS_HEADER) {
            Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Outcome::Success(Extends(v.to_ascii_lowercase()))
            }
            _ => refuse(
                req,
                Status::BadRequest,
                "name the thread head this post extends in the Meldpunt-Extends header (64 hex digits)",
            ),
        }
    }
}

/// How many bytes of the attachment the client has sent before (`Meldpunt-Offset`).
pub struct Offset(pub u64);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Offset {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req
            .headers()
            .get_one(OFFSET_HEADER)
            .map(|v| v.trim().parse::<u64>())
        {
            Some(Ok(n)) => Outcome::Success(Offset(n)),
            _ => refuse(
                req,
                Status::BadRequest,
                "give the number of bytes already sent in the Meldpunt-Offset header",
            ),
        }
    }
}

/// The report's destination (`Meldpunt-Destination`), one the server offers.
pub struct DestinationName(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for DestinationName {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let app = match req.guard::<&State<App>>().await {
            Outcome::Success(app) => app,
            _ => return Outcome::Error((Status::InternalServerError, ())),
        };
        match req.headers().get_one(DESTINATION_HEADER) {
            Some(name) if app.destinations.get(name).is_some() => {
                Outcome::Success(DestinationName(name.to_owned()))
            }
            Some(_) => refuse(req, Status::BadRequest, "no such destination"),
            None => refuse(
                req,
                Status::BadRequest,
                "name the report's destination in the Meldpunt-Destination header",
            ),
        }
    }
}

/// The declared body length (`Content-Length`), if any: lets a route refuse an oversize
/// body before reading a byte of it.
pub struct ContentLength(pub Option<u64>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ContentLength {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req
            .headers()
            .get_one("Content-Length")
            .map(|v| v.trim().parse::<u64>())
        {
            None => Outcome::Success(ContentLength(None)),
            Some(Ok(n)) => Outcome::Success(ContentLength(Some(n))),
            Some(Err(_)) => refuse(
                req,
                Status::BadRequest,
                "the Content-Length header is not a number",
            ),
        }
    }
}
