//! `ReturnCode::parse` on any text a reporter might type: never panics, and a code that
//! parses prints (grouped) to text that parses to the same code and that `appears_in`
//! recognises, as does the text it was typed as.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::ReturnCode;

fuzz_target!(|data: &[u8]| {
    let Ok(typed) = std::str::from_utf8(data) else {
        return;
    };
    match ReturnCode::parse(typed) {
        Ok(code) => {
            let grouped = code.to_grouped_string();
            assert_eq!(grouped.len(), 34, "7 groups of 4 with 6 dashes");
            let again = ReturnCode::parse(&grouped).expect("the grouped form parses");
            assert_eq!(*again.to_grouped_string(), *grouped, "the same code");
            assert!(code.appears_in(&grouped));
            // A reporter who pastes the code into a message exactly as they typed it
            // must be stopped.
            assert!(
                code.appears_in(typed),
                "typed code not recognised in its own text"
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
