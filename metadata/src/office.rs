//! Which members of an Office (OOXML) or OpenDocument file hold what, and which rules
//! apply to them.

use std::collections::BTreeSet;

use crate::archive::Container;
use crate::report::Ctx;
use crate::xml::Part;
use crate::FindingKind;

/// Members dropped whole, with what they are. Their relationships, content-type
/// overrides and manifest entries go with them.
pub(crate) fn removed_members(
    ctx: &mut Ctx,
    container: Container,
    names: &[String],
) -> BTreeSet<String> {
    let mut removed = BTreeSet::new();
    for name in names {
        let kind = match container {
            Container::Ooxml => {
                if name.starts_with("docProps/thumbnail") {
                    Some(FindingKind::Thumbnail)
                } else if name == "word/people.xml" {
                    Some(FindingKind::People)
                } else if name.contains("/printerSettings/") {
                    Some(FindingKind::Printer)
                } else {
                    None
                }
            }
            Container::Odf => {
                if name.starts_with("Thumbnails/") && !name.ends_with('/') {
                    Some(FindingKind::Thumbnail)
                } else {
                    None
                }
            }
            Container::Plain => None,
        };
        if let Some(kind) = kind {
            let value = match kind {
                FindingKind::Thumbnail => format!("{name} (a picture of the first page)"),
                FindingKind::People => {
                    format!("{name} (names and account ids of everyone who edited)")
                }
                FindingKind::Printer => format!("{name} (printer settings)"),
                _ => name.clone(),
            };
            ctx.find(kind, &value, true);
            removed.insert(name.clone());
        }
    }
    removed
}

/// The rules for an XML member, if any apply.
pub(crate) fn part_for<'a>(
    container: Container,
    name: &'a str,
    removed: &'a BTreeSet<String>,
) -> Option<Part<'a>> {
    let file = name.rsplit('/').next().unwrap_or(name);
    match container {
        Container::Ooxml => {
            if let Some(base) = name.strip_suffix(file).filter(|_| file.ends_with(".rels")) {
                // "word/_rels/document.xml.rels" is about "word/".
                let base = base.strip_suffix("_rels/").unwrap_or(base);
                return Some(Part::Rels { base, removed });
            }
            if name == "[Content_Types].xml" {
                return Some(Part::ContentTypes { removed });
            }
            if !name.ends_with(".xml") {
                return None;
            }
            Some(match name {
                "docProps/core.xml" | "docProps/app.xml" | "docProps/custom.xml" => {
                    Part::OoxmlProps
                }
                "xl/workbook.xml" => Part::XlWorkbook,
                "ppt/commentAuthors.xml" | "ppt/authors.xml" => Part::PptAuthors,
                n if n.starts_with("word/") => Part::Word,
                n if n.starts_with("xl/comments") => Part::XlComments,
                n if n.starts_with("xl/persons/") => Part::XlPersons,
                _ => return None,
            })
        }
        Container::Odf => match file {
            "meta.xml" => Some(Part::OdfMeta),
            "settings.xml" => Some(Part::OdfSettings),
            "content.xml" | "styles.xml" => Some(Part::OdfContent),
            "manifest.xml" if name == "META-INF/manifest.xml" => Some(Part::Manifest { removed }),
            _ => None,
        },
        Container::Plain => None,
    }
}

/// Members that are files in their own right (pictures, embedded documents) and are
/// inspected and cleaned as such.
pub(crate) fn is_nested_file(container: Container, name: &str) -> bool {
    match container {
        Container::Ooxml => name.contains("/media/") || name.contains("/embeddings/"),
        Container::Odf => name.starts_with("Pictures/") || name.starts_with("media/"),
        Container::Plain => true,
    }
}

/// Whether a member is an embedded document (listed as such for the reporter).
pub(crate) fn is_embedding(container: Container, name: &str) -> bool {
    container == Container::Ooxml && name.contains("/embeddings/")
}
