//! `meldpunt desk`: the investigator's desk, a local web window on a bundle, served by
//! this same binary on 127.0.0.1 only. It makes no connection of its own and serves
//! nothing that loads from elsewhere.
//!
//! The desk is a front end like the command line: every check, reply, status change,
//! export selection and shred is the library's (the same functions `meldpunt open`,
//! `reply`, `status`, `cases` and `shred` call); the desk only shows what they return
//! and passes on what the investigator asks.
//!
//! - [`guard`]: who may talk to it (the one-time secret, the session cookie, the Host
//!   and Origin checks);
//! - [`state`]: the key while unlocked, wiped on lock, after the idle time and on quit;
//! - [`pages`]: the HTML; [`i18n`]: Dutch and English; [`web`]: HTTP details.

pub mod guard;
pub mod i18n;
pub mod pages;
pub mod state;
pub mod web;

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use meldpunt_crypto::{CaseStatus, Day};
use meldpunt_wire::CaseNumber;
use tiny_http::{Request, Server};
use zeroize::Zeroizing;

use crate::access::{self, Access};
use crate::attachments::AttachmentCheck;
use crate::bundle::{parse_case, Bundle, BundleError};
use crate::deadlines::{case_rows, CaseRow};
use crate::export::shareable;
use crate::fsutil::{create_private_dir_all, create_private_file, remove_tree};
use crate::keys::{self, KeyError};
use crate::opened::{open_case, OpenedCase};
use crate::outbox::{Outbox, State as ItemState};
use crate::reply::{outgoing, prepare_reply, queue_status};
use crate::report::open_case_report;
use crate::safename::unique_name;
use crate::shred::shred_case;

use guard::{Guard, Pass};
use i18n::Lang;
use pages::{Chrome, Nav};
use state::{Flash, Locked, State};
use web::{Answer, Form, Head};

/// The desk's stylesheet.
const CSS: &str = include_str!("desk.css");
/// The desk's script (conveniences only: every page works without it).
const JS: &str = include_str!("desk.js");

/// Documents up to this size in all are decrypted and checked when a case is shown;
/// larger ones when the investigator asks.
pub const CHECK_AUTOMATICALLY: u64 = 256 * 1024 * 1024;

/// How the desk is started.
pub struct Options {
    /// The bundle folder.
    pub bundle: PathBuf,
    /// The key file.
    pub key_file: PathBuf,
    /// The port on 127.0.0.1 (0: a free one).
    pub port: u16,
    /// Whether to open the default browser.
    pub open_browser: bool,
    /// The time without use after which the key is wiped.
    pub idle: Duration,
    /// Compute the deadlines as of this day instead of today.
    pub on: Option<Day>,
}

/// Why the desk could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum DeskError {
    /// The bundle could not be opened.
    Bundle(BundleError),
    /// The key file does not exist.
    NoKeyFile {
        /// The path given.
        path: PathBuf,
    },
    /// The port could not be opened.
    Listen(String),
}

impl fmt::Display for DeskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeskError::Bundle(e) => e.fmt(f),
            DeskError::NoKeyFile { path } => {
                write!(f, "there is no key file {}", path.display())
            }
            DeskError::Listen(e) => write!(f, "could not listen on 127.0.0.1: {e}"),
        }
    }
}

impl std::error::Error for DeskError {}

/// `meldpunt desk BUNDLE_DIR -i KEY_FILE`: serves the desk until the investigator quits.
pub fn run(options: Options) -> Result<ExitCode, DeskError> {
    let bundle = Bundle::open(&options.bundle).map_err(DeskError::Bundle)?;
    if !options.key_file.is_file() {
        return Err(DeskError::NoKeyFile {
            path: options.key_file,
        });
    }
    // Loopback only: nothing off this machine can reach the desk.
    let server =
        Server::http(("127.0.0.1", options.port)).map_err(|e| DeskError::Listen(e.to_string()))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| DeskError::Listen("no port".into()))?;
    let mut desk = Desk {
        bundle,
        key_file: options.key_file,
        on: options.on,
        guard: Guard::new(port),
        state: State::new(options.idle),
    };
    let url = desk.guard.first_url().unwrap_or_default();
    println!("The investigator's desk is ready. Open this link in your browser (it works once):");
    println!();
    println!("  {url}");
    println!();
    println!(
        "It listens on 127.0.0.1:{port} only and makes no connection. Stop it with the Quit \
         button or Ctrl-C; the key is wiped when you lock, after {} minute(s) without use, \
         and when it stops.",
        options.idle.as_secs().div_ceil(60)
    );
    let _ = io::stdout().flush();
    if options.open_browser {
        open_browser(&url);
    }
    drop(url);

    while !desk.state.quit {
        match server.recv_timeout(Duration::from_secs(1)) {
            Ok(Some(request)) => desk.handle(request),
            Ok(None) => {
                if desk.state.expire(Instant::now()) {
                    println!(
                        "Locked after {} minute(s) without use: the key was wiped.",
                        options.idle.as_secs().div_ceil(60)
                    );
                }
            }
            Err(e) => {
                eprintln!("meldpunt desk: {e}");
                break;
            }
        }
    }
    desk.state.lock();
    println!("The desk has stopped; the key was wiped.");
    Ok(ExitCode::SUCCESS)
}

/// Opens the default browser, when this session has a display to show it on.
fn open_browser(url: &str) {
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if !display {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = Command::new(opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

struct Desk {
    bundle: Bundle,
    key_file: PathBuf,
    on: Option<Day>,
    guard: Guard,
    state: State,
}

/// A path the desk may send the browser back to: its own, nothing else.
fn local_path(path: &str) -> &str {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.chars().all(|c| !c.is_control());
    if ok {
        path
    } else {
        "/"
    }
}

impl Desk {
    fn handle(&mut self, mut request: Request) {
        let head = Head::of(&request);
        let answer = match self.guard.check(&head) {
            Pass::Refuse(why) => Answer::text(why.status(), &why.to_string()),
            Pass::Exchange => Answer::see_other("/").with("Set-Cookie", &self.guard.cookie()),
            Pass::Clean => Answer::see_other("/"),
            Pass::Proceed => self.route(&head, &mut request),
        };
        let _ = answer.send(request);
    }

    fn lang(&self, head: &Head) -> Lang {
        self.state
            .lang
            .unwrap_or_else(|| Lang::from_accept_language(head.language.as_deref()))
    }

    /// The deadline day: `--on`, or today.
    fn today(&self) -> Day {
        self.on.unwrap_or_else(Day::today)
    }

    fn waiting(&self) -> usize {
        Outbox::read(&self.bundle)
            .map(|o| {
                o.items
                    .iter()
                    .filter(|i| i.state() == ItemState::Queued)
                    .count()
            })
            .unwrap_or(0)
    }

    fn page(&mut self, head: &Head, status: u16, title: &str, nav: Nav, content: &str) -> Answer {
        let lang = self.lang(head);
        let flash = self.state.flash.take();
        let unlocked = self.state.is_unlocked();
        let waiting = if unlocked { self.waiting() } else { 0 };
        let chrome = Chrome {
            lang,
            title,
            unlocked,
            nav,
            flash: flash.as_ref(),
            path: &head.path,
            waiting,
            idle_seconds: self.state.idle().as_secs(),
        };
        Answer::html(status, pages::layout(&chrome, content))
    }

    fn flash(&mut self, error: bool, text: impl Into<String>) {
        self.state.flash = Some(Flash {
            error,
            text: text.into(),
        });
    }

    fn route(&mut self, head: &Head, request: &mut Request) -> Answer {
        let segments: Vec<&str> = head.path.split('/').skip(1).collect();
        match (head.method.as_str(), segments.as_slice()) {
            ("GET", ["static", "desk.css"]) => Answer::asset("text/css; charset=utf-8", CSS),
            ("GET", ["static", "desk.js"]) => Answer::asset("text/javascript; charset=utf-8", JS),
            ("GET" | "HEAD", [""]) => self.home(head),
            ("POST", ["unlock"]) => self.unlock(head, request),
            ("POST", ["lock"]) => {
                self.state.lock();
                let l = self.lang(head);
                self.flash(
                    false,
                    l.t(
                        "Locked: the key was wiped.",
                        "Vergrendeld: de sleutel is gewist.",
                    ),
                );
                Answer::see_other("/")
            }
            ("POST", ["quit"]) => {
                self.state.lock();
                self.state.quit = true;
                let l = self.lang(head);
                let content = pages::stopped(l);
                self.page(head, 200, l.t("Stopped", "Gestopt"), Nav::None, &content)
            }
            ("POST", ["lang"]) => {
                let form = read_form(request);
                if let Some(l) = form.as_ref().and_then(|f| Lang::parse(f.text("lang"))) {
                    self.state.lang = Some(l);
                }
                let back = form.as_ref().map_or("/", |f| local_path(f.text("back")));
                Answer::see_other(back)
            }
            ("GET", ["outbox"]) => self.with_key(head, |desk, head| desk.outbox(head)),
            ("GET", ["favicon.ico"]) => Answer::text(404, "no icon"),
            (method, ["case", case, rest @ ..]) => {
                let Ok(case) = parse_case(case) else {
                    return Answer::text(404, "no such case");
                };
                if case.as_str() != head.path.split('/').nth(2).unwrap_or_default() {
                    return Answer::see_other(&pages::case_path(case.as_str()));
                }
                let method = method.to_owned();
                let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
                self.case_route(head, request, &method, &case, &rest)
            }
            ("GET" | "POST", _) => Answer::text(404, "not found"),
            _ => Answer::text(405, "method not allowed").with("Allow", "GET, POST"),
        }
    }

    fn case_route(
        &mut self,
        head: &Head,
        request: &mut Request,
        method: &str,
        case: &CaseNumber,
        rest: &[String],
    ) -> Answer {
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        match (method, rest.as_slice()) {
            ("GET", []) => {
                let template = head.query_value("template");
                self.with_key(head, |desk, head| {
                    let t = template.as_deref().and_then(i18n::template);
                    let received = desk
                        .bundle
                        .case_manifest(case)
                        .map(|m| m.summary.received.to_string())
                        .unwrap_or_default();
                    let draft = t.map(|t| Zeroizing::new(t.text.replace("{received}", &received)));
                    desk.case_page(
                        head,
                        case,
                        draft.as_deref().map(|d| d.as_str()),
                        t.and_then(|t| t.status),
                        200,
                    )
                })
            }
            ("POST", ["contact"]) => {
                let form = read_form(request);
                let show = form.as_ref().is_some_and(|f| f.text("show") == "1");
                self.with_key(head, |desk, head| desk.contact(head, case, show))
            }
            ("POST", ["check"]) => self.with_key(head, |desk, _| {
                desk.check_documents(case);
                Answer::see_other(&format!("{}#documents", pages::case_path(case.as_str())))
            }),
            ("GET", ["doc", n]) => {
                let n: usize = n.parse().unwrap_or(0);
                self.with_key(head, |desk, head| desk.document(head, case, n))
            }
            ("POST", ["save"]) => {
                let form = read_form(request);
                self.with_key(head, |desk, head| {
                    desk.save_documents(head, case, form.as_ref())
                })
            }
            ("POST", ["reply"]) => {
                let form = read_form(request);
                if let (Some(f), false) = (form.as_ref(), self.state.is_unlocked()) {
                    // Locked while the message was being written: keep it.
                    let kept = pages::Kept {
                        text: f.text("text"),
                        status: f.text("status"),
                    };
                    let next = pages::case_path(case.as_str());
                    return self.unlock_page(head, &next, None, false, Some(&kept));
                }
                self.with_key(head, |desk, head| desk.reply(head, case, form.as_ref()))
            }
            ("POST", ["status"]) => {
                let form = read_form(request);
                self.with_key(head, |desk, head| desk.status(head, case, form.as_ref()))
            }
            ("GET", ["export"]) => self.with_key(head, |desk, head| desk.export(head, case, false)),
            ("GET", ["export.html"]) => {
                self.with_key(head, |desk, head| desk.export(head, case, true))
            }
            ("POST", ["export"]) => {
                let form = read_form(request);
                self.with_key(head, |desk, head| {
                    desk.save_export(head, case, form.as_ref())
                })
            }
            ("POST", ["shred"]) => {
                let form = read_form(request);
                self.with_key(head, |desk, head| desk.shred(head, case, form.as_ref()))
            }
            _ => Answer::text(404, "not found"),
        }
    }

    /// Runs `f` if the desk is unlocked (counting as use); else shows the unlock form,
    /// which comes back here (for a page) or to the case (after a form).
    fn with_key(&mut self, head: &Head, f: impl FnOnce(&mut Desk, &Head) -> Answer) -> Answer {
        match self.state.use_key(Instant::now()) {
            Ok(_) => f(self, head),
            Err(why) => {
                let next = if head.method == "GET" {
                    if head.query.is_empty() {
                        head.path.clone()
                    } else {
                        format!("{}?{}", head.path, head.query)
                    }
                } else {
                    // A form sent after the desk locked: back to its page.
                    let parts: Vec<&str> = head.path.split('/').collect();
                    match parts.as_slice() {
                        ["", "case", case, ..] => format!("/case/{case}"),
                        _ => "/".to_owned(),
                    }
                };
                self.unlock_page(head, &next, None, why == Locked::Idle, None)
            }
        }
    }

    fn unlock_page(
        &mut self,
        head: &Head,
        next: &str,
        error: Option<&str>,
        idle: bool,
        kept: Option<&pages::Kept<'_>>,
    ) -> Answer {
        let l = self.lang(head);
        if idle && error.is_none() {
            self.flash(
                false,
                l.t(
                    "The desk locked itself after a while without use: the key was wiped.",
                    "Het bureau vergrendelde zich na een tijd zonder gebruik: de sleutel is gewist.",
                ),
            );
        }
        let content = pages::unlock(
            l,
            &self.key_file.display().to_string(),
            local_path(next),
            error,
            self.state.idle().as_secs().div_ceil(60),
            kept,
        );
        self.page(
            head,
            200,
            l.t("Unlock", "Ontgrendelen"),
            Nav::None,
            &content,
        )
    }

    fn home(&mut self, head: &Head) -> Answer {
        match self.state.use_key(Instant::now()) {
            Ok(_) => self.case_list(head),
            Err(why) => self.unlock_page(head, "/", None, why == Locked::Idle, None),
        }
    }

    fn unlock(&mut self, head: &Head, request: &mut Request) -> Answer {
        let l = self.lang(head);
        let Some(form) = read_form(request) else {
            return Answer::text(413, "the form is too large");
        };
        let next = local_path(form.text("next")).to_owned();
        let passphrase = form
            .get("passphrase")
            .map(|p| SecretString::from(p.as_str().to_owned()));
        let kept_text = form.text("kept_text");
        let kept = (!kept_text.is_empty()).then(|| pages::Kept {
            text: kept_text,
            status: form.text("kept_status"),
        });
        match keys::load_with(&self.key_file, || passphrase) {
            Ok(keys) => {
                self.state.unlock(keys, Instant::now());
                let case = next.strip_prefix("/case/").and_then(|c| parse_case(c).ok());
                match (kept, case) {
                    // Back to the case with the message in the composer, not queued.
                    (Some(k), Some(case)) => {
                        let back = Head {
                            method: "GET".into(),
                            path: pages::case_path(case.as_str()),
                            query: String::new(),
                            ..head.clone()
                        };
                        let status = CaseStatus::parse_opt(k.status);
                        self.case_page(&back, &case, Some(k.text), status, 200)
                    }
                    _ => Answer::see_other(&next),
                }
            }
            Err(e) => {
                let text = match e {
                    KeyError::WrongPassphrase { .. } | KeyError::PassphraseRequired { .. } => l
                        .t(
                            "That passphrase does not open the key file. Try again.",
                            "Die wachtwoordzin opent het sleutelbestand niet. Probeer het opnieuw.",
                        )
                        .to_owned(),
                    other => other.to_string(),
                };
                self.unlock_page(head, &next, Some(&text), false, kept.as_ref())
            }
        }
    }

    fn case_list(&mut self, head: &Head) -> Answer {
        let l = self.lang(head);
        let today = self.today();
        let rows = match case_rows(&self.bundle, today) {
            Ok(rows) => rows,
            Err(e) => {
                let content = pages::problem(l, &e.to_string());
                return self.page(head, 500, l.t("Cases", "Zaken"), Nav::Cases, &content);
            }
        };
        let filter = pages::Filter::parse(head.query_value("filter").as_deref());
        let sort = pages::Sort::parse(head.query_value("sort").as_deref());
        let counts = [
            pages::Filter::All,
            pages::Filter::Open,
            pages::Filter::Overdue,
            pages::Filter::Closed,
        ]
        .map(|f| rows.iter().filter(|r| f.keeps(r)).count());
        let total = rows.len();
        // The category is inside the encrypted report: read with the key.
        let mut shown: Vec<(CaseRow, Option<meldpunt_crypto::Category>)> = Vec::new();
        if let Ok(unlocked) = self.state.use_key(Instant::now()) {
            for row in rows.into_iter().filter(|r| filter.keeps(r)) {
                let category = open_case_report(&self.bundle, &row.case, &unlocked.keys)
                    .ok()
                    .map(|r| r.opened.content.category);
                shown.push((row, category));
            }
        }
        sort.apply(&mut shown);
        let content = pages::case_list(l, today, &shown, total, filter, sort, counts);
        self.page(head, 200, l.t("Cases", "Zaken"), Nav::Cases, &content)
    }

    fn outbox(&mut self, head: &Head) -> Answer {
        let l = self.lang(head);
        let content = match Outbox::read(&self.bundle) {
            Ok(o) => pages::outbox(l, &o.items, &self.bundle.root().display().to_string()),
            Err(e) => pages::problem(l, &e.to_string()),
        };
        self.page(head, 200, l.t("Outbox", "Uitgaand"), Nav::Outbox, &content)
    }

    /// The case opened with the key, the documents' checks from this session applied.
    fn open(&mut self, case: &CaseNumber) -> Result<OpenedCase, String> {
        let unlocked = self
            .state
            .use_key(Instant::now())
            .map_err(|_| "locked".to_owned())?;
        let mut opened =
            open_case(&self.bundle, case, &unlocked.keys).map_err(|e| e.to_string())?;
        if let Some(checks) = unlocked.documents.get(case) {
            for (a, c) in opened.attachments.iter_mut().zip(checks) {
                a.check = c.clone();
            }
        }
        Ok(opened)
    }

    /// Decrypts every document of a case into a private scratch folder, checking each
    /// against the report, remembers what became of each, and overwrites and removes
    /// the plaintext at once.
    fn check_documents(&mut self, case: &CaseNumber) {
        let Ok(mut opened) = self.open(case) else {
            return;
        };
        let Ok(unlocked) = self.state.use_key(Instant::now()) else {
            return;
        };
        let Ok(scratch) = scratch_dir() else {
            return;
        };
        let _ = opened.save_attachments(&unlocked.keys, &scratch.path().join("d"));
        let _ = remove_tree(scratch.path(), true);
        // The plaintext is gone; what counts is what the check found.
        let checks: Vec<AttachmentCheck> =
            opened.attachments.iter().map(|a| a.check.clone()).collect();
        unlocked.documents.insert(case.clone(), checks);
    }

    fn case_page(
        &mut self,
        head: &Head,
        case: &CaseNumber,
        draft: Option<&str>,
        draft_status: Option<CaseStatus>,
        status_code: u16,
    ) -> Answer {
        let l = self.lang(head);
        let total: u64 = match self.open(case) {
            Ok(o) => o.attachments.iter().map(|a| a.entry.ciphertext_size).sum(),
            Err(e) => {
                let content = pages::problem(l, &e);
                return self.page(head, 404, case.as_str(), Nav::Cases, &content);
            }
        };
        let checked = self
            .state
            .use_key(Instant::now())
            .is_ok_and(|u| u.documents.contains_key(case));
        if !checked && total <= CHECK_AUTOMATICALLY {
            self.check_documents(case);
        }
        let opened = match self.open(case) {
            Ok(o) => o,
            Err(e) => {
                let content = pages::problem(l, &e);
                return self.page(head, 404, case.as_str(), Nav::Cases, &content);
            }
        };
        let today = self.today();
        let outbox = Outbox::read(&self.bundle).unwrap_or_default();
        let row = CaseRow::new(opened.report.manifest.summary.clone(), &outbox, today);
        let accesses: Vec<Access> = access::read(&self.bundle)
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.case == *case)
            .collect();
        let Ok(unlocked) = self.state.use_key(Instant::now()) else {
            return Answer::see_other("/");
        };
        let outgoing = outgoing(&self.bundle, &opened, &unlocked.keys).unwrap_or_default();
        // Whether a reply may be written is the library's decision (`meldpunt reply`'s).
        let reply = open_case_report(&self.bundle, case, &unlocked.keys)
            .map_err(|e| e.to_string())
            .and_then(|r| {
                prepare_reply(&self.bundle, r, &unlocked.keys)
                    .map(|p| p.number())
                    .map_err(|e| e.to_string())
            });
        let extras = pages::CaseExtras {
            today,
            row: &row,
            revealed: unlocked.revealed.contains(case),
            accesses: &accesses,
            outgoing: &outgoing,
            reply,
            draft,
            draft_status,
            documents_waiting: !unlocked.documents.contains_key(case),
        };
        let content = pages::case_view(l, &opened, &extras);
        let title = format!("{} {case}", l.t("Case", "Zaak"));
        self.page(head, status_code, &title, Nav::Cases, &content)
    }

    fn contact(&mut self, head: &Head, case: &CaseNumber, show: bool) -> Answer {
        let l = self.lang(head);
        let back = format!("{}#contact", pages::case_path(case.as_str()));
        let Ok(unlocked) = self.state.use_key(Instant::now()) else {
            return Answer::see_other(&back);
        };
        if !show {
            unlocked.revealed.remove(case);
            return Answer::see_other(&back);
        }
        // Recorded first: nobody is shown the details without a trace in the bundle.
        let look = Access::contact_details(case, &unlocked.keys, "desk", Day::today());
        match access::record(&self.bundle, &look) {
            Ok(()) => {
                unlocked.revealed.insert(case.clone());
            }
            Err(e) => {
                let text = format!(
                    "{} {e}",
                    l.t(
                        "The contact details are not shown: the look could not be recorded.",
                        "De contactgegevens worden niet getoond: het inzien kon niet worden vastgelegd."
                    )
                );
                self.flash(true, text);
            }
        }
        Answer::see_other(&back)
    }

    fn document(&mut self, head: &Head, case: &CaseNumber, n: usize) -> Answer {
        let l = self.lang(head);
        let mut opened = match self.open(case) {
            Ok(o) => o,
            Err(e) => return Answer::text(404, &e),
        };
        let Some(index) = n.checked_sub(1).filter(|i| *i < opened.attachments.len()) else {
            return Answer::text(404, "no such document");
        };
        let Ok(unlocked) = self.state.use_key(Instant::now()) else {
            return Answer::see_other("/");
        };
        let Ok(scratch) = scratch_dir() else {
            return Answer::text(500, "no scratch folder");
        };
        let folder = scratch.path().join("d");
        let saved = opened
            .save_attachment(index, &unlocked.keys, &folder)
            .ok()
            .and_then(|()| opened.attachments[index].saved_as().map(str::to_owned));
        let file = saved.and_then(|name| {
            std::fs::File::open(folder.join(&name))
                .ok()
                .map(|f| (f, name))
        });
        match file {
            Some((file, name)) => {
                // The plaintext is overwritten and removed once it has been sent.
                let scratch = scratch.keep();
                Answer::download(file, &name, "application/octet-stream").scrub_after(scratch)
            }
            None => {
                let _ = remove_tree(scratch.path(), true);
                let why = opened.attachments[index]
                    .problem()
                    .unwrap_or("not decrypted")
                    .to_owned();
                self.flash(
                    true,
                    format!(
                        "{} {why}",
                        l.t(
                            "The document is not given out:",
                            "Het document wordt niet gegeven:"
                        )
                    ),
                );
                Answer::see_other(&format!("{}#doc-{n}", pages::case_path(case.as_str())))
            }
        }
    }

    fn folder_of(&self, form: Option<&Form>, l: Lang) -> Result<PathBuf, String> {
        let text = form.map(|f| f.text("folder")).unwrap_or_default();
        let path = PathBuf::from(text);
        if text.is_empty() || !path.is_absolute() {
            return Err(l
                .t(
                    "Give the folder as a full path (starting with /).",
                    "Geef de map als volledig pad (beginnend met /).",
                )
                .to_owned());
        }
        if !path.is_dir() {
            return Err(format!(
                "{} {}",
                l.t("There is no folder", "Er is geen map"),
                path.display()
            ));
        }
        Ok(path)
    }

    fn save_documents(&mut self, head: &Head, case: &CaseNumber, form: Option<&Form>) -> Answer {
        let l = self.lang(head);
        let back = format!("{}#documents", pages::case_path(case.as_str()));
        let folder = match self.folder_of(form, l) {
            Ok(f) => f.join(case.as_str()).join("attachments"),
            Err(e) => {
                self.flash(true, e);
                return Answer::see_other(&back);
            }
        };
        let mut opened = match self.open(case) {
            Ok(o) => o,
            Err(e) => return Answer::text(404, &e),
        };
        let Ok(unlocked) = self.state.use_key(Instant::now()) else {
            return Answer::see_other("/");
        };
        match opened.save_attachments(&unlocked.keys, &folder) {
            Ok(()) => {
                let checks: Vec<AttachmentCheck> =
                    opened.attachments.iter().map(|a| a.check.clone()).collect();
                unlocked.documents.insert(case.clone(), checks);
                let text = match l {
                    Lang::En => format!(
                        "{} of {} document(s) verified and saved in {}.",
                        opened.attachments_saved(),
                        opened.attachments.len(),
                        folder.display()
                    ),
                    Lang::Nl => format!(
                        "{} van {} document(en) geverifieerd en opgeslagen in {}.",
                        opened.attachments_saved(),
                        opened.attachments.len(),
                        folder.display()
                    ),
                };
                let failed = opened.attachments_saved() < opened.attachments.len();
                self.flash(failed, text);
            }
            Err(e) => self.flash(true, e.to_string()),
        }
        Answer::see_other(&back)
    }

    fn reply(&mut self, head: &Head, case: &CaseNumber, form: Option<&Form>) -> Answer {
        let l = self.lang(head);
        let Some(form) = form else {
            return Answer::text(413, "the form is too large");
        };
        let text = Zeroizing::new(form.text("text").to_owned());
        let status = CaseStatus::parse_opt(form.text("status"));
        if text.is_empty() {
            self.flash(
                true,
                l.t(
                    "The message is empty; nothing was queued.",
                    "Het bericht is leeg; er is niets klaargezet.",
                ),
            );
            return self.case_page(head, case, None, status, 422);
        }
        let Ok(unlocked) = self.state.use_key(Instant::now()) else {
            return Answer::see_other("/");
        };
        let result = open_case_report(&self.bundle, case, &unlocked.keys)
            .map_err(|e| e.to_string())
            .and_then(|r| prepare_reply(&self.bundle, r, &unlocked.keys).map_err(|e| e.to_string()))
            .and_then(|p| {
                p.seal(
                    &self.bundle,
                    Zeroizing::new(text.as_str().to_owned()),
                    status,
                    Day::today(),
                )
                .map_err(|e| e.to_string())
            });
        match result {
            Ok(queued) => {
                let mut said = match l {
                    Lang::En => format!(
                        "Message {} is in the outbox, waiting to be sent (`meldpunt push`).",
                        queued.number
                    ),
                    Lang::Nl => format!(
                        "Bericht {} staat in de uitgaande berichten en wacht op verzending (`meldpunt push`).",
                        queued.number
                    ),
                };
                if !queued.readable_by_you {
                    said.push(' ');
                    said.push_str(l.t(
                        "Your key is not among the pinned recipients, so you cannot read it back.",
                        "Uw sleutel staat niet bij de vastgepinde ontvangers; u kunt het niet teruglezen.",
                    ));
                }
                self.flash(false, said);
                Answer::see_other(&format!("{}#outgoing", pages::case_path(case.as_str())))
            }
            Err(e) => {
                self.flash(true, e);
                self.case_page(head, case, Some(&text), status, 409)
            }
        }
    }

    fn status(&mut self, head: &Head, case: &CaseNumber, form: Option<&Form>) -> Answer {
        let l = self.lang(head);
        let back = format!("{}#status", pages::case_path(case.as_str()));
        let Some(status) = form.and_then(|f| CaseStatus::parse_opt(f.text("status"))) else {
            self.flash(true, l.t("Choose a status.", "Kies een status."));
            return Answer::see_other(&back);
        };
        match queue_status(&self.bundle, case, status, Day::today()) {
            Ok(q) => {
                let text = match l {
                    Lang::En => format!(
                        "Status change from “{}” to “{}” queued: waiting to be sent (`meldpunt push`).",
                        l.status(q.from),
                        l.status(q.to)
                    ),
                    Lang::Nl => format!(
                        "Statuswijziging van “{}” naar “{}” klaargezet: wacht op verzending (`meldpunt push`).",
                        l.status(q.from),
                        l.status(q.to)
                    ),
                };
                self.flash(false, text);
            }
            Err(e) => self.flash(true, e.to_string()),
        }
        Answer::see_other(&back)
    }

    fn export(&mut self, head: &Head, case: &CaseNumber, download: bool) -> Answer {
        let l = self.lang(head);
        let opened = match self.open(case) {
            Ok(o) => o,
            Err(e) => return Answer::text(404, &e),
        };
        let page = pages::export_page(l, &shareable(&opened), CSS, download);
        if download {
            let name = format!("{case}-for-colleagues.html");
            match wiped_file(&page) {
                Ok(file) => Answer::download(file, &name, "text/html; charset=utf-8"),
                Err(e) => Answer::text(500, &e.to_string()),
            }
        } else {
            Answer::html(200, page)
        }
    }

    fn save_export(&mut self, head: &Head, case: &CaseNumber, form: Option<&Form>) -> Answer {
        let l = self.lang(head);
        let back = format!("{}#export", pages::case_path(case.as_str()));
        let folder = match self.folder_of(form, l) {
            Ok(f) => f.join(case.as_str()),
            Err(e) => {
                self.flash(true, e);
                return Answer::see_other(&back);
            }
        };
        let opened = match self.open(case) {
            Ok(o) => o,
            Err(e) => return Answer::text(404, &e),
        };
        let page = pages::export_page(l, &shareable(&opened), CSS, true);
        let written = create_private_dir_all(&folder).and_then(|()| {
            let name = unique_name(
                &folder,
                &format!("{case}-for-colleagues.html"),
                &mut Default::default(),
            );
            let path = folder.join(name);
            let mut f = create_private_file(&path)?;
            f.write_all(page.as_bytes())?;
            f.sync_all()?;
            Ok(path)
        });
        match written {
            Ok(path) => {
                let text = format!(
                    "{} {}",
                    l.t(
                        "The copy for colleagues is saved:",
                        "De kopie voor collega's is opgeslagen:"
                    ),
                    path.display()
                );
                self.flash(false, text);
            }
            Err(e) => self.flash(true, e.to_string()),
        }
        Answer::see_other(&back)
    }

    fn shred(&mut self, head: &Head, case: &CaseNumber, form: Option<&Form>) -> Answer {
        let l = self.lang(head);
        let back = format!("{}#shred", pages::case_path(case.as_str()));
        let Some(form) = form else {
            return Answer::see_other(&back);
        };
        if parse_case(form.text("confirm")).ok().as_ref() != Some(case) {
            self.flash(
                true,
                l.t(
                    "Type the case number to confirm; nothing was shredded.",
                    "Typ het zaaknummer ter bevestiging; er is niets vernietigd.",
                ),
            );
            return Answer::see_other(&back);
        }
        let out = form.text("out");
        let out = (!out.is_empty()).then(|| PathBuf::from(out));
        if out.as_ref().is_some_and(|o| !o.is_absolute()) {
            self.flash(
                true,
                l.t(
                    "Give the folder as a full path (starting with /).",
                    "Geef de map als volledig pad (beginnend met /).",
                ),
            );
            return Answer::see_other(&back);
        }
        let force = form.text("force") == "1";
        match shred_case(&self.bundle, case, out.as_deref(), force) {
            Ok(done) => {
                if let Ok(u) = self.state.use_key(Instant::now()) {
                    u.revealed.remove(case);
                    u.documents.remove(case);
                }
                let text = match l {
                    Lang::En => format!(
                        "Case {case} was shredded: {} file(s) from the bundle, {} from the outbox{}. Copies elsewhere (backups, printouts) are not reached.",
                        done.bundle_files,
                        done.outbox_files,
                        done.decrypted.map(|(p, n)| format!(", {n} decrypted file(s) in {}", p.display())).unwrap_or_default()
                    ),
                    Lang::Nl => format!(
                        "Zaak {case} is vernietigd: {} bestand(en) uit de bundel, {} uit de uitgaande berichten{}. Kopieën elders (back-ups, afdrukken) worden niet bereikt.",
                        done.bundle_files,
                        done.outbox_files,
                        done.decrypted.map(|(p, n)| format!(", {n} ontsleuteld(e) bestand(en) in {}", p.display())).unwrap_or_default()
                    ),
                };
                self.flash(false, text);
                Answer::see_other("/")
            }
            Err(e) => {
                self.flash(true, e.to_string());
                Answer::see_other(&back)
            }
        }
    }
}

fn read_form(request: &mut Request) -> Option<Form> {
    Form::read(request).ok()
}

/// A private scratch folder for plaintext that must not outlive one request.
fn scratch_dir() -> io::Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix("meldpunt-desk-").tempdir()
}

/// A file holding `text` that is already removed from its folder (so nothing is left
/// on the disk once it has been sent).
fn wiped_file(text: &str) -> io::Result<std::fs::File> {
    let mut file = tempfile::tempfile()?;
    file.write_all(text.as_bytes())?;
    io::Seek::seek(&mut file, io::SeekFrom::Start(0))?;
    Ok(file)
}

trait ParseStatus {
    fn parse_opt(text: &str) -> Option<CaseStatus>;
}

impl ParseStatus for CaseStatus {
    fn parse_opt(text: &str) -> Option<CaseStatus> {
        [
            CaseStatus::Acknowledged,
            CaseStatus::Investigating,
            CaseStatus::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_desks_own_paths_are_gone_back_to() {
        assert_eq!(
            local_path("/case/MP-7KQ2M9XD4A#documents"),
            "/case/MP-7KQ2M9XD4A#documents"
        );
        for bad in [
            "//evil.example/",
            "http://evil.example/",
            "evil",
            "/\\evil",
            "/a\nb",
            "",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn statuses_an_investigator_can_set() {
        assert_eq!(CaseStatus::parse_opt("closed"), Some(CaseStatus::Closed));
        assert_eq!(CaseStatus::parse_opt("received"), None);
        assert_eq!(CaseStatus::parse_opt(""), None);
    }

    #[test]
    fn the_scratch_copy_is_gone_after_sending() {
        let page = "hello";
        let mut f = wiped_file(page).unwrap();
        let mut back = String::new();
        io::Read::read_to_string(&mut f, &mut back).unwrap();
        assert_eq!(back, "hello");
    }
}
