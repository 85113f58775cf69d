//! Zip containers (DOCX/XLSX/PPTX, ODF, plain archives, nested) through `inspect` and
//! `clean`: never a panic, never more unpacked than the limits, and a cleaned container
//! can be read again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_metadata::{clean, inspect};

fuzz_target!(|data: &[u8]| {
    let inspection = inspect("archive.zip", data);
    match clean("archive.zip", data) {
        Ok(cleaned) => {
            assert_eq!(cleaned.removed, inspection.removable_kinds());
            let _ = inspect("archive.zip", &cleaned.bytes);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
