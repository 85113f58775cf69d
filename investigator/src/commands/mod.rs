//! The command line's commands, one file each. A command parses nothing (that is
//! [`crate::cli`]) and decides nothing the library does not: it calls the library,
//! prints what happened for a person, and returns the exit code.

pub mod cases;
pub mod compose;
pub mod keygen;
pub mod open;
pub mod pin;
pub mod pull;
pub mod push;
pub mod reply;
pub mod shred;
