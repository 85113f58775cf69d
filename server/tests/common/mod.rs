//! Shared helpers for the server's tests: real keys, real age files made with
//! meldpunt-crypto, a server built on a fresh data directory.
#![allow(dead_code, clippy::new_without_default)]

#[allow(dead_code)] // not every test binary runs on both backends
pub mod backend;

use meldpunt_crypto::age;
use meldpunt_crypto::{
    seal_report, AttachmentEntry, Category, Day, Destination, EncryptedBy, InvestigatorKey,
    ReportContent, ReporterKeys, ReturnCode,
};

/// A reporter: a fresh return code and everything derived from it.
pub struct Reporter {
    pub code: ReturnCode,
    pub keys: ReporterKeys,
}

impl Reporter {
    pub fn new() -> Self {
        let code = ReturnCode::generate(&mut rand::rngs::OsRng);
        let keys = ReporterKeys::derive_from(&code);
        Self { code, keys }
    }

    /// The `Meldpunt-Mailbox` header value.
    pub fn credential(&self) -> String {
        self.keys.credential().to_header_value().to_string()
    }

    /// A sealed report whose description is `marker`.
    pub fn report(
        &self,
        to: &Destination,
        marker: &str,
        attachments: Vec<AttachmentEntry>,
    ) -> Vec<u8> {
        let content = ReportContent {
            category: Category::Fraud,
            concerning: "the head of purchasing".into(),
            description: marker.into(),
            when_where: "last spring".into(),
            contact: None,
            attachments,
            date: Day::today(),
            encrypted_by: EncryptedBy::Browser,
        };
        seal_report(&content, &self.keys, to).expect("a report seals")
    }
}

/// Whether an age file's header holds age 0.12's grease stanza.
pub fn has_grease(age_file: &[u8]) -> bool {
    let header_end = age_file
        .windows(5)
        .position(|w| w == b"\n--- ")
        .expect("an age header");
    String::from_utf8_lossy(&age_file[..header_end]).contains("-grease")
}

/// A passphrase-encrypted (scrypt) age file.
pub fn scrypt_file() -> Vec<u8> {
    let enc =
        age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from("pw".to_owned()));
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).unwrap();
    std::io::Write::write_all(&mut w, &[0u8; 20_000]).unwrap();
    w.finish().unwrap();
    out
}

/// A streamed attachment: the age file and its manifest entry.
pub fn attachment(to: &Destination, plaintext: &[u8], name: &str) -> (Vec<u8>, AttachmentEntry) {
    let mut ct = Vec::new();
    let digest = meldpunt_crypto::encrypt_attachment(
        to.recipients(),
        plaintext,
        plaintext.len() as u64,
        &mut ct,
    )
    .expect("an attachment encrypts");
    (
        ct,
        AttachmentEntry::new(name.into(), plaintext.len() as u64, &digest),
    )
}

/// Two destinations: the bureau (one key) and the commission (two keys).
pub struct Keys {
    pub bureau_key: InvestigatorKey,
    pub commission_keys: Vec<InvestigatorKey>,
    pub bureau: Destination,
    pub commission: Destination,
}

impl Keys {
    pub fn new() -> Self {
        let bureau_key = InvestigatorKey::generate();
        let commission_keys = vec![InvestigatorKey::generate(), InvestigatorKey::generate()];
        let bureau = Destination::from_recipients("bureau", vec![bureau_key.recipient()]).unwrap();
        let commission = Destination::from_recipients(
            "commission",
            commission_keys.iter().map(|k| k.recipient()).collect(),
        )
        .unwrap();
        Self {
            bureau_key,
            commission_keys,
            bureau,
            commission,
        }
    }

    /// The `destinations` configuration value.
    pub fn config(&self) -> serde_json::Value {
        serde_json::json!([
            {
                "name": "bureau",
                "description": "Bureau Integriteit",
                "recipients": self.bureau.recipients().iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            },
            {
                "name": "commission",
                "description": "Independent integrity commission",
                "recipients": self.commission.recipients().iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            }
        ])
    }

    /// The same as `Meldpunt.toml` text.
    pub fn toml(&self) -> String {
        let mut out = String::new();
        for d in [&self.bureau, &self.commission] {
            let recipients: Vec<String> =
                d.recipients().iter().map(|r| format!("\"{r}\"")).collect();
            out.push_str(&format!(
                "[[destinations]]\nname = \"{}\"\nrecipients = [{}]\n\n",
                d.name,
                recipients.join(", ")
            ));
        }
        out
    }
}

/// Every byte of every file under `dir`.
pub fn all_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Runs one storage call to completion (storage is async; these tests are not).
pub fn wait<T>(f: impl std::future::Future<Output = T>) -> T {
    rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
}
