//! `meldpunt`, the investigator's tool of Meldpunt.
//!
//! Investigators decrypt offline, on a machine that never touches the network; the
//! ciphertext crosses the air gap as a bundle folder (see [`bundle`] and
//! docs/BUNDLE.md). Only `pull` and `push` open a socket. The server is not trusted:
//! everything it sends is checked (recipients against pins, attachments against the
//! report's hashes, every thread message, the audit chain).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod bundle;
pub mod cases;
pub mod cli;
pub mod compose;
pub mod fsutil;
pub mod http;
pub mod keys;
pub mod open;
pub mod outbox;
pub mod pin;
pub mod progress;
pub mod pull;
pub mod push;
pub mod reply;
pub mod safename;
pub mod shred;
pub mod verify;
