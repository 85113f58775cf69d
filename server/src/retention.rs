//! Retention: closed cases are shredded once their retention date has passed (the
//! configured period after closing, never within the grace period after new content),
//! and upload sessions that never became a report are removed. Runs at start-up and
//! then every hour; each shred is written to the audit log as done by `server`.

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;

use crate::ids::CaseNumber;
use crate::App;

/// The audit log's name for what the server does by itself.
pub const SERVER: &str = "server";

/// One sweep. Returns the cases shredded.
pub async fn sweep(app: &App) -> Result<Vec<CaseNumber>, String> {
    let today = app.storage.today();
    let mut shredded = Vec::new();
    for (case, record) in app.storage.cases().await.map_err(|e| e.to_string())? {
        let due = record.retention_until(
            app.settings.retention_days,
            app.settings.retention_grace_days,
        );
        if due.is_some_and(|d| d <= today) {
            let _writing = app.writes.writing().await;
            app.storage.shred(&case).await.map_err(|e| e.to_string())?;
            app.storage.flush().await.map_err(|e| e.to_string())?;
            app.audit
                .append(
                    today,
                    SERVER,
                    "retention_shred",
                    Some(case.as_str()),
                    std::slice::from_ref(&record.destination),
                )
                .await
                .map_err(|e| e.to_string())?;
            shredded.push(case);
        }
    }
    let _writing = app.writes.writing().await;
    app.storage
        .remove_stale_sessions(app.settings.upload_session_days)
        .await
        .map_err(|e| e.to_string())?;
    app.storage.flush().await.map_err(|e| e.to_string())?;
    Ok(shredded)
}

/// Starts the hourly sweep when the server lifts off.
pub fn fairing() -> AdHoc {
    AdHoc::on_liftoff("retention", |rocket| {
        Box::pin(async move {
            let Some(app) = rocket.state::<App>() else {
                return;
            };
            let app: Arc<App> = Arc::new(app.clone());
            rocket::tokio::spawn(async move {
                loop {
                    if let Err(e) = sweep(&app).await {
                        crate::log::error(format!("retention sweep: {e}"));
                    }
                    rocket::tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            });
        })
    })
}
