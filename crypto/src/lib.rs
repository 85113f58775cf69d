//! The Meldpunt protocol, version 1: return codes, key derivation, destinations, report
//! and message envelopes, padding, and age encryption.
//!
//! One crate serves the reporter's browser (compiled to WebAssembly), the server
//! (ciphertext checks and the no-JavaScript tier) and the investigator's offline tool.
//! The construction is written down in `docs/PROTOCOL.md`; module docs point to its
//! sections.
//!
//! ```
//! use meldpunt_crypto::{
//!     open_message, open_report, seal_report, seal_to_reporter, Category, Day, Destination,
//!     Direction, EncryptedBy, InvestigatorKey, ReportContent, ReporterKeys, ReturnCode,
//!     ThreadState,
//! };
//! use zeroize::Zeroizing;
//!
//! // The bureau's destination.
//! let investigator = InvestigatorKey::generate();
//! let bureau = Destination::from_recipients("bureau", vec![investigator.recipient()]).unwrap();
//!
//! // The reporter: a fresh return code, written down, and a report.
//! let code = ReturnCode::generate(&mut rand::rngs::OsRng);
//! let keys = ReporterKeys::derive_from(&code);
//! let today = Day::parse("2026-11-23").unwrap();
//! let content = ReportContent {
//!     category: Category::SystemLookup,
//!     concerning: "J. Jansen, case handler".into(),
//!     description: "Looked up a neighbour's file without need.".into(),
//!     when_where: "October, office Den Haag".into(),
//!     contact: None,
//!     attachments: vec![],
//!     date: today,
//!     encrypted_by: EncryptedBy::Browser,
//! };
//! let report = seal_report(&content, &keys, &bureau).unwrap();
//!
//! // The investigator, offline: open the report and ask a question.
//! let opened = open_report(&report, &[investigator.as_age()]).unwrap();
//! assert_eq!(opened.content.description, content.description);
//! let state = ThreadState::new(opened.ciphertext_sha256);
//! let question = state.draft(Direction::ToReporter, today, Zeroizing::new("When exactly?".into()));
//! let sealed = seal_to_reporter(&question, &opened.thread, bureau.recipients()).unwrap();
//!
//! // The reporter, days later, with only the code.
//! let keys = ReporterKeys::derive(code);
//! let thread = meldpunt_crypto::ThreadSecrets::from_reporter_keys(&keys);
//! let message = open_message(&sealed, &[&keys.identity()], &thread).unwrap();
//! assert_eq!(message.text, "When exactly?");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod agefile;
pub mod code;
pub mod day;
pub mod derive;
pub mod envelope;
pub mod header;
pub mod identity;
pub mod padding;
pub mod reader;
pub mod recipients;
pub mod reporter;
mod symbols;
pub mod thread;

pub use age;
pub use agefile::{
    decrypt_attachment, encrypt_attachment, AttachmentEncryptor, CiphertextDigest,
    CiphertextHasher, Finished,
};
pub use code::{CodeError, ReturnCode};
pub use day::Day;
pub use derive::{MailboxCredential, MailboxId, ReporterKeys, ThreadId, ThreadKey};
pub use envelope::{
    ciphertext_hash, open_message, open_report, open_reporter_note, seal_from_reporter,
    seal_report, seal_reporter_note, seal_to_reporter, AttachmentEntry, CaseStatus, Category,
    Direction, EncryptedBy, Message, MessageDraft, MetadataRecord, OpenError, OpenedReport,
    ReportContent, ReporterNote, SealError, ThreadSecrets, MAX_METADATA_KINDS,
    MAX_METADATA_KIND_LEN,
};
pub use header::{check_header, HeaderError, HeaderSummary};
pub use identity::{load_keys, InvestigatorKey, KeyFileError};
pub use reader::{ThreadReader, Unverified, Verdict};
pub use recipients::{fingerprint, Destination, DestinationError, Recipient, RecipientError};
pub use thread::{ThreadError, ThreadState};

/// The protocol version this crate implements (the envelope version byte).
pub const PROTOCOL_VERSION: u8 = envelope::VERSION;
