//! A small stand-in for the investigator API of meldpunt-server, following the API
//! contract (GET /api/v1/cases, /cases/{case}/download as tar, /audit; POST messages
//! with Meldpunt-Extends, status). Used while the real server is being built; the
//! end-to-end tests in tests/ run the real one.
//!
//! Its cases live in a folder laid out like a bundle (written with `Case`), so the
//! tests play the reporter and the server with the same helpers.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const TOKEN: &str = "tok-anna-3f9a1c";

pub struct FakeState {
    pub root: PathBuf,
    pub audit: Vec<Value>,
    /// Case whose download breaks off half-way.
    pub break_download: Option<String>,
    /// Every request, as "METHOD path".
    pub requests: Vec<String>,
}

pub struct FakeServer {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

pub fn audit_hash(e: &Value) -> String {
    let text = format!(
        "meldpunt audit v1\n{}\n{}\n{}\n{}\n{}\n{}\n",
        e["index"],
        e["day"].as_str().unwrap(),
        e["token"].as_str().unwrap(),
        e["action"].as_str().unwrap(),
        e["case"].as_str().unwrap_or("-"),
        e["prev"].as_str().unwrap()
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl FakeState {
    pub fn log(&mut self, action: &str, case: Option<&str>) {
        let prev = self
            .audit
            .last()
            .map(|e| e["hash"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| "0".repeat(64));
        let mut e = json!({
            "index": self.audit.len(), "day": super::DAY, "token": "anna",
            "action": action, "case": case, "prev": prev,
        });
        e["hash"] = json!(audit_hash(&e));
        self.audit.push(e);
    }

    /// Changes entry `i` and recomputes every hash after it: a rewrite that keeps the
    /// chain itself whole.
    pub fn rewrite_audit(&mut self, i: usize) {
        self.audit[i]["action"] = json!("nothing to see");
        for j in i..self.audit.len() {
            if j > 0 {
                self.audit[j]["prev"] = self.audit[j - 1]["hash"].clone();
            }
            let h = audit_hash(&self.audit[j]);
            self.audit[j]["hash"] = json!(h);
        }
    }

    fn case_dir(&self, id: &str) -> PathBuf {
        self.root.join("cases").join(id)
    }
}

impl FakeServer {
    pub fn start(root: &Path) -> FakeServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let state = Arc::new(Mutex::new(FakeState {
            root: root.to_owned(),
            audit: Vec::new(),
            break_download: None,
            requests: Vec::new(),
        }));
        state.lock().unwrap().log("token created", None);
        let (s, st) = (server.clone(), state.clone());
        let thread = std::thread::spawn(move || loop {
            match s.recv_timeout(Duration::from_secs(30)) {
                Ok(Some(request)) => handle(request, &st),
                // Stopped (unblock) or idle far longer than any test: end.
                _ => return,
            }
        });
        FakeServer {
            url: format!("http://127.0.0.1:{port}"),
            state,
            server,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn respond(request: tiny_http::Request, status: u16, body: Vec<u8>) {
    let _ = request.respond(tiny_http::Response::from_data(body).with_status_code(status));
}

fn handle(mut request: tiny_http::Request, state: &Arc<Mutex<FakeState>>) {
    let method = request.method().to_string();
    let url = request.url().to_owned();
    let header = |name: &str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_owned())
    };
    let auth = header("Authorization");
    let extends = header("Meldpunt-Extends");
    let mut body = Vec::new();
    request.as_reader().read_to_end(&mut body).unwrap();
    let mut st = state.lock().unwrap();
    st.requests.push(format!("{method} {url}"));
    if auth.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return respond(request, 401, b"unknown token".to_vec());
    }
    let parts: Vec<&str> = url.trim_start_matches("/api/v1/").split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["audit"]) => {
            let lines: Vec<String> = st.audit.iter().map(|e| e.to_string()).collect();
            respond(request, 200, (lines.join("\n") + "\n").into_bytes())
        }
        ("GET", ["cases"]) => {
            let mut list = Vec::new();
            if let Ok(dirs) = fs::read_dir(st.root.join("cases")) {
                for d in dirs.flatten() {
                    let mut meta: Value =
                        serde_json::from_slice(&fs::read(d.path().join("case.json")).unwrap())
                            .unwrap();
                    meta.as_object_mut().unwrap().remove("files");
                    list.push(meta);
                }
            }
            respond(request, 200, serde_json::to_vec(&list).unwrap())
        }
        ("GET", ["cases", id, "download"]) => {
            let dir = st.case_dir(id);
            if !dir.is_dir() {
                return respond(request, 404, b"no such case".to_vec());
            }
            let mut tar = tar::Builder::new(Vec::new());
            tar.append_path_with_name(dir.join("case.json"), "case.json")
                .unwrap();
            tar.append_path_with_name(dir.join("report.age"), "report.age")
                .unwrap();
            for sub in ["attachments", "thread"] {
                let mut names: Vec<_> = fs::read_dir(dir.join(sub))
                    .map(|r| {
                        r.flatten()
                            .map(|e| e.file_name().into_string().unwrap())
                            .collect()
                    })
                    .unwrap_or_default();
                names.sort();
                for n in names {
                    tar.append_path_with_name(dir.join(sub).join(&n), format!("{sub}/{n}"))
                        .unwrap();
                }
            }
            let mut bytes = tar.into_inner().unwrap();
            if st.break_download.as_deref() == Some(*id) {
                bytes.truncate(bytes.len() / 2);
            }
            let id = id.to_string();
            st.log("download", Some(&id));
            respond(request, 200, bytes)
        }
        ("POST", ["cases", id, "messages"]) => {
            let dir = st.case_dir(id);
            let meta_path = dir.join("case.json");
            let Ok(meta_bytes) = fs::read(&meta_path) else {
                return respond(request, 404, b"no such case".to_vec());
            };
            let mut meta: Value = serde_json::from_slice(&meta_bytes).unwrap();
            if extends.as_deref() != meta["head"].as_str() {
                return respond(request, 409, b"the thread has moved on".to_vec());
            }
            let n = fs::read_dir(dir.join("thread"))
                .map(|r| r.count())
                .unwrap_or(0)
                + 1;
            let name = format!("thread/{n:04}-to_reporter.age");
            fs::write(dir.join(&name), &body).unwrap();
            let sha = hex::encode(Sha256::digest(&body));
            meta["head"] = json!(sha);
            meta["updated"] = json!("2026-11-24");
            meta["files"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": name, "sha256": sha, "size": body.len()}));
            fs::write(&meta_path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
            let id = id.to_string();
            st.log("message", Some(&id));
            respond(request, 201, json!({"head": sha}).to_string().into_bytes())
        }
        ("POST", ["cases", id, "status"]) => {
            let meta_path = st.case_dir(id).join("case.json");
            let Ok(meta_bytes) = fs::read(&meta_path) else {
                return respond(request, 404, b"no such case".to_vec());
            };
            let asked: Value = serde_json::from_slice(&body).unwrap();
            let mut meta: Value = serde_json::from_slice(&meta_bytes).unwrap();
            meta["status"] = asked["status"].clone();
            meta["updated"] = json!("2026-11-24");
            fs::write(&meta_path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
            let id = id.to_string();
            st.log("status", Some(&id));
            respond(request, 200, b"{}".to_vec())
        }
        _ => respond(request, 404, b"no such route".to_vec()),
    }
}
