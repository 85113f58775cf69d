//! `meldpunt cases`: every case in the bundle with its status and the EU Directive
//! 2019/1937 deadlines: acknowledge within 7 days of receipt; give feedback within
//! 3 months of the acknowledgement, or of day 7 when none was sent. Overdue cases first.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::{CaseStatus, Day};

use crate::bundle::{Bundle, BundleError, CaseId, CaseMeta};
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

/// Why `cases` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CasesError {
    /// The bundle could not be read.
    Bundle(BundleError),
}

impl fmt::Display for CasesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CasesError::Bundle(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CasesError {}

impl From<BundleError> for CasesError {
    fn from(e: BundleError) -> Self {
        CasesError::Bundle(e)
    }
}

struct Row {
    case: CaseId,
    meta: CaseMeta,
    status: String,
    deadlines: Deadlines,
    overdue: bool,
    retention_ended: bool,
    next: Option<Day>,
}

/// `meldpunt cases BUNDLE_DIR [--on DAY]`.
pub fn cases(bundle_dir: &Path, on: Option<Day>) -> Result<ExitCode, CasesError> {
    let bundle = Bundle::open(bundle_dir)?;
    let today = on.unwrap_or_else(Day::today);
    let outbox = Outbox::read(&bundle)?;
    let mut rows = Vec::new();
    for case in bundle.case_ids()? {
        let meta = bundle.case_meta(&case)?;
        // The investigator's own decision counts when it is newer than the server's copy.
        let (status, label) = match outbox.latest_status(&case) {
            Some((local, day, state)) if meta.updated.is_none_or(|u| day >= u) => {
                let note = if state == State::Queued {
                    " (queued)"
                } else {
                    ""
                };
                (local, format!("{}{note}", status_word(local)))
            }
            _ => (meta.status, status_word(meta.status).to_owned()),
        };
        let acknowledged_on = [outbox.acknowledged_on(&case), meta.acknowledged]
            .into_iter()
            .flatten()
            .min();
        let d = deadlines(meta.received, status, acknowledged_on, meta.feedback_by);
        let overdue = [d.acknowledge_by, d.feedback_by]
            .iter()
            .flatten()
            .any(|by| today > *by);
        let retention_ended = meta.retention_until.is_some_and(|r| today >= r);
        let next = [d.acknowledge_by, d.feedback_by]
            .into_iter()
            .flatten()
            .min();
        rows.push(Row {
            case,
            meta,
            status: label,
            deadlines: d,
            overdue,
            retention_ended,
            next,
        });
    }
    if rows.is_empty() {
        println!("The bundle holds no cases. `meldpunt pull` fetches them.");
        return Ok(ExitCode::SUCCESS);
    }
    rows.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(a.next.is_none().cmp(&b.next.is_none()))
            .then(a.next.cmp(&b.next))
            .then(a.case.cmp(&b.case))
    });
    println!("Deadlines as of {today}.");
    let header = [
        "",
        "CASE",
        "STATUS",
        "ACKNOWLEDGE",
        "FEEDBACK",
        "RECEIVED",
        "RETENTION",
        "DESTINATION",
    ];
    let mut table: Vec<[String; 8]> = vec![header.map(str::to_owned)];
    for r in &rows {
        let feedback = match r.deadlines.feedback_by {
            Some(by) if r.deadlines.estimated => format!("{} (est.)", left(today, by)),
            Some(by) => left(today, by),
            None => "-".to_owned(),
        };
        table.push([
            if r.overdue { "!".into() } else { String::new() },
            r.case.to_string(),
            r.status.clone(),
            r.deadlines
                .acknowledge_by
                .map_or_else(|| "done".to_owned(), |by| left(today, by)),
            feedback,
            r.meta.received.to_string(),
            match r.meta.retention_until {
                Some(until) if r.retention_ended => format!("ENDED {until}: shred"),
                Some(until) => format!("until {until}"),
                None => "-".to_owned(),
            },
            r.meta.destination.clone(),
        ]);
    }
    print_table(&table);
    let overdue = rows.iter().filter(|r| r.overdue).count();
    if overdue > 0 {
        println!();
        println!("! {overdue} case(s) OVERDUE.");
    }
    let ended = rows.iter().filter(|r| r.retention_ended).count();
    if ended > 0 {
        println!(
            "{ended} case(s) past retention: remove them with `meldpunt shred CASE {} OUT_DIR`.",
            bundle_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn left(today: Day, by: Day) -> String {
    let days = today.days_until(by);
    match days {
        d if d < 0 => format!("OVERDUE {} day(s) ({by})", -d),
        0 => format!("due TODAY ({by})"),
        d => format!("{d} day(s) left ({by})"),
    }
}

/// The status in the user's words.
pub fn status_word(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Received => "received",
        CaseStatus::Acknowledged => "acknowledged",
        CaseStatus::Investigating => "investigating",
        CaseStatus::Closed => "closed",
    }
}

fn print_table(rows: &[[String; 8]]) {
    let mut widths = [0usize; 8];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
