//! The cases of a bundle with their status and the EU Directive 2019/1937 deadlines:
//! acknowledge within 7 days of receipt; give feedback within 3 months of the
//! acknowledgement, or of day 7 when none was sent. [`case_rows`] computes them as
//! data, overdue cases first; `meldpunt cases` prints them as a table.

use meldpunt_crypto::{CaseStatus, Day};
use meldpunt_wire::{CaseNumber, CaseSummary};

use crate::bundle::{Bundle, BundleError};
use crate::outbox::{Outbox, State};

/// Days after receipt within which a report must be acknowledged.
pub const ACKNOWLEDGE_DAYS: i64 = 7;
/// Months after the acknowledgement within which feedback is due.
pub const FEEDBACK_MONTHS: u32 = 3;

/// The deadlines of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// When the report must be acknowledged; `None` once it is.
    pub acknowledge_by: Option<Day>,
    /// When feedback is due; `None` once the case is closed.
    pub feedback_by: Option<Day>,
    /// Whether the feedback deadline is estimated (acknowledged elsewhere, day unknown).
    pub estimated: bool,
}

/// Computes the deadlines of a case.
///
/// `acknowledged_on` is the day this investigator moved the case past "received";
/// `server_feedback_by` is the server's deadline, used only when the case was
/// acknowledged elsewhere on an unknown day.
pub fn deadlines(
    received: Day,
    status: CaseStatus,
    acknowledged_on: Option<Day>,
    server_feedback_by: Option<Day>,
) -> Deadlines {
    let acknowledge_by =
        (status == CaseStatus::Received).then(|| received.add_days(ACKNOWLEDGE_DAYS));
    let (feedback_by, estimated) = match (status, acknowledged_on) {
        (CaseStatus::Closed, _) => (None, false),
        (CaseStatus::Received, _) => (
            Some(
                received
                    .add_days(ACKNOWLEDGE_DAYS)
                    .add_months(FEEDBACK_MONTHS),
            ),
            false,
        ),
        (_, Some(day)) => (Some(day.add_months(FEEDBACK_MONTHS)), false),
        // Acknowledged by a colleague on a day this bundle does not know. The server's
        // date, or failing that the earliest possible one, so it is never too late.
        (_, None) => (
            Some(server_feedback_by.unwrap_or_else(|| received.add_months(FEEDBACK_MONTHS))),
            true,
        ),
    };
    Deadlines {
        acknowledge_by,
        feedback_by,
        estimated,
    }
}

/// One case with where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// The case.
    pub case: CaseNumber,
    /// The case as the server last described it (`case.json`).
    pub summary: CaseSummary,
    /// The status that counts: the investigator's own decision when it is newer than
    /// the server's copy, else the server's.
    pub status: CaseStatus,
    /// Where that decision is, if the status is the investigator's own (queued in the
    /// outbox, or sent).
    pub decided_here: Option<State>,
    /// The deadlines.
    pub deadlines: Deadlines,
    /// Whether a deadline has passed.
    pub overdue: bool,
    /// Whether the retention period has ended (the case should be shredded).
    pub retention_ended: bool,
    /// The next deadline, if any.
    pub next: Option<Day>,
    /// What the audit log says against the case's files (messages written outside the
    /// API, messages dropped): checked without a key.
    pub alarms: Vec<String>,
}

impl CaseRow {
    /// One case as of `today`, with the investigator's own decisions in `outbox`.
    pub fn new(summary: CaseSummary, outbox: &Outbox, today: Day) -> CaseRow {
        let case = summary.case.clone();
        // The investigator's own decision counts when it is newer than the server's copy.
        let (status, decided_here) = match outbox.latest_status(&case) {
            Some((local, day, state)) if day >= summary.updated => (local, Some(state)),
            _ => (summary.status, None),
        };
        let acknowledged_on = [outbox.acknowledged_on(&case), summary.acknowledged]
            .into_iter()
            .flatten()
            .min();
        let d = deadlines(
            summary.received,
            status,
            acknowledged_on,
            Some(summary.feedback_by),
        );
        let overdue = [d.acknowledge_by, d.feedback_by]
            .iter()
            .flatten()
            .any(|by| today > *by);
        let retention_ended = summary.retention_until.is_some_and(|r| today >= r);
        let next = [d.acknowledge_by, d.feedback_by]
            .into_iter()
            .flatten()
            .min();
        CaseRow {
            case,
            summary,
            status,
            decided_here,
            deadlines: d,
            overdue,
            retention_ended,
            next,
            alarms: Vec::new(),
        }
    }
}

/// Every case of the bundle as of `today`: overdue first, then by the next deadline
/// (cases without one last), then by number.
pub fn case_rows(bundle: &Bundle, today: Day) -> Result<Vec<CaseRow>, BundleError> {
    let outbox = Outbox::read(bundle)?;
    let records: Vec<crate::audit::AuditRecord> =
        crate::bundle::read_json_or_default(&bundle.root().join(crate::download::AUDIT_FILE))?;
    let mut rows = Vec::new();
    for case in bundle.cases()? {
        let manifest = bundle.case_manifest(&case)?;
        let alarms = crate::audit::cross_check(&records, &manifest);
        let mut row = CaseRow::new(manifest.summary, &outbox, today);
        row.alarms = alarms;
        rows.push(row);
    }
    rows.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(a.next.is_none().cmp(&b.next.is_none()))
            .then(a.next.cmp(&b.next))
            .then(a.case.cmp(&b.case))
    });
    Ok(rows)
}

/// Days left until `by` as of `today`, in words: `4 day(s) left (2026-11-27)`,
/// `due TODAY (…)`, `OVERDUE 14 day(s) (…)`.
pub fn days_left(today: Day, by: Day) -> String {
    let days = today.days_until(by);
    match days {
        d if d < 0 => format!("OVERDUE {} day(s) ({by})", -d),
        0 => format!("due TODAY ({by})"),
        d => format!("{d} day(s) left ({by})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Item;
    use meldpunt_wire::{CaseManifest, CaseNumber};

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn unacknowledged_case_has_both_deadlines_from_day_seven() {
        let d = deadlines(day("2026-11-23"), CaseStatus::Received, None, None);
        assert_eq!(d.acknowledge_by, Some(day("2026-11-30")));
        assert_eq!(d.feedback_by, Some(day("2027-02-28")));
        assert!(!d.estimated);
    }

    #[test]
    fn acknowledged_case_counts_from_the_acknowledgement() {
        let d = deadlines(
            day("2026-11-23"),
            CaseStatus::Investigating,
            Some(day("2026-11-25")),
            Some(day("2030-01-01")),
        );
        assert_eq!(d.acknowledge_by, None);
        assert_eq!(d.feedback_by, Some(day("2027-02-25")));
    }

    #[test]
    fn acknowledged_elsewhere_uses_the_server_or_the_earliest_day() {
        let d = deadlines(
            day("2026-11-23"),
            CaseStatus::Acknowledged,
            None,
            Some(day("2027-02-24")),
        );
        assert_eq!(d.feedback_by, Some(day("2027-02-24")));
        assert!(d.estimated);
        let d = deadlines(day("2026-11-23"), CaseStatus::Acknowledged, None, None);
        assert_eq!(d.feedback_by, Some(day("2027-02-23")));
    }

    #[test]
    fn closed_case_has_no_deadlines() {
        let d = deadlines(day("2026-11-23"), CaseStatus::Closed, None, None);
        assert_eq!((d.acknowledge_by, d.feedback_by), (None, None));
    }

    fn summary(case: &str, received: &str, status: CaseStatus) -> CaseSummary {
        let received = day(received);
        CaseSummary {
            case: CaseNumber::parse(case).unwrap(),
            destination: "bureau".into(),
            received,
            status,
            acknowledged: None,
            closed: None,
            acknowledge_by: received.add_days(7),
            feedback_by: received.add_days(7).add_months(3),
            retention_until: Some(received.add_months(24)),
            head: "00".repeat(32),
            updated: received,
            last_content: received,
            attachments: 0,
            messages: 0,
        }
    }

    fn write_case(bundle: &Bundle, summary: CaseSummary) {
        let path = bundle.case_file(&summary.case, meldpunt_wire::CaseFile::Manifest);
        let manifest = CaseManifest {
            summary,
            files: vec![],
        };
        crate::bundle::write_json(&path, &manifest).unwrap();
    }

    #[test]
    fn rows_put_overdue_first_then_the_next_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = Bundle::open(dir.path()).unwrap();
        assert!(case_rows(&bundle, day("2026-11-23")).unwrap().is_empty());
        write_case(
            &bundle,
            summary("MP-CCCCCCCCCC", "2026-11-02", CaseStatus::Closed),
        );
        write_case(
            &bundle,
            summary("MP-BBBBBBBBBB", "2026-11-20", CaseStatus::Received),
        );
        write_case(
            &bundle,
            summary("MP-AAAAAAAAAA", "2026-11-02", CaseStatus::Received),
        );
        let rows = case_rows(&bundle, day("2026-11-23")).unwrap();
        let order: Vec<&str> = rows.iter().map(|r| r.case.as_str()).collect();
        assert_eq!(order, ["MP-AAAAAAAAAA", "MP-BBBBBBBBBB", "MP-CCCCCCCCCC"]);
        let old = &rows[0];
        assert!(old.overdue && !old.retention_ended);
        assert_eq!(old.deadlines.acknowledge_by, Some(day("2026-11-09")));
        assert_eq!(old.next, Some(day("2026-11-09")));
        assert_eq!(
            days_left(day("2026-11-23"), day("2026-11-09")),
            "OVERDUE 14 day(s) (2026-11-09)"
        );
        assert!(!rows[1].overdue);
        assert_eq!(rows[2].next, None);
        assert!(case_rows(&bundle, day("2028-12-01")).unwrap()[0].retention_ended);
    }

    #[test]
    fn the_investigators_newer_decision_counts() {
        let mut outbox = Outbox::default();
        let s = summary("MP-AAAAAAAAAA", "2026-11-02", CaseStatus::Received);
        outbox.items.push(Item::Status {
            case: s.case.clone(),
            status: CaseStatus::Acknowledged,
            queued: day("2026-11-05"),
            state: State::Queued,
            sent: None,
        });
        let row = CaseRow::new(s.clone(), &outbox, day("2026-11-23"));
        assert_eq!(row.status, CaseStatus::Acknowledged);
        assert_eq!(row.decided_here, Some(State::Queued));
        assert_eq!(row.deadlines.acknowledge_by, None);
        assert_eq!(row.deadlines.feedback_by, Some(day("2027-02-05")));
        assert!(!row.overdue);
        // The server's copy changed after the decision: the server's word counts.
        let mut newer = s;
        newer.updated = day("2026-11-06");
        newer.status = CaseStatus::Investigating;
        let row = CaseRow::new(newer, &outbox, day("2026-11-23"));
        assert_eq!(
            (row.status, row.decided_here),
            (CaseStatus::Investigating, None)
        );
    }
}
