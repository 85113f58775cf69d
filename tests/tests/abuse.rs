//! Abuse without identity (issue: no single client can shut the drop box). Behind an
//! onion service every client is 127.0.0.1, so nothing can be limited per person; each
//! test plays one attacker against a real server process:
//!
//! - a native attacker (this project's own reporter code, `meldpunt-flood`, one core,
//!   one connection) floods reports, answers and upload sessions for 60 s while a real
//!   reporter files a report with a document and answers in headless Chromium;
//! - two connections trickle no-JavaScript forms while a third reporter sends one;
//! - a thread is filled to its cap and read in pages;
//! - eight chunked uploads race for a small disk (a tmpfs in a private mount namespace):
//!   the reserve holds, reports still fit, a full disk never tears the audit log;
//! - one token lists the cases hundreds of times: the audit log does not grow with it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meldpunt_crypto::{Day, Direction};
use meldpunt_tests::browser::{self, Browser};
use meldpunt_tests::{agent, binary, json, ApiReporter, Site};

/// Files a report with one document through the reporter's page (WebAssembly tier) and
/// returns the return code and how long it took from "send" to the receipt.
async fn report_in_pages(b: &Browser, site: &Site, document: &Path) -> (String, Duration) {
    b.client.goto(&site.url("/en/report")).await.unwrap();
    b.wait_until("!document.getElementById('code-section').hidden", 60)
        .await;
    let code = b.return_code_shown().await;
    assert_eq!(code.len(), 28, "{code}");
    b.click("input[name=category][value=fraud]").await;
    b.type_into(
        "description",
        "Invoices were paid twice to the same supplier.",
    )
    .await;
    b.type_into("files", document.to_str().unwrap()).await;
    b.type_into("retype", &code).await;
    b.wait_until("!document.getElementById('send').disabled", 10)
        .await;
    let start = Instant::now();
    b.click("#send").await;
    b.wait_until(
        "!document.getElementById('receipt').hidden || !document.getElementById('report-error').hidden",
        120,
    )
    .await;
    let took = start.elapsed();
    if b.eval("document.getElementById('report-error').hidden")
        .await
        != true
    {
        let log = b.eval("JSON.stringify(window.__meldpuntLog || [])").await;
        panic!(
            "the report was refused: {}\npage log: {log}\nserver log:\n{}",
            b.text("report-error").await,
            String::from_utf8_lossy(&site.logs())
        );
    }
    (code, took)
}

/// Answers in the thread through the check-back page; how long from "send" to "sent".
async fn answer_in_pages(b: &Browser, site: &Site, code: &str, text: &str) -> Duration {
    b.client.goto(&site.url("/en/check")).await.unwrap();
    b.wait_until("!document.getElementById('open').disabled", 60)
        .await;
    b.type_into("code-input", code).await;
    b.click("#open").await;
    b.wait_until("!document.getElementById('thread').hidden", 60)
        .await;
    b.type_into("reply", text).await;
    let start = Instant::now();
    b.click("#send-reply").await;
    b.wait_until(
        "!document.getElementById('reply-ok').hidden || !document.getElementById('reply-error').hidden",
        120,
    )
    .await;
    let took = start.elapsed();
    assert_eq!(
        b.eval("document.getElementById('reply-ok').hidden").await,
        false,
        "the answer was refused: {}",
        b.text("reply-error").await
    );
    took
}

/// The difficulty the server asks for `purpose` right now (0 when it admits freely).
fn difficulty_for_reports(site: &Site) -> u64 {
    let r = ApiReporter::new();
    let resp = agent()
        .post(&site.url("/api/v1/reports"))
        .header("Meldpunt-Mailbox", r.credential())
        .header("Meldpunt-Destination", "bureau")
        .send(&b"not even an age file"[..])
        .unwrap();
    if resp.status() == 429 {
        json(resp)["admission"]["difficulty"].as_u64().unwrap()
    } else {
        0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_client_does_not_lock_out_a_reporter() {
    // The default budgets: 120 reports, answers and sessions (each) per hour.
    let site = Site::with_settings("submissions_per_hour = 120\n");
    let _server = site.start();
    let work = tempfile::tempdir().unwrap();
    let document = work.path().join("invoices.txt");
    std::fs::write(
        &document,
        b"Invoice 2026-0311, paid on 4 and 9 March.\n".repeat(2000),
    )
    .unwrap();
    let b = browser::start(&[]).await;

    // How long it takes when the drop box is quiet.
    let (_, quiet) = report_in_pages(&b, &site, &document).await;

    // The attacker: this project's own reporter code, natively, on one core.
    let mut flood = Command::new("taskset");
    flood.args(["-c", "0", env!("CARGO_BIN_EXE_meldpunt-flood")]);
    if Command::new("taskset").arg("-V").output().is_err() {
        flood = Command::new(env!("CARGO_BIN_EXE_meldpunt-flood"));
    }
    let attacker = flood
        .args([&site.url(""), "60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the attacker starts");
    // Let the flood drive the difficulty up first.
    let deadline = Instant::now() + Duration::from_secs(30);
    while difficulty_for_reports(&site) < 4 {
        assert!(
            Instant::now() < deadline,
            "the flood did not raise the difficulty"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // During the flood: a real report with a document, and an answer, each in 60 s.
    let (code, during) = report_in_pages(&b, &site, &document).await;
    assert!(
        during < Duration::from_secs(60),
        "the report took {during:?} during the flood"
    );
    let answered = answer_in_pages(
        &b,
        &site,
        &code,
        "One more detail: the second payment was on a Sunday.",
    )
    .await;
    assert!(
        answered < Duration::from_secs(60),
        "the answer took {answered:?} during the flood"
    );
    let k = difficulty_for_reports(&site);

    let out = attacker.wait_with_output().unwrap();
    assert!(out.status.success());
    let stats: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the attacker reports what it got");
    eprintln!(
        "flood: {stats}; difficulty during the flood {k}; the reporter took {quiet:?} quiet, \
         {during:?} during the flood, the answer {answered:?}"
    );
    assert!(k >= 4, "the difficulty was {k} at the end of the flood");

    // Right after the flood: within the usual time (the puzzle's seconds at most).
    let (_, after) = report_in_pages(&b, &site, &document).await;
    assert!(
        after < quiet + Duration::from_secs(20),
        "after the flood the report took {after:?} (quiet: {quiet:?})"
    );
}

const BOUNDARY: &str = "----meldpunt-abuse-boundary";

fn nojs_form(description: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in [
        ("consent", "yes"),
        ("destination", "bureau"),
        ("category", "fraud"),
        ("description", description),
    ] {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[test]
fn two_trickling_forms_do_not_keep_a_third_reporter_out() {
    let site = Site::new();
    let _server = site.start();
    // Two clients open no-JavaScript reports with a large declared body and send it a
    // few bytes at a time.
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", site.port)).unwrap();
            write!(
                s,
                "POST /en/report-nojs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
                 multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 60000000\r\n\r\n\
                 --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"consent\"\r\n\r\nyes\r\n"
            )
            .unwrap();
            s
        })
        .collect();
    for _ in 0..4 {
        for s in &mut slow {
            s.write_all(b"--").unwrap();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // The third reporter gets through while they trickle on.
    let resp = agent()
        .post(&site.url("/en/report-nojs"))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .send(&nojs_form("A third reporter gets through.")[..])
        .unwrap();
    assert_eq!(resp.status(), 201);
    for s in &mut slow {
        // Still connected and trickling.
        s.write_all(b"-").unwrap();
    }
}

/// Posts the reporter's answer `text` on the thread's head `state`; the status (and on
/// 201 the head moves on).
fn post_answer(
    site: &Site,
    r: &ApiReporter,
    state: &mut meldpunt_crypto::ThreadState,
    text: &str,
) -> u16 {
    let draft = state.draft(
        Direction::FromReporter,
        Day::today(),
        zeroize::Zeroizing::new(text.to_owned()),
    );
    let ct =
        meldpunt_crypto::seal_from_reporter(&draft, &r.keys, &r.code, site.bureau.recipients())
            .unwrap();
    let resp = agent()
        .post(&site.url("/api/v1/thread"))
        .header("Meldpunt-Mailbox", r.credential())
        .header("Meldpunt-Extends", &hex::encode(state.head()))
        .send(&ct[..])
        .unwrap();
    let status = resp.status().as_u16();
    if status == 201 {
        state.skip_own(&ct).unwrap();
    }
    status
}

#[test]
fn a_thread_has_a_ceiling_and_is_read_in_pages() {
    let site = Site::with_settings("submissions_per_hour = 100000\nmax_thread_messages = 6\n");
    let _server = site.start();
    let r = ApiReporter::new();
    let filed = r.file(&site, "A report whose thread fills up.", None, &[]);
    let a = agent();
    // Six answers of about 700 KiB each (the reporter answers on its own head).
    let text = "x".repeat(700 * 1024);
    let mut state =
        meldpunt_crypto::ThreadState::new(meldpunt_crypto::ciphertext_hash(&filed.report));
    let post = |state: &mut meldpunt_crypto::ThreadState| post_answer(&site, &r, state, &text);
    for _ in 0..6 {
        assert_eq!(post(&mut state), 201);
    }
    assert_eq!(
        post(&mut state),
        409,
        "a seventh message is over the ceiling"
    );

    // Read in pages of at most 2 MiB of ciphertext (one message at least).
    let mut from = 1;
    let mut seen = 0;
    loop {
        let resp = a
            .get(&site.url(&format!("/api/v1/thread?from={from}")))
            .header("Meldpunt-Mailbox", r.credential())
            .call()
            .unwrap();
        let page = json(resp);
        let sizes: u64 = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["size"].as_u64().unwrap())
            .sum();
        assert!(sizes <= 2 * 1024 * 1024, "a page of {sizes} bytes");
        assert_eq!(page["total"], 6);
        seen += page["messages"].as_array().unwrap().len();
        match page["next"].as_u64() {
            Some(n) => from = n as usize,
            None => break,
        }
    }
    assert_eq!(seen, 6);
}

#[test]
fn a_thread_has_a_ceiling_in_bytes() {
    let site = Site::with_settings("submissions_per_hour = 100000\nmax_thread_bytes = \"2 MiB\"\n");
    let _server = site.start();
    let r = ApiReporter::new();
    let filed = r.file(&site, "A report whose thread fills up in bytes.", None, &[]);
    let text = "x".repeat(700 * 1024);
    let mut state =
        meldpunt_crypto::ThreadState::new(meldpunt_crypto::ciphertext_hash(&filed.report));
    for _ in 0..2 {
        assert_eq!(post_answer(&site, &r, &mut state, &text), 201);
    }
    assert_eq!(
        post_answer(&site, &r, &mut state, &text),
        409,
        "a third answer of 700 KiB is over the 2 MiB ceiling"
    );
    assert_eq!(
        post_answer(&site, &r, &mut state, "A short one still fits."),
        201,
        "what fits under the ceiling is still taken"
    );
}

/// A no-JavaScript check-back posting `code`; the page, once read whole.
fn check_back_nojs(site: &Site, code: &str) -> (u16, String) {
    let boundary = "meldpunt-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n{code}\r\n--{boundary}--\r\n"
    );
    let resp = agent()
        .post(&site.url("/en/check-nojs"))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(body.as_bytes())
        .unwrap();
    let status = resp.status().as_u16();
    let mut page = String::new();
    std::io::Read::read_to_string(&mut resp.into_body().into_reader(), &mut page).unwrap();
    (status, page)
}

#[test]
fn a_crowd_checking_back_without_javascript_waits_for_memory_instead_of_growing_it() {
    // The server decrypts a whole thread per no-JavaScript check-back (about 2.5 times
    // the thread in memory). Sixteen at once on a thread near its cap must not cost
    // sixteen times that: they wait their turn, and every one of them gets its page.
    let site = Site::with_settings("submissions_per_hour = 100000\nmax_thread_bytes = \"8 MiB\"\n");
    let token = site.token("alice", "bureau");
    let server = site.start();
    let r = ApiReporter::new();
    let filed = r.file(&site, "A report the bureau answers at length.", None, &[]);
    let mut bureau =
        meldpunt_tests::investigator::BureauWriter::new(&site, &filed.report, 1 << 20).unwrap();
    let bytes = bureau.fill(&site, &token, &filed.case, 7).unwrap();
    assert!(bytes > 6 << 20, "a thread of {bytes} bytes");
    let code = r.code.to_grouped_string().as_str().to_owned();
    // One alone first: what a check-back of this thread holds.
    let (status, page) = check_back_nojs(&site, &code);
    assert_eq!(status, 200);
    assert!(page.contains("Message 7: "), "the last message is shown");

    let pid = server.pid();
    meldpunt_tests::reset_peak(pid).unwrap();
    let before = meldpunt_tests::status_kib(pid, "VmRSS").unwrap();
    let crowd = vec![code; 16];
    let results: Vec<(u16, bool)> = std::thread::scope(|scope| {
        let handles: Vec<_> = crowd
            .iter()
            .map(|code| {
                let site = &site;
                scope.spawn(move || {
                    let (status, page) = check_back_nojs(site, code);
                    (status, page.contains("Message 7: "))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let peak = meldpunt_tests::status_kib(pid, "VmHWM").unwrap();
    assert!(
        results
            .iter()
            .all(|&(status, shown)| status == 200 && shown),
        "every check-back gets its page: {results:?}"
    );
    let grew = peak.saturating_sub(before) / 1024;
    let thread = bytes >> 20;
    eprintln!("sixteen check-backs of a {thread} MiB thread: the server's peak rose by {grew} MiB");
    // Unlimited, the sixteen raise the peak by about 25 times the thread (measured: 160
    // MiB for a 6 MiB thread); the budget (3 × max_thread_bytes + 4 MiB = 28 MiB) reads
    // one at a time (measured: about 30 MiB).
    assert!(
        grew < 15 * thread,
        "sixteen check-backs of a {thread} MiB thread raised the server's peak by {grew} MiB"
    );
}

#[test]
fn a_token_reading_all_day_does_not_grow_the_audit_log() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    ApiReporter::new().file(&site, "One case to list.", None, &[]);
    let a = agent();
    let log = || {
        json(
            a.get(&site.url("/api/v1/audit"))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap(),
        )
        .as_array()
        .unwrap()
        .len()
    };
    let before = log();
    for _ in 0..300 {
        let resp = a
            .get(&site.url("/api/v1/cases"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert!(
        log() <= before + 1,
        "300 reads grew the audit log from {before} to {} entries",
        log()
    );
    // And the tool fetches only what is new.
    let resp = a
        .get(&site.url(&format!("/api/v1/audit?from={}", log() - 1)))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(json(resp).as_array().unwrap().len(), 1);
    let resp = a
        .get(&site.url(&format!("/api/v1/audit?from={}", log() + 5)))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 416);
}

/// Runs `sh -c script` inside the server's mount namespace (to see its small disk).
fn in_namespace(pid: u32, script: &str) -> String {
    let out = Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "sh", "-c", script])
        .output()
        .expect("nsenter runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn parallel_uploads_cannot_eat_the_disk_reserve_nor_tear_the_audit_log() {
    // The data directory on a 48 MiB tmpfs in a private mount namespace; the reserve is
    // 8 MiB, so uploads stop at 16 MiB free.
    let site = Site::with_settings(
        "submissions_per_hour = 100000\nmin_free_disk = \"8 MiB\"\nupload_bytes_per_hour = \"100 GiB\"\n",
    );
    let token = site.token("alice", "bureau");
    std::fs::create_dir_all(site.data_dir()).unwrap();
    let data = site.data_dir();
    // Keep the registry files the token command wrote: they go onto the tmpfs too.
    let keep = tempfile::tempdir().unwrap();
    for f in ["tokens.json", "audit.jsonl"] {
        std::fs::copy(data.join(f), keep.path().join(f)).unwrap();
    }
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size=48m,mode=0700 tmpfs '{d}' && cp '{k}'/* '{d}'/ && exec '{bin}' serve",
            d = data.display(),
            k = keep.path().display(),
            bin = binary("meldpunt-server").display()
        ))
        .env("MELDPUNT_CONFIG", site.dir().join("Meldpunt.toml"))
        .stdout(std::fs::File::create(site.dir().join("server.out")).unwrap())
        .stderr(std::fs::File::create(site.dir().join("server.err")).unwrap())
        .spawn()
        .expect("unshare starts (root, or user namespaces, are needed)");
    let deadline = Instant::now() + Duration::from_secs(60);
    while agent()
        .get(&site.url("/api/v1/destinations"))
        .call()
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the server did not start: {}",
            String::from_utf8_lossy(&std::fs::read(site.dir().join("server.err")).unwrap())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id();
    let free = || -> u64 {
        let out = in_namespace(pid, &format!("stat -f -c '%a %S' '{}'", data.display()));
        let mut it = out.split_whitespace().map(|n| n.parse::<u64>().unwrap());
        it.next().unwrap() * it.next().unwrap()
    };

    // Eight chunked uploads (no Content-Length) of 8 MiB each, at once.
    let site_url = site.url("");
    let uploads: Vec<_> = (0..8)
        .map(|_| {
            let url = site_url.clone();
            let recipients = site.bureau.recipients().to_vec();
            std::thread::spawn(move || {
                let r = ApiReporter::new();
                let a = agent();
                a.post(&format!("{url}/api/v1/uploads"))
                    .header("Meldpunt-Mailbox", r.credential())
                    .send_empty()
                    .unwrap();
                let mut ct = Vec::new();
                let plain = vec![5u8; 8 * 1024 * 1024];
                meldpunt_crypto::encrypt_attachment(
                    &recipients,
                    &plain[..],
                    plain.len() as u64,
                    &mut ct,
                )
                .unwrap();
                let resp = a
                    .put(&format!("{url}/api/v1/uploads/0"))
                    .header("Meldpunt-Mailbox", r.credential())
                    .header("Meldpunt-Offset", "0")
                    .send(ureq::SendBody::from_reader(&mut &ct[..]));
                // Refused mid-body, the server may close before the body is sent.
                resp.map_or(0, |r| r.status().as_u16())
            })
        })
        .collect();
    let statuses: Vec<u16> = uploads.into_iter().map(|t| t.join().unwrap()).collect();
    eprintln!("eight uploads answered {statuses:?}; {} bytes free", free());
    assert!(
        statuses.contains(&507),
        "some uploads must hit the reserve: {statuses:?}"
    );
    assert!(
        free() >= 15 * 1024 * 1024,
        "uploads ate into the reserve: {} bytes free",
        free()
    );

    // Reports still fit, and the investigators' routes work (and are audited).
    let r = ApiReporter::new();
    r.file(
        &site,
        "A report after the disk filled with uploads.",
        None,
        &[],
    );
    let resp = agent()
        .get(&site.url("/api/v1/cases"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);

    // A disk that is full to the last byte: audited actions fail once the audit file's
    // last page is full, and none leaves half a line behind; once there is room again,
    // the log is whole and the routes work.
    for i in 0..24 {
        ApiReporter::new().file(&site, &format!("Case {i} to view."), None, &[]);
    }
    let cases: Vec<String> = json(
        agent()
            .get(&site.url("/api/v1/cases"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap(),
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|c| c["case"].as_str().unwrap().to_owned())
    .collect();
    in_namespace(
        pid,
        &format!(
            "for bs in 64k 512 1; do dd if=/dev/zero of='{d}/filler-$bs' bs=$bs 2>/dev/null; done; true",
            d = data.display()
        ),
    );
    // Viewing a case is audited (once a day): with no room, the view is refused.
    let refused = cases.iter().any(|case| {
        agent()
            .get(&site.url(&format!("/api/v1/cases/{case}")))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .status()
            == 500
    });
    assert!(refused, "an unaudited view must not be served");
    in_namespace(pid, &format!("rm '{}'/filler-*", data.display()));
    let audit = in_namespace(pid, &format!("cat '{}/audit.jsonl'", data.display()));
    for line in audit.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("a torn line in the audit log: {line:?}"));
    }
    assert!(audit.ends_with('\n'));
    let resp = agent()
        .get(&site.url("/api/v1/audit"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200, "the audit chain verifies");
    let _ = child.kill();
    let _ = child.wait();
}
