//! The object-storage trait. Keys are `/`-separated paths relative to the lake root, as in S3.

use crate::{LakeError, Result};
use async_trait::async_trait;
use bytes::Bytes;
use std::fmt::Debug;
use std::ops::Range;
use std::path::Path;

/// What a listing says about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key, relative to the store root.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// A token that changes whenever the content may have changed (an ETag on S3; size and
    /// modification time locally). Used to skip re-checking unchanged objects.
    pub version_token: String,
    /// When the object was last written, as the store says (S3: whole seconds).
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}

/// One stored version of an object (S3 versioning). Local directories keep no versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectVersion {
    pub version_id: String,
    pub is_latest: bool,
    pub is_delete_marker: bool,
    pub size: u64,
    /// When the version (or delete marker) was made.
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
}

/// Object storage. Every write is atomic for readers: a reader sees the old or the new object,
/// never a partial one (the healer must not mistake an in-flight write for a corrupt file).
#[async_trait]
pub trait ObjectStore: Send + Sync + Debug {
    /// A human-readable address of the store (`file:///...`, `s3://bucket/prefix`).
    fn describe(&self) -> String;

    /// Every object whose key starts with `prefix`, recursively, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>>;

    /// Metadata of one object, or `None` if it does not exist.
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>>;

    /// The whole object.
    async fn get(&self, key: &str) -> Result<Bytes>;

    /// A byte range of the object; the range is clamped to the object's size.
    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes>;

    /// Writes (or replaces) an object atomically.
    async fn put(&self, key: &str, data: Bytes) -> Result<()>;

    /// Removes an object. Used by fault injection and by moves to quarantine, never to drop data.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Replaces `key` only if it is still the version `expected` (a version token from `head` or
    /// `list`): [`LakeError::Changed`] if another writer got there first, `NotFound` if it is
    /// gone. Where the store can, the check and the write are one step (S3's `If-Match`, a
    /// directory lock locally), so of two healers that judged the same version only one acts.
    async fn put_if_version(&self, key: &str, data: Bytes, expected: &str) -> Result<()> {
        self.check_version(key, expected).await?;
        self.put(key, data).await
    }

    /// Removes `key` only if it is still the version `expected`, as [`ObjectStore::put_if_version`].
    async fn delete_if_version(&self, key: &str, expected: &str) -> Result<()> {
        self.check_version(key, expected).await?;
        self.delete(key).await
    }

    /// `Ok` if `key` is the version `expected`.
    async fn check_version(&self, key: &str, expected: &str) -> Result<()> {
        match self.head(key).await? {
            None => Err(LakeError::NotFound(key.to_string())),
            Some(m) if m.version_token != expected => Err(LakeError::Changed(key.to_string())),
            Some(_) => Ok(()),
        }
    }

    /// Copies an object within the store.
    async fn copy(&self, from: &str, to: &str) -> Result<()> {
        let data = self.get(from).await?;
        self.put(to, data).await
    }

    /// Whether the store keeps earlier versions of objects.
    fn supports_versions(&self) -> bool {
        false
    }

    /// Versions of one key, newest first. Empty where versioning is not supported.
    async fn list_versions(&self, _key: &str) -> Result<Vec<ObjectVersion>> {
        Ok(Vec::new())
    }

    /// The content of one version of a key.
    async fn get_version(&self, _key: &str, _version_id: &str) -> Result<Bytes> {
        Err(crate::LakeError::Unsupported("object versions"))
    }

    /// Removes one delete marker, making the version under it current again. Refuses any
    /// version that is not a delete marker: no data is ever removed this way.
    async fn remove_delete_marker(&self, _key: &str, _version_id: &str) -> Result<()> {
        Err(crate::LakeError::Unsupported("object versions"))
    }

    /// The directory behind the store, when it is a local one: lets the healer subscribe to
    /// file-system events the way it subscribes to S3 events elsewhere.
    fn local_root(&self) -> Option<&Path> {
        None
    }
}
