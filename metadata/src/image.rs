//! Pictures: JPEG, PNG and WebP are cleaned at container level (segments and chunks are
//! dropped, picture data is never decoded or re-encoded); TIFF and HEIF are inspected.
//!
//! Kept, because they do not identify and the picture looks different without them: the
//! ICC colour profile, JFIF and Adobe segments (decoding needs them), PNG colour and
//! animation chunks, and the EXIF orientation (written back as the only EXIF field, so
//! a portrait photo stays upright).

use std::io::Cursor;

use exif::{Context, Field, In, Tag, Value};
use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::png::{Png, PngChunk};
use img_parts::webp::WebP;
use img_parts::Bytes;

use crate::report::Ctx;
use crate::Input;
use crate::{xmp, CleanError, FindingKind, Format};

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXT_PREFIX: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

fn corrupt(format: Format, e: impl std::fmt::Display) -> CleanError {
    CleanError::Corrupt {
        format,
        detail: e.to_string(),
    }
}

/// Writes a parsed picture back out (writing to a Vec cannot fail).
macro_rules! encode {
    ($image:expr, $size:expr) => {{
        let mut out = Vec::with_capacity($size);
        let _ = $image.encoder().write_to(&mut out);
        out
    }};
}

// ---------------------------------------------------------------- JPEG

/// What to do with one JPEG segment.
enum Keep {
    Yes,
    No,
    /// Replaced by a minimal EXIF segment holding only the orientation.
    Orientation(u16),
}

pub(crate) fn jpeg(ctx: &mut Ctx, bytes: &[u8]) -> Result<Option<Vec<u8>>, CleanError> {
    jpeg_shared(ctx, &Bytes::copy_from_slice(bytes))
}

/// [`jpeg`] on an [`Input`]: an original the caller gave up is shared by the parsed
/// picture, not copied, and wiped once the cleaned copy is written.
pub(crate) fn jpeg_input(ctx: &mut Ctx, input: &mut Input) -> Result<Option<Vec<u8>>, CleanError> {
    let Input::Owned(original) = input else {
        return jpeg(ctx, input.bytes());
    };
    let shared = Bytes::from(std::mem::take(original));
    let result = jpeg_shared(ctx, &shared);
    // Every segment that pointed into it is gone: this takes the buffer back, not a copy.
    *original = Vec::from(shared);
    if !matches!(result, Ok(None)) {
        input.release();
    }
    result
}

/// [`jpeg`] on bytes shared with the caller: the segments, the picture data above all,
/// point into `bytes` rather than being copied, so cleaning holds the original and the
/// result and nothing more.
pub(crate) fn jpeg_shared(ctx: &mut Ctx, shared: &Bytes) -> Result<Option<Vec<u8>>, CleanError> {
    let bytes: &[u8] = shared;
    let jpeg = Jpeg::from_bytes(shared.clone()).map_err(|e| corrupt(Format::Jpeg, e))?;
    let mut decisions = Vec::with_capacity(jpeg.segments().len());
    let mut change = false;
    for segment in jpeg.segments() {
        let keep = jpeg_segment(ctx, segment);
        change |= !matches!(keep, Keep::Yes);
        decisions.push(keep);
    }

    // The first scan's data runs to the end of the file; what follows the image's EOI
    // marker (another picture, a vendor trailer) is dropped.
    let mut cut_scan = None;
    if let Some(sos) = jpeg.segments().iter().find(|s| s.has_entropy()) {
        let entropy_len = sos.len_with_entropy().saturating_sub(sos.len());
        let entropy = bytes
            .get(bytes.len().saturating_sub(entropy_len)..)
            .unwrap_or(&[]);
        if let Some(end) = scan_end(entropy) {
            let trailing = entropy.len() - end;
            if trailing > 0 && entropy[end..].iter().any(|&b| b != 0) {
                ctx.find(
                    FindingKind::TrailingData,
                    &format!("{trailing} bytes after the end of the picture"),
                    true,
                );
                cut_scan = Some(end);
                change = true;
            }
        }
    }

    if !ctx.cleaning() || !change {
        return Ok(None);
    }
    let size = bytes.len();
    let mut jpeg = jpeg;
    let old = std::mem::take(jpeg.segments_mut());
    let entropy_start = old.iter().find(|s| s.has_entropy()).map(|s| {
        bytes
            .len()
            .saturating_sub(s.len_with_entropy().saturating_sub(s.len()))
    });
    for (segment, keep) in old.into_iter().zip(decisions) {
        match keep {
            Keep::No => {}
            Keep::Orientation(o) => {
                if let Some(exif) = minimal_exif(o) {
                    let mut contents = EXIF_PREFIX.to_vec();
                    contents.extend_from_slice(&exif);
                    jpeg.segments_mut().push(JpegSegment::new_with_contents(
                        markers::APP1,
                        contents.into(),
                    ));
                }
            }
            Keep::Yes => match (segment.has_entropy(), cut_scan, entropy_start) {
                (true, Some(end), Some(start)) => {
                    let entropy = if start + end <= shared.len() {
                        shared.slice(start..start + end)
                    } else {
                        Bytes::new()
                    };
                    jpeg.segments_mut().push(JpegSegment::new_with_entropy(
                        segment.marker(),
                        segment.contents().clone(),
                        entropy,
                    ));
                }
                _ => jpeg.segments_mut().push(segment),
            },
        }
    }
    Ok(Some(encode!(jpeg, size)))
}

fn jpeg_segment(ctx: &mut Ctx, segment: &JpegSegment) -> Keep {
    let c = segment.contents();
    let marker = segment.marker();
    match marker {
        markers::APP0 if c.starts_with(b"JFIF\0") => Keep::Yes,
        markers::APP0 if c.starts_with(b"JFXX\0") => {
            ctx.find(FindingKind::Thumbnail, "JFIF thumbnail", true);
            Keep::No
        }
        markers::APP1 if c.starts_with(EXIF_PREFIX) => {
            let info = exif_findings(ctx, c[EXIF_PREFIX.len()..].to_vec(), true, true);
            if !info.found {
                Keep::Yes
            } else {
                match info.orientation {
                    Some(o) if o != 1 => Keep::Orientation(o),
                    _ => Keep::No,
                }
            }
        }
        markers::APP1 if c.starts_with(XMP_PREFIX) => {
            xmp::findings(ctx, &c[XMP_PREFIX.len()..]);
            Keep::No
        }
        markers::APP1 if c.starts_with(XMP_EXT_PREFIX) => {
            ctx.find(FindingKind::Xmp, "extended XMP metadata", true);
            Keep::No
        }
        markers::APP2 if c.starts_with(b"ICC_PROFILE\0") => Keep::Yes,
        markers::APP13 => {
            iptc_findings(ctx, c);
            Keep::No
        }
        markers::APP14 if c.starts_with(b"Adobe") => Keep::Yes,
        markers::COM => {
            ctx.find(FindingKind::Comment, &String::from_utf8_lossy(c), true);
            Keep::No
        }
        markers::APP0..=markers::APP15 => {
            let name: String = c
                .iter()
                .take_while(|&&b| b != 0 && b.is_ascii_graphic())
                .take(20)
                .map(|&b| b as char)
                .collect();
            let what = match (marker, name.as_str()) {
                (markers::APP2, "MPF") => "index of further pictures (MPF)".to_string(),
                (markers::APP2, "FPXR") => "FlashPix data".to_string(),
                (_, "") => format!("APP{} segment", marker - markers::APP0),
                (_, n) => format!("APP{} segment \"{n}\"", marker - markers::APP0),
            };
            ctx.find(FindingKind::OtherMetadata, &what, true);
            Keep::No
        }
        _ => Keep::Yes,
    }
}

/// The length of the scan data up to and including the image's EOI marker, given the
/// bytes after the first SOS segment (later scans and the tables between them included).
fn scan_end(data: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] != 0xFF {
            i += 1;
            continue;
        }
        match data[i + 1] {
            // Stuffed byte, restart markers, TEM.
            0x00 | 0x01 | 0xD0..=0xD7 => i += 2,
            // Fill byte.
            0xFF => i += 1,
            0xD9 => return Some(i + 2),
            // A marker segment between scans (DHT, DQT, SOS, DRI, …): skip it.
            _ => {
                let len = data.get(i + 2..i + 4)?;
                i += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
            }
        }
    }
    None
}

/// Photoshop image resources; the IPTC record (resource 0x0404) holds the by-line.
fn iptc_findings(ctx: &mut Ctx, c: &[u8]) {
    let mut found = false;
    let mut i = 0;
    while let Some(pos) = c
        .get(i..)
        .and_then(|rest| rest.windows(3).position(|w| w[0] == 0x1C && w[1] == 2))
    {
        let at = i + pos;
        let (Some(&dataset), Some(len)) = (c.get(at + 2), c.get(at + 3..at + 5)) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let value = c.get(at + 5..at + 5 + len).unwrap_or(&[]);
        let kind = match dataset {
            80 | 122 => Some(FindingKind::Author), // By-line, Writer/Editor
            116 => Some(FindingKind::Copyright),   // Copyright Notice
            5 => Some(FindingKind::Title),         // Object Name
            25 => Some(FindingKind::Keywords),     // Keywords
            120 => Some(FindingKind::Description), // Caption
            55 | 60 => Some(FindingKind::Dates),   // Date / Time Created
            90 | 92 | 95 | 101 => Some(FindingKind::GpsPosition), // City, Sub-location, State, Country
            _ => None,
        };
        if let Some(kind) = kind {
            ctx.find(kind, &String::from_utf8_lossy(value), true);
            found = true;
        }
        i = at + 5 + len;
    }
    if !found {
        ctx.find(FindingKind::Iptc, "IPTC / Photoshop data", true);
    } else {
        ctx.find(FindingKind::Iptc, "IPTC data", true);
    }
}

// ---------------------------------------------------------------- PNG

/// Ancillary PNG chunks that describe how to show the picture and identify nobody.
const PNG_KEEP: &[&[u8; 4]] = &[
    b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"mDCv", b"cLLI",
    b"cLLi", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT",
];

pub(crate) fn png(ctx: &mut Ctx, bytes: &[u8]) -> Result<Option<Vec<u8>>, CleanError> {
    let mut png =
        Png::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| corrupt(Format::Png, e))?;
    let mut change = false;
    let mut orientation = None;
    let mut keep = Vec::with_capacity(png.chunks().len());
    for chunk in png.chunks() {
        let kind = chunk.kind();
        let c = chunk.contents();
        let k = if kind[0].is_ascii_uppercase() || PNG_KEEP.iter().any(|k| **k == kind) {
            true
        } else {
            match &kind {
                b"tEXt" | b"zTXt" | b"iTXt" => png_text(ctx, &kind, c),
                b"eXIf" => {
                    let info = exif_findings(ctx, c.to_vec(), true, true);
                    if info.found {
                        orientation = info.orientation.filter(|&o| o != 1);
                    }
                    !info.found
                }
                b"tIME" => {
                    let v = match c.get(..7) {
                        Some(t) => format!(
                            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                            u16::from_be_bytes([t[0], t[1]]),
                            t[2],
                            t[3],
                            t[4],
                            t[5],
                            t[6]
                        ),
                        None => "modification time".to_string(),
                    };
                    ctx.find(FindingKind::Dates, &v, true);
                    false
                }
                _ => {
                    let name = String::from_utf8_lossy(&kind).into_owned();
                    ctx.find(
                        FindingKind::OtherMetadata,
                        &format!("PNG chunk \"{name}\""),
                        true,
                    );
                    false
                }
            }
        };
        change |= !k;
        keep.push(k);
    }
    let used: usize = 8 + png.chunks().iter().map(PngChunk::len).sum::<usize>();
    if bytes.len() > used && bytes[used..].iter().any(|&b| b != 0) {
        ctx.find(
            FindingKind::TrailingData,
            &format!("{} bytes after the end of the picture", bytes.len() - used),
            true,
        );
        change = true;
    }
    if !ctx.cleaning() || !change {
        return Ok(None);
    }
    let mut keep = keep.into_iter();
    png.chunks_mut().retain(|_| keep.next().unwrap_or(true));
    if let Some(exif) = orientation.and_then(minimal_exif) {
        // eXIf goes before the first IDAT.
        let at = png
            .chunks()
            .iter()
            .position(|c| &c.kind() == b"IDAT")
            .unwrap_or(png.chunks().len());
        png.chunks_mut()
            .insert(at, PngChunk::new(*b"eXIf", exif.into()));
    }
    Ok(Some(encode!(png, bytes.len())))
}

/// Records the finding for a PNG text chunk; returns whether to keep it (never).
fn png_text(ctx: &mut Ctx, kind: &[u8; 4], c: &[u8]) -> bool {
    let (keyword, rest) = match c.iter().position(|&b| b == 0) {
        Some(n) => (&c[..n], c.get(n + 1..).unwrap_or(&[])),
        None => (c, &[][..]),
    };
    let keyword = String::from_utf8_lossy(keyword).into_owned();
    let text = match kind {
        b"tEXt" => String::from_utf8_lossy(rest).into_owned(),
        b"zTXt" => inflate_text(rest.get(1..).unwrap_or(&[])),
        _ => {
            // iTXt: compression flag, method, language\0, translated keyword\0, text.
            let compressed = rest.first() == Some(&1);
            let mut parts = rest.get(2..).unwrap_or(&[]).splitn(3, |&b| b == 0);
            let text = parts.nth(2).unwrap_or(&[]);
            if compressed {
                inflate_text(text)
            } else {
                String::from_utf8_lossy(text).into_owned()
            }
        }
    };
    let kind = match keyword.as_str() {
        "Author" | "Artist" => FindingKind::Author,
        "Make" | "Model" => FindingKind::CameraModel,
        "Software" => FindingKind::Software,
        "Comment" => FindingKind::Comment,
        "Title" => FindingKind::Title,
        "Description" => FindingKind::Description,
        "Copyright" => FindingKind::Copyright,
        "Creation Time" | "date:create" | "date:modify" | "date:timestamp" => FindingKind::Dates,
        "Source" => FindingKind::CameraModel,
        "Disclaimer" | "Warning" => FindingKind::OtherMetadata,
        "XML:com.adobe.xmp" => {
            xmp::findings(ctx, text.as_bytes());
            return false;
        }
        k if k.starts_with("Raw profile type exif") || k.starts_with("Raw profile type APP1") => {
            FindingKind::Exif
        }
        k if k.starts_with("Raw profile type iptc") || k.starts_with("Raw profile type 8bim") => {
            FindingKind::Iptc
        }
        _ => FindingKind::OtherMetadata,
    };
    let value = if matches!(
        kind,
        FindingKind::Exif | FindingKind::Iptc | FindingKind::OtherMetadata
    ) {
        format!("{keyword}: {}", text.chars().take(80).collect::<String>())
    } else {
        text
    };
    ctx.find(kind, &value, true);
    false
}

/// Inflates a zlib stream for display, at most 64 KiB of it.
fn inflate_text(data: &[u8]) -> String {
    use std::io::Read;
    let mut out = Vec::new();
    let _ = flate2::read::ZlibDecoder::new(data)
        .take(64 * 1024)
        .read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------- WebP

const VP8X_EXIF: u8 = 0b0000_1000;
const VP8X_XMP: u8 = 0b0000_0100;

pub(crate) fn webp(ctx: &mut Ctx, bytes: &[u8]) -> Result<Option<Vec<u8>>, CleanError> {
    let mut webp =
        WebP::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|e| corrupt(Format::Webp, e))?;
    let mut keep = Vec::with_capacity(webp.chunks().len());
    for chunk in webp.chunks() {
        let data = chunk.content().data().map(|d| &d[..]).unwrap_or(&[]);
        let k = match &chunk.id() {
            b"VP8 " | b"VP8L" | b"VP8X" | b"ALPH" | b"ANIM" | b"ANMF" | b"ICCP" => true,
            b"EXIF" => {
                let tiff = data.strip_prefix(EXIF_PREFIX).unwrap_or(data);
                let info = exif_findings(ctx, tiff.to_vec(), true, true);
                !info.found
            }
            b"XMP " => {
                xmp::findings(ctx, data);
                false
            }
            id => {
                let name = String::from_utf8_lossy(id).into_owned();
                ctx.find(
                    FindingKind::OtherMetadata,
                    &format!("WebP chunk \"{name}\""),
                    true,
                );
                false
            }
        };
        keep.push(k);
    }
    if !ctx.cleaning() || keep.iter().all(|&k| k) {
        return Ok(None);
    }
    let mut keep = keep.into_iter();
    webp.chunks_mut().retain(|_| keep.next().unwrap_or(true));
    let has_exif = webp.has_chunk(*b"EXIF");
    let has_xmp = webp.has_chunk(*b"XMP ");
    // The VP8X header announces EXIF and XMP chunks; clear the flags of removed ones.
    for chunk in webp.chunks_mut() {
        if chunk.id() == *b"VP8X" {
            if let img_parts::riff::RiffContent::Data(data) = chunk.content_mut() {
                if let Some(&flags) = data.first() {
                    let mut flags = flags;
                    if !has_exif {
                        flags &= !VP8X_EXIF;
                    }
                    if !has_xmp {
                        flags &= !VP8X_XMP;
                    }
                    let mut new = data.to_vec();
                    new[0] = flags;
                    *data = new.into();
                }
            }
        }
    }
    Ok(Some(encode!(webp, bytes.len())))
}

// ---------------------------------------------------------------- TIFF, HEIF

/// TIFF keeps its metadata in the tags of the picture itself, HEIF in boxes that no
/// small pure-Rust crate rewrites: both are inspected only.
pub(crate) fn inspect_only(ctx: &mut Ctx, format: Format, bytes: &[u8]) {
    let exif = match format {
        Format::Tiff => exif::Reader::new()
            .continue_on_error(true)
            .read_raw(bytes.to_vec()),
        _ => exif::Reader::new()
            .continue_on_error(true)
            .read_from_container(&mut Cursor::new(bytes)),
    };
    match exif.or_else(|e| e.distill_partial_result(|_| {})) {
        Ok(exif) => {
            exif_fields(ctx, &exif, format == Format::Heif, false);
        }
        Err(exif::Error::NotFound(_)) => {}
        Err(e) => ctx.find(
            FindingKind::Exif,
            &format!("EXIF data that could not be read ({e})"),
            false,
        ),
    }
    if format == Format::Tiff {
        // XMP (tag 700) and IPTC (tag 33723) live in IFD0 too.
        if let Ok(exif) = exif::Reader::new()
            .continue_on_error(true)
            .read_raw(bytes.to_vec())
            .or_else(|e| e.distill_partial_result(|_| {}))
        {
            for f in exif.fields() {
                match f.tag.number() {
                    700 => {
                        if let Value::Byte(b) | Value::Undefined(b, _) = &f.value {
                            xmp::findings_as(ctx, b, false);
                        }
                    }
                    33723 => ctx.find(FindingKind::Iptc, "IPTC data", false),
                    _ => {}
                }
            }
        }
    }
}

// ---------------------------------------------------------------- EXIF

/// What the EXIF walk saw.
pub(crate) struct ExifInfo {
    /// Something identifying (or unreadable) was found.
    pub(crate) found: bool,
    /// The Orientation field, if any.
    pub(crate) orientation: Option<u16>,
}

/// Records findings for an EXIF (TIFF-structured) block.
pub(crate) fn exif_findings(
    ctx: &mut Ctx,
    tiff: Vec<u8>,
    removable: bool,
    generic: bool,
) -> ExifInfo {
    let before = ctx.count();
    let parsed = exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff)
        .or_else(|e| e.distill_partial_result(|_| {}));
    let orientation = match parsed {
        Ok(exif) => exif_fields(ctx, &exif, removable, generic),
        Err(e) => {
            ctx.find(
                FindingKind::Exif,
                &format!("EXIF data that could not be read ({e})"),
                removable,
            );
            None
        }
    };
    ExifInfo {
        found: ctx.count() > before,
        orientation,
    }
}

/// Fields that do not identify: the picture's structure and how to show it.
const BENIGN: &[Tag] = &[
    Tag::Orientation,
    Tag::XResolution,
    Tag::YResolution,
    Tag::ResolutionUnit,
    Tag::ExifVersion,
    Tag::FlashpixVersion,
    Tag::ColorSpace,
    Tag::PixelXDimension,
    Tag::PixelYDimension,
    Tag::YCbCrPositioning,
    Tag::ComponentsConfiguration,
    Tag::InteroperabilityIndex,
    Tag::InteroperabilityVersion,
    Tag::ImageWidth,
    Tag::ImageLength,
    Tag::BitsPerSample,
    Tag::Compression,
    Tag::PhotometricInterpretation,
    Tag::StripOffsets,
    Tag::SamplesPerPixel,
    Tag::RowsPerStrip,
    Tag::StripByteCounts,
    Tag::PlanarConfiguration,
    Tag::YCbCrSubSampling,
];

fn exif_fields(ctx: &mut Ctx, exif: &exif::Exif, removable: bool, generic: bool) -> Option<u16> {
    let mut orientation = None;
    let mut others = 0usize;
    let mut gps = (None, None, None, None);
    let mut has_gps = false;
    let mut thumbnail = false;
    for f in exif.fields() {
        if f.tag == Tag::Orientation && f.ifd_num == In::PRIMARY {
            orientation = f.value.get_uint(0).and_then(|o| u16::try_from(o).ok());
        }
        if f.ifd_num == In::THUMBNAIL {
            if f.tag == Tag::JPEGInterchangeFormat || f.tag == Tag::StripOffsets {
                thumbnail = true;
            }
            continue;
        }
        if f.tag.context() == Context::Gps {
            has_gps = true;
            match f.tag {
                Tag::GPSLatitude => gps.0 = Some(f.display_value().to_string()),
                Tag::GPSLatitudeRef => gps.1 = Some(ascii(&f.value)),
                Tag::GPSLongitude => gps.2 = Some(f.display_value().to_string()),
                Tag::GPSLongitudeRef => gps.3 = Some(ascii(&f.value)),
                _ => {}
            }
            continue;
        }
        if let Some(kind) = exif_kind(f) {
            let value = match f.tag.number() {
                0x9c9b..=0x9c9f => ucs2(&f.value),
                _ if f.tag == Tag::MakerNote => "maker notes".to_string(),
                _ if f.tag == Tag::UserComment => user_comment(&f.value),
                _ => match &f.value {
                    Value::Ascii(_) => ascii(&f.value),
                    _ => f.display_value().to_string(),
                },
            };
            ctx.find(kind, &value, removable);
        } else if !BENIGN.contains(&f.tag)
            && f.tag != Tag::ExifIFDPointer
            && f.tag != Tag::GPSInfoIFDPointer
            && f.tag != Tag::InteropIFDPointer
        {
            others += 1;
        }
    }
    if has_gps {
        let value = match gps {
            (Some(lat), lat_ref, Some(lon), lon_ref) => format!(
                "{lat} {}, {lon} {}",
                lat_ref.unwrap_or_default(),
                lon_ref.unwrap_or_default()
            ),
            _ => "GPS data".to_string(),
        };
        ctx.find(FindingKind::GpsPosition, &value, removable);
    }
    if thumbnail {
        ctx.find(FindingKind::Thumbnail, "EXIF thumbnail", removable);
    }
    if generic && others > 0 {
        ctx.find(
            FindingKind::Exif,
            &format!("{others} other EXIF fields"),
            removable,
        );
    }
    orientation
}

fn exif_kind(f: &Field) -> Option<FindingKind> {
    use FindingKind as K;
    Some(match f.tag {
        Tag::Artist => K::Author,
        Tag::Copyright => K::Copyright,
        Tag::CameraOwnerName => K::CameraOwner,
        Tag::BodySerialNumber | Tag::LensSerialNumber => K::CameraSerial,
        Tag::Make | Tag::Model | Tag::LensMake | Tag::LensModel => K::CameraModel,
        Tag::Software => K::Software,
        Tag::DateTime
        | Tag::DateTimeOriginal
        | Tag::DateTimeDigitized
        | Tag::OffsetTime
        | Tag::OffsetTimeOriginal
        | Tag::OffsetTimeDigitized
        | Tag::SubSecTime
        | Tag::SubSecTimeOriginal
        | Tag::SubSecTimeDigitized => K::Dates,
        Tag::ImageUniqueID => K::DocumentId,
        Tag::ImageDescription => K::Description,
        Tag::UserComment => K::Comment,
        Tag::MakerNote => K::MakerNotes,
        t if t.context() == Context::Tiff => match t.number() {
            0x013c => K::ComputerName, // HostComputer
            0x9c9b => K::Title,        // XPTitle
            0x9c9c => K::Comment,      // XPComment
            0x9c9d => K::Author,       // XPAuthor
            0x9c9e => K::Keywords,     // XPKeywords
            0x9c9f => K::Subject,      // XPSubject
            _ => return None,
        },
        _ => return None,
    })
}

fn ascii(v: &Value) -> String {
    match v {
        Value::Ascii(parts) => parts
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// Windows' XP* tags: UCS-2 little-endian in a byte array.
fn ucs2(v: &Value) -> String {
    match v {
        Value::Byte(b) | Value::Undefined(b, _) => {
            let units: Vec<u16> = b
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&u| u != 0)
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::new(),
    }
}

/// UserComment: an 8-byte character code, then the text.
fn user_comment(v: &Value) -> String {
    match v {
        Value::Undefined(b, _) => {
            let text = b.get(8..).unwrap_or(&[]);
            if b.starts_with(b"UNICODE\0") {
                let units: Vec<u16> = text
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                String::from_utf16_lossy(&units)
                    .trim_end_matches('\0')
                    .to_string()
            } else {
                String::from_utf8_lossy(text)
                    .trim_end_matches(['\0', ' '])
                    .to_string()
            }
        }
        _ => ascii(v),
    }
}

/// An EXIF block with only the orientation, so the picture keeps its rotation.
fn minimal_exif(orientation: u16) -> Option<Vec<u8>> {
    let field = Field {
        tag: Tag::Orientation,
        ifd_num: In::PRIMARY,
        value: Value::Short(vec![orientation]),
    };
    let mut writer = exif::experimental::Writer::new();
    writer.push_field(&field);
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, false).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Mode;

    fn exif_with(fields: &[Field]) -> Vec<u8> {
        let mut w = exif::experimental::Writer::new();
        for f in fields {
            w.push_field(f);
        }
        let mut out = Cursor::new(Vec::new());
        w.write(&mut out, false).unwrap();
        out.into_inner()
    }

    fn jpeg_with(segments: &[(u8, &[u8])], after_eoi: &[u8]) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        for (marker, content) in segments {
            j.extend_from_slice(&[0xFF, *marker]);
            j.extend_from_slice(&u16::try_from(content.len() + 2).unwrap().to_be_bytes());
            j.extend_from_slice(content);
        }
        j.extend_from_slice(&[
            0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9,
        ]);
        j.extend_from_slice(after_eoi);
        j
    }

    #[test]
    fn scan_end_skips_stuffing_restarts_and_tables() {
        assert_eq!(scan_end(&[0x12, 0xFF, 0x00, 0xFF, 0xD9, 1, 2]), Some(5));
        assert_eq!(scan_end(&[0xFF, 0xD0, 0xFF, 0xFF, 0xD9]), Some(5));
        // A DHT between scans whose table holds FF D9.
        assert_eq!(
            scan_end(&[0x01, 0xFF, 0xC4, 0x00, 0x04, 0xFF, 0xD9, 0x07, 0xFF, 0xD9]),
            Some(10)
        );
        assert_eq!(scan_end(&[0x01, 0x02]), None);
        assert_eq!(scan_end(&[0xFF, 0xC4, 0x00]), None);
    }

    #[test]
    fn jpeg_keeps_icc_jfif_adobe_and_orientation_drops_the_rest() {
        let exif = exif_with(&[
            Field {
                tag: Tag::Orientation,
                ifd_num: In::PRIMARY,
                value: Value::Short(vec![6]),
            },
            Field {
                tag: Tag::Artist,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"Jan Jansen".to_vec()]),
            },
        ]);
        let mut app1 = EXIF_PREFIX.to_vec();
        app1.extend_from_slice(&exif);
        let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
        icc.extend_from_slice(&[0u8; 20]);
        let input = jpeg_with(
            &[
                (markers::APP0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"),
                (markers::APP1, &app1),
                (markers::APP2, &icc),
                (markers::APP12, b"Ducky\0\x01"),
                (markers::APP14, b"Adobe\0d\0\0\0\0\x01"),
                (markers::COM, b"made by Jan"),
            ],
            b"\xFF\xD8trailing picture",
        );
        let mut ctx = Ctx::new(Mode::Clean);
        let out = jpeg(&mut ctx, &input).unwrap().unwrap();
        let kinds: Vec<_> = ctx.findings().iter().map(|f| f.kind).collect();
        assert!(kinds.contains(&FindingKind::Author));
        assert!(kinds.contains(&FindingKind::Comment));
        assert!(kinds.contains(&FindingKind::OtherMetadata));
        assert!(kinds.contains(&FindingKind::TrailingData));
        let parsed = Jpeg::from_bytes(Bytes::from(out.clone())).unwrap();
        let markers_left: Vec<u8> = parsed.segments().iter().map(|s| s.marker()).collect();
        assert_eq!(
            markers_left,
            vec![
                markers::APP0,
                markers::APP1,
                markers::APP2,
                markers::APP14,
                markers::SOS
            ]
        );
        assert!(out.ends_with(&[0xFF, 0xD9]));
        // The new EXIF holds the orientation and nothing else.
        let mut again = Ctx::new(Mode::Inspect);
        assert!(jpeg(&mut again, &out).unwrap().is_none());
        assert!(again.findings().is_empty(), "{:?}", again.findings());
        let exif = exif::Reader::new()
            .read_raw(parsed.segments()[1].contents()[6..].to_vec())
            .unwrap();
        assert_eq!(exif.fields().count(), 1);
        assert_eq!(
            exif.get_field(Tag::Orientation, In::PRIMARY)
                .unwrap()
                .value
                .get_uint(0),
            Some(6)
        );
    }

    #[test]
    fn jpeg_without_metadata_is_left_alone() {
        let input = jpeg_with(&[(markers::APP0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")], b"");
        let mut ctx = Ctx::new(Mode::Clean);
        assert!(jpeg(&mut ctx, &input).unwrap().is_none());
        assert!(ctx.findings().is_empty());
    }

    #[test]
    fn png_text_exif_and_time_go_colour_stays() {
        let mut png = Png::from_bytes(Bytes::from_static(&[
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, // signature
            0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0x3A, 0x7E,
            0x9B, 0x55, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82,
        ]))
        .unwrap();
        let chunks = png.chunks_mut();
        chunks.insert(
            1,
            PngChunk::new(*b"gAMA", Bytes::from_static(&[0, 0, 0xB1, 0x8F])),
        );
        chunks.insert(
            1,
            PngChunk::new(*b"tEXt", Bytes::from_static(b"Author\0Jan Jansen")),
        );
        chunks.insert(
            1,
            PngChunk::new(
                *b"tIME",
                Bytes::from_static(&[0x07, 0xEA, 11, 23, 9, 30, 0]),
            ),
        );
        chunks.insert(1, PngChunk::new(*b"vpAg", Bytes::from_static(&[0; 9])));
        let exif = exif_with(&[Field {
            tag: Tag::BodySerialNumber,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"SN-1234".to_vec()]),
        }]);
        chunks.insert(1, PngChunk::new(*b"eXIf", exif.into()));
        let input = encode!(png, 0);

        let mut ctx = Ctx::new(Mode::Clean);
        let out = super::png(&mut ctx, &input).unwrap().unwrap();
        let found: Vec<_> = ctx
            .findings()
            .iter()
            .map(|f| (f.kind, f.value.as_str()))
            .collect();
        assert!(found.contains(&(FindingKind::Author, "Jan Jansen")));
        assert!(found.contains(&(FindingKind::CameraSerial, "SN-1234")));
        assert!(found.contains(&(FindingKind::Dates, "2026-11-23 09:30:00")));
        assert!(found.contains(&(FindingKind::OtherMetadata, "PNG chunk \"vpAg\"")));
        let left: Vec<[u8; 4]> = Png::from_bytes(out.into())
            .unwrap()
            .chunks()
            .iter()
            .map(|c| c.kind())
            .collect();
        assert_eq!(left, vec![*b"IHDR", *b"gAMA", *b"IEND"]);
    }

    #[test]
    fn webp_flags_follow_removed_chunks() {
        let mut vp8x = vec![VP8X_EXIF | VP8X_XMP | 0b0010_0000, 0, 0, 0];
        vp8x.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let chunk = |id: &[u8; 4], data: &[u8]| {
            let mut c = id.to_vec();
            c.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
            c.extend_from_slice(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let exif = exif_with(&[Field {
            tag: Tag::Artist,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"Jan".to_vec()]),
        }]);
        let mut body = b"WEBP".to_vec();
        body.extend(chunk(b"VP8X", &vp8x));
        body.extend(chunk(b"ICCP", &[1, 2, 3, 4]));
        body.extend(chunk(b"VP8L", &[0x2f, 0, 0, 0, 0]));
        body.extend(chunk(b"EXIF", &exif));
        body.extend(chunk(b"XMP ", b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"));
        let mut input = b"RIFF".to_vec();
        input.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
        input.extend(body);

        let mut ctx = Ctx::new(Mode::Clean);
        let out = webp(&mut ctx, &input).unwrap().unwrap();
        let parsed = WebP::from_bytes(out.into()).unwrap();
        let ids: Vec<[u8; 4]> = parsed.chunks().iter().map(|c| c.id()).collect();
        assert_eq!(ids, vec![*b"VP8X", *b"ICCP", *b"VP8L"]);
        let flags = parsed.chunks()[0].content().data().unwrap()[0];
        assert_eq!(flags & (VP8X_EXIF | VP8X_XMP), 0);
        assert_ne!(flags & 0b0010_0000, 0, "ICC flag kept");
    }
}
