//! `pull` and `push`, against the small fake investigator API in
//! common/fake_server.rs (the real server's end-to-end test lives in tests/).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::fs;

use common::fake_server::{FakeServer, TOKEN};
use common::{Case, Env};
use predicates::str::contains;

struct Online {
    env: Env,
    server_root: std::path::PathBuf,
    server: FakeServer,
    token: std::path::PathBuf,
}

impl Online {
    fn new() -> Online {
        let env = Env::pinned();
        let server_root = env.path("server");
        fs::create_dir_all(server_root.join("cases")).unwrap();
        let server = FakeServer::start(&server_root);
        let token = env.path("token.txt");
        fs::write(&token, format!("{TOKEN}\n")).unwrap();
        Online {
            env,
            server_root,
            server,
            token,
        }
    }

    fn case(&self, id: &str, attachments: &[(&str, &[u8])]) -> Case {
        Case::new(
            &self.server_root,
            id,
            &self.env.bureau,
            Some(common::CONTACT),
            attachments,
        )
    }

    fn run(&self, verb: &str) -> assert_cmd::assert::Assert {
        self.env
            .cmd()
            .arg(verb)
            .args(["--server", &self.server.url, "--token-file"])
            .arg(&self.token)
            .arg(&self.env.bundle)
            .assert()
    }

    fn reply(&self, case: &str, text: &str) -> assert_cmd::assert::Assert {
        let msg = self.env.path("msg.txt");
        fs::write(&msg, text).unwrap();
        self.env
            .cmd()
            .args(["reply", case, "-i"])
            .arg(&self.env.key_file)
            .arg(&self.env.bundle)
            .arg("--message-file")
            .arg(&msg)
            .assert()
    }
}

#[test]
fn pull_fetches_cases_and_the_audit_log_incrementally() {
    let o = Online::new();
    let mut a = o.case("MP-PV11AAAAA1", &[("bewijs.pdf", b"pdf bytes")]);
    o.case("MP-PV11BBBBB1", &[]);
    o.run("pull")
        .success()
        .stdout(contains("2 new, 0 updated, 0 unchanged"));
    let got = o.env.bundle.join("cases/MP-PV11AAAAA1");
    for f in ["report.age", "attachments/000.age", "case.json"] {
        assert_eq!(
            fs::read(got.join(f)).unwrap(),
            fs::read(a.dir.join(f)).unwrap(),
            "{f}"
        );
    }
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(o.env.bundle.join("bundle.json")).unwrap()).unwrap();
    let head = index["audit_head"].clone();
    assert_eq!(head["index"], 0);
    // The pulled case opens.
    o.env
        .cmd()
        .args(["open", "MP-PV11AAAAA1", "-i"])
        .arg(&o.env.key_file)
        .arg(&o.env.bundle)
        .arg("-o")
        .arg(&o.env.out)
        .assert()
        .success();

    // Nothing changed: nothing downloaded.
    let before = o.server.state.lock().unwrap().requests.len();
    o.run("pull")
        .success()
        .stdout(contains("0 new, 0 updated, 2 unchanged"));
    let requests = o.server.state.lock().unwrap().requests[before..].to_vec();
    assert!(
        !requests.iter().any(|r| r.ends_with("/download")),
        "{requests:?}"
    );

    // The reporter answers: only that case is fetched again, and the audit chain grew.
    a.reporter_says("Nog een detail.", &o.env.key);
    o.run("pull")
        .success()
        .stdout(contains("0 new, 1 updated, 1 unchanged"));
    assert!(got.join("thread/0001-from_reporter.age").exists());
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(o.env.bundle.join("bundle.json")).unwrap()).unwrap();
    assert!(index["audit_head"]["index"].as_u64().unwrap() > 0);
}

#[test]
fn a_rewritten_or_shortened_audit_log_is_a_loud_error() {
    let o = Online::new();
    o.case("MP-AVD1TAAAA1", &[]);
    o.run("pull").success();
    o.run("pull").success();
    let index_before = fs::read(o.env.bundle.join("bundle.json")).unwrap();
    o.server.state.lock().unwrap().rewrite_audit(1);
    o.run("pull")
        .failure()
        .stderr(contains("THE SERVER'S AUDIT LOG DOES NOT EXTEND"))
        .stderr(contains("REWRITTEN"));
    assert_eq!(
        fs::read(o.env.bundle.join("bundle.json")).unwrap(),
        index_before
    );
    let kept: Vec<_> = fs::read_dir(&o.env.bundle)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("audit-refused-")
        })
        .collect();
    assert_eq!(kept.len(), 1);

    // Entries removed from the end.
    let o = Online::new();
    o.case("MP-AVD1TAAAA2", &[]);
    o.run("pull").success();
    o.run("pull").success();
    o.server.state.lock().unwrap().audit.truncate(1);
    o.run("pull").failure().stderr(contains("REMOVED"));
}

#[test]
fn a_refused_token_and_an_unreachable_server_are_explained() {
    let o = Online::new();
    fs::write(&o.token, "not-the-token\n").unwrap();
    o.run("pull")
        .failure()
        .stderr(contains("the server refuses the token (HTTP 401)"));
    o.run("push").success().stdout(contains("nothing to send"));
    fs::write(&o.token, "").unwrap();
    o.run("pull")
        .failure()
        .stderr(contains("does not hold a token"));
    o.env
        .cmd()
        .args([
            "pull",
            "--server",
            "http://meldpunt.example",
            "--token-file",
        ])
        .arg(&o.token)
        .arg(&o.env.bundle)
        .assert()
        .failure()
        .stderr(contains("plain http"));
    fs::write(&o.token, format!("{TOKEN}\n")).unwrap();
    o.env
        .cmd()
        .args(["pull", "--server", "http://127.0.0.1:9", "--token-file"])
        .arg(&o.token)
        .arg(&o.env.bundle)
        .assert()
        .failure()
        .stderr(contains("could not reach the server"));
}

#[test]
fn a_broken_download_leaves_the_case_as_it_was_and_a_retry_completes_it() {
    let o = Online::new();
    let mut a = o.case("MP-BR0KEND101", &[("groot.bin", &vec![1u8; 200_000])]);
    o.run("pull").success();
    let before = fs::read(o.env.bundle.join("cases/MP-BR0KEND101/case.json")).unwrap();
    a.reporter_says("Aanvulling", &o.env.key);
    o.server.state.lock().unwrap().break_download = Some("MP-BR0KEND101".into());
    o.run("pull").failure().stderr(contains("MP-BR0KEND101"));
    assert_eq!(
        fs::read(o.env.bundle.join("cases/MP-BR0KEND101/case.json")).unwrap(),
        before
    );
    assert!(!o
        .env
        .bundle
        .join("cases/MP-BR0KEND101/thread/0001-from_reporter.age")
        .exists());
    o.server.state.lock().unwrap().break_download = None;
    o.run("pull").success().stdout(contains("1 updated"));
    assert!(o
        .env
        .bundle
        .join("cases/MP-BR0KEND101/thread/0001-from_reporter.age")
        .exists());
    assert!(!o.env.bundle.join(".incoming").exists());
}

#[test]
fn a_server_that_changes_a_cases_history_is_refused() {
    let o = Online::new();
    let mut a = o.case("MP-H1ST0RY001", &[]);
    a.reporter_says("Eerste", &o.env.key);
    o.run("pull").success();
    let kept = fs::read(
        o.env
            .bundle
            .join("cases/MP-H1ST0RY001/thread/0001-from_reporter.age"),
    )
    .unwrap();
    // The server replaces the message (and fixes up its own file list to match).
    let mut b = Case::new(
        &o.env.path("elsewhere"),
        "MP-H1ST0RY001",
        &o.env.bureau,
        None,
        &[],
    );
    b.reporter_says("Vervalst", &o.env.key);
    fs::copy(
        b.dir.join("thread/0001-from_reporter.age"),
        a.dir.join("thread/0001-from_reporter.age"),
    )
    .unwrap();
    let mut meta: serde_json::Value =
        serde_json::from_slice(&fs::read(a.dir.join("case.json")).unwrap()).unwrap();
    meta["updated"] = serde_json::json!("2026-11-25");
    fs::write(a.dir.join("case.json"), serde_json::to_vec(&meta).unwrap()).unwrap();
    o.run("pull")
        .failure()
        .stderr(contains("REFUSED: the server changed this case's history: thread/0001-from_reporter.age is a different file"));
    assert_eq!(
        fs::read(
            o.env
                .bundle
                .join("cases/MP-H1ST0RY001/thread/0001-from_reporter.age")
        )
        .unwrap(),
        kept
    );
    assert!(o.env.bundle.join("rejected/MP-H1ST0RY001").is_dir());
}

#[test]
fn push_sends_replies_and_status_and_the_reporter_reads_them() {
    let o = Online::new();
    let mut a = o.case("MP-PVSHAAAAA1", &[]);
    a.reporter_says("Is er nieuws?", &o.env.key);
    o.run("pull").success();
    o.reply("MP-PVSHAAAAA1", "We onderzoeken het.").success();
    o.env
        .cmd()
        .args(["status", "MP-PVSHAAAAA1", "investigating"])
        .arg(&o.env.bundle)
        .assert()
        .success();
    o.run("push").success().stdout(contains("Sent 2 item(s)"));
    let outbox = fs::read_to_string(o.env.bundle.join("outbox/outbox.json")).unwrap();
    assert!(!outbox.contains("\"state\": \"queued\""), "{outbox}");
    // The reporter, with the code, reads the message the server now holds.
    let ct = fs::read(a.dir.join("thread/0002-to_reporter.age")).unwrap();
    let m = a.reporter_reads(&ct);
    assert_eq!(m.text, "We onderzoeken het.");
    let meta = fs::read_to_string(a.dir.join("case.json")).unwrap();
    assert!(meta.contains("\"investigating\""));
    // Pushing again sends nothing twice.
    o.run("push").success().stdout(contains("nothing to send"));

    // Before the next pull, a second reply still extends the first one.
    o.reply("MP-PVSHAAAAA1", "Nog een vraag.")
        .success()
        .stdout(contains("message 3"));
    o.run("push").success();
    let ct = fs::read(a.dir.join("thread/0003-to_reporter.age")).unwrap();
    assert_eq!(a.reporter_reads(&ct).text, "Nog een vraag.");
    // And after a pull, the thread verifies with all of it.
    o.run("pull").success();
    o.env
        .cmd()
        .args(["open", "MP-PVSHAAAAA1", "-i"])
        .arg(&o.env.key_file)
        .arg(&o.env.bundle)
        .arg("-o")
        .arg(&o.env.out)
        .assert()
        .success()
        .stdout(contains("3 of 3 message(s) verified"));
}

#[test]
fn a_stale_head_is_not_forced_and_the_investigator_is_told_what_to_do() {
    let o = Online::new();
    let mut a = o.case("MP-STA1EAAAA1", &[]);
    o.run("pull").success();
    o.reply("MP-STA1EAAAA1", "Mijn vraag").success();
    // Meanwhile the reporter wrote: the server's head moved on.
    a.reporter_says("Ik was eerder", &o.env.key);
    o.run("push")
        .failure()
        .stderr(contains("NOT sent: the thread moved on"))
        .stderr(contains("meldpunt pull"));
    let outbox = fs::read_to_string(o.env.bundle.join("outbox/outbox.json")).unwrap();
    assert!(outbox.contains("\"state\": \"stale\""), "{outbox}");
    assert!(!a.dir.join("thread/0002-to_reporter.age").exists());
    // Doing what it says works.
    o.run("pull").success();
    o.reply("MP-STA1EAAAA1", "Mijn vraag, opnieuw")
        .success()
        .stdout(contains("message 2"));
    o.run("push").success();
    let ct = fs::read(a.dir.join("thread/0002-to_reporter.age")).unwrap();
    assert_eq!(a.reporter_reads(&ct).text, "Mijn vraag, opnieuw");
}

#[test]
fn pull_has_no_network_inside_an_empty_namespace() {
    // The same pull that works here cannot reach the (listening) server offline,
    // which is what makes the no-network test of the other commands meaningful.
    let o = Online::new();
    o.case("MP-N0NETW0RK1", &[]);
    let out = std::process::Command::new("unshare")
        .arg("-rn")
        .arg(assert_cmd::cargo::cargo_bin("meldpunt"))
        .args(["pull", "--server", &o.server.url, "--token-file"])
        .arg(&o.token)
        .arg(&o.env.bundle)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not reach the server"));
    o.run("pull").success();
}
