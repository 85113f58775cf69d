//! The reporter's note to self (kind 0x04, PROTOCOL.md §8.5).

use serde::{Deserialize, Serialize};

use super::{
    ciphertext_hash, frame, parse_hex, parse_recipients, sign, to_json, unframe, verify_signature,
    Kind, OpenError, SealError,
};
use crate::agefile;
use crate::day::Day;
use crate::derive::ReporterKeys;
use crate::recipients::{Destination, Recipient};

/// Where a report went, as the reporter's side recorded it when sending.
///
/// The reporter cannot decrypt the report, yet must reply to the recipients it used,
/// not to whatever the server lists later. So a note to self is stored with the case:
/// encrypted to the reporter's own recipient only and signed with the reporter's key,
/// which only the code yields (not the thread key, which the bureau also holds)
/// (PROTOCOL.md §8.5). A breached server or an insider can withhold it, never alter it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReporterNote {
    /// The destination name.
    pub destination: String,
    /// The recipients the report was encrypted to.
    pub recipients: Vec<String>,
    /// SHA-256 of the report's age file, lower-case hex.
    pub report_sha256: String,
    /// The day the report was sent.
    pub date: Day,
    /// The reporter's own answers, as the reporter's side recorded each when it was
    /// sent (PROTOCOL.md §8.5): so a message the server drops cannot vanish unnoticed.
    /// Added after v1's first release; absent in older notes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<SentMessage>,
}

/// One of the reporter's own answers, as recorded in the note to self.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SentMessage {
    /// SHA-256 of the answer's age file, lower-case hex.
    pub sha256: String,
    /// The day it was sent.
    pub date: Day,
}

impl ReporterNote {
    /// The note for a report just sealed to `destination`.
    pub fn for_report(destination: &Destination, report_ciphertext: &[u8], date: Day) -> Self {
        Self {
            destination: destination.name.clone(),
            recipients: destination
                .recipients()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            report_sha256: hex::encode(ciphertext_hash(report_ciphertext)),
            date,
            sent: Vec::new(),
        }
    }

    /// The report's ciphertext hash as bytes.
    pub fn report_sha256(&self) -> Result<[u8; 32], OpenError> {
        parse_hex::<32>(
            &self.report_sha256,
            "the note's report hash is not 64 hex digits",
        )
    }

    /// The recipients, parsed.
    pub fn parsed_recipients(&self) -> Result<Vec<Recipient>, OpenError> {
        parse_recipients(
            &self.recipients,
            "a recipient in the note is not an age recipient",
        )
    }
}

/// Seals the note to self: signed by the reporter, encrypted to the reporter only.
pub fn seal_reporter_note(note: &ReporterNote, keys: &ReporterKeys) -> Result<Vec<u8>, SealError> {
    let json = to_json(note)?;
    let sig = sign(keys, Kind::ReporterNote, &json);
    let plaintext = frame(Kind::ReporterNote, &json, &sig);
    Ok(agefile::encrypt(&[keys.recipient()], &plaintext)?)
}

/// Opens and verifies the note to self with the keys derived from the code.
pub fn open_reporter_note(
    ciphertext: &[u8],
    keys: &ReporterKeys,
) -> Result<ReporterNote, OpenError> {
    let plaintext = agefile::decrypt(&[&keys.identity()], ciphertext)?;
    let frame = unframe(&plaintext)?;
    if frame.kind != Kind::ReporterNote {
        return Err(OpenError::WrongKind);
    }
    verify_signature(&keys.verifying_key(), frame.kind, frame.body, frame.auth)?;
    let note: ReporterNote = serde_json::from_slice(frame.body)
        .map_err(|_| OpenError::Malformed("the note body is not valid note JSON"))?;
    note.parsed_recipients()?;
    note.report_sha256()?;
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::super::{mac, open_message, ThreadSecrets};
    use super::*;

    fn insider_setup() -> (
        crate::ReturnCode,
        ReporterKeys,
        ThreadSecrets,
        age::x25519::Identity,
    ) {
        let code = crate::ReturnCode::generate(&mut rand::rngs::OsRng);
        let keys = ReporterKeys::derive_from(&code);
        let thread = ThreadSecrets::from_reporter_keys(&keys);
        (code, keys, thread, age::x25519::Identity::generate())
    }

    #[test]
    fn the_note_to_self_round_trips_and_resists_forgery() {
        let (_code, keys, thread, bureau) = insider_setup();
        let dest =
            Destination::from_recipients("bureau", vec![Recipient::from_age(bureau.to_public())])
                .unwrap();
        let note =
            ReporterNote::for_report(&dest, b"report bytes", Day::parse("2026-11-23").unwrap());
        let ct = seal_reporter_note(&note, &keys).unwrap();
        let back = open_reporter_note(&ct, &keys).unwrap();
        assert_eq!(back.recipients, note.recipients);
        assert_eq!(
            back.report_sha256,
            hex::encode(ciphertext_hash(b"report bytes"))
        );
        // A server that swaps in its own key cannot MAC the note.
        let mut fake = note.clone();
        fake.recipients =
            vec![Recipient::from_age(age::x25519::Identity::generate().to_public()).to_string()];
        let json = to_json(&fake).unwrap();
        // Not even with the thread key, which the bureau holds too.
        let tag = mac(&thread.thread_key, Kind::ReporterNote, &json);
        let mut auth = tag.to_vec();
        auth.extend_from_slice(&[0u8; 32]);
        let forged = agefile::encrypt(
            &[keys.recipient()],
            &frame(Kind::ReporterNote, &json, &auth),
        )
        .unwrap();
        assert!(matches!(
            open_reporter_note(&forged, &keys),
            Err(OpenError::BadSignature)
        ));
        // A note is not a message, and the bureau cannot read it.
        assert!(matches!(
            open_message(&ct, &[&keys.identity()], &thread),
            Err(OpenError::WrongKind)
        ));
        assert!(open_message(&ct, &[&bureau], &thread).is_err());
    }
}
