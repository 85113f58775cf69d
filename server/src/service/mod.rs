//! The server's operations, apart from HTTP: filing a report, storing the note to self,
//! receiving attachment chunks, reading and posting to a thread, the investigators'
//! case list, download, status and shredding. The JSON API (`crate::api`) and the
//! no-JavaScript pages (`crate::nojs`) are thin adapters over these, side by side; the
//! operations reach storage only through [`crate::storage::Store`].

pub mod cases;
pub mod reports;
pub mod thread;
pub mod uploads;

use std::fmt;

use meldpunt_crypto::{check_header, HeaderError, HeaderSummary};

use crate::storage::StoreError;

/// Why an operation did not happen. What the client may read is the `Display` text;
/// [`ServiceError::Internal`] carries the operator's detail instead.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServiceError {
    /// A storage error (the client's doing or the server's: see the variant).
    Store(StoreError),
    /// More than the drop box accepts.
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not a complete age file (the header or payload is cut off).
    Incomplete,
    /// Not an age file a Meldpunt client writes.
    NotAge(HeaderError),
    /// An attachment's upload is not complete yet.
    AttachmentIncomplete,
    /// The report is not encrypted to exactly the destination's recipients.
    WrongRecipients {
        /// Recipients in the file.
        found: usize,
        /// The destination.
        destination: String,
        /// Recipients the destination has.
        expected: usize,
    },
    /// No such destination.
    NoSuchDestination,
    /// No report was sent with this return code.
    NoReport,
    /// No such message.
    NoSuchMessage,
    /// The thread holds the most messages or bytes one case may have.
    ThreadFull,
    /// Not yet allowed: a closed case can be shredded from this day on.
    TooEarly {
        /// The first day it can be.
        from: meldpunt_crypto::Day,
    },
    /// The mailbox's case was shredded.
    Deleted(crate::storage::records::Tombstone),
    /// The chunk does not continue where the attachment stands.
    WrongOffset {
        /// Bytes stored so far.
        received: u64,
    },
    /// The upload stopped half-way; what arrived is kept.
    Interrupted,
    /// The drop box is receiving a lot right now.
    Busy,
    /// The disk reserve would be touched.
    OutOfSpace,
    /// A fault of the server (detail for the operator's log, never naming a client).
    Internal(String),
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Store(e) => e.fmt(f),
            ServiceError::TooLarge { limit } => write!(
                f,
                "the upload is larger than this drop box accepts ({})",
                rocket::data::ByteUnit::from(*limit)
            ),
            ServiceError::Incomplete => {
                f.write_str("this is not a complete age file (the header or payload is cut off)")
            }
            ServiceError::NotAge(e) => write!(f, "refused: {e}"),
            ServiceError::AttachmentIncomplete => {
                f.write_str("this attachment is not a complete age file yet: send the rest first")
            }
            ServiceError::WrongRecipients {
                found,
                destination,
                expected,
            } => write!(
                f,
                "the report is encrypted to {found} recipients, but destination \
                 \"{destination}\" has {expected}: reload the destinations and encrypt again"
            ),
            ServiceError::NoSuchDestination => f.write_str("no such destination"),
            ServiceError::NoReport => f.write_str("no report was sent with this return code"),
            ServiceError::NoSuchMessage => f.write_str("no such message"),
            ServiceError::TooEarly { from } => write!(
                f,
                "a closed case can be shredded from {from} on (the configured time after closing)"
            ),
            ServiceError::Deleted(t) => write!(
                f,
                "this case was closed on {} and its data deleted on {}",
                t.closed, t.deleted
            ),
            ServiceError::ThreadFull => f.write_str(
                "this conversation has reached the most messages one case may hold; the \
                 bureau can tell you how to go on",
            ),
            ServiceError::WrongOffset { received } => write!(
                f,
                "{received} bytes of this attachment arrived: continue from there"
            ),
            ServiceError::Interrupted => f.write_str(
                "the upload was interrupted: ask how much arrived and continue from there",
            ),
            ServiceError::Busy => f.write_str(
                "the drop box is receiving a lot right now; please try again in an hour — \
                 what you wrote is not lost if you keep this page open",
            ),
            ServiceError::OutOfSpace => {
                f.write_str("the drop box is out of storage space; please try again later")
            }
            ServiceError::Internal(_) => {
                f.write_str("the server could not complete this request; try again later")
            }
        }
    }
}

impl std::error::Error for ServiceError {}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(_) | StoreError::Io(_) | StoreError::Corrupt(_) => {
                ServiceError::Internal(e.to_string())
            }
            other => ServiceError::Store(other),
        }
    }
}

/// Refuses anything but a complete age file header with X25519 recipients (and at most
/// one grease stanza): no scrypt, no other recipient types, no garbage.
pub fn check_age(bytes: &[u8]) -> Result<HeaderSummary, ServiceError> {
    check_header(bytes).map_err(|e| match e {
        HeaderError::Incomplete => ServiceError::Incomplete,
        e => ServiceError::NotAge(e),
    })
}

/// Refuses a body over `limit` bytes.
pub fn within(len: u64, limit: u64) -> Result<(), ServiceError> {
    if len > limit {
        return Err(ServiceError::TooLarge { limit });
    }
    Ok(())
}
