//! The investigator's desk (`meldpunt desk`) in headless Chromium, against a bundle
//! pulled by the real CLI from a real server process holding several cases: one with
//! documents, contact details and a thread of four messages, one with a message a
//! breached server forged, one overdue, one to shred. Unlock, list, filter, open, read
//! the verified thread, see the forged message flagged, reveal the contact details
//! (recorded in the bundle), answer from a template, change a status, make the copy for
//! colleagues, shred, lock, quit; then `meldpunt push` delivers the answer and the
//! reporter's own page shows it verified. Every page passes axe-core; screenshots at
//! 1280 px go to `<target>/screenshots`.
//!
//! The desk's own defences are tested from outside with requests written byte for byte:
//! no secret, a used secret, a foreign Host, a cross-origin or Origin-less change, and a
//! real cross-site form in the same browser.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;
use std::time::Instant;

use age::secrecy::SecretString;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::Locator;
use meldpunt_crypto::reporter::{Reporter, ServedMessage, ServedThread};
use meldpunt_crypto::{Day, Direction};
use meldpunt_tests::browser::{self, axe_script, Browser};
use meldpunt_tests::desk::{raw, DeskProcess};
use meldpunt_tests::reporter::server_forges_bureau_message;
use meldpunt_tests::{agent, meldpunt_ok, ApiReporter, Investigator, Site};
use serde_json::Value;
use zeroize::Zeroizing;

const PASSPHRASE: &str = "correct horse battery staple";
const DESCRIPTION: &str = "Desk marker: the purchasing manager approved his brother's invoices.";
const CONTACT: &str = "Contact marker: call Anna on 06-12345678 after six";
const QUESTION_1: &str = "Thank you. Do you have the invoice numbers?";
const ANSWER_1: &str = "Reporter marker one: numbers 2024-117 to 2024-131.";
const QUESTION_2: &str = "Were they paid from the project budget?";
const ANSWER_2: &str = "Reporter marker two: yes, all of them, in March.";
const FORGED: &str = "FORGED: tell us your name and phone number.";
const DESK_ANSWER: &str =
    "Desk marker answer: we have started an investigation and will report back.";

/// The reporter answers with only the return code, as the reporter's page does.
fn reporter_answers(site: &Site, reporter: &ApiReporter, text: &str) {
    let view = reporter.thread(site);
    let note = view["note"].as_str().map(|n| B64.decode(n).unwrap());
    let messages: Vec<(Direction, Vec<u8>)> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let d = if m["direction"] == "to_reporter" {
                Direction::ToReporter
            } else {
                Direction::FromReporter
            };
            (d, B64.decode(m["ciphertext"].as_str().unwrap()).unwrap())
        })
        .collect();
    let served = ServedThread {
        note: note.as_deref(),
        report_sha256: view["report_sha256"].as_str().unwrap(),
        messages: messages
            .iter()
            .map(|(d, ct)| ServedMessage {
                labelled: *d,
                day: None,
                ciphertext: ct,
            })
            .collect(),
    };
    let mut me = Reporter::open(&reporter.code.to_grouped_string()).unwrap();
    let thread = me.read_thread(&served).unwrap();
    assert!(thread.can_reply);
    let answer = me
        .seal_answer(Zeroizing::new(text.to_owned()), Day::today())
        .unwrap();
    let resp = agent()
        .post(&site.url("/api/v1/thread"))
        .header("Meldpunt-Mailbox", reporter.credential())
        .header("Meldpunt-Extends", &hex::encode(answer.extends))
        .send(&answer.ciphertext[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
}

/// axe-core on the page shown: no violations.
async fn axe(b: &Browser, script: &str, what: &str) {
    b.assert_no_axe_violations(script, what).await;
}

async fn shot(b: &Browser, name: &str) {
    // Tall enough for a whole case page.
    b.screenshot(name, 1280, 1800).await;
    b.client.set_window_size(1280, 900).await.unwrap();
}

async fn source(b: &Browser) -> String {
    b.client.source().await.unwrap()
}

async fn count(b: &Browser, css: &str) -> u64 {
    b.eval(&format!("document.querySelectorAll({css:?}).length"))
        .await
        .as_u64()
        .unwrap()
}

async fn goto(b: &Browser, url: &str) {
    b.client.goto(url).await.unwrap();
}

fn cookie_header(value: &str) -> String {
    format!("Cookie: meldpunt_desk={value}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_in_chromium() {
    let started = Instant::now();
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();

    // --- the reporters ------------------------------------------------------------------
    let a = ApiReporter::new();
    let minutes = b"%PDF-1.4\nminutes of the board meeting of 12 March\n".repeat(300);
    let photo = b"\xFF\xD8\xFF\xE0 a photo of the invoice stack".repeat(50);
    let case_a = a
        .file(
            &site,
            DESCRIPTION,
            Some(CONTACT),
            &[("minutes.pdf", &minutes), ("invoices.jpg", &photo)],
        )
        .case;
    let b_rep = ApiReporter::new();
    let case_b = b_rep
        .file(&site, "A second report, later tampered with.", None, &[])
        .case;
    let c_rep = ApiReporter::new();
    let case_c = c_rep
        .file(
            &site,
            "A third report nobody acknowledged.",
            None,
            &[("notes.txt", b"notes")],
        )
        .case;
    let d_rep = ApiReporter::new();
    let case_d = d_rep
        .file(&site, "A fourth report, to be shredded.", None, &[])
        .case;

    // --- the bureau with the CLI: a conversation, acknowledgements ------------------------
    let inv = Investigator::new(&site, &token);
    inv.pull();
    inv.reply(&case_a, QUESTION_1, Some("acknowledged"));
    inv.reply(
        &case_b,
        "Thank you, we received your report.",
        Some("acknowledged"),
    );
    inv.status(&case_d, "acknowledged");
    inv.push();
    reporter_answers(&site, &a, ANSWER_1);
    inv.pull();
    inv.reply(&case_a, QUESTION_2, None);
    inv.push();
    reporter_answers(&site, &a, ANSWER_2);
    server_forges_bureau_message(&site, &token, &b_rep.code, &case_b, FORGED);
    inv.pull();

    // The desk's key: the same key, protected by a passphrase as `keygen --passphrase`
    // writes it.
    let key = inv.dir().join("protected-key.txt");
    fs::write(
        &key,
        site.bureau_key
            .to_protected_key_file(Day::today(), SecretString::from(PASSPHRASE.to_owned()))
            .unwrap(),
    )
    .unwrap();
    // Eight days on, the case nobody acknowledged is overdue (as `meldpunt cases --on`).
    let on = Day::today().add_days(8).to_string();
    let cli_cases = meldpunt_ok(&["cases", inv.bundle().to_str().unwrap(), "--on", &on]);
    let overdue_line = cli_cases.lines().find(|l| l.contains(&case_c)).unwrap();
    assert!(overdue_line.starts_with('!'), "{cli_cases}");

    let mut desk = DeskProcess::start(&inv.bundle(), &key, &["--on", &on]);
    let port = desk.port;
    let host = format!("Host: 127.0.0.1:{port}");
    let origin = format!("Origin: http://127.0.0.1:{port}");
    let secret = desk.secret();
    assert_eq!(secret.len(), 64);

    // --- refused before the browser comes: no secret, a wrong one, a foreign Host -------
    let r = raw(port, "GET", "/", std::slice::from_ref(&host), b"");
    assert_eq!(r.status, 403, "no secret, no cookie");
    assert!(!r.text().contains("Unlock"));
    let r = raw(port, "GET", "/?s=00", std::slice::from_ref(&host), b"");
    assert_eq!(r.status, 403);
    // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name.
    let r = raw(
        port,
        "GET",
        &format!("/?s={secret}"),
        &["Host: evil.example:80".to_owned()],
        b"",
    );
    assert_eq!(
        r.status, 421,
        "a foreign Host is refused, even with the secret"
    );
    assert!(r.header("set-cookie").is_none());
    let r = raw(
        port,
        "OPTIONS",
        "/",
        &[
            host.clone(),
            "Origin: http://evil.example".into(),
            "Access-Control-Request-Method: POST".into(),
        ],
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(r
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with("access-control")));

    // --- the browser opens the link once --------------------------------------------------
    let b = browser::start(&[]).await;
    let axe_js = axe_script();
    goto(&b, &desk.url).await;
    let url = b.client.current_url().await.unwrap();
    assert_eq!(
        url.as_str(),
        format!("{}/", desk.base()),
        "the secret leaves the URL"
    );
    let cookie = b.client.get_named_cookie("meldpunt_desk").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert!(format!("{:?}", cookie.same_site()).contains("Strict"));
    assert_eq!(cookie.path(), Some("/"));
    assert_ne!(cookie.value(), secret);
    let session = cookie.value().to_owned();
    // The link is used up.
    let r = raw(
        port,
        "GET",
        &format!("/?s={secret}"),
        std::slice::from_ref(&host),
        b"",
    );
    assert_eq!(r.status, 403, "the link works once");
    // With the cookie: the desk's own Host names only, and the headers of every page.
    let r = raw(
        port,
        "GET",
        "/",
        &[host.clone(), cookie_header(&session)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-security-policy"),
        Some("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("same-origin"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with("access-control")));
    let r = raw(
        port,
        "GET",
        "/",
        &[format!("Host: localhost:{port}"), cookie_header(&session)],
        b"",
    );
    assert_eq!(r.status, 200);
    for foreign in [
        "evil.example",
        "evil.example:80",
        "127.0.0.1",
        "127.0.0.1.evil.example",
    ] {
        let r = raw(
            port,
            "GET",
            "/",
            &[format!("Host: {foreign}"), cookie_header(&session)],
            b"",
        );
        assert_eq!(r.status, 421, "Host {foreign}");
    }
    // Changes need the desk's own Origin, even with the cookie.
    let form = format!("passphrase={}", PASSPHRASE.replace(' ', "+"));
    for bad in [
        None,
        Some("Origin: http://evil.example"),
        Some("Origin: null"),
    ] {
        let mut headers = vec![
            host.clone(),
            cookie_header(&session),
            "Content-Type: application/x-www-form-urlencoded".into(),
        ];
        headers.extend(bad.map(str::to_owned));
        let r = raw(port, "POST", "/unlock", &headers, form.as_bytes());
        assert_eq!(r.status, 403, "{bad:?}");
    }
    let r = raw(
        port,
        "POST",
        "/quit",
        &[
            host.clone(),
            cookie_header(&session),
            "Origin: http://evil.example".into(),
        ],
        b"",
    );
    assert_eq!(r.status, 403);
    // The desk's own Origin passes.
    let r = raw(
        port,
        "POST",
        "/lang",
        &[
            host.clone(),
            cookie_header(&session),
            origin.clone(),
            "Content-Type: application/x-www-form-urlencoded".into(),
        ],
        b"lang=en&back=/",
    );
    assert_eq!(r.status, 303);
    // Still locked: nothing was unlocked by the refused requests.
    let r = raw(
        port,
        "GET",
        "/",
        &[host.clone(), cookie_header(&session)],
        b"",
    );
    assert!(r.text().contains("id=\"passphrase\""));
    // A web page open in the same browser (any other origin) posts a form to the desk:
    // refused (no cookie goes with a cross-site request, and its Origin is not the
    // desk's). And it cannot read the desk either (no CORS).
    let elsewhere = "data:text/html,<!DOCTYPE html><title>elsewhere</title><p>another page</p>";
    goto(&b, elsewhere).await;
    let read = b
        .client
        .execute_async(
            &format!(
                "const done = arguments[arguments.length - 1];\
                 fetch('http://127.0.0.1:{port}/', {{credentials: 'include'}})\
                   .then(r => r.text()).then(t => done('read: ' + t)).catch(e => done('refused'));"
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(read, Value::String("refused".into()));
    b.client
        .execute(
            &format!(
                "const f = document.createElement('form'); f.method = 'post'; \
                 f.action = 'http://127.0.0.1:{port}/quit'; document.body.appendChild(f); f.submit();"
            ),
            vec![],
        )
        .await
        .unwrap();
    b.wait_until(
        "document.body && document.body.innerText.includes('Refused')",
        10,
    )
    .await;
    assert!(
        desk.is_running(),
        "the cross-site form did not stop the desk"
    );

    // --- unlock, by keyboard ------------------------------------------------------------------
    goto(&b, &format!("{}/", desk.base())).await;
    assert_eq!(b.text_of_css("h1").await, "Unlock the desk");
    axe(&b, &axe_js, "the unlock page").await;
    shot(&b, "desk-unlock").await;
    // The passphrase field has the focus; Enter sends it: no mouse needed.
    assert_eq!(b.eval("document.activeElement.id").await, "passphrase");
    b.type_into("passphrase", "wrong passphrase\n").await;
    b.wait_until("document.getElementById('unlock-error')", 60)
        .await;
    axe(&b, &axe_js, "the unlock page with an error").await;
    b.type_into("passphrase", &format!("{PASSPHRASE}\n")).await;
    b.wait_until("document.getElementById('cases')", 60).await;

    // --- the case list ---------------------------------------------------------------------
    assert_eq!(count(&b, "#cases tbody tr").await, 4);
    assert_eq!(count(&b, "#cases tr.overdue").await, 1);
    assert_eq!(
        b.eval("document.querySelector('#cases tr.overdue').dataset.case")
            .await,
        Value::String(case_c.clone())
    );
    let list = b.text("cases").await;
    for case in [&case_a, &case_b, &case_c, &case_d] {
        assert!(list.contains(case.as_str()), "{list}");
    }
    assert!(
        list.contains("fraud"),
        "the category, from the decrypted report: {list}"
    );
    assert!(list.contains("overdue 1 day(s)"), "{list}");
    axe(&b, &axe_js, "the case list").await;
    shot(&b, "desk-cases").await;
    b.click("a[href='/?filter=overdue&sort=deadline']").await;
    assert_eq!(count(&b, "#cases tbody tr[data-case]").await, 1);
    b.click("a[href='/?filter=closed&sort=deadline']").await;
    assert_eq!(count(&b, "#cases tbody tr[data-case]").await, 0);
    b.click("a[href='/?filter=all&sort=deadline']").await;
    b.click("a[href='/?filter=all&sort=case']").await;
    let order: Value = b
        .eval("Array.from(document.querySelectorAll('#cases tr[data-case]')).map(r => r.dataset.case)")
        .await;
    let mut sorted = vec![
        case_a.clone(),
        case_b.clone(),
        case_c.clone(),
        case_d.clone(),
    ];
    sorted.sort();
    assert_eq!(order, serde_json::json!(sorted));

    // In Dutch.
    b.click(".tools button[lang=nl]").await;
    b.wait_until("document.documentElement.lang === 'nl'", 10)
        .await;
    assert_eq!(b.text_of_css("h1").await, "Zaken");
    axe(&b, &axe_js, "the case list in Dutch").await;
    shot(&b, "desk-cases-nl").await;
    b.click(".tools button[lang=en]").await;
    b.wait_until("document.documentElement.lang === 'en'", 10)
        .await;

    // --- case A: the report, the documents, the verified thread, the contact details -------
    goto(&b, &format!("{}/case/{case_a}", desk.base())).await;
    let page = source(&b).await;
    assert!(page.contains(DESCRIPTION));
    assert!(
        !page.contains("06-12345678"),
        "contact details stay hidden until asked for"
    );
    assert!(b.text("verified-all").await.contains("Everything verified"));
    assert_eq!(count(&b, "#documents tbody tr[id^=doc-]").await, 2);
    let docs = b.text_of_css("#documents table").await;
    assert!(
        docs.contains("minutes.pdf") && docs.contains("PDF document"),
        "{docs}"
    );
    assert_eq!(docs.matches("✓ verified").count(), 2, "{docs}");
    let messages = b.text("thread").await;
    assert_eq!(count(&b, "#thread li.msg.verified").await, 4);
    assert_eq!(count(&b, "#thread li.unverified").await, 0);
    for text in [QUESTION_1, ANSWER_1, QUESTION_2, ANSWER_2] {
        assert!(messages.contains(text), "{messages}");
    }
    assert!(messages
        .contains("Verified: the reporter's signature, the MAC and its place in the thread"));
    // A document, downloaded: the bytes the reporter sent, never shown inside the desk.
    let r = raw(
        port,
        "GET",
        &format!("/case/{case_a}/doc/1"),
        &[host.clone(), cookie_header(&session)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, minutes);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment;"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .ends_with("; sandbox"));
    axe(&b, &axe_js, "a case").await;
    shot(&b, "desk-case").await;
    assert!(!inv.bundle().join("access.jsonl").exists());
    // By keyboard: the first Tab reaches the skip link; Enter on the button shows the
    // contact details.
    b.client
        .perform_actions(
            KeyActions::new("keyboard".into())
                .then(KeyAction::Down { value: '\u{E004}' })
                .then(KeyAction::Up { value: '\u{E004}' }),
        )
        .await
        .unwrap();
    assert_eq!(b.eval("document.activeElement.className").await, "skip");
    b.client
        .find(Locator::Id("show-contact"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    b.wait_until("document.getElementById('contact-details')", 10)
        .await;
    assert_eq!(b.text("contact-details").await, CONTACT);
    let record = fs::read_to_string(inv.bundle().join("access.jsonl")).unwrap();
    assert!(
        record.contains(&case_a) && record.contains("contact_details"),
        "{record}"
    );
    assert!(record.contains(site.bureau_key.recipient().as_str()));
    assert!(!record.contains("06-12345678"));
    axe(&b, &axe_js, "a case with the contact details shown").await;
    b.click("#hide-contact").await;
    b.wait_until("!document.getElementById('contact-details')", 10)
        .await;

    // --- case B: the forged message is flagged, and nobody answers on top of it ------------
    goto(&b, &format!("{}/case/{case_b}", desk.base())).await;
    assert_eq!(count(&b, "#thread li.msg.verified").await, 1);
    assert_eq!(count(&b, "#thread li.unverified").await, 1);
    let flagged = b.text_of_css("#thread li.unverified").await;
    assert!(
        flagged.contains("NOT VERIFIED") && flagged.contains("MAC"),
        "{flagged}"
    );
    assert!(!source(&b).await.contains(FORGED));
    assert!(b.text_of_css("#problems").await.contains("1 problem(s)"));
    assert!(b.text("no-reply").await.contains("does not verify"));
    axe(&b, &axe_js, "a case with a forged message").await;
    shot(&b, "desk-case-forged").await;

    // --- case A: an answer from a template ---------------------------------------------------
    goto(&b, &format!("{}/case/{case_a}#composer", desk.base())).await;
    b.click("button[data-template=acknowledge-nl]").await;
    let filled = b.eval("document.getElementById('reply-text').value").await;
    assert!(
        filled.as_str().unwrap().starts_with("Beste melder"),
        "{filled}"
    );
    assert_eq!(
        b.eval("document.getElementById('reply-status').value")
            .await,
        "acknowledged"
    );
    let composer = b.client.find(Locator::Id("reply-text")).await.unwrap();
    composer.clear().await.unwrap();
    composer.send_keys(DESK_ANSWER).await.unwrap();
    b.client
        .find(Locator::Id("reply-status"))
        .await
        .unwrap()
        .select_by_value("investigating")
        .await
        .unwrap();
    b.click("#send-reply").await;
    b.wait_until("document.getElementById('flash')", 30).await;
    assert!(
        b.text("flash").await.contains("waiting to be sent"),
        "{}",
        b.text("flash").await
    );
    let pending = b.text_of_css("ul.outgoing").await;
    assert!(
        pending.contains(DESK_ANSWER) && pending.contains("waiting to be sent"),
        "{pending}"
    );
    axe(&b, &axe_js, "a case with an answer waiting").await;
    shot(&b, "desk-answered").await;

    // --- case C: a status change ----------------------------------------------------------------
    goto(&b, &format!("{}/case/{case_c}#status", desk.base())).await;
    b.client
        .find(Locator::Id("new-status"))
        .await
        .unwrap()
        .select_by_value("acknowledged")
        .await
        .unwrap();
    b.click("#queue-status").await;
    b.wait_until("document.getElementById('flash')", 30).await;
    assert!(b.text("flash").await.contains("waiting to be sent"));
    goto(&b, &format!("{}/", desk.base())).await;
    let row_c = b.text_of_css(&format!("tr[data-case='{case_c}']")).await;
    assert!(
        row_c.contains("acknowledged") && row_c.contains("waiting to be sent"),
        "{row_c}"
    );
    assert_eq!(count(&b, "#cases tr.overdue").await, 0);
    goto(&b, &format!("{}/outbox", desk.base())).await;
    assert!(b.text("outbox").await.contains("waiting to be sent"));
    axe(&b, &axe_js, "the outbox").await;

    // --- case A: the copy for colleagues ----------------------------------------------------------
    goto(&b, &format!("{}/case/{case_a}#export", desk.base())).await;
    b.click("#export-view").await;
    b.wait_until("document.body.classList.contains('export')", 10)
        .await;
    let copy = source(&b).await;
    assert!(copy.contains(DESCRIPTION) && copy.contains(ANSWER_2));
    assert!(
        !copy.contains("06-12345678"),
        "no contact details in the copy"
    );
    assert!(copy.contains("contact details"), "it says what is left out");
    let thread_id = hex::encode(a.keys.thread_id().0);
    assert!(!copy.contains(&thread_id));
    axe(&b, &axe_js, "the copy for colleagues").await;
    shot(&b, "desk-export").await;
    let out = inv.dir().join("shared");
    fs::create_dir_all(&out).unwrap();
    goto(&b, &format!("{}/case/{case_a}#export", desk.base())).await;
    b.type_into("export-folder", out.to_str().unwrap()).await;
    b.click("#export-save").await;
    b.wait_until("document.getElementById('flash')", 30).await;
    let saved = out
        .join(&case_a)
        .join(format!("{case_a}-for-colleagues.html"));
    let saved_copy = fs::read_to_string(&saved).unwrap();
    assert!(saved_copy.contains(&DESCRIPTION.replace('\'', "&#39;")));
    assert!(!saved_copy.contains("06-12345678"));
    assert!(
        saved_copy.contains("default-src 'none'"),
        "the saved copy loads nothing either"
    );

    // --- case D: shredded ---------------------------------------------------------------------------
    goto(&b, &format!("{}/case/{case_d}#shred", desk.base())).await;
    b.type_into("shred-confirm", &case_d).await;
    b.click("#shred-case").await;
    b.wait_until("document.getElementById('cases')", 30).await;
    assert!(b.text("flash").await.contains("shredded"));
    assert_eq!(count(&b, "#cases tbody tr[data-case]").await, 3);
    assert!(!inv.bundle().join("cases").join(&case_d).exists());

    // --- lock: nothing decrypted is shown any more -----------------------------------------------
    b.click("#lock").await;
    b.wait_until("document.getElementById('passphrase')", 10)
        .await;
    goto(&b, &format!("{}/case/{case_a}", desk.base())).await;
    let page = source(&b).await;
    assert!(page.contains("id=\"passphrase\"") && !page.contains(DESCRIPTION));
    b.type_into("passphrase", &format!("{PASSPHRASE}\n")).await;
    b.wait_until("document.getElementById('thread')", 60).await;
    assert!(
        source(&b).await.contains(DESCRIPTION),
        "back to the case after unlocking"
    );
    // The desk locks (here from elsewhere) while a message is being written: the message
    // is kept, not lost and not queued.
    b.type_into("reply-text", "Kept marker: half a message")
        .await;
    let r = raw(
        port,
        "POST",
        "/lock",
        &[host.clone(), cookie_header(&session), origin.clone()],
        b"",
    );
    assert_eq!(r.status, 303);
    b.click("#send-reply").await;
    b.wait_until("document.getElementById('kept')", 10).await;
    assert!(!source(&b).await.contains(DESCRIPTION));
    b.type_into("passphrase", &format!("{PASSPHRASE}\n")).await;
    b.wait_until("document.getElementById('reply-text')", 60)
        .await;
    assert_eq!(
        b.eval("document.getElementById('reply-text').value").await,
        "Kept marker: half a message"
    );
    assert!(!b.text_of_css("ul.outgoing").await.contains("Kept marker"));
    // In Dutch, the case page passes axe-core too.
    b.click(".tools button[lang=nl]").await;
    b.wait_until("document.documentElement.lang === 'nl'", 10)
        .await;
    assert!(b.text_of_css("h1").await.starts_with("Zaak "));
    axe(&b, &axe_js, "a case in Dutch").await;
    shot(&b, "desk-case-nl").await;
    b.click(".tools button[lang=en]").await;
    b.wait_until("document.documentElement.lang === 'en'", 10)
        .await;

    // --- quit --------------------------------------------------------------------------------------
    b.click("#quit").await;
    b.wait_until("document.querySelector('h1') && document.querySelector('h1').innerText.includes('stopped')", 10)
        .await;
    let (clean, printed) = desk.wait_for_exit(10);
    assert!(clean);
    assert!(printed
        .iter()
        .all(|l| !l.contains(&secret) && !l.contains(PASSPHRASE)));

    // --- push; the reporter sees the answer, verified -------------------------------------------------
    inv.push();
    goto(&b, &site.url("/en/check")).await;
    b.wait_until("!document.getElementById('open').disabled", 30)
        .await;
    b.type_into("code-input", &a.code.to_grouped_string()).await;
    b.click("#open").await;
    b.wait_until("!document.getElementById('thread').hidden", 60)
        .await;
    let seen = b.text("messages").await;
    assert!(seen.contains(DESK_ANSWER), "{seen}");
    assert!(seen.contains(QUESTION_1) && seen.contains(QUESTION_2));
    assert_eq!(count(&b, "#messages li.unverified").await, 0);
    assert_eq!(b.text("status").await, "being investigated");
    shot(&b, "desk-reporter-sees-answer").await;
    eprintln!("the desk test took {:?}", started.elapsed());
}
