//! The reporter's pages, embedded in the server binary: templates rendered per language,
//! the stylesheet, the scripts and the browser crypto module (built from
//! `meldpunt-client-wasm` by `scripts/build-wasm.sh` and embedded by `build.rs`).
//! Nothing is read from disk at run time, so no request can reach a file-system path.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use meldpunt_crypto::Category;
use minijinja::{context, Environment};
use serde::Serialize;
use serde_json::Value;
use std::sync::OnceLock;

/// A language the pages are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Nederlands (the default).
    Nl,
    /// English.
    En,
}

impl Lang {
    /// From a path segment (`nl`, `en`).
    pub fn from_segment(s: &str) -> Option<Self> {
        match s {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The path segment and `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    fn other(self) -> Self {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }
}

/// A page the server renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// What the channel is, who reads reports, how to stay anonymous.
    Start,
    /// The report form (encrypts in the browser).
    Report,
    /// Checking back with the return code.
    Check,
    /// The report form without JavaScript: posts the plaintext, the server encrypts it.
    NojsReport,
    /// The answer to that form: the return code the server made, the case, the day.
    NojsResult,
    /// Checking back without JavaScript: the code form, or (after it) the thread the
    /// server decrypted in memory.
    NojsCheck,
}

impl Page {
    /// From the path after the language (`""`, `report`, `check`).
    pub fn from_path(s: &str) -> Option<Self> {
        match s {
            "" => Some(Page::Start),
            "report" => Some(Page::Report),
            "check" => Some(Page::Check),
            // The no-JavaScript pages need the server's limits and answers: the server's
            // own routes render them.
            _ => None,
        }
    }

    fn template(self) -> &'static str {
        match self {
            Page::Start => "start.html",
            Page::Report => "report.html",
            Page::Check => "check.html",
            Page::NojsReport => "nojs_report.html",
            Page::NojsResult => "nojs_result.html",
            Page::NojsCheck => "nojs_check.html",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Page::Start => "",
            Page::Report => "report",
            Page::Check => "check",
            Page::NojsReport | Page::NojsResult => "report-nojs",
            Page::NojsCheck => "check-nojs",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Page::Start => "start",
            Page::Report => "report",
            Page::Check => "check",
            Page::NojsReport | Page::NojsResult => "report",
            Page::NojsCheck => "check",
        }
    }
}

/// A destination as the start page and the form show it.
#[derive(Clone, Debug, Serialize)]
pub struct DestinationView {
    /// Its name.
    pub name: String,
    /// What it is, in a sentence.
    pub description: String,
    /// The fingerprint of its recipients.
    pub fingerprint: String,
    /// Where the organisation publishes the same fingerprint, to compare.
    pub published_at: String,
}

/// The report categories in the form's order (the bureau's own list, one enum).
fn categories() -> Vec<&'static str> {
    Category::ALL.iter().map(|c| c.as_str()).collect()
}

/// A return code or fingerprint (`XXXX-XXXX-…`) as the pages show it: each group with
/// its dash in a span that never breaks, a line break allowed only after a dash. The
/// same form as the script makes (`app.js`, `groupedCode`), so a code reads the same on
/// every page.
fn grouped(text: &str) -> minijinja::Value {
    let groups: Vec<&str> = text.split('-').collect();
    let mut html = String::with_capacity(text.len() * 6);
    for (i, group) in groups.iter().enumerate() {
        let last = i + 1 == groups.len();
        html.push_str(&format!("<span class=\"g\" data-group=\"{}\">", i + 1));
        for c in group.chars() {
            match c {
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                '&' => html.push_str("&amp;"),
                '"' => html.push_str("&quot;"),
                '\'' => html.push_str("&#x27;"),
                c => html.push(c),
            }
        }
        if !last {
            html.push_str("-</span><wbr>");
        } else {
            html.push_str("</span>");
        }
    }
    minijinja::Value::from_safe_string(html)
}

/// A language's texts: the pages' own, and those of the document check (what a document
/// carries, `metadata-*.json`, every key starting with `metadata_`).
#[allow(
    clippy::expect_used,
    reason = "the texts are compiled in; every page renders in both languages (tested)"
)]
fn texts(pages: &str, metadata: &str) -> Value {
    let mut texts: Value = serde_json::from_str(pages).expect("valid page texts");
    let metadata: serde_json::Map<String, Value> =
        serde_json::from_str(metadata).expect("valid metadata texts");
    if let Value::Object(texts) = &mut texts {
        texts.extend(metadata);
    }
    texts
}

/// A language's texts, read once: the templates use them, and the scripts load them as
/// the static file `texts-<lang>.json` (fixed, so it is gzipped and part of the bundle;
/// in the page itself it made every page 20 KB larger, uncompressed).
fn language_texts(lang: Lang) -> &'static Value {
    static NL: OnceLock<Value> = OnceLock::new();
    static EN: OnceLock<Value> = OnceLock::new();
    match lang {
        Lang::Nl => NL.get_or_init(|| {
            texts(
                include_str!("../i18n/nl.json"),
                include_str!("../i18n/metadata-nl.json"),
            )
        }),
        Lang::En => EN.get_or_init(|| {
            texts(
                include_str!("../i18n/en.json"),
                include_str!("../i18n/metadata-en.json"),
            )
        }),
    }
}

/// The file `texts-<lang>.json` the scripts load (see [`language_texts`]).
fn script_texts(lang: Lang) -> &'static [u8] {
    static NL: OnceLock<Vec<u8>> = OnceLock::new();
    static EN: OnceLock<Vec<u8>> = OnceLock::new();
    let json = match lang {
        Lang::Nl => &NL,
        Lang::En => &EN,
    };
    json.get_or_init(|| serde_json::to_vec(language_texts(lang)).unwrap_or_default())
}

/// The page renderer.
pub struct Pages {
    env: Environment<'static>,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

impl Pages {
    /// Loads the embedded templates and texts.
    #[allow(
        clippy::expect_used,
        reason = "the templates and texts are compiled in; every page renders in both languages (tested)"
    )]
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("start.html", include_str!("../templates/start.html")),
            ("root.html", include_str!("../templates/root.html")),
            ("report.html", include_str!("../templates/report.html")),
            ("check.html", include_str!("../templates/check.html")),
            (
                "report_fields.html",
                include_str!("../templates/report_fields.html"),
            ),
            (
                "nojs_report.html",
                include_str!("../templates/nojs_report.html"),
            ),
            (
                "nojs_result.html",
                include_str!("../templates/nojs_result.html"),
            ),
            (
                "nojs_check.html",
                include_str!("../templates/nojs_check.html"),
            ),
            (
                "metadata_nojs_choice.html",
                include_str!("../templates/metadata_nojs_choice.html"),
            ),
            (
                "metadata_nojs_result.html",
                include_str!("../templates/metadata_nojs_result.html"),
            ),
        ] {
            env.add_template(name, source)
                .expect("embedded templates are valid (tested)");
        }
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("grouped", grouped);
        Self { env }
    }

    /// Renders a page as HTML.
    #[allow(
        clippy::expect_used,
        reason = "writing into memory cannot fail; the templates are UTF-8"
    )]
    pub fn render(&self, page: Page, lang: Lang, destinations: &[DestinationView]) -> String {
        let mut out = Vec::new();
        self.render_into(page, lang, destinations, &Value::Null, &mut out)
            .expect("writing to memory does not fail");
        String::from_utf8(out).expect("templates render UTF-8")
    }

    /// The page at `/`: both languages side by side, each leading to its own pages.
    #[allow(
        clippy::expect_used,
        reason = "the template is compiled in and renders (tested)"
    )]
    pub fn render_root(&self) -> String {
        self.env
            .get_template("root.html")
            .and_then(|t| {
                t.render(
                    context! { nl => language_texts(Lang::Nl), en => language_texts(Lang::En) },
                )
            })
            .expect("the start page renders (tested)")
    }

    /// One text of the pages, in `lang` (an unknown key gives the key itself).
    pub fn text(&self, lang: Lang, key: &str) -> String {
        language_texts(lang)
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_owned()
    }

    /// Renders a page into `out`, with the members of `extra` (a JSON object, or null)
    /// added to what the template sees. The no-JavaScript pages use it for the return
    /// code, the case and the decrypted thread: the caller passes a writer that wipes
    /// what it held, because the page then holds plaintext.
    pub fn render_into(
        &self,
        page: Page,
        lang: Lang,
        destinations: &[DestinationView],
        extra: &Value,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let texts = language_texts(lang);
        let extra = match extra {
            Value::Object(_) => minijinja::Value::from_serialize(extra),
            _ => minijinja::Value::from_serialize(serde_json::Map::new()),
        };
        let template = self
            .env
            .get_template(page.template())
            .map_err(|e| std::io::Error::other(format!("no template {}: {e}", page.template())))?;
        match template.render_captured_to(
            context! {
                lang => lang.code(),
                other_lang => lang.other().code(),
                page => page.name(),
                path => page.path(),
                t => texts,
                destinations => destinations,
                categories => categories(),
                ..extra
            },
            out,
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == minijinja::ErrorKind::WriteFailure => {
                Err(std::io::Error::other("writing the page failed"))
            }
            Err(e) => Err(std::io::Error::other(format!(
                "rendering {}: {e}",
                page.template()
            ))),
        }
    }
}

/// The names of every static file under `/static/`: the page bundle whose hash the
/// organisation publishes (`meldpunt-server bundle`, `scripts/check-bundle.sh`).
pub const ASSETS: [&str; 12] = [
    "app.js",
    "crypto.js",
    "hash-worker.js",
    "meldpunt-metadata-wasm2js.js",
    "meldpunt-metadata.wasm",
    "meldpunt-wasm2js.js",
    "meldpunt.wasm",
    "metadata.js",
    "style.css",
    "texts-en.json",
    "texts-nl.json",
    "upload-worker.js",
];

/// An embedded static file and its content type, by its name under `/static/`.
pub fn asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    Some(match name {
        "style.css" => (
            include_bytes!("../static/style.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_bytes!("../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "crypto.js" => (
            include_bytes!("../static/crypto.js"),
            "text/javascript; charset=utf-8",
        ),
        "upload-worker.js" => (
            include_bytes!("../static/upload-worker.js"),
            "text/javascript; charset=utf-8",
        ),
        "hash-worker.js" => (
            include_bytes!("../static/hash-worker.js"),
            "text/javascript; charset=utf-8",
        ),
        "meldpunt.wasm" => (wasm_module()?, "application/wasm"),
        "meldpunt-wasm2js.js" => (js_module()?, "text/javascript; charset=utf-8"),
        "texts-en.json" => (script_texts(Lang::En), "application/json"),
        "texts-nl.json" => (script_texts(Lang::Nl), "application/json"),
        _ => return metadata_asset(name),
    })
}

/// The metadata module's files (what a document carries, and removing it): loaded by the
/// report page only when the reporter picks a document.
fn metadata_asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    fn built(bytes: &'static [u8]) -> Option<&'static [u8]> {
        (!bytes.is_empty()).then_some(bytes)
    }
    Some(match name {
        "metadata.js" => (
            include_bytes!("../static/metadata.js"),
            "text/javascript; charset=utf-8",
        ),
        "meldpunt-metadata.wasm" => (
            built(include_bytes!(concat!(
                env!("OUT_DIR"),
                "/meldpunt-metadata.wasm"
            )))?,
            "application/wasm",
        ),
        "meldpunt-metadata-wasm2js.js" => (
            built(include_bytes!(concat!(
                env!("OUT_DIR"),
                "/meldpunt-metadata-wasm2js.js"
            )))?,
            "text/javascript; charset=utf-8",
        ),
        _ => return None,
    })
}

/// The icon browsers ask for at `/favicon.ico`.
pub const FAVICON: &[u8] = include_bytes!("../static/favicon.ico");

/// The browser module translated to plain JavaScript, for browsers without WebAssembly.
pub fn js_module() -> Option<&'static [u8]> {
    let bytes: &'static [u8] = include_bytes!(concat!(env!("OUT_DIR"), "/meldpunt-wasm2js.js"));
    (!bytes.is_empty()).then_some(bytes)
}

/// The browser module, if it was built before this crate (see build.rs).
pub fn wasm_module() -> Option<&'static [u8]> {
    let bytes: &'static [u8] = include_bytes!(concat!(env!("OUT_DIR"), "/meldpunt.wasm"));
    (!bytes.is_empty()).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest() -> Vec<DestinationView> {
        vec![DestinationView {
            name: "bureau".into(),
            description: "Bureau Integriteit <b>".into(),
            fingerprint: "ABCD-EFGH".into(),
            published_at: String::new(),
        }]
    }

    #[test]
    fn every_page_renders_in_both_languages() {
        let pages = Pages::new();
        for lang in [Lang::Nl, Lang::En] {
            for page in [Page::Start, Page::Report, Page::Check] {
                let html = pages.render(page, lang, &dest());
                assert!(html.contains(&format!("<html lang=\"{}\">", lang.code())));
                // One document: nothing before the doctype (quirks mode), no id twice
                // (the scripts would find the first one only).
                assert!(html.starts_with("<!doctype html>"), "{}", page.template());
                let mut ids: Vec<&str> = html
                    .split(" id=\"")
                    .skip(1)
                    .filter_map(|rest| rest.split('"').next())
                    .collect();
                let all = ids.len();
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(ids.len(), all, "an id twice in {}", page.template());
                assert!(text_of(&html).contains("ABCD-EFGH") || page != Page::Start);
                assert!(html.contains("bureau") || page == Page::Check);
                // Text from the configuration is escaped.
                assert!(!html.contains("Integriteit <b>"));
                // No inline script: only the JSON strings block and module files.
                assert!(!html.contains("<script>"));
                assert!(!html.contains("onclick"));
            }
        }
    }

    /// The page's text without its tags, as a reader sees it.
    fn text_of(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn codes_and_fingerprints_have_one_form_that_never_breaks_inside_a_group() {
        let html = grouped("K7QM-2XRD-<b>").to_string();
        assert_eq!(
            html,
            "<span class=\"g\" data-group=\"1\">K7QM-</span><wbr>\
             <span class=\"g\" data-group=\"2\">2XRD-</span><wbr>\
             <span class=\"g\" data-group=\"3\">&lt;b&gt;</span>"
        );
        // The no-JavaScript result page shows the code so, and the documents even when
        // there are none.
        let result = render_with(
            Page::NojsResult,
            Lang::En,
            serde_json::json!({"case": "MP-1", "received": "2026-11-23", "code": "AAAA-BBBB", "documents": 0}),
        );
        assert!(result.contains("<span class=\"g\" data-group=\"2\">BBBB</span>"));
        let documents = &result[result.find("id=\"receipt-documents\"").unwrap()..];
        assert!(
            documents.starts_with("id=\"receipt-documents\">none<"),
            "{documents}"
        );
        // Every page that shows the fingerprint shows it grouped, on its own line in the form.
        let form = render_with(
            Page::NojsReport,
            Lang::En,
            serde_json::json!({"limit": "64 MB", "max_documents": 5, "once": "t0"}),
        );
        assert!(form.contains("<span class=\"fingerprint-line\">"));
        assert!(form.contains("<span class=\"g\" data-group=\"2\">EFGH</span>"));
    }

    #[test]
    fn the_script_pages_show_no_form_without_javascript() {
        for lang in [Lang::Nl, Lang::En] {
            for (page, form) in [(Page::Report, "report-form"), (Page::Check, "code-form")] {
                let html = Pages::new().render(page, lang, &dest());
                // The form and the status line are hidden until app.js shows them.
                assert!(html.contains(&format!(
                    "<form id=\"{form}\" autocomplete=\"off\" novalidate hidden>"
                )));
                assert!(html.contains(
                    "id=\"engine\" class=\"notice\" role=\"status\" aria-live=\"polite\" hidden>"
                ));
                // Without JavaScript the notice leads with the way to the simple form.
                let noscript =
                    &html[html.find("<noscript>").unwrap()..html.find("</noscript>").unwrap()];
                let first = &noscript[noscript.find("<p>").unwrap()..];
                let first = &first[..first.find("</p>").unwrap()];
                assert!(first.contains("class=\"button primary\""), "{noscript}");
                assert!(noscript.contains("-nojs\""), "{noscript}");
            }
        }
    }

    #[test]
    fn the_root_page_offers_both_languages() {
        let html = Pages::new().render_root();
        for (lang, report) in [("nl", "Melding doen"), ("en", "Make a report")] {
            assert!(
                html.contains(&format!("<section lang=\"{lang}\"")),
                "{html}"
            );
            assert!(
                html.contains(&format!("href=\"/{lang}/report\">{report}<")),
                "{html}"
            );
            assert!(html.contains(&format!("href=\"/{lang}/check\"")));
        }
        assert!(!html.contains("<script"));
        assert!(FAVICON.starts_with(&[0, 0, 1, 0]), "an ICO file");
    }

    #[test]
    fn the_commission_advice_only_when_there_is_a_choice() {
        let pages = Pages::new();
        let mut two = dest();
        two.push(DestinationView {
            name: "commission".into(),
            description: "Commissie".into(),
            fingerprint: "WXYZ-2345".into(),
            published_at: String::new(),
        });
        let limits = serde_json::json!({"limit": "64 MB", "max_documents": 5, "once": "t0"});
        for lang in [Lang::Nl, Lang::En] {
            // The start of the sentence (the rest has characters the page escapes).
            let advice: String = pages
                .text(lang, "report_destination_help")
                .chars()
                .take(20)
                .collect();
            let mut one_page = Vec::new();
            pages
                .render_into(Page::NojsReport, lang, &dest(), &limits, &mut one_page)
                .unwrap();
            let mut two_page = Vec::new();
            pages
                .render_into(Page::NojsReport, lang, &two, &limits, &mut two_page)
                .unwrap();
            for (html, shown) in [
                (pages.render(Page::Report, lang, &dest()), false),
                (pages.render(Page::Report, lang, &two), true),
                (String::from_utf8(one_page).unwrap(), false),
                (String::from_utf8(two_page).unwrap(), true),
            ] {
                assert_eq!(html.contains(&advice), shown);
                assert_eq!(html.contains("id=\"destination-help\""), shown);
                // Never a reference to a text that is not there.
                assert_eq!(
                    html.contains("aria-describedby=\"destination-help\""),
                    shown
                );
            }
        }
    }

    /// The scripts' texts come as a static file of each language, the same texts the
    /// templates use, and no page carries them itself (they made each page 20 KB larger).
    #[test]
    fn the_scripts_load_the_texts_as_a_static_file() {
        for (name, lang) in [("texts-en.json", Lang::En), ("texts-nl.json", Lang::Nl)] {
            assert!(ASSETS.contains(&name));
            let (bytes, kind) = asset(name).unwrap();
            assert_eq!(kind, "application/json");
            let served: Value = serde_json::from_slice(bytes).unwrap();
            assert_eq!(&served, language_texts(lang));
            assert!(served["metadata_h2"].is_string() && served["admission_working"].is_string());
            for page in [Page::Report, Page::Check] {
                let html = Pages::new().render(page, lang, &dest());
                assert!(!html.contains("admission_working"), "{name}");
                assert!(html.contains(&format!("href=\"/static/{name}\"")), "{name}");
            }
        }
    }

    #[test]
    fn every_field_is_labelled_and_never_autocompleted() {
        let html = Pages::new().render(Page::Report, Lang::En, &dest());
        for id in [
            "concerning",
            "description",
            "when_where",
            "files",
            "contact",
            "retype",
            "retype-show",
        ] {
            assert!(html.contains(&format!("for=\"{id}\"")), "{id} has no label");
        }
        let inputs = html.matches("<input").count() + html.matches("<textarea").count();
        let off = html.matches("autocomplete=\"off\"").count();
        assert!(off > inputs, "every field and the form: {off} of {inputs}");
    }

    /// Words a non-technical employee does not know stay out of what the pages say
    /// plainly; they appear only under "Technical details" (texts named `tech_…`).
    #[test]
    fn hard_words_only_behind_technical_details() {
        let pages = Pages::new();
        let hard = [
            "webassembly",
            "wasm",
            "mib",
            "gib",
            "kib",
            "fingerprint",
            "vingerafdruk",
            "encrypted to keys",
        ];
        for texts in [language_texts(Lang::Nl), language_texts(Lang::En)] {
            for (key, text) in texts.as_object().unwrap() {
                if key.starts_with("tech_") {
                    continue;
                }
                let text = text.as_str().unwrap().to_lowercase();
                for word in hard {
                    assert!(!text.contains(word), "{key} says \"{word}\": {text}");
                }
            }
        }
        // The technical texts exist and are behind a <details> on the pages.
        for page in [Page::Start, Page::Report, Page::Check] {
            let html = pages.render(page, Lang::En, &dest());
            let details = html.find("<details").unwrap();
            assert!(html[details..].contains("Technical details"), "{page:?}");
        }
    }

    #[test]
    fn languages_have_the_same_texts() {
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(language_texts(Lang::Nl)),
            keys(language_texts(Lang::En))
        );
    }

    fn render_with(page: Page, lang: Lang, extra: Value) -> String {
        let mut out = Vec::new();
        Pages::new()
            .render_into(page, lang, &dest(), &extra, &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_pages_without_javascript_have_no_script_and_post_only() {
        for lang in [Lang::Nl, Lang::En] {
            let limits = serde_json::json!({"limit": "64 MiB", "max_documents": 5, "once": "t0"});
            let form = render_with(Page::NojsReport, lang, limits.clone());
            let mut with_error = limits.clone();
            with_error["error"] = "E<1>".into();
            let error = render_with(Page::NojsReport, lang, with_error);
            let result = render_with(
                Page::NojsResult,
                lang,
                serde_json::json!({"case": "MP-1", "received": "2026-11-23", "code": "AAAA-BBBB", "documents": 1}),
            );
            let check = render_with(Page::NojsCheck, lang, Value::Null);
            let thread = render_with(
                Page::NojsCheck,
                lang,
                serde_json::json!({
                    "case": "MP-1", "status": "acknowledged", "code": "AAAA-BBBB",
                    "thread": {"can_reply": true, "head": "ab", "status": "acknowledged",
                        "missing": ["2026-11-20"], "messages": [
                        {"direction": "to_reporter", "verified": true, "date": "2026-11-23", "text": "Q<b>", "status": null},
                        {"direction": "to_reporter", "verified": false, "error": "x"},
                        {"direction": "from_reporter", "verified": null, "day": "2026-11-24", "acknowledged": false}
                    ]}
                }),
            );
            for html in [&form, &error, &result, &check, &thread] {
                assert!(
                    !html.contains("<script type=\"module\""),
                    "no script runs on these pages"
                );
                assert!(!html.contains("app.js"));
                assert!(!html.contains("method=\"get\""));
            }
            assert!(form.contains("enctype=\"multipart/form-data\""));
            assert!(form.contains("name=\"consent\""));
            assert!(form.contains(&format!("action=\"/{}/report-nojs\"", lang.code())));
            let help = &form[form.find("id=\"files-help\"").unwrap()..];
            let help = &help[..help.find("</p>").unwrap()];
            assert!(
                help.contains("64 MiB") && help.contains('5') && !help.contains('{'),
                "{help}"
            );
            assert!(error.contains("E&lt;1&gt;"));
            assert!(text_of(&result).contains("AAAA-BBBB") && result.contains("MP-1"));
            assert!(check.contains("type=\"password\""));
            assert!(thread.contains("Q&lt;b&gt;"), "the bureau's text, escaped");
            assert!(
                thread.contains("2026-11-24") && thread.contains("2026-11-20"),
                "own day, missing day"
            );
            assert_eq!(
                thread.matches("class=\"error\"").count(),
                1,
                "one unverified message, shown without text"
            );
            assert!(thread.contains("name=\"code\" value=\"AAAA-BBBB\""));
            assert!(thread.contains(
                "action=\"/{}/reply-nojs\""
                    .replace("{}", lang.code())
                    .as_str()
            ));
        }
        // The JavaScript pages point to these from their <noscript> notice.
        for page in [Page::Report, Page::Check] {
            let html = Pages::new().render(page, Lang::En, &dest());
            let noscript =
                &html[html.find("<noscript>").unwrap()..html.find("</noscript>").unwrap()];
            assert!(noscript.contains("-nojs\""), "{noscript}");
        }
        // The JavaScript report form can post nothing itself.
        let js = Pages::new().render(Page::Report, Lang::En, &dest());
        let form = &js[js.find("<form id=\"report-form\"").unwrap()..];
        let tag = &form[..form.find('>').unwrap()];
        assert!(!tag.contains("action") && !tag.contains("method"), "{tag}");
        assert!(js.contains("id=\"send\" type=\"submit\" class=\"primary\" disabled"));
    }

    #[test]
    fn the_document_check_has_its_own_words_and_asks_before_the_documents() {
        for metadata in [
            include_str!("../i18n/metadata-nl.json"),
            include_str!("../i18n/metadata-en.json"),
        ] {
            let texts: serde_json::Map<String, Value> = serde_json::from_str(metadata).unwrap();
            // Its own keys only: it never replaces a text of the pages.
            assert!(texts.keys().all(|k| k.starts_with("metadata_")));
        }
        for lang in [Lang::Nl, Lang::En] {
            let form = render_with(
                Page::NojsReport,
                lang,
                serde_json::json!({"limit": "64 MiB", "max_documents": 5, "once": "t0"}),
            );
            // Documents are encrypted as they arrive: the choice comes before them, and
            // removing is the default.
            let choice = form.find("name=\"metadata\"").unwrap();
            assert!(choice < form.find("name=\"files\"").unwrap());
            let remove = &form[form.find("id=\"metadata-remove\"").unwrap()..];
            assert!(remove[..remove.find('>').unwrap()].contains(" checked"));
            let result = render_with(
                Page::NojsResult,
                lang,
                serde_json::json!({"code": "A", "case": "MP-1", "received": "2026-12-02", "documents": 2,
                       "hidden_data": [
                           {"name": "a<b>.docx", "outcome": "removed", "kinds": ["author"], "labels": "Auteur", "advice": null},
                           {"name": "call.mp3", "outcome": "not_cleaned", "kinds": [], "labels": "", "advice": "metadata_format_media"}]}),
            );
            assert!(result.contains("a&lt;b&gt;.docx"), "names escaped");
            assert_eq!(result.matches("data-outcome=").count(), 2);
            let li = &result[result.find("data-outcome=\"not_cleaned\"").unwrap()..];
            let li = &li[..li.find("</li>").unwrap()];
            let advice = Pages::new().text(lang, "metadata_format_media");
            assert!(li.contains(&advice), "the advice in words: {li}");
        }
    }

    #[test]
    fn only_known_assets_are_served() {
        for name in [
            "style.css",
            "app.js",
            "crypto.js",
            "upload-worker.js",
            "hash-worker.js",
        ] {
            assert!(ASSETS.contains(&name), "{name} is missing from ASSETS");
            assert!(asset(name).is_some());
        }
        assert!(asset("style.css").is_some());
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("").is_none());
    }
}
