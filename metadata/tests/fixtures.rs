//! The fixtures made by real producers (scripts/make-metadata-fixtures.sh), checked with
//! exiftool as the independent reader: every identifying field it sees in an original
//! (asserted there first, so no test passes vacuously) is gone after `clean`. Plus the
//! visible content: pixels, PDF page content streams and Word text are unchanged.
//!
//! Needs exiftool with Archive::Zip: `apt-get install libimage-exiftool-perl
//! libarchive-zip-perl` (scripts/test.sh). Without them these tests fail, never skip.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use meldpunt_metadata::{clean, clean_owned, inspect, FindingKind, Format, WarningKind};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (make it with scripts/make-metadata-fixtures.sh)",
            path.display()
        )
    })
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meldpunt-metadata-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `exiftool -j -G1 -a` on some bytes: one JSON object of "Group:Tag" → value.
fn exiftool(name: &str, bytes: &[u8]) -> serde_json::Map<String, Value> {
    let path = temp_path(name);
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new("exiftool")
        .args(["-j", "-G1", "-a"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "exiftool is needed as the independent checker of these tests ({e}). \
                 Run scripts/test.sh, or: apt-get install libimage-exiftool-perl libarchive-zip-perl"
            )
        });
    let _ = std::fs::remove_file(&path);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "exiftool printed no JSON for {name} ({e}): {}",
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

/// The exiftool check: each tag is in the original and not in the cleaned file; each
/// string is somewhere in the original's tags and nowhere in the cleaned file's.
fn check_with_exiftool(
    name: &str,
    original: &[u8],
    cleaned: &[u8],
    tags: &[&str],
    strings: &[&str],
) {
    let before = exiftool(name, original);
    let after = exiftool(name, cleaned);
    let zip_hint = if name.ends_with("x") || name.ends_with(".odt") {
        " (exiftool reads Office and OpenDocument files only with Archive::Zip: apt-get install libarchive-zip-perl)"
    } else {
        ""
    };
    for tag in tags {
        assert!(
            before.contains_key(*tag),
            "{name}: exiftool should see {tag} in the original{zip_hint}"
        );
        assert!(
            !after.contains_key(*tag),
            "{name}: {tag} is still there after cleaning: {:?}",
            after.get(*tag)
        );
    }
    let text = |m: &serde_json::Map<String, Value>| {
        m.iter()
            .filter(|(k, _)| !k.starts_with("System:") && *k != "SourceFile")
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect::<String>()
    };
    let (before, after) = (text(&before), text(&after));
    for s in strings {
        assert!(
            before.contains(s),
            "{name}: {s:?} should be in the original's metadata{zip_hint}"
        );
        assert!(
            !after.contains(s),
            "{name}: {s:?} is still in the metadata after cleaning:\n{after}"
        );
    }
}

const CAMERA_TAGS: &[&str] = &[
    "IFD0:Artist",
    "IFD0:Copyright",
    "IFD0:HostComputer",
    "IFD0:Make",
    "IFD0:Model",
    "IFD0:Software",
    "IFD0:ImageDescription",
    "ExifIFD:OwnerName",
    "ExifIFD:SerialNumber",
    "ExifIFD:LensSerialNumber",
    "ExifIFD:DateTimeOriginal",
    "ExifIFD:ImageUniqueID",
    "GPS:GPSLatitude",
    "GPS:GPSLongitude",
    "XMP-dc:Creator",
    "XMP-xmp:CreatorTool",
];
const CAMERA_STRINGS: &[&str] = &[
    "Jan Jansen",
    "SN-4711",
    "LS-0042",
    "LAPTOP-JJANSEN",
    "Canon",
    "52 deg",
];

fn removes_all(name: &str) -> (Vec<u8>, meldpunt_metadata::Cleaned) {
    let original = fixture(name);
    let inspection = inspect(name, &original);
    assert!(inspection.can_clean(), "{name}: {:?}", inspection.format);
    let cleaned = clean(name, &original).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        cleaned.removed,
        inspection.removable_kinds(),
        "{name}: clean removes what inspect lists"
    );
    // Cleaning again finds nothing more to remove, and changes nothing.
    let again = inspect(name, &cleaned.bytes);
    assert_eq!(
        again.removable_kinds(),
        vec![],
        "{name}: {:#?}",
        again.findings
    );
    let twice = clean(name, &cleaned.bytes).unwrap();
    assert_eq!(
        twice.bytes, cleaned.bytes,
        "{name}: a clean file comes back unchanged"
    );
    // The browser module's way (the original given up, freed early) comes to the same.
    let owned = clean_owned(name, original.clone()).unwrap();
    assert_eq!(owned.bytes, cleaned.bytes, "{name}: clean_owned");
    assert_eq!(owned.removed, cleaned.removed, "{name}: clean_owned");
    assert_eq!(owned.format, cleaned.format, "{name}: clean_owned");
    assert_eq!(
        clean_owned(name, cleaned.bytes.clone()).unwrap().bytes,
        cleaned.bytes,
        "{name}: clean_owned gives back a clean file unchanged"
    );
    (original, cleaned)
}

fn kinds(name: &str, bytes: &[u8]) -> Vec<FindingKind> {
    inspect(name, bytes)
        .findings
        .iter()
        .map(|f| f.kind)
        .collect()
}

// ---------------------------------------------------------------- pictures

fn jpeg_pixels(bytes: &[u8]) -> Vec<u8> {
    jpeg_decoder::Decoder::new(bytes).decode().expect("decodes")
}

fn png_pixels(bytes: &[u8]) -> Vec<u8> {
    let mut reader = png::Decoder::new(bytes).read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut buf).expect("png frame");
    buf
}

#[test]
fn jpeg_from_exiftool() {
    let (original, cleaned) = removes_all("photo.jpg");
    let mut tags = CAMERA_TAGS.to_vec();
    tags.extend([
        "IFD1:ThumbnailImage",
        "IPTC:By-line",
        "IPTC:City",
        "File:Comment",
    ]);
    check_with_exiftool(
        "photo.jpg",
        &original,
        &cleaned.bytes,
        &tags,
        CAMERA_STRINGS,
    );
    assert_eq!(
        jpeg_pixels(&original),
        jpeg_pixels(&cleaned.bytes),
        "pixels unchanged"
    );
    // The orientation stays, so the photo is shown upright.
    let after = exiftool("photo.jpg", &cleaned.bytes);
    assert_eq!(
        after.get("IFD0:Orientation").and_then(Value::as_str),
        Some("Rotate 90 CW")
    );
    for kind in [
        FindingKind::GpsPosition,
        FindingKind::CameraSerial,
        FindingKind::CameraOwner,
        FindingKind::Author,
        FindingKind::Thumbnail,
        FindingKind::Iptc,
        FindingKind::Xmp,
        FindingKind::Comment,
    ] {
        assert!(cleaned.removed.contains(&kind), "{kind:?}");
    }
    assert!(cleaned.bytes.len() < original.len());
}

#[test]
fn png_from_exiftool() {
    let (original, cleaned) = removes_all("photo.png");
    let mut tags = CAMERA_TAGS.to_vec();
    tags.extend(["PNG:Author", "PNG:Comment", "PNG:ModifyDate"]);
    check_with_exiftool(
        "photo.png",
        &original,
        &cleaned.bytes,
        &tags,
        CAMERA_STRINGS,
    );
    assert_eq!(
        png_pixels(&original),
        png_pixels(&cleaned.bytes),
        "pixels unchanged"
    );
    assert!(
        exiftool("photo.png", &cleaned.bytes).contains_key("PNG:Gamma"),
        "colour chunks stay"
    );
}

#[test]
fn webp_from_exiftool() {
    let (original, cleaned) = removes_all("photo.webp");
    check_with_exiftool(
        "photo.webp",
        &original,
        &cleaned.bytes,
        CAMERA_TAGS,
        CAMERA_STRINGS,
    );
    // The picture data (the VP8 chunk) is byte-identical.
    let vp8 = |b: &[u8]| {
        let webp = img_parts::webp::WebP::from_bytes(b.to_vec().into()).unwrap();
        webp.chunks()
            .iter()
            .filter(|c| matches!(&c.id(), b"VP8 " | b"VP8L" | b"ALPH"))
            .map(|c| c.content().data().unwrap().to_vec())
            .collect::<Vec<_>>()
    };
    assert!(!vp8(&original).is_empty());
    assert_eq!(vp8(&original), vp8(&cleaned.bytes));
}

#[test]
fn tiff_is_inspected_not_cleaned() {
    let original = fixture("photo.tif");
    let inspection = inspect("photo.tif", &original);
    assert_eq!(inspection.format, Format::Tiff);
    let found = kinds("photo.tif", &original);
    for kind in [
        FindingKind::Author,
        FindingKind::CameraSerial,
        FindingKind::GpsPosition,
    ] {
        assert!(found.contains(&kind), "{kind:?} in {found:?}");
    }
    assert!(inspection.findings.iter().all(|f| !f.removable));
    assert!(inspection
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::NotCleanable));
    assert!(matches!(
        clean("photo.tif", &original),
        Err(meldpunt_metadata::CleanError::Unsupported {
            format: Format::Tiff
        })
    ));
    // What the inspection shows is what exiftool sees.
    let tags = exiftool("photo.tif", &original);
    for tag in ["IFD0:Artist", "ExifIFD:SerialNumber", "GPS:GPSLatitude"] {
        assert!(tags.contains_key(tag), "{tag}");
    }
}

// ---------------------------------------------------------------- PDF

fn page_contents(bytes: &[u8]) -> Vec<Vec<u8>> {
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

#[test]
fn pdf_from_libreoffice() {
    let (original, cleaned) = removes_all("memo.pdf");
    check_with_exiftool(
        "memo.pdf",
        &original,
        &cleaned.bytes,
        &[
            "PDF:Author",
            "PDF:Title",
            "PDF:Subject",
            "PDF:Keywords",
            "PDF:Creator",
            "PDF:Producer",
            "PDF:CreateDate",
            "XMP-dc:Creator",
            "XMP-dc:Title",
            "XMP-pdf:Producer",
            "XMP-xmp:CreatorTool",
        ],
        &["Jan Jansen", "LibreOffice", "Interne notitie", "fraude"],
    );
    let pages = page_contents(&original);
    assert!(!pages.is_empty() && !pages[0].is_empty());
    assert_eq!(
        pages,
        page_contents(&cleaned.bytes),
        "page content streams byte-identical"
    );
    for kind in [
        FindingKind::Author,
        FindingKind::Xmp,
        FindingKind::DocumentId,
        FindingKind::CommentAuthor,
    ] {
        assert!(cleaned.removed.contains(&kind), "{kind:?}");
    }
    // The comment's author (exported as an annotation) is gone, the comment stays.
    let doc = lopdf::Document::load_mem(&cleaned.bytes).unwrap();
    assert!(doc.trailer.get(b"ID").is_err() && doc.trailer.get(b"Info").is_err());
    let annots: Vec<_> = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Text"))
        .collect();
    assert!(!annots.is_empty());
    assert!(annots
        .iter()
        .all(|a| a.get(b"T").is_err() && a.get(b"Contents").is_ok()));
}

#[test]
fn pdf_with_object_streams_from_qpdf() {
    let (original, cleaned) = removes_all("memo-objstm.pdf");
    assert!(
        original.windows(7).any(|w| w == b"/ObjStm"),
        "the fixture uses object streams"
    );
    check_with_exiftool(
        "memo-objstm.pdf",
        &original,
        &cleaned.bytes,
        &[
            "PDF:Author",
            "PDF:Producer",
            "XMP-dc:Creator",
            "XMP-xmp:CreatorTool",
        ],
        &["Jan Jansen", "LibreOffice"],
    );
    assert_eq!(page_contents(&original), page_contents(&cleaned.bytes));
}

#[test]
fn hybrid_pdf_loses_its_embedded_source() {
    let (original, cleaned) = removes_all("memo-hybrid.pdf");
    check_with_exiftool(
        "memo-hybrid.pdf",
        &original,
        &cleaned.bytes,
        &["PDF:Author", "PDF:Producer"],
        &["Jan Jansen"],
    );
    assert!(cleaned.removed.contains(&FindingKind::EmbeddedFile));
    let count = |b: &[u8]| b.windows(17).filter(|w| w == b"AdditionalStreams").count();
    assert_eq!(count(&original), 1);
    assert_eq!(count(&cleaned.bytes), 0);
    assert!(
        cleaned.bytes.len() < original.len() - 5000,
        "the embedded ODT is gone"
    );
    assert_eq!(page_contents(&original), page_contents(&cleaned.bytes));
}

// ---------------------------------------------------------------- Office, OpenDocument

fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
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

/// All text runs (`w:t`) of a Word part, in order.
fn word_text(xml: &[u8]) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut out = Vec::new();
    let mut inside = false;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == "w:t" => {
                inside = true;
                out.push(String::new());
            }
            quick_xml::events::Event::End(e) if e.name().as_ref() == "w:t" => inside = false,
            quick_xml::events::Event::Text(t) if inside => {
                if let Some(last) = out.last_mut() {
                    last.push_str(&t.xml10_content());
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// No member of the cleaned container holds any of the names, anywhere.
fn no_names_inside(name: &str, original: &[u8], cleaned: &[u8], names: &[&str]) {
    let all = |b: &[u8]| {
        members(b)
            .into_iter()
            .map(|(_, d)| String::from_utf8_lossy(&d).into_owned())
            .collect::<String>()
    };
    let (before, after) = (all(original), all(cleaned));
    for n in names {
        assert!(
            before.contains(n),
            "{name}: {n:?} should be in the original"
        );
        assert!(
            !after.contains(n),
            "{name}: {n:?} is still inside after cleaning"
        );
    }
}

#[test]
fn docx_from_libreoffice() {
    let (original, cleaned) = removes_all("memo.docx");
    check_with_exiftool(
        "memo.docx",
        &original,
        &cleaned.bytes,
        &[
            "XMP-dc:Creator",
            "XML:LastModifiedBy",
            "XML:CreateDate",
            "XML:LastPrinted",
            "XML:TotalEditTime",
            "XML:Application",
            "XML:Template",
            "XML:Afdeling",
            "XMP-dc:Title",
            "XMP-dc:Subject",
            "XMP-dc:Description",
        ],
        &[
            "Jan Jansen",
            "Piet Pietersen",
            "Fraudeonderzoek",
            "LibreOffice",
            "2.2 hours",
        ],
    );
    // Tracked-change and comment authors, which exiftool does not read.
    no_names_inside(
        "memo.docx",
        &original,
        &cleaned.bytes,
        &[
            "Klaas Klaassen",
            "Marie Maas",
            "Jan Jansen",
            "Piet Pietersen",
        ],
    );
    for kind in [
        FindingKind::TrackedChangeAuthor,
        FindingKind::CommentAuthor,
        FindingKind::LastModifiedBy,
    ] {
        assert!(cleaned.removed.contains(&kind), "{kind:?}");
    }
    // The text is unchanged, in every part.
    let (before, after) = (members(&original), members(&cleaned.bytes));
    assert_eq!(
        before.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        after.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "same members, same order"
    );
    let mut runs = 0;
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        if name.starts_with("word/") && name.ends_with(".xml") {
            assert_eq!(word_text(a), word_text(b), "{name}: w:t text unchanged");
            runs += word_text(a).len();
        }
    }
    assert!(runs > 3, "the fixture has text");
    assert!(word_text(
        &before
            .iter()
            .find(|(n, _)| n == "word/document.xml")
            .unwrap()
            .1
    )
    .concat()
    .contains("zonder tweede handtekening"));
}

#[test]
fn xlsx_from_libreoffice() {
    let (original, cleaned) = removes_all("sheet.xlsx");
    check_with_exiftool(
        "sheet.xlsx",
        &original,
        &cleaned.bytes,
        &[
            "XMP-dc:Creator",
            "XML:LastModifiedBy",
            "XML:Application",
            "XMP-dc:Title",
        ],
        &["Jan Jansen", "Piet Pietersen", "Betalingen november"],
    );
    no_names_inside("sheet.xlsx", &original, &cleaned.bytes, &["Marie Maas"]);
    assert!(cleaned.removed.contains(&FindingKind::CommentAuthor));
    // The comment text stays.
    let comments = members(&cleaned.bytes)
        .into_iter()
        .find(|(n, _)| n.starts_with("xl/comments"))
        .unwrap();
    assert!(String::from_utf8_lossy(&comments.1).contains("Zonder tweede handtekening"));
}

#[test]
fn pptx_from_libreoffice() {
    let (original, cleaned) = removes_all("slides.pptx");
    check_with_exiftool(
        "slides.pptx",
        &original,
        &cleaned.bytes,
        &["XMP-dc:Creator", "XML:LastModifiedBy", "XML:Application"],
        &["Jan Jansen", "Piet Pietersen"],
    );
    no_names_inside("slides.pptx", &original, &cleaned.bytes, &["Marie Maas"]);
    assert!(cleaned.removed.contains(&FindingKind::CommentAuthor));
}

#[test]
fn odt_from_libreoffice() {
    let (original, cleaned) = removes_all("memo.odt");
    check_with_exiftool(
        "memo.odt",
        &original,
        &cleaned.bytes,
        &[
            "XMP-meta:Initial-creator",
            "XMP-dc:Creator",
            "XMP-meta:Creation-date",
            "XMP-meta:Editing-duration",
            "XMP-meta:Printed-by",
            "XMP-meta:Generator",
            "XMP-meta:User-defined",
            "XMP-dc:Title",
        ],
        &[
            "Jan Jansen",
            "Piet Pietersen",
            "Fraudeonderzoek",
            "LibreOffice",
        ],
    );
    no_names_inside(
        "memo.odt",
        &original,
        &cleaned.bytes,
        &["Klaas Klaassen", "Marie Maas", "Jan Jansen"],
    );
    for kind in [
        FindingKind::Thumbnail,
        FindingKind::TrackedChangeAuthor,
        FindingKind::CommentAuthor,
        FindingKind::Printer,
    ] {
        assert!(cleaned.removed.contains(&kind), "{kind:?}");
    }
    // ODF rules: mimetype first and stored; the rest in the same order, less the thumbnail.
    let mut zip = zip::ZipArchive::new(Cursor::new(&cleaned.bytes[..])).unwrap();
    {
        let first = zip.by_index(0).unwrap();
        assert_eq!(first.name().unwrap(), "mimetype");
        assert_eq!(first.compression(), zip::CompressionMethod::Stored);
    }
    let names = |b: &[u8]| members(b).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    let mut expected = names(&original);
    expected.retain(|n| !n.starts_with("Thumbnails/"));
    assert_eq!(names(&cleaned.bytes), expected);
    let manifest = members(&cleaned.bytes)
        .into_iter()
        .find(|(n, _)| n == "META-INF/manifest.xml")
        .unwrap()
        .1;
    assert!(!String::from_utf8_lossy(&manifest).contains("Thumbnails/"));
    // The text is unchanged: content.xml differs only in the replaced authors and dates.
    let content = |b: &[u8]| {
        members(b)
            .into_iter()
            .find(|(n, _)| n == "content.xml")
            .unwrap()
            .1
    };
    let text = String::from_utf8_lossy(&content(&cleaned.bytes)).into_owned();
    assert!(text.contains("zonder tweede handtekening") && text.contains("Klopt dit bedrag?"));
}

// ---------------------------------------------------------------- archives

#[test]
fn zip_members_are_cleaned_recursively() {
    let original = fixture("bundle.zip");
    let inspection = inspect("bundle.zip", &original);
    assert_eq!(inspection.format, Format::Zip);
    let at = |loc: &str, kind: FindingKind| {
        inspection
            .findings
            .iter()
            .any(|f| f.location == loc && f.kind == kind)
    };
    assert!(at("photo.jpg", FindingKind::GpsPosition));
    assert!(at(
        "memo.docx > word/document.xml",
        FindingKind::TrackedChangeAuthor
    ));
    assert!(at("inner.zip > photo.png", FindingKind::Author));
    assert!(at("", FindingKind::Comment), "the archive comment");
    assert!(inspection
        .warnings
        .iter()
        .any(|w| w.location == "mail.eml" && w.kind == WarningKind::MemberKept));

    let (_, cleaned) = removes_all("bundle.zip");
    assert!(
        cleaned.warnings.iter().any(|w| w.location == "mail.eml"),
        "the e-mail is reported as unchecked"
    );
    let (before, after) = (members(&original), members(&cleaned.bytes));
    assert_eq!(
        before.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        after.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        match name.as_str() {
            "notes.txt" | "mail.eml" => assert_eq!(a, b, "{name} kept as it is"),
            "photo.jpg" => {
                check_with_exiftool("photo.jpg", a, b, CAMERA_TAGS, CAMERA_STRINGS);
                assert_eq!(jpeg_pixels(a), jpeg_pixels(b));
            }
            "memo.docx" => check_with_exiftool(
                "memo.docx",
                a,
                b,
                &["XMP-dc:Creator", "XML:LastModifiedBy"],
                &["Jan Jansen"],
            ),
            "inner.zip" => {
                let (inner_a, inner_b) = (members(a), members(b));
                check_with_exiftool(
                    "photo.png",
                    &inner_a[0].1,
                    &inner_b[0].1,
                    CAMERA_TAGS,
                    CAMERA_STRINGS,
                );
            }
            other => panic!("unexpected member {other}"),
        }
    }
    let zip = zip::ZipArchive::new(Cursor::new(&cleaned.bytes[..])).unwrap();
    assert!(zip.comment().is_empty());
}
