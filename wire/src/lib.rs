//! The contract between the Meldpunt server and the programs that talk to it: the
//! investigator's tool above all, and the reporter's pages. Each piece of it is defined
//! here once — the server writes with these types and its clients read with them (and
//! still check everything they read).
//!
//! - [`CaseNumber`]: the one strict case number;
//! - [`case`]: a case's summary, the manifest of its download, the names of the files in
//!   the download ([`CaseFile`]), status changes;
//! - [`reporter`]: the bodies of the reporter's API (receipt, thread, posts);
//! - [`audit`]: the audit log's entries and hash chain;
//! - [`restore`]: the operator's signed statement that announces a restore from backup.
//!
//! The protocol's own vocabulary (direction, category, status, day) comes from
//! `meldpunt-crypto` and is re-used here, never redefined.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod case;
mod case_number;
pub mod reporter;
pub mod restore;

pub use case::{CaseFile, CaseManifest, CaseSummary, Digest, FileEntry, StatusChange};
pub use case_number::CaseNumber;
pub use meldpunt_crypto::{CaseStatus, Category, Day, Direction};

/// The mount point of the HTTP API.
pub const API_BASE: &str = "/api/v1";

/// The request headers of the API.
pub mod headers {
    /// The mailbox credential (64 hex digits).
    pub const MAILBOX: &str = "Meldpunt-Mailbox";
    /// The thread head a post extends (64 hex digits).
    pub const EXTENDS: &str = "Meldpunt-Extends";
    /// How many bytes of an attachment the client already sent.
    pub const OFFSET: &str = "Meldpunt-Offset";
    /// The destination of a report.
    pub const DESTINATION: &str = "Meldpunt-Destination";
    /// A solved admission puzzle: `<challenge>.<nonce hex>` (PROTOCOL.md §13).
    pub const ADMISSION: &str = "Meldpunt-Admission";
}
