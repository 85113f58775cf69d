//! The record of who looked at a reporter's contact details (`access.jsonl` in the
//! bundle): one JSON line per look, appended and never rewritten, so the bureau can show
//! who saw the reporter's identity, for which case and on which day (EU Directive
//! 2019/1937, Art. 16: the identity is kept apart and known only to those who need it).
//!
//! It holds no contact details and nothing about the reporter: the case number, what was
//! shown, the recipients of the key file that showed it, the front end and the day.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use meldpunt_crypto::Day;
use meldpunt_wire::CaseNumber;
use serde::{Deserialize, Serialize};

use crate::bundle::{Bundle, BundleError};
use crate::keys::LoadedKeys;

/// Name of the access record inside the bundle.
pub const ACCESS_FILE: &str = "access.jsonl";

/// What was shown.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    /// The reporter's contact details.
    ContactDetails,
}

/// One look at identifying information.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The case.
    pub case: CaseNumber,
    /// What was shown.
    pub shown: Shown,
    /// Who: the recipients (`age1…`) of the key file that decrypted it.
    pub by: Vec<String>,
    /// Through which front end (`desk`).
    pub via: String,
    /// The day (dates only, never a time).
    pub day: Day,
}

impl Access {
    /// A look at `case`'s contact details by the holder of `keys` through `via`.
    pub fn contact_details(case: &CaseNumber, keys: &LoadedKeys, via: &str, day: Day) -> Self {
        Access {
            case: case.clone(),
            shown: Shown::ContactDetails,
            by: keys
                .recipients()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            via: via.to_owned(),
            day,
        }
    }
}

fn path(bundle: &Bundle) -> PathBuf {
    bundle.root().join(ACCESS_FILE)
}

/// Appends one look to the bundle's record (created, readable only by its owner, if it
/// does not exist), and makes sure it is on the disk before returning: whoever is shown
/// the details has been recorded first.
pub fn record(bundle: &Bundle, access: &Access) -> Result<(), BundleError> {
    let path = path(bundle);
    let mut line = serde_json::to_vec(access).map_err(|e| BundleError::Damaged {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    line.push(b'\n');
    // A symbolic link planted in the bundle is not followed to somewhere else.
    if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(BundleError::Damaged {
            path,
            detail: "not a plain file".into(),
        });
    }
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| BundleError::io(&path, e))?;
    file.write_all(&line)
        .and_then(|()| file.sync_all())
        .map_err(|e| BundleError::io(&path, e))
}

/// Every recorded look, oldest first (none if there is no record yet).
pub fn read(bundle: &Bundle) -> Result<Vec<Access>, BundleError> {
    let path = path(bundle);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BundleError::io(&path, e)),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| BundleError::Damaged {
                path: path.clone(),
                detail: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{day, Kit};

    #[test]
    fn looks_are_appended_and_name_the_key_not_the_reporter() {
        let kit = Kit::new(true);
        assert!(read(&kit.bundle).unwrap().is_empty());
        let first = Access::contact_details(&kit.case, &kit.keys, "desk", day());
        record(&kit.bundle, &first).unwrap();
        let second = Access::contact_details(&kit.case, &kit.keys, "desk", day().add_days(1));
        record(&kit.bundle, &second).unwrap();
        assert_eq!(read(&kit.bundle).unwrap(), [first.clone(), second]);
        let text = fs::read_to_string(kit.bundle.root().join(ACCESS_FILE)).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with(&format!(
            "{{\"case\":\"{}\",\"shown\":\"contact_details\",\"by\":[\"{}\"],\"via\":\"desk\",\
             \"day\":\"2026-11-02\"}}\n",
            kit.case,
            kit.keys.recipients()[0]
        )));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(kit.bundle.root().join(ACCESS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_not_followed() {
        let kit = Kit::new(true);
        let elsewhere = kit.bundle.root().join("elsewhere.txt");
        fs::write(&elsewhere, "").unwrap();
        std::os::unix::fs::symlink(&elsewhere, kit.bundle.root().join(ACCESS_FILE)).unwrap();
        let look = Access::contact_details(&kit.case, &kit.keys, "desk", day());
        assert!(record(&kit.bundle, &look).is_err());
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "");
    }
}
