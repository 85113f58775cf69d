//! The JSON face of the reporter's operations ([`meldpunt_crypto::reporter`]) for the
//! page's JavaScript: the only place where they meet JSON.
//!
//! Inputs and outputs are bytes and JSON, so the same calls serve the WebAssembly build
//! and its wasm2js translation through one small `extern "C"` layer (`abi.rs`). Keys
//! live in numbered sessions inside the module and are zeroized when a session closes;
//! the page only ever holds the code the reporter typed and the ciphertexts.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::reporter::{
    AnswerError, ReadError, ReportError, Reporter, ServedMessage, ServedThread,
};
use meldpunt_crypto::{
    admission, AttachmentEncryptor, AttachmentEntry, Category, CiphertextDigest, CiphertextHasher,
    CodeError, Day, Destination, Direction, EncryptedBy, Finished, ReportContent,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// What a call gives back: ciphertext bytes (possibly empty) and a JSON description.
pub struct Output {
    /// Ciphertext, when the call makes one.
    pub bytes: Vec<u8>,
    /// JSON for the page.
    pub meta: Value,
}

impl Output {
    fn meta(meta: Value) -> Self {
        Self {
            bytes: Vec::new(),
            meta,
        }
    }
}

/// Why a call failed; `kind` is a stable word the page can branch on.
#[derive(Debug)]
pub struct ApiError {
    /// Stable machine word: `typo`, `length`, `character`, `input`, `session`,
    /// `contains_code`, `encrypt`, `thread`.
    pub kind: &'static str,
    /// A sentence for the reporter.
    pub message: String,
}

impl ApiError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The JSON the page receives.
    pub fn to_json(&self) -> Value {
        json!({ "error": self.kind, "message": self.message })
    }
}

fn digest_meta(digest: CiphertextDigest) -> Value {
    json!({
        "ciphertext_sha256": hex::encode(digest.sha256),
        "ciphertext_size": digest.size,
    })
}

fn code_error(e: CodeError) -> ApiError {
    ApiError::new(e.kind(), e.to_string())
}

fn input<T: for<'de> Deserialize<'de>>(json: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(json).map_err(|e| ApiError::new("input", format!("bad request: {e}")))
}

fn day(text: &str) -> Result<Day, ApiError> {
    Day::parse(text).ok_or_else(|| ApiError::new("input", "bad date: expected YYYY-MM-DD"))
}

/// The module's state: open reporters (by session number), attachments being
/// encrypted, and attachments being hashed beside (in a second instance, on another core).
#[derive(Default)]
pub struct State {
    next: u32,
    sessions: HashMap<u32, Reporter>,
    attachments: HashMap<u32, AttachmentEncryptor>,
    hashes: HashMap<u32, CiphertextHasher>,
}

impl State {
    fn handle(&mut self) -> u32 {
        self.next = self.next.wrapping_add(1).max(1);
        self.next
    }

    fn session(&mut self, handle: u32) -> Result<&mut Reporter, ApiError> {
        self.sessions.get_mut(&handle).ok_or_else(|| {
            ApiError::new(
                "session",
                "this session has been closed; enter the code again",
            )
        })
    }

    fn insert(&mut self, reporter: Reporter, show_code: bool) -> Output {
        let handle = self.handle();
        let shown = show_code.then(|| reporter.code().to_grouped_string());
        let meta = session_meta(handle, &reporter, shown.as_ref().map(|c| c.as_str()));
        self.sessions.insert(handle, reporter);
        Output::meta(meta)
    }

    /// A new return code, grouped for display.
    pub fn code_generate(&mut self) -> Output {
        let reporter = Reporter::generate(&mut rand::rngs::OsRng);
        self.insert(reporter, true)
    }

    /// Opens a session from a typed code; a typo is reported as a typo.
    pub fn session_open(&mut self, typed: &[u8]) -> Result<Output, ApiError> {
        let typed = std::str::from_utf8(typed)
            .map_err(|_| code_error(CodeError::InvalidCharacter { position: 1 }))?;
        let reporter = Reporter::open(typed).map_err(code_error)?;
        Ok(self.insert(reporter, false))
    }

    /// Compares the code the reporter typed back from paper with the session's code.
    /// Meta: `{"groups": [n, …]}`, the groups (from 1) that differ; empty when the two
    /// are the same. A wrong length or character is an error with its own kind, as for
    /// [`State::session_open`]. The page keeps no copy of the code to compare with.
    pub fn code_compare(&mut self, handle: u32, typed: &[u8]) -> Result<Output, ApiError> {
        let typed = std::str::from_utf8(typed)
            .map_err(|_| code_error(CodeError::InvalidCharacter { position: 1 }))?;
        let groups = self
            .session(handle)?
            .code()
            .differing_groups(typed)
            .map_err(code_error)?;
        Ok(Output::meta(json!({ "groups": groups })))
    }

    /// Forgets a session's keys (they zeroize on drop).
    pub fn session_close(&mut self, handle: u32) {
        self.sessions.remove(&handle);
    }

    /// Seals the report and the note to self. Input:
    /// `{"destination":{"name","recipients":[…]}, "content":{…ReportContent…}}`.
    /// Output bytes: the report; meta: `{"note": base64, "report_sha256": hex}`.
    pub fn report_seal(&mut self, handle: u32, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Dest {
            name: String,
            recipients: Vec<String>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Content {
            category: Category,
            concerning: String,
            description: String,
            when_where: String,
            contact: Option<String>,
            attachments: Vec<AttachmentEntry>,
            date: Day,
        }
        #[derive(Deserialize)]
        struct Req {
            destination: Dest,
            content: Content,
        }
        let req: Req = input(json)?;
        let destination = Destination::new(&req.destination.name, &req.destination.recipients)
            .map_err(|e| ApiError::new("input", e.to_string()))?;
        let c = req.content;
        let content = ReportContent {
            category: c.category,
            concerning: c.concerning,
            description: c.description,
            when_where: c.when_where,
            contact: c.contact.filter(|s| !s.trim().is_empty()),
            attachments: c.attachments,
            date: c.date,
            encrypted_by: EncryptedBy::Browser,
        };
        let sealed = self
            .session(handle)?
            .seal_report(&destination, &content)
            .map_err(|e| match e {
                ReportError::ContainsReturnCode => ApiError::new("contains_code", e.to_string()),
                other => ApiError::new("encrypt", other.to_string()),
            })?;
        Ok(Output {
            meta: json!({
                "note": B64.encode(&sealed.note),
                "report_sha256": hex::encode(sealed.report_sha256),
            }),
            bytes: sealed.report,
        })
    }

    /// The fingerprint of the recipients the page is about to encrypt to, computed here
    /// rather than taken from the server. Input: `{"recipients":[…]}`.
    pub fn fingerprint(&mut self, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Req {
            recipients: Vec<String>,
        }
        let req: Req = input(json)?;
        let destination = Destination::new("fingerprint", &req.recipients)
            .map_err(|e| ApiError::new("input", e.to_string()))?;
        Ok(Output::meta(
            json!({ "fingerprint": destination.fingerprint() }),
        ))
    }

    /// Starts encrypting an attachment of `size` bytes to `recipients`.
    /// Input: `{"recipients":[…], "size": n, "digest_beside"?: bool}`. Meta:
    /// `{"attachment": handle}`. With `digest_beside`, the page hashes the ciphertext
    /// itself ([`hash_begin`](Self::hash_begin), in another instance) and finishing gives
    /// only the size.
    pub fn attachment_begin(&mut self, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Req {
            recipients: Vec<String>,
            size: u64,
            #[serde(default)]
            digest_beside: bool,
        }
        let req: Req = input(json)?;
        let destination = Destination::new("attachment", &req.recipients)
            .map_err(|e| ApiError::new("input", e.to_string()))?;
        let start = if req.digest_beside {
            AttachmentEncryptor::digest_beside
        } else {
            AttachmentEncryptor::new
        };
        let enc = start(destination.recipients(), req.size)
            .map_err(|e| ApiError::new("encrypt", e.to_string()))?;
        let handle = self.handle();
        self.attachments.insert(handle, enc);
        Ok(Output::meta(json!({ "attachment": handle })))
    }

    /// Encrypts the next slice of an attachment; the bytes are ciphertext to upload.
    pub fn attachment_push(&mut self, handle: u32, plaintext: &[u8]) -> Result<Output, ApiError> {
        let enc = self
            .attachments
            .get_mut(&handle)
            .ok_or_else(|| ApiError::new("session", "no such attachment in progress"))?;
        match enc.push(plaintext) {
            Ok(bytes) => Ok(Output {
                bytes,
                meta: Value::Null,
            }),
            Err(e) => {
                self.attachments.remove(&handle);
                Err(ApiError::new("encrypt", e.to_string()))
            }
        }
    }

    /// Writes the next at most 1 MiB of the attachment's zero padding; meta
    /// `{"done": bool}`. Call until done, then finish.
    pub fn attachment_pad(&mut self, handle: u32) -> Result<Output, ApiError> {
        let enc = self
            .attachments
            .get_mut(&handle)
            .ok_or_else(|| ApiError::new("session", "no such attachment in progress"))?;
        let (bytes, done) = enc
            .pad(1024 * 1024)
            .map_err(|e| ApiError::new("encrypt", e.to_string()))?;
        Ok(Output {
            bytes,
            meta: json!({ "done": done }),
        })
    }

    /// Finishes an attachment. Meta: `{"ciphertext_sha256": hex, "ciphertext_size": n}`,
    /// without the hash when it was begun with `digest_beside`.
    pub fn attachment_finish(&mut self, handle: u32) -> Result<Output, ApiError> {
        let enc = self
            .attachments
            .remove(&handle)
            .ok_or_else(|| ApiError::new("session", "no such attachment in progress"))?;
        let (bytes, finished) = enc
            .finish()
            .map_err(|e| ApiError::new("encrypt", e.to_string()))?;
        let meta = match finished {
            Finished::Digest(digest) => digest_meta(digest),
            Finished::Size(size) => json!({ "ciphertext_size": size }),
            _ => return Err(ApiError::new("encrypt", "unexpected end of an attachment")),
        };
        Ok(Output { bytes, meta })
    }

    /// Starts hashing an attachment's ciphertext beside its encryption. Meta:
    /// `{"hash": handle}`.
    pub fn hash_begin(&mut self) -> Output {
        let handle = self.handle();
        self.hashes.insert(handle, CiphertextHasher::new());
        Output::meta(json!({ "hash": handle }))
    }

    /// Takes the attachment's next ciphertext bytes, in the order the encryption gave them.
    pub fn hash_push(&mut self, handle: u32, ciphertext: &[u8]) -> Result<Output, ApiError> {
        self.hashes
            .get_mut(&handle)
            .ok_or_else(|| ApiError::new("session", "no such hash in progress"))?
            .update(ciphertext);
        Ok(Output::meta(Value::Null))
    }

    /// The digest for the manifest. Meta: `{"ciphertext_sha256": hex, "ciphertext_size": n}`.
    pub fn hash_finish(&mut self, handle: u32) -> Result<Output, ApiError> {
        let hasher = self
            .hashes
            .remove(&handle)
            .ok_or_else(|| ApiError::new("session", "no such hash in progress"))?;
        Ok(Output::meta(digest_meta(hasher.finish())))
    }

    /// Decrypts and verifies the thread as the server hands it over
    /// ([`Reporter::read_thread`]). Input: `{"note": base64 | null, "report_sha256": hex,
    /// "messages":[{"direction": "to_reporter"|"from_reporter","ciphertext": base64,
    /// "day"?: "YYYY-MM-DD"}]}`. Meta: the thread as the pages show it (see
    /// `ReporterThread`'s `Serialize`).
    pub fn thread_read(&mut self, handle: u32, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Item {
            direction: Direction,
            ciphertext: String,
            #[serde(default)]
            day: Option<Day>,
        }
        #[derive(Deserialize)]
        struct Req {
            note: Option<String>,
            report_sha256: String,
            messages: Vec<Item>,
        }
        let req: Req = input(json)?;
        let note = req
            .note
            .as_deref()
            .map(|b64| B64.decode(b64))
            .transpose()
            .map_err(|_| ApiError::new("input", "the note is not base64"))?;
        let ciphertexts = req
            .messages
            .iter()
            .map(|m| B64.decode(&m.ciphertext))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::new("input", "a message is not base64"))?;
        let served = ServedThread {
            note: note.as_deref(),
            report_sha256: &req.report_sha256,
            messages: req
                .messages
                .iter()
                .zip(&ciphertexts)
                .map(|(m, ct)| ServedMessage {
                    labelled: m.direction,
                    day: m.day,
                    ciphertext: ct,
                })
                .collect(),
        };
        let thread = self
            .session(handle)?
            .read_thread(&served)
            .map_err(|e| match e {
                ReadError::BadReportHash => ApiError::new("input", e.to_string()),
                other => ApiError::new("thread", other.to_string()),
            })?;
        let meta =
            serde_json::to_value(&thread).map_err(|e| ApiError::new("thread", e.to_string()))?;
        Ok(Output::meta(meta))
    }

    /// Seals a reply after `thread_read` ([`Reporter::seal_answer`]). Input:
    /// `{"text": …, "date": "YYYY-MM-DD"}`. Output bytes: the age file; meta:
    /// `{"extends": head hex}`. Refuses a text that contains the return code.
    pub fn reply_seal(&mut self, handle: u32, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Req {
            text: String,
            date: String,
        }
        let req: Req = input(json)?;
        let date = day(&req.date)?;
        let text = Zeroizing::new(req.text);
        let answer = self
            .session(handle)?
            .seal_answer(text, date)
            .map_err(|e| match e {
                AnswerError::ThreadNotRead => ApiError::new("thread", e.to_string()),
                AnswerError::ContainsReturnCode => ApiError::new("contains_code", e.to_string()),
                other => ApiError::new("encrypt", other.to_string()),
            })?;
        Ok(Output {
            bytes: answer.ciphertext,
            meta: json!({ "extends": hex::encode(answer.extends) }),
        })
    }

    /// The note to self with the answer just posted recorded in it (PROTOCOL.md §8.5),
    /// to store with `PUT /note`. Input: the answer's age file. Output bytes: the note
    /// (empty if no note was read: there is nothing to update).
    pub fn note_after(
        &mut self,
        handle: u32,
        answer: &[u8],
        date: &str,
    ) -> Result<Output, ApiError> {
        let date = day(date)?;
        let note = match self.session(handle)?.note_after(answer, date) {
            None => Vec::new(),
            Some(sealed) => sealed.map_err(|e| ApiError::new("encrypt", e.to_string()))?,
        };
        Ok(Output {
            bytes: note,
            meta: Value::Null,
        })
    }

    /// Tries to solve an admission puzzle (PROTOCOL.md §13): nonces `start..start+tries`.
    /// Input: `{"challenge": base64url, "difficulty": k, "start": n, "tries": m}`. Meta:
    /// `{"nonce": hex | null}` (null: not among these; call again with the next start).
    pub fn admission_solve(&mut self, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Req {
            challenge: String,
            difficulty: u8,
            start: u64,
            tries: u64,
        }
        let req: Req = input(json)?;
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&req.challenge)
            .map_err(|_| ApiError::new("input", "the challenge is not base64url"))?;
        let nonce = admission::solve(&challenge, req.difficulty, req.start, req.tries.min(4096));
        Ok(Output::meta(
            json!({ "nonce": nonce.map(|n| format!("{n:x}")) }),
        ))
    }
}

fn session_meta(handle: u32, reporter: &Reporter, shown_code: Option<&str>) -> Value {
    #[derive(Serialize)]
    struct Meta<'a> {
        session: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<&'a str>,
        mailbox: &'a str,
    }
    let credential = reporter.credential().to_header_value();
    serde_json::to_value(Meta {
        session: handle,
        code: shown_code,
        mailbox: credential.as_str(),
    })
    .expect("plain struct serializes")
}
