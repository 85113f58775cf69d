//! What the investigator's tool reads from the server and from a bundle folder: a case
//! download (the tar stream and the names in it, read as `meldpunt_wire::CaseFile`),
//! `case.json` (`meldpunt_wire::CaseManifest`) and the deadlines and case row computed
//! from it, `bundle.json`, the audit log (`GET /api/v1/audit`, JSON array or lines) and
//! its hash chain check, case numbers, and reporters' file names. The server is not
//! trusted, so none of it may panic the tool or name a path outside the case.
#![no_main]

use std::io::Read;
use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use meldpunt::audit::{self, AuditEntry};
use meldpunt::bundle::{parse_case, AuditHead, Index};
use meldpunt::deadlines::{deadlines, CaseRow};
use meldpunt::outbox::Outbox;
use meldpunt::safename::safe_name;
use meldpunt_crypto::{CaseStatus, Day};
use meldpunt_wire::{CaseFile, CaseManifest};

/// A name a download may store (`pull` stores a file under `CaseFile::to_path`) must
/// stay inside the case folder, and name the same file again.
fn check_accepted(raw: &str) {
    if let Some(file) = CaseFile::parse(raw) {
        let name = file.to_path();
        let path = Path::new(&name);
        assert!(
            path.components().all(|c| matches!(c, Component::Normal(_))),
            "{name:?} leaves the case folder"
        );
        assert!(path.components().count() <= 2, "{name:?} is nested");
        assert_eq!(CaseFile::parse(&name), Some(file), "{name:?}");
    }
}

fn check_names(text: &str) {
    check_accepted(text);
    // A name in a case's thread folder, as `open` reads it.
    if let Some(CaseFile::Message(..)) = CaseFile::parse(&format!("thread/{text}")) {
        assert!(text.ends_with(".age"));
    }
    if let Ok(case) = parse_case(text) {
        let s = case.as_str();
        assert!(!s.contains(['/', '\\', '.']) && !s.is_empty());
        assert!(Path::new(s)
            .components()
            .all(|c| matches!(c, Component::Normal(_))));
    }
    let name = safe_name(text, text.len() % 1000);
    assert!(!name.is_empty());
    assert!(!name.starts_with(['.', ' ', '-']), "{name:?}");
    assert!(!name.contains(['/', '\\']), "{name:?}");
    assert!(!name.chars().any(char::is_control), "{name:?}");
    assert!(name.len() <= 121, "{} bytes", name.len());
}

fn case_meta(bytes: &[u8]) {
    let Ok(manifest) = serde_json::from_slice::<CaseManifest>(bytes) else {
        return;
    };
    let meta = &manifest.summary;
    let d = deadlines(
        meta.received,
        meta.status,
        meta.acknowledged,
        Some(meta.feedback_by),
    );
    if meta.status == CaseStatus::Received {
        assert!(d.acknowledge_by.is_some());
    }
    let today = Day::parse("2026-11-23").expect("a day");
    for day in [d.acknowledge_by, d.feedback_by, meta.retention_until]
        .into_iter()
        .flatten()
    {
        let _ = today.days_until(day);
        let _ = day.to_string();
    }
    // The row `meldpunt cases` shows, with nothing decided here.
    let row = CaseRow::new(meta.clone(), &Outbox::default(), today);
    assert_eq!(row.status, meta.status);
    for file in &manifest.files {
        check_accepted(&file.path.to_path());
    }
}

fn bundle_index(bytes: &[u8]) {
    let Ok(index) = serde_json::from_slice::<Index>(bytes) else {
        return;
    };
    for case in &index.shredded {
        let _ = parse_case(case);
    }
}

fn audit_log(bytes: &[u8]) {
    let Ok(log) = audit::parse(bytes) else {
        return;
    };
    let _ = audit::verify(&log, &[], None);
    // As if half of it had been verified before.
    let known: Vec<AuditEntry> = log[..log.len() / 2].to_vec();
    let head = known.last().map(|e| AuditHead {
        index: e.index,
        hash: e.hash.clone(),
    });
    let result = audit::verify(&log, &known, head.as_ref());
    if let Some(bad) = log.iter().enumerate().find(|(i, e)| e.index != *i as u64) {
        assert!(result.is_err(), "entry {} out of place passed", bad.0);
    }
    // A log with an entry dropped never verifies against what was seen before.
    if !log.is_empty() && audit::verify(&log, &[], None).is_ok() {
        let shorter = &log[..log.len() - 1];
        let last = log.last().expect("not empty");
        let head = AuditHead {
            index: last.index,
            hash: last.hash.clone(),
        };
        assert!(audit::verify(shorter, &log, Some(&head)).is_err());
    }
}

/// The case download as `pull` reads it: tar entries, names, contents.
fn download(bytes: &[u8]) {
    let mut archive = tar::Archive::new(bytes);
    let Ok(entries) = archive.entries() else {
        return;
    };
    let mut sink = vec![0u8; 4096];
    for entry in entries {
        let Ok(mut entry) = entry else {
            return;
        };
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        check_accepted(&raw);
        let _ = entry.size();
        loop {
            match entry.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => case_meta(rest),
        1 => bundle_index(rest),
        2 => audit_log(rest),
        3 => download(rest),
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                check_names(text);
            }
        }
    }
});
