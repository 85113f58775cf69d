//! The offline commands work with no network at all: each runs inside a fresh network
//! namespace (`unshare -rn`), which has no interface but a downed loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

mod common;

use std::fs;
use std::process::Command;

use common::{Env, CONTACT};

fn offline(env: &Env, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let out = Command::new("unshare")
        .arg("-rn")
        .arg(assert_cmd::cargo::cargo_bin("meldpunt"))
        .args(args)
        .current_dir(env.dir.path())
        .env_remove("MELDPUNT_PASSPHRASE")
        .env_remove("EDITOR")
        .env_remove("VISUAL")
        .output()
        .expect("unshare (util-linux) runs");
    assert!(
        out.status.success(),
        "meldpunt {:?} failed offline:\n{}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn offline_commands_run_without_any_network() {
    // The namespace really has no network: its only interface is the (down) loopback.
    let probe = Command::new("unshare")
        .args(["-rn", "cat", "/proc/net/dev"])
        .output()
        .expect("unshare runs");
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let devices = String::from_utf8_lossy(&probe.stdout);
    let interfaces: Vec<&str> = devices
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(interfaces, ["lo"], "{devices}");

    let env = Env::new();
    let os = |s: &str| std::ffi::OsString::from(s);
    let key2 = env.path("new-key.txt");
    offline(
        &env,
        &[os("keygen").as_ref(), os("-o").as_ref(), key2.as_os_str()],
    );

    let mut pin = vec![os("pin"), env.bundle.clone().into_os_string(), os("bureau")];
    pin.extend(env.bureau.recipients().iter().map(|r| os(r.as_str())));
    let pin: Vec<&std::ffi::OsStr> = pin.iter().map(|s| s.as_os_str()).collect();
    offline(&env, &pin);

    let mut case = env.case(
        "MP-0FF11NE001",
        &env.bureau,
        Some(CONTACT),
        &[("a.txt", b"bijlage")],
    );
    case.reporter_says("Aanvulling", &env.key);
    let b = env.bundle.as_os_str();
    let k = env.key_file.as_os_str();
    let out = offline(&env, &[os("cases").as_ref(), b]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("MP-0FF11NE001"));
    offline(
        &env,
        &[
            os("open").as_ref(),
            os("MP-0FF11NE001").as_ref(),
            os("-i").as_ref(),
            k,
            b,
            os("-o").as_ref(),
            env.out.as_os_str(),
        ],
    );
    assert_eq!(
        fs::read(env.out.join("MP-0FF11NE001/attachments/a.txt")).unwrap(),
        b"bijlage"
    );
    let msg = env.path("m.txt");
    fs::write(&msg, "Dank u.").unwrap();
    offline(
        &env,
        &[
            os("reply").as_ref(),
            os("MP-0FF11NE001").as_ref(),
            os("-i").as_ref(),
            k,
            b,
            os("--message-file").as_ref(),
            msg.as_os_str(),
        ],
    );
    offline(
        &env,
        &[
            os("status").as_ref(),
            os("MP-0FF11NE001").as_ref(),
            os("closed").as_ref(),
            b,
        ],
    );
    offline(
        &env,
        &[
            os("shred").as_ref(),
            os("MP-0FF11NE001").as_ref(),
            b,
            env.out.as_os_str(),
            os("--force").as_ref(),
        ],
    );
    assert!(!env.out.join("MP-0FF11NE001").exists());
}
