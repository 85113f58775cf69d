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
}

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
    text_limit: usize,
    file_limit: usize,
}

impl<'r> FormReader<'r> {
    /// Starts reading `data` as a multipart form of at most `body_limit` bytes in all,
    /// each text field at most `text_limit` and each file at most `file_limit` bytes.
    pub fn new(
        content_type: Option<&ContentType>,
        data: Data<'r>,
        body_limit: u64,
        text_limit: usize,
        file_limit: usize,
    ) -> Result<Self, FormError> {
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
        // One byte over the limit tells "too large" apart from "exactly the limit".
        let reader = data.open(ByteUnit::from(body_limit.saturating_add(1)));
        let chunks = stream::unfold((reader, 0u64), move |(mut reader, seen)| {
            let flag = flag.clone();
            async move {
                // Each chunk owns a wiping buffer: when multer has copied it and lets
                // go, the plaintext in it is wiped.
                let mut buf = Zeroizing::new(vec![0u8; READ_CHUNK]);
                match reader.read(&mut buf).await {
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
            text_limit,
            file_limit,
        })
    }

    fn error(&self, e: multer::Error) -> FormError {
        if self.over.load(Ordering::SeqCst) {
            return FormError::TooLarge;
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

/// Wipes a chunk multer handed over, when no one else holds it (its buffer may still be
/// shared with multer's own, which is freed without wiping: see the module docs).
fn wipe(chunk: Bytes) {
    if let Ok(mut owned) = chunk.try_into_mut() {
        zeroize::Zeroize::zeroize(&mut owned[..]);
    }
}
