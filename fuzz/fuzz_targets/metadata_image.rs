//! Pictures (JPEG, PNG, WebP, TIFF, HEIF…) through `inspect` and `clean`: never a panic,
//! and a cleaned picture has nothing left to remove.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_metadata::{clean, inspect, Format};

fuzz_target!(|data: &[u8]| {
    let inspection = inspect("picture", data);
    let _ = serde_json::to_string(&inspection);
    match clean("picture", data) {
        Ok(cleaned) => {
            assert_eq!(cleaned.removed, inspection.removable_kinds());
            let again = inspect("picture", &cleaned.bytes);
            if matches!(cleaned.format, Format::Jpeg | Format::Png | Format::Webp) {
                assert!(
                    again.removable_kinds().is_empty(),
                    "left after cleaning: {:?}",
                    again.findings
                );
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
