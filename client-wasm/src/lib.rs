//! The Meldpunt crypto crate for the browser.
//!
//! Not built yet: the plain `extern "C"` exports over `meldpunt-crypto` (one module for
//! WebAssembly and, through wasm2js, for Tor Browser "Safer") and the reporter pages
//! arrive with the reporter-pages work. Until then this crate exports nothing, and the
//! server does not offer a reporting form.
#![forbid(unsafe_code)]
