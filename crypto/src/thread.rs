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
    /// This very message already appeared earlier in the thread: a replay.
    Replayed,
    /// It follows an earlier message, not the last one: the thread was reordered, or
    /// someone tried to fork it.
    Gap,
    /// It follows a message that is not in the thread: a message was removed, or the
    /// thread was altered.
    MissingPrevious,
    /// It sits at the right place but its author numbered it wrongly; only someone
    /// holding the thread key can write such a message.
    BadNumbering {
        /// The number expected next.
        expected: u64,
        /// The number it carries.
        found: u64,
    },
    /// It acknowledges messages that were never in the thread, or fewer than an
    /// earlier message of the same side did.
    BadAcknowledgement,
    /// It names, as the other side's last message it saw, a message that is not that
    /// message of this thread: the thread it was written in is not the one shown.
    WrongAcknowledgement,
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadError::Replayed => {
                f.write_str("this message is a replay of an earlier message in the thread")
            }
            ThreadError::Gap => f.write_str(
                "this message follows an earlier message, not the last one: the thread was \
                 reordered or forked",
            ),
            ThreadError::MissingPrevious => f.write_str(
                "this message follows a message that is not in the thread: a message was \
                 removed, or the thread was altered",
            ),
            ThreadError::BadNumbering { expected, found } => write!(
                f,
                "this message is numbered {found} where {expected} was expected: its author \
                 (who holds the thread key) numbered it inconsistently"
            ),
            ThreadError::BadAcknowledgement => {
                f.write_str("this message acknowledges messages that the thread does not contain")
            }
            ThreadError::WrongAcknowledgement => f.write_str(
                "this message acknowledges a message of the other side that is not the one in \
                 this thread: a message was replaced or is missing",
            ),
        }
    }
}

impl std::error::Error for ThreadError {}

/// The running state of a thread, as one side checks it message by message.
#[derive(Clone, Debug)]
pub struct ThreadState {
    head: [u8; 32],
    /// Every age file hash seen so far, the report's first: tells a replay or a gap
    /// from a message that belongs nowhere.
    seen: Vec<[u8; 32]>,
    to_reporter: u64,
    from_reporter: u64,
    ack_by_bureau: u64,
    ack_by_reporter: u64,
    /// The hashes of the messages in each direction, in order.
    to_hashes: Vec<[u8; 32]>,
    from_hashes: Vec<[u8; 32]>,
}

impl ThreadState {
    /// An empty thread that follows the report with this ciphertext hash.
    pub fn new(report_sha256: [u8; 32]) -> Self {
        Self {
            head: report_sha256,
            seen: vec![report_sha256],
            to_reporter: 0,
            from_reporter: 0,
            ack_by_bureau: 0,
            ack_by_reporter: 0,
            to_hashes: Vec::new(),
            from_hashes: Vec::new(),
        }
    }

    /// The age file hashes of the messages in `direction`, in order.
    pub fn hashes(&self, direction: Direction) -> &[[u8; 32]] {
        match direction {
            Direction::ToReporter => &self.to_hashes,
            Direction::FromReporter => &self.from_hashes,
        }
    }

    /// The hash of message `n` (1-based) in `direction`.
    fn nth(&self, direction: Direction, n: u64) -> Option<[u8; 32]> {
        let i = usize::try_from(n.checked_sub(1)?).ok()?;
        self.hashes(direction).get(i).copied()
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
        let hash = ciphertext_hash(ciphertext);
        if self.seen.contains(&hash) {
            return Err(ThreadError::Replayed);
        }
        if message.prev != self.head {
            return Err(if self.seen.contains(&message.prev) {
                ThreadError::Gap
            } else {
                ThreadError::MissingPrevious
            });
        }
        let expected = self.count(message.direction) + 1;
        if message.seq != expected {
            return Err(ThreadError::BadNumbering {
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
        if let Some(named) = message.ack_sha256 {
            let other = match message.direction {
                Direction::ToReporter => Direction::FromReporter,
                Direction::FromReporter => Direction::ToReporter,
            };
            if self.nth(other, message.ack) != Some(named) {
                return Err(ThreadError::WrongAcknowledgement);
            }
        }
        match message.direction {
            Direction::ToReporter => {
                self.to_reporter = expected;
                self.ack_by_bureau = message.ack;
                self.to_hashes.push(hash);
            }
            Direction::FromReporter => {
                self.from_reporter = expected;
                self.ack_by_reporter = message.ack;
                self.from_hashes.push(hash);
            }
        }
        self.head = hash;
        self.seen.push(hash);
        Ok(())
    }

    /// Advances past a message this side cannot decrypt: the reporter's own earlier
    /// messages, which are encrypted to the bureau only. Its content stays unchecked
    /// here; the bureau checks it, and the bureau's next message acknowledges it.
    ///
    /// A copy of an earlier message is refused as a replay.
    pub fn skip_own(&mut self, ciphertext: &[u8]) -> Result<(), ThreadError> {
        let hash = ciphertext_hash(ciphertext);
        if self.seen.contains(&hash) {
            return Err(ThreadError::Replayed);
        }
        self.from_reporter += 1;
        self.from_hashes.push(hash);
        self.head = hash;
        self.seen.push(hash);
        Ok(())
    }

    /// A draft of the next message in `direction`, extending the current head.
    pub fn draft(&self, direction: Direction, date: Day, text: Zeroizing<String>) -> MessageDraft {
        let (ack, other) = match direction {
            Direction::ToReporter => (self.from_reporter, Direction::FromReporter),
            Direction::FromReporter => (self.to_reporter, Direction::ToReporter),
        };
        MessageDraft {
            seq: self.count(direction) + 1,
            ack,
            prev: self.head,
            date,
            text,
            status: None,
            reply_to: Vec::new(),
            ack_sha256: self.nth(other, ack),
        }
    }
}
