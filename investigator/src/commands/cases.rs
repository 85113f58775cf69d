//! `meldpunt cases`: the bundle's cases with status and deadlines, as a table.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::Day;

use crate::bundle::{Bundle, BundleError};
use crate::deadlines::{case_rows, days_left, CaseRow};
use crate::outbox::State;

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

/// `meldpunt cases BUNDLE_DIR [--on DAY]`.
pub fn cases(bundle_dir: &Path, on: Option<Day>) -> Result<ExitCode, CasesError> {
    let bundle = Bundle::open(bundle_dir)?;
    let today = on.unwrap_or_else(Day::today);
    let rows = case_rows(&bundle, today)?;
    if rows.is_empty() {
        println!("The bundle holds no cases. `meldpunt pull` fetches them.");
        return Ok(ExitCode::SUCCESS);
    }
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
    table.extend(rows.iter().map(|r| table_row(r, today)));
    print_table(&table);
    let overdue = rows.iter().filter(|r| r.overdue).count();
    if overdue > 0 {
        println!();
        println!("! {overdue} case(s) OVERDUE.");
    }
    let alarmed: Vec<&CaseRow> = rows.iter().filter(|r| !r.alarms.is_empty()).collect();
    if !alarmed.is_empty() {
        println!();
        println!(
            "!!! THE THREADS OF {} CASE(S) DO NOT MATCH THE AUDIT LOG:",
            alarmed.len()
        );
        for r in &alarmed {
            for a in &r.alarms {
                println!("  {}: {a}", r.case);
            }
        }
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

fn table_row(r: &CaseRow, today: Day) -> [String; 8] {
    let status = match r.decided_here {
        Some(State::Queued) => format!("{} (queued)", r.status.as_str()),
        _ => r.status.as_str().to_owned(),
    };
    let feedback = match r.deadlines.feedback_by {
        Some(by) if r.deadlines.estimated => format!("{} (est.)", days_left(today, by)),
        Some(by) => days_left(today, by),
        None => "-".to_owned(),
    };
    [
        if r.overdue { "!".into() } else { String::new() },
        r.case.to_string(),
        status,
        r.deadlines
            .acknowledge_by
            .map_or_else(|| "done".to_owned(), |by| days_left(today, by)),
        feedback,
        r.summary.received.to_string(),
        match r.summary.retention_until {
            Some(until) if r.retention_ended => format!("ENDED {until}: shred"),
            Some(until) => format!("until {until}"),
            None => "-".to_owned(),
        },
        r.summary.destination.clone(),
    ]
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
