//! Reading a case's thread from the bundle with the protocol's one thread reader
//! ([`ThreadReader`], PROTOCOL.md §8.2–§8.3): every message opened and verified, the
//! file name's direction checked against the envelope, nothing after the first failure
//! trusted. On top of it, what only the investigator's side adds: the file's number
//! checked against its place, the wording that names the key file, the warning when a
//! reporter's message went to more keys than it should, and the server's head.

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use meldpunt_crypto::agefile::DecryptError;
use meldpunt_crypto::header::HEADER_READ_LEN;
use meldpunt_crypto::reader::direction_words;
use meldpunt_crypto::{
    check_header, ciphertext_hash, Direction, Message, OpenError, ThreadReader, ThreadState,
    Unverified, Verdict,
};
use meldpunt_wire::CaseFile;

use crate::bundle::{read_envelope, BundleError};
use crate::keys::LoadedKeys;
use crate::report::CaseReport;

/// Why one message of the thread is not trusted: the reader's reason, and the sentence
/// that tells the investigator.
#[derive(Debug)]
pub struct NotVerified {
    /// The reader's reason.
    pub reason: Unverified,
    /// What to tell the investigator.
    pub text: String,
}

impl fmt::Display for NotVerified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One file of the thread, verified or not.
pub struct ThreadItem {
    /// The file (`thread/0001-to_reporter.age`), with the direction the server gives it.
    pub file: CaseFile,
    /// SHA-256 of the file, if it could be read.
    pub sha256: Option<[u8; 32]>,
    /// The verified message, or why it is not trusted.
    pub result: Result<Message, NotVerified>,
    /// Doubts about a message that still verifies (e.g. a key added to it): shown
    /// beside it, never hidden.
    pub warnings: Vec<String>,
}

/// A case's thread as read.
pub struct CaseThread {
    /// The files in thread order.
    pub items: Vec<ThreadItem>,
    /// Problems not tied to one message (an unexpected file, the server's head differs).
    pub notes: Vec<String>,
    reader: ThreadReader,
}

impl CaseThread {
    /// How many problems were found.
    pub fn failures(&self) -> usize {
        self.items.iter().filter(|i| i.result.is_err()).count() + self.notes.len()
    }

    /// How many messages verified.
    pub fn verified(&self) -> usize {
        self.items.iter().filter(|i| i.result.is_ok()).count()
    }

    /// The thread as far as it verified.
    pub fn state(&self) -> &ThreadState {
        self.reader.state()
    }

    /// Every message's warnings, each named by its file (`thread/0001-…: …`).
    pub fn warnings(&self) -> Vec<String> {
        self.items
            .iter()
            .flat_map(|i| i.warnings.iter().map(move |w| format!("{}: {w}", i.file)))
            .collect()
    }

    /// The reader, to read on (e.g. messages queued in the outbox) under the same policy.
    pub fn into_reader(self) -> ThreadReader {
        self.reader
    }
}

/// What the reader's verdict on a message read from a bundle file says, in the
/// investigator's words where they differ from the reader's.
pub fn explain(reason: &Unverified, keys: &LoadedKeys) -> String {
    match reason {
        Unverified::Open(OpenError::Decrypt(DecryptError::NotARecipient)) => format!(
            "cannot be decrypted with {}: it was not encrypted to this key",
            keys.path().display()
        ),
        // On the bureau's side the server's label is the file name.
        Unverified::Label { labelled, actual } => format!(
            "the file name says {} but the message is {}",
            direction_words(*labelled),
            direction_words(*actual)
        ),
        other => other.to_string(),
    }
}

fn not_verified(reason: Unverified, keys: &LoadedKeys) -> NotVerified {
    NotVerified {
        text: explain(&reason, keys),
        reason,
    }
}

/// Records a failure found outside the envelope with the reader, so nothing after it is
/// trusted; the reason to show (the reader's, once something failed before).
fn distrust(reader: &mut ThreadReader, reason: Unverified) -> Unverified {
    match reader.refuse(reason) {
        Verdict::Unverified(reason) => reason,
        // `refuse` answers nothing else; were it to, the message is still not trusted.
        Verdict::Verified(_) | Verdict::Own => Unverified::AfterFailure,
    }
}

/// A thread file that could not be read from the bundle, as the reader's reason.
fn unreadable(e: BundleError) -> Unverified {
    let cause = match e {
        BundleError::Io { error, .. } => error,
        other => io::Error::other(other.to_string()),
    };
    Unverified::Open(OpenError::Decrypt(DecryptError::Io(cause)))
}

/// The thread files of a case folder in thread order, as (number, the server's
/// direction); anything else in `thread/` is named in `notes`.
fn thread_files(dir: &Path, notes: &mut Vec<String>) -> Result<Vec<(u32, Direction)>, BundleError> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in fs::read_dir(dir).map_err(|e| BundleError::io(dir, e))? {
        let entry = entry.map_err(|e| BundleError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("thread/{name}");
        // Only the download format's own names: what the name says is what is read.
        match CaseFile::parse(&path).filter(|f| f.to_path() == path) {
            Some(CaseFile::Message(number, direction)) => files.push((number, direction)),
            _ => notes.push(format!("unexpected file in the thread folder: {name}")),
        }
    }
    files.sort_by_key(|&(number, _)| number);
    Ok(files)
}

/// The warning for a bureau message that tells the reporter to encrypt answers to other
/// keys than the pinned ones: whoever holds the thread key (any destination key, a copy
/// of the report) can write one; every later answer is then readable with the added key.
fn reply_to_warning(
    report: &CaseReport,
    reply_to: &[meldpunt_crypto::Recipient],
) -> Option<String> {
    let Some(pinned) = &report.pinned else {
        return Some(format!(
            "this bureau message tells the reporter to encrypt answers to {} key(s), and \
             nothing is pinned for \"{}\" to compare them with: pin the destination",
            reply_to.len(),
            report.opened.destination
        ));
    };
    if meldpunt_crypto::recipients::same_set(pinned, reply_to) {
        return None;
    }
    let mut s = String::from(
        "WARNING: THIS BUREAU MESSAGE TELLS THE REPORTER TO ENCRYPT ANSWERS TO OTHER KEYS THAN \
         THE PINNED ONES. Someone holding the thread key may have written it to read the \
         reporter's answers. Do not trust it; tell the key holders.",
    );
    for r in reply_to.iter().filter(|r| !pinned.contains(r)) {
        s.push_str(&format!("\n  NOT PINNED, named for answers: {r}"));
    }
    for r in pinned.iter().filter(|r| !reply_to.contains(r)) {
        s.push_str(&format!("\n  pinned, but left out: {r}"));
    }
    Some(s)
}

/// Decrypts and checks every message of a case's thread, in order.
pub fn read_thread(report: &CaseReport, keys: &LoadedKeys) -> Result<CaseThread, BundleError> {
    let mut notes = Vec::new();
    let files = thread_files(&report.dir.join("thread"), &mut notes)?;
    let identities = keys.identities();
    // The reporter answers to the report's recipients until a verified bureau message
    // names others (PROTOCOL.md §8.2).
    let mut reader = ThreadReader::new(
        report.opened.thread.clone(),
        report.opened.ciphertext_sha256,
        report.opened.recipients.clone(),
    );
    let mut items: Vec<ThreadItem> = Vec::with_capacity(files.len());
    for (i, (number, labelled)) in files.into_iter().enumerate() {
        let file = CaseFile::Message(number, labelled);
        let position = i as u64 + 1;
        let ciphertext = match read_envelope(&report.dir.join(file.to_path())) {
            Ok(c) => c,
            Err(e) => {
                // Not trusted, and neither is anything after it; the text says why.
                let text = e.to_string();
                let reason = distrust(&mut reader, unreadable(e));
                items.push(ThreadItem {
                    file,
                    sha256: None,
                    result: Err(NotVerified { reason, text }),
                    warnings: Vec::new(),
                });
                continue;
            }
        };
        let sha256 = Some(ciphertext_hash(&ciphertext));
        let result = match reader.read_as_bureau(&identities, labelled, &ciphertext) {
            Verdict::Verified(_) if u64::from(number) != position => Err(distrust(
                &mut reader,
                Unverified::Misnumbered {
                    number: u64::from(number),
                    position,
                },
            )),
            Verdict::Verified(m) => Ok(m),
            Verdict::Unverified(reason) => Err(reason),
            // Only the reporter's side has messages of its own; here one is not trusted.
            Verdict::Own => Err(distrust(
                &mut reader,
                Unverified::Open(OpenError::WrongKind),
            )),
        };
        let mut warnings = Vec::new();
        if let (Some(audited), Some(h)) = (&report.audited, sha256) {
            if !audited.iter().any(|(_, a)| *a == h) {
                warnings.push(
                    "WRITTEN OUTSIDE THE API: no entry of the audit log records this message \
                     — it was put into the server's storage directly, or the log was cut. \
                     Tell the operator and the bureau's management."
                        .to_owned(),
                );
            }
        }
        if let Ok(m) = &result {
            if m.direction == Direction::ToReporter {
                if !m.reply_to.is_empty() {
                    warnings.extend(reply_to_warning(report, &m.reply_to));
                }
                // Written after reporter messages the bureau had not seen.
                let from_before = reader.state().count(Direction::FromReporter);
                if m.ack < from_before {
                    warnings.push(format!(
                        "this bureau message acknowledges {} of the reporter's messages, but \
                         {from_before} came before it: it was written without seeing the \
                         reporter's latest (the server kept it from the bureau)",
                        m.ack
                    ));
                }
            }
            if m.direction == Direction::FromReporter {
                // The reporter should have encrypted to the reply set; more stanzas mean
                // a key someone added to read it.
                let expected = reader.reply_set().len();
                let start = &ciphertext[..ciphertext.len().min(HEADER_READ_LEN)];
                if let Ok(h) = check_header(start) {
                    if h.x25519_stanzas > expected {
                        warnings.push(format!(
                            "the reporter's message is encrypted to {} keys, but the \
                             reporter should have used {expected}: someone may have added a \
                             key to read it",
                            h.x25519_stanzas,
                        ));
                    }
                }
            }
        }
        items.push(ThreadItem {
            file,
            sha256,
            result: result.map_err(|reason| not_verified(reason, keys)),
            warnings,
        });
    }
    // What the audit log records but the download lacks: dropped by the server.
    if let Some(audited) = &report.audited {
        for (direction, h) in audited {
            if !items.iter().any(|i| i.sha256 == Some(*h)) {
                notes.push(format!(
                    "the audit log records a message {} ({}…) that the download does not \
                     hold: the server dropped it (pull again; if it stays missing, tell the \
                     operator)",
                    direction_words(*direction),
                    &hex::encode(h)[..16]
                ));
            }
        }
    }
    let server_head = &report.manifest.summary.head;
    if !server_head.eq_ignore_ascii_case(&hex::encode(reader.state().head()))
        && items.iter().all(|i| i.result.is_ok())
    {
        notes.push(
            "the server says the thread has a different last message than the bundle \
             holds: a message may be missing (pull again) or was dropped by the server"
                .to_owned(),
        );
    }
    Ok(CaseThread {
        items,
        notes,
        reader,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::open_case_report;
    use crate::testkit::Kit;
    use meldpunt_crypto::{seal_from_reporter, InvestigatorKey};
    use zeroize::Zeroizing;

    fn read(kit: &Kit) -> CaseThread {
        let report = open_case_report(&kit.bundle, &kit.case, &kit.keys).unwrap();
        read_thread(&report, &kit.keys).unwrap()
    }

    fn texts(thread: &CaseThread) -> Vec<String> {
        thread
            .items
            .iter()
            .map(|i| match &i.result {
                Ok(m) => format!("ok: {}", m.text),
                Err(e) => e.text.clone(),
            })
            .collect()
    }

    #[test]
    fn a_whole_thread_verifies_in_order() {
        let mut kit = Kit::new(true);
        kit.bureau_says("Question?");
        kit.reporter_says("Answer.");
        let thread = read(&kit);
        assert_eq!(texts(&thread), ["ok: Question?", "ok: Answer."]);
        assert_eq!(
            thread.items[1].file,
            CaseFile::Message(2, Direction::FromReporter)
        );
        assert_eq!((thread.failures(), thread.verified()), (0, 2));
        assert!(thread.warnings().is_empty());
        assert_eq!(thread.state().head(), kit.state.head());
    }

    #[test]
    fn a_number_out_of_place_fails_and_nothing_after_it_is_trusted() {
        let mut kit = Kit::new(true);
        kit.bureau_says("one");
        kit.reporter_says("two");
        kit.bureau_says("three");
        let t = kit.bundle.case_dir(&kit.case).join("thread");
        fs::rename(
            t.join("0002-from_reporter.age"),
            t.join("0005-from_reporter.age"),
        )
        .unwrap();
        fs::rename(
            t.join("0003-to_reporter.age"),
            t.join("0006-to_reporter.age"),
        )
        .unwrap();
        let thread = read(&kit);
        let texts = texts(&thread);
        assert_eq!(texts[0], "ok: one");
        assert_eq!(texts[1], "numbered 5 but is message 2 of the thread");
        assert!(matches!(
            thread.items[1].result,
            Err(NotVerified {
                reason: Unverified::Misnumbered {
                    number: 5,
                    position: 2
                },
                ..
            })
        ));
        assert!(texts[2].starts_with("not verified: it comes after a message that failed"));
        assert_eq!(thread.failures(), 2);
    }

    #[test]
    fn the_file_names_direction_must_be_the_envelopes() {
        let mut kit = Kit::new(true);
        kit.bureau_says("one");
        let t = kit.bundle.case_dir(&kit.case).join("thread");
        fs::rename(
            t.join("0001-to_reporter.age"),
            t.join("0001-from_reporter.age"),
        )
        .unwrap();
        let thread = read(&kit);
        assert_eq!(
            texts(&thread),
            ["the file name says from the reporter but the message is to the reporter"]
        );
    }

    #[test]
    fn a_message_not_for_this_key_names_the_key_file_and_extra_keys_are_warned() {
        let mut kit = Kit::new(true);
        // The reporter's browser was given a key more than the report used.
        let mut more = kit.bureau.recipients().to_vec();
        more.push(InvestigatorKey::generate().recipient());
        let draft = kit.state.draft(
            Direction::FromReporter,
            crate::testkit::day(),
            Zeroizing::new("x".into()),
        );
        let ct = seal_from_reporter(&draft, &kit.reporter, &kit.code, &more).unwrap();
        let m = meldpunt_crypto::open_message(&ct, &kit.keys.identities(), &kit.secrets()).unwrap();
        kit.state.accept(&ct, &m).unwrap();
        kit.add_message(Direction::FromReporter, &ct);
        let thread = read(&kit);
        assert_eq!(thread.failures(), 0);
        assert!(thread.warnings()[0].starts_with(
            "thread/0001-from_reporter.age: the reporter's message is encrypted to 3 keys, but \
             the reporter should have used 2"
        ));
        // The warning belongs to the message it is about.
        assert_eq!(thread.items[0].warnings.len(), 1);

        // Only to a stranger: this key cannot open it.
        let mut kit = Kit::new(true);
        let draft = kit.state.draft(
            Direction::FromReporter,
            crate::testkit::day(),
            Zeroizing::new("x".into()),
        );
        let stranger = [InvestigatorKey::generate().recipient()];
        let ct = seal_from_reporter(&draft, &kit.reporter, &kit.code, &stranger).unwrap();
        kit.add_message(Direction::FromReporter, &ct);
        let thread = read(&kit);
        assert_eq!(
            texts(&thread),
            [format!(
                "cannot be decrypted with {}: it was not encrypted to this key",
                kit.keys.path().display()
            )]
        );
    }

    #[test]
    fn strange_files_and_a_different_server_head_are_noted() {
        let mut kit = Kit::new(true);
        kit.bureau_says("one");
        let t = kit.bundle.case_dir(&kit.case).join("thread");
        fs::write(t.join("notes.txt"), "x").unwrap();
        fs::write(t.join("00002-to_reporter.age"), "x").unwrap();
        let thread = read(&kit);
        assert_eq!(thread.verified(), 1);
        let mut notes = thread.notes.clone();
        notes.sort();
        assert_eq!(
            notes,
            [
                "unexpected file in the thread folder: 00002-to_reporter.age",
                "unexpected file in the thread folder: notes.txt",
            ]
        );
        fs::remove_file(t.join("notes.txt")).unwrap();
        fs::remove_file(t.join("00002-to_reporter.age")).unwrap();
        // The server's head is a message the bundle does not hold.
        kit.bureau_says("two");
        fs::remove_file(t.join("0002-to_reporter.age")).unwrap();
        let thread = read(&kit);
        assert_eq!(thread.verified(), 1);
        assert!(thread.notes[0].contains("a message may be missing"));
        assert_eq!(thread.failures(), 1);
    }
}
