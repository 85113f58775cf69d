//! The reporter's pages, rendered from the templates embedded in `meldpunt-client-wasm`
//! (Dutch at `/nl/…`, English at `/en/…`), and their static files. Everything is
//! embedded in the binary: no request can reach a file-system path.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use flate2::write::GzEncoder;
use flate2::Compression;

use meldpunt_pages::{asset, DestinationView, Lang, Page, Pages, ASSETS};
use rocket::http::{ContentType, Status};
use rocket::request::{FromParam, FromRequest, Outcome, Request};
use rocket::response::{Responder, Response};
use rocket::{get, routes, Route, State};

use crate::App;

/// Pages that instantiate the WebAssembly crypto module, and so need
/// `'wasm-unsafe-eval'` in their Content-Security-Policy; with the report page's hashing
/// worker, which loads a second instance (a worker's policy is its script's own).
const WASM_PAGES: &[&str] = &[
    "/nl/report",
    "/en/report",
    "/nl/check",
    "/en/check",
    "/static/hash-worker.js",
];

/// Whether the page at `path` runs WebAssembly.
pub fn needs_wasm(path: &str) -> bool {
    WASM_PAGES.contains(&path)
}

/// A language segment, checked when the route matches.
pub struct LangParam(pub Lang);

impl<'a> FromParam<'a> for LangParam {
    type Error = &'a str;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        Lang::from_segment(param).map(LangParam).ok_or(param)
    }
}

/// The destinations as the pages in `lang` show them.
pub fn views(app: &App, lang: Lang) -> Vec<DestinationView> {
    app.destinations
        .all()
        .iter()
        .map(|d| DestinationView {
            name: d.destination.name.clone(),
            description: d.description.in_language(lang.code()).to_owned(),
            fingerprint: d.destination.fingerprint(),
            published_at: d.published_at.clone(),
        })
        .collect()
}

/// Both languages side by side: a browser's language says little (Tor Browser asks for
/// English everywhere), so the reporter chooses.
#[get("/")]
fn root(pages: &State<Pages>) -> (ContentType, String) {
    (ContentType::HTML, pages.render_root())
}

#[get("/favicon.ico")]
fn favicon() -> (ContentType, &'static [u8]) {
    (ContentType::Icon, meldpunt_pages::FAVICON)
}

/// `/nl/`, `/nl` (Rocket matches both), `/nl/report`, `/nl/check`, and the same in `en`.
#[get("/<lang>/<page..>", rank = 2)]
fn page(
    lang: Result<LangParam, &str>,
    page: PathBuf,
    app: &State<App>,
    pages: &State<Pages>,
) -> Result<(ContentType, String), Status> {
    // An unknown language is simply a page that does not exist.
    let lang = lang.map_err(|_| Status::NotFound)?;
    let page = page
        .to_str()
        .and_then(Page::from_path)
        .ok_or(Status::NotFound)?;
    Ok((
        ContentType::HTML,
        pages.render(page, lang.0, &views(app, lang.0)),
    ))
}

/// Whether the browser accepts gzip (`Accept-Encoding`, a `q=0` counting as a no).
pub struct AcceptsGzip(bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AcceptsGzip {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let accepts = req.headers().get("Accept-Encoding").any(|value| {
            value.split(',').any(|coding| {
                let mut parts = coding.split(';').map(str::trim);
                let name = parts.next().unwrap_or("");
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
            })
        });
        Outcome::Success(AcceptsGzip(accepts))
    }
}

/// Each static file gzipped, made once at its first request (the files are fixed in the
/// binary). Only these fixed files are compressed, never a page: a page may show a
/// return code, and compressing secrets beside text an attacker can inject leaks them
/// through the size (BREACH).
static GZIPPED: [OnceLock<Vec<u8>>; ASSETS.len()] = [const { OnceLock::new() }; ASSETS.len()];

fn gzipped(name: &str, bytes: &'static [u8]) -> Option<&'static [u8]> {
    let i = ASSETS.iter().position(|a| *a == name)?;
    Some(GZIPPED[i].get_or_init(|| {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        // Writing into memory cannot fail.
        let _ = gz.write_all(bytes);
        gz.finish().unwrap_or_default()
    }))
}

/// A static file, gzipped when the browser accepts it.
pub struct StaticFile {
    content_type: ContentType,
    bytes: &'static [u8],
    gzip: bool,
}

impl<'r> Responder<'r, 'static> for StaticFile {
    fn respond_to(self, _: &'r Request<'_>) -> rocket::response::Result<'static> {
        let mut response = Response::build();
        response
            .header(self.content_type)
            .raw_header("Vary", "Accept-Encoding")
            .sized_body(self.bytes.len(), std::io::Cursor::new(self.bytes));
        if self.gzip {
            response.raw_header("Content-Encoding", "gzip");
        }
        response.ok()
    }
}

#[get("/static/<name>")]
fn static_file(name: &str, gzip: AcceptsGzip) -> Result<StaticFile, Status> {
    let (bytes, content_type) = asset(name).ok_or(Status::NotFound)?;
    let content_type = ContentType::parse_flexible(content_type).unwrap_or(ContentType::Binary);
    let packed = gzip.0.then(|| gzipped(name, bytes)).flatten();
    Ok(StaticFile {
        content_type,
        bytes: packed.unwrap_or(bytes),
        gzip: packed.is_some(),
    })
}

/// The page bundle this binary serves: one `sha256sum` line per static file, sorted
/// by name, so that `sha256sum -c` can check downloaded copies. The organisation
/// publishes the SHA-256 of this text (see [`bundle_hash`]).
///
/// Fails if the browser module was not built into this binary: a bundle without it
/// is not the one anybody published.
pub fn bundle_manifest() -> Result<String, String> {
    use sha2::{Digest, Sha256};
    let mut lines = String::new();
    for name in ASSETS {
        let (bytes, _) = asset(name).ok_or_else(|| {
            format!("{name} is not in this binary; build it with scripts/build-wasm.sh first")
        })?;
        lines.push_str(&format!("{}  {name}\n", hex::encode(Sha256::digest(bytes))));
    }
    Ok(lines)
}

/// The SHA-256 of a [`bundle_manifest`]: the one hash the organisation publishes.
pub fn bundle_hash(manifest: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(manifest.as_bytes()))
}

/// The page routes.
pub fn routes() -> Vec<Route> {
    routes![root, favicon, page, static_file]
}
