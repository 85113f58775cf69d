//! `meldpunt open`: decrypts and verifies one case into a folder an investigator can
//! read: the report (Markdown and JSON), the reporter's contact details in a file of
//! their own marked as identifying, the attachments (checked against the report's
//! manifest, under safe names) and the thread (every message verified).
//!
//! Checks never stop at the first failure and never hide one: everything that can be
//! shown is shown, every problem is listed, and the exit code is 3 if there was any.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meldpunt_crypto::{decrypt_attachment, AttachmentEntry, Category, EncryptedBy};
use serde_json::json;
use zeroize::Zeroizing;

use crate::bundle::{Bundle, BundleError, CaseId, CaseMeta};
use crate::cases::status_word;
use crate::fsutil::{create_private_dir_all, create_private_file, remove_tree};
use crate::keys::{self, KeyError, LoadedKeys};
use crate::progress::{bar, HashingReader};
use crate::safename::{safe_name, unique_name};
use crate::verify::{
    direction_words, open_case_report, verify_thread, CaseReport, PinCheck, ReportError,
    VerifiedThread,
};

/// Name of the file with the reporter's contact details.
pub const CONTACT_FILE: &str = "IDENTIFYING-contact-details.txt";
/// Exit code when the case was opened but something did not verify.
pub const EXIT_PROBLEMS: u8 = 3;

/// Why `open` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenCaseError {
    /// The key file could not be used.
    Key(KeyError),
    /// The bundle could not be read.
    Bundle(BundleError),
    /// The report could not be opened.
    Report(ReportError),
    /// The case was opened into this folder before.
    AlreadyOpened {
        /// The case's output folder.
        path: PathBuf,
    },
    /// Writing the output failed.
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        error: io::Error,
    },
}

impl fmt::Display for OpenCaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenCaseError::Key(e) => e.fmt(f),
            OpenCaseError::Bundle(e) => e.fmt(f),
            OpenCaseError::Report(e) => e.fmt(f),
            OpenCaseError::AlreadyOpened { path } => write!(
                f,
                "{} already exists: the case was opened before. Give --replace to write it \
                 anew (the old folder is removed), or choose another OUT_DIR",
                path.display()
            ),
            OpenCaseError::Write { path, error } => {
                write!(f, "could not write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for OpenCaseError {}

impl From<BundleError> for OpenCaseError {
    fn from(e: BundleError) -> Self {
        OpenCaseError::Bundle(e)
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> OpenCaseError + '_ {
    move |error| OpenCaseError::Write {
        path: path.to_owned(),
        error,
    }
}

/// `meldpunt open CASE -i KEY_FILE BUNDLE_DIR -o OUT_DIR [--replace]`.
pub fn open(
    case: &str,
    key_file: &Path,
    bundle_dir: &Path,
    out_dir: &Path,
    replace: bool,
) -> Result<ExitCode, OpenCaseError> {
    let bundle = Bundle::open(bundle_dir)?;
    let case = CaseId::parse(case)?;
    bundle.require_case(&case)?;
    let keys = keys::load(key_file).map_err(OpenCaseError::Key)?;
    let report = open_case_report(&bundle, &case, &keys).map_err(OpenCaseError::Report)?;
    let thread = verify_thread(&report, &keys)?;

    let target = out_dir.join(case.as_str());
    if target.symlink_metadata().is_ok() {
        if !replace {
            return Err(OpenCaseError::AlreadyOpened { path: target });
        }
        remove_tree(&target, true).map_err(write_err(&target))?;
    }
    create_private_dir_all(&target).map_err(write_err(&target))?;

    let mut problems: Vec<String> = Vec::new();
    if let Some(w) = report.pins.warning() {
        problems.push(w);
    }
    problems.extend(report.warnings.iter().cloned());

    let attachments = save_attachments(&report, &keys, &target, &mut problems)?;
    for item in &thread.items {
        if let Err(why) = &item.result {
            problems.push(format!("thread/{}: {why}", item.file));
        }
    }
    for note in &thread.notes {
        problems.push(format!("thread: {note}"));
    }
    problems.extend(thread.warnings.iter().cloned());

    let contact = report
        .opened
        .content
        .contact
        .as_deref()
        .filter(|c| !c.trim().is_empty());
    if let Some(contact) = contact {
        write_new(
            &target.join(CONTACT_FILE),
            contact_text(&case, contact).as_bytes(),
        )?;
    }
    let markdown = report_markdown(&report, &attachments, contact.is_some(), &problems);
    write_new(&target.join("report.md"), markdown.as_bytes())?;
    let json = report_json(&report, &attachments, contact.is_some(), &problems);
    write_new(&target.join("report.json"), json.as_bytes())?;
    write_new(
        &target.join("thread.md"),
        thread_markdown(&case, &thread).as_bytes(),
    )?;
    write_new(&target.join("thread.json"), thread_json(&thread).as_bytes())?;

    print_summary(&report, &attachments, &thread, &target, contact.is_some());
    if problems.is_empty() {
        println!("Everything verified.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!();
        eprintln!(
            "{} PROBLEM(S) FOUND — read them before you rely on this case:",
            problems.len()
        );
        for p in &problems {
            eprintln!();
            eprintln!("{p}");
        }
        Ok(ExitCode::from(EXIT_PROBLEMS))
    }
}

fn write_new(path: &Path, contents: &[u8]) -> Result<(), OpenCaseError> {
    let mut file = create_private_file(path).map_err(write_err(path))?;
    file.write_all(contents).map_err(write_err(path))?;
    file.sync_all().map_err(write_err(path))
}

/// What became of one attachment.
struct Saved {
    entry: AttachmentEntry,
    saved_as: Option<String>,
    problem: Option<String>,
}

fn save_attachments(
    report: &CaseReport,
    keys: &LoadedKeys,
    target: &Path,
    problems: &mut Vec<String>,
) -> Result<Vec<Saved>, OpenCaseError> {
    let entries = &report.opened.content.attachments;
    let out = target.join("attachments");
    if !entries.is_empty() {
        create_private_dir_all(&out).map_err(write_err(&out))?;
    }
    let mut taken = HashSet::new();
    let mut used_files = HashSet::new();
    let mut saved = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let file = ciphertext_file(&report.meta, entry, i);
        used_files.insert(file.clone());
        let name = unique_name(&out, &safe_name(&entry.name, i), &mut taken);
        let result = save_one(&report.dir.join(&file), entry, keys, &out, &name, i);
        let (saved_as, problem) = match result {
            Ok(()) => (Some(name), None),
            Err(why) => {
                problems.push(format!(
                    "attachment {} (\"{}\", {file}): {why}",
                    i + 1,
                    printable(&entry.name)
                ));
                (None, Some(why))
            }
        };
        saved.push(Saved {
            entry: entry.clone(),
            saved_as,
            problem,
        });
    }
    // Files the server sent that the report does not name are not opened.
    if let Ok(dir) = fs::read_dir(report.dir.join("attachments")) {
        for f in dir.flatten() {
            let name = format!("attachments/{}", f.file_name().to_string_lossy());
            if !used_files.contains(&name) {
                problems.push(format!(
                    "{name} is in the bundle but the report does not name it: not opened"
                ));
            }
        }
    }
    Ok(saved)
}

/// The bundle file holding an attachment: the one the server's file list gives the
/// manifest's hash, else the one at the manifest's position. Either way the hash is
/// checked while decrypting.
fn ciphertext_file(meta: &CaseMeta, entry: &AttachmentEntry, index: usize) -> String {
    meta.files
        .iter()
        .filter(|f| f.sha256.eq_ignore_ascii_case(&entry.ciphertext_sha256))
        .map(|f| f.name.clone())
        .find(|n| is_attachment_file_name(n))
        .unwrap_or_else(|| format!("attachments/{index:03}.age"))
}

/// `attachments/NNN.age` and nothing else (the name comes from the server).
fn is_attachment_file_name(name: &str) -> bool {
    name.strip_prefix("attachments/")
        .and_then(|n| n.strip_suffix(".age"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn save_one(
    path: &Path,
    entry: &AttachmentEntry,
    keys: &LoadedKeys,
    out: &Path,
    name: &str,
    index: usize,
) -> Result<(), String> {
    let swapped = "it is not the file the report names (swapped or altered): not saved";
    let file = File::open(path).map_err(|e| format!("missing from the bundle ({e})"))?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    if size != entry.ciphertext_size {
        return Err(format!(
            "{swapped}; it has {size} bytes, the report says {}",
            entry.ciphertext_size
        ));
    }
    let partial = out.join(format!(".partial-{index:03}"));
    let _ = fs::remove_file(&partial);
    let output = create_private_file(&partial).map_err(|e| e.to_string())?;
    let mut reader = HashingReader::new(
        io::BufReader::with_capacity(256 * 1024, file),
        bar(size, format!("attachment {}", index + 1)),
    );
    let decrypted = decrypt_attachment(
        &keys.identities(),
        &mut reader,
        entry.size,
        BufWriter::with_capacity(256 * 1024, output),
    );
    let digest = reader.finish();
    let outcome = match (decrypted, digest) {
        (_, Ok((sha, n)))
            if hex::encode(sha) != entry.ciphertext_sha256.to_ascii_lowercase() || n != size =>
        {
            Err(swapped.to_owned())
        }
        (Err(e), _) => Err(format!("{e}: not saved")),
        (_, Err(e)) => Err(e.to_string()),
        (Ok(()), Ok(_)) => fs::rename(&partial, out.join(name)).map_err(|e| e.to_string()),
    };
    if outcome.is_err() {
        let _ = remove_tree(&partial, true);
    }
    outcome
}

/// A reporter's text shown on one line: control characters made visible.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// A fenced block that no text can break out of (the fence is longer than any run of
/// backticks inside), so a reporter's words never become links or markup.
fn fenced(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

fn category_words(category: Category) -> &'static str {
    match category {
        Category::SystemLookup => "looked in systems without need or right",
        Category::InformationDisclosure => "gave information to people not entitled to it",
        Category::Fraud => "fraud",
        Category::PropertyMisuse => "theft, waste or misuse of property",
        Category::ConflictOfInterest => "conflicting interests or side activities",
        Category::UndesirableBehaviour => "undesirable behaviour",
        Category::Other => "other",
    }
}

fn pin_line(pins: &PinCheck) -> String {
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

fn report_markdown(
    report: &CaseReport,
    attachments: &[Saved],
    has_contact: bool,
    problems: &[String],
) -> Zeroizing<String> {
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
        report.meta.received, c.date
    ));
    p.push_str(&format!("- Destination: {}\n", report.opened.destination));
    p.push_str(&format!("- Encrypted to: {}\n", pin_line(&report.pins)));
    p.push_str(&format!("- Category: {}\n", category_words(c.category)));
    p.push_str(&format!(
        "- Status on the server: {}\n",
        status_word(report.meta.status)
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
    if attachments.is_empty() {
        p.push_str("None.\n");
    }
    for (i, a) in attachments.iter().enumerate() {
        match (&a.saved_as, &a.problem) {
            (Some(saved), _) => p.push_str(&format!(
                "{}. `attachments/{}` ({} bytes), verified against the report\n",
                i + 1,
                saved.replace('`', "'"),
                a.entry.size
            )),
            (None, problem) => p.push_str(&format!(
                "{}. NOT SAVED: {}\n",
                i + 1,
                problem
                    .as_deref()
                    .unwrap_or("unknown problem")
                    .replace('`', "'")
            )),
        }
        p.push_str(&format!(
            "   original name: {}\n",
            fenced(&printable(&a.entry.name)).trim_end()
        ));
    }
    p.push_str("\nThe conversation with the reporter is in thread.md.\n");
    s
}

fn report_json(
    report: &CaseReport,
    attachments: &[Saved],
    has_contact: bool,
    problems: &[String],
) -> Zeroizing<String> {
    let c = &report.opened.content;
    let value = json!({
        "case": report.case.as_str(),
        "received": report.meta.received,
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
        "attachments": attachments.iter().map(|a| json!({
            "name": a.entry.name,
            "size": a.entry.size,
            "ciphertext_sha256": a.entry.ciphertext_sha256,
            "saved_as": a.saved_as.as_ref().map(|n| format!("attachments/{n}")),
            "problem": a.problem,
        })).collect::<Vec<_>>(),
        "problems": problems,
    });
    Zeroizing::new(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n")
}

fn contact_text(case: &CaseId, contact: &str) -> Zeroizing<String> {
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

fn thread_markdown(case: &CaseId, thread: &VerifiedThread) -> Zeroizing<String> {
    let mut s = Zeroizing::new(format!("# Thread of case {case}\n\n"));
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
                if let Some(status) = m.status {
                    s.push_str(&format!(
                        "Announces the status: {}\n\n",
                        status_word(status)
                    ));
                }
                s.push_str(&fenced(&m.text));
                s.push('\n');
            }
            Err(why) => s.push_str(&format!(
                "## {}. NOT VERIFIED — thread/{}\n\n{}\n",
                i + 1,
                item.file,
                fenced(why)
            )),
        }
    }
    s
}

fn thread_json(thread: &VerifiedThread) -> Zeroizing<String> {
    let items: Vec<_> = thread
        .items
        .iter()
        .map(|item| match &item.result {
            Ok(m) => json!({
                "file": format!("thread/{}", item.file),
                "verified": true,
                "direction": match m.direction {
                    meldpunt_crypto::Direction::ToReporter => "to_reporter",
                    meldpunt_crypto::Direction::FromReporter => "from_reporter",
                },
                "seq": m.seq,
                "date": m.date,
                "status": m.status,
                "text": m.text,
            }),
            Err(why) => json!({
                "file": format!("thread/{}", item.file),
                "verified": false,
                "problem": why,
            }),
        })
        .collect();
    let value = json!({ "messages": items, "problems": thread.notes });
    Zeroizing::new(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n")
}

fn print_summary(
    report: &CaseReport,
    attachments: &[Saved],
    thread: &VerifiedThread,
    target: &Path,
    has_contact: bool,
) {
    println!(
        "Case {}: report of {} to \"{}\", decrypted into {}",
        report.case,
        report.meta.received,
        report.opened.destination,
        target.display()
    );
    println!("  encrypted to:  {}", pin_line(&report.pins));
    let ok = attachments.iter().filter(|a| a.saved_as.is_some()).count();
    println!(
        "  attachments:   {ok} of {} verified and saved",
        attachments.len()
    );
    let verified = thread.items.iter().filter(|i| i.result.is_ok()).count();
    println!(
        "  thread:        {verified} of {} message(s) verified",
        thread.items.len()
    );
    if has_contact {
        println!("  contact:       {CONTACT_FILE} — IDENTIFYING, do not share");
    }
}
