//! The calls the page makes, in plain Rust: each takes a file name and bytes and returns
//! bytes and a JSON description.
#![forbid(unsafe_code)]

use meldpunt_metadata::{clean_owned, detect_format, inspect, CleanError, FindingKind};
use serde_json::{json, Value};

/// What a call returns: bytes (a cleaned document, or nothing) and JSON for the page.
pub struct Output {
    /// The cleaned document (empty for the other calls).
    pub bytes: Vec<u8>,
    /// The description the page shows.
    pub meta: Value,
}

/// The format of a document from its name and first bytes, and whether it can be
/// cleaned: `{"format","description","can_clean","advice"}`.
pub fn detect(name: &str, head: &[u8]) -> Output {
    let format = detect_format(name, head);
    Output {
        bytes: Vec::new(),
        meta: json!({
            "format": format,
            "description": format.description(),
            "can_clean": format.can_clean(),
            "advice": format.advice(),
        }),
    }
}

/// What a document holds: the inspection (`format`, `findings` with their values,
/// `warnings`) plus `removable` (the kinds `clean` would remove) and `can_clean`.
pub fn inspect_document(name: &str, bytes: &[u8]) -> Output {
    let found = inspect(name, bytes);
    let removable = found.removable_kinds();
    let can_clean = found.can_clean();
    let mut meta = serde_json::to_value(&found).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut meta {
        m.insert("removable".into(), json!(removable));
        m.insert("can_clean".into(), json!(can_clean));
    }
    Output {
        bytes: Vec::new(),
        meta,
    }
}

/// Why a document could not be cleaned: `{"error": kind, "message"}`.
pub fn clean_error(e: &CleanError) -> Value {
    let kind = match e {
        CleanError::UnknownFormat => "unknown_format",
        CleanError::Unsupported { .. } => "unsupported",
        CleanError::Encrypted { .. } => "encrypted",
        CleanError::Corrupt { .. } => "corrupt",
        CleanError::TooLarge { .. } => "too_large",
        _ => "failed",
    };
    json!({ "error": kind, "message": e.to_string() })
}

/// The document without what can be removed. Bytes: the cleaned document; meta:
/// `{"format","removed":[kinds],"warnings":[…]}`. The original is given up: it is wiped
/// and freed as soon as it is no longer needed ([`clean_owned`]), so the module holds
/// about two copies of a document while cleaning it.
pub fn clean_document(name: &str, bytes: Vec<u8>) -> Result<Output, Value> {
    let cleaned = clean_owned(name, bytes).map_err(|e| clean_error(&e))?;
    let removed: Vec<FindingKind> = cleaned.removed;
    Ok(Output {
        meta: json!({
            "format": cleaned.format,
            "removed": removed,
            "warnings": cleaned.warnings,
        }),
        bytes: cleaned.bytes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

    use super::*;

    fn jpeg_with_comment() -> Vec<u8> {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x0C];
        jpeg.extend_from_slice(b"Jan Jansen");
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x00, 0xFF, 0xD9]);
        jpeg
    }

    #[test]
    fn detect_inspect_and_clean_describe_a_document_for_the_page() {
        let jpeg = jpeg_with_comment();
        let d = detect("photo.jpg", &jpeg[..4]).meta;
        assert_eq!(d["format"], "jpeg");
        assert_eq!(d["can_clean"], true);

        let i = inspect_document("photo.jpg", &jpeg).meta;
        assert_eq!(i["findings"][0]["kind"], "comment");
        assert_eq!(i["findings"][0]["value"], "Jan Jansen");
        assert_eq!(i["removable"], json!(["comment"]));
        assert_eq!(i["can_clean"], true);

        let c = clean_document("photo.jpg", jpeg.clone()).ok().unwrap();
        assert_eq!(c.meta["removed"], json!(["comment"]));
        assert!(!String::from_utf8_lossy(&c.bytes).contains("Jan Jansen"));
        // The values never come back from cleaning: kinds only.
        assert!(!c.meta.to_string().contains("Jan Jansen"));
    }

    #[test]
    fn a_format_that_cannot_be_cleaned_is_an_error_with_a_message() {
        let e = clean_document("call.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec())
            .err()
            .unwrap();
        assert_eq!(e["error"], "unsupported");
        assert!(e["message"].as_str().unwrap().contains("audio"));
        let d = detect("call.mp3", b"ID3\x03").meta;
        assert_eq!(d["can_clean"], false);
    }
}
