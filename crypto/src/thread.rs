//! A case's thread: one chain of messages that neither side, nor the server, can
//! reorder, replay, fork or cut without it showing (PROTOCOL.md §8.3).
//!
//! Each message names the SHA-256 of the age file before it (the report's for the
//! first), carries the next sequence number of its direction, and acknowledges the
//! highest sequence number it has seen from the other side.

use std::fmt;

use zeroize::Zeroizing;

use crate::day::Day;
use crate::envelope::{ciphertext_hash, Direction, Message, MessageDraft};

/// Why a message does not fit the thread at its place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadError {
    /// It does not follow the message before it: reordered, replayed, or the thread
    /// was altered.
    WrongPrevious,
    /// Its sequence number is lower than expected: a replay.
    Replayed {
        /// The number expected next.
        expected: u64,
        /// The number it carries.
        found: u64,
    },
    /// Its sequence number skips ahead: messages before it are missing.
    Missing {
        /// The number expected next.
        expected: u64,
        /// The number it carries.
        found: u64,
    },
    /// It acknowledges messages that were never in the thread, or fewer than an
    /// earlier message of the same side did.
    BadAcknowledgement,
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadError::WrongPrevious => f.write_str(
                "this message does not follow the one before it: the thread was reordered, \
                 replayed or altered",
            ),
            ThreadError::Replayed { expected, found } => write!(
                f,
                "this message is a replay: message {expected} was expected, it says {found}"
            ),
            ThreadError::Missing { expected, found } => write!(
                f,
                "messages are missing: message {expected} was expected, this is {found}"
            ),
            ThreadError::BadAcknowledgement => f.write_str(
                "this message acknowledges messages that the thread does not contain",
            ),
        }
    }
}

impl std::error::Error for ThreadError {}

/// The running state of a thread, as one side checks it message by message.
#[derive(Clone, Debug)]
pub struct ThreadState {
    head: [u8; 32],
    to_reporter: u64,
    from_reporter: u64,
    ack_by_bureau: u64,
    ack_by_reporter: u64,
}

impl ThreadState {
    /// An empty thread that follows the report with this ciphertext hash.
    pub fn new(report_sha256: [u8; 32]) -> Self {
        Self {
            head: report_sha256,
            to_reporter: 0,
            from_reporter: 0,
            ack_by_bureau: 0,
            ack_by_reporter: 0,
        }
    }

    /// SHA-256 of the last age file in the thread: what the next post must extend.
    pub fn head(&self) -> [u8; 32] {
        self.head
    }

    /// How many messages went in `direction`.
    pub fn count(&self, direction: Direction) -> u64 {
        match direction {
            Direction::ToReporter => self.to_reporter,
            Direction::FromReporter => self.from_reporter,
        }
    }

    /// How many messages in `direction` the other side has confirmed seeing.
    pub fn acknowledged(&self, direction: Direction) -> u64 {
        match direction {
            Direction::ToReporter => self.ack_by_reporter,
            Direction::FromReporter => self.ack_by_bureau,
        }
    }

    /// Checks that a verified message comes next in the thread, and advances.
    pub fn accept(&mut self, ciphertext: &[u8], message: &Message) -> Result<(), ThreadError> {
        if message.prev != self.head {
            return Err(ThreadError::WrongPrevious);
        }
        let expected = self.count(message.direction) + 1;
        if message.seq < expected {
            return Err(ThreadError::Replayed {
                expected,
                found: message.seq,
            });
        }
        if message.seq > expected {
            return Err(ThreadError::Missing {
                expected,
                found: message.seq,
            });
        }
        let (other_count, previous_ack) = match message.direction {
            Direction::ToReporter => (self.from_reporter, self.ack_by_bureau),
            Direction::FromReporter => (self.to_reporter, self.ack_by_reporter),
        };
        if message.ack > other_count || message.ack < previous_ack {
            return Err(ThreadError::BadAcknowledgement);
        }
        match message.direction {
            Direction::ToReporter => {
                self.to_reporter = expected;
                self.ack_by_bureau = message.ack;
            }
            Direction::FromReporter => {
                self.from_reporter = expected;
                self.ack_by_reporter = message.ack;
            }
        }
        self.head = ciphertext_hash(ciphertext);
        Ok(())
    }

    /// Advances past a message this side cannot decrypt: the reporter's own earlier
    /// messages, which are encrypted to the bureau only. Its content stays unchecked
    /// here; the bureau checks it, and the bureau's next message acknowledges it.
    pub fn skip_own(&mut self, ciphertext: &[u8]) {
        self.from_reporter += 1;
        self.head = ciphertext_hash(ciphertext);
    }

    /// A draft of the next message in `direction`, extending the current head.
    pub fn draft(&self, direction: Direction, date: Day, text: Zeroizing<String>) -> MessageDraft {
        let ack = match direction {
            Direction::ToReporter => self.from_reporter,
            Direction::FromReporter => self.to_reporter,
        };
        MessageDraft {
            seq: self.count(direction) + 1,
            ack,
            prev: self.head,
            date,
            text,
            status: None,
            reply_to: Vec::new(),
        }
    }
}
