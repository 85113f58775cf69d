//! Sending the outbox's items to the server, one at a time. A message whose thread
//! moved on since it was written is never forced: the server refuses it (409) and it
//! becomes stale, unless the server's head shows an interrupted push already delivered
//! it.

use meldpunt_wire::reporter::Posted;
use meldpunt_wire::CaseSummary;

use crate::bundle::{read_envelope, Bundle, BundleError};
use crate::http::{HttpError, Server};
use crate::outbox::Item;

/// What became of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted it.
    Sent {
        /// Something about the server's answer that does not add up, if anything.
        note: Option<String>,
    },
    /// The thread moved on since the message was written; it will never be sent.
    Stale,
    /// The server will never accept it (e.g. reopening a closed case): dropped.
    Refused(String),
    /// Not sent this time; it stays queued.
    Failed(String),
}

/// Why an item could not even be tried.
#[derive(Debug)]
pub enum SendError {
    /// Talking to the server failed.
    Http(HttpError),
    /// The item's file could not be read.
    Bundle(BundleError),
}

impl From<HttpError> for SendError {
    fn from(e: HttpError) -> Self {
        SendError::Http(e)
    }
}

impl From<BundleError> for SendError {
    fn from(e: BundleError) -> Self {
        SendError::Bundle(e)
    }
}

/// Sends one queued item. `listed` is the server's case list from before the push
/// (its heads show a message an interrupted push already delivered).
pub fn send_item(
    server: &Server,
    bundle: &Bundle,
    item: &Item,
    listed: &[CaseSummary],
) -> Result<Outcome, SendError> {
    match item {
        Item::Message {
            case,
            file,
            extends,
            sha256,
            ..
        } => {
            let body = read_envelope(&bundle.outbox_dir().join(file))?;
            let answer = server.post_message(case, extends, &body)?;
            Ok(match answer.status {
                200..=299 => Outcome::Sent {
                    note: check_posted(answer.json::<Posted>(), sha256),
                },
                409 => {
                    let delivered = listed
                        .iter()
                        .any(|l| l.case == *case && l.head.eq_ignore_ascii_case(sha256));
                    if delivered {
                        Outcome::Sent { note: None }
                    } else {
                        Outcome::Stale
                    }
                }
                404 => Outcome::Failed(format!("the server has no case {case}")),
                status => Outcome::Failed(format!("HTTP {status}: {}", answer.message())),
            })
        }
        Item::Status { case, status, .. } => {
            let answer = server.post_status(case, *status)?;
            Ok(match answer.status {
                200..=299 => Outcome::Sent { note: None },
                404 => Outcome::Failed(format!("the server has no case {case}")),
                // A change the server will never accept (e.g. reopening a closed case)
                // is dropped rather than retried forever.
                status @ (400 | 409 | 422) => {
                    Outcome::Refused(format!("HTTP {status}: {}", answer.message()))
                }
                status => Outcome::Failed(format!("HTTP {status}: {}", answer.message())),
            })
        }
    }
}

/// What is wrong with the server's answer to a posted message, if anything: it should
/// name the file that was sent.
fn check_posted(posted: Option<Posted>, sha256: &str) -> Option<String> {
    match posted {
        Some(p) if p.sha256.eq_ignore_ascii_case(sha256) => None,
        Some(p) => Some(format!(
            "the server says it stored another file ({}) as message {}; pull and open the \
             case to see what the thread holds",
            p.sha256.chars().take(64).collect::<String>(),
            p.seq_in_thread
        )),
        None => Some(
            "the server's answer does not say what it stored; pull and open the case to \
             check the thread"
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_answer_must_name_the_file_sent() {
        let posted = |sha: &str| Posted {
            seq_in_thread: 3,
            sha256: sha.into(),
            head: sha.into(),
        };
        assert_eq!(check_posted(Some(posted("ABCD")), "abcd"), None);
        assert!(check_posted(Some(posted("ef01")), "abcd")
            .unwrap()
            .contains("another file (ef01) as message 3"));
        assert!(check_posted(None, "abcd").is_some());
    }
}
