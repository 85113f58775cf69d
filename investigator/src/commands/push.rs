//! `meldpunt push`: uploads the outbox (messages to reporters and status changes, see
//! [`crate::upload`]) and marks what the server accepted, saving the outbox after every
//! item so an interruption never sends anything twice.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::Day;
use meldpunt_wire::CaseNumber;

use crate::bundle::{Bundle, BundleError};
use crate::http::{HttpError, Server};
use crate::outbox::{Item, Outbox, State};
use crate::upload::{send_item, Outcome, SendError};

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

impl From<SendError> for PushError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Http(e) => PushError::Http(e),
            SendError::Bundle(e) => PushError::Bundle(e),
        }
    }
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
    let listed = server.case_list()?.cases;
    let mut sent = 0;
    let mut problems = Vec::new();
    let mut stale_cases: HashSet<CaseNumber> = HashSet::new();
    for i in 0..outbox.items.len() {
        if outbox.items[i].state() != State::Queued {
            continue;
        }
        let item = outbox.items[i].clone();
        let case = item.case().clone();
        // After one stale message, the case's later ones extend it: stale too.
        let outcome = if matches!(item, Item::Message { .. }) && stale_cases.contains(&case) {
            Outcome::Stale
        } else {
            send_item(&server, &bundle, &item, &listed)?
        };
        let what = describe(&item);
        match outcome {
            Outcome::Sent { note } => {
                outbox.items[i].set_state(State::Sent, today);
                sent += 1;
                println!("{case}: sent {what}");
                if let Some(note) = note {
                    eprintln!("{case}: {note}");
                }
            }
            Outcome::Stale => {
                outbox.items[i].set_state(State::Stale, today);
                problems.push(format!(
                    "{case}: {what} NOT sent: the thread moved on since you wrote it (another \
                     investigator or the reporter wrote first), and a message is never forced \
                     onto a thread its author has not read. Run `meldpunt pull`, read the new \
                     messages with `meldpunt open`, then write your reply again with \
                     `meldpunt reply` (the old one is marked stale and will not be sent)."
                ));
                stale_cases.insert(case);
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

fn describe(item: &Item) -> String {
    match item {
        Item::Message { file, .. } => format!("the message {file}"),
        Item::Status { status, .. } => {
            format!("the status change to \"{}\"", status.as_str())
        }
    }
}
