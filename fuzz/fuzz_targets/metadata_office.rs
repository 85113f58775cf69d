//! The XML rules for Office and OpenDocument parts, without the zip around them: the
//! first byte picks the part (`docProps/core.xml`, `word/document.xml`, `content.xml`…),
//! the rest is its XML. Never a panic, and a cleaned part has nothing left to remove.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_metadata::fuzzing::{clean_xml_part, PARTS};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, xml)) = data.split_first() else {
        return;
    };
    let name = PARTS[usize::from(pick) % PARTS.len()];
    let (_, result) = clean_xml_part(name, xml);
    if let Ok(Some(cleaned)) = result {
        let (left, again) = clean_xml_part(name, &cleaned);
        assert!(
            again.is_ok(),
            "the cleaned part no longer parses: {again:?}"
        );
        assert_eq!(left, 0, "something left to remove in the cleaned {name}");
    }
});
