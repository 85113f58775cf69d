//! `meldpunt`, the investigator's tool of Meldpunt.
//!
//! Investigators decrypt offline, on a machine that never touches the network; the
//! ciphertext crosses the air gap as a bundle folder (see [`bundle`] and
//! docs/BUNDLE.md). Only `pull` and `push` open a socket. The server is not trusted:
//! everything it sends is checked (recipients against pins, attachments against the
//! report's hashes, every thread message, the audit chain).
//!
//! The library does the work and returns typed results; the command line
//! ([`cli`] and [`commands`]) only parses, prints and chooses the exit code, so another
//! front end can call the same functions:
//!
//! - [`keys::load_with`]: load a key file with a passphrase from the front end;
//! - [`deadlines::case_rows`]: the cases with their status and deadlines;
//! - [`opened::open_case`] and [`opened::OpenedCase::save_attachments`]: a case
//!   decrypted and verified, every problem in [`opened::OpenedCase::problems`];
//! - [`reply::prepare_reply`] and [`reply::PreparedReply::seal`], [`reply::queue_status`]:
//!   replies and status changes into the outbox;
//! - [`shred::shred_case`]: a case removed everywhere;
//! - [`pins::pin_destination`]: the recipients trusted for a destination;
//! - [`export::shareable`]: what of a case may be shared with colleagues;
//! - [`documents::check_document`]: the hidden data a received document still carries,
//!   and a copy without it;
//! - [`access::record`]: a look at a reporter's contact details, recorded in the bundle.
//!
//! The desk ([`desk`], `meldpunt desk`) is the second front end: a local web window on
//! the bundle over these same functions.
//!
//! The server's contract (case numbers, `case.json`, the download's file names, the
//! audit chain) is `meldpunt-wire`'s, and the thread is read with
//! `meldpunt_crypto::ThreadReader`: neither is redefined here.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod attachments;
pub mod audit;
pub mod bundle;
pub mod cli;
pub mod commands;
pub mod deadlines;
pub mod desk;
pub mod documents;
pub mod download;
pub mod export;
pub mod fsutil;
pub mod http;
pub mod keys;
pub mod opened;
pub mod outbox;
pub mod pins;
pub mod progress;
pub mod render;
pub mod reply;
pub mod report;
pub mod restores;
pub mod safename;
pub mod shred;
#[cfg(test)]
mod testkit;
pub mod thread;
pub mod upload;
