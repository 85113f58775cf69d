//! Benchmark: the report page's document check on large documents, in headless Chromium:
//! a PDF, a DOCX and a JPEG of 100 MiB through the page's own `metadata.js` and the
//! metadata module, as WebAssembly and as its wasm2js translation in Chromium without JIT
//! (Tor Browser "Safer"), where the page checks documents only up to its limit for that
//! tier (`LIMITS.js` in metadata.js), so the documents there are of that size
//! (docs/BENCHMARKS.md). A measurement, not a test: it fails only when the page does not
//! check or clean a document, or when exiftool still finds the removed fields.
//!
//! Run by `scripts/bench-metadata.sh`, which builds and installs what this needs:
//!
//! ```text
//! bench_metadata           # paths below <target>; environment:
//!   BENCH_SIZE=bytes         document size at the WebAssembly tier (default 104857600)
//!   BENCH_RUNS=n             timed runs per document, WebAssembly (default 3)
//!   BENCH_JITLESS_RUNS=n     timed runs per document, wasm2js without JIT (default 1)
//! ```
//!
//! The documents are made here, each just under its size, and carry an author or a GPS
//! position (from the fixtures of `metadata/tests/fixtures`), so that the page has
//! something to remove:
//! - JPEG: pseudo-random pixels encoded by libjpeg-turbo's `cjpeg` (quality 90), with the
//!   fixture photo's EXIF (GPS, artist, serial number), XMP and IPTC copied in by exiftool;
//! - PDF (lopdf): pages of one uncompressed 512×512 RGB picture of pseudo-random pixels
//!   each and a line of text, an Info dictionary with `/Author`, an XMP stream, a
//!   document ID;
//! - DOCX: the fixture `memo.docx` (author, tracked changes, comments), its body repeated
//!   to about a tenth of the size in `word/document.xml`, and the rest as photos in
//!   `word/media/` (a 0.5 MiB JPEG with the GPS position, as `cjpeg` and exiftool made it,
//!   deflated as Word stores pictures): the module checks each photo inside as well.
//!
//! The page (tests/bench/metadata/) is served from memory by a small HTTP server on
//! 127.0.0.1 with the page's `metadata.js` and the built modules. The document is chosen
//! in a file input over WebDriver, as a reporter chooses it, so the page reads it from
//! disk in slices. While the page inspects and cleans, this driver reads the renderer's
//! resident memory (VmRSS of its renderer processes, and of all the browser's processes)
//! every 20 ms; the baseline is read just before, after garbage collections
//! (`--expose-gc`), once the renderer has stopped shrinking. The page reports the module's memory after each step (WebAssembly
//! only: bench.js sees the instances metadata.js makes).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::collections::HashMap;
use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::Locator;
use meldpunt_tests::bench_page::{self, call, Files, PageServer};
use meldpunt_tests::browser::{self, Browser};
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};

const MIB: u64 = 1024 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// The three kinds of document, with the exiftool tags each must carry before and lose
/// after cleaning.
const KINDS: [(&str, &[&str]); 3] = [
    ("pdf", &["PDF:Author", "XMP-dc:Creator"]),
    ("docx", &["XMP-dc:Creator", "XML:LastModifiedBy"]),
    ("jpg", &["GPS:GPSLatitude", "IFD0:Artist"]),
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let size = env_u64("BENCH_SIZE", 100 * MIB);
    let runs = env_u64("BENCH_RUNS", 3).max(1) as usize;
    let jitless_runs = env_u64("BENCH_JITLESS_RUNS", 1).max(1) as usize;
    let paths = Paths::find();
    if let Err(missing) = paths.check() {
        eprintln!(
            "{missing} is missing: run scripts/bench-metadata.sh, which builds and installs it"
        );
        return ExitCode::FAILURE;
    }
    let work = tempfile::Builder::new()
        .prefix("meldpunt-bench-metadata.")
        .tempdir_in("/tmp")
        .expect("a work folder in /tmp");
    let server = start_server(&paths);
    let texts: Value = serde_json::from_str(
        &std::fs::read_to_string(&paths.texts).expect("the page's metadata texts"),
    )
    .expect("valid JSON");

    let mut rows = Vec::new();
    let mut details = Vec::new();
    for (tier, flags, runs) in [
        ("wasm", &["--js-flags=--expose-gc"][..], runs),
        (
            "js",
            &["--js-flags=--jitless --expose-gc"][..],
            jitless_runs,
        ),
    ] {
        let b = open_page(flags, &server).await;
        let info = call(&b, "bench.info()", vec![]).await;
        assert_eq!(
            info["webassembly"],
            json!(tier == "wasm"),
            "WebAssembly in {info}"
        );
        if tier == "wasm" {
            details.push(format!("Chromium user agent: {}", info["userAgent"]));
        }
        let limit = info["limits"][tier].as_u64().expect("the page's limit");
        let doc_size = size.min(limit);
        if doc_size < size {
            details.push(format!(
                "wasm2js: the page checks documents up to {} MiB at this tier (`LIMITS.js` in \
                 pages/static/metadata.js), so its documents are {} MiB, not {} MiB.",
                limit / MIB,
                doc_size / MIB,
                size / MIB
            ));
        }
        // Warm-up on the small fixtures: the module compiled, the code paths run once.
        for (kind, _) in KINDS {
            let fixture = paths.fixtures.join(fixture_name(kind));
            let r = measure(&b, &texts, tier, &fixture).await;
            assert!(!r.removed.is_empty(), "warm-up {kind}: nothing removed");
        }
        for (kind, tags) in KINDS {
            let doc = make_document(work.path(), &paths, kind, doc_size);
            let bytes = std::fs::metadata(&doc).unwrap().len();
            assert!(bytes <= doc_size, "{kind}: {bytes} > {doc_size}");
            let before = exiftool(&doc);
            for tag in tags {
                assert!(before.contains_key(*tag), "{kind}: {tag} in the original");
            }
            let mut row = Row {
                kind,
                tier,
                size: bytes,
                inspect: Vec::new(),
                clean: Vec::new(),
                inspect_peak: 0,
                clean_peak: 0,
                clean_peak_all: 0,
                inspect_module: None,
                clean_module: None,
                removed: Vec::new(),
                cleaned_size: 0,
            };
            for i in 1..=runs {
                eprintln!("{tier}, {kind} of {bytes} bytes: run {i} of {runs}");
                let r = measure(&b, &texts, tier, &doc).await;
                eprintln!(
                    "  inspect {:.2} s (+{} MiB), clean {:.2} s (+{} MiB)",
                    r.inspect_s,
                    r.inspect_peak / MIB,
                    r.clean_s,
                    r.clean_peak / MIB
                );
                row.inspect.push(r.inspect_s);
                row.clean.push(r.clean_s);
                row.inspect_peak = row.inspect_peak.max(r.inspect_peak);
                row.clean_peak = row.clean_peak.max(r.clean_peak);
                row.clean_peak_all = row.clean_peak_all.max(r.clean_peak_all);
                row.inspect_module = row.inspect_module.max(r.inspect_module);
                row.clean_module = row.clean_module.max(r.clean_module);
                row.removed = r.removed;
                row.cleaned_size = r.cleaned_size;
                if i == 1 {
                    // What the page made is checked by the independent reader.
                    let name = format!("{tier}.{kind}");
                    call(&b, "bench.upload(arguments[0])", vec![json!(name)]).await;
                    let out = work.path().join(&name);
                    std::fs::write(&out, server.take_upload(&name)).unwrap();
                    let after = exiftool(&out);
                    for tag in tags {
                        assert!(
                            !after.contains_key(*tag),
                            "{tier} {kind}: exiftool still sees {tag} in the cleaned copy"
                        );
                    }
                    std::fs::remove_file(&out).unwrap();
                }
                call(&b, "bench.forget()", vec![]).await;
            }
            std::fs::remove_file(&doc).unwrap();
            rows.push(row);
        }
    }
    report(&rows, &details);
    ExitCode::SUCCESS
}

fn fixture_name(kind: &str) -> &'static str {
    match kind {
        "pdf" => "memo.pdf",
        "docx" => "memo.docx",
        _ => "photo.jpg",
    }
}

/// One document's runs.
struct Row {
    kind: &'static str,
    tier: &'static str,
    size: u64,
    inspect: Vec<f64>,
    clean: Vec<f64>,
    /// The renderer's peak over its baseline, largest over the runs.
    inspect_peak: u64,
    clean_peak: u64,
    /// Every process of the browser, while cleaning (the cleaned copy, made into a File,
    /// is held by the browser process).
    clean_peak_all: u64,
    /// The module's memory at the end of inspect and of clean (WebAssembly only).
    inspect_module: Option<u64>,
    clean_module: Option<u64>,
    removed: Vec<String>,
    cleaned_size: u64,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One inspect and one clean of `doc` in the page.
struct Measured {
    inspect_s: f64,
    clean_s: f64,
    inspect_peak: u64,
    clean_peak: u64,
    clean_peak_all: u64,
    inspect_module: Option<u64>,
    clean_module: Option<u64>,
    removed: Vec<String>,
    cleaned_size: u64,
}

async fn measure(b: &Browser, texts: &Value, tier: &str, doc: &Path) -> Measured {
    let input = b.client.find(Locator::Id("doc")).await.expect("the input");
    input.clear().await.expect("the input clears");
    input
        .send_keys(doc.to_str().expect("a UTF-8 path"))
        .await
        .expect("the document is chosen");
    let (inspected, inspect_peak, _) = watched(
        b,
        "bench.inspect(arguments[0], arguments[1])",
        vec![texts.clone(), json!(tier)],
    )
    .await;
    assert_eq!(
        inspected["state"],
        "checked",
        "{}: {inspected}",
        doc.display()
    );
    let (cleaned, clean_peak, clean_peak_all) = watched(b, "bench.clean()", vec![]).await;
    let removed: Vec<String> = cleaned["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .map(|k| k.as_str().expect("a kind").to_owned())
        .collect();
    Measured {
        inspect_s: inspected["ms"].as_f64().expect("ms") / 1000.0,
        clean_s: cleaned["ms"].as_f64().expect("ms") / 1000.0,
        inspect_peak,
        clean_peak,
        clean_peak_all,
        inspect_module: inspected["module_bytes"].as_u64(),
        clean_module: cleaned["module_bytes"].as_u64(),
        removed,
        cleaned_size: cleaned["size"].as_u64().expect("size"),
    }
}

/// Runs `expression` in the page after a garbage collection, reading the memory every
/// 20 ms meanwhile: its value, and the renderer's and the whole browser's peak over
/// their baselines.
async fn watched(b: &Browser, expression: &str, args: Vec<Value>) -> (Value, u64, u64) {
    // The collector gives memory back in the background: wait until the renderer stops
    // shrinking, or the last step's memory, released during this one, hides this one's.
    let mut settled = u64::MAX;
    for _ in 0..25 {
        call(b, "gc()", vec![]).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = b.renderer_rss();
        if settled.saturating_sub(now) < MIB {
            break;
        }
        settled = now;
    }
    let (base, base_all) = (b.renderer_rss(), b.total_rss());
    let (mut peak, mut peak_all) = (base, base_all);
    let run = call(b, expression, args);
    tokio::pin!(run);
    let value = loop {
        tokio::select! {
            v = &mut run => break v,
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                peak = peak.max(b.renderer_rss());
                peak_all = peak_all.max(b.total_rss());
            }
        }
    };
    (value, peak - base, peak_all - base_all)
}

/// Where the pieces are: the page in this crate, metadata.js and its texts in pages/, the
/// modules under the target folder (which `scripts/bench-metadata.sh` fills).
struct Paths {
    page: PathBuf,
    loader: PathBuf,
    texts: PathBuf,
    wasm: PathBuf,
    wasm2js: PathBuf,
    fixtures: PathBuf,
}

impl Paths {
    fn find() -> Self {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
        // This example runs from <target>/release/examples/.
        let exe = std::env::current_exe().expect("the example knows where it runs");
        let target = exe
            .ancestors()
            .nth(3)
            .expect("runs from <target>/<profile>/examples")
            .to_owned();
        let module = target.join("wasm32-unknown-unknown/release/meldpunt_metadata_wasm.wasm");
        Self {
            page: tests.join("bench/metadata"),
            loader: tests.join("../pages/static/metadata.js"),
            texts: tests.join("../pages/i18n/metadata-en.json"),
            wasm2js: module.with_extension("js"),
            wasm: module,
            // Canonical: Chromium refuses a file to choose by a path with `..` in it.
            fixtures: tests
                .join("../metadata/tests/fixtures")
                .canonicalize()
                .unwrap_or_default(),
        }
    }

    fn check(&self) -> Result<(), String> {
        for p in [
            self.page.join("bench.js"),
            self.loader.clone(),
            self.texts.clone(),
            self.wasm.clone(),
            self.wasm2js.clone(),
            self.fixtures.join("photo.jpg"),
        ] {
            if !p.exists() {
                return Err(p.display().to_string());
            }
        }
        for tool in ["cjpeg", "exiftool"] {
            if Command::new(tool).arg("-ver").output().is_err() {
                return Err(tool.to_owned());
            }
        }
        for tool in [browser::CHROMIUM, browser::CHROMEDRIVER] {
            if !Path::new(tool).exists() {
                return Err(tool.to_owned());
            }
        }
        Ok(())
    }
}

/// `exiftool -j -G1 -a FILE`: "Group:Tag" → value.
fn exiftool(path: &Path) -> serde_json::Map<String, Value> {
    let out = Command::new("exiftool")
        .args(["-j", "-G1", "-a"])
        .arg(path)
        .output()
        .expect("exiftool runs");
    match serde_json::from_slice(&out.stdout) {
        Ok(Value::Array(mut items)) if !items.is_empty() => match items.remove(0) {
            Value::Object(map) => map,
            other => panic!("exiftool: {other}"),
        },
        other => panic!("exiftool on {}: {other:?}", path.display()),
    }
}

/// Makes a document of the kind, at most `size` bytes and close to it, in `dir`.
fn make_document(dir: &Path, paths: &Paths, kind: &str, size: u64) -> PathBuf {
    eprintln!("Making a {kind} of about {} MiB", size / MIB);
    let path = dir.join(format!("large.{kind}"));
    match kind {
        "jpg" => make_jpeg(dir, paths, &path, size),
        "pdf" => std::fs::write(&path, make_pdf(size)).unwrap(),
        _ => {
            let photo = dir.join("photo.jpg");
            make_jpeg(dir, paths, &photo, MIB / 2);
            let photo_bytes = std::fs::read(&photo).unwrap();
            let fixture = std::fs::read(paths.fixtures.join("memo.docx")).unwrap();
            std::fs::write(&path, make_docx(&fixture, &photo_bytes, size)).unwrap();
        }
    }
    path
}

/// A JPEG of pseudo-random pixels of at most `size` bytes, with the fixture photo's
/// metadata: `cjpeg` for the pixels, exiftool for the metadata.
fn make_jpeg(dir: &Path, paths: &Paths, out: &Path, size: u64) {
    let encode = |w: u64, h: u64| -> u64 {
        let ppm = dir.join("noise.ppm");
        let mut f = io::BufWriter::new(std::fs::File::create(&ppm).unwrap());
        write!(f, "P6\n{w} {h}\n255\n").unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x4a50_4547);
        let mut row = vec![0u8; usize::try_from(w * 3).unwrap()];
        for _ in 0..h {
            rng.fill_bytes(&mut row);
            f.write_all(&row).unwrap();
        }
        f.into_inner().unwrap().sync_all().unwrap();
        let status = Command::new("cjpeg")
            .args(["-quality", "90", "-outfile"])
            .arg(out)
            .arg(&ppm)
            .status()
            .expect("cjpeg runs");
        assert!(status.success(), "cjpeg failed");
        std::fs::remove_file(&ppm).unwrap();
        let status = Command::new("exiftool")
            .args(["-q", "-overwrite_original", "-TagsFromFile"])
            .arg(paths.fixtures.join("photo.jpg"))
            .arg("-all:all")
            .arg(out)
            .status()
            .expect("exiftool runs");
        assert!(status.success(), "exiftool could not copy the metadata");
        std::fs::metadata(out).unwrap().len()
    };
    // Bytes per pixel from a small picture, then the picture scaled to fit; a few
    // tries downwards if it came out too large.
    let sample = encode(512, 512) as f64 / (512.0 * 512.0);
    let mut pixels = size as f64 * 0.985 / sample;
    for _ in 0..6 {
        let w = (pixels.sqrt() as u64).max(16) & !15;
        let h = ((pixels / w as f64) as u64).max(16) & !15;
        let got = encode(w, h);
        if got <= size {
            return;
        }
        pixels *= 0.98 * size as f64 / got as f64;
    }
    panic!("could not make a JPEG of at most {size} bytes");
}

/// A PDF of at most `size` bytes: pages with a picture and a line of text each, an Info
/// dictionary with the author, an XMP stream and a document ID.
fn make_pdf(size: u64) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream, StringFormat};
    const SIDE: i64 = 512;
    let picture = (SIDE * SIDE * 3) as u64;
    let pages = ((size.saturating_sub(64 * 1024)) / (picture + 1024)).max(1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5044_4600);
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    for i in 0..pages {
        let mut pixels = vec![0u8; usize::try_from(picture).unwrap()];
        rng.fill_bytes(&mut pixels);
        let image = doc.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => SIDE, "Height" => SIDE,
                "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
            },
            pixels,
        ));
        let text = format!(
            "BT /F1 12 Tf 72 760 Td (Payment records, page {}) Tj ET q 512 0 0 512 50 150 cm /Im1 Do Q",
            i + 1
        );
        let contents = doc.add_object(Stream::new(dictionary! {}, text.into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Contents" => contents,
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => font },
                "XObject" => dictionary! { "Im1" => image },
            },
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let xmp = "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
        <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
        <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\
        <dc:creator><rdf:Seq><rdf:li>Jan Jansen</rdf:li></rdf:Seq></dc:creator>\
        <xmp:CreatorTool>Writer</xmp:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>\
        <?xpacket end=\"w\"?>";
    let metadata = doc.add_object(Stream::new(
        dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
        xmp.as_bytes().to_vec(),
    ));
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages_id, "Metadata" => metadata,
    });
    let text = |s: &str| Object::String(s.as_bytes().to_vec(), StringFormat::Literal);
    let info = doc.add_object(dictionary! {
        "Author" => text("Jan Jansen"),
        "Creator" => text("Writer"),
        "Producer" => text("LibreOffice 7.4"),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    let id = Object::String(b"0123456789abcdef".to_vec(), StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![id.clone(), id]);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("the PDF is written");
    out
}

/// The fixture DOCX grown to at most `size` bytes: its body repeated in
/// `word/document.xml` to about a tenth of the size, the rest as copies of `photo` in
/// `word/media/`.
fn make_docx(fixture: &[u8], photo: &[u8], size: u64) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;
    let mut archive = zip::ZipArchive::new(Cursor::new(fixture)).unwrap();
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == "word/document.xml" {
            data = grow_body(&data, size / 10);
        }
        w.start_file(name.clone(), deflated).unwrap();
        w.write_all(&data).unwrap();
    }
    let mut n = 0;
    // What a photo takes in the archive: about its size (JPEG data does not deflate); the
    // central directory at the end takes about 100 bytes a member.
    while (w.get_ref().expect("open").get_ref().len() + photo.len() + 64 * 1024) as u64 <= size {
        n += 1;
        w.start_file(format!("word/media/photo{n}.jpeg"), deflated)
            .unwrap();
        w.write_all(photo).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// `word/document.xml` with the body's content repeated until it is about `target` bytes.
fn grow_body(xml: &[u8], target: u64) -> Vec<u8> {
    let s = String::from_utf8(xml.to_vec()).expect("UTF-8 XML");
    let start = s.find("<w:body>").expect("a body") + "<w:body>".len();
    let end = s.rfind("<w:sectPr").expect("section properties");
    let body = &s[start..end];
    let times = (target as usize / body.len().max(1)).max(1);
    let mut out = String::with_capacity(s.len() + body.len() * times);
    out.push_str(&s[..start]);
    for _ in 0..times {
        out.push_str(body);
    }
    out.push_str(&s[end..]);
    out.into_bytes()
}

/// Starts Chromium (with `extra` flags) on the benchmark page, with room for a
/// minutes-long script.
async fn open_page(extra: &[&str], server: &PageServer) -> Browser {
    bench_page::open(browser::start(extra).await, server, 1800).await
}

/// The benchmark page's server, with the page's files.
fn start_server(paths: &Paths) -> PageServer {
    let read =
        |p: &Path| Arc::new(std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
    let js = "text/javascript";
    let mut files: Files = HashMap::new();
    files.insert(
        "/",
        (
            "text/html; charset=utf-8",
            read(&paths.page.join("index.html")),
        ),
    );
    files.insert("/bench.js", (js, read(&paths.page.join("bench.js"))));
    // The paths metadata.js loads its module from, as the server serves them.
    files.insert("/static/metadata.js", (js, read(&paths.loader)));
    files.insert(
        "/static/meldpunt-metadata.wasm",
        ("application/wasm", read(&paths.wasm)),
    );
    files.insert(
        "/static/meldpunt-metadata-wasm2js.js",
        (js, read(&paths.wasm2js)),
    );
    PageServer::start(files)
}

/// Prints the results as a Markdown table.
fn report(rows: &[Row], details: &[String]) {
    println!(
        "| document | tier | size (MiB) | runs | inspect, median (s) | clean, median (s) | MiB/s (inspect + clean) | renderer peak over baseline, inspect (MiB, × size) | renderer peak over baseline, clean (MiB, × size) | whole browser, clean (MiB, × size) | module memory, inspect / clean (MiB, × size) | removed | cleaned size (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let mib = r.size as f64 / MIB as f64;
        let (i, c) = (median(&r.inspect), median(&r.clean));
        let x = |peak: u64| format!("{} ({:.2}×)", peak / MIB, peak as f64 / r.size as f64);
        println!(
            "| {} | {} | {mib:.1} | {} | {i:.2} | {c:.2} | {:.1} | {} | {} | {} | {} | {} | {:.1} |",
            r.kind.to_uppercase(),
            if r.tier == "wasm" {
                "WebAssembly"
            } else {
                "wasm2js, --jitless"
            },
            r.inspect.len(),
            mib / (i + c),
            x(r.inspect_peak),
            x(r.clean_peak),
            x(r.clean_peak_all),
            match (r.inspect_module, r.clean_module) {
                (Some(i), Some(c)) => format!("{} / {}", x(i), x(c)),
                _ => "not visible".to_owned(),
            },
            r.removed.join(", "),
            r.cleaned_size as f64 / MIB as f64,
        );
    }
    println!();
    println!("Raw runs (s, inspect / clean):");
    for r in rows {
        let raw: Vec<String> = r
            .inspect
            .iter()
            .zip(&r.clean)
            .map(|(i, c)| format!("{i:.2} / {c:.2}"))
            .collect();
        println!("- {} {}: {}", r.kind, r.tier, raw.join(", "));
    }
    println!();
    for d in details {
        println!("{d}");
    }
}
