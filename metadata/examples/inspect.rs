//! Prints what `inspect` finds in files, and with `--clean OUT_DIR` writes cleaned copies.
//!
//! `cargo run -p meldpunt-metadata --example inspect -- [--clean DIR] FILE...`

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut clean_dir = None;
    if args.first().map(String::as_str) == Some("--clean") {
        args.remove(0);
        clean_dir = Some(PathBuf::from(args.remove(0)));
    }
    for path in args {
        let bytes = std::fs::read(&path)?;
        let name = std::path::Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let inspection = meldpunt_metadata::inspect(&name, &bytes);
        println!("== {path}\n{}", serde_json::to_string_pretty(&inspection)?);
        if let Some(dir) = &clean_dir {
            let start = std::time::Instant::now();
            match meldpunt_metadata::clean(&name, &bytes) {
                Ok(cleaned) => {
                    println!(
                        "cleaned in {:?}: {} -> {} bytes, removed {:?}",
                        start.elapsed(),
                        bytes.len(),
                        cleaned.bytes.len(),
                        cleaned.removed
                    );
                    std::fs::write(dir.join(&name), &cleaned.bytes)?;
                }
                Err(e) => println!("not cleaned: {e}"),
            }
        }
    }
    Ok(())
}
