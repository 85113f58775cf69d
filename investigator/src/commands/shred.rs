//! `meldpunt shred`: removes a case from the bundle and from a decrypted folder when
//! its retention ends (see [`crate::shred`]), and says what that cannot reach.

use std::path::Path;
use std::process::ExitCode;

use crate::bundle::{parse_case, Bundle};
use crate::shred::{shred_case, ShredError};

/// `meldpunt shred CASE BUNDLE_DIR [OUT_DIR] [--force]`.
pub fn shred(
    case: &str,
    bundle_dir: &Path,
    out_dir: Option<&Path>,
    force: bool,
) -> Result<ExitCode, ShredError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = parse_case(case)?;
    let done = shred_case(&bundle, &case, out_dir, force)?;
    println!("Shredded case {case}:");
    println!(
        "  bundle: {} file(s) removed, {} outbox file(s)",
        done.bundle_files, done.outbox_files
    );
    if let Some((path, removed)) = &done.decrypted {
        println!(
            "  {}: {removed} decrypted file(s) overwritten and removed",
            path.display()
        );
    }
    println!(
        "`meldpunt pull` will not fetch this case again. Copies elsewhere (backups, other \
         machines, printed pages) are not reached by this command; on SSDs overwriting is \
         a best effort, which is why the offline machine's disk should be encrypted."
    );
    Ok(ExitCode::SUCCESS)
}
