//! Backups of the data directory, as docs/DEPLOY.md tells the operator to make them: a
//! real server holds a case (an attachment, the report, the reporter's note, a question
//! from the bureau); it is stopped the way systemd stops it (SIGTERM); scripts/backup.sh
//! archives the directory, encrypted with the real `age` CLI; the directory is wiped;
//! scripts/restore.sh brings it back; the restarted server has the case, the same
//! ciphertext byte for byte, the thread and the audit chain, every token revoked and the
//! restore announced in the audit log — and the reporter can go on answering. A backup
//! someone else made, or one without its signature, is never restored; investigators
//! accept the restored server's shorter audit log only as the operator's signed,
//! announced restore. A backup taken while reporters file and upload holds every report
//! receipted before it began, whole, and never held up or refused a reporter.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{
    ciphertext_hash, encrypt_attachment, open_message, open_report, seal_from_reporter,
    seal_report, seal_to_reporter, AttachmentEntry, Category, Day, Direction, EncryptedBy,
    ReportContent, ThreadSecrets, ThreadState,
};
use meldpunt_tests::{agent, binary, json, meldpunt_ok, ApiReporter, Investigator, Site};
use meldpunt_wire::restore::{Announcement, RestoreStatement};
use zeroize::Zeroizing;

#[test]
fn a_backup_brings_back_cases_threads_tokens_and_the_audit_chain() {
    for tool in ["/usr/bin/age", "/usr/bin/age-keygen"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: scripts/test.sh installs it (apt-get install age)"
        );
    }
    let site = Site::new();
    let data = site.data_dir();
    let work = tempfile::tempdir().unwrap();
    let token = site.token("alice", "bureau");
    let revoked = site.token("bob", "bureau");
    ok(site.server_cli(&["token", "revoke", "bob"]));
    let server = site.start();
    let a = agent();
    let bearer = format!("Bearer {token}");

    // --- a reporter files a case, as the browser does ------------------------------------
    let reporter = ApiReporter::new();
    let (code, keys, cred) = (
        &reporter.code,
        &reporter.keys,
        reporter.credential().to_owned(),
    );
    let evidence = b"the purchase orders, signed by the same person twice".repeat(500);
    let filed = reporter.file(
        &site,
        "Orders split to stay under the tender limit.",
        None,
        &[("orders.pdf", &evidence)],
    );
    let (case, report, evidence_ct) = (
        filed.case.clone(),
        filed.report.clone(),
        filed.attachments[0].clone(),
    );
    let today = Day::today();

    // --- the bureau acknowledges and asks a question --------------------------------------
    let opened = open_report(&report, &[site.bureau_key.as_age()]).unwrap();
    let bureau_state = ThreadState::new(opened.ciphertext_sha256);
    let q = bureau_state.draft(
        Direction::ToReporter,
        today,
        Zeroizing::new("Who signed the second order?".into()),
    );
    let question = seal_to_reporter(&q, &opened.thread, site.bureau.recipients()).unwrap();
    let resp = a
        .post(&site.url(&format!("/api/v1/cases/{case}/messages")))
        .header("Authorization", &bearer)
        .header("Meldpunt-Extends", &hex::encode(bureau_state.head()))
        .send(&question[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let resp = a
        .post(&site.url(&format!("/api/v1/cases/{case}/status")))
        .header("Authorization", &bearer)
        .header("Content-Type", "application/json")
        .send(r#"{"status":"acknowledged"}"#)
        .unwrap();
    assert_eq!(resp.status(), 200);

    // What the server shows before the backup.
    let cases_before = cases(&site, &bearer);
    let download_before = download(&site, &bearer, &case);
    let thread_before = thread(&site, &cred);
    let audit_before = audit(&site, &bearer);

    // --- backing up ---------------------------------------------------------------------------
    // With the server stopped (a backup while it serves: the test below).
    let signing = ssh_key(work.path(), "backup-signing");
    let restore_key = ssh_key(work.path(), "restore");
    server.stop();
    let head = ok(site.server_cli(&["audit", "verify"]));
    assert!(head.starts_with("The audit log is whole"), "{head}");
    let times_before = tree(&data);
    let files_before = file_stamps(&data);

    let key_file = work.path().join("backup-key.txt");
    let keygen = ok(run(Command::new("age-keygen").arg("-o").arg(&key_file)));
    let recipient = keygen
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .expect("age-keygen prints the public key")
        .to_owned();
    let encrypted = work.path().join("meldpunt.tar.age");
    // A backup must be signed.
    let unsigned = run(Command::new(script("backup.sh"))
        .args(["-r", &recipient])
        .arg(&data)
        .arg(&encrypted));
    assert!(!unsigned.status.success());
    assert!(
        String::from_utf8_lossy(&unsigned.stderr).contains("-s KEY_FILE"),
        "{unsigned:?}"
    );
    assert!(!encrypted.exists());
    ok(run(Command::new(script("backup.sh"))
        .arg("-s")
        .arg(&signing)
        .args(["-r", &recipient])
        .arg(&data)
        .arg(&encrypted)));
    assert!(sig(&encrypted).exists());
    let plain = work.path().join("meldpunt.tar");
    let said = ok(run(Command::new(script("backup.sh"))
        .arg("-s")
        .arg(&signing)
        .arg(&data)
        .arg(&plain)));
    assert!(said.contains("NOT encrypted"), "{said}");
    // A backup never overwrites another.
    assert!(!run(Command::new(script("backup.sh"))
        .arg("-s")
        .arg(&signing)
        .arg(&data)
        .arg(&plain))
    .status
    .success());

    // Reading for the backup put no time on the files.
    assert_eq!(
        file_stamps(&data),
        files_before,
        "the backup changed file times"
    );
    // A plain backup shows the case records; the encrypted one shows nothing.
    let plain_bytes = fs::read(&plain).unwrap();
    let encrypted_bytes = fs::read(&encrypted).unwrap();
    assert!(contains(&plain_bytes, case.as_bytes()));
    assert!(encrypted_bytes.starts_with(b"age-encryption.org/v1\n"));
    for marker in [
        case.as_bytes(),
        b"alice".as_slice(),
        b"token_created".as_slice(),
        b"bureau".as_slice(),
    ] {
        assert!(
            !contains(&encrypted_bytes, marker),
            "the encrypted backup shows {}",
            String::from_utf8_lossy(marker)
        );
    }

    // --- the disk is lost ------------------------------------------------------------------------
    let original = contents(&data);
    fs::remove_dir_all(&data).unwrap();

    // An encrypted backup needs its key; a failed restore leaves nothing behind.
    let no_key = run(restore(&signing, &restore_key).arg(&encrypted).arg(&data));
    assert!(!no_key.status.success());
    assert!(!data.exists());
    ok(run(restore(&signing, &restore_key)
        .arg("-i")
        .arg(&key_file)
        .arg(&encrypted)
        .arg(&data)));
    // The signed restore statement waits for the server's next start.
    let statement = data.join("restore-statement.txt");
    let stated = RestoreStatement::parse(&fs::read_to_string(&statement).unwrap()).unwrap();
    assert_eq!(stated.backup_sha256, sha256_hex(&encrypted_bytes));
    assert_eq!(stated.audit_entries as usize, audit_before.len());
    assert_eq!(
        stated.audit_head,
        audit_before.last().unwrap()["hash"].as_str().unwrap()
    );
    let statement_files = [
        PathBuf::from("restore-statement.txt"),
        PathBuf::from("restore-statement.txt.sig"),
    ];
    // Every file is back, byte for byte, with its day stamp; the restore left no time of
    // its own. (Stamps first: reading marks access times.)
    // (The statement is the one thing the restore adds; the server removes it.)
    let mut times_after = tree(&data);
    let mut restored = contents(&data);
    for f in &statement_files {
        assert!(times_after.remove(f).is_some() && restored.remove(f).is_some());
    }
    assert_eq!(restored, original);
    assert_eq!(
        times_after.keys().collect::<Vec<_>>(),
        times_before.keys().collect::<Vec<_>>()
    );
    for (path, after) in &times_after {
        let before = &times_before[path];
        assert_eq!(
            (after.mode, after.mtime),
            (before.mode, before.mtime),
            "{}",
            path.display()
        );
        assert_eq!(
            after.atime,
            after.mtime,
            "{}: the restore left its own access time",
            path.display()
        );
    }
    assert_eq!(
        fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // Never over existing data.
    assert!(!run(restore(&signing, &restore_key).arg(&plain).arg(&data))
        .status
        .success());

    // --- the restored server -----------------------------------------------------------------------
    // It announces the restore and revokes every token: the backup cannot know which were
    // revoked after it was made. alice's token, valid in the backup, works no more.
    let _server = site.start();
    assert!(statement_files.iter().all(|f| !data.join(f).exists()));
    let listed = ok(site.server_cli(&["token", "list"]));
    assert!(listed.lines().all(|l| l.contains("revoked")), "{listed}");
    for old in [&token, &revoked] {
        let resp = a
            .get(&site.url("/api/v1/cases"))
            .header("Authorization", &format!("Bearer {old}"))
            .call()
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    let bearer = format!("Bearer {}", site.token("carol", "bureau"));
    assert_eq!(cases(&site, &bearer), cases_before);
    let download_after = download(&site, &bearer, &case);
    assert_eq!(
        download_after, download_before,
        "the case download differs after the restore"
    );
    let files = untar(&download_after);
    assert_eq!(files["report.age"], report);
    assert_eq!(files["attachments/000.age"], evidence_ct);
    assert_eq!(files["thread/0001-to_reporter.age"], question);
    assert_eq!(thread(&site, &cred), thread_before);

    // The audit log goes on from where it was: the announcement first, then alice's
    // token revoked.
    let audit_after = audit(&site, &bearer);
    assert!(audit_after.len() > audit_before.len() + 1);
    assert_eq!(audit_after[..audit_before.len()], audit_before[..]);
    let announced = &audit_after[audit_before.len()];
    assert_eq!(announced["token"], "operator");
    let announcement = Announcement::from_action(announced["action"].as_str().unwrap()).unwrap();
    assert_eq!(
        RestoreStatement::parse(&announcement.statement).unwrap(),
        stated
    );
    let next = &audit_after[audit_before.len() + 1];
    assert_eq!(
        (&next["token"], &next["action"]),
        (&"alice".into(), &"token_revoked".into())
    );

    // The reporter, with only the return code, reads the question and answers it.
    let view = thread(&site, &cred);
    assert_eq!(view["status"], "acknowledged");
    let ct = B64
        .decode(view["messages"][0]["ciphertext"].as_str().unwrap())
        .unwrap();
    assert_eq!(ct, question);
    let secrets = ThreadSecrets::from_reporter_keys(keys);
    let m = open_message(&ct, &[&keys.identity()], &secrets).unwrap();
    assert_eq!(m.text, "Who signed the second order?");
    let mut state = ThreadState::new(ciphertext_hash(&report));
    state.accept(&ct, &m).unwrap();
    assert_eq!(view["head"], hex::encode(state.head()));
    let reply = state.draft(
        Direction::FromReporter,
        today,
        Zeroizing::new("The deputy, both times.".into()),
    );
    let answer = seal_from_reporter(&reply, keys, code, site.bureau.recipients()).unwrap();
    let resp = a
        .post(&site.url("/api/v1/thread"))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&answer[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(ok(site.server_cli(&["audit", "verify"])).starts_with("The audit log is whole"));
}

#[test]
fn a_substituted_backup_is_refused_and_only_an_announced_restore_is_accepted() {
    let site = Site::new();
    let data = site.data_dir();
    let work = tempfile::tempdir().unwrap();
    let signing = ssh_key(work.path(), "backup-signing");
    let restore_key = ssh_key(work.path(), "restore");
    let intruder = ssh_key(work.path(), "intruder");
    let alice = site.token("alice", "bureau");
    let bob = site.token("bob", "bureau");
    let inv = Investigator::new(&site, &alice);
    let token_file = inv.dir().join("token.txt");
    let pull = || inv.try_pull();

    let server = site.start();
    ApiReporter::new().file(&site, "The first report, before the backup.", None, &[]);
    inv.pull();
    server.stop();
    let backup = work.path().join("meldpunt.tar");
    ok(run(Command::new(script("backup.sh"))
        .arg("-s")
        .arg(&signing)
        .arg(&data)
        .arg(&backup)));

    // After the backup: another report, bob's token revoked, the investigator pulls (the
    // bundle now knows audit entries the backup lacks).
    let server = site.start();
    ApiReporter::new().file(&site, "The second report, after the backup.", None, &[]);
    ok(site.server_cli(&["token", "revoke", "bob"]));
    inv.pull();
    server.stop();
    fs::remove_dir_all(&data).unwrap();

    // --- substituted backups are refused before anything is read ---------------------------
    let forged = work.path().join("forged.tar");
    fs::copy(&backup, &forged).unwrap();
    let unsigned = run(restore(&signing, &restore_key).arg(&forged).arg(&data));
    assert!(!unsigned.status.success());
    assert!(
        String::from_utf8_lossy(&unsigned.stderr).contains("forged.tar.sig is missing"),
        "{unsigned:?}"
    );
    // Signed by someone else's key...
    ok(run(Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", "meldpunt-backup", "-f"])
        .arg(&intruder)
        .arg(&forged)));
    // ...or the real signature over altered bytes.
    let altered = work.path().join("altered.tar");
    let mut bytes = fs::read(&backup).unwrap();
    bytes.extend_from_slice(&[0u8; 512]);
    fs::write(&altered, &bytes).unwrap();
    fs::copy(sig(&backup), sig(&altered)).unwrap();
    for substitute in [&forged, &altered] {
        let refused = run(restore(&signing, &restore_key).arg(substitute).arg(&data));
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("is NOT signed by the backup key"),
            "{refused:?}"
        );
        assert!(!data.exists(), "a refused backup left files behind");
    }

    // --- a restore without its statement looks like a rewrite, and is refused ---------------
    ok(run(restore(&signing, &restore_key).arg(&backup).arg(&data)));
    fs::remove_file(data.join("restore-statement.txt")).unwrap();
    fs::remove_file(data.join("restore-statement.txt.sig")).unwrap();
    let carol = site.token("carol", "bureau");
    fs::write(&token_file, &carol).unwrap();
    let server = site.start();
    let (pulled, said) = pull();
    assert!(!pulled, "{said}");
    assert!(said.contains("not an announced restore"), "{said}");
    server.stop();

    // --- the announced restore ------------------------------------------------------------------
    fs::remove_dir_all(&data).unwrap();
    ok(run(restore(&signing, &restore_key).arg(&backup).arg(&data)));
    let server = site.start();
    // Every token of the backup is revoked, bob's included: none comes back.
    for old in [&alice, &bob] {
        let resp = agent()
            .get(&site.url("/api/v1/cases"))
            .header("Authorization", &format!("Bearer {old}"))
            .call()
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    let dave = site.token("dave", "bureau");
    fs::write(&token_file, &dave).unwrap();

    // Not accepted before the restore key is pinned, nor with another key pinned.
    let (pulled, said) = pull();
    assert!(!pulled, "{said}");
    assert!(said.contains("pin-restore-key"), "{said}");
    let bundle = inv.bundle();
    meldpunt_ok(&[
        "pin-restore-key",
        bundle.to_str().unwrap(),
        pub_key(&intruder).to_str().unwrap(),
    ]);
    let (pulled, said) = pull();
    assert!(!pulled, "{said}");
    assert!(
        said.contains("NOT signed by the pinned restore key"),
        "{said}"
    );

    // With the operator's restore key pinned, the restore is accepted and said loudly; the
    // entries the server lost are kept apart.
    meldpunt_ok(&[
        "pin-restore-key",
        bundle.to_str().unwrap(),
        pub_key(&restore_key).to_str().unwrap(),
    ]);
    let (pulled, said) = pull();
    assert!(pulled, "{said}");
    assert!(said.contains("RESTORED FROM A BACKUP"), "{said}");
    let lost: Vec<_> = walk(&bundle)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("audit-lost-in-restore-")
        })
        .collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    let (pulled, said) = pull();
    assert!(pulled, "{said}");
    assert!(!said.contains("RESTORED FROM A BACKUP"), "{said}");
    server.stop();
}

#[test]
fn a_backup_taken_while_reporters_file_and_upload_holds_every_receipted_report_whole() {
    let site = Site::new();
    let data = site.data_dir();
    let work = tempfile::tempdir().unwrap();
    let signing = ssh_key(work.path(), "backup-signing");
    let restore_key = ssh_key(work.path(), "restore");
    let alice = site.token("alice", "bureau");
    let inv = Investigator::new(&site, &alice);
    let server = site.start();
    let bearer = format!("Bearer {alice}");
    let watched = ApiReporter::new().file(&site, "The case the bureau works on.", None, &[]);
    inv.pull();

    // Reporters file reports with a document each, in three chunks, one after the other
    // on three connections, while an investigator moves a case's status (each change
    // audited); the backup is taken in the middle of it.
    let stop = AtomicBool::new(false);
    let filings = Mutex::new(Vec::<Filing>::new());
    let refusals = Mutex::new(Vec::<String>::new());
    let (began, said) = std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let mut f = Filing::new(&site);
                    if let Err(e) = f.run(&site) {
                        refusals.lock().unwrap().push(e);
                    }
                    filings.lock().unwrap().push(f);
                }
            });
        }
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let resp = agent()
                    .post(&site.url(&format!("/api/v1/cases/{}/status", watched.case)))
                    .header("Authorization", &bearer)
                    .header("Content-Type", "application/json")
                    .send(r#"{"status":"acknowledged"}"#)
                    .unwrap();
                if resp.status() != 200 {
                    refusals
                        .lock()
                        .unwrap()
                        .push(format!("status: {}", resp.status()));
                }
            }
        });
        std::thread::sleep(Duration::from_secs(2));
        let began = Instant::now();
        let said = ok(run(Command::new(script("backup.sh"))
            .env("MELDPUNT_SERVER", binary("meldpunt-server"))
            .arg("-s")
            .arg(&signing)
            .arg(&data)
            .arg(work.path().join("live.tar"))));
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::Relaxed);
        (began, said)
    });
    println!("{said}");
    assert!(said.contains("taken while the server ran"), "{said}");
    let refusals = refusals.into_inner().unwrap();
    assert!(
        refusals.is_empty(),
        "the server refused during the backup: {refusals:?}"
    );
    let filings = filings.into_inner().unwrap();
    let receipted: Vec<_> = filings
        .iter()
        .filter(|f| f.receipt.as_ref().is_some_and(|(_, at)| *at < began))
        .collect();
    assert!(receipted.len() >= 3, "too few reports before the backup");
    assert!(
        filings
            .iter()
            .any(|f| f.receipt.as_ref().is_none_or(|(_, at)| *at > began)),
        "no report was being filed during the backup"
    );
    // The snapshot is gone again; the archive holds no plaintext.
    assert!(fs::read_dir(&data).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("snapshot-")));
    let archive = fs::read(work.path().join("live.tar")).unwrap();
    assert!(!contains(&archive, b"filed while a backup runs"));
    // A snapshot is for its owner only, and is a data directory without the socket.
    let taken = ok(run(Command::new(binary("meldpunt-server"))
        .arg("snapshot")
        .arg(&data)));
    let snapshot = PathBuf::from(taken.lines().next().unwrap());
    assert!(snapshot.starts_with(&data), "{taken}");
    assert_eq!(
        fs::metadata(&snapshot).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(snapshot.join("db/db").is_file() && snapshot.join("audit.jsonl").is_file());
    assert!(!snapshot.join("snapshot.sock").exists());
    fs::remove_dir_all(&snapshot).unwrap();
    // The investigator's bundle now holds audit entries made after the snapshot.
    inv.pull();
    server.stop();

    // --- restored into a fresh directory --------------------------------------------------
    fs::remove_dir_all(&data).unwrap();
    ok(run(restore(&signing, &restore_key)
        .arg(work.path().join("live.tar"))
        .arg(&data)));
    let _server = site.start();
    let bearer = format!("Bearer {}", site.token("carol", "bureau"));
    // Every report receipted before the backup began is there, byte for byte.
    for f in &receipted {
        let (case, _) = f.receipt.as_ref().unwrap();
        let files = untar(&download(&site, &bearer, case));
        assert_eq!(files["report.age"], f.report, "case {case}");
        assert_eq!(files["attachments/000.age"], f.document, "case {case}");
    }
    // Nothing is torn: every other report is there whole or not at all, and an upload
    // the backup caught halfway resumes where it stood and is filed.
    let mut resumed = 0;
    for f in filings
        .iter()
        .filter(|f| !receipted.iter().any(|r| std::ptr::eq(*r, *f)))
    {
        let thread = agent()
            .get(&site.url("/api/v1/thread"))
            .header("Meldpunt-Mailbox", &f.credential)
            .call()
            .unwrap();
        if thread.status() == 200 {
            let case = json(thread)["case"].as_str().unwrap().to_owned();
            let files = untar(&download(&site, &bearer, &case));
            assert_eq!(files["report.age"], f.report, "case {case}");
            assert_eq!(files["attachments/000.age"], f.document, "case {case}");
            continue;
        }
        let session = agent()
            .get(&site.url("/api/v1/uploads"))
            .header("Meldpunt-Mailbox", &f.credential)
            .call()
            .unwrap();
        if session.status() != 200 {
            continue; // the backup came before the session began
        }
        let view = json(session);
        let a = &view["attachments"][0];
        let received = a["received"].as_u64().unwrap_or(0) as usize;
        assert!(received <= f.document.len());
        if a["finished"].is_null() {
            f.put(&site, received, f.document.len()).unwrap();
        } else {
            assert_eq!(received, f.document.len());
        }
        if received > 0 {
            resumed += 1;
        }
        f.finish_and_file(&site).unwrap();
    }
    println!("{resumed} uploads caught by the backup were resumed");

    // The investigator accepts the announced restore; the chain verifies.
    meldpunt_ok(&[
        "pin-restore-key",
        inv.bundle().to_str().unwrap(),
        pub_key(&restore_key).to_str().unwrap(),
    ]);
    fs::write(
        inv.dir().join("token.txt"),
        bearer.trim_start_matches("Bearer "),
    )
    .unwrap();
    let (pulled, said) = inv.try_pull();
    assert!(pulled, "{said}");
    assert!(said.contains("RESTORED FROM A BACKUP"), "{said}");
    assert!(ok(site.server_cli(&["audit", "verify"])).starts_with("The audit log is whole"));
}

/// One reporter filing a report with one document through the API, step by step, so a
/// filing cut by a restore can be taken up again.
struct Filing {
    credential: String,
    document: Vec<u8>,
    report: Vec<u8>,
    /// The case number, and when the receipt came.
    receipt: Option<(String, Instant)>,
}

impl Filing {
    fn new(site: &Site) -> Self {
        let reporter = ApiReporter::new();
        let plain = b"a page of the ledger, filed while a backup runs ".repeat(4000);
        let mut document = Vec::new();
        let digest = encrypt_attachment(
            site.bureau.recipients(),
            &plain[..],
            plain.len() as u64,
            &mut document,
        )
        .unwrap();
        let entry = AttachmentEntry::new("ledger.pdf".into(), plain.len() as u64, &digest);
        let content = ReportContent {
            category: Category::Fraud,
            concerning: "the treasurer".into(),
            description: "Payments filed while a backup runs.".into(),
            when_where: "this year".into(),
            contact: None,
            attachments: vec![entry],
            date: Day::today(),
            encrypted_by: EncryptedBy::Browser,
        };
        let report = seal_report(&content, &reporter.keys, &site.bureau).unwrap();
        Self {
            credential: reporter.credential().to_owned(),
            document,
            report,
            receipt: None,
        }
    }

    /// The answer's JSON, or what refused.
    fn check(
        what: &str,
        resp: ureq::http::Response<ureq::Body>,
    ) -> Result<serde_json::Value, String> {
        if resp.status().is_success() {
            Ok(json(resp))
        } else {
            Err(format!("{what}: {}", resp.status()))
        }
    }

    fn run(&mut self, site: &Site) -> Result<(), String> {
        Self::check(
            "uploads",
            agent()
                .post(&site.url("/api/v1/uploads"))
                .header("Meldpunt-Mailbox", &self.credential)
                .send_empty()
                .map_err(|e| e.to_string())?,
        )?;
        let third = self.document.len() / 3;
        self.put(site, 0, third)?;
        self.put(site, third, 2 * third)?;
        self.put(site, 2 * third, self.document.len())?;
        let case = self.finish_and_file(site)?;
        self.receipt = Some((case, Instant::now()));
        Ok(())
    }

    /// Sends document bytes `from..to`.
    fn put(&self, site: &Site, from: usize, to: usize) -> Result<(), String> {
        Self::check(
            "upload",
            agent()
                .put(&site.url("/api/v1/uploads/0"))
                .header("Meldpunt-Mailbox", &self.credential)
                .header("Meldpunt-Offset", &from.to_string())
                .send(&self.document[from..to])
                .map_err(|e| e.to_string())?,
        )
        .map(drop)
    }

    /// Finishes the document and files the report; returns the case number.
    fn finish_and_file(&self, site: &Site) -> Result<String, String> {
        let a = agent();
        let finished = Self::check(
            "finish",
            a.post(&site.url("/api/v1/uploads/0/finish"))
                .header("Meldpunt-Mailbox", &self.credential)
                .send_empty()
                .map_err(|e| e.to_string())?,
        )?;
        if finished["sha256"] != sha256_hex(&self.document) {
            return Err(format!("finish: another digest {}", finished["sha256"]));
        }
        let filed = Self::check(
            "report",
            a.post(&site.url("/api/v1/reports"))
                .header("Meldpunt-Mailbox", &self.credential)
                .header("Meldpunt-Destination", "bureau")
                .send(&self.report[..])
                .map_err(|e| e.to_string())?,
        )?;
        Ok(filed["case"].as_str().unwrap_or_default().to_owned())
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

// --- helpers ----------------------------------------------------------------------------------

/// A new SSH Ed25519 key pair without a passphrase; returns the private key's path (the
/// public half is beside it, `.pub`).
fn ssh_key(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    ok(run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)));
    key
}

fn pub_key(key: &Path) -> PathBuf {
    key.with_extension("pub")
}

fn sig(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// `restore.sh` with the backup signing key's public half and the restore key.
fn restore(signing: &Path, restore_key: &Path) -> Command {
    let mut cmd = Command::new(script("restore.sh"));
    cmd.arg("-S")
        .arg(pub_key(signing))
        .arg("-s")
        .arg(restore_key);
    cmd
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name)
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("the command runs")
}

/// Insists on success; returns what the command printed (both streams).
fn ok(out: Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "failed: {text}");
    text
}

fn cases(site: &Site, bearer: &str) -> serde_json::Value {
    json(
        agent()
            .get(&site.url("/api/v1/cases"))
            .header("Authorization", bearer)
            .call()
            .unwrap(),
    )
}

fn audit(site: &Site, bearer: &str) -> Vec<serde_json::Value> {
    let v = json(
        agent()
            .get(&site.url("/api/v1/audit"))
            .header("Authorization", bearer)
            .call()
            .unwrap(),
    );
    v.as_array().expect("the audit log is a list").clone()
}

fn thread(site: &Site, cred: &str) -> serde_json::Value {
    json(
        agent()
            .get(&site.url("/api/v1/thread"))
            .header("Meldpunt-Mailbox", cred)
            .call()
            .unwrap(),
    )
}

fn download(site: &Site, bearer: &str, case: &str) -> Vec<u8> {
    let resp = agent()
        .get(&site.url(&format!("/api/v1/cases/{case}/download")))
        .header("Authorization", bearer)
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.into_body()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap()
}

/// The members of a ustar archive (the server's downloads use short names only).
fn untar(mut bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    while bytes.len() >= 512 && bytes[..512].iter().any(|b| *b != 0) {
        let (header, rest) = bytes.split_at(512);
        let name = String::from_utf8_lossy(&header[..100])
            .trim_end_matches('\0')
            .to_owned();
        let size_field = String::from_utf8_lossy(&header[124..136]);
        let size =
            usize::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
                .unwrap();
        out.insert(name, rest[..size].to_vec());
        bytes = &rest[size.div_ceil(512) * 512..];
    }
    out
}

/// The mode and file times of a path.
#[derive(Debug, PartialEq)]
struct Stamp {
    mode: u32,
    mtime: (i64, i64),
    atime: (i64, i64),
    is_dir: bool,
}

/// The stamps of everything below `dir`. Each path is looked at before it is read (a
/// directory's listing is a read), and no file is opened.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Stamp> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(p) = todo.pop() {
        let m = fs::symlink_metadata(&p).unwrap();
        let stamp = Stamp {
            mode: m.mode(),
            mtime: (m.mtime(), m.mtime_nsec()),
            atime: (m.atime(), m.atime_nsec()),
            is_dir: m.is_dir(),
        };
        if stamp.is_dir {
            todo.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
        out.insert(p.strip_prefix(dir).unwrap().to_owned(), stamp);
    }
    out
}

/// The files' stamps only: listing a directory (as `tree` does) marks its access time.
fn file_stamps(dir: &Path) -> Vec<(PathBuf, Stamp)> {
    tree(dir).into_iter().filter(|(_, s)| !s.is_dir).collect()
}

/// The bytes of every file below `dir`.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    tree(dir)
        .into_iter()
        .filter(|(_, s)| !s.is_dir)
        .map(|(p, _)| {
            let bytes = fs::read(dir.join(&p)).unwrap();
            (p, bytes)
        })
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
