//! Decrypting and checking a case's report: its signature, its recipients against the
//! pinned ones, its age header against the recipients it lists, and the server's word
//! about its destination.

use std::fmt;
use std::path::PathBuf;

use meldpunt_crypto::agefile::DecryptError;
use meldpunt_crypto::header::HEADER_READ_LEN;
use meldpunt_crypto::recipients::same_set;
use meldpunt_crypto::{check_header, fingerprint, open_report, OpenError, OpenedReport, Recipient};
use meldpunt_wire::{CaseFile, CaseManifest, CaseNumber};

use crate::bundle::{read_envelope, Bundle, BundleError};
use crate::keys::LoadedKeys;
use crate::pins::Pins;

/// Why a case's report could not be opened at all.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// The bundle could not be read.
    Bundle(BundleError),
    /// The key is not a recipient of the report.
    NotForThisKey {
        /// The case.
        case: CaseNumber,
        /// The key file.
        key_file: PathBuf,
        /// The key file's recipients.
        recipients: Vec<Recipient>,
    },
    /// The report file is damaged.
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The report decrypts but is not authentic or not a report.
    NotAuthentic {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Bundle(e) => e.fmt(f),
            ReportError::NotForThisKey {
                case,
                key_file,
                recipients,
            } => {
                let list: Vec<&str> = recipients.iter().map(Recipient::as_str).collect();
                write!(
                    f,
                    "case {case} was not encrypted to the recipient of {} ({}); use the key \
                     of an investigator of the report's destination",
                    key_file.display(),
                    list.join(", ")
                )
            }
            ReportError::Damaged { path, detail } => {
                write!(f, "the report file {} is damaged: {detail}", path.display())
            }
            ReportError::NotAuthentic { path, detail } => write!(
                f,
                "the report file {} decrypts but cannot be trusted: {detail}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ReportError {}

impl From<BundleError> for ReportError {
    fn from(e: BundleError) -> Self {
        ReportError::Bundle(e)
    }
}

/// How the report's recipients compare with the pinned ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    /// The same set.
    Matches {
        /// The set's fingerprint.
        fingerprint: String,
    },
    /// This bundle has no pins for the report's destination.
    NotPinned {
        /// The destination.
        destination: String,
    },
    /// A different set: someone added or removed a key.
    Differs {
        /// The destination.
        destination: String,
        /// In the report but not pinned (a key the server may have added).
        added: Vec<Recipient>,
        /// Pinned but not in the report.
        missing: Vec<Recipient>,
    },
}

impl PinCheck {
    /// Compares the recipients a report lists with the pinned ones (`None`: not pinned).
    pub fn compare(
        destination: &str,
        pinned: Option<&[Recipient]>,
        reported: &[Recipient],
    ) -> PinCheck {
        match pinned {
            None => PinCheck::NotPinned {
                destination: destination.to_owned(),
            },
            Some(p) if same_set(p, reported) => PinCheck::Matches {
                fingerprint: fingerprint(p),
            },
            Some(p) => PinCheck::Differs {
                destination: destination.to_owned(),
                added: reported
                    .iter()
                    .filter(|r| !p.contains(r))
                    .cloned()
                    .collect(),
                missing: p
                    .iter()
                    .filter(|r| !reported.contains(r))
                    .cloned()
                    .collect(),
            },
        }
    }

    /// Whether the report went to exactly the pinned keys.
    pub fn is_ok(&self) -> bool {
        matches!(self, PinCheck::Matches { .. })
    }

    /// The warning to show, if any. Loud on purpose.
    pub fn warning(&self) -> Option<String> {
        match self {
            PinCheck::Matches { .. } => None,
            PinCheck::NotPinned { destination } => Some(format!(
                "WARNING: no recipients are pinned for destination \"{destination}\", so this \
                 report's recipients cannot be checked. Pin them from the key ceremony: \
                 `meldpunt pin BUNDLE_DIR {destination} age1…`"
            )),
            PinCheck::Differs {
                destination,
                added,
                missing,
            } => {
                let mut s = format!(
                    "WARNING: THIS REPORT WAS ENCRYPTED TO A DIFFERENT SET OF KEYS THAN THE \
                     ONES PINNED FOR \"{destination}\".\nSomeone (possibly the server) may have \
                     added a key to read reports. Tell the key holders and the operator; do not \
                     trust the published key list until this is explained."
                );
                for r in added {
                    s.push_str(&format!(
                        "\n  NOT PINNED, but the report was encrypted to it: {r}"
                    ));
                }
                for r in missing {
                    s.push_str(&format!("\n  pinned, but missing from the report: {r}"));
                }
                Some(s)
            }
        }
    }
}

/// A decrypted report with its checks.
pub struct CaseReport {
    /// The case.
    pub case: CaseNumber,
    /// The case folder in the bundle.
    pub dir: PathBuf,
    /// The server's `case.json` (its word only).
    pub manifest: CaseManifest,
    /// The decrypted, signature-checked report.
    pub opened: OpenedReport,
    /// The recipients against the pins.
    pub pins: PinCheck,
    /// The pinned recipients of the report's destination, if pinned.
    pub pinned: Option<Vec<Recipient>>,
    /// Other warnings about the report.
    pub warnings: Vec<String>,
    /// The case's messages as the bundle's audit log records them (`None`: the log
    /// records no message by hash, so the thread cannot be cross-checked with it).
    pub audited: Option<Vec<(meldpunt_crypto::Direction, [u8; 32])>>,
}

/// Opens and checks a case's report.
pub fn open_case_report(
    bundle: &Bundle,
    case: &CaseNumber,
    keys: &LoadedKeys,
) -> Result<CaseReport, ReportError> {
    let dir = bundle.require_case(case)?;
    let manifest = bundle.case_manifest(case)?;
    let path = dir.join(CaseFile::Report.to_path());
    let ciphertext = read_envelope(&path)?;
    let opened = open_report(&ciphertext, &keys.identities()).map_err(|e| match e {
        OpenError::Decrypt(DecryptError::NotARecipient) => ReportError::NotForThisKey {
            case: case.clone(),
            key_file: keys.path().to_owned(),
            recipients: keys.recipients(),
        },
        OpenError::Decrypt(e) => ReportError::Damaged {
            path: path.clone(),
            detail: e.to_string(),
        },
        other => ReportError::NotAuthentic {
            path: path.clone(),
            detail: other.to_string(),
        },
    })?;
    let pinned = Pins::read(bundle)?.recipients(bundle, &opened.destination)?;
    let pins = PinCheck::compare(&opened.destination, pinned.as_deref(), &opened.recipients);
    let mut warnings = Vec::new();
    // The report lists the keys it was encrypted to; the age header must not hold more.
    let start = &ciphertext[..ciphertext.len().min(HEADER_READ_LEN)];
    match check_header(start) {
        Ok(summary) if summary.x25519_stanzas > opened.recipients.len() => warnings.push(format!(
            "WARNING: the report's age file is encrypted to {} keys but names only {}: \
             someone added a key the report does not list.",
            summary.x25519_stanzas,
            opened.recipients.len()
        )),
        Ok(_) => {}
        Err(e) => warnings.push(format!("WARNING: the report's age header is unusual: {e}")),
    }
    let server_destination = &manifest.summary.destination;
    if !server_destination.is_empty() && *server_destination != opened.destination {
        warnings.push(format!(
            "WARNING: the server files this case under destination \"{server_destination}\", \
             but the reporter sent it to \"{}\".",
            opened.destination
        ));
    }
    let records: Vec<crate::audit::AuditRecord> =
        crate::bundle::read_json_or_default(&bundle.root().join(crate::download::AUDIT_FILE))?;
    let audited = crate::audit::audited_messages(&records, case.as_str());
    Ok(CaseReport {
        case: case.clone(),
        dir,
        manifest,
        opened,
        pins,
        pinned,
        warnings,
        audited,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_crypto::InvestigatorKey;

    #[test]
    fn pins_are_compared_as_sets_and_differences_named() {
        let (a, b, c) = (
            InvestigatorKey::generate().recipient(),
            InvestigatorKey::generate().recipient(),
            InvestigatorKey::generate().recipient(),
        );
        let pinned = [a.clone(), b.clone()];
        let same = PinCheck::compare("bureau", Some(&pinned), &[b.clone(), a.clone()]);
        assert!(same.is_ok() && same.warning().is_none());
        let not = PinCheck::compare("bureau", None, std::slice::from_ref(&a));
        assert!(!not.is_ok());
        assert!(not.warning().unwrap().contains("no recipients are pinned"));
        let differs = PinCheck::compare("bureau", Some(&pinned), &[a.clone(), c.clone()]);
        assert_eq!(
            differs,
            PinCheck::Differs {
                destination: "bureau".into(),
                added: vec![c.clone()],
                missing: vec![b],
            }
        );
        let warning = differs.warning().unwrap();
        assert!(warning.contains(&format!(
            "NOT PINNED, but the report was encrypted to it: {c}"
        )));
    }
}
