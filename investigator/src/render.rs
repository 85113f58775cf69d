//! The documents `meldpunt open` writes for an [`OpenedCase`]: `report.md` and
//! `report.json` (the report, without the reporter's contact details), the contact
//! details in a file of their own marked as identifying, and `thread.md` and
//! `thread.json` (every message, verified or not, with the reason). A reporter's words
//! are always fenced, so they never become links or markup.

use std::io::Write;
use std::path::Path;

use meldpunt_crypto::reader::direction_words;
use meldpunt_crypto::EncryptedBy;
use meldpunt_wire::CaseNumber;
use serde_json::json;
use zeroize::Zeroizing;

use crate::attachments::AttachmentCheck;
use crate::fsutil::create_private_file;
use crate::opened::{printable, OpenCaseError, OpenedCase};
use crate::report::PinCheck;

/// Name of the file with the reporter's contact details.
pub const CONTACT_FILE: &str = "IDENTIFYING-contact-details.txt";

/// Writes the documents of an opened case into `target` (which exists and holds no
/// such files yet): the contact file (if the reporter gave details), `report.md`,
/// `report.json`, `thread.md`, `thread.json`. `problems` are
/// [`OpenedCase::problems`], listed at the top of the report.
pub fn write_documents(
    opened: &OpenedCase,
    target: &Path,
    problems: &[String],
) -> Result<(), OpenCaseError> {
    let contact = opened.contact();
    if let Some(contact) = contact {
        write_new(
            &target.join(CONTACT_FILE),
            contact_text(opened.case(), contact).as_bytes(),
        )?;
    }
    let has_contact = contact.is_some();
    write_new(
        &target.join("report.md"),
        report_markdown(opened, has_contact, problems).as_bytes(),
    )?;
    write_new(
        &target.join("report.json"),
        report_json(opened, has_contact, problems).as_bytes(),
    )?;
    write_new(
        &target.join("thread.md"),
        thread_markdown(opened).as_bytes(),
    )?;
    write_new(&target.join("thread.json"), thread_json(opened).as_bytes())?;
    Ok(())
}

fn write_new(path: &Path, contents: &[u8]) -> Result<(), OpenCaseError> {
    let failed = |error| OpenCaseError::Write {
        path: path.to_owned(),
        error,
    };
    let mut file = create_private_file(path).map_err(failed)?;
    file.write_all(contents).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// A fenced block that no text can break out of (the fence is longer than any run of
/// backticks inside), so a reporter's words never become links or markup.
pub fn fenced(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

/// The recipients line: whether the report went to the pinned keys.
pub fn pin_line(pins: &PinCheck) -> String {
    match pins {
        PinCheck::Matches { fingerprint } => {
            format!("the pinned recipients, fingerprint {fingerprint}")
        }
        PinCheck::NotPinned { .. } => {
            "NOT CHECKED: no recipients pinned for this destination".into()
        }
        PinCheck::Differs { .. } => "A DIFFERENT SET THAN THE PINNED ONE (see the problems)".into(),
    }
}

/// `report.md`.
pub fn report_markdown(
    opened: &OpenedCase,
    has_contact: bool,
    problems: &[String],
) -> Zeroizing<String> {
    let report = &opened.report;
    let c = &report.opened.content;
    let mut s = Zeroizing::new(String::new());
    let p = &mut *s;
    p.push_str(&format!("# Report {}\n\n", report.case));
    if !problems.is_empty() {
        p.push_str("## PROBLEMS FOUND WHEN VERIFYING\n\n");
        for problem in problems {
            p.push_str(&fenced(problem));
            p.push('\n');
        }
    }
    p.push_str(&format!(
        "- Received: {} (written {})\n",
        report.manifest.summary.received, c.date
    ));
    p.push_str(&format!("- Destination: {}\n", report.opened.destination));
    p.push_str(&format!("- Encrypted to: {}\n", pin_line(&report.pins)));
    p.push_str(&format!("- Category: {}\n", c.category.words()));
    p.push_str(&format!(
        "- Status on the server: {}\n",
        report.manifest.summary.status.as_str()
    ));
    match c.encrypted_by {
        EncryptedBy::Browser => p.push_str("- Encrypted in the reporter's browser (end to end)\n"),
        EncryptedBy::Server => p.push_str(
            "- Encrypted BY THE SERVER on arrival (the reporter's browser ran without \
             JavaScript): the server saw this report's text\n",
        ),
    }
    if has_contact {
        p.push_str(&format!(
            "- The reporter gave contact details: they are in {CONTACT_FILE}, kept apart so \
             this report can be shared without them\n"
        ));
    } else {
        p.push_str("- The reporter gave no contact details\n");
    }
    p.push_str("\n## Concerning\n\n");
    p.push_str(&fenced(&c.concerning));
    p.push_str("\n## What happened\n\n");
    p.push_str(&fenced(&c.description));
    p.push_str("\n## When and where\n\n");
    p.push_str(&fenced(&c.when_where));
    p.push_str("\n## Attachments\n\n");
    if opened.attachments.is_empty() {
        p.push_str("None.\n");
    }
    for (i, a) in opened.attachments.iter().enumerate() {
        match &a.check {
            AttachmentCheck::Saved { name } => p.push_str(&format!(
                "{}. `attachments/{}` ({} bytes), verified against the report\n",
                i + 1,
                name.replace('`', "'"),
                a.entry.size
            )),
            AttachmentCheck::Failed { why } => p.push_str(&format!(
                "{}. NOT SAVED: {}\n",
                i + 1,
                why.replace('`', "'")
            )),
            AttachmentCheck::NotChecked => p.push_str(&format!(
                "{}. NOT SAVED: not decrypted, so not verified\n",
                i + 1
            )),
        }
        p.push_str(&format!(
            "   original name: {}\n",
            fenced(&printable(&a.entry.name)).trim_end()
        ));
        hidden_data_lines(p, a, c.encrypted_by);
    }
    p.push_str("\nThe conversation with the reporter is in thread.md.\n");
    s
}

/// What the report records about a document's hidden data, what it still carries (kinds
/// and places, never values) and where its copy without it is.
fn hidden_data_lines(p: &mut String, a: &crate::attachments::Attachment, by: EncryptedBy) {
    let quote = |s: &str| s.replace('`', "'");
    p.push_str(&format!(
        "   hidden data: {}\n",
        quote(&crate::documents::record_words(&a.entry, by))
    ));
    let Some(hidden) = &a.hidden else { return };
    if hidden.found.is_empty() {
        p.push_str("   identifying metadata still in the file: none found\n");
    } else {
        p.push_str(&format!(
            "   identifying metadata STILL IN THE FILE: {}\n",
            quote(&hidden.found_words())
        ));
    }
    if let Some(why) = &hidden.not_checked {
        p.push_str(&format!("   not fully checked: {}\n", quote(why)));
    }
    match &hidden.shareable {
        Ok(name) => p.push_str(&format!(
            "   copy without it, to share inside the bureau: `{}/{}`\n",
            crate::documents::SHAREABLE_DIR,
            quote(name)
        )),
        Err(why) => p.push_str(&format!("   no copy without it: {}\n", quote(why))),
    }
}

/// `report.json`.
pub fn report_json(
    opened: &OpenedCase,
    has_contact: bool,
    problems: &[String],
) -> Zeroizing<String> {
    let report = &opened.report;
    let c = &report.opened.content;
    let value = json!({
        "case": report.case.as_str(),
        "received": report.manifest.summary.received,
        "written": c.date,
        "destination": report.opened.destination,
        "recipients": report.opened.recipients.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "recipients_match_pins": report.pins.is_ok(),
        "category": c.category,
        "concerning": c.concerning,
        "description": c.description,
        "when_where": c.when_where,
        "encrypted_by": c.encrypted_by,
        "contact_details_file": has_contact.then_some(CONTACT_FILE),
        "attachments": opened.attachments.iter().map(|a| json!({
            "name": a.entry.name,
            "size": a.entry.size,
            "ciphertext_sha256": a.entry.ciphertext_sha256,
            "saved_as": a.saved_as().map(|n| format!("attachments/{n}")),
            "problem": a.problem(),
            "metadata_record": a.entry.metadata,
            "metadata_still_found": a.hidden.as_ref().map(|h| h.found.iter().map(|(kind, place)| json!({
                "kind": kind,
                "place": place,
            })).collect::<Vec<_>>()),
            "metadata_not_checked": a.hidden.as_ref().and_then(|h| h.not_checked.clone()),
            "shareable_copy": a.hidden.as_ref().and_then(|h| h.shareable.as_ref().ok())
                .map(|n| format!("{}/{n}", crate::documents::SHAREABLE_DIR)),
        })).collect::<Vec<_>>(),
        "problems": problems,
    });
    Zeroizing::new(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n")
}

/// The contact file: the reporter's details under a warning.
pub fn contact_text(case: &CaseNumber, contact: &str) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "IDENTIFYING INFORMATION — case {case}\n\
         \n\
         The reporter's contact details. Whoever reads this can learn who the reporter is.\n\
         Do NOT share this file or copy it into the case file: only the staff authorised to\n\
         know the reporter's identity may see it (EU Directive 2019/1937, Art. 16).\n\
         \n\
         ----------------------------------------------------------------------\n\
         {}\n\
         ----------------------------------------------------------------------\n",
        contact.trim_end()
    ))
}

/// `thread.md`.
pub fn thread_markdown(opened: &OpenedCase) -> Zeroizing<String> {
    let thread = &opened.thread;
    let mut s = Zeroizing::new(format!("# Thread of case {}\n\n", opened.case()));
    if thread.items.is_empty() {
        s.push_str("No messages yet.\n");
    }
    for note in &thread.notes {
        s.push_str(&format!("**PROBLEM:** {note}\n\n"));
    }
    for (i, item) in thread.items.iter().enumerate() {
        match &item.result {
            Ok(m) => {
                s.push_str(&format!(
                    "## {}. {} — {} — verified\n\n",
                    i + 1,
                    direction_words(m.direction),
                    m.date
                ));
                // What is wrong with a message that verifies (an unpinned answer key, no
                // audit entry) stands right above its text, not only in report.md.
                for w in &item.warnings {
                    s.push_str(&format!("**WARNING:** {w}\n\n"));
                }
                if let Some(status) = m.status {
                    s.push_str(&format!("Announces the status: {}\n\n", status.as_str()));
                }
                s.push_str(&fenced(&m.text));
                s.push('\n');
            }
            Err(why) => {
                s.push_str(&format!("## {}. NOT VERIFIED — {}\n\n", i + 1, item.file));
                for w in &item.warnings {
                    s.push_str(&format!("**WARNING:** {w}\n\n"));
                }
                s.push_str(&fenced(&why.text));
                s.push('\n');
            }
        }
    }
    s
}

/// `thread.json`.
pub fn thread_json(opened: &OpenedCase) -> Zeroizing<String> {
    let thread = &opened.thread;
    let items: Vec<_> = thread
        .items
        .iter()
        .map(|item| match &item.result {
            Ok(m) => json!({
                "file": item.file.to_path(),
                "verified": true,
                "direction": m.direction.as_str(),
                "seq": m.seq,
                "date": m.date,
                "status": m.status,
                "text": m.text,
                "warnings": item.warnings,
            }),
            Err(why) => json!({
                "file": item.file.to_path(),
                "verified": false,
                "problem": why.text,
            }),
        })
        .collect();
    let value = json!({ "messages": items, "problems": thread.notes });
    Zeroizing::new(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_text_breaks_out_of_its_fence() {
        assert_eq!(fenced("plain"), "```text\nplain\n```\n");
        let sneaky = "a ```` b\n```\n[link](http://x)";
        let block = fenced(sneaky);
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````\n"), "{block}");
    }

    #[test]
    fn the_contact_file_warns_before_the_details() {
        let case = CaseNumber::parse("MP-7KQ2M9XD4A").unwrap();
        let text = contact_text(&case, "Jan, 06-12345678\n");
        assert!(text.starts_with("IDENTIFYING INFORMATION — case MP-7KQ2M9XD4A"));
        assert!(text.find("Do NOT share").unwrap() < text.find("06-12345678").unwrap());
    }
}
