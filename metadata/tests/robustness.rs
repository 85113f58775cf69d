//! `inspect` and `clean` never panic: on arbitrary bytes behind each format's magic, on
//! mutated and truncated fixtures, on deep nesting and on zip bombs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::io::{Cursor, Write};
use std::path::Path;

use meldpunt_metadata::{clean, inspect, CleanError, WarningKind, MAX_MEMBER_SIZE};
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "photo.jpg",
    "photo.png",
    "photo.webp",
    "photo.tif",
    "memo.pdf",
    "memo-hybrid.pdf",
    "memo-objstm.pdf",
    "memo.docx",
    "memo.odt",
    "sheet.xlsx",
    "slides.pptx",
    "bundle.zip",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

const MAGICS: &[&[u8]] = &[
    b"\xFF\xD8\xFF",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x10\0\0\0WEBP",
    b"II*\0",
    b"MM\0*",
    b"\0\0\0\x18ftypheic",
    b"%PDF-1.7\n",
    b"PK\x03\x04",
    b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
    b"",
];

fn both(name: &str, bytes: &[u8]) {
    let inspection = inspect(name, bytes);
    assert_eq!(
        inspection.warnings.last().map(|w| w.kind),
        Some(WarningKind::VisibleContent)
    );
    if let Ok(cleaned) = clean(name, bytes) {
        let _ = inspect(name, &cleaned.bytes);
    }
}

proptest! {
    // 512 cases each unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_behind_a_magic(magic in 0..MAGICS.len(), tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = MAGICS[magic].to_vec();
        bytes.extend(tail);
        both("file", &bytes);
    }

    #[test]
    fn mutated_fixtures(
        which in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = fixture(FIXTURES[which]);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        both(FIXTURES[which], &bytes);
    }
}

#[test]
fn deeply_nested_pdf_objects() {
    for open in ["[", "<<", "<< /A "] {
        let mut pdf = b"%PDF-1.4\n1 0 obj\n".to_vec();
        for _ in 0..50_000 {
            pdf.extend_from_slice(open.as_bytes());
        }
        pdf.extend_from_slice(b"\nendobj\n");
        // A valid cross-reference table, so the parser does reach the object.
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \n");
        pdf.extend_from_slice(
            format!("trailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        both("deep.pdf", &pdf);
    }
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, data) in members {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_bomb_stops_at_the_member_limit() {
    let zeros = vec![0u8; usize::try_from(MAX_MEMBER_SIZE).unwrap() + 1024];
    let bomb = zip_of(&[("notes.txt", &zeros)]);
    drop(zeros);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let inspection = inspect("bomb.zip", &bomb);
    assert!(
        inspection
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::LimitReached),
        "{:?}",
        inspection.warnings
    );
    assert!(matches!(
        clean("bomb.zip", &bomb),
        Err(CleanError::TooLarge { .. })
    ));
}

#[test]
fn nesting_stops_at_the_depth_limit() {
    let mut bytes = fixture("photo.jpg");
    let mut name = "photo.jpg".to_string();
    for level in 0..8 {
        bytes = zip_of(&[(&name, &bytes)]);
        name = format!("level{level}.zip");
    }
    let inspection = inspect(&name, &bytes);
    assert!(
        inspection
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::LimitReached),
        "{:?}",
        inspection.warnings
    );
    // Cleaning still works on what it reaches; the too-deep part is reported.
    let cleaned = clean(&name, &bytes).unwrap();
    assert!(cleaned
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::LimitReached));
}

#[test]
fn unsupported_formats_say_so() {
    let mail = b"From: Jan Jansen <jan@example.org>\nTo: x@example.org\nSubject: dossier\n\nHallo";
    assert!(matches!(
        clean("mail.eml", mail),
        Err(CleanError::Unsupported { .. })
    ));
    let w = inspect("mail.eml", mail);
    assert_eq!(w.warnings[0].kind, WarningKind::NotChecked);
    assert!(
        w.warnings[0].message.contains("e-mail"),
        "{}",
        w.warnings[0].message
    );
    assert!(matches!(
        clean("x.bin", b"\x00\x01\x02\x03"),
        Err(CleanError::UnknownFormat)
    ));
    assert!(matches!(
        clean("x.mp4", b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"),
        Err(CleanError::Unsupported { .. })
    ));
    assert!(matches!(
        clean("x.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
        Err(CleanError::Unsupported { .. })
    ));
    // Plain text has nothing hidden and comes back as it is.
    let text = b"Just my notes.\n";
    assert_eq!(clean("notes.txt", text).unwrap().bytes, text);
}
