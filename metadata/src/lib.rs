//! Finds and removes identifying metadata from the documents and pictures a reporter
//! attaches: authors, the last person to save, company, printer, GPS position, camera
//! serial numbers, revision ids, tracked-change and comment authors, thumbnails, XMP and
//! EXIF blocks.
//!
//! One crate serves the reporter's browser (compiled to WebAssembly, and from there to
//! JavaScript by wasm2js), the server's no-JavaScript tier and the investigator's tool. It
//! is pure Rust, single-threaded and needs no random source.
//!
//! Two calls:
//!
//! - [`inspect`] tells what a file holds, in plain words for the reporter: a list of
//!   [`Finding`]s (each with its [`FindingKind`], the value found and whether it can be
//!   removed) and of [`Warning`]s (what cannot be checked or removed).
//! - [`clean`] returns the file without what it can remove, and the kinds removed (never
//!   the values: the signed report records kinds only). A file with nothing to remove
//!   comes back byte-identical. A format it cannot clean is a [`CleanError`], never a
//!   silent pass.
//!
//! ```
//! use meldpunt_metadata::{clean, inspect, FindingKind, Format};
//!
//! // A JPEG with a comment segment ("Jan Jansen") in front of a minimal image.
//! let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x0C];
//! jpeg.extend_from_slice(b"Jan Jansen");
//! jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x00, 0xFF, 0xD9]);
//!
//! let found = inspect("photo.jpg", &jpeg);
//! assert_eq!(found.format, Format::Jpeg);
//! assert_eq!(found.findings[0].kind, FindingKind::Comment);
//! assert_eq!(found.findings[0].value, "Jan Jansen");
//!
//! let cleaned = clean("photo.jpg", &jpeg).unwrap();
//! assert_eq!(cleaned.removed, vec![FindingKind::Comment]);
//! assert!(inspect("photo.jpg", &cleaned.bytes).findings.is_empty());
//! ```
//!
//! Nothing here can see names in the visible content: the text itself, letterheads,
//! scanned signatures, faces, printer tracking dots. Every [`Inspection`] ends with a
//! [`WarningKind::VisibleContent`] warning saying so ([`VISIBLE_CONTENT_NOTE`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod archive;
mod detect;
mod image;
mod office;
mod pdf;
mod report;
mod xml;
mod xmp;

use std::fmt;

use zeroize::Zeroize;

pub use detect::Format;
use report::{Ctx, Mode};
pub use report::{Finding, FindingKind, Warning, WarningKind};

/// How deep archives inside archives (and documents inside documents) are opened.
pub const MAX_DEPTH: usize = 4;
/// The largest single member of a zip container that is unpacked (a zip bomb stops here).
pub const MAX_MEMBER_SIZE: u64 = 128 * 1024 * 1024;
/// The most that is unpacked from one file, all members and nested archives together.
pub const MAX_TOTAL_UNPACKED: u64 = 512 * 1024 * 1024;
/// The most members one zip container may have.
pub const MAX_MEMBERS: usize = 20_000;

/// The general note that every inspection ends with.
pub const VISIBLE_CONTENT_NOTE: &str = "Names and other clues in the visible content cannot \
be removed: the text itself, letterheads, signatures (also scanned ones), faces, \
screenshots, and the tracking dots many colour printers put on every page. Check what \
can be seen yourself.";

/// What [`inspect`] found in a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Inspection {
    /// The format, detected from the content (the file name is only a hint).
    pub format: Format,
    /// Identifying metadata found, in the order met.
    pub findings: Vec<Finding>,
    /// What could not be checked or cannot be removed. The last one is always the
    /// [`WarningKind::VisibleContent`] note.
    pub warnings: Vec<Warning>,
}

impl Inspection {
    /// The kinds that [`clean`] would remove, each once, in the order found.
    pub fn removable_kinds(&self) -> Vec<FindingKind> {
        report::kinds_of(self.findings.iter().filter(|f| f.removable))
    }

    /// Whether [`clean`] can handle this format at all.
    pub fn can_clean(&self) -> bool {
        self.format.can_clean()
    }
}

/// Tells a file's format from its name and its first bytes (64 KiB are plenty), without
/// reading the whole file: the page decides from this whether to read a document at all.
/// An office document or OpenDocument file may show as [`Format::Zip`] here (its
/// directory is at the end); [`inspect`] tells which.
pub fn detect_format(file_name: &str, head: &[u8]) -> Format {
    detect::detect(file_name, head)
}

/// Finds the identifying metadata in a file. Never fails: what cannot be read or
/// checked becomes a [`Warning`].
pub fn inspect(file_name: &str, bytes: &[u8]) -> Inspection {
    let mut ctx = Ctx::new(Mode::Inspect);
    let format = detect::detect(file_name, bytes);
    if let Err(e) = process(&mut ctx, format, bytes) {
        ctx.warn_error(format, &e);
    }
    ctx.warn(
        WarningKind::VisibleContent,
        VISIBLE_CONTENT_NOTE.to_string(),
    );
    let (findings, warnings) = ctx.into_parts();
    Inspection {
        format,
        findings,
        warnings,
    }
}

/// A cleaned file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The format, detected from the content.
    pub format: Format,
    /// The file without the removed metadata (the input unchanged when nothing was
    /// found).
    pub bytes: Vec<u8>,
    /// The kinds of metadata removed, each once, in the order found.
    pub removed: Vec<FindingKind>,
    /// What is still in the file: embedded files in a PDF, members of an archive that
    /// could not be checked, and the [`WarningKind::VisibleContent`] note. Show them to
    /// the reporter.
    pub warnings: Vec<Warning>,
}

/// Why [`clean`] could not clean a file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CleanError {
    /// The format was not recognised, so nothing in it could be checked.
    UnknownFormat,
    /// The format is known but cannot be cleaned here (e-mail, audio, video, TIFF,
    /// HEIC, old Office formats…).
    Unsupported {
        /// The detected format.
        format: Format,
    },
    /// The file (or a part of it) is encrypted or password-protected.
    Encrypted {
        /// The detected format.
        format: Format,
    },
    /// The file could not be read as the format it claims to be.
    Corrupt {
        /// The detected format.
        format: Format,
        /// What went wrong, for the operator's log.
        detail: String,
    },
    /// The file unpacks to more than the limits allow ([`MAX_MEMBER_SIZE`],
    /// [`MAX_TOTAL_UNPACKED`], [`MAX_MEMBERS`], [`MAX_DEPTH`]).
    TooLarge {
        /// Which limit was reached.
        limit: &'static str,
    },
}

impl fmt::Display for CleanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CleanError::UnknownFormat => write!(
                f,
                "this kind of file is not recognised, so its hidden data could not be checked or removed"
            ),
            CleanError::Unsupported { format } => write!(
                f,
                "hidden data cannot be removed from {} files here; {}",
                format.description(),
                format.advice()
            ),
            CleanError::Encrypted { format } => write!(
                f,
                "this {} is encrypted or password-protected, so its hidden data could not be checked; \
                 remove the password and try again",
                format.description()
            ),
            CleanError::Corrupt { format, detail } => write!(
                f,
                "this file could not be read as a {} ({detail})",
                format.description()
            ),
            CleanError::TooLarge { limit } => write!(
                f,
                "this file unpacks to too much ({limit}); send its parts separately"
            ),
        }
    }
}

impl std::error::Error for CleanError {}

/// Removes the identifying metadata that [`inspect`] marks as removable.
///
/// Container-level edits only: picture data is never re-encoded, PDF page content streams
/// and document text stay byte-identical.
pub fn clean(file_name: &str, bytes: &[u8]) -> Result<Cleaned, CleanError> {
    clean_input(file_name, Input::Borrowed(bytes))
}

/// [`clean`] for a document the caller gives up. The original is wiped and freed as soon
/// as it is no longer needed, so cleaning holds about two copies of the document instead
/// of three: a JPEG's picture data is shared with the result being written, not copied;
/// a PDF's original goes once it is parsed and known to change. Other formats are cleaned
/// as [`clean`] does, then the original is wiped. The result is the same as [`clean`]'s.
pub fn clean_owned(file_name: &str, bytes: Vec<u8>) -> Result<Cleaned, CleanError> {
    clean_input(file_name, Input::Owned(bytes))
}

fn clean_input(file_name: &str, mut input: Input) -> Result<Cleaned, CleanError> {
    let format = detect::detect(file_name, input.bytes());
    let mut ctx = Ctx::new(Mode::Clean);
    let new = match format {
        Format::Jpeg => image::jpeg_input(&mut ctx, &mut input),
        Format::Pdf => pdf::pdf_input(&mut ctx, &mut input),
        _ => process(&mut ctx, format, input.bytes()),
    };
    let new = match new {
        Ok(new) => new,
        Err(e) => {
            input.release();
            return Err(e);
        }
    };
    ctx.warn(
        WarningKind::VisibleContent,
        VISIBLE_CONTENT_NOTE.to_string(),
    );
    let removed = report::kinds_of(ctx.findings().iter().filter(|f| f.removable));
    let (_, warnings) = ctx.into_parts();
    let bytes = match new {
        Some(new) => {
            input.release();
            new
        }
        None => input.into_vec(),
    };
    Ok(Cleaned {
        format,
        bytes,
        removed,
        warnings,
    })
}

/// A document to clean: borrowed, or given up by the caller ([`clean_owned`]).
pub(crate) enum Input<'a> {
    /// The caller keeps it.
    Borrowed(&'a [u8]),
    /// Ours to wipe and free once it is no longer needed.
    Owned(Vec<u8>),
}

impl Input<'_> {
    /// The document's bytes (empty once released).
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Input::Borrowed(b) => b,
            Input::Owned(v) => v,
        }
    }

    /// Wipes and frees an original the caller gave up; a borrowed one is left alone.
    pub(crate) fn release(&mut self) {
        if let Input::Owned(v) = self {
            v.zeroize();
            *v = Vec::new();
        }
    }

    /// The original itself (a copy of a borrowed one).
    fn into_vec(self) -> Vec<u8> {
        match self {
            Input::Borrowed(b) => b.to_vec(),
            Input::Owned(v) => v,
        }
    }
}

/// Inspects or cleans one file (or member) of a known format. `Ok(None)`: nothing
/// changed (always so when inspecting).
fn process(ctx: &mut Ctx, format: Format, bytes: &[u8]) -> Result<Option<Vec<u8>>, CleanError> {
    if ctx.depth > MAX_DEPTH {
        return Err(CleanError::TooLarge {
            limit: "files nested too deeply",
        });
    }
    match format {
        Format::Jpeg => image::jpeg(ctx, bytes),
        Format::Png => image::png(ctx, bytes),
        Format::Webp => image::webp(ctx, bytes),
        Format::Tiff | Format::Heif => {
            image::inspect_only(ctx, format, bytes);
            Err(CleanError::Unsupported { format })
        }
        Format::Pdf => pdf::pdf(ctx, bytes),
        Format::Docx | Format::Xlsx | Format::Pptx => {
            archive::zip(ctx, format, bytes, archive::Container::Ooxml)
        }
        Format::Odt | Format::Ods | Format::Odp | Format::OpenDocument => {
            archive::zip(ctx, format, bytes, archive::Container::Odf)
        }
        Format::Zip => archive::zip(ctx, format, bytes, archive::Container::Plain),
        Format::Text => Ok(None),
        Format::Unknown => Err(CleanError::UnknownFormat),
        _ => Err(CleanError::Unsupported { format }),
    }
}

/// Inspects or cleans a file found inside another one (a zip member, a picture in a
/// document).
pub(crate) fn process_nested(
    ctx: &mut Ctx,
    name: &str,
    bytes: &[u8],
) -> (Format, Result<Option<Vec<u8>>, CleanError>) {
    let format = detect::detect(name, bytes);
    ctx.depth += 1;
    let result = process(ctx, format, bytes);
    ctx.depth -= 1;
    (format, result)
}

/// Entry points for the fuzz targets (feature `fuzzing`, never in a product).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use std::collections::BTreeSet;

    use crate::archive::Container;
    use crate::report::{Ctx, Mode};
    use crate::{office, xml, CleanError, Format};

    /// The XML parts the rules know, by the member name they have in their container.
    pub const PARTS: &[&str] = &[
        "docProps/core.xml",
        "docProps/app.xml",
        "docProps/custom.xml",
        "word/document.xml",
        "word/settings.xml",
        "word/_rels/document.xml.rels",
        "[Content_Types].xml",
        "xl/comments1.xml",
        "xl/persons/person.xml",
        "xl/workbook.xml",
        "ppt/commentAuthors.xml",
        "meta.xml",
        "settings.xml",
        "content.xml",
        "META-INF/manifest.xml",
    ];

    /// Cleans one XML part as the container would; returns the number of removable
    /// findings reported and the new part (if it changed).
    pub fn clean_xml_part(name: &str, data: &[u8]) -> (usize, Result<Option<Vec<u8>>, CleanError>) {
        let odf = matches!(
            name,
            "meta.xml" | "settings.xml" | "content.xml" | "META-INF/manifest.xml"
        );
        let container = if odf {
            Container::Odf
        } else {
            Container::Ooxml
        };
        let removed: BTreeSet<String> = [
            "word/people.xml",
            "docProps/thumbnail.jpeg",
            "Thumbnails/thumbnail.png",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut ctx = Ctx::new(Mode::Clean);
        let result = match office::part_for(container, name, &removed) {
            Some(part) => xml::rewrite(&mut ctx, Format::Docx, data, part),
            None => Ok(None),
        };
        (ctx.removable_count(), result)
    }
}
