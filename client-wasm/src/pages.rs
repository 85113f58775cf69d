//! The reporter's pages, embedded in the server binary: templates rendered per language,
//! the stylesheet, the scripts and the WebAssembly module. Nothing is read from disk at
//! run time, so no request can reach a file-system path.

use minijinja::{context, Environment};
use serde::Serialize;
use serde_json::Value;

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
}

impl Page {
    /// From the path after the language (`""`, `report`, `check`).
    pub fn from_path(s: &str) -> Option<Self> {
        match s {
            "" => Some(Page::Start),
            "report" => Some(Page::Report),
            "check" => Some(Page::Check),
            _ => None,
        }
    }

    fn template(self) -> &'static str {
        match self {
            Page::Start => "start.html",
            Page::Report => "report.html",
            Page::Check => "check.html",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Page::Start => "",
            Page::Report => "report",
            Page::Check => "check",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Page::Start => "start",
            Page::Report => "report",
            Page::Check => "check",
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

/// The report categories in the form's order (the bureau's own list).
const CATEGORIES: [&str; 7] = [
    "system_lookup",
    "information_disclosure",
    "fraud",
    "property_misuse",
    "conflict_of_interest",
    "undesirable_behaviour",
    "other",
];

/// The page renderer.
pub struct Pages {
    env: Environment<'static>,
    nl: Value,
    en: Value,
}

impl Default for Pages {
    fn default() -> Self {
        Self::new()
    }
}

impl Pages {
    /// Loads the embedded templates and texts.
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../pages/templates/base.html")),
            ("start.html", include_str!("../pages/templates/start.html")),
            ("report.html", include_str!("../pages/templates/report.html")),
            ("check.html", include_str!("../pages/templates/check.html")),
        ] {
            env.add_template(name, source)
                .expect("embedded templates are valid (tested)");
        }
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        Self {
            env,
            nl: serde_json::from_str(include_str!("../pages/i18n/nl.json")).expect("valid nl.json"),
            en: serde_json::from_str(include_str!("../pages/i18n/en.json")).expect("valid en.json"),
        }
    }

    /// Renders a page as HTML.
    pub fn render(&self, page: Page, lang: Lang, destinations: &[DestinationView]) -> String {
        let texts = match lang {
            Lang::Nl => &self.nl,
            Lang::En => &self.en,
        };
        self.env
            .get_template(page.template())
            .and_then(|t| {
                t.render(context! {
                    lang => lang.code(),
                    other_lang => lang.other().code(),
                    page => page.name(),
                    path => page.path(),
                    t => texts,
                    destinations => destinations,
                    categories => CATEGORIES,
                })
            })
            .expect("embedded templates render with every text defined (tested)")
    }
}

/// An embedded static file and its content type, by its name under `/static/`.
pub fn asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    Some(match name {
        "style.css" => (include_bytes!("../pages/static/style.css"), "text/css; charset=utf-8"),
        "app.js" => (include_bytes!("../pages/static/app.js"), "text/javascript; charset=utf-8"),
        "crypto.js" => (include_bytes!("../pages/static/crypto.js"), "text/javascript; charset=utf-8"),
        "meldpunt.wasm" => (wasm_module()?, "application/wasm"),
        "meldpunt-wasm2js.js" => (js_module()?, "text/javascript; charset=utf-8"),
        _ => return None,
    })
}

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
                assert!(html.contains("ABCD-EFGH") || page != Page::Start);
                assert!(html.contains("bureau") || page == Page::Check);
                // Text from the configuration is escaped.
                assert!(!html.contains("Integriteit <b>"));
                // No inline script: only the JSON strings block and module files.
                assert!(!html.contains("<script>"));
                assert!(!html.contains("onclick"));
            }
        }
    }

    #[test]
    fn every_field_is_labelled_and_never_autocompleted() {
        let html = Pages::new().render(Page::Report, Lang::En, &dest());
        for id in ["concerning", "description", "when_where", "files", "contact", "retype"] {
            assert!(html.contains(&format!("for=\"{id}\"")), "{id} has no label");
        }
        let inputs = html.matches("<input").count() + html.matches("<textarea").count();
        let off = html.matches("autocomplete=\"off\"").count();
        assert!(off > inputs, "every field and the form: {off} of {inputs}");
    }

    #[test]
    fn languages_have_the_same_texts() {
        let pages = Pages::new();
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&pages.nl), keys(&pages.en));
    }

    #[test]
    fn only_known_assets_are_served() {
        assert!(asset("style.css").is_some());
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("").is_none());
    }
}
