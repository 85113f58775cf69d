//! The report envelope (kind 0x01, PROTOCOL.md §5.2 and §5.5): what the reporter wrote,
//! the attachment manifest, and the reporter block the bureau needs to answer; signed by
//! the reporter and encrypted to the destination's recipients.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{
    ciphertext_hash, frame, parse_hex, parse_recipients, sign, to_json, unframe, verify_signature,
    Kind, OpenError, SealError, ThreadSecrets,
};
use crate::agefile;
use crate::day::Day;
use crate::derive::{ReporterKeys, ThreadId, ThreadKey};
use crate::recipients::{Destination, Recipient};

/// What the report is about: the bureau's own list (seeds/000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Looked in systems without need or right.
    SystemLookup,
    /// Gave information to people not entitled to it.
    InformationDisclosure,
    /// Fraud.
    Fraud,
    /// Theft, waste or misuse of property.
    PropertyMisuse,
    /// Conflicting interests or side activities.
    ConflictOfInterest,
    /// Undesirable behaviour: aggression, violence, discrimination, (sexual)
    /// harassment, bullying, stalking.
    UndesirableBehaviour,
    /// Anything else.
    Other,
}

impl Category {
    /// Every category, in the order the bureau lists them.
    pub const ALL: [Category; 7] = [
        Category::SystemLookup,
        Category::InformationDisclosure,
        Category::Fraud,
        Category::PropertyMisuse,
        Category::ConflictOfInterest,
        Category::UndesirableBehaviour,
        Category::Other,
    ];

    /// The name in reports, pages and the API (`system_lookup`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SystemLookup => "system_lookup",
            Category::InformationDisclosure => "information_disclosure",
            Category::Fraud => "fraud",
            Category::PropertyMisuse => "property_misuse",
            Category::ConflictOfInterest => "conflict_of_interest",
            Category::UndesirableBehaviour => "undesirable_behaviour",
            Category::Other => "other",
        }
    }

    /// The category with this name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The category in plain English, for investigators' documents.
    pub fn words(self) -> &'static str {
        match self {
            Category::SystemLookup => "looked in systems without need or right",
            Category::InformationDisclosure => "gave information to people not entitled to it",
            Category::Fraud => "fraud",
            Category::PropertyMisuse => "theft, waste or misuse of property",
            Category::ConflictOfInterest => "conflicting interests or side activities",
            Category::UndesirableBehaviour => "undesirable behaviour",
            Category::Other => "other",
        }
    }
}

/// Whether the report was encrypted in the reporter's browser or, in the no-JavaScript
/// tier, by the server on arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncryptedBy {
    /// End to end: the browser encrypted it.
    Browser,
    /// The server saw the plaintext while it encrypted it (Tor Browser "Safest").
    Server,
}

/// One attachment in the report's manifest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct AttachmentEntry {
    /// The file name the reporter's file had (untrusted: make it safe before use).
    pub name: String,
    /// Plaintext size in bytes; the decrypted file is padded beyond it with zeros.
    pub size: u64,
    /// Size of the age file in bytes.
    pub ciphertext_size: u64,
    /// SHA-256 of the age file, lower-case hex.
    pub ciphertext_sha256: String,
    /// What was done about the document's hidden metadata before it was encrypted.
    /// Absent in reports from before this record existed, and for attachments the page
    /// did not check; never written when absent, so older readers still open the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataRecord>,
}

/// The most kinds one [`MetadataRecord`] may list.
pub const MAX_METADATA_KINDS: usize = 64;
/// The longest kind name in a [`MetadataRecord`].
pub const MAX_METADATA_KIND_LEN: usize = 40;

/// What the reporter's page (or, in the no-JavaScript tier, the server) did about an
/// attachment's hidden metadata (author, GPS position, …) before encrypting it. Kinds
/// only, never the values: the record tells the investigator that the file was altered
/// and why, without repeating what identified the reporter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
#[serde(deny_unknown_fields)]
pub struct MetadataRecord {
    /// The kinds removed (`author`, `gps_position`, …: the names of
    /// `meldpunt-metadata`'s finding kinds), each once. Empty when nothing was removed.
    pub removed: Vec<String>,
    /// The reporter saw what was found and chose to send the original as it was.
    pub kept_original: bool,
    /// Whether the document's format could be checked at all. `false` for formats the
    /// page cannot read (e-mail, audio, video, unknown files): their metadata is unknown.
    pub checked: bool,
}

impl MetadataRecord {
    /// Whether every kind is a plain name (`[a-z][a-z0-9_]*`, at most
    /// [`MAX_METADATA_KIND_LEN`] characters), at most [`MAX_METADATA_KINDS`] of them, each
    /// once. Only such records are sealed or opened, so a reader may show them as they are.
    pub fn is_well_formed(&self) -> bool {
        let plain = |k: &String| {
            let b = k.as_bytes();
            !b.is_empty()
                && b.len() <= MAX_METADATA_KIND_LEN
                && b[0].is_ascii_lowercase()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        };
        self.removed.len() <= MAX_METADATA_KINDS
            && self.removed.iter().all(plain)
            && self
                .removed
                .iter()
                .enumerate()
                .all(|(i, k)| !self.removed[..i].contains(k))
    }
}

fn metadata_well_formed(attachments: &[AttachmentEntry]) -> bool {
    attachments
        .iter()
        .filter_map(|a| a.metadata.as_ref())
        .all(MetadataRecord::is_well_formed)
}

/// What the reporter wrote. Sensitive: zeroized on drop, and not `Debug`.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    /// What the report is about.
    #[zeroize(skip)]
    pub category: Category,
    /// Name and function of the employee concerned (may be empty).
    pub concerning: String,
    /// A detailed description of what happened.
    pub description: String,
    /// Time and place of what happened (may be empty).
    pub when_where: String,
    /// Contact details. Giving them ends anonymity; kept apart so the report can be
    /// shared inside the bureau without them.
    pub contact: Option<String>,
    /// The attachments, uploaded before the report.
    pub attachments: Vec<AttachmentEntry>,
    /// The day the report was written.
    #[zeroize(skip)]
    pub date: Day,
    /// Where the plaintext was encrypted.
    #[zeroize(skip)]
    pub encrypted_by: EncryptedBy,
}

impl ReportContent {
    /// Whether the reporter typed the return code into any field. Sending it would give
    /// the bureau the power to read and write as the reporter, so pages refuse.
    pub fn mentions(&self, code: &crate::ReturnCode) -> bool {
        [&self.concerning, &self.description, &self.when_where]
            .into_iter()
            .chain(self.contact.as_ref())
            .chain(self.attachments.iter().map(|a| &a.name))
            .any(|field| code.appears_in(field))
    }
}

/// The JSON body of a report envelope (PROTOCOL.md §5.2).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    destination: String,
    recipients: Vec<String>,
    content: ReportContent,
    reporter: ReporterBlock,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct ReporterBlock {
    recipient: String,
    verifying_key: String,
    thread_id: String,
    thread_key: String,
}

/// A decrypted and verified report.
pub struct OpenedReport {
    /// The destination name the reporter chose.
    pub destination: String,
    /// The recipients the reporter's side says it encrypted to (compare with the
    /// pinned set: a difference means someone added a key).
    pub recipients: Vec<Recipient>,
    /// What the reporter wrote.
    pub content: ReportContent,
    /// What the bureau needs to answer and to check the thread.
    pub thread: ThreadSecrets,
    /// SHA-256 of the report's age file: the head of an empty thread.
    pub ciphertext_sha256: [u8; 32],
}

/// Seals a report: signs it with the reporter's key and encrypts it to every recipient
/// of `destination`. The report records the destination and those recipients.
pub fn seal_report(
    content: &ReportContent,
    keys: &ReporterKeys,
    destination: &Destination,
) -> Result<Vec<u8>, SealError> {
    if !metadata_well_formed(&content.attachments) {
        return Err(SealError::BadMetadataRecord);
    }
    let body = ReportBody {
        destination: destination.name.clone(),
        recipients: destination
            .recipients()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        content: content.clone(),
        reporter: ReporterBlock {
            recipient: keys.recipient().as_str().to_owned(),
            verifying_key: hex::encode(keys.verifying_key().as_bytes()),
            thread_id: hex::encode(keys.thread_id().0),
            thread_key: hex::encode(keys.thread_key().0),
        },
    };
    let json = to_json(&body)?;
    let sig = sign(keys, Kind::Report, &json);
    let plaintext = frame(Kind::Report, &json, &sig);
    Ok(agefile::encrypt(destination.recipients(), &plaintext)?)
}

/// Decrypts a report with any of `identities` and verifies the reporter's signature.
pub fn open_report(
    ciphertext: &[u8],
    identities: &[&dyn age::Identity],
) -> Result<OpenedReport, OpenError> {
    let plaintext = agefile::decrypt(identities, ciphertext)?;
    open_report_plaintext(&plaintext, ciphertext_hash(ciphertext))
}

fn open_report_plaintext(plaintext: &[u8], hash: [u8; 32]) -> Result<OpenedReport, OpenError> {
    let frame = unframe(plaintext)?;
    if frame.kind != Kind::Report {
        return Err(OpenError::WrongKind);
    }
    let body: ReportBody = serde_json::from_slice(frame.body)
        .map_err(|_| OpenError::Malformed("the report body is not valid report JSON"))?;
    let vk_bytes = parse_hex::<32>(&body.reporter.verifying_key, "bad verifying key")?;
    let vk = VerifyingKey::from_bytes(&vk_bytes)
        .map_err(|_| OpenError::Malformed("bad verifying key"))?;
    verify_signature(&vk, Kind::Report, frame.body, frame.auth)?;
    let recipients = parse_recipients(
        &body.recipients,
        "a listed recipient is not an age recipient",
    )?;
    if body
        .content
        .attachments
        .iter()
        .any(|a| a.sha256().is_none())
    {
        return Err(OpenError::Malformed(
            "an attachment hash is not 64 hex digits",
        ));
    }
    if !metadata_well_formed(&body.content.attachments) {
        return Err(OpenError::Malformed(
            "an attachment's metadata record lists a kind that is not a plain name",
        ));
    }
    let reporter_recipient = Recipient::parse(&body.reporter.recipient)
        .map_err(|_| OpenError::Malformed("the reporter's recipient is not an age recipient"))?;
    let thread = ThreadSecrets {
        thread_id: ThreadId(parse_hex::<16>(&body.reporter.thread_id, "bad thread id")?),
        thread_key: ThreadKey(parse_hex::<32>(
            &body.reporter.thread_key,
            "bad thread key",
        )?),
        reporter_recipient,
        reporter_verifying_key: vk,
    };
    Ok(OpenedReport {
        destination: body.destination.clone(),
        recipients,
        content: body.content.clone(),
        thread,
        ciphertext_sha256: hash,
    })
}

impl AttachmentEntry {
    /// Whether an attachment's age file is the one this entry names.
    pub fn matches(&self, digest: &crate::agefile::CiphertextDigest) -> bool {
        digest.size == self.ciphertext_size && self.sha256() == Some(digest.sha256)
    }

    /// The listed SHA-256 as bytes (`None` if it is not 64 hex digits).
    pub fn sha256(&self) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&self.ciphertext_sha256, &mut out)
            .ok()
            .map(|_| out)
    }

    /// An entry for an attachment just encrypted.
    pub fn new(name: String, size: u64, digest: &crate::agefile::CiphertextDigest) -> Self {
        Self {
            name,
            size,
            ciphertext_size: digest.size,
            ciphertext_sha256: hex::encode(digest.sha256),
            metadata: None,
        }
    }

    /// The same entry with a metadata record.
    pub fn with_metadata(mut self, record: MetadataRecord) -> Self {
        self.metadata = Some(record);
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

    use super::*;
    use crate::{InvestigatorKey, ReturnCode};

    fn setup() -> (ReporterKeys, InvestigatorKey, Destination) {
        let code = ReturnCode::generate(&mut rand::rngs::OsRng);
        let keys = ReporterKeys::derive_from(&code);
        let key = InvestigatorKey::generate();
        let bureau = Destination::from_recipients("bureau", vec![key.recipient()]).unwrap();
        (keys, key, bureau)
    }

    fn entry(name: &str, metadata: Option<MetadataRecord>) -> AttachmentEntry {
        AttachmentEntry {
            name: name.into(),
            size: 10,
            ciphertext_size: 300,
            ciphertext_sha256: "ab".repeat(32),
            metadata,
        }
    }

    fn content(attachments: Vec<AttachmentEntry>) -> ReportContent {
        ReportContent {
            category: Category::Fraud,
            concerning: String::new(),
            description: "Invoices paid twice.".into(),
            when_where: String::new(),
            contact: None,
            attachments,
            date: Day::parse("2026-12-02").unwrap(),
            encrypted_by: EncryptedBy::Browser,
        }
    }

    fn record(removed: &[&str], kept_original: bool) -> MetadataRecord {
        MetadataRecord {
            removed: removed.iter().map(|s| s.to_string()).collect(),
            kept_original,
            checked: true,
        }
    }

    #[test]
    fn the_metadata_record_survives_sealing_and_opening() {
        let (keys, key, bureau) = setup();
        let removed = record(&["author", "gps_position", "tracked_change_author"], false);
        let kept = record(&[], true);
        let sent = content(vec![
            entry("photo.jpg", Some(removed.clone())),
            entry("memo.docx", Some(kept.clone())),
            entry("old.bin", None),
        ]);
        let ct = seal_report(&sent, &keys, &bureau).unwrap();
        let opened = open_report(&ct, &[key.as_age()]).unwrap();
        let got: Vec<_> = opened
            .content
            .attachments
            .iter()
            .map(|a| a.metadata.clone())
            .collect();
        assert_eq!(got, vec![Some(removed), Some(kept), None]);
    }

    #[test]
    fn an_absent_record_is_not_written_so_older_readers_still_open_the_report() {
        let json = serde_json::to_string(&entry("a.pdf", None)).unwrap();
        assert!(!json.contains("metadata"), "{json}");
        let with =
            serde_json::to_string(&entry("a.pdf", Some(record(&["author"], false)))).unwrap();
        assert!(
            with.ends_with(
                r#","metadata":{"removed":["author"],"kept_original":false,"checked":true}}"#
            ),
            "{with}"
        );
        // An entry written before the record existed reads as `None`.
        let old: AttachmentEntry = serde_json::from_str(
            r#"{"name":"a.pdf","size":1,"ciphertext_size":2,"ciphertext_sha256":"00"}"#,
        )
        .unwrap();
        assert!(old.metadata.is_none());
        // The record itself takes no unknown members (values could hide there).
        assert!(serde_json::from_str::<MetadataRecord>(
            r#"{"removed":[],"kept_original":false,"checked":true,"author":"Jan"}"#
        )
        .is_err());
    }

    #[test]
    fn sealing_refuses_a_record_with_anything_but_kind_names() {
        let (keys, _, bureau) = setup();
        for bad in [
            vec!["Jan Jansen"],
            vec!["author: Jan"],
            vec![""],
            vec!["9author"],
            vec!["author", "author"],
            vec!["a_very_long_kind_name_that_goes_on_and_on_and_on"],
        ] {
            let sent = content(vec![entry("a.pdf", Some(record(&bad, false)))]);
            assert!(
                matches!(
                    seal_report(&sent, &keys, &bureau),
                    Err(SealError::BadMetadataRecord)
                ),
                "{bad:?}"
            );
        }
        let many: Vec<String> = (0..=MAX_METADATA_KINDS).map(|i| format!("k{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let sent = content(vec![entry("a.pdf", Some(record(&many, false)))]);
        assert!(matches!(
            seal_report(&sent, &keys, &bureau),
            Err(SealError::BadMetadataRecord)
        ));
        let fine = content(vec![entry("a.pdf", Some(record(&many[1..], false)))]);
        assert!(seal_report(&fine, &keys, &bureau).is_ok());
    }

    #[test]
    fn opening_refuses_a_signed_record_with_a_value_in_it() {
        // Written by a sealer that does not check: the signature is good, the record not.
        let (keys, key, bureau) = setup();
        let body = ReportBody {
            destination: bureau.name.clone(),
            recipients: bureau
                .recipients()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            content: content(vec![entry("a.pdf", Some(record(&["Jan Jansen"], false)))]),
            reporter: ReporterBlock {
                recipient: keys.recipient().as_str().to_owned(),
                verifying_key: hex::encode(keys.verifying_key().as_bytes()),
                thread_id: hex::encode(keys.thread_id().0),
                thread_key: hex::encode(keys.thread_key().0),
            },
        };
        let json = to_json(&body).unwrap();
        let sig = sign(&keys, Kind::Report, &json);
        let ct = agefile::encrypt(bureau.recipients(), &frame(Kind::Report, &json, &sig)).unwrap();
        assert!(matches!(
            open_report(&ct, &[key.as_age()]),
            Err(OpenError::Malformed(_))
        ));
    }
}
