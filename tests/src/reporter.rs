//! A reporter who files a case through the API exactly as the browser does: documents
//! first, then the report, then the note to self.

use meldpunt_crypto::{
    encrypt_attachment, seal_report, seal_reporter_note, seal_to_reporter, AttachmentEntry,
    Category, Day, Direction, EncryptedBy, ReportContent, ReporterKeys, ReporterNote, ReturnCode,
    ThreadKey, ThreadSecrets, ThreadState,
};
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::{agent, json, Site};

/// What a filed case gives back.
pub struct Filed {
    /// The case number on the receipt.
    pub case: String,
    /// The report's age file, as sent.
    pub report: Vec<u8>,
    /// The documents' age files, as sent.
    pub attachments: Vec<Vec<u8>>,
}

/// A reporter with a fresh return code.
pub struct ApiReporter {
    /// The return code.
    pub code: ReturnCode,
    /// What the code derives.
    pub keys: ReporterKeys,
    credential: Zeroizing<String>,
}

impl Default for ApiReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiReporter {
    /// A new reporter.
    pub fn new() -> Self {
        let code = ReturnCode::generate(&mut OsRng);
        let keys = ReporterKeys::derive_from(&code);
        let credential = keys.credential().to_header_value();
        Self {
            code,
            keys,
            credential,
        }
    }

    /// The `Meldpunt-Mailbox` header value.
    pub fn credential(&self) -> &str {
        &self.credential
    }

    /// Files a report to the site's bureau with these fields and documents
    /// (`(file name, contents)`), as the browser does; asserts every step succeeds.
    pub fn file(
        &self,
        site: &Site,
        description: &str,
        contact: Option<&str>,
        documents: &[(&str, &[u8])],
    ) -> Filed {
        let a = agent();
        let cred = self.credential();
        let resp = a
            .post(&site.url("/api/v1/uploads"))
            .header("Meldpunt-Mailbox", cred)
            .send_empty()
            .expect("uploads");
        assert_eq!(resp.status(), 200);
        let mut attachments = Vec::new();
        let mut sent = Vec::new();
        for (n, (name, bytes)) in documents.iter().enumerate() {
            let mut ct = Vec::new();
            let digest = encrypt_attachment(
                site.bureau.recipients(),
                *bytes,
                bytes.len() as u64,
                &mut ct,
            )
            .expect("encrypts");
            let resp = a
                .put(&site.url(&format!("/api/v1/uploads/{n}")))
                .header("Meldpunt-Mailbox", cred)
                .header("Meldpunt-Offset", "0")
                .send(&ct[..])
                .expect("upload");
            assert_eq!(resp.status(), 200);
            let resp = a
                .post(&site.url(&format!("/api/v1/uploads/{n}/finish")))
                .header("Meldpunt-Mailbox", cred)
                .send_empty()
                .expect("finish");
            assert_eq!(json(resp)["sha256"], hex::encode(digest.sha256));
            attachments.push(AttachmentEntry::new(
                (*name).to_owned(),
                bytes.len() as u64,
                &digest,
            ));
            sent.push(ct);
        }
        let today = Day::today();
        let content = ReportContent {
            category: Category::Fraud,
            concerning: "the head of purchasing".into(),
            description: description.into(),
            when_where: "this year, head office".into(),
            contact: contact.map(str::to_owned),
            attachments,
            date: today,
            encrypted_by: EncryptedBy::Browser,
        };
        let report = seal_report(&content, &self.keys, &site.bureau).expect("seals");
        let resp = a
            .post(&site.url("/api/v1/reports"))
            .header("Meldpunt-Mailbox", cred)
            .header("Meldpunt-Destination", "bureau")
            .send(&report[..])
            .expect("report");
        assert_eq!(resp.status(), 201);
        let case = json(resp)["case"]
            .as_str()
            .expect("a case number")
            .to_owned();
        let note = seal_reporter_note(
            &ReporterNote::for_report(&site.bureau, &report, today),
            &self.keys,
        )
        .expect("note");
        let resp = a
            .put(&site.url("/api/v1/note"))
            .header("Meldpunt-Mailbox", cred)
            .send(&note[..])
            .expect("note");
        assert_eq!(resp.status(), 200);
        Filed {
            case,
            report,
            attachments: sent,
        }
    }

    /// The thread as `GET /api/v1/thread` returns it.
    pub fn thread(&self, site: &Site) -> serde_json::Value {
        let resp = agent()
            .get(&site.url("/api/v1/thread"))
            .header("Meldpunt-Mailbox", self.credential())
            .call()
            .expect("thread");
        json(resp)
    }
}

/// A breached server writes `text` into `case`'s thread as if from the bureau, without
/// the thread key (it knows the reporter's public keys, not the key the MAC needs), and
/// with a token of its own; the server takes it (201), so only the reader can refuse it.
pub fn server_forges_bureau_message(
    site: &Site,
    token: &str,
    code: &ReturnCode,
    case: &str,
    text: &str,
) {
    let keys = ReporterKeys::derive_from(code);
    let mut fake = ThreadSecrets::from_reporter_keys(&keys);
    fake.thread_key = ThreadKey::from_bytes([9u8; 32]);
    let cases = json(
        agent()
            .get(&site.url("/api/v1/cases"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("the case list"),
    );
    let head = cases
        .as_array()
        .and_then(|all| all.iter().find(|c| c["case"] == case))
        .and_then(|c| c["head"].as_str())
        .expect("the case and its thread head")
        .to_owned();
    let mut prev = [0u8; 32];
    hex::decode_to_slice(&head, &mut prev).expect("a hex head");
    let mut draft = ThreadState::new(prev).draft(
        Direction::ToReporter,
        Day::today(),
        Zeroizing::new(text.into()),
    );
    draft.prev = prev;
    let forged = seal_to_reporter(&draft, &fake, &[site.bureau_key.recipient()]).expect("sealed");
    let resp = agent()
        .post(&site.url(&format!("/api/v1/cases/{case}/messages")))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Meldpunt-Extends", &head)
        .send(&forged[..])
        .expect("the server answers");
    assert_eq!(resp.status(), 201, "the server takes the forged message");
}
