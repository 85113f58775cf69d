//! The investigators' side: the case list with deadlines, one case, the case download
//! (a tar of the case's age files with its manifest), posting to the thread, moving the
//! status forward, shredding a closed case. Every action goes into the audit log.

use std::io::{self, Write};

use meldpunt_crypto::{CaseStatus, Day, Direction};
use meldpunt_wire::{CaseFile, CaseManifest, CaseNumber, CaseSummary, FileEntry};

use super::ServiceError;
use crate::storage::records::CaseRecord;
use crate::storage::StoreError;
use crate::tokens::Investigator;
use crate::App;

/// A case as investigators see it: metadata and deadlines, no content.
pub fn summary(app: &App, case: &CaseNumber, r: &CaseRecord) -> CaseSummary {
    CaseSummary {
        case: case.clone(),
        destination: r.destination.clone(),
        received: r.received,
        status: r.status,
        acknowledged: r.acknowledged,
        closed: r.closed,
        acknowledge_by: r.acknowledge_by(),
        feedback_by: r.feedback_by(),
        retention_until: r.retention_until(
            app.settings.retention_days,
            app.settings.retention_grace_days,
        ),
        head: r.head().to_owned(),
        updated: r.updated,
        last_content: r.last_content,
        attachments: r.attachments.len(),
        messages: r.thread.len(),
    }
}

/// What an audit entry concerns: a case (of its destination), or nothing in particular
/// (then the entry belongs to the investigator's own destinations).
#[derive(Clone, Copy)]
pub enum About<'a> {
    /// A case and its destination.
    Case(&'a CaseNumber, &'a str),
    /// The investigator's own doing (e.g. listing the cases).
    Own,
}

impl<'a> About<'a> {
    fn parts(self, who: &'a Investigator) -> (Option<&'a str>, Vec<String>) {
        match self {
            About::Case(case, destination) => (Some(case.as_str()), vec![destination.to_owned()]),
            About::Own => (None, who.destinations.clone()),
        }
    }
}

/// Writes an entry to the audit log.
pub async fn audit(
    app: &App,
    who: &Investigator,
    action: &str,
    about: About<'_>,
) -> Result<(), ServiceError> {
    let (case, scope) = about.parts(who);
    app.audit
        .append(app.storage.today(), &who.name, action, case, &scope)
        .await
        .map(|_| ())
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Writes a read to the audit log (once per token, action, case and day).
async fn audit_read(
    app: &App,
    who: &Investigator,
    action: &str,
    about: About<'_>,
) -> Result<(), ServiceError> {
    let (case, scope) = about.parts(who);
    app.audit
        .append_read(app.storage.today(), &who.name, action, case, &scope)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Every case the investigator may see, oldest first (what is due first on top).
pub async fn list(app: &App, who: &Investigator) -> Result<Vec<CaseSummary>, ServiceError> {
    audit_read(app, who, "list", About::Own).await?;
    let mut out: Vec<CaseSummary> = app
        .storage
        .cases()
        .await?
        .iter()
        .filter(|(_, r)| who.sees(&r.destination))
        .map(|(c, r)| summary(app, c, r))
        .collect();
    out.sort_by(|a, b| a.received.cmp(&b.received).then(a.case.cmp(&b.case)));
    Ok(out)
}

/// One case.
pub async fn show(
    app: &App,
    who: &Investigator,
    case: &CaseNumber,
    record: &CaseRecord,
) -> Result<CaseSummary, ServiceError> {
    audit_read(app, who, "view", About::Case(case, &record.destination)).await?;
    Ok(summary(app, case, record))
}

/// The manifest of a case download: the summary and every file with its hash.
pub fn manifest(summary: CaseSummary, record: &CaseRecord) -> CaseManifest {
    let mut files = vec![FileEntry {
        path: CaseFile::Report,
        sha256: record.report.sha256.clone(),
        size: record.report.size,
    }];
    for (i, a) in record.attachments.iter().enumerate() {
        files.push(FileEntry {
            path: CaseFile::Attachment(i as u32),
            sha256: a.digest.sha256.clone(),
            size: a.digest.size,
        });
    }
    for (i, m) in record.thread.iter().enumerate() {
        files.push(FileEntry {
            path: CaseFile::Message(i as u32 + 1, m.direction),
            sha256: m.digest.sha256.clone(),
            size: m.digest.size,
        });
    }
    CaseManifest { summary, files }
}

/// What a case download needs, gathered while the request is answered.
pub struct Download {
    /// The case.
    pub case: CaseNumber,
    record: CaseRecord,
    manifest: CaseManifest,
    /// The runtime, to read from storage on the blocking thread that writes the tar.
    runtime: rocket::tokio::runtime::Handle,
}

/// Starts a case download (audited); the tar is then written by [`Download::write`]
/// on a blocking thread.
pub async fn download(
    app: &App,
    who: &Investigator,
    case: CaseNumber,
    record: CaseRecord,
) -> Result<Download, ServiceError> {
    audit_read(
        app,
        who,
        "download",
        About::Case(&case, &record.destination),
    )
    .await?;
    let manifest = manifest(summary(app, &case, &record), &record);
    Ok(Download {
        case,
        record,
        manifest,
        runtime: rocket::tokio::runtime::Handle::current(),
    })
}

fn tar_header(size: u64, day: Day) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o600);
    // The day only, like every stamp Meldpunt writes.
    let secs = crate::clock::midnight(day)
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    h.set_mtime(secs);
    h.set_cksum();
    h
}

fn block<T>(
    runtime: &rocket::tokio::runtime::Handle,
    read: impl std::future::Future<Output = Result<T, crate::storage::StoreError>>,
) -> Result<T, String> {
    runtime.block_on(read).map_err(|e| e.to_string())
}

impl Download {
    /// Writes the tar: `case.json`, the report, the attachments (streamed from
    /// storage), the thread, one file in memory at a time. Blocking: run it on a
    /// blocking thread.
    pub fn write(self, app: &App, out: impl Write) -> Result<(), String> {
        let e = |e: io::Error| e.to_string();
        let report = block(&self.runtime, app.storage.report(&self.case))?;
        let manifest = serde_json::to_vec_pretty(&self.manifest).map_err(|e| e.to_string())?;
        let mut tar = tar::Builder::new(out);
        let r = &self.record;
        tar.append_data(
            &mut tar_header(manifest.len() as u64, r.updated),
            CaseFile::Manifest.to_path(),
            manifest.as_slice(),
        )
        .map_err(e)?;
        tar.append_data(
            &mut tar_header(report.len() as u64, r.received),
            CaseFile::Report.to_path(),
            report.as_slice(),
        )
        .map_err(e)?;
        for (i, a) in r.attachments.iter().enumerate() {
            let file = app.storage.read_attachment(a).map_err(|e| e.to_string())?;
            tar.append_data(
                &mut tar_header(a.digest.size, r.received),
                CaseFile::Attachment(i as u32).to_path(),
                file,
            )
            .map_err(e)?;
        }
        for (i, m) in r.thread.iter().enumerate() {
            let bytes = block(&self.runtime, app.storage.message(&self.case, i + 1))?;
            tar.append_data(
                &mut tar_header(bytes.len() as u64, m.day),
                CaseFile::Message(i as u32 + 1, m.direction).to_path(),
                bytes.as_slice(),
            )
            .map_err(e)?;
        }
        let mut out = tar.into_inner().map_err(e)?;
        out.flush().map_err(e)
    }
}

/// An investigator's message to the reporter, extending `extends` (audited).
pub async fn post(
    app: &App,
    who: &Investigator,
    case: &CaseNumber,
    extends: &str,
    message: &[u8],
) -> Result<(usize, CaseRecord), ServiceError> {
    super::thread::post(
        app,
        case,
        Direction::ToReporter,
        &who.name,
        extends,
        message,
    )
    .await
}

/// Moves the case's status forward (audited).
pub async fn set_status(
    app: &App,
    who: &Investigator,
    case: &CaseNumber,
    status: CaseStatus,
) -> Result<CaseSummary, ServiceError> {
    let _writing = app.writes.writing().await;
    let record = app.storage.set_status(case, status).await?;
    app.storage.flush().await?;
    let action = format!("status_{}", status.as_str());
    audit(app, who, &action, About::Case(case, &record.destination)).await?;
    Ok(summary(app, case, &record))
}

/// What became of a request to shred a case.
pub enum Shred {
    /// Shredded: a second investigator confirmed the first one's request.
    Done,
    /// Recorded: it waits for a different investigator to ask as well.
    Requested,
}

/// How long a request to shred waits for a second investigator.
const SHRED_REQUEST_DAYS: i64 = 30;

/// Shreds a closed case, by two different investigators (four eyes): the first asks and
/// the request is recorded in the audit log; a second, different one confirms within
/// 30 days and the case is shredded, leaving its reporter a content-free tombstone. Not
/// before `min_days_closed_before_shred` days after it was closed. Both steps audited.
pub async fn shred(
    app: &App,
    who: &Investigator,
    case: &CaseNumber,
    record: &CaseRecord,
) -> Result<Shred, ServiceError> {
    let today = app.storage.today();
    let Some(closed) = record
        .closed
        .filter(|_| record.status == CaseStatus::Closed)
    else {
        return Err(StoreError::NotClosed.into());
    };
    let from = closed.add_days(i64::from(app.settings.min_days_closed_before_shred));
    if today < from {
        return Err(ServiceError::TooEarly { from });
    }
    let about = About::Case(case, &record.destination);
    let log = app
        .audit
        .read_verified()
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let requested_by_another = log.iter().any(|e| {
        e.action == "shred_requested"
            && e.case.as_deref() == Some(case.as_str())
            && e.token != who.name
            && e.day.add_days(SHRED_REQUEST_DAYS) >= today
    });
    if !requested_by_another {
        audit(app, who, "shred_requested", about).await?;
        return Ok(Shred::Requested);
    }
    let _writing = app.writes.writing().await;
    app.storage.shred(case).await?;
    app.storage.flush().await?;
    audit(app, who, "shred", about).await?;
    Ok(Shred::Done)
}
