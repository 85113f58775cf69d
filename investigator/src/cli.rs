//! The command line: one subcommand per task, each with its own `--help`.

use std::fmt::Display;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use meldpunt_crypto::{CaseStatus, Day};

use crate::commands::{cases, keygen, open, pin, pull, push, reply, shred};

const AFTER_HELP: &str = "\
Only `pull` and `push` open network connections; every other command works on an \
offline machine (`desk` listens on 127.0.0.1 only, for your browser). A protected key file's passphrase is asked for at the terminal, or \
read from the environment variable MELDPUNT_PASSPHRASE (for scripts).

Exit codes: 0 done; 1 error (nothing or only part done, see the message); 2 wrong \
usage; 3 `open` finished but something did NOT verify (read the problems).";

/// Meldpunt's investigator tool: decrypt reports offline, answer reporters, keep the
/// deadlines.
#[derive(Parser)]
#[command(name = "meldpunt", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Make a new investigator key and print its recipient and fingerprint.
    ///
    /// The key file is written readable only by you and is never overwritten. Give the
    /// recipient (age1…) to the server operator and compare the fingerprint with them
    /// over another channel.
    Keygen {
        /// Where to write the new key file.
        #[arg(short = 'o', long = "output", value_name = "KEY_FILE")]
        output: PathBuf,
        /// Protect the key file with a passphrase (typed twice, or MELDPUNT_PASSPHRASE).
        #[arg(long)]
        passphrase: bool,
    },
    /// Pin the recipients you trust for a destination.
    ///
    /// `open` warns loudly when a report was encrypted to other keys than these (a key
    /// the server added), and `reply` encrypts to these only. Take them from the key
    /// ceremony and compare the fingerprint printed with the published one.
    Pin {
        /// The bundle folder (created if missing).
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// The destination's name, as reports name it (e.g. "bureau").
        #[arg(value_name = "DESTINATION")]
        destination: String,
        /// The destination's recipients (age1…).
        #[arg(value_name = "RECIPIENT")]
        recipients: Vec<String>,
        /// Read recipients from a file, one per line (# comments allowed).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Pin the operator's restore key, which signs announced restores from backup.
    ///
    /// After a restore the server's audit log is shorter than the one this bundle
    /// verified; `pull` accepts that only when the operator's signed restore statement is
    /// in the log and verifies with this key. Take the key (`….pub`, ssh-ed25519) from
    /// the operator in person and compare the fingerprint printed.
    PinRestoreKey {
        /// The bundle folder (created if missing).
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// The restore key's public half (an OpenSSH .pub file).
        #[arg(value_name = "PUBLIC_KEY_FILE")]
        key_file: PathBuf,
    },
    /// List the cases with status and days left to acknowledge and give feedback.
    ///
    /// Deadlines (EU Directive 2019/1937): acknowledge within 7 days of receipt; give
    /// feedback within 3 months of the acknowledgement, or of day 7 without one.
    /// Overdue cases come first, marked with "!".
    Cases {
        /// The bundle folder.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// Compute the deadlines as of this day instead of today (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
        on: Option<Day>,
    },
    /// Decrypt and verify a case into OUT_DIR/CASE.
    ///
    /// Writes report.md and report.json, the reporter's contact details (if given) in a
    /// separate file marked IDENTIFYING, the attachments under safe names (each checked
    /// against the report's hashes) and thread.md/thread.json (each message verified).
    /// Problems are listed, never hidden; the exit code is then 3.
    Open {
        /// The case number (e.g. MP-7KQ2M9XD4A).
        #[arg(value_name = "CASE")]
        case: String,
        /// Your key file.
        #[arg(short = 'i', long = "identity", value_name = "KEY_FILE")]
        key: PathBuf,
        /// The bundle folder.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// The folder to decrypt into (the case gets its own folder inside).
        #[arg(short = 'o', long = "output", value_name = "OUT_DIR")]
        out: PathBuf,
        /// Remove an earlier decrypted copy of the case first.
        #[arg(long)]
        replace: bool,
    },
    /// Write a message to the reporter into the outbox.
    ///
    /// Encrypted to the reporter and the destination's pinned recipients, authenticated
    /// with the case's thread key, extending the thread. Without --message-file your
    /// editor ($VISUAL or $EDITOR) opens.
    Reply {
        /// The case number.
        #[arg(value_name = "CASE")]
        case: String,
        /// Your key file.
        #[arg(short = 'i', long = "identity", value_name = "KEY_FILE")]
        key: PathBuf,
        /// The bundle folder.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// The message text (UTF-8); - reads standard input.
        #[arg(long, value_name = "FILE")]
        message_file: Option<PathBuf>,
        /// Announce a new status with the message (and queue the status change).
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// Queue a status change for the case (sent by `push`).
    Status {
        /// The case number.
        #[arg(value_name = "CASE")]
        case: String,
        /// The new status.
        #[arg(value_enum)]
        status: StatusArg,
        /// The bundle folder.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
    },
    /// Remove a case from the bundle and from a decrypted folder (retention ended).
    ///
    /// Decrypted files are overwritten before they are removed. `pull` will not fetch
    /// the case again.
    Shred {
        /// The case number.
        #[arg(value_name = "CASE")]
        case: String,
        /// The bundle folder.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// The folder the case was opened into (OUT_DIR of `open`).
        #[arg(value_name = "OUT_DIR")]
        out: Option<PathBuf>,
        /// Also shred messages and status changes that were never sent.
        #[arg(long)]
        force: bool,
    },
    /// Open the investigator's desk: a local web window on the bundle (offline).
    ///
    /// Serves the desk on 127.0.0.1 only, on a free port, and prints a link to open once
    /// in your browser (opened for you when there is a display). Unlock it with your key
    /// file's passphrase; the key stays in this program and is wiped when you lock, after
    /// the idle time and when you quit. It reads and writes the bundle with the same
    /// checks as the other commands and makes no network connection.
    Desk {
        /// The bundle folder.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// Your key file.
        #[arg(short = 'i', long = "identity", value_name = "KEY_FILE")]
        key: PathBuf,
        /// Do not open a browser; only print the link.
        #[arg(long)]
        no_browser: bool,
        /// The port on 127.0.0.1 (default: a free one).
        #[arg(long, value_name = "PORT", default_value_t = 0)]
        port: u16,
        /// Minutes without use after which the key is wiped.
        #[arg(long, value_name = "MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=1440))]
        idle_minutes: u64,
        /// Compute the deadlines as of this day instead of today (YYYY-MM-DD).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
        on: Option<Day>,
    },
    /// Download new and changed cases and the audit log into the bundle (online).
    ///
    /// Incremental and safe to interrupt and repeat. Every file is checked against the
    /// case's file list; a case whose report or earlier messages changed is refused;
    /// the audit log must extend the one pulled before, or nothing is fetched.
    Pull {
        /// The server's address (https://…).
        #[arg(long, value_name = "URL")]
        server: String,
        /// A file holding your investigator token (one line).
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// The bundle folder (created if missing).
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
    },
    /// Upload the outbox: messages and status changes (online).
    ///
    /// Sent items are marked sent. A message whose thread moved on since you wrote it
    /// is not forced: it is marked stale and you are told to pull, read and reply again.
    Push {
        /// The server's address (https://…).
        #[arg(long, value_name = "URL")]
        server: String,
        /// A file holding your investigator token (one line).
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// The bundle folder.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
    },
}

/// A status an investigator can set.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum StatusArg {
    /// The report is acknowledged.
    Acknowledged,
    /// The case is being investigated.
    Investigating,
    /// The case is closed.
    Closed,
}

impl From<StatusArg> for CaseStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Acknowledged => CaseStatus::Acknowledged,
            StatusArg::Investigating => CaseStatus::Investigating,
            StatusArg::Closed => CaseStatus::Closed,
        }
    }
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).ok_or_else(|| format!("\"{text}\" is not a day as YYYY-MM-DD"))
}

/// Parses the arguments and runs the command.
pub fn main() -> ExitCode {
    run(Cli::parse())
}

/// Runs a parsed command; errors are printed for a person.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Keygen { output, passphrase } => finish(keygen::keygen(&output, passphrase)),
        Command::Pin {
            bundle,
            destination,
            recipients,
            file,
        } => finish(pin::pin(
            &bundle,
            &destination,
            &recipients,
            file.as_deref(),
        )),
        Command::PinRestoreKey { bundle, key_file } => {
            finish(pin::pin_restore_key(&bundle, &key_file))
        }
        Command::Cases { bundle, on } => finish(cases::cases(&bundle, on)),
        Command::Open {
            case,
            key,
            bundle,
            out,
            replace,
        } => finish(open::open(&case, &key, &bundle, &out, replace)),
        Command::Reply {
            case,
            key,
            bundle,
            message_file,
            status,
        } => finish(reply::reply(
            &case,
            &key,
            &bundle,
            message_file.as_deref(),
            status.map(Into::into),
        )),
        Command::Status {
            case,
            status,
            bundle,
        } => finish(reply::status(&case, status.into(), &bundle)),
        Command::Shred {
            case,
            bundle,
            out,
            force,
        } => finish(shred::shred(&case, &bundle, out.as_deref(), force)),
        Command::Desk {
            bundle,
            key,
            no_browser,
            port,
            idle_minutes,
            on,
        } => finish(crate::desk::run(crate::desk::Options {
            bundle,
            key_file: key,
            port,
            open_browser: !no_browser,
            idle: std::time::Duration::from_secs(idle_minutes * 60),
            on,
        })),
        Command::Pull {
            server,
            token_file,
            bundle,
        } => finish(pull::pull(&server, &token_file, &bundle)),
        Command::Push {
            server,
            token_file,
            bundle,
        } => finish(push::push(&server, &token_file, &bundle)),
    }
}

fn finish<E: Display>(result: Result<ExitCode, E>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meldpunt: {e}");
            ExitCode::FAILURE
        }
    }
}
