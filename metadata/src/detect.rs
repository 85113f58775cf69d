//! Format detection, from the content; the file name is only a hint (e-mail).

use std::io::{Cursor, Read};

use serde::{Deserialize, Serialize};

/// A file format, as detected from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// JPEG picture.
    Jpeg,
    /// PNG picture.
    Png,
    /// WebP picture.
    Webp,
    /// TIFF picture (inspected, not cleaned).
    Tiff,
    /// HEIC/HEIF/AVIF picture (inspected, not cleaned).
    Heif,
    /// GIF picture (not checked).
    Gif,
    /// PDF document.
    Pdf,
    /// Word document (also .docm, .dotx).
    Docx,
    /// Excel workbook (also .xlsm).
    Xlsx,
    /// PowerPoint presentation.
    Pptx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
    /// Another OpenDocument file (drawing, formula…).
    OpenDocument,
    /// A zip archive.
    Zip,
    /// An old binary Office file (.doc, .xls, .ppt) or another OLE compound file
    /// (also an encrypted Office file).
    LegacyOffice,
    /// Rich Text Format (not checked).
    Rtf,
    /// HTML, XML or SVG (not checked).
    Markup,
    /// An e-mail message (.eml, .msg, mbox): not checked.
    Email,
    /// Audio (not checked).
    Audio,
    /// Video (not checked).
    Video,
    /// Plain text: no hidden metadata.
    Text,
    /// Not recognised.
    Unknown,
}

impl Format {
    /// A plain-words name, e.g. "JPEG picture".
    pub fn description(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG picture",
            Format::Png => "PNG picture",
            Format::Webp => "WebP picture",
            Format::Tiff => "TIFF picture",
            Format::Heif => "HEIC/HEIF picture",
            Format::Gif => "GIF picture",
            Format::Pdf => "PDF document",
            Format::Docx => "Word document",
            Format::Xlsx => "Excel workbook",
            Format::Pptx => "PowerPoint presentation",
            Format::Odt => "OpenDocument text",
            Format::Ods => "OpenDocument spreadsheet",
            Format::Odp => "OpenDocument presentation",
            Format::OpenDocument => "OpenDocument file",
            Format::Zip => "zip archive",
            Format::LegacyOffice => "old-style Office (or encrypted Office)",
            Format::Rtf => "RTF document",
            Format::Markup => "HTML/XML/SVG",
            Format::Email => "e-mail message",
            Format::Audio => "audio",
            Format::Video => "video",
            Format::Text => "plain text",
            Format::Unknown => "unrecognised",
        }
    }

    /// What the reporter can do instead, for formats that cannot be cleaned.
    pub fn advice(self) -> &'static str {
        match self {
            Format::Tiff | Format::Heif | Format::Gif => {
                "take a screenshot of it, or save it as PNG or JPEG, and send that instead"
            }
            Format::LegacyOffice | Format::Rtf => {
                "save it as .docx, .xlsx, .pptx, .odt or PDF (without a password) and send that instead"
            }
            Format::Email => {
                "an e-mail carries its sender, recipients and the servers it passed; \
                 copy the parts you need into the report, or print it to PDF"
            }
            Format::Audio | Format::Video => {
                "recordings carry device, software and sometimes location data that \
                 cannot be checked here; think about what the recording itself reveals"
            }
            Format::Markup => "markup can carry author names in its tags; print it to PDF instead",
            _ => "it is sent as it is only if you choose so",
        }
    }

    /// Whether [`clean`](crate::clean) handles this format.
    pub fn can_clean(self) -> bool {
        matches!(
            self,
            Format::Jpeg
                | Format::Png
                | Format::Webp
                | Format::Pdf
                | Format::Docx
                | Format::Xlsx
                | Format::Pptx
                | Format::Odt
                | Format::Ods
                | Format::Odp
                | Format::OpenDocument
                | Format::Zip
                | Format::Text
        )
    }
}

const HEIF_BRANDS: &[&[u8; 4]] = &[
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1",
    b"avif", b"avis",
];
const AUDIO_BRANDS: &[&[u8; 4]] = &[b"M4A ", b"M4B ", b"M4P ", b"F4A "];

/// Detects the format of `bytes`; `name` only decides between e-mail and other formats
/// that the content alone cannot tell apart.
pub(crate) fn detect(name: &str, bytes: &[u8]) -> Format {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let at = |range: std::ops::Range<usize>| bytes.get(range).unwrap_or(&[]);

    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Format::Jpeg;
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Format::Png;
    }
    if bytes.starts_with(b"RIFF") {
        return match at(8..12) {
            b"WEBP" => Format::Webp,
            b"WAVE" => Format::Audio,
            b"AVI " => Format::Video,
            _ => Format::Unknown,
        };
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Format::Tiff;
    }
    if at(4..8) == b"ftyp" {
        return iso_bmff(bytes);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Format::Gif;
    }
    if bytes
        .get(..1024.min(bytes.len()))
        .is_some_and(|head| head.windows(5).any(|w| w == b"%PDF-"))
    {
        return Format::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return zip_kind(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return if ext == "msg" {
            Format::Email
        } else {
            Format::LegacyOffice
        };
    }
    if bytes.starts_with(b"ID3")
        || bytes.starts_with(b"fLaC")
        || bytes.starts_with(b"OggS")
        || (bytes.starts_with(b"FORM") && matches!(at(8..12), b"AIFF" | b"AIFC"))
        || (bytes.len() > 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0 && ext == "mp3")
    {
        return Format::Audio;
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) || bytes.starts_with(b"FLV") {
        return Format::Video;
    }
    text_kind(ext, bytes)
}

/// MP4/MOV/3GP and HEIF share the ISO base media file format; the brands tell which.
fn iso_bmff(bytes: &[u8]) -> Format {
    let size = bytes
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(0)
        .clamp(12, 256);
    let mut brands = vec![bytes.get(8..12).unwrap_or(&[])];
    let mut i = 16;
    while i + 4 <= size.min(bytes.len()) {
        brands.push(&bytes[i..i + 4]);
        i += 4;
    }
    if brands
        .iter()
        .any(|b| HEIF_BRANDS.iter().any(|h| &h[..] == *b))
    {
        Format::Heif
    } else if brands
        .first()
        .is_some_and(|b| AUDIO_BRANDS.iter().any(|a| &a[..] == *b))
    {
        Format::Audio
    } else {
        Format::Video
    }
}

/// Tells OOXML and OpenDocument files from plain zip archives by their members.
fn zip_kind(bytes: &[u8]) -> Format {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // A broken zip: the zip code reports why.
        return Format::Zip;
    };
    let mut mimetype = String::new();
    if let Ok(file) = archive.by_name("mimetype") {
        let _ = file.take(200).read_to_string(&mut mimetype);
    }
    let mimetype = mimetype.trim();
    if let Some(odf) = mimetype.strip_prefix("application/vnd.oasis.opendocument.") {
        return match odf {
            "text" | "text-template" => Format::Odt,
            "spreadsheet" | "spreadsheet-template" => Format::Ods,
            "presentation" | "presentation-template" => Format::Odp,
            _ => Format::OpenDocument,
        };
    }
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("[Content_Types].xml") {
        if has("word/document.xml") {
            return Format::Docx;
        }
        if has("xl/workbook.xml") {
            return Format::Xlsx;
        }
        if has("ppt/presentation.xml") {
            return Format::Pptx;
        }
    }
    Format::Zip
}

/// Text formats: plain text, RTF, markup, e-mail.
fn text_kind(ext: &str, bytes: &[u8]) -> Format {
    let head = bytes.get(..4096.min(bytes.len())).unwrap_or(&[]);
    if head.is_empty() {
        return Format::Text;
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // The head may end inside a character.
        Err(e) if e.valid_up_to() + 4 > head.len() && e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => {
            return if matches!(ext, "eml" | "msg" | "mbox") {
                Format::Email
            } else {
                Format::Unknown
            };
        }
    };
    if text.contains('\0') {
        return Format::Unknown;
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("{\\rtf") {
        return Format::Rtf;
    }
    if matches!(ext, "eml" | "msg" | "mbox") || looks_like_email(trimmed) {
        return Format::Email;
    }
    if trimmed.starts_with('<')
        || matches!(
            ext,
            "html" | "htm" | "xhtml" | "xml" | "svg" | "fodt" | "fods" | "fodp"
        )
    {
        return Format::Markup;
    }
    Format::Text
}

/// An e-mail starts with header lines and has a From: header and another typical one.
fn looks_like_email(text: &str) -> bool {
    let mut lines = text.lines();
    let first_is_header = lines.next().is_some_and(|l| {
        l.starts_with("From ")
            || l.split_once(':').is_some_and(|(name, _)| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    });
    if !first_is_header {
        return false;
    }
    let headers: Vec<String> = text
        .lines()
        .take_while(|l| !l.is_empty())
        .take(200)
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_ascii_lowercase()))
        .collect();
    let has = |h: &str| headers.iter().any(|n| n == h);
    has("from")
        && [
            "date",
            "subject",
            "received",
            "message-id",
            "to",
            "return-path",
        ]
        .iter()
        .any(|h| has(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_content_not_name() {
        assert_eq!(detect("x.pdf", b"\xFF\xD8\xFF\xE0"), Format::Jpeg);
        assert_eq!(detect("x.jpg", b"%PDF-1.4\n"), Format::Pdf);
        assert_eq!(detect("x", b"RIFF\0\0\0\0WEBPVP8 "), Format::Webp);
        assert_eq!(detect("x", b"II*\0\x08\0\0\0"), Format::Tiff);
        assert_eq!(detect("x", b"GIF89a"), Format::Gif);
        assert_eq!(
            detect("x", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Format::Heif
        );
        assert_eq!(
            detect("x", b"\0\0\0\x18ftypmp42\0\0\0\0isommp42"),
            Format::Video
        );
        assert_eq!(detect("x", b"\0\0\0\x14ftypM4A \0\0\0\0"), Format::Audio);
        assert_eq!(detect("x", b"ID3\x04"), Format::Audio);
        assert_eq!(detect("x", b"\x1a\x45\xdf\xa3"), Format::Video);
        assert_eq!(detect("x", b"{\\rtf1\\ansi"), Format::Rtf);
        assert_eq!(detect("x", b"<html><head>"), Format::Markup);
        assert_eq!(detect("notes.txt", b"Just some notes.\n"), Format::Text);
        assert_eq!(detect("x", b"\x00\x01\x02binary"), Format::Unknown);
        assert_eq!(
            detect("x.msg", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
            Format::Email
        );
        assert_eq!(
            detect("x.doc", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"),
            Format::LegacyOffice
        );
        assert_eq!(detect("x", b""), Format::Text);
    }

    #[test]
    fn email_by_headers_or_name() {
        let mail = "Return-Path: <a@b>\nFrom: Jan <jan@example.org>\nTo: x@y\nSubject: hi\n\nbody";
        assert_eq!(detect("message", mail.as_bytes()), Format::Email);
        assert_eq!(detect("message.eml", b"hello"), Format::Email);
        assert_eq!(
            detect("notes.txt", b"From: the start\nof my notes"),
            Format::Text
        );
    }
}
