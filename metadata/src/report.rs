//! Findings, warnings, and the context that collects them while a file is walked.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{CleanError, Format};

/// A kind of identifying metadata. The snake_case names (serde) are stable: the signed
/// report records these, never the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// The author or creator (Office `dc:creator`, ODF `initial-creator`, PDF `/Author`,
    /// EXIF `Artist`, XMP `dc:creator`, PNG `Author`).
    Author,
    /// The person who saved last (Office `lastModifiedBy`, ODF `dc:creator`).
    LastModifiedBy,
    /// The company (Office `Company`).
    Company,
    /// The manager (Office `Manager`).
    Manager,
    /// The template a document was made from (often a path with a user name).
    Template,
    /// Total editing time.
    EditingTime,
    /// A GPS position.
    GpsPosition,
    /// A camera body or lens serial number.
    CameraSerial,
    /// The camera owner's name.
    CameraOwner,
    /// Camera or phone make and model.
    CameraModel,
    /// The program (and often its version) that wrote the file.
    Software,
    /// The program that made the original of a PDF or XMP document (`/Creator`,
    /// `xmp:CreatorTool`).
    CreatorTool,
    /// The program that wrote a PDF (`/Producer`).
    Producer,
    /// A document or image id that links copies of one file (PDF `/ID`, XMP
    /// `DocumentID`, EXIF `ImageUniqueID`).
    DocumentId,
    /// The author of a tracked change.
    TrackedChangeAuthor,
    /// The author (or initials) of a comment.
    CommentAuthor,
    /// The list of people who worked on a Word document (`word/people.xml`).
    People,
    /// Word revision-save ids (`w:rsid…`), which link documents edited on one machine.
    RevisionIds,
    /// A thumbnail picture of the first page or of the photo.
    Thumbnail,
    /// A printer name or printer setup.
    Printer,
    /// The document title (can identify too).
    Title,
    /// The document subject.
    Subject,
    /// Keywords or categories.
    Keywords,
    /// A description.
    Description,
    /// A comment hidden in the file's metadata (JPEG comment, EXIF `UserComment`, PNG
    /// `Comment`, zip comment).
    Comment,
    /// A copyright notice (often the author's name).
    Copyright,
    /// Creation, modification or print dates and times.
    Dates,
    /// A user-defined document property.
    CustomProperty,
    /// A file embedded in the document.
    EmbeddedFile,
    /// An XMP metadata block.
    Xmp,
    /// An EXIF block (fields not listed separately).
    Exif,
    /// An IPTC / Photoshop block.
    Iptc,
    /// Camera maker notes (vendor data, often with serial numbers).
    MakerNotes,
    /// The name of the computer the file was made on.
    ComputerName,
    /// A file path (often with the user name in it).
    FilePath,
    /// Data after the end of a picture (a second picture, a vendor trailer).
    TrailingData,
    /// Other metadata blocks that identify or could identify.
    OtherMetadata,
}

impl FindingKind {
    /// A short plain-words label for the reporter.
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Author => "author",
            FindingKind::LastModifiedBy => "last saved by",
            FindingKind::Company => "company",
            FindingKind::Manager => "manager",
            FindingKind::Template => "template",
            FindingKind::EditingTime => "editing time",
            FindingKind::GpsPosition => "GPS position",
            FindingKind::CameraSerial => "camera serial number",
            FindingKind::CameraOwner => "camera owner",
            FindingKind::CameraModel => "camera model",
            FindingKind::Software => "software",
            FindingKind::CreatorTool => "creating program",
            FindingKind::Producer => "PDF producer",
            FindingKind::DocumentId => "document id",
            FindingKind::TrackedChangeAuthor => "author of a tracked change",
            FindingKind::CommentAuthor => "author of a comment",
            FindingKind::People => "people who edited",
            FindingKind::RevisionIds => "revision ids",
            FindingKind::Thumbnail => "thumbnail picture",
            FindingKind::Printer => "printer",
            FindingKind::Title => "title",
            FindingKind::Subject => "subject",
            FindingKind::Keywords => "keywords",
            FindingKind::Description => "description",
            FindingKind::Comment => "hidden comment",
            FindingKind::Copyright => "copyright",
            FindingKind::Dates => "dates and times",
            FindingKind::CustomProperty => "custom property",
            FindingKind::EmbeddedFile => "embedded file",
            FindingKind::Xmp => "XMP metadata",
            FindingKind::Exif => "EXIF metadata",
            FindingKind::Iptc => "IPTC metadata",
            FindingKind::MakerNotes => "camera maker notes",
            FindingKind::ComputerName => "computer name",
            FindingKind::FilePath => "file path",
            FindingKind::TrailingData => "data after the picture",
            FindingKind::OtherMetadata => "other metadata",
        }
    }
}

/// One piece of identifying metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// The value found, for showing to the reporter only (shortened to 200 characters).
    /// Never store or send it.
    pub value: String,
    /// Where: empty for the file itself, else the path inside it (`word/comments.xml`,
    /// `photos.zip > a.jpg`).
    pub location: String,
    /// Whether [`clean`](crate::clean) removes it.
    pub removable: bool,
}

/// A kind of warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// The format was not recognised: nothing was checked.
    UnknownFormat,
    /// The format is known but its metadata cannot be checked here (e-mail, audio,
    /// video, GIF, RTF, HTML/XML, old Office formats).
    NotChecked,
    /// The metadata was checked but cannot be removed here (TIFF, HEIC).
    NotCleanable,
    /// The file or a part of it is encrypted.
    Encrypted,
    /// The file or a part of it could not be read.
    Corrupt,
    /// A file is embedded; it is listed but not cleaned.
    EmbeddedFile,
    /// A member of an archive is kept as it was, unchecked.
    MemberKept,
    /// A size, count or depth limit was reached; the rest was not checked.
    LimitReached,
    /// The general note on the visible content ([`VISIBLE_CONTENT_NOTE`](crate::VISIBLE_CONTENT_NOTE)).
    VisibleContent,
}

/// Something that could not be checked or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// What kind of warning.
    pub kind: WarningKind,
    /// Where: empty for the file itself, else the path inside it.
    pub location: String,
    /// A plain-words message for the reporter.
    pub message: String,
}

/// Whether the walk only looks or also rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Inspect,
    Clean,
}

/// Collects findings and warnings, tracks where in a nested file the walk is, and how
/// much has been unpacked.
pub(crate) struct Ctx {
    pub(crate) mode: Mode,
    findings: Vec<Finding>,
    seen: HashSet<(FindingKind, String, String)>,
    warnings: Vec<Warning>,
    location: Vec<String>,
    pub(crate) depth: usize,
    pub(crate) unpacked: u64,
    /// Calls of `find`, duplicates included.
    calls: usize,
    /// Calls of `find` for removable findings, duplicates included.
    removable_calls: usize,
}

const MAX_VALUE_CHARS: usize = 200;

impl Ctx {
    pub(crate) fn new(mode: Mode) -> Ctx {
        Ctx {
            mode,
            findings: Vec::new(),
            seen: HashSet::new(),
            warnings: Vec::new(),
            location: Vec::new(),
            depth: 0,
            unpacked: 0,
            calls: 0,
            removable_calls: 0,
        }
    }

    pub(crate) fn cleaning(&self) -> bool {
        self.mode == Mode::Clean
    }

    pub(crate) fn location(&self) -> String {
        self.location.join(" > ")
    }

    pub(crate) fn enter(&mut self, name: &str) {
        self.location.push(name.to_string());
    }

    pub(crate) fn leave(&mut self) {
        self.location.pop();
    }

    /// Records a finding (once per kind, value and location).
    pub(crate) fn find(&mut self, kind: FindingKind, value: &str, removable: bool) {
        self.calls += 1;
        if removable {
            self.removable_calls += 1;
        }
        let value = shorten(value.trim());
        let location = self.location();
        if self.seen.insert((kind, value.clone(), location.clone())) {
            self.findings.push(Finding {
                kind,
                value,
                location,
                removable,
            });
        }
    }

    pub(crate) fn warn(&mut self, kind: WarningKind, message: String) {
        let warning = Warning {
            kind,
            location: self.location(),
            message,
        };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Turns an error into the warning that says the same.
    pub(crate) fn warn_error(&mut self, format: Format, error: &CleanError) {
        let kind = match error {
            CleanError::UnknownFormat => WarningKind::UnknownFormat,
            CleanError::Unsupported {
                format: Format::Tiff | Format::Heif,
            } => WarningKind::NotCleanable,
            CleanError::Unsupported { .. } => WarningKind::NotChecked,
            CleanError::Encrypted { .. } => WarningKind::Encrypted,
            CleanError::Corrupt { .. } => WarningKind::Corrupt,
            CleanError::TooLarge { .. } => WarningKind::LimitReached,
        };
        let message = match error {
            CleanError::Unsupported {
                format: Format::Tiff | Format::Heif,
            } => format!(
                "The hidden data of {} files is shown above but cannot be removed here; {}",
                format.description(),
                format.advice()
            ),
            _ => {
                let mut m = error.to_string();
                if let Some(first) = m.get(..1) {
                    let upper = first.to_uppercase();
                    m.replace_range(..1, &upper);
                }
                m.push('.');
                m
            }
        };
        self.warn(kind, message);
    }

    pub(crate) fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// How many findings have been reported so far, duplicates included (to tell whether
    /// a part added any).
    pub(crate) fn count(&self) -> usize {
        self.calls
    }

    /// As [`Ctx::count`], for removable findings only.
    pub(crate) fn removable_count(&self) -> usize {
        self.removable_calls
    }

    pub(crate) fn into_parts(self) -> (Vec<Finding>, Vec<Warning>) {
        (self.findings, self.warnings)
    }
}

/// The kinds of some findings, each once, in order.
pub(crate) fn kinds_of<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<FindingKind> {
    let mut kinds = Vec::new();
    for f in findings {
        if !kinds.contains(&f.kind) {
            kinds.push(f.kind);
        }
    }
    kinds
}

fn shorten(value: &str) -> String {
    let mut chars = value.chars();
    let mut out: String = chars.by_ref().take(MAX_VALUE_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}
