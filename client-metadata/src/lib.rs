//! `meldpunt-metadata` for the reporter's browser: the page shows what a document
//! carries (author, GPS position, …) and removes it before the document is encrypted.
//!
//! A second module beside the crypto module (`meldpunt-client-wasm`), loaded only when the
//! reporter picks a document, with the same plain `extern "C"` boundary so that wasm2js
//! can translate it for browsers without WebAssembly. [`api`] holds the calls in plain
//! Rust (tested natively), [`abi`] the boundary.
#![deny(missing_docs)]

pub mod abi;
pub mod api;
