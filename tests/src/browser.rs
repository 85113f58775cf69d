//! Headless Chromium (Debian's `chromium` and `chromium-driver`), driven over WebDriver.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::free_port;

/// Debian's Firefox ESR (the engine Tor Browser is built on).
pub const FIREFOX: &str = "/usr/bin/firefox-esr";

/// What Tor Browser's "Safer" level turns off: WebAssembly, asm.js and the JITs.
pub const TOR_SAFER_PREFS: [(&str, bool); 5] = [
    ("javascript.options.wasm", false),
    ("javascript.options.asmjs", false),
    ("javascript.options.ion", false),
    ("javascript.options.baselinejit", false),
    ("javascript.options.native_regexp", false),
];

/// geckodriver, as `cargo install geckodriver` puts it (scripts/test.sh does).
pub fn geckodriver() -> std::path::PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    home.join("bin/geckodriver")
}

/// Starts headless Firefox ESR with the given preferences.
pub async fn start_firefox(prefs: &[(&str, bool)]) -> Browser {
    let gecko = geckodriver();
    for tool in [std::path::Path::new(FIREFOX), gecko.as_path()] {
        assert!(
            tool.exists(),
            "{} is missing: install Debian's firefox-esr and `cargo install geckodriver` (scripts/test.sh does)",
            tool.display()
        );
    }
    let port = free_port();
    let driver = Command::new(&gecko)
        .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("geckodriver starts");
    let profile = tempfile::tempdir().expect("a profile directory");
    let prefs: serde_json::Map<String, Value> = prefs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::Bool(*v)))
        .collect();
    let caps = json!({
        "moz:firefoxOptions": {
            "binary": FIREFOX,
            "args": ["-headless", "-profile", profile.path().to_str().expect("utf-8 path")],
            "prefs": prefs,
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    connect(driver, port, caps, profile).await
}

/// The Chromium binary Debian installs.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Its WebDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A browser session; the driver and the browser end when it is dropped.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    driver_port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // ChromeDriver and the Chromium it started share a process group of their own:
        // end all of it, or the browser outlives the test.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Starts headless Chromium with a fresh profile; `extra` adds flags (for example
/// `--js-flags=--jitless`).
pub async fn start(extra: &[&str]) -> Browser {
    start_with(extra, json!({})).await
}

/// Like [`start`], with Chromium profile preferences as well (for example
/// `{"profile.managed_default_content_settings.javascript": 2}`: JavaScript off, as Tor
/// Browser at "Safest").
pub async fn start_with(extra: &[&str], prefs: Value) -> Browser {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(tool).exists(),
            "{tool} is missing: install Debian's chromium and chromium-driver (scripts/test.sh does)"
        );
    }
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let caps = json!({
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args, "prefs": prefs }
    });
    let caps = match caps {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    connect(driver, port, caps, profile).await
}

/// Connects to a WebDriver just started on `port`, retrying until it answers.
async fn connect(
    driver: Child,
    port: u16,
    caps: serde_json::Map<String, Value>,
    profile: tempfile::TempDir,
) -> Browser {
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "the WebDriver did not answer: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    Browser {
        client,
        driver,
        driver_port: port,
        _profile: profile,
    }
}

impl Browser {
    /// Sends a Chrome DevTools Protocol command through ChromeDriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self
            .client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("a session");
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
            self.driver_port
        );
        let body = json!({ "cmd": cmd, "params": params }).to_string();
        let resp = crate::agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .expect("chromedriver answers");
        crate::json(resp)
    }

    /// The browser's profile directory (it names the browser's processes).
    pub fn profile_dir(&self) -> &std::path::Path {
        self._profile.path()
    }

    /// The resident memory (VmRSS) of this browser's renderer processes, in bytes: the
    /// page's JavaScript heap, its WebAssembly memory and everything else it holds.
    pub fn renderer_rss(&self) -> u64 {
        let profile = self.profile_dir().to_string_lossy().into_owned();
        let procs = processes();
        let browsers: Vec<u32> = procs
            .iter()
            .filter(|p| p.cmdline.contains(&profile) && !p.cmdline.contains("--type="))
            .map(|p| p.pid)
            .collect();
        procs
            .iter()
            .filter(|p| p.cmdline.contains("--type=renderer"))
            .filter(|p| descends_from(&procs, p.pid, &browsers))
            .map(|p| p.rss)
            .sum()
    }

    /// The resident memory of every process of this browser (browser, network service,
    /// GPU, renderers), in bytes.
    pub fn total_rss(&self) -> u64 {
        let profile = self.profile_dir().to_string_lossy().into_owned();
        let procs = processes();
        let browsers: Vec<u32> = procs
            .iter()
            .filter(|p| p.cmdline.contains(&profile) && !p.cmdline.contains("--type="))
            .map(|p| p.pid)
            .collect();
        procs
            .iter()
            .filter(|p| browsers.contains(&p.pid) || descends_from(&procs, p.pid, &browsers))
            .map(|p| p.rss)
            .sum()
    }

    /// The renderer processes' memory by kind (VmRSS, RssAnon, RssFile, RssShmem), in
    /// bytes.
    pub fn renderer_memory(&self) -> [u64; 4] {
        let profile = self.profile_dir().to_string_lossy().into_owned();
        let procs = processes();
        let browsers: Vec<u32> = procs
            .iter()
            .filter(|p| p.cmdline.contains(&profile) && !p.cmdline.contains("--type="))
            .map(|p| p.pid)
            .collect();
        let mut total = [0u64; 4];
        for p in procs
            .iter()
            .filter(|p| p.cmdline.contains("--type=renderer"))
        {
            if descends_from(&procs, p.pid, &browsers) {
                for (t, v) in total.iter_mut().zip(p.kinds) {
                    *t += v;
                }
            }
        }
        total
    }

    /// Evaluates `expression` in the page until it is true (or panics after `secs`).
    pub async fn wait_until(&self, expression: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self
                .client
                .execute(&format!("return !!({expression});"), vec![])
                .await
                .expect("script runs");
            if v == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                let shown = self.client.source().await.unwrap_or_default();
                panic!(
                    "waited {secs} s for `{expression}`; page:\n{}",
                    &shown[..shown.len().min(4000)]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Evaluates a JavaScript expression and returns its value.
    pub async fn eval(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .expect("script runs")
    }

    /// Types into the element with this id.
    pub async fn type_into(&self, id: &str, text: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into #{id}: {e}"));
    }

    /// Clicks the element this CSS selector finds.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// The return code the page shows (`#code`), its letters and digits only (the groups'
    /// dashes and line breaks left out).
    pub async fn return_code_shown(&self) -> String {
        self.text("code")
            .await
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect()
    }
    /// The text of the element with this id.
    pub async fn text(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// The text of the first element this CSS selector finds.
    pub async fn text_of_css(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// axe-core (`script`, from [`axe_script`]) finds no violation on the page as it is
    /// now; `what` names the page in the failure.
    pub async fn assert_no_axe_violations(&self, script: &str, what: &str) {
        self.client
            .execute(script, vec![])
            .await
            .expect("axe-core loads");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {resultTypes: ['violations']})\
                   .then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html)})))))\
                   .catch(e => done('error: ' + e));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let text = found.as_str().unwrap_or_default().to_owned();
        assert_eq!(text, "[]", "axe-core found violations on {what}: {text}");
    }

    /// Saves a screenshot of the page at the given width (a person looks at these; they
    /// are not committed). Returns the file.
    pub async fn screenshot(&self, name: &str, width: u32, height: u32) -> PathBuf {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window resizes");
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("{name}-{width}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        path
    }
}

/// axe-core's script, as scripts/test.sh installs it (npm `axe-core`, pinned there).
pub fn axe_script() -> String {
    let path = crate::bin_dir()
        .parent()
        .map(|p| p.join("tools/node_modules/axe-core/axe.min.js"))
        .expect("a target directory");
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "axe-core is missing at {}: run scripts/test.sh, which installs it, or \
             `npm install --prefix {} axe-core@4.11.0`",
            path.display(),
            path.parent()
                .and_then(|p| p.parent())
                .and_then(|p| p.parent())
                .expect("tools/node_modules/axe-core")
                .display()
        )
    })
}

/// Where screenshots go: `$MELDPUNT_SCREENSHOTS`, or `<target>/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("MELDPUNT_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            crate::bin_dir()
                .parent()
                .map(|p| p.join("screenshots"))
                .unwrap_or_default()
        })
}

struct Proc {
    pid: u32,
    ppid: u32,
    rss: u64,
    kinds: [u64; 4],
    cmdline: String,
}

fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let dir = e.path();
        let cmdline = std::fs::read(dir.join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        out.push(Proc {
            pid,
            ppid: field("PPid:") as u32,
            rss: field("VmRSS:") * 1024,
            kinds: [
                field("VmRSS:") * 1024,
                field("RssAnon:") * 1024,
                field("RssFile:") * 1024,
                field("RssShmem:") * 1024,
            ],
            cmdline,
        });
    }
    out
}

fn descends_from(procs: &[Proc], mut pid: u32, ancestors: &[u32]) -> bool {
    for _ in 0..16 {
        let Some(p) = procs.iter().find(|p| p.pid == pid) else {
            return false;
        };
        if ancestors.contains(&p.ppid) {
            return true;
        }
        pid = p.ppid;
    }
    false
}
