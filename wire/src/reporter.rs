//! The bodies of the reporter's API (`/api/v1/destinations`, `/uploads`, `/reports`,
//! `/note`, `/thread`), as the server writes them and the pages read them.

use meldpunt_crypto::{CaseStatus, Day, Direction};
use serde::{Deserialize, Serialize};

use crate::{CaseNumber, Digest};

/// One destination as the reporter's page offers it.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct DestinationView {
    /// Its name.
    pub name: String,
    /// What it is, in a sentence.
    pub description: String,
    /// Its recipients (`age1…`).
    pub recipients: Vec<String>,
    /// The fingerprint of the recipient set, to compare with the published one.
    pub fingerprint: String,
}

/// What the reporter keeps after filing: proof of what the server accepted.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Receipt {
    /// The case number.
    pub case: CaseNumber,
    /// The day it arrived.
    pub received: Day,
    /// The destination.
    pub destination: String,
    /// SHA-256 of the report's age file.
    pub report_sha256: String,
    /// The attachments the report covers.
    pub attachments: Vec<Digest>,
}

/// One attachment of an upload session.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct AttachmentState {
    /// Its number (from 0).
    pub n: u32,
    /// Bytes received so far.
    pub received: u64,
    /// Set once finished and checked.
    pub finished: Option<Digest>,
}

/// An upload session and the limits that apply to it.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct SessionView {
    /// The attachments so far.
    pub attachments: Vec<AttachmentState>,
    /// The most attachments one report may have.
    pub max_attachments: u32,
    /// The largest attachment (ciphertext bytes).
    pub max_attachment_bytes: u64,
    /// The most bytes of all attachments together.
    pub max_total_bytes: u64,
}

/// One message as the reporter's page receives it.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct MessageView {
    /// Its place in the thread (from 1).
    pub seq_in_thread: usize,
    /// The server's label (not trusted: the envelope tells the truth).
    pub direction: Direction,
    /// The day it arrived.
    pub day: Day,
    /// SHA-256 of the age file.
    pub sha256: String,
    /// Its size.
    pub size: u64,
    /// Where its age file alone can be fetched.
    pub url: String,
    /// The age file, base64.
    pub ciphertext: String,
}

/// The thread as the reporter's page receives it (`GET /api/v1/thread`).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ThreadView {
    /// The case number.
    pub case: CaseNumber,
    /// The status the server records (not a bureau message: the server's word).
    pub status: CaseStatus,
    /// The day the report arrived.
    pub received: Day,
    /// SHA-256 of the report's age file.
    pub report_sha256: String,
    /// The thread head.
    pub head: String,
    /// The reporter's note to self (base64 age file), if one was stored.
    pub note: Option<String>,
    /// The messages of this page, in order, from `first`.
    pub messages: Vec<MessageView>,
    /// The place in the thread (from 1) of the first message on this page.
    #[serde(default = "one")]
    pub first: usize,
    /// How many messages the thread holds.
    #[serde(default)]
    pub total: usize,
    /// Where the next page starts (`?from=`), if the thread goes on.
    #[serde(default)]
    pub next: Option<usize>,
}

fn one() -> usize {
    1
}

/// What a post to a thread returns (both sides).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Posted {
    /// Its place in the thread (from 1).
    pub seq_in_thread: usize,
    /// SHA-256 of the posted age file.
    pub sha256: String,
    /// The new head.
    pub head: String,
}

/// A puzzle the server asks a request to solve before it is admitted
/// (PROTOCOL.md §13): in a 429 answer, as `{"error", "admission": …}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AdmissionChallenge {
    /// What the request is for: `report`, `answer`, `session` or `upload`.
    pub purpose: String,
    /// The challenge, base64url without padding (opaque to clients).
    pub challenge: String,
    /// How many leading zero bits the solution's work must have.
    pub difficulty: u8,
}
