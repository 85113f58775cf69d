//! The desk's pages, rendered on the server as plain HTML with forms: they work by
//! keyboard alone and without JavaScript (`desk.js` only adds conveniences). Every text
//! from a report, a message or the bundle is escaped ([`esc`]); pages that hold
//! decrypted text are built in wiped strings.
//!
//! The pages show what the library found and decided; they decide nothing. Problems come
//! from [`OpenedCase::findings`] and are shown beside what they concern, whatever they
//! are, so a check added to the library appears here without a change.

use std::fmt::Write as _;

use meldpunt_crypto::agefile::DecryptError;
use meldpunt_crypto::{CaseStatus, Day, Direction, EncryptedBy, OpenError, Unverified};
use zeroize::Zeroizing;

use crate::access::Access;
use crate::attachments::AttachmentCheck;
use crate::deadlines::CaseRow;
use crate::export::{self, Shareable};
use crate::opened::{Concern, Finding, OpenedCase};
use crate::outbox::{Item, State as ItemState};
use crate::reply::Outgoing;
use crate::report::PinCheck;
use crate::thread::ThreadItem;

use super::i18n::{Lang, TEMPLATES};
use super::state::Flash;
use super::web::{encode, esc};

/// Which part of the desk a page belongs to (for the navigation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The case list and the cases.
    Cases,
    /// The outbox.
    Outbox,
    /// Neither (unlock, errors).
    None,
}

/// What every page shows around its content.
pub struct Chrome<'a> {
    /// The language.
    pub lang: Lang,
    /// The page's title (without the desk's name).
    pub title: &'a str,
    /// Whether the desk is unlocked (navigation, lock button).
    pub unlocked: bool,
    /// Where in the desk the page is.
    pub nav: Nav,
    /// A one-time message.
    pub flash: Option<&'a Flash>,
    /// The page's own path (the language switch comes back to it).
    pub path: &'a str,
    /// Items waiting in the outbox.
    pub waiting: usize,
    /// Seconds without use after which the desk locks.
    pub idle_seconds: u64,
}

/// A whole page around `content`.
pub fn layout(c: &Chrome<'_>, content: &str) -> Zeroizing<String> {
    let l = c.lang;
    let mut p = Zeroizing::new(String::with_capacity(content.len() + 4096));
    let _ = write!(
        p,
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Meldpunt</title>\
         <link rel=\"stylesheet\" href=\"/static/desk.css\">\
         <script src=\"/static/desk.js\" defer></script></head>\
         <body data-idle=\"{idle}\" data-unlocked=\"{unlocked}\">\
         <a class=\"skip\" href=\"#main\">{skip}</a>\
         <header class=\"bar\"><span class=\"brand\">Meldpunt <span class=\"sub\">{desk}</span></span>",
        code = l.code(),
        title = esc(c.title),
        idle = c.idle_seconds,
        unlocked = c.unlocked,
        skip = l.t("Skip to the content", "Naar de inhoud"),
        desk = l.t("investigator's desk", "bureau van de onderzoeker"),
    );
    if c.unlocked {
        let current = |n: Nav| {
            if c.nav == n {
                " aria-current=\"page\""
            } else {
                ""
            }
        };
        let _ = write!(
            p,
            "<nav aria-label=\"{label}\"><a href=\"/\"{cur_cases}>{cases}</a>\
             <a href=\"/outbox\"{cur_outbox}>{outbox} <span class=\"count\">({waiting})</span></a></nav>",
            label = l.t("Desk", "Bureau"),
            cases = l.t("Cases", "Zaken"),
            outbox = l.t("Outbox", "Uitgaand"),
            cur_cases = current(Nav::Cases),
            cur_outbox = current(Nav::Outbox),
            waiting = c.waiting,
        );
    }
    let other = l.other();
    let _ = write!(
        p,
        "<div class=\"tools\"><form method=\"post\" action=\"/lang\">\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <input type=\"hidden\" name=\"back\" value=\"{back}\">\
         <button type=\"submit\" lang=\"{code}\">{name}</button></form>",
        code = other.code(),
        name = other.name(),
        back = esc(c.path),
    );
    if c.unlocked {
        let _ = write!(
            p,
            "<form method=\"post\" action=\"/lock\"><button type=\"submit\" id=\"lock\">{}</button></form>",
            l.t("Lock", "Vergrendelen")
        );
    }
    let _ = write!(
        p,
        "<form method=\"post\" action=\"/quit\"><button type=\"submit\" id=\"quit\">{}</button></form></div></header>\
         <main id=\"main\" tabindex=\"-1\">",
        l.t("Quit", "Stoppen")
    );
    if let Some(f) = c.flash {
        let (class, role) = if f.error {
            ("flash error-box", "alert")
        } else {
            ("flash ok-box", "status")
        };
        let _ = write!(
            p,
            "<p id=\"flash\" class=\"{class}\" role=\"{role}\" tabindex=\"-1\">{}</p>",
            esc(&f.text)
        );
    }
    p.push_str(content);
    p.push_str("</main></body></html>\n");
    p
}

/// A message to the reporter that arrived after the desk locked, kept in the unlock
/// form (it is the investigator's own text, back in their own browser) so that it is
/// not lost: the text and the status chosen with it.
pub struct Kept<'a> {
    /// The text.
    pub text: &'a str,
    /// The status (`""` for none).
    pub status: &'a str,
}

/// The unlock form. `next` is where to go after unlocking; `key_file` names the file.
pub fn unlock(
    l: Lang,
    key_file: &str,
    next: &str,
    error: Option<&str>,
    idle_minutes: u64,
    kept: Option<&Kept<'_>>,
) -> String {
    let mut p = String::new();
    let _ = write!(
        p,
        "<h1>{h}</h1><p class=\"lead\">{lead}</p>",
        h = l.t("Unlock the desk", "Bureau ontgrendelen"),
        lead = l.t(
            "Nothing is decrypted until you unlock the desk with the passphrase of your key file.",
            "Er wordt niets ontsleuteld tot u het bureau ontgrendelt met de wachtwoordzin van uw sleutelbestand."
        ),
    );
    let _ = write!(
        p,
        "<form method=\"post\" action=\"/unlock\" class=\"panel\">\
         <p>{kf}: <code>{key}</code></p>\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">",
        kf = l.t("Key file", "Sleutelbestand"),
        key = esc(key_file),
        next = esc(next),
    );
    if let Some(k) = kept {
        let _ = write!(
            p,
            "<p class=\"warning\" id=\"kept\">{}</p>\
             <input type=\"hidden\" name=\"kept_text\" value=\"{}\">\
             <input type=\"hidden\" name=\"kept_status\" value=\"{}\">",
            l.t(
                "Your message was not queued: the desk had locked. It is kept in this page; unlock to go on writing.",
                "Uw bericht is niet klaargezet: het bureau was vergrendeld. Het is in deze pagina bewaard; ontgrendel om verder te schrijven."
            ),
            esc(k.text),
            esc(k.status)
        );
    }
    let _ = write!(
        p,
        "<label for=\"passphrase\">{}</label>",
        l.t("Passphrase", "Wachtwoordzin")
    );
    if let Some(e) = error {
        let _ = write!(
            p,
            "<p id=\"unlock-error\" class=\"error\" role=\"alert\">{}</p>\
             <input type=\"password\" id=\"passphrase\" name=\"passphrase\" autocomplete=\"off\" \
             autofocus required aria-invalid=\"true\" aria-describedby=\"unlock-error unlock-help\">",
            esc(e)
        );
    } else {
        p.push_str(
            "<input type=\"password\" id=\"passphrase\" name=\"passphrase\" autocomplete=\"off\" \
             autofocus aria-describedby=\"unlock-help\">",
        );
    }
    let _ = write!(
        p,
        "<p id=\"unlock-help\" class=\"help\">{help}</p>\
         <button type=\"submit\" class=\"primary\" id=\"unlock\">{b}</button></form>",
        help = esc(&match l {
            Lang::En => format!(
                "The key stays in this program only, never on disk in the clear. It is wiped \
                 when you lock the desk, after {idle_minutes} minutes without use, and when you quit."
            ),
            Lang::Nl => format!(
                "De sleutel blijft alleen in dit programma, nooit onversleuteld op schijf. Hij wordt \
                 gewist als u het bureau vergrendelt, na {idle_minutes} minuten zonder gebruik, en \
                 als u stopt."
            ),
        }),
        b = l.t("Unlock", "Ontgrendelen"),
    );
    p
}

/// How the case list is filtered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Every case.
    All,
    /// Cases not closed.
    Open,
    /// Cases with a passed deadline.
    Overdue,
    /// Closed cases.
    Closed,
}

impl Filter {
    /// The filter named in a query.
    pub fn parse(s: Option<&str>) -> Filter {
        match s {
            Some("open") => Filter::Open,
            Some("overdue") => Filter::Overdue,
            Some("closed") => Filter::Closed,
            _ => Filter::All,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Open => "open",
            Filter::Overdue => "overdue",
            Filter::Closed => "closed",
        }
    }

    fn words(self, l: Lang) -> &'static str {
        match self {
            Filter::All => l.t("All", "Alle"),
            Filter::Open => l.t("Open", "Open"),
            Filter::Overdue => l.t("Overdue", "Te laat"),
            Filter::Closed => l.t("Closed", "Afgesloten"),
        }
    }

    /// Whether a case passes.
    pub fn keeps(self, row: &CaseRow) -> bool {
        match self {
            Filter::All => true,
            Filter::Open => row.status != CaseStatus::Closed,
            Filter::Overdue => row.overdue,
            Filter::Closed => row.status == CaseStatus::Closed,
        }
    }
}

/// How the case list is sorted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Overdue first, then by the next deadline (as `meldpunt cases`).
    Deadline,
    /// By case number.
    Case,
    /// Newest first.
    Received,
    /// By status.
    Status,
}

impl Sort {
    /// The order named in a query.
    pub fn parse(s: Option<&str>) -> Sort {
        match s {
            Some("case") => Sort::Case,
            Some("received") => Sort::Received,
            Some("status") => Sort::Status,
            _ => Sort::Deadline,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Sort::Deadline => "deadline",
            Sort::Case => "case",
            Sort::Received => "received",
            Sort::Status => "status",
        }
    }

    /// Sorts rows that come in the library's deadline order.
    pub fn apply(self, rows: &mut [(CaseRow, Option<meldpunt_crypto::Category>)]) {
        match self {
            Sort::Deadline => {}
            Sort::Case => rows.sort_by(|a, b| a.0.case.cmp(&b.0.case)),
            Sort::Received => rows.sort_by(|a, b| {
                b.0.summary
                    .received
                    .cmp(&a.0.summary.received)
                    .then(a.0.case.cmp(&b.0.case))
            }),
            Sort::Status => rows.sort_by_key(|r| status_rank(r.0.status)),
        }
    }
}

fn status_rank(s: CaseStatus) -> u8 {
    match s {
        CaseStatus::Received => 0,
        CaseStatus::Acknowledged => 1,
        CaseStatus::Investigating => 2,
        CaseStatus::Closed => 3,
    }
}

fn status_cell(l: Lang, row: &CaseRow) -> String {
    let mut s = esc(l.status(row.status));
    match row.decided_here {
        Some(ItemState::Queued) => {
            let _ = write!(
                s,
                " <span class=\"tag waiting\">{}</span>",
                l.t("waiting to be sent", "wacht op verzending")
            );
        }
        Some(ItemState::Sent) | Some(ItemState::Stale) | None => {}
    }
    s
}

fn deadline_cell(l: Lang, today: Day, by: Option<Day>, done: &str, estimated: bool) -> String {
    match by {
        None => esc(done),
        Some(by) => {
            let mut s = esc(&l.days_left(today, by));
            if today > by {
                s = format!("<strong class=\"late\">{s}</strong>");
            }
            if estimated {
                let _ = write!(
                    s,
                    " <span class=\"help\">{}</span>",
                    l.t("(estimated)", "(geschat)")
                );
            }
            s
        }
    }
}

/// The case list: the same rows `meldpunt cases` prints, with each report's category.
pub fn case_list(
    l: Lang,
    today: Day,
    rows: &[(CaseRow, Option<meldpunt_crypto::Category>)],
    total: usize,
    filter: Filter,
    sort: Sort,
    counts: [usize; 4],
) -> String {
    let mut p = String::new();
    let _ = write!(
        p,
        "<h1>{h}</h1><p>{asof} <strong>{today}</strong>. {rule}</p>",
        h = l.t("Cases", "Zaken"),
        asof = l.t("Deadlines as of", "Termijnen per"),
        rule = l.t(
            "EU Directive 2019/1937: acknowledge within 7 days of receipt; give feedback within 3 months of the acknowledgement.",
            "EU-richtlijn 2019/1937: bevestig binnen 7 dagen na ontvangst; koppel binnen 3 maanden na de bevestiging terug."
        ),
    );
    let _ = write!(
        p,
        "<nav aria-label=\"{}\" class=\"filters\"><ul>",
        l.t("Show cases", "Zaken tonen")
    );
    for (f, n) in [Filter::All, Filter::Open, Filter::Overdue, Filter::Closed]
        .into_iter()
        .zip(counts)
    {
        let current = if f == filter {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            p,
            "<li><a href=\"/?filter={}&amp;sort={}\"{current}>{} ({n})</a></li>",
            f.name(),
            sort.name(),
            f.words(l)
        );
    }
    p.push_str("</ul></nav>");
    if total == 0 {
        let _ = write!(
            p,
            "<p>{}</p>",
            l.t(
                "The bundle holds no cases. `meldpunt pull` fetches them on a machine that is online.",
                "De bundel bevat geen zaken. `meldpunt pull` haalt ze op, op een computer die online is."
            )
        );
        return p;
    }
    let sort_head = |p: &mut String, s: Sort, label: &str| {
        let aria = if s == sort {
            " aria-sort=\"ascending\""
        } else {
            ""
        };
        let _ = write!(
            p,
            "<th scope=\"col\"{aria}><a href=\"/?filter={}&amp;sort={}\">{}</a></th>",
            filter.name(),
            s.name(),
            esc(label)
        );
    };
    let _ = write!(
        p,
        "<table id=\"cases\"><caption>{cap}</caption><thead><tr>",
        cap = esc(&match l {
            Lang::En => format!("{} of {total} case(s), {}", rows.len(), sort_words(l, sort)),
            Lang::Nl => format!(
                "{} van {total} zaak/zaken, {}",
                rows.len(),
                sort_words(l, sort)
            ),
        }),
    );
    sort_head(&mut p, Sort::Case, l.t("Case", "Zaak"));
    let _ = write!(
        p,
        "<th scope=\"col\">{}</th><th scope=\"col\">{}</th>",
        l.t("Destination", "Bestemming"),
        l.t("Category", "Categorie")
    );
    sort_head(&mut p, Sort::Received, l.t("Received", "Ontvangen"));
    sort_head(&mut p, Sort::Status, l.t("Status", "Status"));
    sort_head(
        &mut p,
        Sort::Deadline,
        l.t("Acknowledge by", "Bevestigen voor"),
    );
    let _ = write!(
        p,
        "<th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        l.t("Feedback by", "Terugkoppelen voor"),
        l.t("Retention", "Bewaartermijn")
    );
    if rows.is_empty() {
        let _ = write!(
            p,
            "<tr><td colspan=\"8\">{}</td></tr>",
            l.t("No cases match.", "Geen zaken.")
        );
    }
    for (row, category) in rows {
        let class = if row.overdue {
            " class=\"overdue\""
        } else {
            ""
        };
        let _ = write!(
            p,
            "<tr data-case=\"{case}\"{class}><th scope=\"row\"><a href=\"/case/{case}\">{case}</a>{flag}</th>\
             <td>{dest}</td><td>{cat}</td><td class=\"day\">{received}</td><td>{status}</td><td>{ack}</td><td>{fb}</td><td>{ret}</td></tr>",
            case = esc(row.case.as_str()),
            flag = {
                let mut flag = if row.overdue {
                    format!(" <span class=\"tag late\">{}</span>", l.t("overdue", "te laat"))
                } else {
                    String::new()
                };
                // The threads against the audit log, checked without the key.
                for a in &row.alarms {
                    let _ = write!(
                        flag,
                        " <span class=\"tag late\" title=\"{}\">{}</span>",
                        esc(a),
                        l.t("does not match the audit log", "klopt niet met het auditlog")
                    );
                }
                flag
            },
            dest = esc(&row.summary.destination),
            cat = category.map_or("—", |c| l.category(c)),
            received = row.summary.received,
            status = status_cell(l, row),
            ack = deadline_cell(l, today, row.deadlines.acknowledge_by, l.t("done", "gedaan"), false),
            fb = deadline_cell(
                l,
                today,
                row.deadlines.feedback_by,
                "—",
                row.deadlines.estimated
            ),
            ret = match row.summary.retention_until {
                Some(until) if row.retention_ended => format!(
                    "<strong class=\"late\">{} {until}</strong>",
                    l.t("ended: shred", "verlopen: vernietigen")
                ),
                Some(until) => format!("{} {until}", l.t("until", "tot")),
                None => "—".to_owned(),
            },
        );
    }
    p.push_str("</tbody></table>");
    p
}

fn sort_words(l: Lang, sort: Sort) -> &'static str {
    match sort {
        Sort::Deadline => l.t(
            "overdue first, then by the next deadline",
            "te late eerst, dan op de eerstvolgende termijn",
        ),
        Sort::Case => l.t("by case number", "op zaaknummer"),
        Sort::Received => l.t("newest first", "nieuwste eerst"),
        Sort::Status => l.t("by status", "op status"),
    }
}

/// What a failed check was, in a word or two (the library's sentence follows).
fn what_failed(l: Lang, reason: &Unverified) -> &'static str {
    match reason {
        Unverified::Open(OpenError::BadMac) => l.t("MAC", "MAC"),
        Unverified::Open(OpenError::BadSignature) => l.t("signature", "handtekening"),
        Unverified::Open(OpenError::WrongThread) => l.t("thread", "gesprek"),
        Unverified::Open(OpenError::Decrypt(DecryptError::NotARecipient)) => {
            l.t("not for this key", "niet voor deze sleutel")
        }
        Unverified::Open(OpenError::Decrypt(_)) => l.t("decryption", "ontsleuteling"),
        Unverified::Open(_) => l.t("format", "opmaak"),
        Unverified::Place(_) => l.t("chain", "keten"),
        Unverified::Misnumbered { .. } => l.t("numbering", "nummering"),
        Unverified::Label { .. } => l.t("direction", "richting"),
        Unverified::AfterFailure => l.t("after a failure", "na een fout"),
        _ => l.t("other", "anders"),
    }
}

/// A guess at a document's type from its name (the content is not looked at here).
pub fn kind_of(l: Lang, name: &str) -> String {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let known = match ext.as_str() {
        "pdf" => Some(l.t("PDF document", "PDF-document")),
        "doc" | "docx" | "odt" | "rtf" => Some(l.t("text document", "tekstdocument")),
        "xls" | "xlsx" | "ods" | "csv" => Some(l.t("spreadsheet", "rekenblad")),
        "ppt" | "pptx" | "odp" => Some(l.t("presentation", "presentatie")),
        "jpg" | "jpeg" | "png" | "gif" | "heic" | "webp" | "tif" | "tiff" => {
            Some(l.t("image", "afbeelding"))
        }
        "txt" | "md" => Some(l.t("plain text", "platte tekst")),
        "eml" | "msg" => Some(l.t("e-mail", "e-mail")),
        "zip" | "7z" | "rar" => Some(l.t("archive", "archief")),
        "mp3" | "m4a" | "wav" | "ogg" => Some(l.t("audio", "geluid")),
        "mp4" | "mov" | "avi" | "mkv" => Some(l.t("video", "video")),
        _ => None,
    };
    match (known, ext.is_empty()) {
        (Some(k), _) => format!("{k} (.{ext})"),
        (None, true) => l.t("unknown", "onbekend").to_owned(),
        (None, false) => format!("{} (.{})", l.t("unknown", "onbekend"), esc(&ext)),
    }
}

/// A size in words.
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / KIB / KIB)
    } else {
        format!("{:.2} GiB", b / KIB / KIB / KIB)
    }
}

fn findings_list(p: &mut String, l: Lang, found: &[&Finding], id: &str) {
    if found.is_empty() {
        return;
    }
    let _ = write!(
        p,
        "<div class=\"findings\" id=\"{id}\"><p class=\"findings-head\">{}</p><ul>",
        l.t("Problems found", "Gevonden problemen")
    );
    for f in found {
        let _ = write!(p, "<li>{}</li>", esc(&f.text));
    }
    p.push_str("</ul></div>");
}

fn reporter_text(text: &str) -> String {
    if text.trim().is_empty() {
        "<p class=\"reporter-text empty\">—</p>".to_owned()
    } else {
        format!("<p class=\"reporter-text\">{}</p>", esc(text.trim_end()))
    }
}

/// Everything the case page shows besides the opened case itself.
pub struct CaseExtras<'a> {
    /// The deadline day (today, or `--on`).
    pub today: Day,
    /// The case's row (status and deadlines).
    pub row: &'a CaseRow,
    /// Whether the contact details are shown.
    pub revealed: bool,
    /// Earlier looks at this case's contact details.
    pub accesses: &'a [Access],
    /// The case's outbox items.
    pub outgoing: &'a [Outgoing],
    /// Whether a reply can be written: the next message's number, or why not.
    pub reply: Result<usize, String>,
    /// A draft to put back in the composer.
    pub draft: Option<&'a str>,
    /// The status chosen with the draft.
    pub draft_status: Option<CaseStatus>,
    /// Whether the documents were too large to check automatically.
    pub documents_waiting: bool,
}

/// The case page.
pub fn case_view(l: Lang, opened: &OpenedCase, x: &CaseExtras<'_>) -> Zeroizing<String> {
    let report = &opened.report;
    let content = &report.opened.content;
    let case = report.case.as_str();
    let findings = opened.findings();
    let mut p = Zeroizing::new(String::with_capacity(16 * 1024));
    let _ = write!(
        p,
        "<p class=\"crumbs\"><a href=\"/\">{back}</a></p><h1>{h} {case}</h1>",
        back = l.t("← All cases", "← Alle zaken"),
        h = l.t("Case", "Zaak"),
        case = esc(case),
    );

    let _ = write!(
        p,
        "<nav class=\"on-page\" aria-label=\"{label}\"><ul>\
         <li><a href=\"#report\">{report}</a></li><li><a href=\"#contact\">{contact}</a></li>\
         <li><a href=\"#documents\">{documents}</a></li><li><a href=\"#conversation\">{conversation}</a></li>\
         <li><a href=\"#composer\">{answer}</a></li><li><a href=\"#status\">{status}</a></li>\
         <li><a href=\"#export\">{export}</a></li><li><a href=\"#shred\">{shred}</a></li></ul></nav>",
        label = l.t("On this page", "Op deze pagina"),
        report = l.t("Report", "Melding"),
        contact = l.t("Contact details", "Contactgegevens"),
        documents = l.t("Documents", "Documenten"),
        conversation = l.t("Conversation", "Gesprek"),
        answer = l.t("Answer", "Antwoorden"),
        status = l.t("Status", "Status"),
        export = l.t("Copy for colleagues", "Kopie voor collega's"),
        shred = l.t("Shred", "Vernietigen"),
    );

    // A summary of every problem, each linked to where it is shown.
    if findings.is_empty() {
        let _ = write!(
            p,
            "<p class=\"ok-box\" id=\"verified-all\">{}</p>",
            l.t(
                "Everything verified: the report, its recipients, the documents checked so far and every message.",
                "Alles is geverifieerd: de melding, de ontvangers, de tot nu toe gecontroleerde documenten en elk bericht."
            )
        );
    } else {
        let _ = write!(
            p,
            "<section class=\"error-box\" id=\"problems\" aria-labelledby=\"problems-h\"><h2 id=\"problems-h\">{}</h2><ul>",
            esc(&match l {
                Lang::En => format!("{} problem(s) found when verifying", findings.len()),
                Lang::Nl => format!("{} probleem/problemen gevonden bij het verifiëren", findings.len()),
            })
        );
        for f in &findings {
            let anchor = match f.concern {
                Concern::Attachment(i) => format!("#doc-{}", i + 1),
                Concern::Message(i) => format!("#msg-{}", i + 1),
                Concern::Thread => "#thread-findings".to_owned(),
                _ => "#report".to_owned(),
            };
            let _ = write!(p, "<li><a href=\"{anchor}\">{}</a></li>", esc(&f.text));
        }
        p.push_str("</ul></section>");
    }

    // The report.
    let _ = write!(
        p,
        "<section id=\"report\" aria-labelledby=\"report-h\"><h2 id=\"report-h\">{}</h2>",
        l.t("Report", "Melding")
    );
    let report_findings: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            matches!(
                f.concern,
                Concern::Recipients | Concern::Report | Concern::Bundle
            )
        })
        .collect();
    findings_list(&mut p, l, &report_findings, "report-findings");
    let pins = match &report.pins {
        PinCheck::Matches { fingerprint } => format!(
            "{} <code>{}</code>",
            l.t(
                "the pinned recipients, fingerprint",
                "de vastgepinde ontvangers, vingerafdruk"
            ),
            esc(fingerprint)
        ),
        PinCheck::NotPinned { .. } => format!(
            "<strong class=\"late\">{}</strong>",
            l.t(
                "NOT CHECKED: no recipients pinned for this destination",
                "NIET GECONTROLEERD: geen ontvangers vastgepind voor deze bestemming"
            )
        ),
        PinCheck::Differs { .. } => format!(
            "<strong class=\"late\">{}</strong>",
            l.t(
                "A DIFFERENT SET THAN THE PINNED ONE (see the problems)",
                "ANDERE SLEUTELS DAN DE VASTGEPINDE (zie de problemen)"
            )
        ),
    };
    let _ = write!(
        p,
        "<dl class=\"facts\">\
         <dt>{received_l}</dt><dd>{received} <span class=\"help\">({written_l} {written})</span></dd>\
         <dt>{dest_l}</dt><dd>{dest}</dd>\
         <dt>{cat_l}</dt><dd>{cat}</dd>\
         <dt>{status_l}</dt><dd>{status}</dd>\
         <dt>{ack_l}</dt><dd>{ack}</dd>\
         <dt>{fb_l}</dt><dd>{fb}</dd>\
         <dt>{enc_l}</dt><dd>{pins}</dd>\
         <dt>{where_l}</dt><dd>{where_}</dd></dl>",
        received_l = l.t("Received", "Ontvangen"),
        received = report.manifest.summary.received,
        written_l = l.t("written", "geschreven"),
        written = content.date,
        dest_l = l.t("Destination", "Bestemming"),
        dest = esc(&report.opened.destination),
        cat_l = l.t("Category", "Categorie"),
        cat = l.category(content.category),
        status_l = l.t("Status", "Status"),
        status = status_cell(l, x.row),
        ack_l = l.t("Acknowledge by", "Bevestigen voor"),
        ack = deadline_cell(l, x.today, x.row.deadlines.acknowledge_by, l.t("done", "gedaan"), false),
        fb_l = l.t("Feedback by", "Terugkoppelen voor"),
        fb = deadline_cell(l, x.today, x.row.deadlines.feedback_by, "—", x.row.deadlines.estimated),
        enc_l = l.t("Encrypted to", "Versleuteld voor"),
        where_l = l.t("Encrypted by", "Versleuteld door"),
        where_ = match content.encrypted_by {
            EncryptedBy::Browser => l.t(
                "the reporter's browser (end to end)",
                "de browser van de melder (end-to-end)"
            ),
            EncryptedBy::Server => l.t(
                "THE SERVER, on arrival (the reporter's browser ran without JavaScript): the server saw this report's text",
                "DE SERVER, bij aankomst (de browser van de melder had geen JavaScript): de server zag de tekst"
            ),
        },
    );
    for (label, text) in [
        (l.t("Concerning", "Betreft"), &content.concerning),
        (
            l.t("What happened", "Wat er gebeurde"),
            &content.description,
        ),
        (
            l.t("When and where", "Wanneer en waar"),
            &content.when_where,
        ),
    ] {
        let _ = write!(p, "<h3>{label}</h3>{}", reporter_text(text));
    }
    p.push_str("</section>");

    // The contact details: behind a deliberate, recorded click.
    let _ = write!(
        p,
        "<section id=\"contact\" aria-labelledby=\"contact-h\"><h2 id=\"contact-h\">{}</h2>",
        l.t("Contact details", "Contactgegevens")
    );
    match opened.contact() {
        None => {
            let _ = write!(
                p,
                "<p>{}</p>",
                l.t(
                    "The reporter gave no contact details.",
                    "De melder gaf geen contactgegevens."
                )
            );
        }
        Some(contact) if x.revealed => {
            let _ = write!(
                p,
                "<p class=\"warning\">{warn}</p><p class=\"reporter-text identifying\" id=\"contact-details\">{c}</p>\
                 <form method=\"post\" action=\"/case/{case}/contact\"><input type=\"hidden\" name=\"show\" value=\"0\">\
                 <button type=\"submit\" id=\"hide-contact\">{hide}</button></form>",
                warn = l.t(
                    "IDENTIFYING: whoever sees this can learn who the reporter is. Do not copy it into the case file (EU Directive 2019/1937, Art. 16).",
                    "IDENTIFICEREND: wie dit ziet, kan weten wie de melder is. Neem het niet over in het dossier (EU-richtlijn 2019/1937, art. 16)."
                ),
                c = esc(contact),
                case = esc(case),
                hide = l.t("Hide the contact details", "Contactgegevens verbergen"),
            );
        }
        Some(_) => {
            let _ = write!(
                p,
                "<p>{gave}</p><form method=\"post\" action=\"/case/{case}/contact\">\
                 <input type=\"hidden\" name=\"show\" value=\"1\">\
                 <button type=\"submit\" id=\"show-contact\" aria-describedby=\"contact-note\">{show}</button></form>\
                 <p class=\"help\" id=\"contact-note\">{note}</p>",
                gave = l.t(
                    "The reporter gave contact details. They are hidden: they identify the reporter.",
                    "De melder gaf contactgegevens. Ze zijn verborgen: ze maken de melder herkenbaar."
                ),
                case = esc(case),
                show = l.t("Show the contact details", "Contactgegevens tonen"),
                note = l.t(
                    "Showing them is recorded in the bundle (access.jsonl): your key, this case and today's date.",
                    "Het tonen wordt vastgelegd in de bundel (access.jsonl): uw sleutel, deze zaak en de datum van vandaag."
                ),
            );
        }
    }
    if !x.accesses.is_empty() {
        let _ = write!(
            p,
            "<details><summary>{}</summary><ul class=\"accesses\">",
            esc(&match l {
                Lang::En => format!("Shown {} time(s) before", x.accesses.len()),
                Lang::Nl => format!("{} keer eerder getoond", x.accesses.len()),
            })
        );
        for a in x.accesses {
            let _ = write!(
                p,
                "<li>{} — {} ({})</li>",
                a.day,
                esc(&a.by.join(", ")),
                esc(&a.via)
            );
        }
        p.push_str("</ul></details>");
    }
    p.push_str("</section>");

    documents(&mut p, l, opened, &findings, x);
    conversation(&mut p, l, opened, &findings, x);
    actions(&mut p, l, opened, x);
    p
}

fn documents(
    p: &mut String,
    l: Lang,
    opened: &OpenedCase,
    findings: &[Finding],
    x: &CaseExtras<'_>,
) {
    let case = esc(opened.case().as_str());
    let _ = write!(
        p,
        "<section id=\"documents\" aria-labelledby=\"documents-h\"><h2 id=\"documents-h\">{} ({})</h2>",
        l.t("Documents", "Documenten"),
        opened.attachments.len()
    );
    if opened.attachments.is_empty() {
        let _ = write!(p, "<p>{}</p>", l.t("No documents.", "Geen documenten."));
        p.push_str("</section>");
        return;
    }
    if x.documents_waiting {
        let _ = write!(
            p,
            "<form method=\"post\" action=\"/case/{case}/check\"><p>{}</p><button type=\"submit\">{}</button></form>",
            l.t(
                "The documents are large, so they were not decrypted yet.",
                "De documenten zijn groot en zijn nog niet ontsleuteld."
            ),
            l.t("Decrypt and check the documents", "Documenten ontsleutelen en controleren"),
        );
    }
    let _ = write!(
        p,
        "<table class=\"documents\"><caption class=\"visually-hidden\">{cap}</caption><thead><tr>\
         <th scope=\"col\">#</th><th scope=\"col\">{name}</th><th scope=\"col\">{kind}</th>\
         <th scope=\"col\">{size}</th><th scope=\"col\">{check}</th><th scope=\"col\">{open}</th></tr></thead><tbody>",
        cap = l.t("The report's documents", "De documenten van de melding"),
        name = l.t("Name (as the reporter gave it)", "Naam (zoals de melder die gaf)"),
        kind = l.t("Type (from the name)", "Soort (naar de naam)"),
        size = l.t("Size", "Grootte"),
        check = l.t("Checked against the report", "Gecontroleerd tegen de melding"),
        open = l.t("Open", "Openen"),
    );
    for (i, a) in opened.attachments.iter().enumerate() {
        let n = i + 1;
        let check = match &a.check {
            AttachmentCheck::Saved { .. } => format!(
                "<span class=\"ok\">✓ {}</span>",
                l.t("verified", "geverifieerd")
            ),
            AttachmentCheck::Failed { .. } => format!(
                "<strong class=\"late\">✗ {}</strong>",
                l.t("NOT verified (see below)", "NIET geverifieerd (zie onder)")
            ),
            AttachmentCheck::NotChecked => {
                l.t("not checked yet", "nog niet gecontroleerd").to_owned()
            }
        };
        let open = if a.saved_as().is_some() {
            format!(
                "<a href=\"/case/{case}/doc/{n}\" download>{} <span class=\"visually-hidden\">{}</span></a>",
                l.t("Download", "Downloaden"),
                esc(&a.entry.name)
            )
        } else {
            "—".to_owned()
        };
        let _ = write!(
            p,
            "<tr id=\"doc-{n}\"><td>{n}</td><td class=\"name\">{name}</td><td>{kind}</td><td>{size}</td><td>{check}</td><td>{open}</td></tr>",
            name = esc(&crate::opened::printable(&a.entry.name)),
            kind = kind_of(l, &a.entry.name),
            size = size(a.entry.size),
        );
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.concern == Concern::Attachment(i))
            .collect();
        if !mine.is_empty() {
            let mut cell = String::new();
            findings_list(&mut cell, l, &mine, &format!("doc-{n}-findings"));
            let _ = write!(
                p,
                "<tr class=\"finding-row\"><td></td><td colspan=\"5\">{cell}</td></tr>"
            );
        }
    }
    p.push_str("</tbody></table>");
    let _ = write!(
        p,
        "<p class=\"help\">{note}</p>\
         <form method=\"post\" action=\"/case/{case}/save\" class=\"inline-form\">\
         <label for=\"save-folder\">{label}</label>\
         <input type=\"text\" id=\"save-folder\" name=\"folder\" required aria-describedby=\"save-help\">\
         <p class=\"help\" id=\"save-help\">{help}</p>\
         <button type=\"submit\" id=\"save-documents\">{button}</button></form>",
        note = l.t(
            "Documents can carry identifying metadata (author, device, location) and open in other programs: open them on this offline machine only.",
            "Documenten kunnen identificerende metadata bevatten (auteur, apparaat, locatie) en openen in andere programma's: open ze alleen op deze offline computer."
        ),
        label = l.t("Save the verified documents into a folder", "De geverifieerde documenten in een map opslaan"),
        help = l.t(
            "A full path, e.g. /home/you/cases. They go into FOLDER/CASE/attachments, as `meldpunt open` writes them; `meldpunt shred` can remove them later.",
            "Een volledig pad, bijv. /home/u/zaken. Ze komen in MAP/ZAAK/attachments, zoals `meldpunt open` ze schrijft; `meldpunt shred` kan ze later verwijderen."
        ),
        button = l.t("Save documents", "Documenten opslaan"),
    );
    p.push_str("</section>");
}

fn verified_words(l: Lang, direction: Direction) -> &'static str {
    match direction {
        Direction::FromReporter => l.t(
            "Verified: the reporter's signature, the MAC and its place in the thread",
            "Geverifieerd: de handtekening van de melder, de MAC en de plaats in het gesprek",
        ),
        Direction::ToReporter => l.t(
            "Verified: the MAC and its place in the thread",
            "Geverifieerd: de MAC en de plaats in het gesprek",
        ),
    }
}

fn who(l: Lang, direction: Direction) -> &'static str {
    match direction {
        Direction::FromReporter => l.t("From the reporter", "Van de melder"),
        Direction::ToReporter => l.t("From the bureau", "Van het bureau"),
    }
}

fn message_item(p: &mut String, l: Lang, i: usize, item: &ThreadItem, findings: &[Finding]) {
    let n = i + 1;
    // The failure itself is shown as the message's verdict; any other finding about
    // the message is listed under it.
    let failure = item.result.as_ref().err().map(|why| why.text.as_str());
    let mine: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.concern == Concern::Message(i))
        .filter(|f| failure.is_none_or(|t| !f.text.ends_with(t)))
        .collect();
    match &item.result {
        Ok(m) => {
            let side = match m.direction {
                Direction::FromReporter => "from-reporter",
                Direction::ToReporter => "to-reporter",
            };
            let _ = write!(
                p,
                "<li class=\"msg {side} verified\" id=\"msg-{n}\"><p class=\"msg-head\"><span class=\"num\">{n}.</span> \
                 <strong>{who}</strong> · {date}</p><p class=\"badge ok\">✓ {ver}</p>",
                who = who(l, m.direction),
                date = m.date,
                ver = verified_words(l, m.direction),
            );
            if let Some(s) = m.status {
                let _ = write!(
                    p,
                    "<p class=\"help\">{} <strong>{}</strong></p>",
                    l.t("Announces the status:", "Kondigt de status aan:"),
                    l.status(s)
                );
            }
            p.push_str(&reporter_text(&m.text));
        }
        Err(why) => {
            let _ = write!(
                p,
                "<li class=\"msg unverified\" id=\"msg-{n}\"><p class=\"msg-head\"><span class=\"num\">{n}.</span> \
                 <strong>{head}</strong> · <code>{file}</code></p>\
                 <p class=\"badge late\">✗ {failed}: <strong>{what}</strong></p><p>{text}</p>\
                 <p class=\"help\">{never}</p>",
                head = l.t("NOT VERIFIED", "NIET GEVERIFIEERD"),
                file = esc(&item.file.to_path()),
                failed = l.t("What failed", "Wat faalde"),
                what = what_failed(l, &why.reason),
                text = esc(&why.text),
                never = l.t(
                    "Its text is not shown: it cannot be trusted to be from the reporter or the bureau.",
                    "De tekst wordt niet getoond: niet te vertrouwen dat die van de melder of het bureau is."
                ),
            );
        }
    }
    findings_list(p, l, &mine, &format!("msg-{n}-findings"));
    p.push_str("</li>");
}

fn conversation(
    p: &mut String,
    l: Lang,
    opened: &OpenedCase,
    findings: &[Finding],
    x: &CaseExtras<'_>,
) {
    let thread = &opened.thread;
    let _ = write!(
        p,
        "<section id=\"conversation\" aria-labelledby=\"conversation-h\"><h2 id=\"conversation-h\">{} </h2><p>{}</p>",
        l.t("Conversation", "Gesprek"),
        esc(&match l {
            Lang::En => format!(
                "{} of {} message(s) verified.",
                thread.verified(),
                thread.items.len()
            ),
            Lang::Nl => format!(
                "{} van {} bericht(en) geverifieerd.",
                thread.verified(),
                thread.items.len()
            ),
        })
    );
    let thread_findings: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.concern == Concern::Thread)
        .collect();
    findings_list(p, l, &thread_findings, "thread-findings");
    p.push_str("<ol class=\"thread\" id=\"thread\">");
    for (i, item) in thread.items.iter().enumerate() {
        message_item(p, l, i, item, findings);
    }
    p.push_str("</ol>");
    let pending: Vec<&Outgoing> = x
        .outgoing
        .iter()
        .filter(|o| match o.item {
            Item::Message { .. } => !o.in_thread,
            Item::Status { .. } => o.item.state() != ItemState::Sent,
        })
        .collect();
    if !pending.is_empty() {
        let _ = write!(
            p,
            "<h3 id=\"outgoing\">{}</h3><ul class=\"thread outgoing\">",
            l.t(
                "Written here, not yet in the pulled thread",
                "Hier geschreven, nog niet in het opgehaalde gesprek"
            )
        );
        for o in pending {
            let state = match o.item.state() {
                ItemState::Queued => format!(
                    "<span class=\"tag waiting\">{}</span>",
                    l.t("waiting to be sent", "wacht op verzending")
                ),
                ItemState::Sent => format!(
                    "<span class=\"tag\">{}</span>",
                    l.t(
                        "sent; pull to see it in the thread",
                        "verzonden; haal op om het in het gesprek te zien"
                    )
                ),
                ItemState::Stale => format!(
                    "<span class=\"tag late\">{}</span>",
                    l.t(
                        "stale: will not be sent (the thread moved on)",
                        "verouderd: wordt niet verzonden (het gesprek ging verder)"
                    )
                ),
            };
            match &o.item {
                Item::Message { queued, .. } => {
                    let _ = write!(
                        p,
                        "<li class=\"msg to-reporter pending\"><p class=\"msg-head\"><strong>{}</strong> · {queued} {state}</p>",
                        l.t("Message to the reporter", "Bericht aan de melder")
                    );
                    match &o.message {
                        Some((text, status)) => {
                            if let Some(s) = status {
                                let _ = write!(
                                    p,
                                    "<p class=\"help\">{} <strong>{}</strong></p>",
                                    l.t("Announces the status:", "Kondigt de status aan:"),
                                    l.status(*s)
                                );
                            }
                            p.push_str(&reporter_text(text));
                        }
                        None => {
                            let _ = write!(
                                p,
                                "<p class=\"help\">{}</p>",
                                l.t(
                                    "Your key cannot read it back (it is not among the pinned recipients).",
                                    "Uw sleutel kan het niet teruglezen (hij staat niet bij de vastgepinde ontvangers)."
                                )
                            );
                        }
                    }
                    p.push_str("</li>");
                }
                Item::Status { status, queued, .. } => {
                    let _ = write!(
                        p,
                        "<li class=\"msg status-change pending\"><p class=\"msg-head\"><strong>{} “{}”</strong> · {queued} {state}</p></li>",
                        l.t("Status change to", "Statuswijziging naar"),
                        l.status(*status)
                    );
                }
            }
        }
        p.push_str("</ul>");
    }
    p.push_str("</section>");
}

fn status_options(p: &mut String, l: Lang, selected: Option<CaseStatus>, with_none: bool) {
    if with_none {
        let _ = write!(
            p,
            "<option value=\"\"{}>{}</option>",
            if selected.is_none() { " selected" } else { "" },
            l.t("(no status change)", "(geen statuswijziging)")
        );
    }
    for s in [
        CaseStatus::Acknowledged,
        CaseStatus::Investigating,
        CaseStatus::Closed,
    ] {
        let _ = write!(
            p,
            "<option value=\"{}\"{}>{}</option>",
            s.as_str(),
            if selected == Some(s) { " selected" } else { "" },
            l.status(s)
        );
    }
}

fn actions(p: &mut String, l: Lang, opened: &OpenedCase, x: &CaseExtras<'_>) {
    let case = esc(opened.case().as_str());
    let received = opened.report.manifest.summary.received.to_string();
    // Answer.
    let _ = write!(
        p,
        "<section id=\"composer\" aria-labelledby=\"composer-h\"><h2 id=\"composer-h\">{}</h2>",
        l.t("Answer the reporter", "De melder antwoorden")
    );
    match &x.reply {
        Err(why) => {
            let _ = write!(p, "<p class=\"error-box\" id=\"no-reply\">{}</p>", esc(why));
        }
        Ok(number) => {
            let _ = write!(
                p,
                "<p class=\"help\">{}</p>",
                esc(&match l {
                    Lang::En => format!(
                        "This becomes message {number} of the thread, encrypted to the reporter and the pinned recipients of “{}”. It waits in the outbox until `meldpunt push` sends it.",
                        opened.report.opened.destination
                    ),
                    Lang::Nl => format!(
                        "Dit wordt bericht {number} van het gesprek, versleuteld voor de melder en de vastgepinde ontvangers van “{}”. Het wacht in de uitgaande berichten tot `meldpunt push` het verstuurt.",
                        opened.report.opened.destination
                    ),
                })
            );
            // Templates: without JavaScript they reload the page with the text filled in.
            let _ = write!(
                p,
                "<form method=\"get\" action=\"/case/{case}\" class=\"templates\" id=\"templates\"><fieldset><legend>{}</legend>",
                l.t("Start from a template", "Begin met een sjabloon")
            );
            for t in &TEMPLATES {
                let _ = write!(
                    p,
                    "<button type=\"submit\" name=\"template\" value=\"{id}\" data-template=\"{id}\" \
                     data-status=\"{status}\">{label}</button>",
                    id = t.id,
                    status = t.status.map_or("", |s| s.as_str()),
                    label = l.t(t.label.0, t.label.1),
                );
            }
            p.push_str("</fieldset></form>");
            for t in &TEMPLATES {
                let _ = write!(
                    p,
                    "<template id=\"template-{}\">{}</template>",
                    t.id,
                    esc(&t.text.replace("{received}", &received))
                );
            }
            let _ = write!(
                p,
                "<form method=\"post\" action=\"/case/{case}/reply\" id=\"reply-form\">\
                 <label for=\"reply-text\">{label}</label>\
                 <textarea id=\"reply-text\" name=\"text\" rows=\"12\" required>{draft}</textarea>\
                 <label for=\"reply-status\">{status_l}</label><select id=\"reply-status\" name=\"status\">",
                label = l.t("Message to the reporter", "Bericht aan de melder"),
                draft = esc(x.draft.unwrap_or("")),
                status_l = l.t("Announce a status with it", "Kondig er een status mee aan"),
            );
            status_options(p, l, x.draft_status, true);
            let _ = write!(
                p,
                "</select><p class=\"help\">{help}</p><button type=\"submit\" class=\"primary\" id=\"send-reply\">{b}</button></form>",
                help = l.t(
                    "Never write the reporter's identity or contact details here. The message is signed with the case's thread key; the reporter sees it verified.",
                    "Schrijf hier nooit de identiteit of contactgegevens van de melder. Het bericht wordt ondertekend met de gesprekssleutel van de zaak; de melder ziet het geverifieerd."
                ),
                b = l.t("Put in the outbox", "In de uitgaande berichten zetten"),
            );
        }
    }
    p.push_str("</section>");

    // Status.
    let _ = write!(
        p,
        "<section id=\"status\" aria-labelledby=\"status-h\"><h2 id=\"status-h\">{h}</h2>\
         <form method=\"post\" action=\"/case/{case}/status\"><label for=\"new-status\">{label}</label>\
         <select id=\"new-status\" name=\"status\">",
        h = l.t("Change the status", "Status wijzigen"),
        label = l.t("New status", "Nieuwe status"),
    );
    status_options(p, l, None, false);
    let _ = write!(
        p,
        "</select><p class=\"help\">{help}</p><button type=\"submit\" id=\"queue-status\">{b}</button></form></section>",
        help = l.t(
            "Queued in the outbox for `meldpunt push`. To tell the reporter too, announce it with a message above.",
            "Komt in de uitgaande berichten voor `meldpunt push`. Wilt u het de melder ook laten weten, kondig het dan aan met een bericht hierboven."
        ),
        b = l.t("Queue the status change", "Statuswijziging klaarzetten"),
    );

    // Export.
    let _ = write!(
        p,
        "<section id=\"export\" aria-labelledby=\"export-h\"><h2 id=\"export-h\">{h}</h2><p>{intro}</p>",
        h = l.t("A copy for colleagues", "Een kopie voor collega's"),
        intro = l.t(
            "A printable copy of the report and the conversation without the reporter's identity.",
            "Een afdrukbare kopie van de melding en het gesprek zonder de identiteit van de melder."
        ),
    );
    left_out(p, l);
    let _ = write!(
        p,
        "<p><a href=\"/case/{case}/export\" id=\"export-view\">{view}</a> · \
         <a href=\"/case/{case}/export.html\" download id=\"export-download\">{download}</a></p>\
         <form method=\"post\" action=\"/case/{case}/export\"><label for=\"export-folder\">{label}</label>\
         <input type=\"text\" id=\"export-folder\" name=\"folder\" required aria-describedby=\"export-help\">\
         <p class=\"help\" id=\"export-help\">{help}</p>\
         <button type=\"submit\" id=\"export-save\">{b}</button></form></section>",
        view = l.t("Show the printable copy (print it, or save it as PDF)", "Afdrukbare kopie tonen (afdrukken, of als pdf bewaren)"),
        download = l.t("Download the copy (HTML)", "Kopie downloaden (HTML)"),
        label = l.t("Or save the copy into a folder", "Of de kopie in een map opslaan"),
        help = l.t(
            "A full path. The copy goes into FOLDER/CASE/.",
            "Een volledig pad. De kopie komt in MAP/ZAAK/."
        ),
        b = l.t("Save the copy", "Kopie opslaan"),
    );

    // Shred.
    let _ = write!(
        p,
        "<section id=\"shred\" aria-labelledby=\"shred-h\"><h2 id=\"shred-h\">{h}</h2><p>{intro}</p>\
         <form method=\"post\" action=\"/case/{case}/shred\">\
         <label for=\"shred-confirm\">{confirm}</label>\
         <input type=\"text\" id=\"shred-confirm\" name=\"confirm\" autocomplete=\"off\" required>\
         <label for=\"shred-out\">{out}</label><input type=\"text\" id=\"shred-out\" name=\"out\" aria-describedby=\"shred-out-help\">\
         <p class=\"help\" id=\"shred-out-help\">{out_help}</p>\
         <label class=\"choice\"><input type=\"checkbox\" name=\"force\" value=\"1\"> {force}</label>\
         <button type=\"submit\" class=\"danger\" id=\"shred-case\">{b}</button></form></section>",
        h = l.t("Shred the case", "Zaak vernietigen"),
        intro = l.t(
            "When the retention period ends: removes the case from the bundle and the outbox (and a decrypted folder, overwritten first). `meldpunt pull` will not fetch it again.",
            "Als de bewaartermijn voorbij is: verwijdert de zaak uit de bundel en de uitgaande berichten (en een ontsleutelde map, eerst overschreven). `meldpunt pull` haalt haar niet opnieuw op."
        ),
        confirm = esc(&match l {
            Lang::En => format!("Type the case number ({}) to confirm", opened.case()),
            Lang::Nl => format!("Typ het zaaknummer ({}) ter bevestiging", opened.case()),
        }),
        out = l.t("Decrypted folder to shred too (optional)", "Ontsleutelde map om ook te vernietigen (optioneel)"),
        out_help = l.t(
            "The FOLDER you saved documents or copies into (FOLDER/CASE is removed).",
            "De MAP waarin u documenten of kopieën opsloeg (MAP/ZAAK wordt verwijderd)."
        ),
        force = l.t(
            "Also shred messages and status changes that were never sent",
            "Ook berichten en statuswijzigingen vernietigen die nooit zijn verzonden"
        ),
        b = l.t("Shred this case", "Deze zaak vernietigen"),
    );
}

fn left_out(p: &mut String, l: Lang) {
    let items = match l {
        Lang::En => export::LEFT_OUT.map(str::to_owned),
        Lang::Nl => [
            "de contactgegevens van de melder".to_owned(),
            "de sleutels van de melder en de gesprekssleutel".to_owned(),
            "de sleutels waarvoor de melding versleuteld is".to_owned(),
            "de documenten zelf (alleen hun namen en grootte)".to_owned(),
        ],
    };
    let _ = write!(
        p,
        "<p><strong>{}</strong></p><ul class=\"left-out\">",
        l.t("Left out:", "Weggelaten:")
    );
    for i in items {
        let _ = write!(p, "<li>{}</li>", esc(&i));
    }
    let still_in = match l {
        Lang::En => export::STILL_IN,
        Lang::Nl => "de eigen woorden van de melder, de namen van de documenten en het gesprek kunnen nog steeds verraden wie de melder is: lees de kopie voordat u die deelt",
    };
    let mut chars = still_in.chars();
    let sentence: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".")
        .unwrap_or_default();
    let _ = write!(p, "</ul><p class=\"warning\">{}</p>", esc(&sentence));
}

/// The copy for colleagues: a page of its own, printable. `standalone` inlines the
/// stylesheet (a file saved or downloaded loads nothing either).
pub fn export_page(l: Lang, s: &Shareable<'_>, css: &str, standalone: bool) -> Zeroizing<String> {
    let mut p = Zeroizing::new(String::with_capacity(16 * 1024));
    let _ = write!(
        p,
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        code = l.code()
    );
    if standalone {
        let _ = write!(
            p,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
             <style>{css}</style>"
        );
    } else {
        p.push_str("<link rel=\"stylesheet\" href=\"/static/desk.css\"><script src=\"/static/desk.js\" defer></script>");
    }
    let _ = write!(
        p,
        "<title>{title} {case}</title></head><body class=\"export\"><main id=\"main\">",
        title = l.t("For colleagues: case", "Voor collega's: zaak"),
        case = esc(s.case.as_str()),
    );
    if !standalone {
        let _ = write!(
            p,
            "<p class=\"no-print\"><a href=\"/case/{case}\">{back}</a> <button type=\"button\" id=\"print\" hidden>{print}</button></p>",
            case = esc(s.case.as_str()),
            back = l.t("← Back to the case", "← Terug naar de zaak"),
            print = l.t("Print or save as PDF", "Afdrukken of als pdf bewaren"),
        );
    }
    let _ = write!(
        p,
        "<h1>{h} {case}</h1><p class=\"stamp\">{stamp}</p>",
        h = l.t("Case", "Zaak"),
        case = esc(s.case.as_str()),
        stamp = l.t(
            "Copy for colleagues — without the reporter's identity. Confidential.",
            "Kopie voor collega's — zonder de identiteit van de melder. Vertrouwelijk."
        ),
    );
    left_out(&mut p, l);
    if s.contact_left_out {
        let _ = write!(
            p,
            "<p>{}</p>",
            l.t(
                "The reporter gave contact details; they are not in this copy.",
                "De melder gaf contactgegevens; die staan niet in deze kopie."
            )
        );
    }
    if !s.problems.is_empty() {
        let _ = write!(
            p,
            "<section class=\"error-box\"><h2>{}</h2><ul>",
            l.t(
                "Problems found when verifying",
                "Problemen bij het verifiëren"
            )
        );
        for pr in &s.problems {
            let _ = write!(p, "<li>{}</li>", esc(pr));
        }
        p.push_str("</ul></section>");
    }
    let _ = write!(
        p,
        "<h2>{rep}</h2><dl class=\"facts\"><dt>{rl}</dt><dd>{received} ({wl} {written})</dd>\
         <dt>{dl}</dt><dd>{dest}</dd><dt>{cl}</dt><dd>{cat}</dd><dt>{sl}</dt><dd>{status}</dd>\
         <dt>{el}</dt><dd>{enc}</dd></dl>",
        rep = l.t("Report", "Melding"),
        rl = l.t("Received", "Ontvangen"),
        received = s.received,
        wl = l.t("written", "geschreven"),
        written = s.written,
        dl = l.t("Destination", "Bestemming"),
        dest = esc(s.destination),
        cl = l.t("Category", "Categorie"),
        cat = l.category(s.category),
        sl = l.t("Status on the server", "Status op de server"),
        status = l.status(s.status),
        el = l.t("Encrypted by", "Versleuteld door"),
        enc = match s.encrypted_by {
            EncryptedBy::Browser => l.t("the reporter's browser", "de browser van de melder"),
            EncryptedBy::Server => l.t("the server, on arrival", "de server, bij aankomst"),
        },
    );
    for (label, text) in [
        (l.t("Concerning", "Betreft"), s.concerning),
        (l.t("What happened", "Wat er gebeurde"), s.description),
        (l.t("When and where", "Wanneer en waar"), s.when_where),
    ] {
        let _ = write!(p, "<h3>{label}</h3>{}", reporter_text(text));
    }
    let _ = write!(p, "<h2>{}</h2>", l.t("Documents", "Documenten"));
    if s.documents.is_empty() {
        let _ = write!(p, "<p>{}</p>", l.t("No documents.", "Geen documenten."));
    } else {
        p.push_str("<ol>");
        for d in &s.documents {
            let _ = write!(
                p,
                "<li>{} — {}{}</li>",
                esc(&crate::opened::printable(d.name)),
                size(d.size),
                match d.verified {
                    Some(true) => format!(", {}", l.t("verified", "geverifieerd")),
                    Some(false) => format!(", {}", l.t("NOT verified", "NIET geverifieerd")),
                    None => String::new(),
                }
            );
        }
        p.push_str("</ol>");
    }
    let _ = write!(p, "<h2>{}</h2>", l.t("Conversation", "Gesprek"));
    if s.messages.is_empty() {
        let _ = write!(
            p,
            "<p>{}</p>",
            l.t("No messages yet.", "Nog geen berichten.")
        );
    }
    p.push_str("<ol class=\"thread\">");
    for m in &s.messages {
        match &m.content {
            Ok(t) => {
                let _ = write!(
                    p,
                    "<li class=\"msg {side}\"><p class=\"msg-head\"><strong>{who}</strong> · {date} · {ver}{status}</p>{text}</li>",
                    side = if t.direction == Direction::FromReporter { "from-reporter" } else { "to-reporter" },
                    who = who(l, t.direction),
                    date = t.date,
                    ver = l.t("verified", "geverifieerd"),
                    status = t.status.map_or(String::new(), |s| format!(" · {} {}", l.t("status:", "status:"), l.status(s))),
                    text = reporter_text(t.text),
                );
            }
            Err(why) => {
                let _ = write!(
                    p,
                    "<li class=\"msg unverified\"><p class=\"msg-head\"><strong>{} {}</strong></p><p>{}</p></li>",
                    m.number,
                    l.t("NOT VERIFIED", "NIET GEVERIFIEERD"),
                    esc(why)
                );
            }
        }
    }
    p.push_str("</ol></main></body></html>\n");
    p
}

/// The outbox: everything queued, sent and stale, for every case.
pub fn outbox(l: Lang, items: &[Item], bundle: &str) -> String {
    let mut p = String::new();
    let _ = write!(
        p,
        "<h1>{h}</h1><p>{intro}</p><pre class=\"command\"><code>meldpunt push --server URL --token-file TOKEN_FILE {bundle}</code></pre>",
        h = l.t("Outbox", "Uitgaande berichten"),
        intro = l.t(
            "The desk makes no connection. What waits here is sent by `meldpunt push` on a machine that is online:",
            "Het bureau maakt geen verbinding. Wat hier wacht, verstuurt `meldpunt push` op een computer die online is:"
        ),
        bundle = esc(bundle),
    );
    if items.is_empty() {
        let _ = write!(
            p,
            "<p>{}</p>",
            l.t("The outbox is empty.", "Er staat niets klaar.")
        );
        return p;
    }
    let _ = write!(
        p,
        "<table id=\"outbox\"><caption class=\"visually-hidden\">{cap}</caption><thead><tr><th scope=\"col\">{c}</th><th scope=\"col\">{w}</th><th scope=\"col\">{q}</th><th scope=\"col\">{s}</th></tr></thead><tbody>",
        cap = l.t("The outbox", "Uitgaande berichten"),
        c = l.t("Case", "Zaak"),
        w = l.t("What", "Wat"),
        q = l.t("Written", "Geschreven"),
        s = l.t("State", "Toestand"),
    );
    for item in items.iter().rev() {
        let (what, queued, sent) = match item {
            Item::Message {
                file, queued, sent, ..
            } => (
                format!("{} <code>{}</code>", l.t("message", "bericht"), esc(file)),
                *queued,
                *sent,
            ),
            Item::Status {
                status,
                queued,
                sent,
                ..
            } => (
                format!(
                    "{} “{}”",
                    l.t("status change to", "statuswijziging naar"),
                    l.status(*status)
                ),
                *queued,
                *sent,
            ),
        };
        let state = match item.state() {
            ItemState::Queued => format!(
                "<span class=\"tag waiting\">{}</span>",
                l.t("waiting to be sent", "wacht op verzending")
            ),
            ItemState::Sent => format!(
                "{} {}",
                l.t("sent", "verzonden"),
                sent.map(|d| d.to_string()).unwrap_or_default()
            ),
            ItemState::Stale => format!(
                "<span class=\"tag late\">{}</span>",
                l.t("stale: will not be sent", "verouderd: wordt niet verzonden")
            ),
        };
        let case = esc(item.case().as_str());
        let _ = write!(
            p,
            "<tr><td><a href=\"/case/{case}\">{case}</a></td><td>{what}</td><td>{queued}</td><td>{state}</td></tr>"
        );
    }
    p.push_str("</tbody></table>");
    p
}

/// The page after quitting.
pub fn stopped(l: Lang) -> String {
    format!(
        "<h1>{}</h1><p>{}</p>",
        l.t("The desk has stopped", "Het bureau is gestopt"),
        l.t(
            "The key was wiped. You can close this window; start `meldpunt desk` again to go on.",
            "De sleutel is gewist. U kunt dit venster sluiten; start `meldpunt desk` opnieuw om verder te gaan."
        )
    )
}

/// An error page's content.
pub fn problem(l: Lang, text: &str) -> String {
    format!(
        "<p class=\"crumbs\"><a href=\"/\">{}</a></p><h1>{}</h1><p class=\"error-box\" role=\"alert\">{}</p>",
        l.t("← All cases", "← Alle zaken"),
        l.t("That did not work", "Dat lukte niet"),
        esc(text)
    )
}

/// A link to a case page, escaped.
pub fn case_path(case: &str) -> String {
    format!("/case/{}", encode(case))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opened::open_case;
    use crate::testkit::{day, Kit};

    #[test]
    fn a_case_page_shows_every_finding_beside_what_it_concerns_and_escapes_everything() {
        let mut kit = Kit::with_contact(false, Some("<b>Jan</b> 06-12345678"));
        kit.bureau_says("<script>alert(1)</script>");
        let mut bad = kit.bureau_says("second");
        let last = bad.len() - 1;
        bad[last] ^= 1;
        std::fs::write(
            kit.bundle.case_file(
                &kit.case,
                meldpunt_wire::CaseFile::Message(2, Direction::ToReporter),
            ),
            &bad,
        )
        .unwrap();
        let opened = open_case(&kit.bundle, &kit.case, &kit.keys).unwrap();
        let row = CaseRow::new(
            kit.bundle.case_manifest(&kit.case).unwrap().summary,
            &crate::outbox::Outbox::default(),
            day(),
        );
        let mut x = CaseExtras {
            today: day(),
            row: &row,
            revealed: false,
            accesses: &[],
            outgoing: &[],
            reply: Err("no".into()),
            draft: None,
            draft_status: None,
            documents_waiting: false,
        };
        for l in [Lang::En, Lang::Nl] {
            let page = case_view(l, &opened, &x);
            assert!(!page.contains("<script>alert"), "escaped");
            assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(!page.contains("06-12345678"), "contact hidden until asked");
            assert!(page.contains("id=\"show-contact\""));
            // The not-pinned warning by the report, the failed message in its place.
            assert!(page.contains("id=\"report-findings\""));
            assert!(page.contains("<li class=\"msg unverified\" id=\"msg-2\">"));
            // Its failure is its verdict, not repeated as a finding under it.
            assert!(!page.contains("id=\"msg-2-findings\""));
            assert_eq!(page.matches("thread/0002-to_reporter.age: ").count(), 1);
            assert!(page.contains(l.t("What failed", "Wat faalde")));
            assert_eq!(
                page.matches("class=\"msg to-reporter verified\"").count(),
                1
            );
        }
        x.revealed = true;
        let page = case_view(Lang::En, &opened, &x);
        assert!(page.contains("&lt;b&gt;Jan&lt;/b&gt; 06-12345678"));
    }

    #[test]
    fn the_export_holds_no_contact_details() {
        let mut kit = Kit::with_contact(true, Some("Jan, 06-12345678"));
        kit.reporter_says("More details.");
        let opened = open_case(&kit.bundle, &kit.case, &kit.keys).unwrap();
        let shared = export::shareable(&opened);
        for standalone in [false, true] {
            let page = export_page(Lang::En, &shared, "body{}", standalone);
            assert!(page.contains("Invoices paid twice."));
            assert!(page.contains("More details."));
            assert!(!page.contains("06-12345678"));
            assert!(page.contains("the reporter&#39;s contact details"));
            assert_eq!(page.contains("<style>body{}</style>"), standalone);
        }
    }

    #[test]
    fn sizes_and_kinds_in_words() {
        assert_eq!(size(10), "10 B");
        assert_eq!(size(2048), "2.0 KiB");
        assert_eq!(size(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(kind_of(Lang::En, "a.PDF"), "PDF document (.pdf)");
        assert_eq!(kind_of(Lang::Nl, "x"), "onbekend");
        assert_eq!(kind_of(Lang::En, "x.<b>"), "unknown (.&lt;b&gt;)");
    }
}
