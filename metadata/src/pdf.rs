//! PDF: the Info dictionary, XMP metadata streams (the catalog's and any object's), the
//! trailer's document /ID, comment authors on annotations and application private data
//! are removed; embedded files are listed, not cleaned. The file is rewritten by lopdf
//! with every remaining object as it was: page content streams stay byte-identical.

use std::collections::HashSet;
use std::io::Read;

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::report::Ctx;
use crate::Input;
use crate::{xmp, CleanError, FindingKind, Format, WarningKind};

/// At most this much of one metadata stream is unpacked for display.
const MAX_XMP: u64 = 1024 * 1024;

/// Annotation subtypes whose /T is a form field name, not an author.
const NOT_AUTHORED: &[&[u8]] = &[b"Widget", b"Link"];

pub(crate) fn pdf(ctx: &mut Ctx, bytes: &[u8]) -> Result<Option<Vec<u8>>, CleanError> {
    pdf_input(ctx, &mut Input::Borrowed(bytes))
}

/// [`pdf`] on an [`Input`]: an original the caller gave up is released once the document
/// is parsed and known to change, before the cleaned copy is written, so cleaning holds
/// the parsed document and one other copy at a time, not three.
pub(crate) fn pdf_input(ctx: &mut Ctx, input: &mut Input) -> Result<Option<Vec<u8>>, CleanError> {
    let bytes = input.bytes();
    // lopdf's parser recurses into nested arrays and dictionaries: a file nested deeper
    // than any real one would overflow the stack (an abort, in WebAssembly too).
    // Object streams are unpacked (by lopdf, without a limit) to read the objects in
    // them: a PDF whose object streams unpack to more than MAX_OBJECT_STREAMS is refused.
    let mut budget = MAX_OBJECT_STREAMS;
    match nesting_ok(bytes, Some(&mut budget)) {
        Nesting::Ok => {}
        Nesting::TooDeep => {
            return Err(CleanError::Corrupt {
                format: Format::Pdf,
                detail: format!("arrays or dictionaries nested deeper than {MAX_NESTING}"),
            })
        }
        Nesting::TooLarge => {
            return Err(CleanError::TooLarge {
                limit: "the PDF's object and cross-reference streams unpack to more than 64 MiB",
            })
        }
    }
    let mut doc = Document::load_mem(bytes).map_err(|e| CleanError::Corrupt {
        format: Format::Pdf,
        detail: e.to_string(),
    })?;
    if doc.trailer.get(b"Encrypt").is_ok() {
        return Err(CleanError::Encrypted {
            format: Format::Pdf,
        });
    }
    let before = ctx.removable_count();

    // The document information dictionary.
    let info_id = match doc.trailer.get(b"Info") {
        Ok(Object::Reference(id)) => Some(*id),
        _ => None,
    };
    let info = match doc.trailer.get(b"Info") {
        Ok(Object::Dictionary(d)) => Some(d),
        Ok(Object::Reference(id)) => doc.get_dictionary(*id).ok(),
        _ => None,
    };
    if let Some(info) = info {
        for (key, value) in info.iter() {
            let kind = match key.as_slice() {
                b"Author" => FindingKind::Author,
                b"Creator" => FindingKind::CreatorTool,
                b"Producer" => FindingKind::Producer,
                b"Title" => FindingKind::Title,
                b"Subject" => FindingKind::Subject,
                b"Keywords" => FindingKind::Keywords,
                b"CreationDate" | b"ModDate" => FindingKind::Dates,
                b"Trapped" => continue,
                _ => FindingKind::CustomProperty,
            };
            let value = text(value);
            let value = if kind == FindingKind::CustomProperty {
                format!("{}: {value}", String::from_utf8_lossy(key))
            } else {
                value
            };
            if !value.is_empty() {
                ctx.find(kind, &value, true);
            }
        }
    }

    // The document id links versions and copies of one file.
    if let Ok(Object::Array(ids)) = doc.trailer.get(b"ID") {
        if let Some(Object::String(id, _)) = ids.first() {
            let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
            ctx.find(FindingKind::DocumentId, &hex, true);
        }
    }

    // LibreOffice's hybrid PDF: the whole editable source document, with all its own
    // metadata, rides along (in the trailer).
    if doc.trailer.has(b"AdditionalStreams") {
        ctx.find(
            FindingKind::EmbeddedFile,
            "the editable source document (LibreOffice hybrid PDF)",
            true,
        );
    }
    if let Ok(sum) = doc.trailer.get(b"DocChecksum") {
        ctx.find(FindingKind::DocumentId, &text(sum), true);
    }

    // Every object: metadata streams, /Metadata and private-data keys, annotation
    // authors, embedded files.
    let mut metadata_streams = Vec::new();
    let mut embedded = Vec::new();
    let cleaning = ctx.cleaning();
    for (&id, object) in doc.objects.iter_mut() {
        if let Object::Stream(stream) = object {
            let is_metadata = name(&stream.dict, b"Type") == Some(b"Metadata")
                || name(&stream.dict, b"Subtype") == Some(b"XML");
            if is_metadata {
                match xmp_content(stream) {
                    Some(packet) => xmp::findings(ctx, &packet),
                    None => ctx.find(FindingKind::Xmp, "XMP metadata (compressed)", true),
                }
                metadata_streams.push(id);
            }
        }
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &mut s.dict,
            _ => continue,
        };
        let mut remove: Vec<&[u8]> = Vec::new();
        if dict.has(b"Metadata") {
            remove.push(b"Metadata");
        }
        if dict.has(b"PieceInfo") {
            ctx.find(
                FindingKind::OtherMetadata,
                "application data (PieceInfo)",
                true,
            );
            remove.push(b"PieceInfo");
        }
        if let Ok(v) = dict.get(b"LastModified") {
            ctx.find(FindingKind::Dates, &text(v), true);
            remove.push(b"LastModified");
        }
        let is_annotation =
            name(dict, b"Type") == Some(b"Annot") || (dict.has(b"Subtype") && dict.has(b"Rect"));
        if is_annotation && !name(dict, b"Subtype").is_some_and(|s| NOT_AUTHORED.contains(&s)) {
            if let Ok(v) = dict.get(b"T") {
                let author = text(v);
                if !author.is_empty() {
                    ctx.find(FindingKind::CommentAuthor, &author, true);
                    remove.push(b"T");
                }
            }
            for key in [&b"M"[..], b"CreationDate"] {
                if let Ok(v) = dict.get(key) {
                    ctx.find(FindingKind::Dates, &text(v), true);
                    remove.push(key);
                }
            }
        }
        if name(dict, b"Type") == Some(b"Filespec") || dict.has(b"EF") {
            let file = dict
                .get(b"UF")
                .or_else(|_| dict.get(b"F"))
                .map(text)
                .unwrap_or_else(|_| "(no name)".to_string());
            if !embedded.contains(&file) {
                embedded.push(file);
            }
        }
        if cleaning {
            for key in remove {
                dict.remove(key);
            }
        }
    }
    for file in &embedded {
        ctx.find(FindingKind::EmbeddedFile, file, false);
    }
    if !embedded.is_empty() {
        ctx.warn(
            WarningKind::EmbeddedFile,
            format!(
                "This PDF carries {} embedded file(s) ({}). They are not checked or cleaned and are \
                 sent as they are; save them separately and attach them instead if they matter.",
                embedded.len(),
                embedded.join(", ")
            ),
        );
    }

    if !cleaning || ctx.removable_count() == before {
        return Ok(None);
    }

    doc.trailer.remove(b"Info");
    doc.trailer.remove(b"ID");
    doc.trailer.remove(b"AdditionalStreams");
    doc.trailer.remove(b"DocChecksum");
    if let Some(id) = info_id {
        doc.objects.remove(&id);
    }
    for id in metadata_streams {
        doc.objects.remove(&id);
    }
    // Objects nothing refers to any more (and leftovers of earlier saves) go too.
    for id in unreachable(&doc) {
        doc.objects.remove(&id);
    }
    let size = input.bytes().len();
    input.release();
    let mut out = Vec::with_capacity(size);
    doc.save_to(&mut out).map_err(|e| CleanError::Corrupt {
        format: Format::Pdf,
        detail: e.to_string(),
    })?;
    Ok(Some(out))
}

fn name<'a>(dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    dict.get(key).and_then(Object::as_name).ok()
}

/// The XMP packet of a metadata stream: raw, or inflated if FlateDecode (bounded).
fn xmp_content(stream: &lopdf::Stream) -> Option<Vec<u8>> {
    match stream.dict.get(b"Filter") {
        Err(_) => Some(stream.content.clone()),
        Ok(f) => {
            let flate = match f {
                Object::Name(n) => n == b"FlateDecode",
                Object::Array(a) => {
                    a.len() == 1 && a.first().and_then(|n| n.as_name().ok()) == Some(b"FlateDecode")
                }
                _ => false,
            };
            if !flate {
                return None;
            }
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(&stream.content[..])
                .take(MAX_XMP)
                .read_to_end(&mut out)
                .ok()?;
            Some(out)
        }
    }
}

/// How deep arrays and dictionaries may nest (real files stay well below 20).
const MAX_NESTING: usize = 64;
/// At most this much of all object streams together may be unpacked.
const MAX_OBJECT_STREAMS: u64 = 64 * 1024 * 1024;

/// The outcome of the nesting check.
enum Nesting {
    Ok,
    TooDeep,
    TooLarge,
}

/// Checks that arrays and dictionaries nest at most [`MAX_NESTING`] deep, skipping
/// comments, strings and stream data, and looking into (Flate-compressed) object streams,
/// whose objects lopdf parses too.
fn nesting_ok(bytes: &[u8], mut object_streams: Option<&mut u64>) -> Nesting {
    let mut depth = 0usize;
    let mut object_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'(' => {
                // A literal string: balanced parentheses, backslash escapes.
                let mut level = 0usize;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'(' => level += 1,
                        b')' => {
                            level -= 1;
                            if level == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'o' if bytes[i..].starts_with(b"obj") => object_start = i,
            b's' if bytes[i..].starts_with(b"stream") && !bytes[..i].ends_with(b"end") => {
                let data_start = i + 6;
                let end = find(&bytes[data_start..], b"endstream")
                    .map_or(bytes.len(), |e| data_start + e);
                let dict = &bytes[object_start.min(i)..i];
                if let Some(budget) = object_streams.as_deref_mut() {
                    let object_stream = find(dict, b"/ObjStm").is_some();
                    // Cross-reference streams are unpacked by lopdf too (their binary
                    // content is not checked for nesting).
                    let xref_stream = find(dict, b"/XRef").is_some();
                    if (object_stream || xref_stream) && find(dict, b"/FlateDecode").is_some() {
                        let data = &bytes[data_start..end];
                        let data = data
                            .strip_prefix(b"\r\n")
                            .or_else(|| data.strip_prefix(b"\n"))
                            .unwrap_or(data);
                        let mut inflated = Vec::new();
                        let _ = flate2::read::ZlibDecoder::new(data)
                            .take(*budget + 1)
                            .read_to_end(&mut inflated);
                        if inflated.len() as u64 > *budget {
                            return Nesting::TooLarge;
                        }
                        *budget -= inflated.len() as u64;
                        if object_stream {
                            match nesting_ok(&inflated, None) {
                                Nesting::Ok => {}
                                other => return other,
                            }
                        }
                    }
                }
                i = end + 9;
                continue;
            }
            _ => {}
        }
        if depth > MAX_NESTING {
            return Nesting::TooDeep;
        }
        i += 1;
    }
    Nesting::Ok
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Objects not reachable from the trailer (iterative: no recursion on deep files).
fn unreachable(doc: &Document) -> Vec<ObjectId> {
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<&Object> = doc.trailer.iter().map(|(_, v)| v).collect();
    while let Some(object) = stack.pop() {
        match object {
            Object::Reference(id) if seen.insert(*id) => {
                if let Some(o) = doc.objects.get(id) {
                    stack.push(o);
                }
            }
            Object::Array(items) => stack.extend(items.iter()),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| v)),
            Object::Stream(s) => stack.extend(s.dict.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    doc.objects
        .keys()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect()
}

/// A PDF value as text: text strings are UTF-16BE with a byte order mark, UTF-8 with
/// one, or PDFDocEncoding (read as Latin-1).
fn text(object: &Object) -> String {
    match object {
        Object::String(b, _) => {
            if let Some(utf16) = b.strip_prefix(&[0xFE, 0xFF]) {
                let units: Vec<u16> = utf16
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                String::from_utf16_lossy(&units)
            } else if let Some(utf8) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
                String::from_utf8_lossy(utf8).into_owned()
            } else {
                b.iter().map(|&c| char::from(c)).collect()
            }
        }
        Object::Name(n) => String::from_utf8_lossy(n).into_owned(),
        Object::Integer(i) => i.to_string(),
        Object::Real(r) => r.to_string(),
        Object::Boolean(b) => b.to_string(),
        Object::Reference((n, g)) => format!("(object {n} {g})"),
        _ => "(data)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Mode;
    use lopdf::{dictionary, Stream};

    /// A one-page PDF with an Info dictionary, catalog XMP, an ID, a text annotation with
    /// an author and an embedded file.
    fn sample() -> (Vec<u8>, Vec<u8>) {
        let mut doc = Document::with_version("1.7");
        let content = b"BT /F1 12 Tf 72 712 Td (Hello) Tj ET".to_vec();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.clone()));
        let annot = doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Text", "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
            "T" => Object::string_literal("Jan Jansen"), "Contents" => Object::string_literal("check this"),
            "M" => Object::string_literal("D:20261123093000+01'00'"),
        });
        let widget = doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
            "T" => Object::string_literal("field1"),
        });
        let pages_id = doc.new_object_id();
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Annots" => vec![annot.into(), widget.into()],
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            }),
        );
        let xmp = doc.add_object(Stream::new(
            dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
            br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Jan Jansen</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"#.to_vec(),
        ));
        let file = doc.add_object(Stream::new(
            dictionary! { "Type" => "EmbeddedFile" },
            b"secret".to_vec(),
        ));
        let spec = doc.add_object(dictionary! {
            "Type" => "Filespec", "F" => Object::string_literal("notes.txt"), "EF" => dictionary! { "F" => file },
        });
        let catalog = doc.add_object(dictionary! {
            "Type" => "Catalog", "Pages" => pages_id, "Metadata" => xmp,
            "Names" => dictionary! { "EmbeddedFiles" => dictionary! { "Names" => vec![Object::string_literal("notes.txt"), spec.into()] } },
        });
        let info = doc.add_object(dictionary! {
            "Author" => Object::String(b"\xFE\xFF\0J\0a\0n".to_vec(), lopdf::StringFormat::Literal),
            "Producer" => Object::string_literal("Producer 1.0"),
            "Trapped" => "False",
            "Department" => Object::string_literal("Fraud unit"),
        });
        doc.trailer.set("Root", catalog);
        doc.trailer.set("Info", info);
        doc.trailer.set(
            "ID",
            vec![
                Object::String(vec![1, 2, 0xab], lopdf::StringFormat::Hexadecimal),
                Object::String(vec![1, 2, 0xab], lopdf::StringFormat::Hexadecimal),
            ],
        );
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        (out, content)
    }

    #[test]
    fn finds_and_removes() {
        let (input, content) = sample();
        let mut ctx = Ctx::new(Mode::Clean);
        let out = pdf(&mut ctx, &input).unwrap().unwrap();
        let found: Vec<_> = ctx
            .findings()
            .iter()
            .map(|f| (f.kind, f.value.as_str(), f.removable))
            .collect();
        for expected in [
            (FindingKind::Author, "Jan", true),
            (FindingKind::Producer, "Producer 1.0", true),
            (FindingKind::CustomProperty, "Department: Fraud unit", true),
            (FindingKind::DocumentId, "0102ab", true),
            (FindingKind::Author, "Jan Jansen", true),
            (FindingKind::CommentAuthor, "Jan Jansen", true),
            (FindingKind::EmbeddedFile, "notes.txt", false),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
        assert!(
            !found.iter().any(|f| f.1 == "field1"),
            "form field names are no authors"
        );

        let doc = Document::load_mem(&out).unwrap();
        assert!(doc.trailer.get(b"Info").is_err());
        assert!(doc.trailer.get(b"ID").is_err());
        let page = *doc.get_pages().get(&1).unwrap();
        assert_eq!(doc.get_page_content(page).unwrap(), content);
        let text = String::from_utf8_lossy(&out);
        assert!(
            !text.contains("Jansen") && !text.contains("Producer 1.0") && !text.contains("Fraud")
        );
        assert!(text.contains("field1") && text.contains("secret"));

        let mut again = Ctx::new(Mode::Clean);
        assert!(
            pdf(&mut again, &out).unwrap().is_none(),
            "{:?}",
            again.findings()
        );
        assert!(again.findings().iter().all(|f| !f.removable));
    }

    fn with_object_stream(content: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(content).unwrap();
        let data = z.finish().unwrap();
        let mut pdf =
            b"%PDF-1.5\n5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n"
                .to_vec();
        pdf.extend_from_slice(&data);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        pdf
    }

    #[test]
    fn nesting_and_size_are_checked_inside_object_streams() {
        let mut budget = MAX_OBJECT_STREAMS;
        assert!(matches!(
            nesting_ok(&with_object_stream(b"1 0 [[[ ]]]"), Some(&mut budget)),
            Nesting::Ok
        ));
        let deep = vec![b'['; 10_000];
        assert!(matches!(
            nesting_ok(&with_object_stream(&deep), Some(&mut budget)),
            Nesting::TooDeep
        ));
        let big = vec![b' '; usize::try_from(MAX_OBJECT_STREAMS).unwrap() + 1];
        let bomb = with_object_stream(&big);
        assert!(bomb.len() < 1024 * 1024);
        let mut ctx = Ctx::new(Mode::Inspect);
        assert!(matches!(
            pdf(&mut ctx, &bomb),
            Err(CleanError::TooLarge { .. })
        ));
        // Brackets in strings, comments and plain streams do not count.
        let mut flat =
            b"%PDF-1.4\n(((((( [[[[ )))))) % [[[[[[\n1 0 obj << /Length 3 >>\nstream\n".to_vec();
        flat.extend(vec![b'['; 1000]);
        flat.extend_from_slice(b"\nendstream\nendobj\n");
        assert!(matches!(nesting_ok(&flat, Some(&mut budget)), Nesting::Ok));
    }
}
