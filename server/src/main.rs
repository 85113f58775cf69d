//! `meldpunt-server`: run the drop box, manage investigator tokens, verify the audit log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use meldpunt_crypto::Day;
use meldpunt_server::audit::AuditLog;
use meldpunt_server::clock::Clock;
use meldpunt_server::config::{self, Destinations};
use meldpunt_server::storage::migrate;
use meldpunt_server::tokens::Tokens;
use rocket::fairing::AdHoc;
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;

#[derive(Parser)]
#[command(
    name = "meldpunt-server",
    version,
    about = "The Meldpunt drop box: stores age ciphertext and minimal case metadata."
)]
struct Cli {
    /// The configuration file (every key: docs/CONFIG.md). Environment variables
    /// MELDPUNT_<KEY> override it.
    #[arg(long, global = true, env = "MELDPUNT_CONFIG", default_value = config::DEFAULT_CONFIG_FILE)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the drop box (the default).
    Serve {
        /// With no destination configured, make a demo destination whose private key
        /// is written to the data directory. Demo only: never for real reports.
        #[arg(long)]
        demo: bool,
    },
    /// Investigator tokens for the API.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// The audit log of investigator actions.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Copy everything between the embedded data directory (`data_dir`) and PostgreSQL
    /// with the object store (`postgres_url`, `s3_*`), then compare every case's bytes.
    /// Stop every server first.
    Migrate {
        /// Where to copy to: `postgres` (from the data directory) or `embedded` (from
        /// PostgreSQL and the object store into the data directory).
        #[arg(long, value_parser = ["postgres", "embedded"])]
        to: String,
    },
    /// Ask the server running on DATA_DIR (embedded storage) for a consistent snapshot
    /// of it, for scripts/backup.sh: changes wait a moment, reads go on. Prints the
    /// snapshot directory (inside DATA_DIR); archive it, then remove it.
    Snapshot {
        /// The running server's data directory.
        data_dir: PathBuf,
    },
    /// Check the configuration and print the destinations with their fingerprints.
    CheckConfig,
    /// Print the page bundle this binary serves (a `sha256sum` list of its static
    /// files) and the bundle hash to publish; `scripts/check-bundle.sh` compares a
    /// running site against a local build.
    Bundle,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token; it is printed once and stored only as a hash.
    Create {
        /// Who holds the token (shown in the audit log).
        name: String,
        /// A destination whose cases the token may see (repeat for more).
        #[arg(long = "destination", required = true)]
        destinations: Vec<String>,
    },
    /// Revoke a token at once (also while the server runs).
    Revoke {
        /// The token's name.
        name: String,
    },
    /// List tokens (names, destinations, days; never the tokens).
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; names the first broken entry.
    Verify,
    /// Remove a last line that is only half written (after a crash or a full disk).
    /// Run with the server stopped, then `audit verify`.
    Repair,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meldpunt-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut figment = config::figment(&cli.config);
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => {
            if demo {
                figment = figment.merge(Serialized::global("demo", true));
            }
            serve(figment)
        }
        Command::Snapshot { data_dir } => {
            let taken = meldpunt_server::snapshot::request(&data_dir).map_err(|e| e.to_string())?;
            eprintln!(
                "meldpunt-server: snapshot taken; changes waited {} ms (of which {} ms for \
                 changes in flight), reads went on",
                taken.paused.as_millis(),
                taken.waited.as_millis()
            );
            println!("{}", taken.dir.display());
            Ok(())
        }
        Command::Bundle => {
            let manifest = meldpunt_server::pages::bundle_manifest()?;
            print!("{manifest}");
            println!(
                "bundle {}  (meldpunt-server {})",
                meldpunt_server::pages::bundle_hash(&manifest),
                env!("CARGO_PKG_VERSION")
            );
            Ok(())
        }
        Command::Migrate { to } => {
            let settings = config::settings(&figment).map_err(|e| e.to_string())?;
            let summary = runtime()?
                .block_on(migrate::run(&settings, &to))
                .map_err(|e| e.to_string())?;
            println!(
                "Copied to {to} and compared: {} cases, {} attachment files, {} upload \
                 sessions, {} tokens, {} audit entries.",
                summary.cases, summary.attachments, summary.sessions, summary.tokens, summary.audit
            );
            Ok(())
        }
        Command::CheckConfig => {
            let settings = config::settings(&figment).map_err(|e| e.to_string())?;
            let destinations =
                Destinations::from_settings(&settings, Day::today()).map_err(|e| e.to_string())?;
            print_destinations(&destinations);
            if let Some(path) = &destinations.demo_key_file {
                println!(
                    "This is the demo install: the demo destination's private key is {}. \
                     Never for real reports.",
                    path.display()
                );
            }
            println!("The configuration is valid.");
            Ok(())
        }
        Command::Token { action } => {
            let settings = config::settings(&figment).map_err(|e| e.to_string())?;
            let registry = meldpunt_server::registry(&settings).map_err(|e| e.to_string())?;
            let tokens = Tokens::new(registry.clone());
            let audit = AuditLog::new(registry);
            let rt = runtime()?;
            let today = Day::today();
            match action {
                TokenCommand::Create { name, destinations } => {
                    let known = Destinations::names(&settings);
                    let token = rt
                        .block_on(tokens.create(&name, &destinations, &known, today))
                        .map_err(|e| e.to_string())?;
                    rt.block_on(audit.append(today, &name, "token_created", None, &destinations))
                        .map_err(|e| e.to_string())?;
                    println!("{}", token.as_str());
                    eprintln!(
                        "Token \"{name}\" for {} made. It is shown only this once: give it to \
                         its holder over a safe channel. Revoke with: meldpunt-server token revoke {name}",
                        destinations.join(", ")
                    );
                    Ok(())
                }
                TokenCommand::Revoke { name } => {
                    rt.block_on(tokens.revoke(&name, today))
                        .map_err(|e| e.to_string())?;
                    let scope = rt
                        .block_on(tokens.list())
                        .map_err(|e| e.to_string())?
                        .into_iter()
                        .find(|t| t.name == name)
                        .map(|t| t.destinations)
                        .unwrap_or_default();
                    rt.block_on(audit.append(today, &name, "token_revoked", None, &scope))
                        .map_err(|e| e.to_string())?;
                    println!("Token \"{name}\" is revoked.");
                    Ok(())
                }
                TokenCommand::List => {
                    for t in rt.block_on(tokens.list()).map_err(|e| e.to_string())? {
                        println!(
                            "{}\t{}\tcreated {}\t{}",
                            t.name,
                            t.destinations.join(","),
                            t.created,
                            t.revoked
                                .map(|d| format!("revoked {d}"))
                                .unwrap_or_else(|| "active".into())
                        );
                    }
                    Ok(())
                }
            }
        }
        Command::Audit {
            action: AuditCommand::Repair,
        } => {
            let settings = config::settings(&figment).map_err(|e| e.to_string())?;
            let registry =
                meldpunt_server::storage::embedded::registry::FileRegistry::new(&settings.data_dir);
            match registry.repair_audit().map_err(|e| e.to_string())? {
                Some(torn) => println!(
                    "Removed a half-written last line ({} bytes). Now run: meldpunt-server audit verify",
                    torn.len()
                ),
                None => println!("The last line of the audit log is whole; nothing to repair."),
            }
            Ok(())
        }
        Command::Audit {
            action: AuditCommand::Verify,
        } => {
            let settings = config::settings(&figment).map_err(|e| e.to_string())?;
            let log =
                AuditLog::new(meldpunt_server::registry(&settings).map_err(|e| e.to_string())?);
            let entries = runtime()?
                .block_on(log.read_verified())
                .map_err(|e| e.to_string())?;
            match entries.last() {
                Some(last) => println!(
                    "The audit log is whole: {} entries, head {} (entry {}).",
                    entries.len(),
                    last.hash,
                    last.index
                ),
                None => println!("The audit log is empty."),
            }
            Ok(())
        }
    }
}

/// A runtime for the commands that use the registry.
fn runtime() -> Result<rocket::tokio::runtime::Runtime, String> {
    rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))
}

/// Each destination with its fingerprint and, one a line, the recipients investigators
/// pin (`meldpunt pin BUNDLE NAME age1…`).
fn print_destinations(destinations: &Destinations) {
    for d in destinations.all() {
        let recipients = d.destination.recipients();
        println!(
            "destination {}: fingerprint {} ({} recipient{})",
            d.destination.name,
            d.destination.fingerprint(),
            recipients.len(),
            if recipients.len() == 1 { "" } else { "s" }
        );
        for r in recipients {
            println!("  recipient {r}");
        }
    }
    for note in destinations.notes() {
        println!("note: {note}");
    }
}

fn serve(figment: Figment) -> Result<(), String> {
    let (rocket, app) =
        meldpunt_server::build(figment, Clock::system()).map_err(|e| e.to_string())?;
    print_destinations(&app.destinations);
    if let Some(path) = &app.destinations.demo_key_file {
        let line = "!".repeat(78);
        println!("{line}");
        println!("!! DEMO ONLY: the private key is on the server.");
        println!(
            "!! The demo destination's identity file is {}",
            path.display()
        );
        println!("!! Anyone with this server's disk can read every report sent to it.");
        println!("!! Never send a real report here; configure real destinations (docs/CONFIG.md).");
        println!("{line}");
    }
    let rocket = rocket.attach(AdHoc::on_liftoff("announce", |rocket| {
        Box::pin(async move {
            let c = rocket.config();
            println!(
                "Meldpunt drop box listening on http://{}:{}",
                c.address, c.port
            );
        })
    }));
    rocket::execute(async move {
        take_in_restore(&app).await?;
        rocket
            .launch()
            .await
            .map(|_| ())
            .map_err(|e| format!("the server stopped: {e}"))
    })
}

/// The first start after `scripts/restore.sh`: the operator's restore statement goes
/// into the audit log and every token is revoked (`meldpunt_server::restore`).
async fn take_in_restore(app: &meldpunt_server::App) -> Result<(), String> {
    if app.settings.storage != meldpunt_server::storage::Backend::Embedded {
        return Ok(());
    }
    let taken = meldpunt_server::restore::take_in(
        &app.settings.data_dir,
        &app.tokens,
        &app.audit,
        Day::today(),
    )
    .await
    .map_err(|e| e.to_string())?;
    if let Some(taken) = taken {
        println!(
            "Restored from a backup ({}): the restore statement is in the audit log after \
             entry {}. Every investigator token was revoked ({}); make new ones with \
             meldpunt-server token create.",
            taken.statement.backup_sha256,
            taken.statement.audit_entries,
            if taken.revoked.is_empty() {
                "none was active".to_owned()
            } else {
                taken.revoked.join(", ")
            }
        );
    }
    Ok(())
}
