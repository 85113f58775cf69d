//! PDF files through `inspect` and `clean` (lopdf underneath, behind the nesting guard):
//! never a panic or a stack overflow; a cleaned PDF can be read again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_metadata::{clean, inspect};

fuzz_target!(|data: &[u8]| {
    let inspection = inspect("document.pdf", data);
    match clean("document.pdf", data) {
        Ok(cleaned) => {
            assert_eq!(cleaned.removed, inspection.removable_kinds());
            let _ = inspect("document.pdf", &cleaned.bytes);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
