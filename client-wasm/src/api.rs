//! What the reporter's pages can ask of the crypto module, as safe Rust.
//!
//! Inputs and outputs are bytes and JSON, so the same calls serve the WebAssembly build
//! and its wasm2js translation through one small `extern "C"` layer (`abi.rs`). Keys
//! live in numbered sessions inside the module and are zeroized when a session closes;
//! the page only ever holds the code the reporter typed and the ciphertexts.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use meldpunt_crypto::{
    open_message, open_reporter_note, seal_from_reporter, seal_report, seal_reporter_note,
    AttachmentEncryptor, AttachmentEntry, Category, CodeError, Day, Destination, Direction,
    EncryptedBy, OpenError, Recipient, ReportContent, ReporterKeys, ReporterNote, ReturnCode,
    ThreadSecrets, ThreadState,
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

fn code_error(e: CodeError) -> ApiError {
    let kind = match e {
        CodeError::Typo => "typo",
        CodeError::WrongLength { .. } => "length",
        _ => "character",
    };
    ApiError::new(kind, e.to_string())
}

fn input<T: for<'de> Deserialize<'de>>(json: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(json).map_err(|e| ApiError::new("input", format!("bad request: {e}")))
}

fn day(text: &str) -> Result<Day, ApiError> {
    Day::parse(text).ok_or_else(|| ApiError::new("input", "bad date: expected YYYY-MM-DD"))
}

/// One reporter's keys, open while a page works with them.
struct Session {
    code: ReturnCode,
    keys: ReporterKeys,
    /// Set by `thread_read`: where the next reply goes and what it extends.
    thread: Option<(ThreadState, Vec<Recipient>)>,
}

/// The module's state: open sessions and attachments being encrypted.
#[derive(Default)]
pub struct State {
    next: u32,
    sessions: HashMap<u32, Session>,
    attachments: HashMap<u32, AttachmentEncryptor>,
}

impl State {
    fn handle(&mut self) -> u32 {
        self.next = self.next.wrapping_add(1).max(1);
        self.next
    }

    fn session(&mut self, handle: u32) -> Result<&mut Session, ApiError> {
        self.sessions.get_mut(&handle).ok_or_else(|| {
            ApiError::new(
                "session",
                "this session has been closed; enter the code again",
            )
        })
    }

    /// A new return code, grouped for display.
    pub fn code_generate(&mut self) -> Output {
        let code = ReturnCode::generate(&mut rand::rngs::OsRng);
        let handle = self.handle();
        let shown = code.to_grouped_string();
        let keys = ReporterKeys::derive_from(&code);
        let meta = session_meta(handle, &keys, Some(shown.as_str()));
        self.sessions.insert(
            handle,
            Session {
                code,
                keys,
                thread: None,
            },
        );
        Output::meta(meta)
    }

    /// Opens a session from a typed code; a typo is reported as a typo.
    pub fn session_open(&mut self, typed: &[u8]) -> Result<Output, ApiError> {
        let typed = std::str::from_utf8(typed)
            .map_err(|_| code_error(CodeError::InvalidCharacter { position: 1 }))?;
        let code = ReturnCode::parse(typed).map_err(code_error)?;
        let keys = ReporterKeys::derive_from(&code);
        let handle = self.handle();
        let meta = session_meta(handle, &keys, None);
        self.sessions.insert(
            handle,
            Session {
                code,
                keys,
                thread: None,
            },
        );
        Ok(Output::meta(meta))
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
        let session = self.session(handle)?;
        if content.mentions(&session.code) {
            return Err(ApiError::new(
                "contains_code",
                "your report contains your return code; remove it (the bureau must never see the code)",
            ));
        }
        let report = seal_report(&content, &session.keys, &destination)
            .map_err(|e| ApiError::new("encrypt", e.to_string()))?;
        let note = ReporterNote::for_report(&destination, &report, content.date);
        let note_ct = seal_reporter_note(&note, &session.keys)
            .map_err(|e| ApiError::new("encrypt", e.to_string()))?;
        Ok(Output {
            meta: json!({
                "note": B64.encode(&note_ct),
                "report_sha256": note.report_sha256,
            }),
            bytes: report,
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
    /// Input: `{"recipients":[…], "size": n}`. Meta: `{"attachment": handle}`.
    pub fn attachment_begin(&mut self, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Req {
            recipients: Vec<String>,
            size: u64,
        }
        let req: Req = input(json)?;
        let destination = Destination::new("attachment", &req.recipients)
            .map_err(|e| ApiError::new("input", e.to_string()))?;
        let enc = AttachmentEncryptor::new(destination.recipients(), req.size)
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

    /// Finishes an attachment. Meta: `{"ciphertext_sha256": hex, "ciphertext_size": n}`.
    pub fn attachment_finish(&mut self, handle: u32) -> Result<Output, ApiError> {
        let enc = self
            .attachments
            .remove(&handle)
            .ok_or_else(|| ApiError::new("session", "no such attachment in progress"))?;
        let (bytes, digest) = enc
            .finish()
            .map_err(|e| ApiError::new("encrypt", e.to_string()))?;
        Ok(Output {
            bytes,
            meta: json!({
                "ciphertext_sha256": hex::encode(digest.sha256),
                "ciphertext_size": digest.size,
            }),
        })
    }

    /// Decrypts and verifies the thread as the server hands it over. Input:
    /// `{"note": base64 | null, "report_sha256": hex, "messages":[{"direction":
    /// "to_reporter"|"from_reporter","ciphertext": base64}]}`.
    /// Every message comes back marked verified or not; an unverified one never shows
    /// as the bureau's words. Remembers where the next reply goes: the recipients in the
    /// signed note to self, or those the latest verified bureau message names. Without
    /// either (the note was never stored), replying waits for a bureau message.
    pub fn thread_read(&mut self, handle: u32, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Item {
            direction: String,
            ciphertext: String,
        }
        #[derive(Deserialize)]
        struct Req {
            note: Option<String>,
            report_sha256: String,
            messages: Vec<Item>,
        }
        let req: Req = input(json)?;
        let session = self.session(handle)?;
        // Whatever happens below, never reply on the state of an earlier read.
        session.thread = None;
        let note = match &req.note {
            None => None,
            Some(b64) => {
                let note_ct = B64
                    .decode(b64)
                    .map_err(|_| ApiError::new("input", "the note is not base64"))?;
                Some(open_reporter_note(&note_ct, &session.keys).map_err(|e| {
                    ApiError::new(
                        "thread",
                        format!("the record of where your report went could not be verified: {e}"),
                    )
                })?)
            }
        };
        // The note's hash is signed; the server's is checked by the chain (the first
        // bureau message names the report it follows).
        let report_sha256 = match &note {
            Some(n) => n
                .report_sha256()
                .map_err(|e| ApiError::new("thread", e.to_string()))?,
            None => {
                let mut out = [0u8; 32];
                hex::decode_to_slice(&req.report_sha256, &mut out)
                    .map_err(|_| ApiError::new("input", "bad report hash"))?;
                out
            }
        };
        if note.is_some() && hex::encode(report_sha256) != req.report_sha256.to_lowercase() {
            return Err(ApiError::new(
                "thread",
                "the server names another report than the one you sent",
            ));
        }
        let mut reply_to = match &note {
            Some(n) => n
                .parsed_recipients()
                .map_err(|e| ApiError::new("thread", e.to_string()))?,
            None => Vec::new(),
        };
        let thread = ThreadSecrets::from_reporter_keys(&session.keys);
        let mut state = ThreadState::new(report_sha256);
        let mut shown = Vec::new();
        let mut broken = false;
        for item in &req.messages {
            let ct = B64
                .decode(&item.ciphertext)
                .map_err(|_| ApiError::new("input", "a message is not base64"))?;
            // The server's direction label is not trusted: try to open every message, and
            // take one as your own only if it is not addressed to you (your messages are
            // encrypted to the bureau only, PROTOCOL.md §8.4).
            let opened = open_message(&ct, &[&session.keys.identity()], &thread);
            if item.direction == "from_reporter"
                && matches!(
                    opened,
                    Err(OpenError::Decrypt(
                        meldpunt_crypto::agefile::DecryptError::NotARecipient
                    ))
                )
            {
                if !broken && state.skip_own(&ct).is_err() {
                    broken = true;
                    shown.push(json!({ "direction": "from_reporter", "verified": false,
                                       "error": "a copy of an earlier message" }));
                    continue;
                }
                shown.push(json!({ "direction": "from_reporter", "verified": null }));
                continue;
            }
            let verdict = if broken {
                Err("an earlier message failed verification, so the order after it cannot be trusted".to_owned())
            } else {
                match opened {
                    Ok(m) if m.direction != Direction::ToReporter => {
                        Err(OpenError::WrongKind.to_string())
                    }
                    Ok(m) => match state.accept(&ct, &m) {
                        Ok(()) => Ok(m),
                        Err(e) => Err(e.to_string()),
                    },
                    Err(e) => Err(e.to_string()),
                }
            };
            match verdict {
                Ok(m) => {
                    if !m.reply_to.is_empty() {
                        reply_to = m.reply_to.clone();
                    }
                    shown.push(json!({
                        "direction": "to_reporter",
                        "verified": true,
                        "seq": m.seq,
                        "date": m.date,
                        "text": m.text,
                        "status": m.status,
                        "acknowledges": m.ack,
                    }));
                }
                Err(reason) => {
                    broken = true;
                    shown.push(json!({
                        "direction": "to_reporter",
                        "verified": false,
                        "error": reason,
                    }));
                }
            }
        }
        let can_reply = !broken && !reply_to.is_empty();
        let meta = json!({
            "destination": note.as_ref().map(|n| n.destination.clone()),
            "sent": note.as_ref().map(|n| n.date),
            "messages": shown,
            "head": hex::encode(state.head()),
            "can_reply": can_reply,
            "acknowledged_from_you": state.acknowledged(Direction::FromReporter),
            "sent_by_you": state.count(Direction::FromReporter),
        });
        session.thread = can_reply.then_some((state, reply_to));
        Ok(Output::meta(meta))
    }

    /// Seals a reply after `thread_read`. Input: `{"text": …, "date": "YYYY-MM-DD"}`.
    /// Output bytes: the age file; meta: `{"extends": head hex}`. Refuses a text that
    /// contains the return code.
    pub fn reply_seal(&mut self, handle: u32, json: &[u8]) -> Result<Output, ApiError> {
        #[derive(Deserialize)]
        struct Req {
            text: String,
            date: String,
        }
        let req: Req = input(json)?;
        let date = day(&req.date)?;
        let text = Zeroizing::new(req.text);
        let session = self.session(handle)?;
        let Some((state, reply_to)) = &session.thread else {
            return Err(ApiError::new("thread", "read the thread before replying"));
        };
        let draft = state.draft(Direction::FromReporter, date, text);
        let extends = hex::encode(state.head());
        let ct = seal_from_reporter(&draft, &session.keys, &session.code, reply_to).map_err(
            |e| match e {
                meldpunt_crypto::SealError::ContainsReturnCode => {
                    ApiError::new("contains_code", e.to_string())
                }
                other => ApiError::new("encrypt", other.to_string()),
            },
        )?;
        Ok(Output {
            bytes: ct,
            meta: json!({ "extends": extends }),
        })
    }
}

fn session_meta(handle: u32, keys: &ReporterKeys, shown_code: Option<&str>) -> Value {
    #[derive(Serialize)]
    struct Meta<'a> {
        session: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<&'a str>,
        mailbox: &'a str,
    }
    let credential = keys.credential().to_header_value();
    serde_json::to_value(Meta {
        session: handle,
        code: shown_code,
        mailbox: credential.as_str(),
    })
    .expect("plain struct serializes")
}
