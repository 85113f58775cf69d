//! The pages and assets, embedded in the binary: no file-system path is ever served.
//!
//! For now only an honest start page: it lists the destinations with their
//! fingerprints and says the reporting form is not available yet.

use rocket::http::ContentType;
use rocket::{get, routes, Route, State};

use crate::App;

const INDEX: &str = include_str!("../assets/index.html");
const CSS: &str = include_str!("../assets/meldpunt.css");

/// Pages that load the WebAssembly crypto and so need `'wasm-unsafe-eval'` in their
/// Content-Security-Policy. None yet: the reporter's pages come later.
const WASM_PAGES: &[&str] = &[];

/// Whether the page at `path` runs WebAssembly.
pub fn needs_wasm(path: &str) -> bool {
    WASM_PAGES.contains(&path)
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[get("/")]
fn index(app: &State<App>) -> (ContentType, String) {
    let mut list = String::new();
    for d in app.destinations.all() {
        let demo = app.destinations.demo_key_file.is_some();
        list.push_str(&format!(
            "<section class=\"destination{}\">\n<h3>{}</h3>\n<p>{}</p>\n\
             <p>Fingerprint: <span class=\"fingerprint\">{}</span></p>\n<ul class=\"recipients\">\n",
            if demo { " demo" } else { "" },
            esc(&d.destination.name),
            if demo {
                format!("<strong>{}</strong>", esc(&d.description))
            } else {
                esc(&d.description)
            },
            esc(&d.destination.fingerprint()),
        ));
        for r in d.destination.recipients() {
            list.push_str(&format!("<li><code>{}</code></li>\n", esc(r.as_str())));
        }
        list.push_str("</ul>\n</section>\n");
    }
    (ContentType::HTML, INDEX.replace("{{destinations}}", &list))
}

#[get("/assets/meldpunt.css")]
fn css() -> (ContentType, &'static str) {
    (ContentType::CSS, CSS)
}

/// The page routes.
pub fn routes() -> Vec<Route> {
    routes![index, css]
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping() {
        assert_eq!(super::esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
