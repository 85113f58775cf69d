//! The reporter's pages meet WCAG 2.1 AA (EN 301 549), checked in real headless Chromium
//! against a real server process:
//! - axe-core (npm, installed by scripts/test.sh) finds no violation on any page or state,
//!   in Dutch and in English, in all three tiers: WebAssembly, plain JavaScript (wasm2js,
//!   Chromium `--jitless`), and no JavaScript at all;
//! - no page scrolls sideways and no return code or fingerprint group breaks, at 1280 px,
//!   360 px, 320 px and at 200% zoom; screenshots of each go to `<target>/screenshots`;
//! - the whole report and check-back flow is done by keyboard alone: every field is
//!   reached with Tab, errors are announced (`role="alert"`) and focus moves to what
//!   changed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::Locator;
use meldpunt_crypto::ReturnCode;
use meldpunt_tests::browser::{self, screenshot_dir, Browser};
use meldpunt_tests::Site;
use serde_json::json;

const TAB: char = '\u{E004}';
const ENTER: char = '\u{E007}';
const SPACE: char = '\u{E00D}';

/// The checks on the page shown: axe-core's violations, then the layout at each width.
struct Checker {
    axe: String,
}

impl Checker {
    fn new() -> Self {
        Self {
            axe: browser::axe_script(),
        }
    }

    /// axe-core finds nothing on the page as it is now.
    async fn axe(&self, b: &Browser, what: &str) {
        b.assert_no_axe_violations(&self.axe, what).await;
    }

    /// At 1280, 360 and 320 px and at 200% zoom: nothing scrolls sideways, no code or
    /// fingerprint group is broken over two lines; a screenshot of each.
    async fn layout(&self, b: &Browser, name: &str) {
        for (width, height, scale, label) in [
            (1280, 900, 1.0, "1280"),
            (360, 740, 1.0, "360"),
            (320, 640, 1.0, "320"),
            // A 1280 px window at 200% zoom lays out 640 CSS px at twice the density.
            (640, 450, 2.0, "1280-zoom200"),
        ] {
            b.cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": scale, "mobile": false}),
            )
            .await;
            let problems = b
                .eval(
                    "(() => {
                      const problems = [];
                      const w = document.documentElement.clientWidth;
                      if (document.documentElement.scrollWidth > w + 1)
                        problems.push(`sideways scrolling: ${document.documentElement.scrollWidth} > ${w}`);
                      for (const el of document.querySelectorAll('main *, header *')) {
                        const r = el.getBoundingClientRect();
                        if (r.width > 0 && r.right > w + 1 && getComputedStyle(el).position !== 'absolute')
                          problems.push(`${el.tagName.toLowerCase()}#${el.id} ends at ${Math.round(r.right)} > ${w}`);
                      }
                      for (const g of document.querySelectorAll('.code .g, .fingerprint .g')) {
                        if (g.getClientRects().length > 1)
                          problems.push(`group ${g.dataset.group} \"${g.textContent}\" is broken over two lines`);
                        if (g.textContent.startsWith('-')) problems.push('a group starts with a dash');
                      }
                      return problems;
                    })()",
                )
                .await;
            assert_eq!(problems, json!([]), "{name} at {label}");
            let png = b.client.screenshot().await.unwrap();
            let dir = screenshot_dir();
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("a11y-{name}-{label}.png")), png).unwrap();
        }
        b.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
    }

    async fn page(&self, b: &Browser, name: &str) {
        self.axe(b, name).await;
        self.layout(b, name).await;
    }
}

/// Presses one key (no element is clicked: the key goes where the focus is).
async fn press(b: &Browser, key: char) {
    b.client
        .perform_actions(
            KeyActions::new("keyboard".into())
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key }),
        )
        .await
        .unwrap();
}

/// Types text where the focus is, key by key.
async fn type_keys(b: &Browser, text: &str) {
    let mut actions = KeyActions::new("keyboard".into());
    for c in text.chars() {
        actions = actions
            .then(KeyAction::Down { value: c })
            .then(KeyAction::Up { value: c });
    }
    b.client.perform_actions(actions).await.unwrap();
}

/// Ctrl+A, Backspace: empties the focused field.
async fn clear_focused(b: &Browser) {
    const CONTROL: char = '\u{E009}';
    const BACKSPACE: char = '\u{E003}';
    b.client
        .perform_actions(
            KeyActions::new("keyboard".into())
                .then(KeyAction::Down { value: CONTROL })
                .then(KeyAction::Down { value: 'a' })
                .then(KeyAction::Up { value: 'a' })
                .then(KeyAction::Up { value: CONTROL })
                .then(KeyAction::Down { value: BACKSPACE })
                .then(KeyAction::Up { value: BACKSPACE }),
        )
        .await
        .unwrap();
}

async fn focused(b: &Browser) -> String {
    b.eval("document.activeElement && document.activeElement.id || ''")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Presses Tab until the element with this id has the focus (at most 60 times).
async fn tab_to(b: &Browser, id: &str) {
    for _ in 0..60 {
        if focused(b).await == id {
            return;
        }
        press(b, TAB).await;
    }
    panic!("#{id} is not reached with the Tab key");
}

fn code_from(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// Every page and state with JavaScript and WebAssembly, in both languages, and the
/// whole flow by keyboard alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_with_webassembly_and_the_flow_by_keyboard() {
    let check = Checker::new();
    let site = Site::new();
    let _server = site.start();
    let b = browser::start(&[]).await;

    b.client.goto(&site.url("/")).await.unwrap();
    check.page(&b, "root").await;

    for lang in ["en", "nl"] {
        b.client
            .goto(&site.url(&format!("/{lang}/")))
            .await
            .unwrap();
        check.page(&b, &format!("start-{lang}")).await;

        // --- the report, by keyboard alone ------------------------------------------------
        b.client
            .goto(&site.url(&format!("/{lang}/report")))
            .await
            .unwrap();
        b.wait_until("!document.getElementById('code-section').hidden", 60)
            .await;
        check.page(&b, &format!("report-{lang}")).await;
        let code = b.return_code_shown().await;
        ReturnCode::parse(&code).unwrap();
        // The first Tab reaches the skip link; Enter on it moves on to the content.
        press(&b, TAB).await;
        assert_eq!(b.eval("document.activeElement.className").await, "skip");
        press(&b, ENTER).await;
        press(&b, TAB).await;
        assert_eq!(
            b.eval("document.getElementById('main').contains(document.activeElement)")
                .await,
            true,
            "after the skip link, Tab stays in the content"
        );
        tab_to(&b, "description").await;
        type_keys(&b, "Keyboard marker: the report typed without a mouse.").await;
        tab_to(&b, "retype").await;
        // One group written down wrong: the page says which, at once, as an alert.
        let mut wrong: Vec<char> = code.chars().collect();
        wrong[5] = if wrong[5] == '7' { '8' } else { '7' };
        type_keys(&b, &wrong.iter().collect::<String>()).await;
        b.wait_until("!document.getElementById('retype-error').hidden", 5)
            .await;
        assert_eq!(
            b.eval("document.getElementById('retype-error').getAttribute('role')")
                .await,
            "alert"
        );
        assert_eq!(
            b.eval("document.getElementById('retype').getAttribute('aria-invalid')")
                .await,
            "true"
        );
        check.page(&b, &format!("report-code-differs-{lang}")).await;
        // "Show what I typed" by Space.
        tab_to(&b, "retype-show").await;
        press(&b, SPACE).await;
        assert_eq!(
            b.eval("document.getElementById('retype').type").await,
            "text"
        );
        // Sending anyway: nothing is sent, the focus goes back to the code.
        tab_to(&b, "send").await;
        press(&b, ENTER).await;
        assert_eq!(focused(&b).await, "retype");
        assert_eq!(
            b.eval("document.getElementById('receipt').hidden").await,
            true
        );
        // Corrected with the keyboard: select all, delete, type again.
        assert_eq!(focused(&b).await, "retype");
        clear_focused(&b).await;
        type_keys(&b, &code).await;
        b.wait_until("!document.getElementById('retype-ok').hidden", 5)
            .await;
        tab_to(&b, "send").await;
        press(&b, ENTER).await;
        b.wait_until("!document.getElementById('receipt').hidden", 60)
            .await;
        // The focus moves to the receipt's heading.
        assert_eq!(focused(&b).await, "receipt-h");
        assert_eq!(code_from(&b.text("receipt-code").await), code);
        check.page(&b, &format!("receipt-{lang}")).await;

        // --- checking back, by keyboard alone ---------------------------------------------
        b.client
            .goto(&site.url(&format!("/{lang}/check")))
            .await
            .unwrap();
        b.wait_until("!document.getElementById('open').disabled", 60)
            .await;
        check.page(&b, &format!("check-{lang}")).await;
        tab_to(&b, "code-input").await;
        let mut typo: Vec<char> = code.chars().collect();
        typo[3] = if typo[3] == '7' { '8' } else { '7' };
        type_keys(&b, &typo.iter().collect::<String>()).await;
        press(&b, ENTER).await;
        b.wait_until("!document.getElementById('code-error').hidden", 10)
            .await;
        assert_eq!(
            b.eval("document.getElementById('code-error').getAttribute('role')")
                .await,
            "alert"
        );
        check.page(&b, &format!("check-typo-{lang}")).await;
        assert_eq!(focused(&b).await, "code-input");
        clear_focused(&b).await;
        type_keys(&b, &code.to_lowercase()).await;
        press(&b, ENTER).await;
        b.wait_until("!document.getElementById('thread').hidden", 30)
            .await;
        // The focus moves to the messages.
        assert_eq!(focused(&b).await, "thread-h");
        check.page(&b, &format!("thread-{lang}")).await;
        tab_to(&b, "reply").await;
        type_keys(&b, "Keyboard answer marker.").await;
        tab_to(&b, "send-reply").await;
        press(&b, ENTER).await;
        b.wait_until("!document.getElementById('reply-ok').hidden", 30)
            .await;
        assert_eq!(
            b.eval("document.getElementById('reply-ok').getAttribute('role')")
                .await,
            "status"
        );
        check.page(&b, &format!("reply-sent-{lang}")).await;
    }
}

/// Without WebAssembly (Tor Browser "Safer"; Chromium `--jitless` has none): the same
/// module as plain JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_without_webassembly() {
    let check = Checker::new();
    let site = Site::new();
    let _server = site.start();
    let b = browser::start(&["--js-flags=--jitless"]).await;
    for lang in ["en", "nl"] {
        b.client
            .goto(&site.url(&format!("/{lang}/report")))
            .await
            .unwrap();
        assert_eq!(b.eval("typeof WebAssembly").await, "undefined");
        b.wait_until("!document.getElementById('code-section').hidden", 180)
            .await;
        assert_eq!(
            b.eval("document.getElementById('files-limit').hidden")
                .await,
            false
        );
        check.page(&b, &format!("report-no-wasm-{lang}")).await;
        b.client
            .goto(&site.url(&format!("/{lang}/check")))
            .await
            .unwrap();
        b.wait_until("!document.getElementById('open').disabled", 180)
            .await;
        check.page(&b, &format!("check-no-wasm-{lang}")).await;
    }
}

/// Turns the page's scripts off or on (Chromium's script-off emulation, which stays on
/// across navigations).
async fn scripts(b: &Browser, on: bool) {
    b.cdp(
        "Emulation.setScriptExecutionDisabled",
        json!({"value": !on}),
    )
    .await;
}

/// The checks on a page loaded without scripts: axe-core needs a script, so scripts are
/// on only while the checks run (the page's own were skipped when it loaded).
async fn checked_without_scripts(b: &Browser, check: &Checker, name: &str) {
    scripts(b, true).await;
    check.page(b, name).await;
    scripts(b, false).await;
}

async fn wait_for(b: &Browser, id: &str) {
    if b.client
        .wait()
        .at_most(std::time::Duration::from_secs(60))
        .for_element(Locator::Id(id))
        .await
        .is_err()
    {
        let page = b.client.source().await.unwrap_or_default();
        panic!("no #{id} on the page:\n{}", &page[..page.len().min(6000)]);
    }
}

/// With scripts off (Tor Browser "Safest"): the script pages offer only the way to the
/// simple form; every page and state of the simple forms, in both languages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_without_javascript() {
    let check = Checker::new();
    let site = Site::new();
    let _server = site.start();
    let b = browser::start(&[]).await;
    scripts(&b, false).await;
    for lang in ["en", "nl"] {
        // The JavaScript pages show no usable form, only the way to the simple one.
        for (page, form) in [("report", "report-form"), ("check", "code-form")] {
            b.client
                .goto(&site.url(&format!("/{lang}/{page}")))
                .await
                .unwrap();
            let form = b.client.find(Locator::Id(form)).await.unwrap();
            assert!(
                !form.is_displayed().await.unwrap(),
                "{page}: the form shows"
            );
            let link = b.client.find(Locator::Id("nojs-link")).await.unwrap();
            assert!(link.is_displayed().await.unwrap());
            checked_without_scripts(&b, &check, &format!("{page}-without-javascript-{lang}")).await;
        }
        b.client
            .goto(&site.url(&format!("/{lang}/report-nojs")))
            .await
            .unwrap();
        checked_without_scripts(&b, &check, &format!("nojs-report-{lang}")).await;
        // Sent without the consent (the browser's own check of required fields turned
        // off): the error page.
        b.type_into("description", "Safest accessibility marker.")
            .await;
        scripts(&b, true).await;
        b.eval("(document.getElementById('nojs-form').noValidate = true)")
            .await;
        scripts(&b, false).await;
        b.click("#send").await;
        wait_for(&b, "nojs-error").await;
        checked_without_scripts(&b, &check, &format!("nojs-report-error-{lang}")).await;
        b.click("#consent").await;
        b.type_into("description", "Safest accessibility marker.")
            .await;
        b.click("#send").await;
        wait_for(&b, "code").await;
        let code = b.text("code").await;
        ReturnCode::parse(&code).unwrap();
        assert_eq!(
            b.text("receipt-documents").await,
            if lang == "en" { "none" } else { "geen" }
        );
        checked_without_scripts(&b, &check, &format!("nojs-result-{lang}")).await;

        b.client
            .goto(&site.url(&format!("/{lang}/check-nojs")))
            .await
            .unwrap();
        checked_without_scripts(&b, &check, &format!("nojs-check-{lang}")).await;
        b.type_into("code-input", "AAAA-BBBB").await;
        b.click("#open").await;
        wait_for(&b, "code-error").await;
        checked_without_scripts(&b, &check, &format!("nojs-check-error-{lang}")).await;
        b.type_into("code-input", &code).await;
        b.click("#open").await;
        wait_for(&b, "messages").await;
        checked_without_scripts(&b, &check, &format!("nojs-thread-{lang}")).await;
        b.type_into("reply", "Safest answer marker.").await;
        b.click("#send-reply").await;
        wait_for(&b, "reply-ok").await;
        checked_without_scripts(&b, &check, &format!("nojs-reply-sent-{lang}")).await;
    }
}
