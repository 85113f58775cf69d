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

use meldpunt_crypto::Direction;
use meldpunt_wire::audit::{entry_hash, AuditEntry, GENESIS};
use meldpunt_wire::reporter::Posted;
use meldpunt_wire::{CaseFile, CaseManifest, CaseSummary, Digest, FileEntry, StatusChange};

pub const TOKEN: &str = "tok-anna-3f9a1c";

pub struct FakeState {
    pub root: PathBuf,
    pub audit: Vec<AuditEntry>,
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

impl FakeState {
    pub fn log(&mut self, action: &str, case: Option<&str>) {
        let prev = self
            .audit
            .last()
            .map(|e| e.hash.clone())
            .unwrap_or_else(|| GENESIS.to_owned());
        let index = self.audit.len() as u64;
        let day = super::day(super::DAY);
        self.audit.push(AuditEntry {
            index,
            day,
            token: "anna".into(),
            action: action.into(),
            case: case.map(str::to_owned),
            hash: entry_hash(index, day, "anna", action, case, &prev),
            prev,
            scope: vec!["bureau".into()],
        });
    }

    /// Changes entry `i` and recomputes every hash after it: a rewrite that keeps the
    /// chain itself whole.
    pub fn rewrite_audit(&mut self, i: usize) {
        self.audit[i].action = "nothing to see".into();
        for j in i..self.audit.len() {
            if j > 0 {
                self.audit[j].prev = self.audit[j - 1].hash.clone();
            }
            self.audit[j].hash = self.audit[j].expected_hash();
        }
    }

    fn case_dir(&self, id: &str) -> PathBuf {
        self.root.join("cases").join(id)
    }
}

fn read_manifest(dir: &Path) -> Option<CaseManifest> {
    let bytes = fs::read(dir.join(CaseFile::Manifest.to_path())).ok()?;
    Some(serde_json::from_slice(&bytes).unwrap())
}

fn write_manifest(dir: &Path, manifest: &CaseManifest) {
    fs::write(
        dir.join(CaseFile::Manifest.to_path()),
        serde_json::to_vec_pretty(manifest).unwrap(),
    )
    .unwrap();
}

/// The files of a case folder, in download order: the manifest, the report, the
/// attachments and the thread (each numbered from its first, without gaps).
fn case_files(dir: &Path) -> Vec<CaseFile> {
    let exists = |f: &CaseFile| dir.join(f.to_path()).is_file();
    let mut files = vec![CaseFile::Manifest, CaseFile::Report];
    files.extend((0..).map(CaseFile::Attachment).take_while(exists));
    files.extend((1..).map_while(|n| {
        [Direction::ToReporter, Direction::FromReporter]
            .into_iter()
            .map(|d| CaseFile::Message(n, d))
            .find(exists)
    }));
    files
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
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let parts: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["audit"]) => {
            // As the real server: `?from=N` gives the entries from N on, 416 past the end.
            let from: usize = query
                .strip_prefix("from=")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if from > st.audit.len() {
                return respond(request, 416, b"fewer entries".to_vec());
            }
            let lines: Vec<String> = st.audit[from..]
                .iter()
                .map(|e| serde_json::to_string(e).unwrap())
                .collect();
            respond(request, 200, (lines.join("\n") + "\n").into_bytes())
        }
        ("GET", ["cases"]) => {
            let mut list: Vec<CaseSummary> = Vec::new();
            if let Ok(dirs) = fs::read_dir(st.root.join("cases")) {
                for d in dirs.flatten() {
                    list.extend(read_manifest(&d.path()).map(|m| m.summary));
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
            for file in case_files(&dir) {
                let path = file.to_path();
                tar.append_path_with_name(dir.join(&path), &path).unwrap();
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
            let Some(mut meta) = read_manifest(&dir) else {
                return respond(request, 404, b"no such case".to_vec());
            };
            if extends.as_deref() != Some(meta.summary.head.as_str()) {
                return respond(request, 409, b"the thread has moved on".to_vec());
            }
            let n = fs::read_dir(dir.join("thread"))
                .map(|r| r.count())
                .unwrap_or(0)
                + 1;
            let file = CaseFile::Message(n as u32, Direction::ToReporter);
            fs::write(dir.join(file.to_path()), &body).unwrap();
            let digest = Digest::of(&body);
            meta.summary.head = digest.sha256.clone();
            meta.summary.updated = super::day("2026-11-24");
            meta.summary.last_content = meta.summary.updated;
            meta.summary.messages = n;
            meta.files.push(FileEntry {
                path: file,
                sha256: digest.sha256.clone(),
                size: digest.size,
            });
            write_manifest(&dir, &meta);
            let id = id.to_string();
            st.log("message", Some(&id));
            let posted = Posted {
                seq_in_thread: n,
                sha256: digest.sha256.clone(),
                head: digest.sha256,
            };
            respond(request, 201, serde_json::to_vec(&posted).unwrap())
        }
        ("POST", ["cases", id, "status"]) => {
            let dir = st.case_dir(id);
            let Some(mut meta) = read_manifest(&dir) else {
                return respond(request, 404, b"no such case".to_vec());
            };
            let Ok(asked) = serde_json::from_slice::<StatusChange>(&body) else {
                return respond(request, 422, b"not a status change".to_vec());
            };
            meta.summary.status = asked.status;
            meta.summary.updated = super::day("2026-11-24");
            write_manifest(&dir, &meta);
            let id = id.to_string();
            st.log("status", Some(&id));
            respond(request, 200, serde_json::to_vec(&meta.summary).unwrap())
        }
        _ => respond(request, 404, b"no such route".to_vec()),
    }
}
