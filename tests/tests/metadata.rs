//! Hidden data in documents, end to end, against a real server process; the bureau
//! decrypts with the real `meldpunt` tool. Three ways in, each in headless Chromium:
//! the report page at the WebAssembly tier (English), the same page in Chromium without
//! JIT, so without WebAssembly (the wasm2js tier, Dutch, one document kept as it was),
//! and the no-JavaScript form (the server removes the data in memory). Four documents
//! made by real producers (`metadata/tests/fixtures`, scripts/make-metadata-fixtures.sh):
//! a JPEG with GPS and an artist, a DOCX with an author and tracked changes, a PDF with
//! `/Author` and XMP, an ODT with `meta.xml`. exiftool, the independent reader, first sees
//! the fields in the originals, then none of them in the saved files; the visible content
//! is unchanged (JPEG pixels, PDF page content streams, DOCX text runs, ODT text); the
//! signed report records which kinds were removed, or that the original was kept, never
//! the values.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use meldpunt_tests::browser::{self, Browser};
use meldpunt_tests::{Investigator, Site};
use serde_json::{json, Value};

/// Each fixture, the exiftool tags it must lose and the names that must go with them.
const DOCUMENTS: [(&str, &[&str], &[&str]); 4] = [
    (
        "photo.jpg",
        &[
            "IFD0:Artist",
            "ExifIFD:OwnerName",
            "ExifIFD:SerialNumber",
            "GPS:GPSLatitude",
            "GPS:GPSLongitude",
            "XMP-dc:Creator",
        ],
        &["Jan Jansen"],
    ),
    (
        "memo.docx",
        &[
            "XMP-dc:Creator",
            "XML:LastModifiedBy",
            "XML:Template",
            "XML:TotalEditTime",
        ],
        &["Jan Jansen", "Piet Pietersen"],
    ),
    (
        "memo.pdf",
        &[
            "PDF:Author",
            "PDF:Creator",
            "PDF:Producer",
            "XMP-dc:Creator",
            "XMP-xmp:CreatorTool",
        ],
        &["Jan Jansen"],
    ),
    (
        "memo.odt",
        &[
            "XMP-meta:Initial-creator",
            "XMP-dc:Creator",
            "XMP-meta:Editing-duration",
            "XMP-meta:Printed-by",
        ],
        &["Jan Jansen", "Piet Pietersen"],
    ),
];

/// Names inside the Office files that exiftool does not read: tracked-change and
/// comment authors.
const NAMES_INSIDE: [(&str, &[&str]); 2] = [
    ("memo.docx", &["Klaas Klaassen", "Marie Maas"]),
    ("memo.odt", &["Klaas Klaassen", "Marie Maas"]),
];

fn fixture(name: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../metadata/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// `exiftool -j -G1 -a FILE`: "Group:Tag" → value.
fn exiftool(path: &Path) -> serde_json::Map<String, Value> {
    let output = Command::new("exiftool")
        .args(["-j", "-G1", "-a"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "exiftool is the independent checker of these tests ({e}): run scripts/test.sh, \
                 or apt-get install libimage-exiftool-perl libarchive-zip-perl"
            )
        });
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "exiftool printed no JSON for {} ({e}): {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    match json {
        Value::Array(mut items) if !items.is_empty() => match items.remove(0) {
            Value::Object(map) => map,
            other => panic!("exiftool: {other}"),
        },
        other => panic!("exiftool: {other}"),
    }
}

fn metadata_text(tags: &serde_json::Map<String, Value>) -> String {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("System:") && *k != "SourceFile")
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

fn members(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

fn all_members_text(bytes: &[u8]) -> String {
    members(bytes)
        .into_values()
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .collect()
}

/// The text content of an XML part, without the elements that name people or times
/// (`dc:creator`, `dc:date`: the authors of tracked changes and comments, which
/// cleaning replaces).
fn xml_text(xml: &[u8], element: Option<&str>) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Vec::new();
    let mut skip = 0usize;
    let mut inside = element.is_none();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                if name == "dc:creator" || name == "dc:date" {
                    skip += 1;
                }
                if element.is_some_and(|el| name == el) {
                    inside = true;
                    out.push(String::new());
                }
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_owned();
                if name == "dc:creator" || name == "dc:date" {
                    skip = skip.saturating_sub(1);
                }
                if element.is_some_and(|el| name == el) {
                    inside = false;
                }
            }
            Event::Text(t) if inside && skip == 0 => {
                let text = t.xml10_content().into_owned();
                match out.last_mut() {
                    Some(last) if element.is_some() => last.push_str(&text),
                    _ => out.push(text),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn pdf_page_contents(bytes: &[u8]) -> Vec<Vec<u8>> {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    doc.get_pages()
        .values()
        .map(|&page| {
            doc.get_page_contents(page)
                .iter()
                .flat_map(|id| {
                    doc.get_object(*id)
                        .unwrap()
                        .as_stream()
                        .unwrap()
                        .content
                        .clone()
                })
                .collect()
        })
        .collect()
}

/// The visible content of a document, to compare before and after.
fn visible(name: &str, bytes: &[u8]) -> Vec<Vec<u8>> {
    match name {
        "photo.jpg" => vec![jpeg_decoder::Decoder::new(bytes).decode().unwrap()],
        "memo.pdf" => pdf_page_contents(bytes),
        "memo.docx" => {
            let doc = &members(bytes)["word/document.xml"];
            xml_text(doc, Some("w:t"))
                .into_iter()
                .map(String::into_bytes)
                .collect()
        }
        "memo.odt" => {
            let content = &members(bytes)["content.xml"];
            xml_text(content, None)
                .into_iter()
                .map(String::into_bytes)
                .collect()
        }
        other => panic!("no visible content for {other}"),
    }
}

/// Writes the fixtures for the browser to pick, checking first that exiftool sees every
/// field in them (so that its silence later means something).
fn originals(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for (name, tags, strings) in DOCUMENTS {
        let path = dir.join(name);
        fs::write(&path, fixture(name)).unwrap();
        let found = exiftool(&path);
        for tag in tags {
            assert!(
                found.contains_key(*tag),
                "{name}: exiftool should see {tag} in the original"
            );
        }
        let text = metadata_text(&found);
        for s in strings {
            assert!(text.contains(s), "{name}: {s} in the original's metadata");
        }
        paths.push(path);
    }
    for (name, inside) in NAMES_INSIDE {
        let all = all_members_text(&fixture(name));
        for n in inside {
            assert!(all.contains(n), "{name}: {n} inside the original");
        }
    }
    for (name, _, _) in DOCUMENTS {
        assert!(!visible(name, &fixture(name)).is_empty(), "{name}");
    }
    paths
}

/// The file has none of the fixture's identifying fields (exiftool, and the names inside
/// Office files), and its visible content is the original's.
fn assert_clean(name: &str, path: &Path) {
    let (_, tags, strings) = DOCUMENTS.iter().find(|(n, _, _)| *n == name).unwrap();
    let found = exiftool(path);
    for tag in *tags {
        assert!(
            !found.contains_key(*tag),
            "{}: exiftool still sees {tag}: {:?}",
            path.display(),
            found.get(*tag)
        );
    }
    let text = metadata_text(&found);
    for s in *strings {
        assert!(
            !text.contains(s),
            "{}: {s} still in:\n{text}",
            path.display()
        );
    }
    let bytes = fs::read(path).unwrap();
    if let Some((_, inside)) = NAMES_INSIDE.iter().find(|(n, _)| *n == name) {
        let all = all_members_text(&bytes);
        for n in *inside {
            assert!(!all.contains(n), "{}: {n} still inside", path.display());
        }
    }
    assert_eq!(
        visible(name, &bytes),
        visible(name, &fixture(name)),
        "{name}: the visible content changed"
    );
}

/// The record the signed report keeps about the document `name` (report.json).
fn record(report: &Value, name: &str) -> Value {
    report["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))["metadata_record"]
        .clone()
}

fn removed(report: &Value, name: &str) -> Vec<String> {
    let r = record(report, name);
    assert_eq!(r["kept_original"], false, "{name}: {r}");
    assert_eq!(r["checked"], true, "{name}: {r}");
    r["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_removes_hidden_data_when_javascript_is_off() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let work = tempfile::tempdir().unwrap();
    let files = originals(work.path());
    let b = browser::start_with(
        &[],
        json!({"profile.managed_default_content_settings.javascript": 2}),
    )
    .await;
    b.client.goto(&site.url("/en/report-nojs")).await.unwrap();
    // The choice comes before the documents (they are encrypted as they arrive), and
    // removing is the default.
    let html = b.client.source().await.unwrap();
    assert!(html.find("name=\"metadata\"").unwrap() < html.find("name=\"files\"").unwrap());
    let remove = &html[html.find("id=\"metadata-remove\"").unwrap()..];
    assert!(remove[..remove.find('>').unwrap()].contains("checked"));
    b.click("#consent").await;
    b.type_into("description", "Metadata marker: invoices approved twice.")
        .await;
    let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    b.type_into("files", &paths.join("\n")).await;
    b.click("#send").await;
    let found = b
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(120))
        .for_element(fantoccini::Locator::Id("code"))
        .await;
    if found.is_err() {
        panic!("no code: {}", b.client.source().await.unwrap_or_default());
    }
    let result = b.text("metadata").await;
    assert!(
        result.contains("memo.docx: removed") && result.contains("Author"),
        "{result}"
    );
    assert!(result.contains("GPS position"), "{result}");
    assert!(
        !result.contains("Jan Jansen"),
        "kinds, not values: {result}"
    );
    let case = b.text("receipt-case").await;

    let inv = Investigator::new(&site, &token);
    inv.pull();
    let folder = inv.open(&case);
    for (name, _, _) in DOCUMENTS {
        assert_clean(name, &folder.join("attachments").join(name));
    }
    let report: Value = serde_json::from_str(&inv.read(&case, "report.json")).unwrap();
    assert!(removed(&report, "memo.docx").contains(&"tracked_change_author".to_owned()));
    assert!(removed(&report, "photo.jpg").contains(&"gps_position".to_owned()));
    let md = inv.read(&case, "report.md");
    assert!(
        md.contains("the server (no-JavaScript form) removed"),
        "{md}"
    );
}

/// Every name the fixtures carry, in their metadata or inside them.
fn all_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = DOCUMENTS
        .iter()
        .flat_map(|(_, _, names)| names.iter().copied())
        .chain(
            NAMES_INSIDE
                .iter()
                .flat_map(|(_, names)| names.iter().copied()),
        )
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// What the report page showed about one document.
#[derive(Debug)]
struct Shown {
    name: String,
    /// `checked`, `unsupported`, `too_large`, `failed`.
    state: String,
    /// The document's part of the panel as it reads on the screen.
    text: String,
    /// The kinds listed as removable (`data-kind`), in the order shown.
    kinds: Vec<String>,
    /// Whether "remove" was chosen when the panel appeared.
    remove_chosen: bool,
    /// Whether there was a choice at all.
    choice: bool,
}

impl Shown {
    fn from(v: &Value) -> Self {
        Self {
            name: v["name"].as_str().unwrap().to_owned(),
            state: v["state"].as_str().unwrap().to_owned(),
            text: v["text"].as_str().unwrap().to_owned(),
            kinds: v["kinds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect(),
            remove_chosen: v["remove_chosen"] == true,
            choice: v["choice"] == true,
        }
    }
}

/// Opens the report page in `lang`, fills it, attaches `files`, waits for the document
/// check, chooses "keep the original" for the documents named in `keep`, types the return
/// code back and sends. Returns what the panel showed (before any choice) and the case.
async fn file_through_the_page(
    b: &Browser,
    site: &Site,
    lang: &str,
    files: &[PathBuf],
    keep: &[&str],
) -> (Vec<Shown>, String) {
    b.client
        .goto(&site.url(&format!("/{lang}/report")))
        .await
        .unwrap();
    // wasm2js without JIT takes a while to start.
    b.wait_until("!document.getElementById('code-section').hidden", 180)
        .await;
    let code = b.return_code_shown().await;
    b.type_into("description", "Metadata marker: invoices approved twice.")
        .await;
    let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    b.type_into("files", &paths.join("\n")).await;
    b.wait_until(
        "(document.getElementById('metadata') || {dataset: {}}).dataset.done === 'true' \
         || (window.__meldpuntLog || []).length > 0",
        300,
    )
    .await;
    let log = b.eval("(window.__meldpuntLog || []).join('\\n')").await;
    assert_eq!(log, "", "the page logged an error");
    let shown = b
        .eval(
            "Array.from(document.querySelectorAll('#metadata-documents .document')).map((d) => {\
               const choice = d.querySelector('fieldset.metadata-choice');\
               return {\
                 name: d.querySelector('h3').textContent,\
                 state: d.dataset.state,\
                 text: d.innerText,\
                 kinds: choice ? Array.from(d.querySelector('ul.findings').querySelectorAll('li[data-kind]'), (li) => li.dataset.kind) : [],\
                 remove_chosen: !!(choice && choice.querySelector('input[value=remove]').checked),\
                 choice: !!choice,\
               };\
             })",
        )
        .await;
    let shown: Vec<Shown> = shown.as_array().unwrap().iter().map(Shown::from).collect();
    for name in keep {
        let i = shown.iter().position(|s| s.name == *name).unwrap();
        let warning = format!("metadata-keep-warning-{i}");
        assert_eq!(
            b.eval(&format!("document.getElementById('{warning}').hidden"))
                .await,
            true,
            "no warning before the reporter chooses to keep {name}"
        );
        b.click(&format!("#metadata-keep-{i}")).await;
        assert_eq!(
            b.eval(&format!("document.getElementById('{warning}').hidden"))
                .await,
            false,
            "choosing to keep {name} shows the warning"
        );
    }
    b.type_into("retype", &code).await;
    b.wait_until("!document.getElementById('retype-ok').hidden", 10)
        .await;
    b.click("#send").await;
    b.wait_until(
        "!document.getElementById('receipt').hidden || !document.getElementById('report-error').hidden",
        300,
    )
    .await;
    assert_eq!(
        b.eval("document.getElementById('report-error').hidden")
            .await,
        true,
        "{}; log: {}",
        b.text("report-error").await,
        b.eval("(window.__meldpuntLog || []).join('\\n')").await
    );
    let documents = b.text("receipt-documents").await;
    for (name, _, _) in DOCUMENTS {
        assert!(
            documents.contains(name),
            "the receipt lists {name}: {documents}"
        );
    }
    (shown, b.text("receipt-case").await)
}

/// The page's panel says, for each fixture, what it found in these words (the values
/// too: they are the reporter's own, shown only to them), and offers the choice with
/// "remove" chosen.
fn assert_shown(shown: &[Shown], words: &[(&str, &[&str])], value: &str) {
    assert_eq!(
        shown.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        DOCUMENTS.iter().map(|(n, _, _)| *n).collect::<Vec<_>>(),
        "{shown:#?}"
    );
    for s in shown {
        assert_eq!(s.state, "checked", "{s:#?}");
        assert!(s.choice && s.remove_chosen, "remove is the default: {s:#?}");
        assert!(!s.kinds.is_empty(), "{s:#?}");
        let (_, expected) = words.iter().find(|(n, _)| *n == s.name).unwrap();
        for w in *expected {
            assert!(
                s.text.contains(&format!("{w}: ")),
                "{}: {w} in {}",
                s.name,
                s.text
            );
        }
    }
    let docx = shown.iter().find(|s| s.name == "memo.docx").unwrap();
    assert!(docx.text.contains(value), "{}", docx.text);
}

/// What the page showed as removable was removed: the report records those kinds.
fn assert_recorded_as_shown(report: &Value, s: &Shown) {
    let kinds = removed(report, &s.name);
    for k in &s.kinds {
        assert!(
            kinds.contains(k),
            "{}: shown {k}, recorded {kinds:?}",
            s.name
        );
    }
}

/// Neither the report nor what `open` wrote names anyone from the documents: the record
/// keeps kinds, not values.
fn assert_no_values(case_files: &[(&str, &str)]) {
    for (file, text) in case_files {
        for n in all_names() {
            assert!(!text.contains(n), "{file} names {n}:\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_page_removes_hidden_data_with_webassembly() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let work = tempfile::tempdir().unwrap();
    let files = originals(work.path());
    let b = browser::start(&[]).await;
    let (shown, case) = file_through_the_page(&b, &site, "en", &files, &[]).await;
    assert_eq!(b.eval("typeof WebAssembly").await, "object");
    assert_shown(
        &shown,
        &[
            ("photo.jpg", &["GPS position", "Camera owner"]),
            (
                "memo.docx",
                &["Author", "Last saved by", "Tracked changes by"],
            ),
            ("memo.pdf", &["Author"]),
            ("memo.odt", &["Author", "Tracked changes by", "Printer"]),
        ],
        "Author: Jan Jansen",
    );

    let inv = Investigator::new(&site, &token);
    inv.pull();
    let (folder, printed) = inv.open_printing(&case);
    for (name, _, _) in DOCUMENTS {
        assert_clean(name, &folder.join("attachments").join(name));
    }
    let json = inv.read(&case, "report.json");
    let report: Value = serde_json::from_str(&json).unwrap();
    for s in &shown {
        assert_recorded_as_shown(&report, s);
    }
    assert!(removed(&report, "memo.docx").contains(&"tracked_change_author".to_owned()));
    assert!(removed(&report, "photo.jpg").contains(&"gps_position".to_owned()));
    let md = inv.read(&case, "report.md");
    assert!(
        md.contains("ALTERED before encryption: the reporter's page removed"),
        "{md}"
    );
    assert!(!printed.contains("STILL CARRIES"), "{printed}");
    assert_no_values(&[
        ("report.json", &json),
        ("report.md", &md),
        ("open", &printed),
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_webassembly_the_page_removes_hidden_data_and_keeps_an_original_when_asked() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let work = tempfile::tempdir().unwrap();
    let files = originals(work.path());
    // No JIT, so no WebAssembly: the metadata module runs as its wasm2js translation.
    let b = browser::start(&["--js-flags=--jitless"]).await;
    let (shown, case) = file_through_the_page(&b, &site, "nl", &files, &["memo.docx"]).await;
    assert_eq!(b.eval("typeof WebAssembly").await, "undefined");
    assert_shown(
        &shown,
        &[
            ("photo.jpg", &["GPS-positie", "Eigenaar van de camera"]),
            (
                "memo.docx",
                &[
                    "Auteur",
                    "Laatst opgeslagen door",
                    "Bijgehouden wijzigingen door",
                ],
            ),
            ("memo.pdf", &["Auteur"]),
            (
                "memo.odt",
                &["Auteur", "Bijgehouden wijzigingen door", "Printer"],
            ),
        ],
        "Auteur: Jan Jansen",
    );

    let inv = Investigator::new(&site, &token);
    inv.pull();
    let (folder, printed) = inv.open_printing(&case);
    let json = inv.read(&case, "report.json");
    let report: Value = serde_json::from_str(&json).unwrap();
    let md = inv.read(&case, "report.md");
    // The original, as the reporter chose, and the report says so.
    assert_eq!(
        fs::read(folder.join("attachments/memo.docx")).unwrap(),
        fixture("memo.docx"),
        "the kept original arrives byte for byte"
    );
    let kept = record(&report, "memo.docx");
    assert_eq!(
        kept,
        json!({"removed": [], "kept_original": true, "checked": true}),
        "{kept}"
    );
    assert!(
        md.contains(
            "the reporter's page found hidden data and the reporter CHOSE TO SEND THE ORIGINAL"
        ),
        "{md}"
    );
    // `open` lists what it still carries, by kind and place, and writes a copy without it.
    assert_eq!(printed.matches("STILL CARRIES").count(), 1, "{printed}");
    let line = printed
        .lines()
        .find(|l| l.contains("STILL CARRIES identifying metadata"))
        .unwrap();
    for words in [
        "author (in docProps/core.xml",
        "author of a tracked change (in word/document.xml",
    ] {
        assert!(line.contains(words), "{words} in {line}");
    }
    assert!(
        md.contains("identifying metadata STILL IN THE FILE: author (in docProps/core.xml"),
        "{md}"
    );
    assert!(md.contains("`shareable/memo.docx`"), "{md}");
    assert!(
        printed.contains("copy without it: shareable/memo.docx"),
        "{printed}"
    );
    let still: Vec<&str> = report["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "memo.docx")
        .unwrap()["metadata_still_found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        still.contains(&"author") && still.contains(&"tracked_change_author"),
        "{still:?}"
    );
    assert_clean("memo.docx", &folder.join("shareable/memo.docx"));
    // The other three were cleaned in the page.
    for s in shown.iter().filter(|s| s.name != "memo.docx") {
        assert_clean(&s.name, &folder.join("attachments").join(&s.name));
        assert_recorded_as_shown(&report, s);
    }
    assert_no_values(&[
        ("report.json", &json),
        ("report.md", &md),
        ("open", &printed),
    ]);
}
