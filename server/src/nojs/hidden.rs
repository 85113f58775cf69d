//! Hidden data in the no-JavaScript tier's documents. Without JavaScript the reporter's
//! browser cannot remove a document's metadata (author, GPS position, tracked changes…),
//! so the server does, in memory, with the same library the page uses
//! (`meldpunt-metadata`), after the reporter's choice on the form (remove, the default,
//! or keep). The server sees the plaintext in this tier anyway; the cleaned copy lives in
//! a wiping buffer like the original, and only one document is cleaned at a time on the
//! whole server, so at most one extra copy (and the library's working memory) is held
//! beside the documents the form's memory budget already allows.

use meldpunt_crypto::MetadataRecord;
use meldpunt_metadata::{clean, detect_format, CleanError, Format};
use rocket::tokio::sync::Semaphore;
use serde_json::json;

use super::secret::SecretBuf;
use super::Refusal;

/// One document cleaned at a time, server-wide.
static CLEANING: Semaphore = Semaphore::const_new(1);

/// What became of one document's hidden data, for the result page.
pub enum DocumentOutcome {
    /// These kinds were removed (their snake_case names).
    Removed(Vec<String>),
    /// Nothing identifying was found.
    Nothing,
    /// The reporter chose to send the documents as they were.
    Kept,
    /// The format cannot be cleaned here; the page text under this key says what to do.
    NotCleaned(&'static str),
}

impl DocumentOutcome {
    /// The result page's view: `{name, outcome, kinds, advice}` (`advice` a text key).
    pub fn to_json(&self, name: &str) -> serde_json::Value {
        let (outcome, kinds, advice) = match self {
            DocumentOutcome::Removed(kinds) => ("removed", kinds.clone(), None),
            DocumentOutcome::Nothing => ("nothing", Vec::new(), None),
            DocumentOutcome::Kept => ("kept", Vec::new(), None),
            DocumentOutcome::NotCleaned(key) => ("not_cleaned", Vec::new(), Some(*key)),
        };
        json!({ "name": name, "outcome": outcome, "kinds": kinds, "advice": advice })
    }
}

/// The result page's views with each document's removed kinds in words of `lang`
/// (`labels`: "Author, GPS position").
pub fn with_labels(
    mut documents: Vec<serde_json::Value>,
    pages: &meldpunt_pages::Pages,
    lang: meldpunt_pages::Lang,
) -> Vec<serde_json::Value> {
    for d in &mut documents {
        let labels: Vec<String> = d["kinds"]
            .as_array()
            .map(|kinds| {
                kinds
                    .iter()
                    .filter_map(|k| k.as_str())
                    .map(|k| pages.text(lang, &format!("metadata_kind_{k}")))
                    .collect()
            })
            .unwrap_or_default();
        d["labels"] = labels.join(", ").into();
    }
    documents
}

/// The text key of what a reporter can do about a format that cannot be cleaned.
fn advice(format: Format) -> &'static str {
    match format {
        Format::Email => "metadata_format_email",
        Format::Audio | Format::Video => "metadata_format_media",
        Format::Tiff | Format::Heif | Format::Gif => "metadata_format_picture",
        Format::LegacyOffice | Format::Rtf => "metadata_format_office",
        Format::Markup => "metadata_format_markup",
        _ => "metadata_format_unknown",
    }
}

/// The document to encrypt (cleaned, when the reporter chose so and something was
/// found), the record the signed report keeps (kinds only), and what the result page
/// says.
pub async fn handle(
    name: &str,
    bytes: SecretBuf,
    remove: bool,
) -> Result<(SecretBuf, MetadataRecord, DocumentOutcome), Refusal> {
    if !remove {
        let checked = detect_format(name, bytes.as_slice()).can_clean();
        let record = MetadataRecord {
            removed: Vec::new(),
            kept_original: true,
            checked,
        };
        return Ok((bytes, record, DocumentOutcome::Kept));
    }
    let _turn = CLEANING.acquire().await.map_err(Refusal::internal)?;
    let name = name.to_owned();
    rocket::tokio::task::spawn_blocking(move || {
        let result = clean(&name, bytes.as_slice());
        let record = |removed: Vec<String>, checked| MetadataRecord {
            removed,
            kept_original: false,
            checked,
        };
        match result {
            Ok(cleaned) if cleaned.removed.is_empty() => {
                // Nothing found: the original is byte for byte what `clean` gave back.
                drop(SecretBuf::from_vec(cleaned.bytes));
                (bytes, record(Vec::new(), true), DocumentOutcome::Nothing)
            }
            Ok(cleaned) => {
                let kinds: Vec<String> = cleaned.removed.iter().map(|k| kind_name(*k)).collect();
                // The original is wiped as it drops.
                drop(bytes);
                (
                    SecretBuf::from_vec(cleaned.bytes),
                    record(kinds.clone(), true),
                    DocumentOutcome::Removed(kinds),
                )
            }
            Err(e) => {
                let format = match &e {
                    CleanError::Unsupported { format }
                    | CleanError::Encrypted { format }
                    | CleanError::Corrupt { format, .. } => *format,
                    _ => Format::Unknown,
                };
                let key = match e {
                    CleanError::Unsupported { .. } | CleanError::UnknownFormat => advice(format),
                    _ => "metadata_failed",
                };
                (
                    bytes,
                    record(Vec::new(), false),
                    DocumentOutcome::NotCleaned(key),
                )
            }
        }
    })
    .await
    .map_err(Refusal::internal)
}

/// A finding kind's stable name (`gps_position`), as the signed report records it.
fn kind_name(kind: meldpunt_metadata::FindingKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other_metadata".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_recorded_by_their_stable_names() {
        assert_eq!(
            kind_name(meldpunt_metadata::FindingKind::GpsPosition),
            "gps_position"
        );
        assert_eq!(
            kind_name(meldpunt_metadata::FindingKind::TrackedChangeAuthor),
            "tracked_change_author"
        );
    }
}
