//! Reading a `multipart/form-data` body with `multer`, part by part, straight from the
//! connection into wiping buffers. Rocket's `Form`/`TempFile` would write documents to
//! the temp directory; nothing here touches the disk.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use multer::bytes::Bytes;
use multer::{Constraints, Multipart, SizeLimit};
use rocket::data::{ByteUnit, Data};
use rocket::futures::stream;
use rocket::http::ContentType;
use rocket::tokio::io::AsyncReadExt;
use zeroize::Zeroizing;

use super::secret::SecretBuf;

/// How much of the body is read from the connection at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Why a form could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum FormError {
    /// The body, or one part, is over its limit.
    TooLarge,
    /// Not a multipart form, cut off, or not UTF-8 where text belongs.
    Malformed,
    /// Nothing arrived for [`IDLE`]: the connection is dropped.
    TooSlow,
    /// The memory for no-JavaScript forms is taken by others right now.
    Busy,
}

/// The longest wait for the next piece of a form before the connection is dropped, so a
/// client that trickles a body cannot hold the server's memory or attention for ever.
pub const IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// One part of the form.
pub enum Part {
    /// A text field.
    Text {
        /// The field's name.
        name: String,
        /// Its value.
        value: Zeroizing<String>,
    },
    /// A file field (one document).
    File {
        /// The field's name.
        name: String,
        /// The file name the browser gave (plaintext too: the reporter's own words).
        file_name: Zeroizing<String>,
        /// The document.
        bytes: SecretBuf,
    },
}

/// A multipart body being read.
pub struct FormReader<'r> {
    multipart: Multipart<'r>,
    over: Arc<AtomicBool>,
    slow: Arc<AtomicBool>,
    held: Held,
    text_limit: usize,
    file_limit: usize,
}

impl<'r> FormReader<'r> {
    /// Starts reading `data` as a multipart form of at most `body_limit` bytes in all,
    /// each text field at most `text_limit` and each file at most `file_limit` bytes.
    pub fn new(
        content_type: Option<&ContentType>,
        data: Data<'r>,
        limits: (u64, usize, usize),
        memory: &Arc<Memory>,
    ) -> Result<Self, FormError> {
        let (body_limit, text_limit, file_limit) = limits;
        let boundary = content_type
            .filter(|ct| ct.is_form_data())
            .and_then(|ct| {
                ct.params()
                    .find(|(k, _)| k.as_str().eq_ignore_ascii_case("boundary"))
            })
            .map(|(_, v)| v.to_string())
            .ok_or(FormError::Malformed)?;
        let over = Arc::new(AtomicBool::new(false));
        let flag = over.clone();
        let slow = Arc::new(AtomicBool::new(false));
        let slow_flag = slow.clone();
        // One byte over the limit tells "too large" apart from "exactly the limit".
        let reader = data.open(ByteUnit::from(body_limit.saturating_add(1)));
        let chunks = stream::unfold((reader, 0u64), move |(mut reader, seen)| {
            let flag = flag.clone();
            let slow_flag = slow_flag.clone();
            async move {
                // Each chunk owns a wiping buffer: when multer has copied it and lets
                // go, the plaintext in it is wiped.
                let mut buf = Zeroizing::new(vec![0u8; READ_CHUNK]);
                let read = match rocket::tokio::time::timeout(IDLE, reader.read(&mut buf)).await {
                    Ok(read) => read,
                    Err(_) => {
                        slow_flag.store(true, Ordering::SeqCst);
                        Err(std::io::Error::other("the form stopped arriving"))
                    }
                };
                match read {
                    Ok(0) => None,
                    Ok(n) => {
                        let seen = seen + n as u64;
                        if seen > body_limit {
                            flag.store(true, Ordering::SeqCst);
                            return Some((
                                Err(std::io::Error::other("the form is too large")),
                                (reader, seen),
                            ));
                        }
                        buf.truncate(n);
                        Some((Ok(Bytes::from_owner(buf)), (reader, seen)))
                    }
                    Err(e) => Some((Err(e), (reader, seen))),
                }
            }
        });
        let constraints = Constraints::new().size_limit(SizeLimit::new().whole_stream(body_limit));
        Ok(Self {
            multipart: Multipart::with_constraints(chunks, boundary, constraints),
            over,
            slow,
            held: Held {
                memory: memory.clone(),
                bytes: 0,
            },
            text_limit,
            file_limit,
        })
    }

    fn error(&self, e: multer::Error) -> FormError {
        if self.over.load(Ordering::SeqCst) {
            return FormError::TooLarge;
        }
        if self.slow.load(Ordering::SeqCst) {
            return FormError::TooSlow;
        }
        match e {
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
                FormError::TooLarge
            }
            _ => FormError::Malformed,
        }
    }

    /// The next part, or `None` at the end of the form.
    pub async fn next(&mut self) -> Result<Option<Part>, FormError> {
        let mut field = match self.multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.error(e)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(|f| Zeroizing::new(f.to_owned()));
        let limit = if file_name.is_some() {
            self.file_limit
        } else {
            self.text_limit
        };
        let mut bytes = SecretBuf::with_capacity(limit.min(READ_CHUNK));
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > limit {
                        return Err(FormError::TooLarge);
                    }
                    if !self.held.add(chunk.len() as u64) {
                        return Err(FormError::Busy);
                    }
                    bytes.extend(&chunk);
                    wipe(chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    drop(field);
                    return Err(self.error(e));
                }
            }
        }
        Ok(Some(match file_name {
            Some(file_name) => Part::File {
                name,
                file_name,
                bytes,
            },
            None => Part::Text {
                name,
                value: bytes.into_text().ok_or(FormError::Malformed)?,
            },
        }))
    }
}

impl FormReader<'_> {
    /// Gives back the memory of `bytes` that are no longer held (a document, once it is
    /// encrypted and wiped).
    pub fn release(&mut self, bytes: u64) {
        self.held.release(bytes);
    }
}

/// The memory all no-JavaScript forms may hold at once: their documents stay in memory
/// until they are encrypted. Accounted by what each request really holds, so clients
/// that send slowly (and hold little) cannot keep others out.
pub struct Memory {
    used: std::sync::Mutex<u64>,
    limit: u64,
}

impl Memory {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            used: std::sync::Mutex::new(0),
            limit,
        }
    }

    /// Bytes held now (tests).
    pub fn used(&self) -> u64 {
        *self.used.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What one form holds of the budget; all of it is given back when the form is dropped.
struct Held {
    memory: Arc<Memory>,
    bytes: u64,
}

impl Held {
    fn add(&mut self, n: u64) -> bool {
        let mut used = self.memory.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.saturating_add(n) > self.memory.limit {
            return false;
        }
        *used += n;
        self.bytes += n;
        true
    }

    fn release(&mut self, n: u64) {
        let n = n.min(self.bytes);
        let mut used = self.memory.used.lock().unwrap_or_else(|p| p.into_inner());
        *used = used.saturating_sub(n);
        self.bytes -= n;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let n = self.bytes;
        self.release(n);
    }
}

/// Wipes a chunk multer handed over, when no one else holds it (its buffer may still be
/// shared with multer's own, which is freed without wiping: see the module docs).
fn wipe(chunk: Bytes) {
    if let Ok(mut owned) = chunk.try_into_mut() {
        zeroize::Zeroize::zeroize(&mut owned[..]);
    }
}
