//! Reading a case's thread: the one reader, with the one policy, that the reporter's
//! pages (both browser tiers and the no-JavaScript tier) and the investigator's tool use
//! (PROTOCOL.md §8.2 and §8.3).
//!
//! The policy, each rule in one place:
//! - every message is opened and verified (MAC, the reporter's signature, the thread id)
//!   and must fit the thread at its place ([`ThreadState::accept`]);
//! - the server's direction label is never trusted; only the reporter's side uses it, to
//!   recognise its own messages, which it cannot decrypt (PROTOCOL.md §8.4);
//! - after the first message that fails, nothing later is trusted and nothing later moves
//!   the state or the reply set, and nobody may reply on top of it;
//! - the reporter's answers go to the recipients the report used, replaced by the
//!   `reply_to` of each verified bureau message that names one (the latest wins).

use std::fmt;

use crate::agefile::DecryptError;
use crate::derive::ReporterKeys;
use crate::envelope::{open_message, Direction, Message, OpenError, ThreadSecrets};
use crate::recipients::Recipient;
use crate::thread::{ThreadError, ThreadState};

/// Why a message of the thread is not trusted.
#[derive(Debug)]
#[non_exhaustive]
pub enum Unverified {
    /// It could not be opened or authenticated (damaged, not for this key, bad MAC or
    /// signature, another thread).
    Open(OpenError),
    /// It is authentic but out of place: replayed, reordered, dropped before, misnumbered.
    Place(ThreadError),
    /// On the reporter's side: a message the reporter can open but that is not the
    /// bureau's (a reporter's message encrypted to the reporter).
    NotFromTheBureau,
    /// On the bureau's side: the server labels it with the other direction.
    Label {
        /// What the server says.
        labelled: Direction,
        /// What the envelope is.
        actual: Direction,
    },
    /// On the reporter's side: the same own message listed a second time.
    CopyOfOwn,
    /// The server numbers it differently from its place in the thread.
    Misnumbered {
        /// The server's number.
        number: u64,
        /// Its place in the thread (1-based).
        position: u64,
    },
    /// An earlier message failed, so its place in the thread cannot be trusted.
    AfterFailure,
}

impl fmt::Display for Unverified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unverified::Open(e) => e.fmt(f),
            Unverified::Place(e) => e.fmt(f),
            Unverified::NotFromTheBureau => f.write_str(
                "this message is written as the reporter's, not the bureau's, yet it is \
                 addressed to the reporter",
            ),
            Unverified::Label { labelled, actual } => write!(
                f,
                "the server lists it as {} but the message is {}",
                direction_words(*labelled),
                direction_words(*actual)
            ),
            Unverified::CopyOfOwn => f.write_str("a copy of an earlier message"),
            Unverified::Misnumbered { number, position } => {
                write!(
                    f,
                    "numbered {number} but is message {position} of the thread"
                )
            }
            Unverified::AfterFailure => f.write_str(
                "not verified: it comes after a message that failed, so its place in the \
                 thread cannot be trusted",
            ),
        }
    }
}

/// A direction in plain words.
pub fn direction_words(direction: Direction) -> &'static str {
    match direction {
        Direction::ToReporter => "to the reporter",
        Direction::FromReporter => "from the reporter",
    }
}

/// What the reader made of one message.
pub enum Verdict {
    /// Authentic and in its place.
    Verified(Message),
    /// On the reporter's side: one of the reporter's own messages, which the reporter
    /// cannot read; checked by the bureau and bound by the chain.
    Own,
    /// Not trusted, and why.
    Unverified(Unverified),
}

/// Reads one thread, message by message, in the order the server lists them.
pub struct ThreadReader {
    secrets: ThreadSecrets,
    state: ThreadState,
    reply_set: Vec<Recipient>,
    failed: bool,
}

impl ThreadReader {
    /// A reader for the thread that follows the report with hash `report_sha256`, whose
    /// reporter answers to `reply_set` until a verified bureau message names another.
    pub fn new(secrets: ThreadSecrets, report_sha256: [u8; 32], reply_set: Vec<Recipient>) -> Self {
        Self {
            secrets,
            state: ThreadState::new(report_sha256),
            reply_set,
            failed: false,
        }
    }

    /// Reads the next message as the reporter does: with the identity derived from the
    /// code, taking a message as its own only if the server labels it so **and** it is
    /// not addressed to the reporter.
    pub fn read_as_reporter(
        &mut self,
        keys: &ReporterKeys,
        labelled: Direction,
        ciphertext: &[u8],
    ) -> Verdict {
        let opened = open_message(ciphertext, &[&keys.identity()], &self.secrets);
        if labelled == Direction::FromReporter
            && matches!(opened, Err(OpenError::Decrypt(DecryptError::NotARecipient)))
        {
            if self.failed {
                return Verdict::Own;
            }
            return match self.state.skip_own(ciphertext) {
                Ok(()) => Verdict::Own,
                Err(_) => self.fail(Unverified::CopyOfOwn),
            };
        }
        if self.failed {
            return Verdict::Unverified(Unverified::AfterFailure);
        }
        match opened {
            Ok(m) if m.direction != Direction::ToReporter => {
                self.fail(Unverified::NotFromTheBureau)
            }
            Ok(m) => self.accept(ciphertext, m),
            Err(e) => self.fail(Unverified::Open(e)),
        }
    }

    /// Reads the next message as the bureau does: with the investigators' identities,
    /// every message opened and verified, and the server's label checked against it.
    pub fn read_as_bureau(
        &mut self,
        identities: &[&dyn age::Identity],
        labelled: Direction,
        ciphertext: &[u8],
    ) -> Verdict {
        if self.failed {
            return Verdict::Unverified(Unverified::AfterFailure);
        }
        match open_message(ciphertext, identities, &self.secrets) {
            Ok(m) if m.direction != labelled => self.fail(Unverified::Label {
                labelled,
                actual: m.direction,
            }),
            Ok(m) => self.accept(ciphertext, m),
            Err(e) => self.fail(Unverified::Open(e)),
        }
    }

    /// Records a failure found outside the envelope (e.g. the server's numbering): the
    /// message is not trusted, and neither is anything after it.
    pub fn refuse(&mut self, reason: Unverified) -> Verdict {
        if self.failed {
            return Verdict::Unverified(Unverified::AfterFailure);
        }
        self.fail(reason)
    }

    fn accept(&mut self, ciphertext: &[u8], message: Message) -> Verdict {
        match self.state.accept(ciphertext, &message) {
            Ok(()) => {
                if message.direction == Direction::ToReporter && !message.reply_to.is_empty() {
                    self.reply_set = message.reply_to.clone();
                }
                Verdict::Verified(message)
            }
            Err(e) => self.fail(Unverified::Place(e)),
        }
    }

    fn fail(&mut self, reason: Unverified) -> Verdict {
        self.failed = true;
        Verdict::Unverified(reason)
    }

    /// The thread as far as it verified.
    pub fn state(&self) -> &ThreadState {
        &self.state
    }

    /// Where the reporter's next answer goes (and where the last ones should have gone).
    pub fn reply_set(&self) -> &[Recipient] {
        &self.reply_set
    }

    /// Whether any message failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Whether a new message may extend the thread: nothing failed and there is
    /// somewhere to send it.
    pub fn can_reply(&self) -> bool {
        !self.failed && !self.reply_set.is_empty()
    }

    /// The state and reply set to answer with, if answering is allowed.
    pub fn into_reply(self) -> Option<(ThreadState, Vec<Recipient>)> {
        let ok = self.can_reply();
        ok.then_some((self.state, self.reply_set))
    }
}
