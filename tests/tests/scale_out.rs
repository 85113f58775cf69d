//! Several server instances on one PostgreSQL and one S3-compatible object store, all
//! real: PostgreSQL from Debian's package (initdb in a temporary directory, Unix socket)
//! and `s3s-fs` from crates.io on 127.0.0.1. Two `meldpunt-server` processes share
//! them: a report filed through one is read and answered through the other, an upload
//! started on one is finished on the other, and one instance is killed (SIGKILL) under
//! load without losing anything acknowledged. Also: the privacy scan of a database dump
//! and the object store's files, a live backup restored, and migration both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meldpunt_crypto::{
    ciphertext_hash, encrypt_attachment, open_message, open_report, seal_from_reporter,
    seal_to_reporter, Day, Direction, ThreadSecrets, ThreadState,
};
use meldpunt_tests::services::{ObjectStore, PgSite, Postgres};
use meldpunt_tests::{agent, json, stored_files, ApiReporter, Site};
use rand::Rng;
use zeroize::Zeroizing;

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two instances of one site on one database and one bucket.
fn two_instances(pg: &Postgres, s3: &ObjectStore) -> (PgSite, Site, Site) {
    let shared = PgSite::new(pg, s3);
    let a = Site::with_config(&shared.toml());
    let b = a.instance(&shared.toml());
    (shared, a, b)
}

fn download(site: &Site, token: &str, case: &str) -> BTreeMap<String, Vec<u8>> {
    let resp = agent()
        .get(&site.url(&format!("/api/v1/cases/{case}/download")))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200, "download of {case}");
    let bytes = resp
        .into_body()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    let mut out = BTreeMap::new();
    for entry in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.insert(path, data);
    }
    out
}

fn put_chunk(site: &Site, cred: &str, n: u32, offset: usize, bytes: &[u8]) -> u16 {
    agent()
        .put(&site.url(&format!("/api/v1/uploads/{n}")))
        .header("Meldpunt-Mailbox", cred)
        .header("Meldpunt-Offset", &offset.to_string())
        .send(bytes)
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn a_case_moves_freely_between_two_instances() {
    let pg = Postgres::start();
    let s3 = ObjectStore::start();
    let (_shared, a, b) = two_instances(&pg, &s3);
    let token = a.token("alice", "bureau");
    let server_a = a.start();
    let server_b = b.start();
    let bearer = format!("Bearer {token}");
    let r = ApiReporter::new();
    let cred = r.credential().to_owned();

    // An upload started on A, continued and finished on B: large enough for several
    // multipart parts in the object store.
    let document: Vec<u8> = (0..20 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut ct = Vec::new();
    let digest = encrypt_attachment(
        a.bureau.recipients(),
        &document[..],
        document.len() as u64,
        &mut ct,
    )
    .unwrap();
    let resp = agent()
        .post(&a.url("/api/v1/uploads"))
        .header("Meldpunt-Mailbox", &cred)
        .send_empty()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let first = 9 * 1024 * 1024 + 123;
    assert_eq!(put_chunk(&a, &cred, 0, 0, &ct[..first]), 200);
    // B knows how much arrived through A.
    let state = json(
        agent()
            .get(&b.url("/api/v1/uploads/0"))
            .header("Meldpunt-Mailbox", &cred)
            .call()
            .unwrap(),
    );
    assert_eq!(state["received"], first as u64, "{state}");
    // A wrong offset on B is refused with what arrived.
    assert_eq!(put_chunk(&b, &cred, 0, 5, &ct[first..first + 10]), 409);
    let second = first + 10 * 1024 * 1024;
    assert_eq!(put_chunk(&b, &cred, 0, first, &ct[first..second]), 200);
    assert_eq!(put_chunk(&a, &cred, 0, second, &ct[second..]), 200);

    // Two connections writing one attachment through two instances: the second is
    // refused while the first holds it.
    let resp = agent()
        .post(&a.url("/api/v1/uploads"))
        .header("Meldpunt-Mailbox", &cred)
        .send_empty()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (small, _) = {
        let mut out = Vec::new();
        let plain = vec![7u8; 300_000];
        let d = encrypt_attachment(
            a.bureau.recipients(),
            &plain[..],
            plain.len() as u64,
            &mut out,
        )
        .unwrap();
        (out, d)
    };
    let mut slow = TcpStream::connect(("127.0.0.1", a.port)).unwrap();
    write!(
        slow,
        "PUT /api/v1/uploads/1 HTTP/1.1\r\nHost: x\r\nMeldpunt-Mailbox: {cred}\r\n\
         Meldpunt-Offset: 0\r\nContent-Length: {}\r\n\r\n",
        small.len()
    )
    .unwrap();
    slow.write_all(&small[..100_000]).unwrap();
    slow.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        put_chunk(&b, &cred, 1, 0, &small),
        409,
        "a second writer through the other instance"
    );
    slow.set_read_timeout(None).unwrap();
    slow.write_all(&small[100_000..]).unwrap();
    let mut answer = [0u8; 12];
    slow.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    drop(slow);
    for (site, n) in [(&b, 0), (&a, 1)] {
        let resp = agent()
            .post(&site.url(&format!("/api/v1/uploads/{n}/finish")))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .unwrap();
        assert_eq!(resp.status(), 200);
        if n == 0 {
            assert_eq!(json(resp)["sha256"], hex::encode(digest.sha256));
        }
    }

    // The report through A (filed again through B: the same receipt).
    let entry =
        meldpunt_crypto::AttachmentEntry::new("big.bin".into(), document.len() as u64, &digest);
    let content = meldpunt_crypto::ReportContent {
        category: meldpunt_crypto::Category::Fraud,
        concerning: "x".into(),
        description: "scale out".into(),
        when_where: "y".into(),
        contact: None,
        attachments: vec![entry],
        date: Day::today(),
        encrypted_by: meldpunt_crypto::EncryptedBy::Browser,
    };
    let report = meldpunt_crypto::seal_report(&content, &r.keys, &a.bureau).unwrap();
    let mut cases = Vec::new();
    for site in [&a, &b] {
        let resp = agent()
            .post(&site.url("/api/v1/reports"))
            .header("Meldpunt-Mailbox", &cred)
            .header("Meldpunt-Destination", "bureau")
            .send(&report[..])
            .unwrap();
        assert!(
            resp.status() == 201 || resp.status() == 200,
            "{}",
            resp.status()
        );
        cases.push(json(resp)["case"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        cases[0], cases[1],
        "filing again through B gives A's receipt"
    );
    let case = cases[0].clone();

    // B lists and downloads it, byte for byte.
    let list = json(
        agent()
            .get(&b.url("/api/v1/cases"))
            .header("Authorization", &bearer)
            .call()
            .unwrap(),
    );
    assert!(list.to_string().contains(&case));
    let files = download(&b, &token, &case);
    assert_eq!(files["report.age"], report);
    assert_eq!(files["attachments/000.age"], ct);
    assert_eq!(files["attachments/001.age"], small);

    // The bureau asks through B; the reporter reads it and answers through A.
    let opened = open_report(&report, &[a.bureau_key.as_age()]).unwrap();
    let mut state = ThreadState::new(opened.ciphertext_sha256);
    let q = state.draft(
        Direction::ToReporter,
        Day::today(),
        Zeroizing::new("Which year?".into()),
    );
    let question = seal_to_reporter(&q, &opened.thread, a.bureau.recipients()).unwrap();
    let head = hex::encode(state.head());
    let resp = agent()
        .post(&b.url(&format!("/api/v1/cases/{case}/messages")))
        .header("Authorization", &bearer)
        .header("Meldpunt-Extends", &head)
        .send(&question[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    // The same head again through A: 409, the thread moved on through B.
    let other = state.draft(
        Direction::ToReporter,
        Day::today(),
        Zeroizing::new("Another".into()),
    );
    let other = seal_to_reporter(&other, &opened.thread, a.bureau.recipients()).unwrap();
    let resp = agent()
        .post(&a.url(&format!("/api/v1/cases/{case}/messages")))
        .header("Authorization", &bearer)
        .header("Meldpunt-Extends", &head)
        .send(&other[..])
        .unwrap();
    assert_eq!(
        resp.status(),
        409,
        "a stale head through the other instance"
    );
    let thread = r.thread(&a);
    assert_eq!(thread["messages"].as_array().unwrap().len(), 1, "{thread}");
    let message = open_message(
        &question,
        &[&r.keys.identity()],
        &ThreadSecrets::from_reporter_keys(&r.keys),
    )
    .unwrap();
    state.accept(&question, &message).unwrap();
    let reply = state.draft(
        Direction::FromReporter,
        Day::today(),
        Zeroizing::new("2025".into()),
    );
    let answer = seal_from_reporter(&reply, &r.keys, &r.code, a.bureau.recipients()).unwrap();
    let resp = agent()
        .post(&a.url("/api/v1/thread"))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&answer[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    let files = download(&b, &token, &case);
    assert_eq!(files["thread/0002-from_reporter.age"], answer);
    assert_eq!(
        ciphertext_hash(&files["thread/0001-to_reporter.age"]),
        ciphertext_hash(&question)
    );

    // Audit entries from both instances form one chain.
    let out = ok(b.server_cli(&["audit", "verify"]));
    assert!(out.contains("The audit log is whole"), "{out}");
    drop(server_a);
    drop(server_b);
}

/// What a receipt promised: the case and the exact bytes behind it.
#[derive(Clone)]
struct Promise {
    case: String,
    report: Vec<u8>,
    attachments: Vec<Vec<u8>>,
    messages: Vec<Vec<u8>>,
}

/// One reporter's submission, each step through a random one of `sites`.
fn submit(
    sites: &[(String, meldpunt_crypto::Destination)],
    with_attachment: bool,
    confirmed: &Mutex<Vec<Promise>>,
) -> Result<(), String> {
    let a = agent();
    let pick = || {
        let i = rand::thread_rng().gen_range(0..sites.len());
        &sites[i]
    };
    let e = |e: ureq::Error| e.to_string();
    let r = ApiReporter::new();
    let cred = r.credential().to_owned();
    let bureau = &sites[0].1;
    let mut attachments = Vec::new();
    let mut entries = Vec::new();
    if with_attachment {
        let plain: Vec<u8> = (0..40_000).map(|_| rand::random::<u8>()).collect();
        let mut ct = Vec::new();
        let d = encrypt_attachment(bureau.recipients(), &plain[..], plain.len() as u64, &mut ct)
            .unwrap();
        let resp = a
            .post(&format!("{}/api/v1/uploads", pick().0))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .map_err(e)?;
        if resp.status() != 200 {
            return Err(format!("session {}", resp.status()));
        }
        let half = ct.len() / 2;
        for (offset, chunk) in [(0, &ct[..half]), (half, &ct[half..])] {
            let resp = a
                .put(&format!("{}/api/v1/uploads/0", pick().0))
                .header("Meldpunt-Mailbox", &cred)
                .header("Meldpunt-Offset", &offset.to_string())
                .send(chunk)
                .map_err(e)?;
            if resp.status() != 200 {
                return Err(format!("chunk {}", resp.status()));
            }
        }
        let resp = a
            .post(&format!("{}/api/v1/uploads/0/finish", pick().0))
            .header("Meldpunt-Mailbox", &cred)
            .send_empty()
            .map_err(e)?;
        if resp.status() != 200 {
            return Err(format!("finish {}", resp.status()));
        }
        entries.push(meldpunt_crypto::AttachmentEntry::new(
            "scan.pdf".into(),
            plain.len() as u64,
            &d,
        ));
        attachments.push(ct);
    }
    let content = meldpunt_crypto::ReportContent {
        category: meldpunt_crypto::Category::Fraud,
        concerning: "x".into(),
        description: "load".into(),
        when_where: "y".into(),
        contact: None,
        attachments: entries,
        date: Day::today(),
        encrypted_by: meldpunt_crypto::EncryptedBy::Browser,
    };
    let report = meldpunt_crypto::seal_report(&content, &r.keys, bureau).unwrap();
    let resp = a
        .post(&format!("{}/api/v1/reports", pick().0))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Destination", "bureau")
        .send(&report[..])
        .map_err(e)?;
    if resp.status() != 201 {
        return Err(format!("report {}", resp.status()));
    }
    let case = json(resp)["case"].as_str().ok_or("no case")?.to_owned();
    confirmed.lock().unwrap().push(Promise {
        case: case.clone(),
        report: report.clone(),
        attachments,
        messages: vec![],
    });
    let state = ThreadState::new(ciphertext_hash(&report));
    let draft = state.draft(
        Direction::FromReporter,
        Day::today(),
        Zeroizing::new("more".into()),
    );
    let message = seal_from_reporter(&draft, &r.keys, &r.code, bureau.recipients()).unwrap();
    let resp = a
        .post(&format!("{}/api/v1/thread", pick().0))
        .header("Meldpunt-Mailbox", &cred)
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&message[..])
        .map_err(e)?;
    if resp.status() != 201 {
        return Err(format!("message {}", resp.status()));
    }
    let mut all = confirmed.lock().unwrap();
    all.iter_mut()
        .find(|p| p.case == case)
        .unwrap()
        .messages
        .push(message);
    Ok(())
}

fn check_promises(site: &Site, token: &str, promises: &[Promise]) {
    for p in promises {
        let files = download(site, token, &p.case);
        assert_eq!(files["report.age"], p.report, "report of {}", p.case);
        for (i, a) in p.attachments.iter().enumerate() {
            assert_eq!(
                &files[&format!("attachments/{i:03}.age")],
                a,
                "attachment of {}",
                p.case
            );
        }
        for (i, m) in p.messages.iter().enumerate() {
            assert_eq!(
                &files[&format!("thread/{:04}-from_reporter.age", i + 1)],
                m,
                "message of {}",
                p.case
            );
        }
    }
}

#[test]
fn killing_one_of_two_instances_loses_no_receipt() {
    let pg = Postgres::start();
    let s3 = ObjectStore::start();
    let (_shared, a, b) = two_instances(&pg, &s3);
    let token = a.token("alice", "bureau");
    let server_a = a.start();
    let server_b = b.start();
    let sites = vec![(a.url(""), a.bureau.clone()), (b.url(""), a.bureau.clone())];
    let confirmed = Arc::new(Mutex::new(Vec::<Promise>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|i| {
            let (confirmed, stop, sites) = (confirmed.clone(), stop.clone(), sites.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    // A client whose request died with instance A starts a new submission
                    // (the old one is not promised).
                    let _ = submit(&sites, (i + n) % 3 == 0, &confirmed);
                    n += 1;
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    while confirmed.lock().unwrap().len() < 20 {
        assert!(Instant::now() < deadline, "no receipts arrive");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(rand::thread_rng().gen_range(0..1500)));
    drop(server_a); // SIGKILL, requests in flight
    let before = confirmed.lock().unwrap().len();
    // B goes on serving everyone.
    let deadline = Instant::now() + Duration::from_secs(120);
    while confirmed.lock().unwrap().len() < before + 10 {
        assert!(
            Instant::now() < deadline,
            "B stopped taking reports after A died"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let promises = std::mem::take(&mut *confirmed.lock().unwrap());
    // Every receipt, through the surviving instance and through A restarted.
    check_promises(&b, &token, &promises);
    let server_a = a.start();
    check_promises(&a, &token, &promises);
    eprintln!(
        "{} receipts (through both instances, one SIGKILLed) byte-identical afterwards",
        promises.len()
    );
    drop(server_a);
    drop(server_b);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn nothing_identifying_in_the_database_or_the_object_store() {
    const SPY_IP: &str = "203.0.113.77";
    const SPY_UA: &str = "Mozilla/5.0 (PrivacyProbe; MarkerUA-5e1f7c)";
    const MARKER: &str = "PLAINTEXT-REPORT-MARKER-91c4";
    let pg = Postgres::start();
    let s3 = ObjectStore::start();
    let (shared, a, b) = two_instances(&pg, &s3);
    let token = a.token("alice", "bureau");
    let server_a = a.start();
    let server_b = b.start();
    let r = ApiReporter::new();
    let cred = r.credential().to_owned();
    let doc = format!("{MARKER} attachment ").repeat(200);
    let filed = r.file(
        &a,
        MARKER,
        Some(MARKER),
        &[("evidence.txt", doc.as_bytes())],
    );
    for site in [&a, &b] {
        for path in ["/api/v1/thread", "/api/v1/destinations", "/nl/"] {
            agent()
                .get(&site.url(path))
                .header("X-Forwarded-For", SPY_IP)
                .header("X-Real-IP", SPY_IP)
                .header("User-Agent", SPY_UA)
                .header("Meldpunt-Mailbox", &cred)
                .call()
                .unwrap();
        }
    }
    download(&b, &token, &filed.case);
    drop(server_a);
    drop(server_b);

    // No column can hold a time, and no default reads the clock.
    let timed = pg.sql(
        &shared.db,
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND (data_type LIKE 'time%' OR data_type = 'date' \
         OR data_type = 'interval' OR column_default ILIKE '%now%' \
         OR column_default ILIKE '%current_%' OR column_default ILIKE '%clock%')",
    );
    assert_eq!(timed.trim(), "", "columns with times: {timed}");
    let dump = pg.dump(&shared.db);
    assert!(
        contains(&dump, b"COPY public.cases"),
        "the dump has the cases"
    );
    let mut scanned = vec![(PathBuf::from("pg_dump"), dump)];
    scanned.extend(stored_files(&s3.root().join(&shared.bucket)));
    assert!(
        scanned
            .iter()
            .any(|(_, bytes)| contains(bytes, &filed.attachments[0][..200])),
        "the scan sees the stored attachment"
    );
    let code = r.code.to_grouped_string();
    let canonical: String = code.chars().filter(|c| *c != '-').collect();
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("client address", SPY_IP.as_bytes().to_vec()),
        ("user agent", b"MarkerUA-5e1f7c".to_vec()),
        ("plaintext", MARKER.as_bytes().to_vec()),
        ("return code", code.as_bytes().to_vec()),
        ("return code, canonical", canonical.as_bytes().to_vec()),
        ("credential", cred.as_bytes().to_vec()),
        ("credential raw", hex::decode(&cred).unwrap()),
        ("token", token.as_bytes().to_vec()),
        (
            "case number in object names",
            filed.case.as_bytes().to_vec(),
        ),
        (
            "today's date beside a time",
            format!("{} ", Day::today()).into_bytes(),
        ),
    ];
    for (what, needle) in &needles {
        for (path, bytes) in &scanned {
            if *what == "case number in object names" {
                // The database holds case numbers; the object store never does.
                if path.as_path() != Path::new("pg_dump") {
                    assert!(
                        !contains(bytes, needle),
                        "the case number in {}",
                        path.display()
                    );
                    assert!(!path.to_string_lossy().contains(&filed.case));
                }
                continue;
            }
            assert!(
                !contains(bytes, needle),
                "{what} found in {}",
                path.display()
            );
        }
    }
}

#[test]
fn a_live_backup_restores_byte_for_byte() {
    let pg = Postgres::start();
    let s3 = ObjectStore::start();
    let (shared, a, b) = two_instances(&pg, &s3);
    let token = a.token("alice", "bureau");
    let server_a = a.start();
    let server_b = b.start();
    let mut filed = Vec::new();
    for i in 0..3 {
        let r = ApiReporter::new();
        let doc = format!("document {i} ").repeat(5000);
        filed.push(r.file(
            if i % 2 == 0 { &a } else { &b },
            "backup",
            None,
            &[("d.txt", doc.as_bytes())],
        ));
    }
    // The backup, with both servers serving and a client filing meanwhile: the database
    // dump first, then the object store's folder (docs/DEPLOY.md: an object is complete
    // before any record names it, and never changes, so every object a dumped record
    // names is in the later copy).
    let busy = Arc::new(AtomicBool::new(true));
    let writer = {
        let (busy, site) = (busy.clone(), b.instance(&shared.toml()));
        let url = b.url("");
        let bureau = a.bureau.clone();
        std::thread::spawn(move || {
            let _keep = site;
            let mut n = 0;
            while busy.load(Ordering::Relaxed) && n < 200 {
                let _ = submit(
                    &[(url.clone(), bureau.clone())],
                    n % 2 == 0,
                    &Mutex::new(Vec::new()),
                );
                n += 1;
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let dump = pg.dump(&shared.db);
    let backup = tempfile::tempdir().unwrap();
    let objects = backup.path().join("objects");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(s3.root().join(&shared.bucket))
        .arg(&objects)
        .status()
        .unwrap();
    assert!(status.success());
    busy.store(false, Ordering::Relaxed);
    writer.join().unwrap();
    drop(server_a);
    drop(server_b);

    // Restore into a fresh database and bucket; a server there serves every case.
    let restored = PgSite::new(&pg, &s3);
    pg.restore(&restored.db, &dump);
    std::fs::remove_dir_all(s3.root().join(&restored.bucket)).unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&objects)
        .arg(s3.root().join(&restored.bucket))
        .status()
        .unwrap();
    assert!(status.success());
    let c = a.instance(&restored.toml());
    let server_c = c.start();
    for f in &filed {
        let files = download(&c, &token, &f.case);
        assert_eq!(files["report.age"], f.report);
        assert_eq!(files["attachments/000.age"], f.attachments[0]);
    }
    // Every case in the restored database downloads whole.
    let list = json(
        agent()
            .get(&c.url("/api/v1/cases"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap(),
    );
    let cases = list
        .as_array()
        .or_else(|| list["cases"].as_array())
        .unwrap()
        .clone();
    assert!(cases.len() >= 3);
    for case in cases {
        let number = case["case"]
            .as_str()
            .or_else(|| case["number"].as_str())
            .unwrap();
        download(&c, &token, number);
    }
    assert!(ok(c.server_cli(&["audit", "verify"])).contains("whole"));
    drop(server_c);
}

#[test]
fn migrate_copies_a_data_directory_to_postgres_and_back() {
    let pg = Postgres::start();
    let s3 = ObjectStore::start();
    // Cases on the embedded backend.
    let embedded = Site::new();
    let token = embedded.token("alice", "bureau");
    let server = embedded.start();
    let mut filed = Vec::new();
    for i in 0..3 {
        let r = ApiReporter::new();
        let doc = format!("migrate {i} ").repeat(3000);
        filed.push(r.file(&embedded, "migrate", None, &[("d.txt", doc.as_bytes())]));
    }
    // An open upload session too.
    let r = ApiReporter::new();
    let resp = agent()
        .post(&embedded.url("/api/v1/uploads"))
        .header("Meldpunt-Mailbox", r.credential())
        .send_empty()
        .unwrap();
    assert_eq!(resp.status(), 200);
    server.stop();

    // The same data directory and a database: copy to PostgreSQL.
    let target = PgSite::new(&pg, &s3);
    let pg_site = embedded.instance(&format!(
        "{}data_dir = \"{}\"\n",
        target.toml(),
        embedded.data_dir().display()
    ));
    let out = ok(pg_site.server_cli(&["migrate", "--to", "postgres"]));
    assert!(out.contains("3 cases"), "{out}");
    let server = pg_site.start();
    for f in &filed {
        let files = download(&pg_site, &token, &f.case);
        assert_eq!(files["report.age"], f.report);
        assert_eq!(files["attachments/000.age"], f.attachments[0]);
    }
    assert!(ok(pg_site.server_cli(&["audit", "verify"])).contains("whole"));
    server.stop();

    // And back, into a fresh data directory.
    let back_dir = tempfile::tempdir().unwrap();
    let back = embedded.instance(&format!(
        "{}data_dir = \"{}\"\n",
        target.toml(),
        back_dir.path().join("data").display()
    ));
    let out = ok(back.server_cli(&["migrate", "--to", "embedded"]));
    assert!(out.contains("3 cases"), "{out}");
    // The copy serves on the embedded backend (a site whose data_dir is the copy).
    let plain = embedded.instance(&format!(
        "data_dir = \"{}\"\n",
        back_dir.path().join("data").display()
    ));
    let server = plain.start();
    for f in &filed {
        let files = download(&plain, &token, &f.case);
        assert_eq!(files["report.age"], f.report);
        assert_eq!(files["attachments/000.age"], f.attachments[0]);
    }
    server.stop();
}
