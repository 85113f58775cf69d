//! The reporter's pages in real headless Chromium, against a real server process and
//! the investigator's real tool:
//! form → age ciphertext the bureau decrypts (also with the `age` CLI) → a question from
//! the investigator → the reporter reads it with the code and answers → the bureau
//! verifies the answer. A message forged by a breached server shows as unverified; a
//! typo in the code shows as a typo; both languages render. Screenshots of every page at
//! desktop and phone width go to `<target>/screenshots`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;
use std::process::Command;

use meldpunt_crypto::{Day, ReturnCode};
use meldpunt_tests::browser::{self, Browser};
use meldpunt_tests::reporter::server_forges_bureau_message;
use meldpunt_tests::{Investigator, Site};

const DESCRIPTION: &str = "Browser marker: a colleague looked up her ex-partner's file twice.";
const QUESTION: &str = "Thank you for your report. Do you know the dates?";
const ANSWER: &str = "Browser answer marker: the 3rd and the 17th of May.";
const FORGED: &str = "FORGED: please send us your name and phone number.";

async fn shots(b: &Browser, name: &str) {
    b.screenshot(name, 1280, 900).await;
    b.screenshot(name, 360, 740).await;
    b.client.set_window_size(1280, 900).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_check_back_and_answer_in_chromium() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let b = browser::start(&[]).await;
    let work = tempfile::tempdir().unwrap();

    // Both languages render, with the destination's fingerprint.
    for (lang, heading) in [
        ("en", "Report misconduct, safely and anonymously"),
        ("nl", "Meld een misstand, veilig en anoniem"),
    ] {
        b.client
            .goto(&site.url(&format!("/{lang}/")))
            .await
            .unwrap();
        assert_eq!(b.eval("document.documentElement.lang").await, lang);
        assert_eq!(b.text_of_css("h1").await, heading);
        // As the reader sees it: the groups are separate spans.
        let text = b.eval("document.body.innerText").await;
        assert!(text.as_str().unwrap().contains(&site.bureau.fingerprint()));
        shots(&b, &format!("start-{lang}")).await;
    }

    // --- the report ------------------------------------------------------------------
    b.client.goto(&site.url("/en/report")).await.unwrap();
    b.wait_until("!document.getElementById('code-section').hidden", 30)
        .await;
    // The page shows the fingerprint it computed itself for the keys it will use.
    assert_eq!(b.text("fingerprint").await, site.bureau.fingerprint());
    let shown = b.text("code").await;
    let code_text = b.return_code_shown().await;
    assert_eq!(code_text.len(), 28, "{shown}");
    let code = ReturnCode::parse(&code_text).expect("the page shows a valid code");
    // The page shows the code in one form: XXXX-XXXX-…
    assert_eq!(shown.replace('\n', ""), code.to_grouped_string().as_str());
    let evidence = work.path().join("evidence.txt");
    let evidence_bytes = b"Audit log excerpt: lookups on 3 and 17 May.\n".repeat(5000);
    fs::write(&evidence, &evidence_bytes).unwrap();
    b.click("input[name=category][value=system_lookup]").await;
    b.type_into("concerning", "K. de Boer, front office").await;
    b.type_into("description", DESCRIPTION).await;
    b.type_into("when_where", "May, Zwolle").await;
    b.type_into("files", evidence.to_str().unwrap()).await;
    shots(&b, "report-filled").await;
    // The whole code is typed back from paper. One symbol written wrong in group 3: the
    // page names that group, marks it in the code shown, and sends nothing.
    let mut wrong: Vec<char> = code.to_grouped_string().chars().collect();
    wrong[11] = if wrong[11] == '7' { '8' } else { '7' };
    let wrong: String = wrong.into_iter().collect();
    b.type_into("retype", &wrong).await;
    b.wait_until("!document.getElementById('retype-error').hidden", 5)
        .await;
    assert!(
        b.text("retype-error").await.contains("Group 3 "),
        "{}",
        b.text("retype-error").await
    );
    assert_eq!(
        b.eval("Array.from(document.querySelectorAll('#code .g.differs')).map(g => g.dataset.group).join()")
            .await,
        "3"
    );
    assert_eq!(
        b.eval("document.getElementById('retype').type").await,
        "password"
    );
    shots(&b, "report-code-differs").await;
    b.click("#send").await;
    // Nothing is sent; the focus goes to the field to correct.
    assert_eq!(b.eval("document.activeElement.id").await, "retype");
    assert_eq!(
        b.eval("document.getElementById('receipt').hidden").await,
        true
    );
    // "Show what I typed" shows it.
    b.click("#retype-show").await;
    assert_eq!(
        b.eval("document.getElementById('retype').type").await,
        "text"
    );
    b.client
        .find(fantoccini::Locator::Id("retype"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    // Typed as a person copies it: lower case, spaces.
    b.type_into(
        "retype",
        &code.to_grouped_string().to_lowercase().replace('-', " "),
    )
    .await;
    b.wait_until("!document.getElementById('retype-ok').hidden", 5)
        .await;
    assert_eq!(
        b.eval("document.querySelectorAll('#code .g.differs').length")
            .await,
        0
    );
    b.click("#send").await;
    b.wait_until("!document.getElementById('receipt').hidden", 120)
        .await;
    // The document's hash for the manifest was made by the hashing worker, on another
    // core (the server compared it with its own, and the investigator's tool below checks
    // it against the bytes).
    assert_eq!(
        b.eval("document.getElementById('progress').dataset.digest")
            .await,
        "beside"
    );
    let case = b.text("receipt-case").await;
    assert!(case.starts_with("MP-"), "{case}");
    assert_eq!(b.text("receipt-date").await, Day::today().to_string());
    // The receipt shows the code again, and the documents that arrived.
    assert_eq!(
        b.text("receipt-code").await.replace('\n', ""),
        code.to_grouped_string().as_str()
    );
    assert_eq!(b.text("receipt-documents").await, "1: evidence.txt");
    shots(&b, "receipt").await;

    // --- the bureau, offline --------------------------------------------------------------
    let inv = Investigator::new(&site, &token);
    inv.pull();
    let folder = inv.open(&case);
    let report_md = inv.read(&case, "report.md");
    assert!(report_md.contains(DESCRIPTION), "{report_md}");
    assert!(
        report_md.to_lowercase().contains("browser"),
        "encrypted in the browser: {report_md}"
    );
    assert_eq!(
        fs::read(folder.join("attachments").join("evidence.txt")).unwrap(),
        evidence_bytes
    );
    // The Go age CLI opens what the browser made.
    let age = Command::new("age")
        .args([
            "-d",
            "-i",
            inv.key().to_str().unwrap(),
            inv.bundle()
                .join("cases")
                .join(&case)
                .join("report.age")
                .to_str()
                .unwrap(),
        ])
        .output()
        .expect("the age CLI is installed (scripts/test.sh installs it)");
    assert!(
        age.status.success(),
        "{}",
        String::from_utf8_lossy(&age.stderr)
    );
    assert!(String::from_utf8_lossy(&age.stdout).contains(DESCRIPTION));

    inv.reply(&case, QUESTION, Some("acknowledged"));
    inv.push();

    // --- the reporter comes back ------------------------------------------------------------
    b.client.goto(&site.url("/en/check")).await.unwrap();
    b.wait_until("!document.getElementById('open').disabled", 30)
        .await;
    shots(&b, "check").await;
    // A typo is reported as a typo.
    let mut typo: Vec<char> = code_text.chars().collect();
    typo[3] = if typo[3] == '7' { '8' } else { '7' };
    b.type_into("code-input", &typo.iter().collect::<String>())
        .await;
    b.click("#open").await;
    b.wait_until("!document.getElementById('code-error').hidden", 10)
        .await;
    assert!(b.text("code-error").await.contains("typo"));
    b.client
        .find(fantoccini::Locator::Id("code-input"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    // Typed as a person might: lower case, spaces.
    let sloppy = code.to_grouped_string().to_lowercase().replace('-', " ");
    b.type_into("code-input", &sloppy).await;
    b.click("#open").await;
    b.wait_until("!document.getElementById('thread').hidden", 30)
        .await;
    assert!(b.text("messages").await.contains(QUESTION));
    assert_eq!(b.text("status").await, "acknowledged");
    shots(&b, "thread").await;

    // A reply that contains the code is refused before anything is sent.
    b.type_into(
        "reply",
        &format!("my code is {}", code.to_grouped_string().as_str()),
    )
    .await;
    b.click("#send-reply").await;
    b.wait_until("!document.getElementById('reply-error').hidden", 10)
        .await;
    assert!(b.text("reply-error").await.contains("return code"));
    b.client
        .find(fantoccini::Locator::Id("reply"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();

    b.type_into("reply", ANSWER).await;
    b.click("#send-reply").await;
    b.wait_until("!document.getElementById('reply-ok').hidden", 30)
        .await;

    // --- the bureau verifies the answer -----------------------------------------------------
    inv.pull();
    inv.open(&case);
    let thread_md = inv.read(&case, "thread.md");
    assert!(thread_md.contains(ANSWER), "{thread_md}");
    let thread_json: serde_json::Value =
        serde_json::from_str(&inv.read(&case, "thread.json")).unwrap();
    let text = thread_json.to_string();
    assert!(
        !text.contains("\"verified\":false"),
        "every message verifies: {text}"
    );

    // --- a breached server writes to the reporter ------------------------------------------
    server_forges_bureau_message(&site, &token, &code, &case, FORGED);
    b.client.goto(&site.url("/en/check")).await.unwrap();
    b.wait_until("!document.getElementById('open').disabled", 30)
        .await;
    b.type_into("code-input", &code_text).await;
    b.click("#open").await;
    b.wait_until("!document.getElementById('thread').hidden", 30)
        .await;
    let messages = b.text("messages").await;
    assert!(messages.contains(QUESTION));
    assert!(
        !messages.contains(FORGED),
        "a forged message is never shown as text"
    );
    assert!(messages.contains("could not be verified"), "{messages}");
    assert_eq!(
        b.eval("document.querySelectorAll('#messages li.unverified').length")
            .await,
        1
    );
    assert_eq!(
        b.eval("document.getElementById('reply-form').hidden").await,
        true
    );
    shots(&b, "thread-forged").await;

    // Dutch pages render too.
    b.client.goto(&site.url("/nl/report")).await.unwrap();
    b.wait_until("!document.getElementById('code-section').hidden", 30)
        .await;
    assert_eq!(b.text_of_css("h1").await, "Melding doen");
    shots(&b, "report-nl").await;
}

/// Tor Browser "Safer" disables WebAssembly (and the JITs). Without WebAssembly the same
/// Rust module runs as plain JavaScript (wasm2js), with its own lower document limit, and
/// the bureau decrypts the result. Checked in Chromium with `--js-flags=--jitless` (no
/// `WebAssembly` object at all) and in Firefox ESR, Tor Browser's engine, with Tor
/// Browser's "Safer" preferences.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_without_webassembly_in_jitless_chromium() {
    let b = browser::start(&["--js-flags=--jitless"]).await;
    report_without_webassembly(&b, "chromium").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_without_webassembly_in_firefox_at_safer() {
    let b = browser::start_firefox(&browser::TOR_SAFER_PREFS).await;
    report_without_webassembly(&b, "firefox").await;
}

async fn report_without_webassembly(b: &Browser, name: &str) {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let work = tempfile::tempdir().unwrap();

    b.client.goto(&site.url("/en/report")).await.unwrap();
    assert_eq!(b.eval("typeof WebAssembly").await, "undefined");
    b.wait_until("!document.getElementById('code-section').hidden", 180)
        .await;
    // Plain words on the page; the technical reason one click away.
    assert!(b.text("engine").await.contains("higher safety level"));
    assert_eq!(
        b.eval("document.getElementById('engine-tech').textContent.includes('WebAssembly is turned off')")
            .await,
        true
    );
    assert!(b.text("files-limit").await.contains("128 MB"));
    assert_eq!(b.text("fingerprint").await, site.bureau.fingerprint());
    shots(b, &format!("report-no-wasm-{name}")).await;
    let code_text = b.return_code_shown().await;
    ReturnCode::parse(&code_text).expect("a valid code, made without WebAssembly");

    // A document over this tier's limit is refused before anything is uploaded.
    let big = work.path().join("big.bin");
    fs::File::create(&big)
        .unwrap()
        .set_len(129 * 1024 * 1024)
        .unwrap();
    b.type_into("description", "No-WebAssembly marker: the report text.")
        .await;
    b.type_into("files", big.to_str().unwrap()).await;
    b.type_into("retype", &code_text).await;
    b.wait_until("!document.getElementById('send').disabled", 5)
        .await;
    b.click("#send").await;
    b.wait_until("!document.getElementById('report-error').hidden", 30)
        .await;
    assert!(b.text("report-error").await.contains("big.bin"));

    // A document goes through; from 4 MiB on its hash is made in the hashing worker.
    let small = work.path().join("note.txt");
    let small_bytes = b"encrypted by plain JavaScript\n".repeat(140_000);
    fs::write(&small, &small_bytes).unwrap();
    b.client
        .find(fantoccini::Locator::Id("files"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    b.type_into("files", small.to_str().unwrap()).await;
    b.click("#send").await;
    b.wait_until("!document.getElementById('receipt').hidden", 300)
        .await;
    // The hashing worker runs the plain-JavaScript module too.
    assert_eq!(
        b.eval("document.getElementById('progress').dataset.digest")
            .await,
        "beside"
    );
    let case = b.text("receipt-case").await;

    let inv = Investigator::new(&site, &token);
    inv.pull();
    let folder = inv.open(&case);
    let report_md = inv.read(&case, "report.md");
    assert!(report_md.contains("No-WebAssembly marker"), "{report_md}");
    assert_eq!(
        fs::read(folder.join("attachments").join("note.txt")).unwrap(),
        small_bytes
    );
}
