//! The outbox: messages and status changes written offline, waiting for `push`.
//!
//! `outbox/outbox.json` lists them in the order they were made; sent items stay listed
//! (marked sent) as the case's history.

use std::path::PathBuf;

use meldpunt_crypto::{CaseStatus, Day};
use meldpunt_wire::CaseNumber;
use serde::{Deserialize, Serialize};

use crate::bundle::{read_json_or_default, write_json, Bundle, BundleError};

/// Name of the outbox index inside `outbox/`.
pub const OUTBOX_FILE: &str = "outbox.json";

/// The outbox index.
#[derive(Serialize, Deserialize, Default, Clone, Debug)]
pub struct Outbox {
    /// Everything queued, oldest first.
    pub items: Vec<Item>,
}

/// Where an item is on its way.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for `push`.
    Queued,
    /// The server accepted it.
    Sent,
    /// The server refused it because the thread moved on (another investigator wrote
    /// first); it will never be sent.
    Stale,
}

/// One queued thing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Item {
    /// A message to the reporter.
    Message {
        /// The case.
        case: CaseNumber,
        /// The age file, relative to `outbox/`.
        file: String,
        /// The thread head (hex) the message extends.
        extends: String,
        /// SHA-256 (hex) of the age file.
        sha256: String,
        /// The day it was written.
        queued: Day,
        /// Where it is on its way.
        state: State,
        /// The day the server accepted it.
        #[serde(default)]
        sent: Option<Day>,
    },
    /// A status change.
    Status {
        /// The case.
        case: CaseNumber,
        /// The new status.
        status: CaseStatus,
        /// The day it was decided.
        queued: Day,
        /// Where it is on its way.
        state: State,
        /// The day the server accepted it.
        #[serde(default)]
        sent: Option<Day>,
    },
}

impl Item {
    /// The case the item belongs to.
    pub fn case(&self) -> &CaseNumber {
        match self {
            Item::Message { case, .. } | Item::Status { case, .. } => case,
        }
    }

    /// Where the item is on its way.
    pub fn state(&self) -> State {
        match self {
            Item::Message { state, .. } | Item::Status { state, .. } => *state,
        }
    }

    /// Marks the item.
    pub fn set_state(&mut self, new: State, today: Day) {
        match self {
            Item::Message { state, sent, .. } | Item::Status { state, sent, .. } => {
                *state = new;
                if new == State::Sent {
                    *sent = Some(today);
                }
            }
        }
    }
}

impl Outbox {
    fn path(bundle: &Bundle) -> PathBuf {
        bundle.outbox_dir().join(OUTBOX_FILE)
    }

    /// Reads the outbox (empty if there is none).
    pub fn read(bundle: &Bundle) -> Result<Self, BundleError> {
        read_json_or_default(&Self::path(bundle))
    }

    /// Replaces the outbox index.
    pub fn write(&self, bundle: &Bundle) -> Result<(), BundleError> {
        write_json(&Self::path(bundle), self)
    }

    /// The items of one case.
    pub fn for_case<'a>(&'a self, case: &'a CaseNumber) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |i| i.case() == case)
    }

    /// The status the investigator decided last for a case (queued or sent), if any.
    pub fn latest_status(&self, case: &CaseNumber) -> Option<(CaseStatus, Day, State)> {
        self.for_case(case)
            .filter_map(|i| match i {
                Item::Status {
                    status,
                    queued,
                    state,
                    ..
                } if *state != State::Stale => Some((*status, *queued, *state)),
                _ => None,
            })
            .last()
    }

    /// The first day the investigator moved a case past "received", if they did here.
    pub fn acknowledged_on(&self, case: &CaseNumber) -> Option<Day> {
        self.for_case(case)
            .filter_map(|i| match i {
                Item::Status {
                    status,
                    queued,
                    state,
                    ..
                } if *state != State::Stale && *status != CaseStatus::Received => Some(*queued),
                _ => None,
            })
            .min()
    }
}
