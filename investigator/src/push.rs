//! `meldpunt push`: uploads the outbox (messages to reporters and status changes) and
//! marks what the server accepted. A message whose thread moved on meanwhile is never
//! forced: it is marked stale, and the investigator is told what to do.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::Day;
use serde::Deserialize;

use crate::bundle::{read_envelope, Bundle, BundleError};
use crate::cases::status_word;
use crate::http::{HttpError, Server};
use crate::outbox::{Item, Outbox, State};

/// Why `push` failed or did not send everything.
#[derive(Debug)]
#[non_exhaustive]
pub enum PushError {
    /// Talking to the server failed.
    Http(HttpError),
    /// The bundle could not be read or written.
    Bundle(BundleError),
    /// Some items were not sent.
    NotSent {
        /// One line per item.
        problems: Vec<String>,
    },
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Http(e) => write!(f, "{e}; what was sent before this is marked sent"),
            PushError::Bundle(e) => e.fmt(f),
            PushError::NotSent { problems } => {
                write!(f, "{} item(s) were not sent:", problems.len())?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PushError {}

impl From<HttpError> for PushError {
    fn from(e: HttpError) -> Self {
        PushError::Http(e)
    }
}

impl From<BundleError> for PushError {
    fn from(e: BundleError) -> Self {
        PushError::Bundle(e)
    }
}

#[derive(Deserialize)]
struct Listing {
    case: String,
    #[serde(default)]
    head: Option<String>,
}

/// `meldpunt push --server URL --token-file FILE BUNDLE_DIR`.
pub fn push(server_url: &str, token_file: &Path, bundle_dir: &Path) -> Result<ExitCode, PushError> {
    let server = Server::new(server_url, token_file)?;
    let bundle = Bundle::open(bundle_dir)?;
    let mut outbox = Outbox::read(&bundle)?;
    let today = Day::today();
    if !outbox.items.iter().any(|i| i.state() == State::Queued) {
        println!("The outbox holds nothing to send.");
        return Ok(ExitCode::SUCCESS);
    }
    // The server's heads, to recognise a message an interrupted push already delivered.
    let listings: Vec<Listing> = server.get_json("/api/v1/cases", "the case list request")?;
    let mut sent = 0;
    let mut problems = Vec::new();
    let mut stale_cases: HashSet<String> = HashSet::new();
    for i in 0..outbox.items.len() {
        if outbox.items[i].state() != State::Queued {
            continue;
        }
        let item = outbox.items[i].clone();
        let case = item.case().to_owned();
        let outcome = match &item {
            Item::Message {
                file,
                extends,
                sha256,
                ..
            } => {
                if stale_cases.contains(&case) {
                    Outcome::Stale
                } else {
                    let body = read_envelope(&bundle.outbox_dir().join(file))?;
                    let answer = server.post(
                        &format!("/api/v1/cases/{case}/messages"),
                        "application/octet-stream",
                        &[("Meldpunt-Extends", extends.as_str())],
                        &body,
                    )?;
                    match answer.status {
                        200..=299 => Outcome::Sent,
                        409 => {
                            let delivered = listings.iter().any(|l| {
                                l.case == case
                                    && l.head
                                        .as_deref()
                                        .is_some_and(|h| h.eq_ignore_ascii_case(sha256))
                            });
                            if delivered {
                                Outcome::Sent
                            } else {
                                Outcome::Stale
                            }
                        }
                        404 => Outcome::Failed(format!("the server has no case {case}")),
                        status => Outcome::Failed(format!("HTTP {status}: {}", answer.message())),
                    }
                }
            }
            Item::Status { status, .. } => {
                let body = serde_json::to_vec(&serde_json::json!({ "status": status }))
                    .unwrap_or_default();
                let answer = server.post(
                    &format!("/api/v1/cases/{case}/status"),
                    "application/json",
                    &[],
                    &body,
                )?;
                match answer.status {
                    200..=299 => Outcome::Sent,
                    404 => Outcome::Failed(format!("the server has no case {case}")),
                    // A change the server will never accept (e.g. reopening a closed
                    // case) is dropped rather than retried forever.
                    status @ (400 | 409 | 422) => {
                        Outcome::Refused(format!("HTTP {status}: {}", answer.message()))
                    }
                    status => Outcome::Failed(format!("HTTP {status}: {}", answer.message())),
                }
            }
        };
        let what = describe(&item);
        match outcome {
            Outcome::Sent => {
                outbox.items[i].set_state(State::Sent, today);
                sent += 1;
                println!("{case}: sent {what}");
            }
            Outcome::Stale => {
                outbox.items[i].set_state(State::Stale, today);
                stale_cases.insert(case.clone());
                problems.push(format!(
                    "{case}: {what} NOT sent: the thread moved on since you wrote it (another \
                     investigator or the reporter wrote first), and a message is never forced \
                     onto a thread its author has not read. Run `meldpunt pull`, read the new \
                     messages with `meldpunt open`, then write your reply again with \
                     `meldpunt reply` (the old one is marked stale and will not be sent)."
                ));
            }
            Outcome::Refused(why) => {
                outbox.items[i].set_state(State::Stale, today);
                problems.push(format!(
                    "{case}: the server refused {what} ({why}); it is dropped from the outbox"
                ));
            }
            Outcome::Failed(why) => problems.push(format!(
                "{case}: {what} not sent: {why}; it stays queued for the next push"
            )),
        }
        // Saved after every item, so an interruption never sends anything twice.
        outbox.write(&bundle)?;
    }
    println!("Sent {sent} item(s) to {}.", server.url());
    if problems.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(PushError::NotSent { problems })
    }
}

enum Outcome {
    Sent,
    Stale,
    Refused(String),
    Failed(String),
}

fn describe(item: &Item) -> String {
    match item {
        Item::Message { file, .. } => format!("the message {file}"),
        Item::Status { status, .. } => format!("the status change to \"{}\"", status_word(*status)),
    }
}
