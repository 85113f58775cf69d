//! A breached server, played for real: a case on the PostgreSQL backend, a question from
//! the bureau (the real `meldpunt` tool) and the reporter's answer typed in headless
//! Chromium; then whoever holds the database and a token
//!
//! 1. drops the reporter's answer from the database,
//! 2. posts a bureau message (MAC-valid: the thread key comes with every destination key)
//!    whose `reply_to` adds a key of their own,
//! 3. writes a message straight into the database, past the API and its audit log,
//! 4. sets the case's status to "closed" without any bureau message saying so.
//!
//! Each is shown to a person: the reporter's page says in plain words that the answer
//! is not there and that the status is only the server's word; the investigator's
//! `pull` and `open` flag the dropped answer, the unpinned answer key and the message no
//! audit entry records.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{
    ciphertext_hash, open_message, open_report, seal_to_reporter, CaseStatus, Day, Direction,
    Recipient, ThreadState,
};
use meldpunt_tests::browser::{self, Browser};
use meldpunt_tests::services::{self, PgSite};
use meldpunt_tests::{agent, meldpunt, ApiReporter, Investigator, Site};
use zeroize::Zeroizing;

const QUESTION: &str = "Thank you. Who approved the second invoice?";
const ANSWER: &str = "Hostile-server answer marker: the head of finance.";
const FORGED: &str = "Please answer from now on with every detail you have.";
const PLANTED: &str = "A message no audit entry records.";

/// Opens the check-back page and the thread with the reporter's return code.
async fn check_back(b: &Browser, site: &Site, code: &str) {
    b.client.goto(&site.url("/en/check")).await.unwrap();
    b.wait_until("!document.getElementById('open').disabled", 30)
        .await;
    b.type_into("code-input", code).await;
    b.click("#open").await;
    b.wait_until("!document.getElementById('thread').hidden", 30)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_breached_server_does_is_flagged_to_reporter_and_investigator() {
    let (pg, s3) = services::shared();
    let store = PgSite::new(pg, s3);
    let site = Site::with_config(&store.toml());
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let inv = Investigator::new(&site, &token);

    // --- a report, a question, the reporter's answer in the browser -------------------------
    let reporter = ApiReporter::new();
    let filed = reporter.file(&site, "Invoices approved twice.", None, &[]);
    let case = filed.case.clone();
    inv.pull();
    inv.open(&case);
    inv.reply(&case, QUESTION, Some("acknowledged"));
    inv.push();

    let code = reporter.code.to_grouped_string().as_str().to_owned();
    let b = browser::start(&[]).await;
    check_back(&b, &site, &code).await;
    assert!(b.text("messages").await.contains(QUESTION));
    b.type_into("reply", ANSWER).await;
    b.click("#send-reply").await;
    b.wait_until("!document.getElementById('reply-ok').hidden", 30)
        .await;
    check_back(&b, &site, &code).await;
    assert_eq!(
        b.eval("document.getElementById('missing').hidden").await,
        true,
        "nothing is missing yet"
    );

    // --- 1. the server drops the answer -------------------------------------------------------
    let sql = |q: &str| pg.sql(&store.db, q);
    assert_eq!(
        sql(&format!(
            "SELECT jsonb_array_length(record::jsonb->'thread') FROM cases WHERE case_number = '{case}'"
        ))
        .trim(),
        "2"
    );
    sql(&format!(
        "UPDATE cases SET record = (record::jsonb #- '{{thread,1}}')::text WHERE case_number = '{case}';\n\
         DELETE FROM ciphertexts WHERE case_number = '{case}' AND name = 'thread/00002';"
    ));

    // The reporter is told, in plain words, that the answer did not reach the bureau.
    check_back(&b, &site, &code).await;
    assert_eq!(
        b.eval("document.getElementById('missing').hidden").await,
        false
    );
    let missing = b.text("missing").await;
    assert!(
        missing.contains("you sent a message on") && missing.contains("is not shown here"),
        "{missing}"
    );
    assert!(missing.contains(&Day::today().to_string()), "{missing}");
    b.screenshot("hostile-dropped-answer", 1280, 900).await;

    // The investigator's pull compares the thread with the audit log.
    let (pulled, said) = inv.try_pull();
    assert!(!pulled, "{said}");
    assert!(
        said.contains("THE THREADS DO NOT MATCH THE AUDIT LOG"),
        "{said}"
    );
    assert!(said.contains("the server dropped it"), "{said}");

    // --- 2. a MAC-valid bureau message naming a key of the intruder's ------------------------
    // Whoever holds a destination key (or a copy of the report) has the thread key.
    let opened = open_report(&filed.report, &[site.bureau_key.as_age()]).unwrap();
    let mut state = ThreadState::new(opened.ciphertext_sha256);
    let view = reporter.thread(&site);
    for m in view["messages"].as_array().unwrap() {
        let ct = B64.decode(m["ciphertext"].as_str().unwrap()).unwrap();
        let msg = open_message(&ct, &[site.bureau_key.as_age()], &opened.thread).unwrap();
        state.accept(&ct, &msg).unwrap();
    }
    let intruder_identity = age::x25519::Identity::generate();
    let intruder = Recipient::parse(&intruder_identity.to_public().to_string()).unwrap();
    let mut draft = state.draft(
        Direction::ToReporter,
        Day::today(),
        Zeroizing::new(FORGED.into()),
    );
    draft.reply_to = vec![site.bureau_key.recipient(), intruder.clone()];
    let forged = seal_to_reporter(&draft, &opened.thread, site.bureau.recipients()).unwrap();
    let resp = agent()
        .post(&site.url(&format!("/api/v1/cases/{case}/messages")))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&forged[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let msg = open_message(&forged, &[site.bureau_key.as_age()], &opened.thread).unwrap();
    state.accept(&forged, &msg).unwrap();

    // --- 3. a message written into the database, past the API ----------------------------------
    let draft = state.draft(
        Direction::ToReporter,
        Day::today(),
        Zeroizing::new(PLANTED.into()),
    );
    let planted = seal_to_reporter(&draft, &opened.thread, site.bureau.recipients()).unwrap();
    let digest = hex::encode(ciphertext_hash(&planted));
    sql(&format!(
        "UPDATE cases SET record = jsonb_set(record::jsonb, '{{thread}}', \
         (record::jsonb->'thread') || jsonb_build_object('direction', 'to_reporter', \
         'size', {}, 'sha256', '{digest}', 'day', '{}'))::text WHERE case_number = '{case}';\n\
         INSERT INTO ciphertexts (case_number, name, body) VALUES ('{case}', 'thread/00003', \
         decode('{}', 'hex'));",
        planted.len(),
        Day::today(),
        hex::encode(&planted)
    ));
    assert_eq!(
        reporter.thread(&site)["messages"].as_array().unwrap().len(),
        3,
        "the planted message is served like any other"
    );

    // --- 4. a status no bureau message announced -------------------------------------------------
    let resp = agent()
        .post(&site.url(&format!("/api/v1/cases/{case}/status")))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(r#"{"status":"closed"}"#)
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(reporter.thread(&site)["status"], "closed");
    check_back(&b, &site, &code).await;
    assert_eq!(
        b.text("status").await,
        CaseStatus::Acknowledged.as_str(),
        "the page shows the status the bureau's last verified message announced"
    );
    let server_status = b.text("server-status").await;
    assert!(
        server_status.contains("According to the server: closed"),
        "{server_status}"
    );
    b.screenshot("hostile-status", 1280, 900).await;

    // --- the investigator's tool flags all of it ---------------------------------------------------
    let (pulled, said) = inv.try_pull();
    assert!(!pulled, "{said}");
    assert!(said.contains("WRITTEN OUTSIDE THE API"), "{said}");
    assert!(said.contains("the server dropped it"), "{said}");

    let out = inv.out();
    let open = meldpunt(&[
        "open",
        &case,
        "-i",
        inv.key().to_str().unwrap(),
        inv.bundle().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--replace",
    ]);
    assert!(
        !open.status.success(),
        "open must not report success on a tampered thread: {}",
        String::from_utf8_lossy(&open.stdout)
    );
    let thread_md = inv.read(&case, "thread.md");
    for flag in [
        "the server dropped it",
        "WRITTEN OUTSIDE THE API",
        "NOT PINNED, named for answers",
        intruder.as_str(),
    ] {
        assert!(
            thread_md.contains(flag),
            "thread.md lacks {flag:?}:\n{thread_md}"
        );
    }
}
