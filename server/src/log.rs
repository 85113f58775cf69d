//! The server's log: standard error, for the operator. Start-up, and errors that are the
//! server's fault — never a client's address, user agent, time of day or anything a
//! reporter sent. Every line goes through here, so none can be written differently.

use std::fmt::Display;

/// Logs a fault of the server.
pub fn error(what: impl Display) {
    eprintln!("meldpunt-server: error: {what}");
}

/// Logs a warning for the operator (configuration, start-up).
pub fn warning(what: impl Display) {
    eprintln!("meldpunt-server: warning: {what}");
}
