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
            (file.is_dir(), file.encrypted(), file.size(), file.compression())
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
                w.add_directory(name.as_str(), options).map_err(|e| corrupt(&e))?;
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
            Ok(file) => file.take(limit + 1).read_to_end(&mut data).map_err(|e| e.to_string()),
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
                    w.start_file(name.as_str(), options).map_err(|e| corrupt(&e))?;
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
    if file.take(MAX_MEMBER_SIZE).read_to_end(&mut manifest).is_err() {
        return false;
    }
    manifest.windows(15).any(|w| w == b"encryption-data")
}
