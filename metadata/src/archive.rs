//! Zip containers: Office and OpenDocument files and plain archives. Members are
//! unpacked one at a time, within [`MAX_MEMBER_SIZE`] and [`MAX_TOTAL_UNPACKED`];
//! the rewritten container keeps member order and each member's compression (so an
//! OpenDocument `mimetype` stays first and stored), sets every member time to
//! 1980-01-01 and drops the archive comment and per-member extra fields.

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::report::Ctx;
use crate::{
    office, process_nested, xml, CleanError, FindingKind, Format, WarningKind, MAX_MEMBERS,
    MAX_MEMBER_SIZE, MAX_TOTAL_UNPACKED,
};

/// What kind of zip container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// DOCX, XLSX, PPTX.
    Ooxml,
    /// ODT, ODS, ODP and other OpenDocument files.
    Odf,
    /// Any other zip archive.
    Plain,
}

pub(crate) fn zip(
    ctx: &mut Ctx,
    format: Format,
    bytes: &[u8],
    container: Container,
) -> Result<Option<Vec<u8>>, CleanError> {
    let corrupt = |e: &dyn std::fmt::Display| CleanError::Corrupt {
        format,
        detail: e.to_string(),
    };
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    if archive.len() > MAX_MEMBERS {
        return Err(CleanError::TooLarge {
            limit: "too many files in the archive",
        });
    }
    let before = ctx.removable_count();
    if !archive.comment().is_empty() {
        ctx.find(
            FindingKind::Comment,
            &String::from_utf8_lossy(archive.comment()),
            true,
        );
    }
    let names: Vec<String> = (0..archive.len())
        .map(|i| match archive.name_for_index(i) {
            Some(Ok(n)) => n.into_owned(),
            _ => String::new(),
        })
        .collect();
    if container == Container::Odf && odf_encrypted(&mut archive) {
        return Err(CleanError::Encrypted { format });
    }
    let removed: BTreeSet<String> = office::removed_members(ctx, container, &names);

    let mut writer = ctx
        .cleaning()
        .then(|| ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len()))));
    let mut dated = false;
    for (i, name) in names.iter().enumerate() {
        let (is_dir, encrypted, size, method) = {
            let file = archive.by_index_raw(i).map_err(|e| corrupt(&e))?;
            dated |= file
                .last_modified()
                .is_some_and(|t| t != DateTime::default());
            (
                file.is_dir(),
                file.encrypted(),
                file.size(),
                file.compression(),
            )
        };
        let stored = method == CompressionMethod::Stored;
        let options = SimpleFileOptions::default()
            .compression_method(if stored {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            })
            .last_modified_time(DateTime::default());
        if removed.contains(name) {
            continue;
        }
        if is_dir {
            if let Some(w) = writer.as_mut() {
                w.add_directory(name.as_str(), options)
                    .map_err(|e| corrupt(&e))?;
            }
            continue;
        }
        if encrypted {
            if container != Container::Plain {
                return Err(CleanError::Encrypted { format });
            }
            ctx.enter(name);
            ctx.warn(
                WarningKind::Encrypted,
                "This file in the archive is password-protected; it could not be checked and is kept as it is."
                    .to_string(),
            );
            ctx.leave();
            raw_copy(&mut archive, writer.as_mut(), i).map_err(|e| corrupt(&e))?;
            continue;
        }
        let nested = office::is_nested_file(container, name);
        let part = office::part_for(container, name, &removed);
        if part.is_none() && !nested {
            raw_copy(&mut archive, writer.as_mut(), i).map_err(|e| corrupt(&e))?;
            continue;
        }

        // Unpack, within the limits (the sizes in the archive may lie).
        let room = MAX_TOTAL_UNPACKED.saturating_sub(ctx.unpacked);
        let limit = MAX_MEMBER_SIZE.min(room);
        if size > limit {
            return Err(too_large(limit == room));
        }
        let mut data = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
        let unpacked = match archive.by_index(i) {
            Ok(file) => file
                .take(limit + 1)
                .read_to_end(&mut data)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = unpacked {
            if container != Container::Plain {
                return Err(corrupt(&format!("{name}: {e}")));
            }
            ctx.enter(name);
            ctx.warn(
                WarningKind::MemberKept,
                format!("This file in the archive could not be unpacked ({e}); it was not checked and is kept as it is."),
            );
            ctx.leave();
            raw_copy(&mut archive, writer.as_mut(), i).map_err(|e| corrupt(&e))?;
            continue;
        }
        if data.len() as u64 > limit {
            return Err(too_large(limit == room));
        }
        ctx.unpacked += data.len() as u64;

        ctx.enter(name);
        let result = match part {
            Some(part) => xml::rewrite(ctx, format, &data, part),
            None => {
                if office::is_embedding(container, name) {
                    ctx.find(FindingKind::EmbeddedFile, name, false);
                }
                let (inner, result) = process_nested(ctx, name, &data);
                match result {
                    Ok(new) => Ok(new),
                    // Pictures an Office file stores in formats without metadata
                    // containers (EMF, WMF…) are kept silently.
                    Err(CleanError::UnknownFormat) if container != Container::Plain => Ok(None),
                    Err(e) => {
                        let (kind, message) = kept_message(inner, &e);
                        ctx.warn(kind, message);
                        Ok(None)
                    }
                }
            }
        };
        ctx.leave();
        match result? {
            Some(new) => {
                if let Some(w) = writer.as_mut() {
                    w.start_file(name.as_str(), options)
                        .map_err(|e| corrupt(&e))?;
                    w.write_all(&new).map_err(|e| corrupt(&e))?;
                }
            }
            None => raw_copy(&mut archive, writer.as_mut(), i).map_err(|e| corrupt(&e))?,
        }
    }
    if dated {
        ctx.find(
            FindingKind::Dates,
            "times at which the files inside were saved",
            true,
        );
    }
    match writer {
        Some(w) if ctx.removable_count() > before => {
            let out = w.finish().map_err(|e| corrupt(&e))?;
            Ok(Some(out.into_inner()))
        }
        _ => Ok(None),
    }
}

fn too_large(total: bool) -> CleanError {
    CleanError::TooLarge {
        limit: if total {
            "more than 512 MiB unpacked in all"
        } else {
            "a file inside unpacks to more than 128 MiB"
        },
    }
}

/// The warning for a member that is kept unchecked (or unclean).
fn kept_message(format: Format, e: &CleanError) -> (WarningKind, String) {
    let kind = match e {
        CleanError::Encrypted { .. } => WarningKind::Encrypted,
        CleanError::Unsupported {
            format: Format::Tiff | Format::Heif,
        } => WarningKind::NotCleanable,
        CleanError::TooLarge { .. } => WarningKind::LimitReached,
        CleanError::Corrupt { .. } => WarningKind::Corrupt,
        _ => WarningKind::MemberKept,
    };
    let _ = format;
    (kind, format!("Kept as it is: {e}."))
}

/// Copies a member as it is (compressed bytes untouched), with a neutral time.
fn raw_copy(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    writer: Option<&mut ZipWriter<Cursor<Vec<u8>>>>,
    index: usize,
) -> zip::result::ZipResult<()> {
    let Some(writer) = writer else {
        return Ok(());
    };
    let file = archive.by_index_raw(index)?;
    writer.raw_copy_file_touch(file, DateTime::default(), None)
}

/// An OpenDocument file with a password lists encryption data in its manifest.
fn odf_encrypted(archive: &mut ZipArchive<Cursor<&[u8]>>) -> bool {
    let Ok(file) = archive.by_name("META-INF/manifest.xml") else {
        return false;
    };
    let mut manifest = Vec::new();
    if file
        .take(MAX_MEMBER_SIZE)
        .read_to_end(&mut manifest)
        .is_err()
    {
        return false;
    }
    manifest.windows(15).any(|w| w == b"encryption-data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clean, inspect};

    fn zip_of(members: &[(&str, &str)]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in members {
            let method = if *name == "mimetype" {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            };
            w.start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
            w.write_all(data.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn member(zip: &[u8], name: &str) -> Option<String> {
        let mut archive = ZipArchive::new(Cursor::new(zip)).unwrap();
        let mut file = archive.by_name(name).ok()?;
        let mut s = String::new();
        file.read_to_string(&mut s).unwrap();
        Some(s)
    }

    const CONTENT_TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="x"/><Override PartName="/word/people.xml" ContentType="y"/><Override PartName="/docProps/thumbnail.jpeg" ContentType="z"/></Types>"#;

    fn docx() -> Vec<u8> {
        zip_of(&[
            ("[Content_Types].xml", CONTENT_TYPES),
            (
                "_rels/.rels",
                r#"<Relationships xmlns="r"><Relationship Id="rId1" Type="t/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="t/thumbnail" Target="docProps/thumbnail.jpeg"/></Relationships>"#,
            ),
            ("docProps/thumbnail.jpeg", "not really a jpeg"),
            (
                "docProps/app.xml",
                r#"<Properties xmlns="p"><Company>Ministerie</Company><Manager>Mr. Boss</Manager><Pages>1</Pages><Template>C:\Users\jjansen\Normal.dotm</Template></Properties>"#,
            ),
            (
                "word/document.xml",
                r#"<w:document xmlns:w="w"><w:body><w:p w:rsidR="00AB12CD" w:rsidRDefault="00AB12CD"><w:r w:rsidRPr="00FF0011"><w:t xml:space="preserve">Hello &amp; </w:t></w:r><w:ins w:id="1" w:author="Klaas Klaassen" w:date="2026-11-22T10:00:00Z"><w:r><w:t>world</w:t></w:r></w:ins></w:p></w:body></w:document>"#,
            ),
            (
                "word/comments.xml",
                r#"<w:comments xmlns:w="w"><w:comment w:id="0" w:author="Marie Maas" w:initials="MM"><w:p><w:r><w:t>Check</w:t></w:r></w:p></w:comment></w:comments>"#,
            ),
            (
                "word/settings.xml",
                r#"<w:settings xmlns:w="w" xmlns:r="r"><w:attachedTemplate r:id="rId1"/><w:rsids><w:rsidRoot w:val="00AB12CD"/><w:rsid w:val="00FF0011"/></w:rsids><w:zoom w:percent="100"/></w:settings>"#,
            ),
            (
                "word/_rels/settings.xml.rels",
                r#"<Relationships xmlns="r"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="file:///C:\Users\jjansen\Normal.dotm" TargetMode="External"/></Relationships>"#,
            ),
            (
                "word/_rels/document.xml.rels",
                r#"<Relationships xmlns="r"><Relationship Id="rId9" Type="t/people" Target="people.xml"/><Relationship Id="rId3" Type="t/comments" Target="comments.xml"/></Relationships>"#,
            ),
            (
                "word/people.xml",
                r#"<w15:people xmlns:w15="w15"><w15:person w15:author="Klaas Klaassen"><w15:presenceInfo w15:providerId="AD" w15:userId="S-1-5-21-1234"/></w15:person></w15:people>"#,
            ),
        ])
    }

    #[test]
    fn word_names_ids_and_template_go_text_stays() {
        let input = docx();
        assert_eq!(crate::detect::detect("x", &input), Format::Docx);
        let found = inspect("x.docx", &input);
        let kinds = found.removable_kinds();
        for k in [
            FindingKind::Company,
            FindingKind::Manager,
            FindingKind::Template,
            FindingKind::Thumbnail,
            FindingKind::People,
            FindingKind::RevisionIds,
            FindingKind::TrackedChangeAuthor,
            FindingKind::CommentAuthor,
            FindingKind::Dates,
        ] {
            assert!(kinds.contains(&k), "{k:?} not in {kinds:?}");
        }
        let out = clean("x.docx", &input).unwrap().bytes;
        let document = member(&out, "word/document.xml").unwrap();
        assert_eq!(
            document,
            r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t xml:space="preserve">Hello &amp; </w:t></w:r><w:ins w:id="1" w:author="Author"><w:r><w:t>world</w:t></w:r></w:ins></w:p></w:body></w:document>"#
        );
        let comments = member(&out, "word/comments.xml").unwrap();
        assert!(
            comments.contains(r#"w:author="Author" w:initials="A""#),
            "{comments}"
        );
        let settings = member(&out, "word/settings.xml").unwrap();
        assert_eq!(
            settings,
            r#"<w:settings xmlns:w="w" xmlns:r="r"><w:zoom w:percent="100"/></w:settings>"#
        );
        assert!(!member(&out, "word/_rels/settings.xml.rels")
            .unwrap()
            .contains("jjansen"));
        assert!(member(&out, "word/people.xml").is_none());
        assert!(member(&out, "docProps/thumbnail.jpeg").is_none());
        let rels = member(&out, "word/_rels/document.xml.rels").unwrap();
        assert!(!rels.contains("people.xml") && rels.contains("comments.xml"));
        let root_rels = member(&out, "_rels/.rels").unwrap();
        assert!(!root_rels.contains("thumbnail") && root_rels.contains("word/document.xml"));
        let types = member(&out, "[Content_Types].xml").unwrap();
        assert!(
            !types.contains("people")
                && !types.contains("thumbnail")
                && types.contains("document.xml")
        );
        assert_eq!(
            member(&out, "docProps/app.xml").unwrap(),
            r#"<Properties xmlns="p"><Pages>1</Pages></Properties>"#
        );
        // Nothing is left to remove, and a second clean changes nothing.
        assert!(inspect("x.docx", &out).removable_kinds().is_empty());
        assert_eq!(clean("x.docx", &out).unwrap().bytes, out);
    }

    #[test]
    fn excel_and_powerpoint_comment_people() {
        let xlsx = zip_of(&[
            ("[Content_Types].xml", "<Types/>"),
            (
                "xl/workbook.xml",
                r#"<workbook xmlns:x15ac="x" xmlns:xr="r"><x15ac:absPath url="C:\Users\jjansen\Documents\"/><xr:revisionPtr documentId="13_ncr:1_{ABC}"/><sheets/></workbook>"#,
            ),
            (
                "xl/comments1.xml",
                r#"<comments><authors><author>Marie Maas</author></authors><commentList><comment ref="A1" authorId="0"><text><t>Hm</t></text></comment></commentList></comments>"#,
            ),
            (
                "xl/persons/person.xml",
                r#"<personList><person displayName="Marie Maas" id="{1}" userId="marie@example.org" providerId="AD"/></personList>"#,
            ),
        ]);
        assert_eq!(crate::detect::detect("x", &xlsx), Format::Xlsx);
        let out = clean("x.xlsx", &xlsx).unwrap();
        for k in [
            FindingKind::FilePath,
            FindingKind::DocumentId,
            FindingKind::CommentAuthor,
        ] {
            assert!(out.removed.contains(&k), "{k:?}");
        }
        let all: String = [
            "xl/workbook.xml",
            "xl/comments1.xml",
            "xl/persons/person.xml",
        ]
        .iter()
        .map(|n| member(&out.bytes, n).unwrap())
        .collect();
        assert!(
            !all.contains("Marie")
                && !all.contains("jjansen")
                && !all.contains("ABC")
                && !all.contains("marie@")
        );
        assert!(all.contains("<t>Hm</t>") && all.contains("<sheets/>"));

        let pptx = zip_of(&[
            ("[Content_Types].xml", "<Types/>"),
            ("ppt/presentation.xml", "<p:presentation xmlns:p=\"p\"/>"),
            (
                "ppt/commentAuthors.xml",
                r#"<p:cmAuthorLst xmlns:p="p"><p:cmAuthor id="1" name="Marie Maas" initials="MM" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>"#,
            ),
            (
                "ppt/authors.xml",
                r#"<p188:authorLst xmlns:p188="q"><p188:author id="{1}" name="Marie Maas" initials="MM" userId="marie@example.org" providerId="AD"/></p188:authorLst>"#,
            ),
        ]);
        let out = clean("x.pptx", &pptx).unwrap();
        let all = member(&out.bytes, "ppt/commentAuthors.xml").unwrap()
            + &member(&out.bytes, "ppt/authors.xml").unwrap();
        assert!(
            !all.contains("Marie") && !all.contains("MM") && !all.contains("marie@"),
            "{all}"
        );
        assert!(all.contains(r#"lastIdx="1""#));
    }

    #[test]
    fn opendocument_printer_annotations_and_encryption() {
        let odt = zip_of(&[
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            (
                "settings.xml",
                r#"<office:document-settings xmlns:office="o" xmlns:config="c"><config:config-item config:name="PrinterName" config:type="string">HP Kamer 3.14</config:config-item><config:config-item config:name="PrinterSetup" config:type="base64Binary">SFAgS2FtZXI=</config:config-item><config:config-item config:name="Zoom" config:type="int">100</config:config-item></office:document-settings>"#,
            ),
            (
                "content.xml",
                r#"<office:document-content xmlns:office="o" xmlns:dc="d" xmlns:meta="m" xmlns:text="t"><text:p>A<office:annotation><dc:creator>Marie Maas</dc:creator><dc:date>2026-11-22T11:00:00</dc:date><meta:creator-initials>MM</meta:creator-initials><text:p>Note</text:p></office:annotation> text</text:p><dc:creator>visible field</dc:creator></office:document-content>"#,
            ),
            ("Thumbnails/thumbnail.png", "png"),
            (
                "META-INF/manifest.xml",
                r#"<manifest:manifest xmlns:manifest="m"><manifest:file-entry manifest:full-path="/" manifest:media-type="x"/><manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/></manifest:manifest>"#,
            ),
        ]);
        assert_eq!(crate::detect::detect("x", &odt), Format::Odt);
        // The reporter reads the printer's name, and what the binary setup is, not its base64.
        let printers: Vec<String> = crate::inspect("x.odt", &odt)
            .findings
            .into_iter()
            .filter(|f| f.kind == FindingKind::Printer)
            .map(|f| f.value)
            .collect();
        assert_eq!(
            printers,
            [
                "HP Kamer 3.14",
                "printer setup (binary data that names the printer)"
            ]
        );
        let out = clean("x.odt", &odt).unwrap();
        assert!(
            out.removed.contains(&FindingKind::Printer)
                && out.removed.contains(&FindingKind::CommentAuthor)
        );
        let settings = member(&out.bytes, "settings.xml").unwrap();
        assert!(
            !settings.contains("HP Kamer")
                && !settings.contains("SFAgS2FtZXI=")
                && settings.contains(">100<")
        );
        let content = member(&out.bytes, "content.xml").unwrap();
        assert!(content.contains("<dc:creator>Author</dc:creator><dc:date>1970-01-01T00:00:00</dc:date><meta:creator-initials>A</meta:creator-initials>"), "{content}");
        assert!(
            content.contains("<dc:creator>visible field</dc:creator>"),
            "only annotation and change authors are touched"
        );
        assert!(!member(&out.bytes, "META-INF/manifest.xml")
            .unwrap()
            .contains("Thumbnails"));
        let mut archive = ZipArchive::new(Cursor::new(&out.bytes[..])).unwrap();
        let first = archive.by_index(0).unwrap();
        assert_eq!(first.name().unwrap(), "mimetype");
        assert_eq!(first.compression(), CompressionMethod::Stored);
        drop(first);

        let encrypted = zip_of(&[
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", "scrambled"),
            (
                "META-INF/manifest.xml",
                r#"<manifest:manifest xmlns:manifest="m"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry></manifest:manifest>"#,
            ),
        ]);
        assert_eq!(
            clean("x.odt", &encrypted),
            Err(CleanError::Encrypted {
                format: Format::Odt
            })
        );
        assert!(inspect("x.odt", &encrypted)
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::Encrypted));
    }

    #[test]
    fn broken_office_xml_is_an_error_not_a_pass() {
        let bad = zip_of(&[
            ("[Content_Types].xml", "<Types/>"),
            (
                "word/document.xml",
                "<w:document><w:body></w:wrong></w:document>",
            ),
        ]);
        assert!(matches!(
            clean("x.docx", &bad),
            Err(CleanError::Corrupt { .. })
        ));
    }
}
