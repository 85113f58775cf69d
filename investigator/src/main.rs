//! The `meldpunt` binary: everything lives in the library.
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used)]

fn main() -> std::process::ExitCode {
    meldpunt::cli::main()
}
