//! The Meldpunt crypto crate for the browser.
//!
//! One module for every JavaScript tier: built for `wasm32-unknown-unknown` with plain
//! `extern "C"` exports (no wasm-bindgen), so that the same file runs as WebAssembly and,
//! translated by wasm2js, as plain JavaScript where WebAssembly is disabled (Tor Browser
//! "Safer"). The operations themselves are `meldpunt_crypto::reporter`; [`api`] is their
//! JSON face and `abi` the thin `extern "C"` boundary. The pages that load this module
//! are the `meldpunt-pages` crate.
#![deny(missing_docs)]

mod abi;
pub mod api;
