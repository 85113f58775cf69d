//! File names from reporters made safe: whatever name a reporter's file had, the
//! decrypted copy lands directly inside the output folder, under a name that cannot
//! climb out, hide, spoof its extension, or clash with a device name.

use std::collections::HashSet;
use std::path::Path;

/// The longest name kept, in bytes (file systems allow 255).
const MAX_NAME_BYTES: usize = 120;

/// One safe file name from an untrusted one; `index` (0-based) names files left with
/// no usable name.
pub fn safe_name(untrusted: &str, index: usize) -> String {
    // Only the last component of whatever path the name carries.
    let base = untrusted.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| if is_unsafe_char(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned
        .trim_start_matches(['.', ' ', '-'])
        .trim_end_matches(['.', ' '])
        .to_owned();
    let mut name = truncate_keeping_extension(&trimmed);
    if name.is_empty() || name.chars().all(|c| c == '_') {
        name = format!("attachment-{:03}", index + 1);
    }
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    if is_device_name(&stem) {
        name.insert(0, '_');
    }
    name
}

/// Control characters, path and shell-troublesome characters, and the Unicode
/// direction overrides that make `invoice_fdp.exe` display as `invoice_exe.pdf`.
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '/' | '\\')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn is_device_name(stem: &str) -> bool {
    matches!(stem, "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

fn truncate_keeping_extension(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if name.len() - dot <= 16 => (&name[..dot], &name[dot..]),
        _ => (name, ""),
    };
    let mut end = MAX_NAME_BYTES - ext.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &stem[..end])
}

/// A name not yet used in `dir` nor in `taken`: `report.pdf`, `report (2).pdf`, …
pub fn unique_name(dir: &Path, name: &str, taken: &mut HashSet<String>) -> String {
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot..]),
        _ => (name, ""),
    };
    let mut candidate = name.to_owned();
    let mut n = 2;
    while taken.contains(&candidate.to_lowercase())
        || dir.join(&candidate).symlink_metadata().is_ok()
    {
        candidate = format!("{stem} ({n}){ext}");
        n += 1;
    }
    taken.insert(candidate.to_lowercase());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_name_leaves_the_folder() {
        for (input, expected) in [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\Windows\\win.ini", "win.ini"),
            ("/absolute/path.pdf", "path.pdf"),
            ("..", "attachment-004"),
            ("", "attachment-004"),
            (".bashrc", "bashrc"),
            ("a\0b\nc.txt", "a_b_c.txt"),
            ("invoice\u{202e}fdp.exe", "invoice_fdp.exe"),
            ("CON.txt", "_CON.txt"),
            ("report.pdf", "report.pdf"),
            ("verslag mei.docx", "verslag mei.docx"),
            ("-rf", "rf"),
        ] {
            assert_eq!(safe_name(input, 3), expected, "{input:?}");
        }
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.pdf", "é".repeat(200));
        let safe = safe_name(&long, 0);
        assert!(safe.len() <= MAX_NAME_BYTES);
        assert!(safe.ends_with(".pdf"));
    }

    #[test]
    fn clashing_names_are_numbered() {
        let dir = std::env::temp_dir();
        let mut taken = HashSet::new();
        let a = unique_name(&dir, "meldpunt-unlikely-x.pdf", &mut taken);
        let b = unique_name(&dir, "meldpunt-unlikely-x.pdf", &mut taken);
        assert_eq!(a, "meldpunt-unlikely-x.pdf");
        assert_eq!(b, "meldpunt-unlikely-x (2).pdf");
    }
}
