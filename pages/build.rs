//! Embeds the browser module into the native build, when it has been built.
//!
//! The reporter pages need `meldpunt_client_wasm.wasm`, built from `client-wasm/` for
//! `wasm32-unknown-unknown` (profile `browser`), and its wasm2js translation
//! `meldpunt_client_wasm.js`, and the metadata module `meldpunt_metadata_wasm.wasm` (from
//! `client-metadata/`, release) with its translation. `MELDPUNT_WASM` may name another
//! crypto module; the metadata module is then taken from beside it. Cargo cannot build them from here (it would wait on its own
//! lock), so `scripts/build-wasm.sh` builds them first; this script copies them into
//! OUT_DIR. Without them empty files are embedded and the pages say that encryption is
//! unavailable: nothing pretends to work.
#![allow(
    clippy::expect_used,
    reason = "a build script fails the build by panicking"
)]

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let built = out
        .ancestors()
        .nth(4)
        .map(|target_dir| target_dir.join("wasm32-unknown-unknown"))
        .unwrap_or_default();
    let (wasm, metadata) = match std::env::var_os("MELDPUNT_WASM") {
        Some(wasm) => {
            let wasm = PathBuf::from(wasm);
            let metadata = wasm.with_file_name("meldpunt_metadata_wasm.wasm");
            (wasm, metadata)
        }
        // Where scripts/build-wasm.sh builds them.
        None => (
            built.join("browser/meldpunt_client_wasm.wasm"),
            built.join("release/meldpunt_metadata_wasm.wasm"),
        ),
    };
    let js = wasm.with_extension("js");
    let metadata_js = metadata.with_extension("js");
    println!("cargo:rerun-if-env-changed=MELDPUNT_WASM");
    for (from, to) in [
        (&wasm, "meldpunt.wasm"),
        (&js, "meldpunt-wasm2js.js"),
        (&metadata, "meldpunt-metadata.wasm"),
        (&metadata_js, "meldpunt-metadata-wasm2js.js"),
    ] {
        println!("cargo:rerun-if-changed={}", from.display());
        let bytes = if target == "wasm32" {
            Vec::new()
        } else {
            std::fs::read(from).unwrap_or_else(|_| {
                println!(
                    "cargo:warning=the browser module {} is not built; run scripts/build-wasm.sh",
                    from.display()
                );
                Vec::new()
            })
        };
        std::fs::write(out.join(to), bytes).expect("OUT_DIR is writable");
    }
}
