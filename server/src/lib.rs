//! The Meldpunt drop box: a Rocket server that stores age ciphertext and minimal case
//! metadata in one data directory, and holds nothing that identifies a reporter or
//! reveals a report.
//!
//! [`build`] makes the server from a figment (see [`config`]); `main.rs` adds the
//! command line (serve, tokens, audit).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod api;
pub mod audit;
pub mod body;
pub mod catchers;
pub mod clock;
pub mod config;
pub mod error;
pub mod guards;
pub mod headers;
pub mod ids;
pub mod limits;
pub mod log;
pub mod nojs;
pub mod notify;
pub mod pages;
pub mod restore;
pub mod retention;
pub mod service;
pub mod snapshot;
pub mod storage;
pub mod tokens;

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use rocket::figment::Figment;
use rocket::{Build, Rocket};

use crate::admission::{Gate, Policy};
use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::config::{ConfigError, Destinations, Settings};
use crate::storage::{Registry, Store, StoreError};
use crate::tokens::Tokens;

/// Everything a request handler may use.
pub struct AppState {
    /// The configuration.
    pub settings: Settings,
    /// The destinations offered.
    pub destinations: Destinations,
    /// Where cases, upload sessions and age files are kept.
    pub storage: Arc<dyn Store>,
    /// Every change holds it until durable and audited; a snapshot stops changes with it.
    pub writes: Arc<storage::pause::Pause>,
    /// Investigator tokens and the audit log are kept here.
    pub registry: Arc<dyn Registry>,
    /// Investigator tokens.
    pub tokens: Tokens,
    /// The audit log.
    pub audit: AuditLog,
    /// Admission: who must solve a puzzle first, and how hard.
    pub gate: Gate,
    /// Disk room being written right now.
    pub disk: crate::limits::DiskReserve,
    /// Room for no-JavaScript submissions (each may hold a document in memory).
    pub nojs: Arc<nojs::form::Memory>,
    /// Room for threads read by the no-JavaScript check-back (each decrypted in memory).
    pub nojs_reading: nojs::check::Reading,
    /// The one-time tokens of no-JavaScript forms that filed a report (a reload must
    /// not file twice).
    pub filed_forms: nojs::once::FiledForms,
}

/// The shared application state (Rocket-managed).
#[derive(Clone)]
pub struct App(Arc<AppState>);

impl Deref for App {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

/// Why the server cannot start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is wrong.
    Config(ConfigError),
    /// The data directory cannot be used.
    Storage(StoreError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Config(e) => e.fmt(f),
            StartError::Storage(e) => write!(f, "the storage cannot be used: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// The registry (tokens and audit log) the configuration names.
pub fn registry(settings: &Settings) -> Result<Arc<dyn Registry>, StartError> {
    storage::registry(settings).map_err(StartError::Storage)
}

/// Builds the server from a figment (see [`config::figment`]).
pub fn build(figment: Figment, clock: Clock) -> Result<(Rocket<Build>, App), StartError> {
    let settings = config::settings(&figment).map_err(StartError::Config)?;
    let destinations =
        Destinations::from_settings(&settings, clock.today()).map_err(StartError::Config)?;
    let storage::Opened {
        store: storage,
        registry,
        postgres,
        embedded,
        pause,
    } = storage::open(&settings, clock).map_err(StartError::Storage)?;
    let app = App(Arc::new(AppState {
        tokens: Tokens::new(registry.clone()),
        audit: AuditLog::new(registry.clone()),
        registry,
        disk: crate::limits::DiskReserve::default(),
        gate: Gate::new(Policy {
            per_hour: u64::from(settings.submissions_per_hour),
            upload_mib_per_hour: settings.upload_bytes_per_hour.as_u64() / (1024 * 1024),
            max_difficulty: settings.max_difficulty,
            nojs_per_hour: u64::from(settings.nojs_submissions_per_hour),
        }),
        nojs: Arc::new(nojs::form::Memory::new(nojs::MEMORY)),
        nojs_reading: nojs::check::Reading::new(settings.max_thread_bytes.as_u64()),
        filed_forms: nojs::once::FiledForms::default(),
        storage,
        writes: pause.clone(),
        destinations,
        settings,
    }));
    let rocket = rocket::custom(figment)
        .manage(app.clone())
        .manage(meldpunt_pages::Pages::new())
        .mount("/", pages::routes())
        .mount("/", nojs::routes())
        .mount(api::BASE, api::routes())
        .register("/", catchers::catchers())
        .attach(headers::SecurityHeaders)
        .attach(retention::fairing());
    let rocket = match embedded {
        Some(embedded) => {
            let [listen, remove] = snapshot::fairings(embedded, pause);
            rocket.attach(listen).attach(remove)
        }
        None => rocket,
    };
    let rocket = match postgres {
        // Connect, apply the schema, finish removals cut short, before serving.
        Some(pg) => rocket.attach(rocket::fairing::AdHoc::try_on_ignite(
            "storage",
            |rocket| async move {
                match pg.prepare().await {
                    Ok(()) => Ok(rocket),
                    Err(e) => {
                        eprintln!("meldpunt-server: the storage cannot be used: {e}");
                        Err(rocket)
                    }
                }
            },
        )),
        None => rocket,
    };
    Ok((rocket, app))
}
