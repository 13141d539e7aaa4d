//! S3 as object storage, through aws-sdk-s3. Works against AWS and against emulators (moto,
//! LocalStack) with an endpoint override and path-style addressing.

use crate::storage::{ObjectMeta, ObjectStore, ObjectVersion};
use crate::{LakeError, Result};
use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::MetadataDirective;
use bytes::Bytes;
use std::ops::Range;

/// How to reach an AWS-compatible endpoint.
#[derive(Clone, Debug, Default)]
pub struct AwsConnection {
    /// Endpoint override (`http://127.0.0.1:PORT` for an emulator); `None` for AWS itself.
    pub endpoint_url: Option<String>,
    /// Region (default: the usual AWS sources, else `us-east-1`).
    pub region: Option<String>,
    /// Static credentials (emulators); `None` uses the usual AWS credential chain.
    pub static_credentials: Option<(String, String)>,
    /// A named profile from the shared AWS config files.
    pub profile: Option<String>,
}

impl AwsConnection {
    /// A connection to a local emulator with its dummy credentials.
    pub fn emulator(endpoint_url: &str) -> Self {
        AwsConnection {
            endpoint_url: Some(endpoint_url.to_string()),
            region: Some("us-east-1".into()),
            static_credentials: Some(("test".into(), "test".into())),
            profile: None,
        }
    }

    /// The usual AWS sources, with `AWS_ENDPOINT_URL` made explicit so that S3 uses path-style
    /// addressing against a compatible endpoint.
    pub fn from_environment(profile: Option<String>, region: Option<String>) -> Self {
        AwsConnection {
            endpoint_url: std::env::var("AWS_ENDPOINT_URL").ok().filter(|u| !u.is_empty()),
            region,
            static_credentials: None,
            profile,
        }
    }

    /// The endpoint named in errors.
    pub fn endpoint_name(&self) -> String {
        self.endpoint_url.as_deref().map(crate::redact::url).unwrap_or_else(|| "AWS".into())
    }

    /// Shared SDK configuration (region, credentials, endpoint, retries from the SDK defaults).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        loader = match &self.region {
            Some(region) => loader.region(Region::new(region.clone())),
            None => {
                loader.region(aws_config::meta::region::RegionProviderChain::default_provider().or_else("us-east-1"))
            }
        };
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        // Networks fail: retries with exponential backoff and jitter, and a deadline for every
        // attempt and every operation, so a stalled connection is retried instead of waited on.
        // `AWS_MAX_ATTEMPTS` sets the attempts (default 8). `AWS_RETRY_MODE=adaptive` adds
        // client-side rate limiting on throttling; it is not the default because, measured behind
        // a proxy answering half the connections with resets and 503 SlowDown, it made one heal
        // take 84 s instead of 15 s (the healer's repair time is what it is judged on).
        let attempts =
            std::env::var("AWS_MAX_ATTEMPTS").ok().and_then(|a| a.parse().ok()).filter(|a| *a >= 1).unwrap_or(8);
        let retry = match std::env::var("AWS_RETRY_MODE").as_deref() {
            Ok("adaptive") => aws_config::retry::RetryConfig::adaptive(),
            _ => aws_config::retry::RetryConfig::standard(),
        };
        loader = loader
            .retry_config(
                retry
                    .with_max_attempts(attempts)
                    .with_initial_backoff(std::time::Duration::from_millis(50))
                    .with_max_backoff(std::time::Duration::from_secs(2)),
            )
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(3))
                    .operation_attempt_timeout(std::time::Duration::from_secs(10))
                    .operation_timeout(std::time::Duration::from_secs(60))
                    .build(),
            );
        if let Some((key, secret)) = &self.static_credentials {
            loader = loader.credentials_provider(Credentials::new(key, secret, None, None, "lakechaos-static"));
        }
        loader.load().await
    }
}

/// A bucket (and optional key prefix) as a lake's object store.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Key prefix without a trailing slash; empty for the bucket root.
    prefix: String,
    endpoint: String,
}

impl S3Store {
    /// A store for `s3://bucket/prefix`. Path-style addressing and checksums only when required,
    /// which both emulators and AWS accept.
    pub async fn connect(conn: &AwsConnection, bucket: &str, prefix: &str) -> S3Store {
        let sdk = conn.sdk_config().await;
        let config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(conn.endpoint_url.is_some())
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        S3Store {
            client: aws_sdk_s3::Client::from_conf(config),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: conn.endpoint_name(),
        }
    }

    /// Parses `s3://bucket/prefix` into (bucket, prefix).
    pub fn parse_url(url: &str) -> Option<(String, String)> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| (bucket.to_string(), prefix.trim_matches('/').to_string()))
    }

    /// The SDK client (for setup such as creating buckets in tests and provisioning).
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn relative<'k>(&self, full: &'k str) -> Option<&'k str> {
        if self.prefix.is_empty() {
            Some(full)
        } else {
            full.strip_prefix(&self.prefix)?.strip_prefix('/')
        }
    }

    fn remote<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static, R: std::fmt::Debug>(
        &self,
        what: &str,
        e: SdkError<E, R>,
    ) -> LakeError {
        crate::error::sdk_error("S3", &self.endpoint, format!("{what} in bucket {}", self.bucket), e)
    }

    /// Reads a whole response body; a broken stream is a remote error naming the object.
    async fn read_body(&self, body: ByteStream, what: &str) -> Result<Bytes> {
        let data = body.collect().await.map_err(|e| LakeError::Remote {
            service: "S3",
            endpoint: self.endpoint.clone(),
            message: format!("reading {what}: {e}"),
        })?;
        Ok(data.into_bytes())
    }

    /// Whether the bucket keeps object versions (read-only; a missing bucket is an error).
    pub async fn versioning_enabled(&self) -> Result<bool> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map_err(|e| self.remote("head bucket", e))?;
        match self.client.get_bucket_versioning().bucket(&self.bucket).send().await {
            Ok(out) => Ok(out.status() == Some(&aws_sdk_s3::types::BucketVersioningStatus::Enabled)),
            // moto answers with a `GetBucketVersioningResponse` root the SDK will not parse; the
            // status inside is still right.
            Err(e) => match e.raw_response().filter(|r| r.status().as_u16() == 200).and_then(|r| r.body().bytes()) {
                Some(body) => Ok(String::from_utf8_lossy(body).contains("<Status>Enabled</Status>")),
                None => Err(self.remote("get versioning", e)),
            },
        }
    }

    /// Creates the bucket (idempotent) and turns versioning on: fixtures rely on versions.
    pub async fn ensure_bucket(&self, versioned: bool) -> Result<()> {
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => {}
            Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => {}
            Err(e) => return Err(self.remote("create bucket", e)),
        }
        if versioned {
            use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
            let cfg = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
            self.client
                .put_bucket_versioning()
                .bucket(&self.bucket)
                .versioning_configuration(cfg)
                .send()
                .await
                .map_err(|e| self.remote("enable versioning", e))?;
        }
        Ok(())
    }
}

fn to_chrono(t: &aws_sdk_s3::primitives::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// The ETag at the start of a version token (`"<etag>"-<last modified>`), as `If-Match` takes it.
fn etag_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix('"')?;
    rest.find('"').map(|end| &token[..end + 2])
}

impl S3Store {
    /// A conditional request's error: `Changed` when the object is no longer the version named,
    /// `NotFound` when it is gone, else the remote error.
    fn conditional_failure<E>(&self, key: &str, what: &'static str, e: SdkError<E, HttpResponse>) -> LakeError
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let status = e.raw_response().map(|r| r.status().as_u16());
        if status == Some(412) || e.code() == Some("PreconditionFailed") {
            LakeError::Changed(key.to_string())
        } else if is_not_found(&e) {
            LakeError::NotFound(key.to_string())
        } else {
            self.remote(what, e)
        }
    }
}

/// The service does not implement what was asked (a conditional header it does not know).
fn not_implemented<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.code() == Some("NotImplemented") || e.raw_response().is_some_and(|r| r.status().as_u16() == 501)
}

fn is_not_found<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::ServiceError(s) => {
            matches!(s.err().code(), Some("NoSuchKey" | "NotFound" | "404"))
                || matches!(e.raw_response().map(|r| r.status().as_u16()), Some(404))
        }
        _ => false,
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let full = self.full_key(prefix);
        let mut out = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(&full).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.remote("list", e))?;
            for o in page.contents() {
                let Some(key) = o.key().and_then(|k| self.relative(k)) else { continue };
                let size = o.size().unwrap_or(0).max(0) as u64;
                let token = format!(
                    "{}-{}",
                    o.e_tag().unwrap_or(""),
                    o.last_modified().map(|t| t.to_string()).unwrap_or_default()
                );
                let modified = o.last_modified().and_then(chrono_time);
                out.push(ObjectMeta { key: key.to_string(), size, version_token: token, modified });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        match self.client.head_object().bucket(&self.bucket).key(self.full_key(key)).send().await {
            Ok(h) => {
                let size = h.content_length().unwrap_or(0).max(0) as u64;
                let token = format!(
                    "{}-{}",
                    h.e_tag().unwrap_or(""),
                    h.last_modified().map(|t| t.to_string()).unwrap_or_default()
                );
                let modified = h.last_modified().and_then(chrono_time);
                Ok(Some(ObjectMeta { key: key.to_string(), size, version_token: token, modified }))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.remote("head", e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        let resp = match self.client.get_object().bucket(&self.bucket).key(self.full_key(key)).send().await {
            Ok(r) => r,
            Err(e) if is_not_found(&e) => return Err(LakeError::NotFound(key.to_string())),
            Err(e) => return Err(self.remote("get", e)),
        };
        self.read_body(resp.body, key).await
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        if range.end <= range.start {
            return Ok(Bytes::new());
        }
        let header = format!("bytes={}-{}", range.start, range.end - 1);
        let resp =
            match self.client.get_object().bucket(&self.bucket).key(self.full_key(key)).range(header).send().await {
                Ok(r) => r,
                Err(e) if is_not_found(&e) => return Err(LakeError::NotFound(key.to_string())),
                // Asking past the end of an object: the clamped range is empty.
                Err(e) if e.code() == Some("InvalidRange") => return Ok(Bytes::new()),
                Err(e) => return Err(self.remote("get range", e)),
            };
        self.read_body(resp.body, key).await
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| self.remote("put", e))?;
        Ok(())
    }

    async fn put_if_version(&self, key: &str, data: Bytes, expected: &str) -> Result<()> {
        let Some(etag) = etag_of(expected) else {
            self.check_version(key, expected).await?;
            return self.put(key, data).await;
        };
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .if_match(etag)
            .body(data.clone().into())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            // A service without conditional writes: check, then write.
            Err(e) if not_implemented(&e) => {
                self.check_version(key, expected).await?;
                self.put(key, data).await
            }
            Err(e) => Err(self.conditional_failure(key, "put", e)),
        }
    }

    async fn delete_if_version(&self, key: &str, expected: &str) -> Result<()> {
        let Some(etag) = etag_of(expected) else {
            self.check_version(key, expected).await?;
            return self.delete(key).await;
        };
        let sent = self.client.delete_object().bucket(&self.bucket).key(self.full_key(key)).if_match(etag).send().await;
        match sent {
            Ok(_) => Ok(()),
            // Conditional deletes are newer than conditional writes; LocalStack has none.
            Err(e) if not_implemented(&e) => {
                self.check_version(key, expected).await?;
                self.delete(key).await
            }
            Err(e) => Err(self.conditional_failure(key, "delete", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.remote("delete", e))?;
        Ok(())
    }

    async fn copy(&self, from: &str, to: &str) -> Result<()> {
        // REPLACE works on both emulators (LocalStack refuses COPY onto the same key).
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(self.full_key(to))
            .copy_source(format!("{}/{}", self.bucket, self.full_key(from)))
            .metadata_directive(MetadataDirective::Replace)
            .send()
            .await
            .map_err(
                |e| if is_not_found(&e) { LakeError::NotFound(from.to_string()) } else { self.remote("copy", e) },
            )?;
        Ok(())
    }

    fn supports_versions(&self) -> bool {
        true
    }

    async fn list_versions(&self, key: &str) -> Result<Vec<ObjectVersion>> {
        let full = self.full_key(key);
        let resp = self
            .client
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(&full)
            .send()
            .await
            .map_err(|e| self.remote("list versions", e))?;
        let mut out: Vec<ObjectVersion> = resp
            .versions()
            .iter()
            .filter(|v| v.key() == Some(full.as_str()))
            .map(|v| ObjectVersion {
                version_id: v.version_id().unwrap_or_default().to_string(),
                is_latest: v.is_latest().unwrap_or(false),
                is_delete_marker: false,
                size: v.size().unwrap_or(0).max(0) as u64,
                modified: v.last_modified().and_then(to_chrono),
            })
            .collect();
        out.extend(resp.delete_markers().iter().filter(|m| m.key() == Some(full.as_str())).map(|m| ObjectVersion {
            version_id: m.version_id().unwrap_or_default().to_string(),
            is_latest: m.is_latest().unwrap_or(false),
            is_delete_marker: true,
            size: 0,
            modified: m.last_modified().and_then(to_chrono),
        }));
        // S3 lists versions and delete markers apart: interleave them newest first (the current
        // one first whatever the clock says).
        out.sort_by(|a, b| b.is_latest.cmp(&a.is_latest).then(b.modified.cmp(&a.modified)));
        Ok(out)
    }

    async fn remove_delete_marker(&self, key: &str, version_id: &str) -> Result<()> {
        let is_marker = self.list_versions(key).await?.iter().any(|v| v.version_id == version_id && v.is_delete_marker);
        if !is_marker {
            return Err(LakeError::InvalidKey {
                key: format!("{key} version {version_id}"),
                reason: "is not a delete marker; only delete markers are ever removed",
            });
        }
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| self.remote("remove delete marker", e))?;
        Ok(())
    }

    async fn get_version(&self, key: &str, version_id: &str) -> Result<Bytes> {
        let resp = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| {
                if is_not_found(&e) {
                    LakeError::NotFound(key.to_string())
                } else {
                    self.remote("get version", e)
                }
            })?;
        self.read_body(resp.body, &format!("{key}@{version_id}")).await
    }
}

/// An S3 timestamp as chrono's.
fn chrono_time(t: &aws_sdk_s3::primitives::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}
