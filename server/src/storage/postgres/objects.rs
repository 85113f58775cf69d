//! Attachment ciphertext in an S3-compatible object store, one object per attachment,
//! named by its random [`FileId`] (never the case number or anything about the case).

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest as _, Sha256};

use crate::config::Settings;
use crate::ids::FileId;
use crate::storage::records::Digest;
use crate::storage::StoreError;

/// The bucket attachments are kept in.
#[derive(Clone)]
pub struct Objects {
    store: Arc<AmazonS3>,
}

fn path(id: &FileId) -> Path {
    Path::from(id.as_str())
}

fn need<'a>(value: &'a Option<String>, key: &str) -> Result<&'a str, StoreError> {
    value.as_deref().ok_or_else(|| {
        StoreError::Db(format!(
            "storage = \"postgres\" needs {key} (docs/CONFIG.md)"
        ))
    })
}

impl Objects {
    /// The bucket the settings name (no request is made yet).
    pub fn open(settings: &Settings) -> Result<Self, StoreError> {
        let store = AmazonS3Builder::new()
            .with_endpoint(need(&settings.s3_endpoint, "s3_endpoint")?)
            .with_bucket_name(need(&settings.s3_bucket, "s3_bucket")?)
            .with_access_key_id(need(&settings.s3_access_key_id, "s3_access_key_id")?)
            .with_secret_access_key(need(
                &settings.s3_secret_access_key,
                "s3_secret_access_key",
            )?)
            .with_region(settings.s3_region.clone())
            .with_allow_http(settings.s3_allow_http)
            // Path-style requests (http://host/bucket/key), which every S3-compatible
            // server understands.
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|e| StoreError::Db(format!("the object store settings: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// Stores a whole object.
    pub async fn put(&self, id: &FileId, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.store.put(&path(id), PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// Starts a multipart upload; returns its id.
    pub async fn create_multipart(&self, id: &FileId) -> Result<String, StoreError> {
        Ok(self.store.create_multipart(&path(id)).await?)
    }

    /// Stores part `idx` (0-based) of a multipart upload; returns its tag.
    pub async fn put_part(
        &self,
        id: &FileId,
        upload: &str,
        idx: usize,
        bytes: Vec<u8>,
    ) -> Result<String, StoreError> {
        let part = self
            .store
            .put_part(&path(id), &upload.to_owned(), idx, PutPayload::from(bytes))
            .await?;
        Ok(part.content_id)
    }

    /// Completes a multipart upload from its parts' tags, in order.
    pub async fn complete(
        &self,
        id: &FileId,
        upload: &str,
        parts: Vec<String>,
    ) -> Result<(), StoreError> {
        let parts = parts
            .into_iter()
            .map(|content_id| PartId { content_id })
            .collect();
        self.store
            .complete_multipart(&path(id), &upload.to_owned(), parts)
            .await?;
        Ok(())
    }

    /// Aborts a multipart upload (best effort: one already gone is fine).
    pub async fn abort(&self, id: &FileId, upload: &str) {
        let _ = self
            .store
            .abort_multipart(&path(id), &upload.to_owned())
            .await;
    }

    /// Removes an object; one already gone is fine.
    pub async fn delete(&self, id: &FileId) -> Result<(), StoreError> {
        match self.store.delete(&path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The object's size, if it exists.
    pub async fn size(&self, id: &FileId) -> Result<Option<u64>, StoreError> {
        match self.store.head(&path(id)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Hashes the object as the store gives it back, in bounded memory.
    pub async fn digest(&self, id: &FileId) -> Result<Digest, StoreError> {
        let mut stream = self.store.get(&path(id)).await?.into_stream();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(piece) = stream.next().await {
            let piece = piece?;
            hasher.update(&piece);
            size += piece.len() as u64;
        }
        Ok(Digest {
            sha256: hex::encode(hasher.finalize()),
            size,
        })
    }

    /// The whole object (for small ones, and for migration).
    pub async fn stream(
        &self,
        id: &FileId,
    ) -> Result<BoxStream<'static, object_store::Result<Bytes>>, StoreError> {
        Ok(self.store.get(&path(id)).await?.into_stream())
    }

    /// A blocking reader of the first `size` bytes of the object, for a blocking
    /// thread of the server's runtime (the case download).
    pub fn reader(&self, id: &FileId, size: u64) -> Result<Box<dyn Read + Send>, StoreError> {
        let handle = rocket::tokio::runtime::Handle::try_current()
            .map_err(|e| StoreError::Io(io::Error::other(e)))?;
        Ok(Box::new(ObjectReader {
            handle,
            objects: self.clone(),
            id: id.clone(),
            stream: None,
            buf: Bytes::new(),
            left: size,
        }))
    }
}

struct ObjectReader {
    handle: rocket::tokio::runtime::Handle,
    objects: Objects,
    id: FileId,
    stream: Option<BoxStream<'static, object_store::Result<Bytes>>>,
    buf: Bytes,
    left: u64,
}

impl Read for ObjectReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || out.is_empty() {
            return Ok(0);
        }
        while self.buf.is_empty() {
            if self.stream.is_none() {
                let stream = self
                    .handle
                    .block_on(self.objects.stream(&self.id))
                    .map_err(io::Error::other)?;
                self.stream = Some(stream);
            }
            let Some(stream) = self.stream.as_mut() else {
                return Ok(0);
            };
            match self.handle.block_on(stream.next()) {
                Some(Ok(bytes)) => self.buf = bytes,
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the object is shorter than its record",
                    ))
                }
            }
        }
        let n = out
            .len()
            .min(self.buf.len())
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&self.buf[..n]);
        self.buf = self.buf.slice(n..);
        self.left -= n as u64;
        Ok(n)
    }
}
