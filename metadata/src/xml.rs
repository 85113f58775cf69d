//! Streaming XML rewriting for the parts of Office and OpenDocument files. Events that
//! no rule touches are written back as they were read, so text, markup and namespaces
//! stay as they are; an unchanged part is not rewritten at all.

use std::collections::BTreeSet;

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer, XmlVersion};

use crate::report::Ctx;
use crate::{CleanError, FindingKind, Format};

/// The neutral name written where an author's name was (what Word itself writes when it
/// removes personal information).
pub(crate) const NEUTRAL_AUTHOR: &str = "Author";
/// The neutral initials.
pub(crate) const NEUTRAL_INITIALS: &str = "A";
/// The neutral date for ODF change and annotation dates, which must be present.
pub(crate) const NEUTRAL_DATE: &str = "1970-01-01T00:00:00";

/// Which rules apply to a part.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    /// `docProps/core.xml`, `app.xml`, `custom.xml`: every child of the root goes but the
    /// statistics.
    OoxmlProps,
    /// Any `word/*.xml`: revision ids, tracked-change and comment authors, the attached
    /// template.
    Word,
    /// `xl/comments*.xml`: the author list.
    XlComments,
    /// `xl/persons/*.xml`: threaded-comment people.
    XlPersons,
    /// `xl/workbook.xml`: the absolute path it was saved at and its revision document id.
    XlWorkbook,
    /// `ppt/commentAuthors.xml` and `ppt/authors.xml`.
    PptAuthors,
    /// ODF `meta.xml`: every child of `office:meta` but the statistics.
    OdfMeta,
    /// ODF `settings.xml`: the printer name and setup.
    OdfSettings,
    /// ODF `content.xml` and `styles.xml`: tracked-change and annotation authors and dates.
    OdfContent,
    /// A `.rels` part: relationships to removed members and to the attached template.
    Rels {
        /// The folder the relationship targets are relative to (`word/`).
        base: &'a str,
        /// Members removed from the container.
        removed: &'a BTreeSet<String>,
    },
    /// `[Content_Types].xml`: overrides for removed members.
    ContentTypes {
        /// Members removed from the container.
        removed: &'a BTreeSet<String>,
    },
    /// ODF `META-INF/manifest.xml`: entries of removed members.
    Manifest {
        /// Members removed from the container.
        removed: &'a BTreeSet<String>,
    },
}

/// What happens to one element.
enum Action {
    Keep,
    /// The element and everything in it go (reported under the kind, if any).
    Drop(Option<FindingKind>),
    /// The element stays; its text becomes this. The finding shows the old text, or the
    /// description given where the reporter could not read it (binary as base64).
    ReplaceText(FindingKind, &'static str, Option<&'static str>),
}

/// What happens to one attribute.
#[derive(Clone, Copy)]
enum AttrEdit {
    Remove(FindingKind),
    Replace(FindingKind, &'static str),
    /// A `w:rsid…` attribute: removed and counted, reported once per part.
    RemoveRsid,
}

/// Statistics elements that stay in property parts.
const STATISTICS: &[&str] = &[
    "Pages",
    "Words",
    "Characters",
    "CharactersWithSpaces",
    "Lines",
    "Paragraphs",
    "Slides",
    "Notes",
    "HiddenSlides",
    "MMClips",
    "ScaleCrop",
    "LinksUpToDate",
    "SharedDoc",
    "HyperlinksChanged",
    "DocSecurity",
    "HeadingPairs",
    "TitlesOfParts",
    "PresentationFormat",
    "document-statistic",
];

fn property_kind(local: &str, odf: bool) -> FindingKind {
    use FindingKind as K;
    match local {
        "creator" if odf => K::LastModifiedBy,
        "creator" | "initial-creator" => K::Author,
        "lastModifiedBy" => K::LastModifiedBy,
        "Company" => K::Company,
        "Manager" => K::Manager,
        "Template" | "template" => K::Template,
        "TotalTime" | "editing-duration" => K::EditingTime,
        "Application" | "AppVersion" | "generator" => K::Software,
        "title" => K::Title,
        "subject" => K::Subject,
        "description" => K::Description,
        "keywords" | "keyword" | "category" => K::Keywords,
        "created" | "modified" | "lastPrinted" | "creation-date" | "date" | "print-date" => {
            K::Dates
        }
        "printed-by" => K::Printer,
        "property" | "user-defined" => K::CustomProperty,
        "identifier" => K::DocumentId,
        "HyperlinkBase" => K::FilePath,
        _ => K::OtherMetadata,
    }
}

fn local(qname: &str) -> &str {
    match qname.split_once(':') {
        Some((_, l)) => l,
        None => qname,
    }
}

fn attr(e: &BytesStart<'_>, qname: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == qname)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn attr_local(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Resolves a relationship target against the folder of the part it belongs to.
fn resolve(base: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_string();
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for piece in target.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn element_action(part: Part<'_>, stack: &[String], e: &BytesStart<'_>) -> Action {
    let qname = e.name();
    let qname = qname.as_ref();
    let name = local(qname);
    let parent = stack.last().map(|p| local(p));
    match part {
        Part::OoxmlProps if stack.len() == 1 => {
            if STATISTICS.contains(&name) {
                Action::Keep
            } else {
                Action::Drop(Some(property_kind(name, false)))
            }
        }
        Part::OdfMeta if parent == Some("meta") => {
            if STATISTICS.contains(&name) {
                Action::Keep
            } else {
                Action::Drop(Some(property_kind(name, true)))
            }
        }
        Part::Word => match qname {
            "w:rsids" => Action::Drop(Some(FindingKind::RevisionIds)),
            "w:attachedTemplate" => Action::Drop(Some(FindingKind::Template)),
            _ => Action::Keep,
        },
        Part::XlComments if name == "author" && parent == Some("authors") => {
            Action::ReplaceText(FindingKind::CommentAuthor, NEUTRAL_AUTHOR, None)
        }
        Part::XlWorkbook => match name {
            "absPath" => Action::Drop(Some(FindingKind::FilePath)),
            "revisionPtr" => Action::Drop(Some(FindingKind::DocumentId)),
            _ => Action::Keep,
        },
        Part::OdfSettings if qname == "config:config-item" => {
            match attr(e, "config:name").as_deref() {
                Some("PrinterName") => Action::ReplaceText(FindingKind::Printer, "", None),
                // The printer's driver settings, binary: they name the printer too.
                Some("PrinterSetup") => Action::ReplaceText(
                    FindingKind::Printer,
                    "",
                    Some("printer setup (binary data that names the printer)"),
                ),
                _ => Action::Keep,
            }
        }
        Part::OdfContent => {
            let kind = match parent {
                Some("change-info") => FindingKind::TrackedChangeAuthor,
                Some("annotation") => FindingKind::CommentAuthor,
                _ => return Action::Keep,
            };
            match qname {
                "dc:creator" => Action::ReplaceText(kind, NEUTRAL_AUTHOR, None),
                "dc:date" => Action::ReplaceText(FindingKind::Dates, NEUTRAL_DATE, None),
                "meta:creator-initials" => {
                    Action::ReplaceText(FindingKind::CommentAuthor, NEUTRAL_INITIALS, None)
                }
                _ => Action::Keep,
            }
        }
        Part::Rels { base, removed } if name == "Relationship" => {
            let kind = attr(e, "Type").unwrap_or_default();
            if kind.ends_with("/attachedTemplate") {
                return Action::Drop(Some(FindingKind::Template));
            }
            let external = attr(e, "TargetMode").as_deref() == Some("External");
            match attr(e, "Target") {
                Some(t) if !external && removed.contains(&resolve(base, &t)) => Action::Drop(None),
                _ => Action::Keep,
            }
        }
        Part::ContentTypes { removed } if name == "Override" => match attr(e, "PartName") {
            Some(p) if removed.contains(p.trim_start_matches('/')) => Action::Drop(None),
            _ => Action::Keep,
        },
        Part::Manifest { removed } if name == "file-entry" => match attr_local(e, "full-path") {
            Some(p)
                if removed.contains(&p)
                    || (p.starts_with("Thumbnails/")
                        && removed.iter().any(|r| r.starts_with("Thumbnails/"))) =>
            {
                Action::Drop(None)
            }
            _ => Action::Keep,
        },
        _ => Action::Keep,
    }
}

fn attr_edit(part: Part<'_>, element: &str, key: &str) -> Option<AttrEdit> {
    use FindingKind as K;
    match part {
        Part::Word => match key {
            k if k.starts_with("w:rsid") => Some(AttrEdit::RemoveRsid),
            "w:author" if element == "w:comment" => {
                Some(AttrEdit::Replace(K::CommentAuthor, NEUTRAL_AUTHOR))
            }
            "w:author" => Some(AttrEdit::Replace(K::TrackedChangeAuthor, NEUTRAL_AUTHOR)),
            "w:initials" => Some(AttrEdit::Replace(K::CommentAuthor, NEUTRAL_INITIALS)),
            // The time of a tracked change or comment.
            "w:date" => Some(AttrEdit::Remove(K::Dates)),
            _ => None,
        },
        Part::XlPersons if local(element) == "person" => match local(key) {
            "displayName" | "userId" => Some(AttrEdit::Replace(K::CommentAuthor, NEUTRAL_AUTHOR)),
            "providerId" => Some(AttrEdit::Replace(K::CommentAuthor, "None")),
            _ => None,
        },
        Part::PptAuthors if matches!(local(element), "cmAuthor" | "author") => match local(key) {
            "name" | "userId" => Some(AttrEdit::Replace(K::CommentAuthor, NEUTRAL_AUTHOR)),
            "initials" => Some(AttrEdit::Replace(K::CommentAuthor, NEUTRAL_INITIALS)),
            "providerId" => Some(AttrEdit::Replace(K::CommentAuthor, "None")),
            _ => None,
        },
        _ => None,
    }
}

/// A dropped element being skipped.
struct Skipping {
    depth: usize,
    kind: Option<FindingKind>,
    label: String,
    text: String,
}

/// An element whose text is being replaced.
struct Replacing {
    depth: usize,
    kind: FindingKind,
    with: &'static str,
    /// What the finding shows instead of the text, if it is not readable.
    shown: Option<&'static str>,
    text: String,
}

/// Applies the part's rules. `Ok(None)` when nothing changed (or when only inspecting).
pub(crate) fn rewrite(
    ctx: &mut Ctx,
    format: Format,
    data: &[u8],
    part: Part<'_>,
) -> Result<Option<Vec<u8>>, CleanError> {
    let corrupt = |e: &dyn std::fmt::Display| CleanError::Corrupt {
        format,
        detail: format!("XML: {e}"),
    };
    let mut reader = Reader::from_reader(data);
    let mut writer = ctx
        .cleaning()
        .then(|| Writer::new(Vec::with_capacity(data.len())));
    let mut stack: Vec<String> = Vec::new();
    let mut skipping: Option<Skipping> = None;
    let mut replacing: Option<Replacing> = None;
    let mut changed = false;
    let mut rsids = 0usize;

    macro_rules! write {
        ($event:expr) => {
            if let Some(w) = writer.as_mut() {
                w.write_event($event).map_err(|e| corrupt(&e))?;
            }
        };
    }

    loop {
        let event = reader.read_event().map_err(|e| corrupt(&e))?;
        if let Event::Eof = event {
            break;
        }
        if let Some(s) = skipping.as_mut() {
            let done = match &event {
                Event::Start(_) => {
                    s.depth += 1;
                    false
                }
                Event::End(_) if s.depth == 0 => true,
                Event::End(_) => {
                    s.depth -= 1;
                    false
                }
                _ => {
                    push_text(&mut s.text, &event);
                    false
                }
            };
            if done {
                if let Some(Skipping {
                    kind: Some(kind),
                    label,
                    text,
                    ..
                }) = skipping.take()
                {
                    // Empty elements are dropped too, but name nothing.
                    let value = join(&label, &text);
                    if !value.is_empty() {
                        ctx.find(kind, &value, true);
                    }
                }
            }
            continue;
        }
        if let Some(r) = replacing.as_mut() {
            let done = match &event {
                Event::Start(_) => {
                    r.depth += 1;
                    false
                }
                Event::End(_) if r.depth == 0 => true,
                Event::End(_) => {
                    r.depth -= 1;
                    false
                }
                _ => {
                    push_text(&mut r.text, &event);
                    false
                }
            };
            if done {
                if let Some(r) = replacing.take() {
                    let old = r.text.trim();
                    if old != r.with {
                        if !old.is_empty() {
                            ctx.find(r.kind, r.shown.unwrap_or(old), true);
                        }
                        changed = true;
                    }
                    write!(Event::Text(BytesText::new(r.with)));
                    stack.pop();
                    write!(event);
                }
            }
            continue;
        }
        match event {
            Event::Start(e) => match element_action(part, &stack, &e) {
                Action::Drop(kind) => {
                    changed = true;
                    skipping = Some(Skipping {
                        depth: 0,
                        kind,
                        label: label(&e),
                        text: String::new(),
                    });
                }
                Action::ReplaceText(kind, with, shown) => {
                    let (e, n) = edit_attributes(ctx, part, e, &mut rsids)?;
                    changed |= n;
                    stack.push(e.name().as_ref().to_string());
                    write!(Event::Start(e));
                    replacing = Some(Replacing {
                        depth: 0,
                        kind,
                        with,
                        shown,
                        text: String::new(),
                    });
                }
                Action::Keep => {
                    let (e, n) = edit_attributes(ctx, part, e, &mut rsids)?;
                    changed |= n;
                    stack.push(e.name().as_ref().to_string());
                    write!(Event::Start(e));
                }
            },
            Event::Empty(e) => match element_action(part, &stack, &e) {
                Action::Drop(kind) => {
                    changed = true;
                    let value = label(&e);
                    if let (Some(kind), false) = (kind, value.is_empty()) {
                        ctx.find(kind, &value, true);
                    }
                }
                Action::Keep | Action::ReplaceText(..) => {
                    let (e, n) = edit_attributes(ctx, part, e, &mut rsids)?;
                    changed |= n;
                    write!(Event::Empty(e));
                }
            },
            Event::End(e) => {
                stack.pop();
                write!(Event::End(e));
            }
            other => write!(other),
        }
    }
    if rsids > 0 {
        ctx.find(
            FindingKind::RevisionIds,
            &format!("{rsids} revision ids (w:rsid)"),
            true,
        );
    }
    match writer {
        Some(w) if changed => Ok(Some(w.into_inner())),
        _ => Ok(None),
    }
}

/// Applies the attribute rules; returns the (possibly new) start tag and whether it
/// changed.
fn edit_attributes<'a>(
    ctx: &mut Ctx,
    part: Part<'_>,
    e: BytesStart<'a>,
    rsids: &mut usize,
) -> Result<(BytesStart<'a>, bool), CleanError> {
    let element = e.name().as_ref().to_string();
    let mut edits = Vec::new();
    for a in e.attributes().with_checks(false).flatten() {
        if let Some(edit) = attr_edit(part, &element, a.key.as_ref()) {
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_default();
            let needed = match edit {
                AttrEdit::Replace(_, with) => value != with,
                _ => true,
            };
            if needed {
                edits.push((a.key.as_ref().to_string(), edit, value));
            }
        }
    }
    if edits.is_empty() {
        return Ok((e, false));
    }
    let mut new = BytesStart::new(element);
    for a in e.attributes().with_checks(false).flatten() {
        match edits.iter().find(|(k, _, _)| k.as_str() == a.key.as_ref()) {
            None => new.push_attribute(a),
            Some((key, edit, value)) => match *edit {
                AttrEdit::RemoveRsid => *rsids += 1,
                AttrEdit::Remove(kind) => ctx.find(kind, value, true),
                AttrEdit::Replace(kind, with) => {
                    if !value.trim().is_empty() {
                        ctx.find(kind, value, true);
                    }
                    new.push_attribute((key.as_str(), with));
                }
            },
        }
    }
    Ok((new, true))
}

/// What names a dropped element when it has no text: its name-like attributes.
fn label(e: &BytesStart<'_>) -> String {
    for key in ["name", "Target", "href", "url", "val", "documentId"] {
        if let Some(v) = attr_local(e, key) {
            return v;
        }
    }
    String::new()
}

fn join(label: &str, text: &str) -> String {
    match (label.trim(), text.trim()) {
        ("", t) => t.to_string(),
        (l, "") => l.to_string(),
        (l, t) => format!("{l}: {t}"),
    }
}

fn push_text(buf: &mut String, event: &Event<'_>) {
    if buf.len() > 4096 {
        return;
    }
    match event {
        Event::Text(t) => {
            if !buf.is_empty()
                && !buf.ends_with(' ')
                && t.xml10_content().starts_with(char::is_whitespace)
            {
                buf.push(' ');
            }
            buf.push_str(&t.xml10_content());
        }
        Event::CData(t) => buf.push_str(&t.xml10_content()),
        Event::GeneralRef(r) => {
            if let Ok(Some(c)) = r.resolve_char_ref() {
                buf.push(c);
            } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
            {
                buf.push_str(s);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Mode;
    use proptest::prelude::*;

    const WORD: &str = r#"<?xml version="1.0"?><w:document xmlns:w="w"><w:body><w:p w:rsidR="00AB12CD"><w:ins w:author="Klaas" w:date="2026-11-22T10:00:00Z"><w:r><w:t>Hello &amp; bye</w:t></w:r></w:ins></w:p><w:rsids><w:rsid w:val="1"/></w:rsids></w:body></w:document>"#;
    const ODF: &str = r#"<office:document-content xmlns:office="o" xmlns:dc="d"><office:annotation><dc:creator>Marie</dc:creator><dc:date>2026</dc:date></office:annotation><office:meta><dc:creator>x</dc:creator><meta:document-statistic/></office:meta></office:document-content>"#;

    fn run(part: Part<'_>, data: &[u8]) -> (usize, Result<Option<Vec<u8>>, CleanError>) {
        let mut ctx = Ctx::new(Mode::Clean);
        let r = rewrite(&mut ctx, Format::Docx, data, part);
        (ctx.removable_count(), r)
    }

    fn idempotent(part: Part<'_>, data: &[u8]) {
        if let (_, Ok(Some(out))) = run(part, data) {
            let (left, again) = run(part, &out);
            assert!(again.is_ok(), "{again:?}");
            assert_eq!(left, 0, "{}", String::from_utf8_lossy(&out));
        }
    }

    #[test]
    fn relationship_targets_resolve_against_their_folder() {
        assert_eq!(resolve("word/", "people.xml"), "word/people.xml");
        assert_eq!(
            resolve("word/", "../docProps/thumbnail.jpeg"),
            "docProps/thumbnail.jpeg"
        );
        assert_eq!(
            resolve("", "/docProps/thumbnail.jpeg"),
            "docProps/thumbnail.jpeg"
        );
        assert_eq!(
            resolve("", "./docProps/thumbnail.jpeg"),
            "docProps/thumbnail.jpeg"
        );
    }

    #[test]
    fn unchanged_parts_are_not_rewritten() {
        let plain = r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>Hi</w:t></w:r></w:p></w:body></w:document>"#;
        assert!(matches!(run(Part::Word, plain.as_bytes()), (0, Ok(None))));
    }

    proptest! {
        #[test]
        fn mutated_parts_never_panic_and_clean_once(
            odf in any::<bool>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        ) {
            let (part, text) = if odf { (Part::OdfContent, ODF) } else { (Part::Word, WORD) };
            let mut data = text.as_bytes().to_vec();
            for (at, value) in edits {
                let i = at.index(data.len());
                data[i] = value;
            }
            idempotent(part, &data);
            idempotent(Part::OdfMeta, &data);
            idempotent(Part::OoxmlProps, &data);
        }
    }
}
