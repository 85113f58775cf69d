//! The Meldpunt crypto crate for the browser.
//!
//! One module for every JavaScript tier: built for `wasm32-unknown-unknown` with plain
//! `extern "C"` exports (no wasm-bindgen), so that the same file runs as WebAssembly and,
//! translated by wasm2js, as plain JavaScript where WebAssembly is disabled (Tor Browser
//! "Safer"). [`api`] holds the operations as safe Rust; `abi` is the thin boundary.
//! Natively, `pages` embeds the reporter's pages for the server to serve.
#![deny(missing_docs)]

mod abi;
pub mod api;
#[cfg(not(target_arch = "wasm32"))]
pub mod pages;
