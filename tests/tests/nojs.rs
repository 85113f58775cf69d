//! Tor Browser at "Safest": JavaScript off. Headless Chromium with JavaScript disabled
//! by preference follows the `<noscript>` link to the plain form, ticks the consent,
//! sends a report with a document; the result page shows a server-made code and the
//! case; the investigator's tool decrypts the report and the document and says the
//! server encrypted it; after a question the reporter checks back without JavaScript,
//! reads it, answers; the bureau verifies the answer. Then no plaintext marker is in the
//! data directory, in files created in the temp directory meanwhile, or in the logs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use meldpunt_crypto::ReturnCode;
use meldpunt_tests::browser;
use meldpunt_tests::{Investigator, Site};
use serde_json::json;

const DESCRIPTION: &str = "SAFEST-MARKER-7Q the deputy sold access to the permit register.";
const DOCUMENT: &[u8] = b"SAFEST-DOC-MARKER-7Q ledger of payments, March to May.\n";
const QUESTION: &str = "Thank you. Who paid for the access?";
const ANSWER: &str = "SAFEST-ANSWER-MARKER-7Q a broker from Almere.";

fn files_under(dir: &Path, since: Option<SystemTime>, skip: &[&Path], out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if skip.iter().any(|s| p.starts_with(s)) {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            files_under(&p, since, skip, out);
        } else if meta.is_file() {
            let fresh = match since {
                None => true,
                Some(t) => {
                    meta.modified().map(|m| m >= t).unwrap_or(true)
                        || meta.created().map(|c| c >= t).unwrap_or(false)
                }
            };
            if fresh {
                out.push(p);
            }
        }
    }
}

fn find_markers(what: &str, bytes: &[u8]) -> Vec<String> {
    let markers: [&[u8]; 4] = [
        b"SAFEST-MARKER-7Q",
        b"SAFEST-DOC-MARKER-7Q",
        b"SAFEST-ANSWER-MARKER-7Q",
        QUESTION.as_bytes(),
    ];
    markers
        .iter()
        .filter(|m| bytes.windows(m.len()).any(|w| w == **m))
        .map(|m| format!("{what}: {}", String::from_utf8_lossy(m)))
        .collect()
}

/// Waits for the element with this id after a form was posted (no script to poll with).
async fn wait_for(b: &browser::Browser, id: &str) {
    let found = b
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(60))
        .for_element(fantoccini::Locator::Id(id))
        .await;
    if found.is_err() {
        let page = b.client.source().await.unwrap_or_default();
        panic!("no #{id} on the page:\n{}", &page[..page.len().min(6000)]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_and_check_back_with_javascript_disabled() {
    let started = SystemTime::now();
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let b = browser::start_with(
        &[],
        json!({"profile.managed_default_content_settings.javascript": 2}),
    )
    .await;
    // The reporter's files and the investigator's decrypted output live outside the temp
    // directory, so that scanning it finds only what the server and browser left there.
    let work = tempfile::tempdir_in(meldpunt_tests::bin_dir()).unwrap();

    // The JavaScript form: with scripts off it is not shown at all (nobody writes a
    // report into a form that cannot send); its <noscript> notice leads on.
    b.client.goto(&site.url("/en/report")).await.unwrap();
    for id in ["report-form", "engine"] {
        let el = b.client.find(fantoccini::Locator::Id(id)).await.unwrap();
        assert!(
            !el.is_displayed().await.unwrap(),
            "#{id} shows without JavaScript"
        );
    }
    b.click("#nojs-link").await;
    assert!(b
        .client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .ends_with("/en/report-nojs"));
    assert!(b.text("files-help").await.contains("64 MB"));

    let evidence = work.path().join("ledger.txt");
    let evidence_bytes = DOCUMENT.repeat(2000);
    fs::write(&evidence, &evidence_bytes).unwrap();
    b.click("#consent").await;
    b.click("input[name=category][value=fraud]").await;
    b.type_into("concerning", "the deputy head of permits")
        .await;
    b.type_into("description", DESCRIPTION).await;
    b.type_into("when_where", "spring 2026, Lelystad").await;
    b.type_into("files", evidence.to_str().unwrap()).await;
    b.click("#send").await;
    wait_for(&b, "code").await;
    let shown = b.text("code").await;
    let code = ReturnCode::parse(&shown)
        .unwrap_or_else(|e| panic!("a code on the result page: {shown}: {e}"));
    let case = b.text("receipt-case").await;
    assert!(case.starts_with("MP-"), "{case}");
    assert_eq!(
        b.text("receipt-date").await,
        meldpunt_crypto::Day::today().to_string()
    );

    // --- the bureau, offline ---------------------------------------------------------------
    let inv = Investigator::new(&site, &token);
    inv.pull();
    let folder = inv.open(&case);
    let report_md = inv.read(&case, "report.md");
    assert!(report_md.contains(DESCRIPTION), "{report_md}");
    assert!(report_md.contains("Encrypted BY THE SERVER"), "{report_md}");
    assert_eq!(
        fs::read(folder.join("attachments").join("ledger.txt")).unwrap(),
        evidence_bytes
    );

    inv.reply(&case, QUESTION, Some("acknowledged"));
    inv.push();

    // --- the reporter checks back, still without JavaScript ----------------------------------
    b.client.goto(&site.url("/en/check")).await.unwrap();
    b.click("#nojs-link").await;
    b.type_into("code-input", &code.to_grouped_string()).await;
    b.click("#open").await;
    wait_for(&b, "messages").await;
    assert!(b.text("messages").await.contains(QUESTION));
    assert!(b
        .text("decrypted-notice")
        .await
        .contains("the server decrypted these messages in memory"));
    assert_eq!(b.text("status").await, "acknowledged");
    b.type_into("reply", ANSWER).await;
    b.click("#send-reply").await;
    wait_for(&b, "reply-ok").await;
    assert!(b.text("reply-ok").await.contains("Your answer was sent"));

    // --- the bureau verifies the answer ------------------------------------------------------
    inv.pull();
    inv.open(&case);
    let thread_md = inv.read(&case, "thread.md");
    assert!(thread_md.contains(ANSWER), "{thread_md}");
    let thread_json = inv.read(&case, "thread.json");
    assert!(
        !thread_json.contains("\"verified\":false"),
        "every message verifies: {thread_json}"
    );

    // --- no plaintext anywhere the server writes ---------------------------------------------
    drop(_server);
    let mut found = Vec::new();
    let mut files = Vec::new();
    files_under(&site.data_dir(), None, &[], &mut files);
    assert!(!files.is_empty());
    // The temp directory: files created during the test, except the browser's own profile
    // (the reporter's browser is not the server), this site's data directory (above) and
    // the investigator's bundle and decrypted cases (their offline laptop, not the server)
    // and the reporter's own files (their device), wherever the checkout lies.
    files_under(
        &std::env::temp_dir(),
        Some(started),
        &[b.profile_dir(), &site.data_dir(), inv.dir(), work.path()],
        &mut files,
    );
    for f in &files {
        if let Ok(bytes) = fs::read(f) {
            found.extend(find_markers(&f.display().to_string(), &bytes));
        }
    }
    found.extend(find_markers("server logs", &site.logs()));
    assert!(found.is_empty(), "plaintext found: {found:#?}");
}
