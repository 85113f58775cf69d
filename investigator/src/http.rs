//! The connection to the server, for `pull` and `push` only: a blocking HTTP client,
//! the investigator's token in the `Authorization` header (never in a URL), no
//! redirects followed (they could carry the token elsewhere), and the investigators'
//! API calls with the wire contract's paths, headers and bodies.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use meldpunt_crypto::CaseStatus;
use meldpunt_wire::{headers, CaseNumber, CaseSummary, StatusChange, API_BASE};
use serde::de::DeserializeOwned;
use ureq::http::Response;
use ureq::Body;
use zeroize::Zeroizing;

/// The largest JSON answer read (case list, audit log).
const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;

/// Why talking to the server failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL is not an http(s) URL.
    BadUrl {
        /// The URL given.
        url: String,
    },
    /// Plain http to a host that is neither this machine nor an onion service.
    PlainHttp {
        /// The URL given.
        url: String,
    },
    /// The token file could not be read.
    TokenFile {
        /// The file.
        path: PathBuf,
        /// The system's error.
        error: std::io::Error,
    },
    /// The token file is empty or not one line of text.
    BadToken {
        /// The file.
        path: PathBuf,
    },
    /// The server answered 401 or 403.
    TokenRefused {
        /// The HTTP status.
        status: u16,
    },
    /// The server could not be reached.
    Unreachable {
        /// The server's URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The server answered with an unexpected status.
    Status {
        /// What was asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The start of the server's answer.
        message: String,
    },
    /// The answer is not what the API promises.
    BadAnswer {
        /// What was asked.
        what: String,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadUrl { url } => {
                write!(f, "\"{url}\" is not a server address (https://…)")
            }
            HttpError::PlainHttp { url } => write!(
                f,
                "\"{url}\" uses plain http: the token would travel readable. Use https:// \
                 (plain http is allowed only to this machine and to .onion addresses)"
            ),
            HttpError::TokenFile { path, error } => {
                write!(
                    f,
                    "could not read the token file {}: {error}",
                    path.display()
                )
            }
            HttpError::BadToken { path } => write!(
                f,
                "the token file {} does not hold a token (one line of text, as the operator \
                 gave it)",
                path.display()
            ),
            HttpError::TokenRefused { status } => write!(
                f,
                "the server refuses the token (HTTP {status}): it is wrong, expired or \
                 revoked. Ask the operator for a new one"
            ),
            HttpError::Unreachable { url, detail } => {
                write!(f, "could not reach the server at {url}: {detail}")
            }
            HttpError::Status {
                what,
                status,
                message,
            } => write!(
                f,
                "the server answered {what} with HTTP {status}: {message}"
            ),
            HttpError::BadAnswer { what, detail } => {
                write!(f, "the server's answer to {what} is not valid: {detail}")
            }
        }
    }
}

impl std::error::Error for HttpError {}

/// A server to talk to, with the investigator's token.
pub struct Server {
    agent: ureq::Agent,
    base: String,
    /// `Bearer …`; zeroized on drop, never printed.
    authorization: Zeroizing<String>,
}

/// An answer: status and body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    response: Response<Body>,
}

impl Answer {
    /// The body as a reader (streams; not limited in size).
    pub fn into_reader(self) -> impl Read {
        self.response.into_body().into_reader()
    }

    /// The body as JSON of type `T` (at most 64 KiB), if it is that.
    pub fn json<T: DeserializeOwned>(self) -> Option<T> {
        let bytes = self
            .response
            .into_body()
            .into_with_config()
            .limit(64 * 1024)
            .read_to_vec()
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The first part of the body as text, for error messages.
    pub fn message(mut self) -> String {
        let text = self
            .response
            .body_mut()
            .with_config()
            .limit(4096)
            .lossy_utf8(true)
            .read_to_string()
            .unwrap_or_default();
        let text = text.trim();
        if text.is_empty() {
            "(no message)".to_owned()
        } else {
            text.chars().take(300).collect()
        }
    }
}

impl Server {
    /// A server at `url`, with the token read from `token_file`.
    pub fn new(url: &str, token_file: &Path) -> Result<Self, HttpError> {
        let base = check_url(url)?;
        let text =
            Zeroizing::new(
                std::fs::read(token_file).map_err(|error| HttpError::TokenFile {
                    path: token_file.to_owned(),
                    error,
                })?,
            );
        let bad = || HttpError::BadToken {
            path: token_file.to_owned(),
        };
        let token = std::str::from_utf8(&text).map_err(|_| bad())?.trim();
        if token.is_empty() || token.contains(char::is_whitespace) || !token.is_ascii() {
            return Err(bad());
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .user_agent("meldpunt")
            .build()
            .into();
        Ok(Server {
            agent,
            base,
            authorization: Zeroizing::new(format!("Bearer {token}")),
        })
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: ureq::Error) -> HttpError {
        HttpError::Unreachable {
            url: self.base.clone(),
            detail: e.to_string(),
        }
    }

    fn answer(&self, response: Response<Body>) -> Result<Answer, HttpError> {
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(HttpError::TokenRefused { status });
        }
        Ok(Answer { status, response })
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Answer, HttpError> {
        let response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", self.authorization.as_str())
            .call()
            .map_err(|e| self.unreachable(e))?;
        self.answer(response)
    }

    /// `GET path`, expecting 200 and JSON.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, HttpError> {
        let answer = self.get(path)?;
        if answer.status != 200 {
            return Err(HttpError::Status {
                what: what.to_owned(),
                status: answer.status,
                message: answer.message(),
            });
        }
        let bytes = answer
            .response
            .into_body()
            .into_with_config()
            .limit(MAX_JSON_BYTES)
            .read_to_vec()
            .map_err(|e| HttpError::BadAnswer {
                what: what.to_owned(),
                detail: e.to_string(),
            })?;
        serde_json::from_slice(&bytes).map_err(|e| HttpError::BadAnswer {
            what: what.to_owned(),
            detail: e.to_string(),
        })
    }

    /// `GET path`, expecting 200, returning the raw body (at most 64 MiB).
    pub fn get_bytes(&self, path: &str, what: &str) -> Result<Vec<u8>, HttpError> {
        body_of(self.get(path)?, what)
    }

    /// `POST path` with a body and headers.
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, HttpError> {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", self.authorization.as_str())
            .header("Content-Type", content_type);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send(body).map_err(|e| self.unreachable(e))?;
        self.answer(response)
    }
}

/// The server's case list (`GET /api/v1/cases`), each entry read on its own: one the
/// wire contract does not describe is set aside with the reason, not taken on trust.
#[derive(Debug, Default)]
pub struct CaseList {
    /// The cases.
    pub cases: Vec<CaseSummary>,
    /// Entries that are not a case summary: what the entry names itself, and why.
    pub refused: Vec<(String, String)>,
}

impl Server {
    /// `GET /api/v1/audit`: the audit log as sent (JSON array or lines).
    pub fn audit_log(&self) -> Result<Vec<u8>, HttpError> {
        self.get_bytes(&format!("{API_BASE}/audit"), "the audit log request")
    }

    /// `GET /api/v1/audit?from=N`: the entries from index `from` on; `None` when the
    /// server says its log is shorter than that (416).
    pub fn audit_log_from(&self, from: u64) -> Result<Option<Vec<u8>>, HttpError> {
        let answer = self.get(&format!("{API_BASE}/audit?from={from}"))?;
        if answer.status == 416 {
            return Ok(None);
        }
        body_of(answer, "the audit log request").map(Some)
    }

    /// `GET /api/v1/cases`.
    pub fn case_list(&self) -> Result<CaseList, HttpError> {
        let entries: Vec<serde_json::Value> =
            self.get_json(&format!("{API_BASE}/cases"), "the case list request")?;
        let mut list = CaseList::default();
        for entry in entries {
            let named = match &entry["case"] {
                serde_json::Value::String(s) => s.chars().take(60).collect(),
                _ => "(an entry without a case number)".to_owned(),
            };
            match serde_json::from_value::<CaseSummary>(entry) {
                Ok(summary) => list.cases.push(summary),
                Err(e) => list.refused.push((named, e.to_string())),
            }
        }
        Ok(list)
    }

    /// `GET /api/v1/cases/{case}/download`: the case's tar stream.
    pub fn download(&self, case: &CaseNumber) -> Result<Answer, HttpError> {
        self.get(&format!("{API_BASE}/cases/{case}/download"))
    }

    /// `POST /api/v1/cases/{case}/messages`: a message that extends the thread head
    /// `extends` (hex).
    pub fn post_message(
        &self,
        case: &CaseNumber,
        extends: &str,
        body: &[u8],
    ) -> Result<Answer, HttpError> {
        self.post(
            &format!("{API_BASE}/cases/{case}/messages"),
            "application/octet-stream",
            &[(headers::EXTENDS, extends)],
            body,
        )
    }

    /// `POST /api/v1/cases/{case}/status`.
    pub fn post_status(&self, case: &CaseNumber, status: CaseStatus) -> Result<Answer, HttpError> {
        // A struct of one enum always serializes; were it not to, the server refuses
        // the empty body.
        let body = serde_json::to_vec(&StatusChange { status }).unwrap_or_default();
        self.post(
            &format!("{API_BASE}/cases/{case}/status"),
            "application/json",
            &[],
            &body,
        )
    }
}

/// The base URL without a trailing slash; https, or http only to this machine or an
/// onion service.
fn check_url(url: &str) -> Result<String, HttpError> {
    let bad = || HttpError::BadUrl {
        url: url.to_owned(),
    };
    let trimmed = url.trim().trim_end_matches('/');
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(bad)?;
    let host_port = rest.split('/').next().unwrap_or("");
    if host_port.is_empty() || host_port.contains('@') || rest.contains(['?', '#']) {
        return Err(bad());
    }
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" => {
            // Loopback by the parsed address, not by how the name starts
            // (`127.evil.example` is a name anywhere on the internet).
            let loopback = host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
            let local = loopback
                || host.eq_ignore_ascii_case("localhost")
                || host.to_ascii_lowercase().ends_with(".onion");
            if !local {
                return Err(HttpError::PlainHttp {
                    url: url.to_owned(),
                });
            }
        }
        _ => return Err(bad()),
    }
    Ok(trimmed.to_owned())
}

/// The body of a 200 answer (at most [`MAX_JSON_BYTES`]), or the answer as an error.
fn body_of(answer: Answer, what: &str) -> Result<Vec<u8>, HttpError> {
    if answer.status != 200 {
        return Err(HttpError::Status {
            what: what.to_owned(),
            status: answer.status,
            message: answer.message(),
        });
    }
    answer
        .response
        .into_body()
        .into_with_config()
        .limit(MAX_JSON_BYTES)
        .read_to_vec()
        .map_err(|e| HttpError::BadAnswer {
            what: what.to_owned(),
            detail: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn urls() {
        assert_eq!(
            check_url("https://meldpunt.example/").unwrap(),
            "https://meldpunt.example"
        );
        assert!(check_url("http://127.0.0.1:8000").is_ok());
        assert!(check_url("http://[::1]:8000").is_ok());
        assert!(check_url("http://abc.onion").is_ok());
        assert!(check_url("http://meldpunt.example").is_err());
        assert!(check_url("http://127.evil.example").is_err());
        assert!(check_url("http://127.0.0.1.evil.example:8000").is_err());
        assert!(check_url("http://127.1.2.3").is_ok());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("https://user:pw@x").is_err());
        assert!(check_url("https://x/?token=1").is_err());
        assert!(check_url("meldpunt.example").is_err());
    }
}
