//! `check_header`, the server's check of every uploaded age file: never panics, decides
//! from a prefix (more bytes never change a decision), and an accepted header really
//! is where it says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::header::HEADER_READ_LEN;
use meldpunt_crypto::{check_header, HeaderError};

fuzz_target!(|data: &[u8]| {
    let result = check_header(data);
    match &result {
        Ok(summary) => {
            assert!(summary.x25519_stanzas >= 1);
            // The header and the 16-byte payload nonce are inside what was given.
            assert!(summary.header_len + 16 <= data.len());
            assert!(summary.header_len <= HEADER_READ_LEN);
            assert!(data[..summary.header_len].ends_with(b"\n"));
            // Exactly header + nonce is enough; one byte less is not.
            assert_eq!(check_header(&data[..summary.header_len + 16]), result);
            assert_eq!(
                check_header(&data[..summary.header_len + 15]),
                Err(HeaderError::Incomplete)
            );
        }
        Err(HeaderError::Incomplete) => {
            // What the server reads first always suffices to decide.
            assert!(
                data.len() < HEADER_READ_LEN,
                "undecided after {} bytes",
                data.len()
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if result != Err(HeaderError::Incomplete) {
        // A decision never changes when more of the upload arrives.
        let mut longer = data.to_vec();
        longer.extend_from_slice(b"\n--- AAAA\nmore bytes after the header");
        assert_eq!(
            check_header(&longer),
            result,
            "decision changed by later bytes"
        );
    }
});
