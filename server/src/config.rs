//! The operator's configuration: `Meldpunt.toml` plus `MELDPUNT_*` environment
//! variables, read through Rocket's figment. Every key is documented in docs/CONFIG.md.

use std::fmt;
use std::path::{Path, PathBuf};

use meldpunt_crypto::{Day, Destination, DestinationError, InvestigatorKey};
use rocket::data::ByteUnit;
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::Figment;
use serde::Deserialize;

/// The configuration file read when no other is named.
pub const DEFAULT_CONFIG_FILE: &str = "Meldpunt.toml";
/// The demo destination's name.
pub const DEMO_DESTINATION: &str = "demo";
/// The demo destination's key file, inside the data directory.
pub const DEMO_KEY_FILE: &str = "DEMO-ONLY-destination-key.txt";

/// One destination as the operator writes it.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    /// Short name (letters, digits, `-`, `_`), as clients and tokens refer to it.
    pub name: String,
    /// What the reporter reads about it: one text, or one per language
    /// (`description = { nl = "…", en = "…" }`).
    #[serde(default)]
    pub description: Description,
    /// The age recipients (`age1…`) of everyone who may read its reports.
    pub recipients: Vec<String>,
    /// Where the organisation publishes the same fingerprint, so reporters can compare
    /// (for example "www.example.org/integrity, under 'Report anonymously'").
    #[serde(default)]
    pub published_at: String,
}

/// What the reporter reads about a destination, in the page's language.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum Description {
    /// The same text on the Dutch and the English pages.
    Plain(String),
    /// A text per language.
    PerLanguage(PerLanguage),
}

/// A destination's description per language.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PerLanguage {
    /// Nederlands.
    #[serde(default)]
    pub nl: String,
    /// English.
    #[serde(default)]
    pub en: String,
}

impl Default for Description {
    fn default() -> Self {
        Description::Plain(String::new())
    }
}

impl Description {
    /// The text for the language with this code (`nl`, `en`); where the operator wrote
    /// none in that language, the other one (something to read beats nothing).
    pub fn in_language(&self, lang: &str) -> &str {
        match self {
            Description::Plain(text) => text,
            Description::PerLanguage(texts) => {
                let (wanted, other) = if lang == "en" {
                    (&texts.en, &texts.nl)
                } else {
                    (&texts.nl, &texts.en)
                };
                if wanted.trim().is_empty() {
                    other
                } else {
                    wanted
                }
            }
        }
    }

    /// The languages a description per language lacks (for `check-config`); a plain text
    /// lacks none, though it is shown unchanged on both pages.
    pub fn missing_languages(&self) -> Vec<&'static str> {
        match self {
            Description::Plain(_) => Vec::new(),
            Description::PerLanguage(texts) => [("nl", &texts.nl), ("en", &texts.en)]
                .into_iter()
                .filter(|(_, t)| t.trim().is_empty())
                .map(|(l, _)| l)
                .collect(),
        }
    }
}

/// Everything Meldpunt reads from the configuration (Rocket reads its own keys, such
/// as `address` and `port`, from the same sources).
#[derive(Deserialize, Clone, Debug)]
pub struct Settings {
    /// Where everything is stored.
    #[serde(default = "defaults::data_dir")]
    pub data_dir: PathBuf,
    /// Make a demo destination (with its private key in the data directory) when none
    /// is configured.
    #[serde(default)]
    pub demo: bool,
    /// The destinations reporters can choose.
    #[serde(default)]
    pub destinations: Vec<DestinationConfig>,
    /// Largest report age file.
    #[serde(default = "defaults::max_report")]
    pub max_report: ByteUnit,
    /// Largest thread message (and reporter note) age file.
    #[serde(default = "defaults::max_message")]
    pub max_message: ByteUnit,
    /// Largest attachment age file.
    #[serde(default = "defaults::max_attachment")]
    pub max_attachment: ByteUnit,
    /// Most attachments with one report.
    #[serde(default = "defaults::max_attachments")]
    pub max_attachments: u32,
    /// Most bytes of attachments with one report.
    #[serde(default = "defaults::max_case")]
    pub max_case: ByteUnit,
    /// Reports, answers and new upload sessions (each on its own) per hour from everyone
    /// together before clients must solve a puzzle (admission.rs).
    #[serde(default = "defaults::submissions_per_hour")]
    pub submissions_per_hour: u32,
    /// Attachment bytes per hour from everyone together before clients must solve a
    /// puzzle per chunk.
    #[serde(default = "defaults::upload_bytes_per_hour")]
    pub upload_bytes_per_hour: ByteUnit,
    /// The highest puzzle difficulty for reports and answers (sessions and bytes: 4 more).
    #[serde(default = "defaults::max_difficulty")]
    pub max_difficulty: u8,
    /// Most messages in one case's thread (both directions).
    #[serde(default = "defaults::max_thread_messages")]
    pub max_thread_messages: u32,
    /// Most bytes of messages in one case's thread.
    #[serde(default = "defaults::max_thread_bytes")]
    pub max_thread_bytes: ByteUnit,
    /// No-JavaScript submissions (reports and answers) per hour: a hard budget, since
    /// that tier cannot solve puzzles.
    #[serde(default = "defaults::nojs_submissions_per_hour")]
    pub nojs_submissions_per_hour: u32,
    /// Uploads are refused when less than this is free on the data directory's disk.
    #[serde(default = "defaults::min_free_disk")]
    pub min_free_disk: ByteUnit,
    /// Closed cases are shredded this many days after they were closed.
    #[serde(default = "defaults::retention_days")]
    pub retention_days: u32,
    /// …but never within this many days after new content arrived.
    #[serde(default = "defaults::retention_grace_days")]
    pub retention_grace_days: u32,
    /// A closed case can be shredded by investigators (two of them) only this many days
    /// after it was closed.
    #[serde(default = "defaults::min_days_closed_before_shred")]
    pub min_days_closed_before_shred: u32,
    /// Upload sessions without a report are removed after this many days.
    #[serde(default = "defaults::upload_session_days")]
    pub upload_session_days: u32,
    /// A command run (without arguments about the case) when a new case arrives.
    #[serde(default)]
    pub notify_command: Option<Vec<String>>,
    /// Where everything is kept: `embedded` (sled in `data_dir`, the default) or
    /// `postgres` (PostgreSQL plus an S3-compatible object store; the keys below).
    #[serde(default)]
    pub storage: crate::storage::Backend,
    /// PostgreSQL connection string (`host=/run/postgresql dbname=meldpunt user=meldpunt`
    /// or `postgresql://…`).
    #[serde(default)]
    pub postgres_url: Option<String>,
    /// Connections each server instance keeps to PostgreSQL at most.
    #[serde(default = "defaults::postgres_pool")]
    pub postgres_pool: usize,
    /// The S3-compatible object store's endpoint (`http://127.0.0.1:9000`).
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    /// The bucket attachment ciphertext is kept in (made by the operator).
    #[serde(default)]
    pub s3_bucket: Option<String>,
    /// The region the object store says it is in.
    #[serde(default = "defaults::s3_region")]
    pub s3_region: String,
    /// The object store's access key id.
    #[serde(default)]
    pub s3_access_key_id: Option<String>,
    /// The object store's secret access key.
    #[serde(default)]
    pub s3_secret_access_key: Option<String>,
    /// Allow `http://` endpoints (only for an object store on the same machine).
    #[serde(default)]
    pub s3_allow_http: bool,
}

impl Settings {
    /// Whether the demo destination is offered when none is configured: asked for
    /// (`demo = true`, `serve --demo`), or a data directory to which `serve --demo`
    /// already gave the demo key. The key file is the marker, so `token create …
    /// --destination demo`, `check-config` and a later `serve` work on the demo install
    /// without repeating the flag; configured destinations always replace the demo.
    pub fn is_demo(&self) -> bool {
        self.demo || self.data_dir.join(DEMO_KEY_FILE).is_file()
    }
}

mod defaults {
    use rocket::data::{ByteUnit, ToByteUnit};
    use std::path::PathBuf;

    pub fn data_dir() -> PathBuf {
        PathBuf::from("meldpunt-data")
    }
    pub fn max_report() -> ByteUnit {
        8.mebibytes()
    }
    pub fn max_message() -> ByteUnit {
        1.mebibytes()
    }
    pub fn max_attachment() -> ByteUnit {
        2.gibibytes()
    }
    pub fn max_attachments() -> u32 {
        20
    }
    pub fn max_case() -> ByteUnit {
        8.gibibytes()
    }
    pub fn submissions_per_hour() -> u32 {
        120
    }
    pub fn upload_bytes_per_hour() -> ByteUnit {
        20.gibibytes()
    }
    pub fn max_thread_messages() -> u32 {
        200
    }
    pub fn max_thread_bytes() -> ByteUnit {
        32.mebibytes()
    }
    pub fn max_difficulty() -> u8 {
        6
    }
    pub fn nojs_submissions_per_hour() -> u32 {
        30
    }
    pub fn min_free_disk() -> ByteUnit {
        1.gibibytes()
    }
    pub fn retention_days() -> u32 {
        180
    }
    pub fn min_days_closed_before_shred() -> u32 {
        14
    }
    pub fn retention_grace_days() -> u32 {
        30
    }
    pub fn upload_session_days() -> u32 {
        7
    }
    pub fn postgres_pool() -> usize {
        32
    }
    pub fn s3_region() -> String {
        "us-east-1".into()
    }
}

/// Why the server refuses to start.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration could not be read or has a wrong value.
    Read(String),
    /// A destination's recipients are wrong (names the destination and the key).
    Destination(DestinationError),
    /// A destination name is not usable.
    BadName(String),
    /// Two destinations have the same name.
    DuplicateName(String),
    /// No destination, and demo mode is off.
    NoDestinations,
    /// A limit makes no sense.
    BadValue(String),
    /// The demo key could not be made or read.
    DemoKey(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read(e) => write!(f, "the configuration cannot be read: {e}"),
            ConfigError::Destination(e) => write!(f, "invalid destination: {e}"),
            ConfigError::BadName(name) => write!(
                f,
                "destination name \"{name}\" is not usable: use 1 to 40 letters, digits, \
                 '-' or '_'"
            ),
            ConfigError::DuplicateName(name) => {
                write!(f, "destination \"{name}\" is configured twice")
            }
            ConfigError::NoDestinations => f.write_str(
                "no destination is configured: add a [[destinations]] table with the bureau's \
                 age recipients to the configuration (see docs/CONFIG.md), or set demo = true \
                 to try Meldpunt with a demo key",
            ),
            ConfigError::BadValue(e) => write!(f, "invalid setting: {e}"),
            ConfigError::DemoKey(e) => write!(f, "the demo destination key: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The figment all configuration comes from: Rocket's defaults, the file, the
/// environment, and the privacy settings that cannot be overridden.
pub fn figment(config_file: &Path) -> Figment {
    Figment::from(rocket::Config::default())
        .merge(Toml::file(config_file))
        .merge(
            Env::prefixed("MELDPUNT_")
                .ignore(&["CONFIG"])
                .split("__")
                .global(),
        )
        // No client address is ever read from a header (X-Real-IP, X-Forwarded-For).
        .merge(Serialized::global(rocket::Config::IP_HEADER, false))
        // No line per request: Rocket's logging is off; the server prints its start-up
        // and its own errors, which never name a client.
        .merge(Serialized::global(rocket::Config::LOG_LEVEL, "off"))
        .merge(Serialized::global(rocket::Config::CLI_COLORS, false))
        // No `Server:` header telling the software's name.
        .merge(Serialized::global(rocket::Config::IDENT, false))
}

/// Reads and checks Meldpunt's settings.
pub fn settings(figment: &Figment) -> Result<Settings, ConfigError> {
    let settings: Settings = figment
        .extract()
        .map_err(|e| ConfigError::Read(e.to_string()))?;
    if settings.max_attachments == 0 || settings.max_attachments > crate::ids::MAX_ATTACHMENT_NUMBER
    {
        return Err(ConfigError::BadValue(format!(
            "max_attachments must be between 1 and {}",
            crate::ids::MAX_ATTACHMENT_NUMBER
        )));
    }
    if settings.max_report < ByteUnit::from(1024) || settings.max_message < ByteUnit::from(1024) {
        return Err(ConfigError::BadValue(
            "max_report and max_message must be at least 1 KiB".into(),
        ));
    }
    if settings.submissions_per_hour == 0 {
        return Err(ConfigError::BadValue(
            "submissions_per_hour must be at least 1".into(),
        ));
    }
    if settings.max_difficulty > 16 {
        return Err(ConfigError::BadValue(
            "max_difficulty must be at most 16 (at 16 a reporter without WebAssembly would \
             wait hours)"
                .into(),
        ));
    }
    Ok(settings)
}

/// A destination as the server offers it.
#[derive(Clone, Debug)]
pub struct OfferedDestination {
    /// The name, recipients and fingerprint.
    pub destination: Destination,
    /// What the reporter reads about it.
    pub description: Description,
    /// Where the organisation publishes the fingerprint.
    pub published_at: String,
}

/// The destinations the server offers, checked.
#[derive(Clone, Debug)]
pub struct Destinations {
    list: Vec<OfferedDestination>,
    /// Where the demo key lies, if this is the demo destination.
    pub demo_key_file: Option<PathBuf>,
}

impl Destinations {
    /// The destinations, in configuration order.
    pub fn all(&self) -> &[OfferedDestination] {
        &self.list
    }

    /// Remarks for the operator (`check-config`): descriptions that lack a language.
    pub fn notes(&self) -> Vec<String> {
        self.list
            .iter()
            .flat_map(|d| {
                d.description.missing_languages().into_iter().map(|l| {
                    format!(
                        "destination \"{}\" has no description in \"{l}\": that page shows the \
                         other language's",
                        d.destination.name
                    )
                })
            })
            .collect()
    }

    /// One destination by name.
    pub fn get(&self, name: &str) -> Option<&OfferedDestination> {
        self.list.iter().find(|d| d.destination.name == name)
    }

    /// Checks every configured destination. With none configured and `demo` on, makes
    /// (or reuses) the demo destination whose private key lies in the data directory.
    pub fn from_settings(settings: &Settings, today: Day) -> Result<Self, ConfigError> {
        let mut list: Vec<OfferedDestination> = Vec::new();
        for d in &settings.destinations {
            check_name(&d.name)?;
            if list.iter().any(|o| o.destination.name == d.name) {
                return Err(ConfigError::DuplicateName(d.name.clone()));
            }
            let destination =
                Destination::new(&d.name, &d.recipients).map_err(ConfigError::Destination)?;
            list.push(OfferedDestination {
                destination,
                description: d.description.clone(),
                published_at: d.published_at.clone(),
            });
        }
        if !list.is_empty() {
            return Ok(Self {
                list,
                demo_key_file: None,
            });
        }
        if !settings.is_demo() {
            return Err(ConfigError::NoDestinations);
        }
        let path = settings.data_dir.join(DEMO_KEY_FILE);
        let recipient = demo_recipient(&path, today)?;
        let path = path.canonicalize().unwrap_or(path);
        let destination = Destination::from_recipients(DEMO_DESTINATION, vec![recipient])
            .map_err(ConfigError::Destination)?;
        list.push(OfferedDestination {
            destination,
            description: Description::PerLanguage(PerLanguage {
                nl: "ALLEEN OM TE PROBEREN. De privésleutel van deze bestemming staat op de \
                     server: stuur hier nooit een echte melding."
                    .into(),
                en: "DEMO ONLY. The private key of this destination lies on the server: \
                     never send a real report here."
                    .into(),
            }),
            published_at: String::new(),
        });
        Ok(Self {
            list,
            demo_key_file: Some(path),
        })
    }

    /// The names tokens may refer to, without making a demo key.
    pub fn names(settings: &Settings) -> Vec<String> {
        if settings.destinations.is_empty() && settings.is_demo() {
            vec![DEMO_DESTINATION.to_owned()]
        } else {
            settings
                .destinations
                .iter()
                .map(|d| d.name.clone())
                .collect()
        }
    }
}

fn check_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::BadName(name.to_owned()))
    }
}

fn demo_recipient(path: &Path, today: Day) -> Result<meldpunt_crypto::Recipient, ConfigError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ConfigError::DemoKey(e.to_string()))?;
    }
    if path.exists() {
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigError::DemoKey(format!("{}: {e}", path.display())))?;
        let keys = meldpunt_crypto::load_keys(&bytes, || None)
            .map_err(|e| ConfigError::DemoKey(format!("{}: {e}", path.display())))?;
        return Ok(keys[0].recipient());
    }
    let key = InvestigatorKey::generate();
    meldpunt_crypto::identity::write_key_file(path, key.to_key_file(today).as_bytes())
        .map_err(|e| ConfigError::DemoKey(format!("{}: {e}", path.display())))?;
    crate::clock::FileDay::of(today).apply(path);
    Ok(key.recipient())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_from(toml: &str) -> Result<Settings, ConfigError> {
        let fig = Figment::from(rocket::Config::default()).merge(Toml::string(toml));
        settings(&fig)
    }

    #[test]
    fn an_invalid_key_is_named() {
        let s = settings_from(
            r#"
            [[destinations]]
            name = "bureau"
            recipients = ["age1notarealkey"]
            "#,
        )
        .unwrap();
        let err = Destinations::from_settings(&s, Day::today())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("age1notarealkey") && err.contains("bureau"),
            "{err}"
        );
    }

    #[test]
    fn no_destination_without_demo_refuses() {
        let s = settings_from("").unwrap();
        assert!(matches!(
            Destinations::from_settings(&s, Day::today()),
            Err(ConfigError::NoDestinations)
        ));
    }

    #[test]
    fn defaults_allow_two_gibibyte_attachments() {
        let s = settings_from("").unwrap();
        assert!(s.max_attachment >= ByteUnit::Gibibyte(2));
        let s = settings_from("max_attachment = \"3 GiB\"\nmax_report = \"64 KiB\"").unwrap();
        assert_eq!(s.max_attachment, ByteUnit::Gibibyte(3));
        assert_eq!(s.max_report, ByteUnit::Kibibyte(64));
    }

    #[test]
    fn bad_names_and_duplicates_refuse() {
        let key = InvestigatorKey::generate().recipient().to_string();
        let s = settings_from(&format!(
            "[[destinations]]\nname = \"a b\"\nrecipients = [\"{key}\"]"
        ))
        .unwrap();
        assert!(matches!(
            Destinations::from_settings(&s, Day::today()),
            Err(ConfigError::BadName(_))
        ));
        let s = settings_from(&format!(
            "[[destinations]]\nname = \"a\"\nrecipients = [\"{key}\"]\n\
             [[destinations]]\nname = \"a\"\nrecipients = [\"{key}\"]"
        ))
        .unwrap();
        assert!(matches!(
            Destinations::from_settings(&s, Day::today()),
            Err(ConfigError::DuplicateName(_))
        ));
    }

    #[test]
    fn descriptions_per_language_or_one_for_both() {
        let key = InvestigatorKey::generate().recipient().to_string();
        let s = settings_from(&format!(
            "[[destinations]]\nname = \"bureau\"\nrecipients = [\"{key}\"]\n\
             description = {{ nl = \"Bureau Integriteit\", en = \"Integrity bureau\" }}\n\
             [[destinations]]\nname = \"commission\"\nrecipients = [\"{key}\"]\n\
             description = \"Commissie\"\n\
             [[destinations]]\nname = \"other\"\nrecipients = [\"{key}\"]\n\
             description = {{ nl = \"Alleen Nederlands\" }}"
        ))
        .unwrap();
        let d = Destinations::from_settings(&s, Day::today()).unwrap();
        let [bureau, commission, other] = d.all() else {
            panic!("three destinations")
        };
        assert_eq!(bureau.description.in_language("nl"), "Bureau Integriteit");
        assert_eq!(bureau.description.in_language("en"), "Integrity bureau");
        assert_eq!(commission.description.in_language("en"), "Commissie");
        assert_eq!(other.description.in_language("en"), "Alleen Nederlands");
        assert_eq!(d.notes().len(), 1, "{:?}", d.notes());
        assert!(d.notes()[0].contains("\"other\"") && d.notes()[0].contains("\"en\""));
        // A language Meldpunt has no pages in is a mistake, not silently ignored.
        let s = settings_from(&format!(
            "[[destinations]]\nname = \"b\"\nrecipients = [\"{key}\"]\n\
             description = {{ de = \"Büro\" }}"
        ));
        assert!(s.is_err());
    }
}
