//! Which backend the configuration names, opened.

use std::sync::Arc;

use serde::Deserialize;

use super::embedded::registry::FileRegistry;
use super::embedded::Embedded;
use super::pause::Pause;
use super::postgres::registry::PgRegistry;
use super::postgres::Postgres;
use super::{Registry, Store, StoreError};
use crate::clock::Clock;
use crate::config::Settings;

/// Where the server keeps what it holds (`storage` in the configuration).
#[derive(Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// sled and attachment files in `data_dir` (the default).
    #[default]
    Embedded,
    /// PostgreSQL and an S3-compatible object store, shared by several instances.
    Postgres,
}

/// An opened backend: the store, its registry, and (PostgreSQL) the start-up work.
pub struct Opened {
    /// Cases, sessions, age files, counters.
    pub store: Arc<dyn Store>,
    /// Tokens and the audit log.
    pub registry: Arc<dyn Registry>,
    /// The PostgreSQL backend, to prepare once the runtime runs.
    pub postgres: Option<Arc<Postgres>>,
    /// The embedded backend, which takes snapshots (`crate::snapshot`).
    pub embedded: Option<Arc<Embedded>>,
    /// The pause every change holds (a snapshot stops them with it).
    pub pause: Arc<Pause>,
}

/// Opens the backend the settings name.
pub fn open(settings: &Settings, clock: Clock) -> Result<Opened, StoreError> {
    match settings.storage {
        Backend::Embedded => {
            let embedded = Arc::new(Embedded::open(&settings.data_dir, clock)?);
            Ok(Opened {
                store: embedded.clone(),
                registry: Arc::new(FileRegistry::new(&settings.data_dir)),
                postgres: None,
                pause: embedded.pause().clone(),
                embedded: Some(embedded),
            })
        }
        Backend::Postgres => {
            let pg = Arc::new(Postgres::open(settings, clock)?);
            Ok(Opened {
                store: pg.clone(),
                registry: Arc::new(PgRegistry::new(pg.pool().clone())),
                postgres: Some(pg),
                embedded: None,
                // PostgreSQL is backed up with its own tools while it serves.
                pause: Arc::default(),
            })
        }
    }
}

/// The registry alone (the operator's commands, while the server runs).
pub fn registry(settings: &Settings) -> Result<Arc<dyn Registry>, StoreError> {
    Ok(match settings.storage {
        Backend::Embedded => Arc::new(FileRegistry::new(&settings.data_dir)),
        Backend::Postgres => Arc::new(PgRegistry::new(super::postgres::pool(settings)?)),
    })
}
