//! What the server keeps about a case and an upload session: ciphertext hashes and
//! sizes, days, status. Nothing about who sent it or when in the day.

use meldpunt_crypto::{CaseStatus, Day, Direction};
use serde::{Deserialize, Serialize};

use crate::ids::FileId;

pub use meldpunt_wire::Digest;

/// An attachment file of a case.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct StoredAttachment {
    /// The file's random name in the files directory.
    pub file: FileId,
    /// Its size and hash.
    #[serde(flatten)]
    pub digest: Digest,
}

/// One message of a case's thread.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ThreadEntry {
    /// Which way it went, as the server knows it: by the route it came in on (only the
    /// envelope inside tells the truth).
    pub direction: Direction,
    /// Its size and hash.
    #[serde(flatten)]
    pub digest: Digest,
    /// The day it arrived.
    pub day: Day,
}

/// A case.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct CaseRecord {
    /// The destination the report was sent to.
    pub destination: String,
    /// The mailbox id (hex): a hash of the reporter's credential.
    pub mailbox: String,
    /// The day the report arrived.
    pub received: Day,
    /// Where the case stands.
    pub status: CaseStatus,
    /// The day it was first set to acknowledged (or beyond).
    pub acknowledged: Option<Day>,
    /// The day it was closed.
    pub closed: Option<Day>,
    /// The last day anything changed.
    pub updated: Day,
    /// The last day new content (report or message) arrived.
    pub last_content: Day,
    /// The report's age file.
    pub report: Digest,
    /// The reporter's note to self, if sent.
    pub note: Option<Digest>,
    /// The attachments, in upload order.
    pub attachments: Vec<StoredAttachment>,
    /// The thread, in order.
    pub thread: Vec<ThreadEntry>,
}

impl CaseRecord {
    /// SHA-256 (hex) of the last age file in the thread, or of the report: what the
    /// next message must extend.
    pub fn head(&self) -> &str {
        self.thread
            .last()
            .map(|m| m.digest.sha256.as_str())
            .unwrap_or(self.report.sha256.as_str())
    }

    /// Acknowledgement due: 7 days after receipt (EU Directive 2019/1937 Art. 9(1)(b)).
    pub fn acknowledge_by(&self) -> Day {
        self.received.add_days(7)
    }

    /// Feedback due: 3 months after the acknowledgement, or after the 7-day
    /// acknowledgement period if none was sent (Art. 9(1)(f)).
    pub fn feedback_by(&self) -> Day {
        self.acknowledged
            .unwrap_or_else(|| self.acknowledge_by())
            .add_months(3)
    }

    /// The day a closed case is shredded: the retention period after closing, but
    /// never within the grace period after new content.
    pub fn retention_until(&self, retention_days: u32, grace_days: u32) -> Option<Day> {
        let closed = self.closed?;
        let by_closing = closed.add_days(i64::from(retention_days));
        let by_content = self.last_content.add_days(i64::from(grace_days));
        Some(by_closing.max(by_content))
    }
}

/// What is left of a shredded case, for its reporter: the days it was closed and
/// deleted, nothing else (keyed by the mailbox id).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tombstone {
    /// The day the case was closed.
    pub closed: Day,
    /// The day its data was deleted.
    pub deleted: Day,
}

/// One attachment being uploaded.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct UploadEntry {
    /// The file's random name in the files directory.
    pub file: FileId,
    /// Set once the upload is finished and checked.
    pub finished: Option<Digest>,
}

/// The attachments uploaded with one mailbox credential before its report.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct UploadSession {
    /// The day the session began (stale sessions are removed).
    pub created: Day,
    /// The attachments, numbered from 0.
    pub attachments: Vec<UploadEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(received: &str) -> CaseRecord {
        let day = Day::parse(received).unwrap();
        CaseRecord {
            destination: "bureau".into(),
            mailbox: String::new(),
            received: day,
            status: CaseStatus::Received,
            acknowledged: None,
            closed: None,
            updated: day,
            last_content: day,
            report: Digest::of(b"x"),
            note: None,
            attachments: vec![],
            thread: vec![],
        }
    }

    #[test]
    fn deadlines_follow_the_directive() {
        let mut r = record("2026-11-23");
        assert_eq!(r.acknowledge_by().to_string(), "2026-11-30");
        // No acknowledgement: three months after the end of the 7-day period.
        assert_eq!(r.feedback_by().to_string(), "2027-02-28");
        r.acknowledged = Some(Day::parse("2026-11-25").unwrap());
        assert_eq!(r.feedback_by().to_string(), "2027-02-25");
    }

    #[test]
    fn retention_waits_for_the_grace_period() {
        let mut r = record("2026-01-01");
        assert_eq!(r.retention_until(30, 10), None);
        r.closed = Some(Day::parse("2026-02-01").unwrap());
        assert_eq!(r.retention_until(30, 10).unwrap().to_string(), "2026-03-03");
        r.last_content = Day::parse("2026-03-01").unwrap();
        assert_eq!(r.retention_until(30, 10).unwrap().to_string(), "2026-03-11");
    }

    #[test]
    fn head_is_the_last_message_or_the_report() {
        let mut r = record("2026-01-01");
        assert_eq!(r.head(), r.report.sha256);
        r.thread.push(ThreadEntry {
            direction: Direction::ToReporter,
            digest: Digest::of(b"y"),
            day: r.received,
        });
        assert_eq!(r.head(), Digest::of(b"y").sha256);
    }
}
