//! What the investigator's tool reads from the server and from a bundle folder: a case
//! download (the tar stream and the names in it), `case.json` and the deadlines computed
//! from it, `bundle.json`, the audit log (`GET /api/v1/audit`, JSON array or lines) and
//! its hash chain check, and the names of thread and attachment files. The server is
//! not trusted, so none of it may panic the tool or name a path outside the case.
#![no_main]

use std::io::Read;
use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use meldpunt::audit::{self, AuditEntry};
use meldpunt::bundle::{AuditHead, CaseId, CaseMeta, Index};
use meldpunt::cases::deadlines;
use meldpunt::pull::accepted_name;
use meldpunt::safename::safe_name;
use meldpunt::verify::parse_thread_name;
use meldpunt_crypto::{CaseStatus, Day};

/// A name a download may store must stay inside the case folder.
fn check_accepted(raw: &str) {
    if let Some(name) = accepted_name(raw) {
        let path = Path::new(&name);
        assert!(
            path.components().all(|c| matches!(c, Component::Normal(_))),
            "{name:?} leaves the case folder"
        );
        assert!(path.components().count() <= 2, "{name:?} is nested");
    }
}

fn check_names(text: &str) {
    check_accepted(text);
    if let Some((n, _)) = parse_thread_name(text) {
        assert!(text.ends_with(".age"));
        let _ = n;
    }
    if let Ok(case) = CaseId::parse(text) {
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
    let Ok(meta) = serde_json::from_slice::<CaseMeta>(bytes) else {
        return;
    };
    let _ = CaseId::parse(&meta.case);
    let d = deadlines(
        meta.received,
        meta.status,
        meta.acknowledged,
        meta.feedback_by,
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
    for file in &meta.files {
        check_accepted(&file.name);
    }
}

fn bundle_index(bytes: &[u8]) {
    let Ok(index) = serde_json::from_slice::<Index>(bytes) else {
        return;
    };
    for case in &index.shredded {
        let _ = CaseId::parse(case);
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
