//! XMP packets: what they say, for the reporter. Cleaning drops the whole packet.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::report::Ctx;
use crate::FindingKind;

/// The XMP properties worth naming, by local name.
fn kind_of(local: &str) -> Option<FindingKind> {
    use FindingKind as K;
    Some(match local {
        "creator" | "Artist" | "Author" | "By-line" | "CaptionWriter" | "AuthorsPosition" => {
            K::Author
        }
        "CreatorTool" => K::CreatorTool,
        "Producer" => K::Producer,
        "title" => K::Title,
        "description" => K::Description,
        "subject" | "Keywords" => K::Keywords,
        "rights" | "Copyright" => K::Copyright,
        "DocumentID" | "InstanceID" | "OriginalDocumentID" => K::DocumentId,
        "GPSLatitude" | "GPSLongitude" | "City" | "Country" | "State" | "Location" => {
            K::GpsPosition
        }
        "SerialNumber" | "LensSerialNumber" | "BodySerialNumber" => K::CameraSerial,
        "OwnerName" | "CameraOwnerName" => K::CameraOwner,
        "Make" | "Model" | "Lens" => K::CameraModel,
        "softwareAgent" => K::Software,
        "CreateDate" | "ModifyDate" | "MetadataDate" | "DateCreated" | "DateTimeOriginal" => {
            K::Dates
        }
        _ => return None,
    })
}

/// At most this many values are read from one packet (each finding is one line for the
/// reporter).
const MAX_VALUES: usize = 50;

/// Records the findings for one XMP packet, always including one [`FindingKind::Xmp`].
pub(crate) fn findings(ctx: &mut Ctx, packet: &[u8]) {
    findings_as(ctx, packet, true)
}

/// As [`findings`], with the findings marked removable or not.
pub(crate) fn findings_as(ctx: &mut Ctx, packet: &[u8], removable: bool) {
    ctx.find(
        FindingKind::Xmp,
        &format!("XMP metadata ({} bytes)", packet.len()),
        removable,
    );
    let mut reader = Reader::from_reader(packet);
    // (kind, depth of its element, text so far)
    let mut open: Option<(FindingKind, usize, Vec<String>)> = None;
    let mut depth = 0usize;
    let mut values = 0;
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        if values >= MAX_VALUES {
            break;
        }
        match event {
            Event::Start(e) => {
                attributes(ctx, &e, removable, &mut values);
                if let Some((_, _, parts)) = open.as_mut() {
                    parts.push(String::new());
                }
                if open.is_none() {
                    if let Some(kind) = kind_of(e.local_name().as_ref()) {
                        open = Some((kind, depth, Vec::new()));
                    }
                }
                depth += 1;
            }
            Event::Empty(e) => attributes(ctx, &e, removable, &mut values),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some((kind, d, parts)) = open.take() {
                    if d == depth {
                        finish(ctx, kind, &parts, removable, &mut values);
                    } else {
                        open = Some((kind, d, parts));
                    }
                }
            }
            Event::Text(t) => {
                if let Some((_, _, parts)) = open.as_mut() {
                    match parts.last_mut() {
                        Some(last) => last.push_str(&t.xml10_content()),
                        None => parts.push(t.xml10_content().into_owned()),
                    }
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, _, parts)) = open.as_mut() {
                    if let Some(s) =
                        quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                    {
                        match parts.last_mut() {
                            Some(last) => last.push_str(s),
                            None => parts.push(s.to_string()),
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// XMP often writes properties as attributes of `rdf:Description`.
fn attributes(ctx: &mut Ctx, e: &BytesStart<'_>, removable: bool, values: &mut usize) {
    for attr in e.attributes().flatten() {
        if let Some(kind) = kind_of(attr.key.local_name().as_ref()) {
            if let Ok(v) = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                ctx.find(kind, &v, removable);
                *values += 1;
            }
        }
    }
}

fn finish(ctx: &mut Ctx, kind: FindingKind, parts: &[String], removable: bool, values: &mut usize) {
    let parts: Vec<&str> = parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    if !parts.is_empty() {
        ctx.find(kind, &parts.join(", "), removable);
        *values += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Mode;

    #[test]
    fn elements_and_attributes() {
        let packet = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Writer &amp; co" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:creator><rdf:Seq><rdf:li>Jan Jansen</rdf:li><rdf:li>Piet &amp; Co</rdf:li></rdf:Seq></dc:creator>
<dc:format>application/pdf</dc:format><dc:title><rdf:Alt><rdf:li xml:lang="x-default"/></rdf:Alt></dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let mut ctx = Ctx::new(Mode::Inspect);
        findings(&mut ctx, packet);
        let found: Vec<_> = ctx
            .findings()
            .iter()
            .map(|f| (f.kind, f.value.as_str()))
            .collect();
        assert_eq!(found[0].0, FindingKind::Xmp);
        assert!(found.contains(&(FindingKind::CreatorTool, "Writer & co")));
        assert!(
            found.contains(&(FindingKind::Author, "Jan Jansen, Piet & Co")),
            "{found:?}"
        );
        assert_eq!(found.len(), 3, "an empty title is no finding: {found:?}");
    }

    #[test]
    fn garbage_is_still_an_xmp_finding() {
        let mut ctx = Ctx::new(Mode::Inspect);
        findings(&mut ctx, b"<<<\xff not xml");
        assert_eq!(ctx.findings().len(), 1);
    }
}
