//! What of a case may be shared with colleagues who must not learn who the reporter is
//! (EU Directive 2019/1937, Art. 16): [`shareable`] picks it from an [`OpenedCase`], so
//! every front end that makes a copy for colleagues leaves out the same things.
//!
//! Left out, always: the reporter's contact details, the reporter's keys and the thread
//! key (whoever holds them can write as the reporter or as the bureau), the keys the
//! report was encrypted to, and the documents themselves (they can carry identifying
//! metadata; share them deliberately, one by one). What remains — the report's words,
//! the documents' names and sizes, the conversation — can still point at the reporter:
//! [`LEFT_OUT`] and [`STILL_IN`] say so, for a front end to show.

use meldpunt_crypto::{CaseStatus, Category, Day, Direction, EncryptedBy};
use meldpunt_wire::CaseNumber;

use crate::attachments::AttachmentCheck;
use crate::opened::OpenedCase;

/// What a shareable copy never holds.
pub const LEFT_OUT: [&str; 4] = [
    "the reporter's contact details",
    "the reporter's keys and the thread key",
    "the keys the report was encrypted to",
    "the documents themselves (only their names and sizes)",
];

/// What a shareable copy still holds that may point at the reporter.
pub const STILL_IN: &str = "the reporter's own words, the documents' names and the \
conversation can still give away who the reporter is: read the copy before you share it";

/// A case as it may be shared with colleagues.
pub struct Shareable<'a> {
    /// The case.
    pub case: &'a CaseNumber,
    /// The day the server received it.
    pub received: Day,
    /// The day the reporter wrote it.
    pub written: Day,
    /// The destination the reporter chose.
    pub destination: &'a str,
    /// The category.
    pub category: Category,
    /// Whom it concerns.
    pub concerning: &'a str,
    /// What happened.
    pub description: &'a str,
    /// When and where.
    pub when_where: &'a str,
    /// Where it was encrypted.
    pub encrypted_by: EncryptedBy,
    /// The status as the server last described it.
    pub status: CaseStatus,
    /// The documents, named and sized only.
    pub documents: Vec<SharedDocument<'a>>,
    /// The conversation.
    pub messages: Vec<SharedMessage<'a>>,
    /// Every problem found when verifying (nothing is hidden from colleagues either).
    pub problems: Vec<String>,
    /// Whether the reporter gave contact details (left out).
    pub contact_left_out: bool,
}

/// A document as a shareable copy names it.
pub struct SharedDocument<'a> {
    /// The name the reporter gave it.
    pub name: &'a str,
    /// Its size in bytes.
    pub size: u64,
    /// Whether it was checked against the report (`None`: not decrypted yet).
    pub verified: Option<bool>,
}

/// A message of the conversation in a shareable copy.
pub struct SharedMessage<'a> {
    /// Its place in the thread (from 1).
    pub number: usize,
    /// The verified message, or why it is not trusted.
    pub content: Result<SharedText<'a>, &'a str>,
}

/// A verified message's words.
pub struct SharedText<'a> {
    /// Which way it went.
    pub direction: Direction,
    /// The day it was written.
    pub date: Day,
    /// The status it announces.
    pub status: Option<CaseStatus>,
    /// The text.
    pub text: &'a str,
}

/// What of `opened` may be shared with colleagues.
pub fn shareable(opened: &OpenedCase) -> Shareable<'_> {
    let report = &opened.report;
    let content = &report.opened.content;
    Shareable {
        case: &report.case,
        received: report.manifest.summary.received,
        written: content.date,
        destination: &report.opened.destination,
        category: content.category,
        concerning: &content.concerning,
        description: &content.description,
        when_where: &content.when_where,
        encrypted_by: content.encrypted_by,
        status: report.manifest.summary.status,
        documents: opened
            .attachments
            .iter()
            .map(|a| SharedDocument {
                name: &a.entry.name,
                size: a.entry.size,
                verified: match a.check {
                    AttachmentCheck::NotChecked => None,
                    AttachmentCheck::Saved { .. } => Some(true),
                    AttachmentCheck::Failed { .. } => Some(false),
                },
            })
            .collect(),
        messages: opened
            .thread
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| SharedMessage {
                number: i + 1,
                content: match &item.result {
                    Ok(m) => Ok(SharedText {
                        direction: m.direction,
                        date: m.date,
                        status: m.status,
                        text: &m.text,
                    }),
                    Err(why) => Err(why.text.as_str()),
                },
            })
            .collect(),
        problems: opened.problems(),
        contact_left_out: opened.contact().is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opened::open_case;
    use crate::testkit::Kit;

    fn every_text(s: &Shareable<'_>) -> String {
        let mut all = vec![
            s.case.to_string(),
            s.destination.to_owned(),
            s.concerning.to_owned(),
            s.description.to_owned(),
            s.when_where.to_owned(),
        ];
        all.extend(s.documents.iter().map(|d| d.name.to_owned()));
        for m in &s.messages {
            match &m.content {
                Ok(t) => all.push(t.text.to_owned()),
                Err(why) => all.push((*why).to_owned()),
            }
        }
        all.extend(s.problems.iter().cloned());
        all.join("\n")
    }

    #[test]
    fn a_shareable_copy_leaves_out_the_reporters_identity_and_keys() {
        let mut kit = Kit::with_contact(true, Some("Jan, 06-12345678"));
        kit.bureau_says("Do you have the invoices?");
        kit.reporter_says("Yes, attached later.");
        let opened = open_case(&kit.bundle, &kit.case, &kit.keys).unwrap();
        assert!(opened.contact().is_some());
        let shared = shareable(&opened);
        assert!(shared.contact_left_out);
        assert_eq!(shared.description, "Invoices paid twice.");
        assert_eq!(shared.messages.len(), 2);
        assert!(matches!(
            &shared.messages[1].content,
            Ok(SharedText {
                direction: Direction::FromReporter,
                text: "Yes, attached later.",
                ..
            })
        ));
        let all = every_text(&shared);
        assert!(!all.contains("06-12345678"));
        let secrets = &opened.report.opened.thread;
        assert!(!all.contains(&hex::encode(secrets.thread_id.0)));
        for r in &opened.report.opened.recipients {
            assert!(!all.contains(r.as_str()));
        }
    }
}
