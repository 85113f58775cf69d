//! Makes a bundle for the `open` benchmark (scripts/bench-open.sh): one case whose
//! report lists one large attachment, encrypted the way the reporter's browser and the
//! server make them and written in the layout of docs/BUNDLE.md.
//!
//! ```text
//! bench_bundle DIR [SIZE_BYTES]
//! ```
//!
//! Writes `DIR/key.txt` (a fresh investigator key), `DIR/recipient.txt` (its public
//! key, for `meldpunt pin`) and `DIR/bundle/cases/MP-BENCH00001/`. The attachment is
//! streamed from a generator, so memory stays small whatever the size; its bytes are
//! pseudo-random (not compressible, not all zero) but not secret.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use meldpunt_crypto::{
    encrypt_attachment, seal_report, AttachmentEntry, CaseStatus, Category, Day, Destination,
    EncryptedBy, InvestigatorKey, ReportContent, ReporterKeys, ReturnCode, ThreadState,
};
use meldpunt_wire::{CaseFile, CaseManifest, CaseNumber, CaseSummary, FileEntry};

/// The benchmark's case number.
const CASE: &str = "MP-BENCH00001";
/// 1 GiB: a power of two, so the padded size equals the plaintext size and `age -d`
/// writes exactly the bytes `meldpunt open` saves.
const DEFAULT_SIZE: u64 = 1 << 30;

/// Exactly `left` pseudo-random bytes (xorshift64*), generated as they are read.
struct Generator {
    state: u64,
    left: u64,
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            let word = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (dir, size) = match args.as_slice() {
        [_, dir] => (dir.as_str(), DEFAULT_SIZE),
        [_, dir, size] => match size.parse() {
            Ok(size) => (dir.as_str(), size),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    match make(Path::new(dir), size) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_bundle: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: bench_bundle DIR [SIZE_BYTES]");
    ExitCode::from(2)
}

fn make(dir: &Path, size: u64) -> Result<(), Box<dyn std::error::Error>> {
    let day = Day::today();
    let key = InvestigatorKey::generate();
    fs::create_dir_all(dir)?;
    fs::write(dir.join("key.txt"), key.to_key_file(day).as_bytes())?;
    fs::write(dir.join("recipient.txt"), format!("{}\n", key.recipient()))?;
    let bureau = Destination::from_recipients("bureau", vec![key.recipient()])?;

    let case = CaseNumber::parse(CASE).ok_or("the benchmark's case number is not valid")?;
    let case_dir = dir.join("bundle").join("cases").join(case.as_str());
    fs::create_dir_all(case_dir.join("attachments"))?;
    fs::create_dir_all(case_dir.join("thread"))?;

    let attachment = CaseFile::Attachment(0);
    let mut out = BufWriter::with_capacity(
        256 * 1024,
        File::create(case_dir.join(attachment.to_path()))?,
    );
    let generator = Generator {
        state: 0x9E37_79B9_7F4A_7C15,
        left: size,
    };
    let digest = encrypt_attachment(bureau.recipients(), generator, size, &mut out)?;
    out.into_inner()?.sync_all()?;

    let code = ReturnCode::generate(&mut rand::rngs::OsRng);
    let reporter = ReporterKeys::derive_from(&code);
    let content = ReportContent {
        category: Category::Other,
        concerning: "Benchmark".into(),
        description: "A report with one large attachment, for timing `meldpunt open`.".into(),
        when_where: "Nowhere".into(),
        contact: None,
        attachments: vec![AttachmentEntry::new("data.bin".into(), size, &digest)],
        date: day,
        encrypted_by: EncryptedBy::Browser,
    };
    let report = seal_report(&content, &reporter, &bureau)?;
    fs::write(case_dir.join(CaseFile::Report.to_path()), &report)?;
    let report_sha256 = meldpunt_crypto::ciphertext_hash(&report);

    // The server's case.json: no messages yet, so the thread head is the report's hash.
    let head = ThreadState::new(report_sha256).head();
    let manifest = CaseManifest {
        summary: CaseSummary {
            case,
            destination: bureau.name.clone(),
            received: day,
            status: CaseStatus::Received,
            acknowledged: None,
            closed: None,
            acknowledge_by: day.add_days(7),
            feedback_by: day.add_days(7).add_months(3),
            retention_until: Some(day.add_months(24)),
            head: hex::encode(head),
            updated: day,
            last_content: day,
            attachments: 1,
            messages: 0,
        },
        files: vec![
            FileEntry {
                path: CaseFile::Report,
                sha256: hex::encode(report_sha256),
                size: report.len() as u64,
            },
            FileEntry {
                path: attachment,
                sha256: hex::encode(digest.sha256),
                size: digest.size,
            },
        ],
    };
    let mut file = File::create(case_dir.join(CaseFile::Manifest.to_path()))?;
    file.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    println!("{CASE}");
    Ok(())
}
