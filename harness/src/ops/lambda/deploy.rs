//! `lakechaos deploy`: zips the two functions for the `provided.al2023` runtime (the executable
//! as `bootstrap`; the chaos function also carries the scenario files it may be asked for) and
//! creates or updates them with aws-sdk-lambda. The zips are reproducible (fixed timestamps), so
//! the same build gives the same `CodeSha256` the Terraform module computes from the same file.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime};
use lakechaos_lake::AwsConnection;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zip::write::SimpleFileOptions;

/// Why a deploy failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("Lambda at {endpoint}: {message}")]
    Lambda { endpoint: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// One function to create or update.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    pub name: String,
    pub description: String,
    /// Needed to create; an update without it keeps the function's role.
    pub role: Option<String>,
    pub zip: Vec<u8>,
    pub architecture: String,
    /// The whole environment; `None` keeps a function's current one (a code update of a
    /// function Terraform configured) and creates one without.
    pub environment: Option<HashMap<String, String>>,
    pub timeout_seconds: i32,
    pub memory_mb: i32,
    /// Stage the zip in this S3 bucket and point the function at it (needed above
    /// [`DIRECT_UPLOAD_LIMIT`]).
    pub code_bucket: Option<String>,
}

/// Lambda's limits on a function's code: a zip uploaded with the request, and the unzipped
/// size of everything in it (CreateFunction refuses more than 262,144,000 bytes unzipped).
pub const DIRECT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;
pub const UNZIPPED_LIMIT: u64 = 250 * 1024 * 1024;

/// The sum of the uncompressed sizes of a zip's entries.
pub fn unzipped_size(zip: &[u8]) -> Result<u64, DeployError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))
        .map_err(|e| DeployError::Invalid(format!("the function zip does not read back: {e}")))?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| DeployError::Invalid(format!("the function zip: {e}")))?;
        total += entry.size();
    }
    Ok(total)
}

/// Checks a zip of `zipped` bytes holding `unzipped` bytes against Lambda's limits, before
/// anything is uploaded: staged through S3 (`staged`) only the unzipped limit applies.
pub fn check_limits(name: &str, zipped: u64, unzipped: u64, staged: bool) -> Result<(), DeployError> {
    const MIB: f64 = 1024.0 * 1024.0;
    if unzipped > UNZIPPED_LIMIT {
        return Err(DeployError::Invalid(format!(
            "{name}: {:.1} MiB unzipped, over Lambda's {} MiB limit; build the functions with \
             `--profile functions` (stripped executables)",
            unzipped as f64 / MIB,
            UNZIPPED_LIMIT / (1024 * 1024)
        )));
    }
    if zipped > DIRECT_UPLOAD_LIMIT && !staged {
        return Err(DeployError::Invalid(format!(
            "{name}: the zip is {:.1} MiB, over Lambda's {} MiB limit for a direct upload; stage it \
             through S3 with --code-bucket BUCKET",
            zipped as f64 / MIB,
            DIRECT_UPLOAD_LIMIT / (1024 * 1024)
        )));
    }
    Ok(())
}

/// Where a function's code comes from.
enum Code {
    Direct,
    Staged { bucket: String, key: String },
}

/// Checks the limits, then stages the zip in the code bucket when there is one.
async fn code_source(conn: &AwsConnection, spec: &FunctionSpec) -> Result<Code, DeployError> {
    check_limits(&spec.name, spec.zip.len() as u64, unzipped_size(&spec.zip)?, spec.code_bucket.is_some())?;
    let Some(bucket) = &spec.code_bucket else { return Ok(Code::Direct) };
    let digest: String = Sha256::digest(&spec.zip).iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("lakechaos-deploy/{}/{digest}.zip", spec.name);
    let store = lakechaos_lake::S3Store::connect(conn, bucket, "").await;
    lakechaos_lake::ObjectStore::put(&store, &key, bytes::Bytes::from(spec.zip.clone()))
        .await
        .map_err(|e| DeployError::Invalid(format!("staging the code of {} in s3://{bucket}/{key}: {e}", spec.name)))?;
    Ok(Code::Staged { bucket: bucket.clone(), key })
}

/// What deploying one function did.
#[derive(Clone, Debug)]
pub struct Deployed {
    pub name: String,
    pub created: bool,
    pub arn: String,
    pub role: String,
    pub code_sha256: String,
    pub code_size: i64,
    /// `s3://bucket/key` when the code was staged through S3.
    pub staged_at: Option<String>,
}

/// The runtime and handler every function uses: a custom runtime whose `bootstrap` is the
/// executable itself.
pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";

/// The architecture name Lambda uses for this build's machine.
pub fn native_architecture() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    }
}

/// A function zip: `bootstrap` (mode 0755) from `executable`, then each `(name in the zip, file)`
/// of `extra` (mode 0644), with fixed timestamps.
pub fn function_zip(executable: &Path, extra: &[(String, PathBuf)]) -> Result<Vec<u8>, DeployError> {
    let file_err = |path: &Path, e: &dyn std::fmt::Display| DeployError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut add = |name: &str, path: &Path, mode: u32| -> Result<(), DeployError> {
        let bytes = std::fs::read(path).map_err(|e| file_err(path, &e))?;
        zip.start_file(name, options.unix_permissions(mode)).map_err(|e| file_err(path, &e))?;
        zip.write_all(&bytes).map_err(|e| file_err(path, &e))
    };
    add(HANDLER, executable, 0o755)?;
    for (name, path) in extra {
        add(name, path, 0o644)?;
    }
    let cursor = zip.finish().map_err(|e| file_err(executable, &e))?;
    Ok(cursor.into_inner())
}

/// The chaos function's extra files: every scenario file under `dir`, as `scenarios/<relative>`.
pub fn scenario_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, DeployError> {
    let files = crate::scenario::load::scenario_files(&[dir.to_path_buf()])
        .map_err(|e| DeployError::File { path: dir.display().to_string(), message: e.to_string() })?;
    let mut out: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(dir).unwrap_or(&f).to_string_lossy().replace('\\', "/");
            (format!("scenarios/{rel}"), f)
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Writes `zip` to `path` (creating folders) and returns its Lambda-style SHA-256 (base64).
pub fn write_zip(path: &Path, zip: &[u8]) -> Result<String, DeployError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| DeployError::File { path: dir.display().to_string(), message: e.to_string() })?;
    }
    std::fs::write(path, zip)
        .map_err(|e| DeployError::File { path: path.display().to_string(), message: e.to_string() })?;
    Ok(code_sha256(zip))
}

/// What Lambda reports as `CodeSha256` for `zip`.
pub fn code_sha256(zip: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

fn lambda_error<E>(endpoint: &str, what: String, e: aws_sdk_lambda::error::SdkError<E>) -> DeployError
where
    E: std::error::Error + Send + Sync + 'static,
{
    DeployError::Lambda {
        endpoint: endpoint.to_string(),
        message: format!("{what}: {}", aws_sdk_lambda::error::DisplayErrorContext(e)),
    }
}

/// Creates the function if it does not exist, else updates its code, then its configuration.
pub async fn deploy(conn: &AwsConnection, spec: &FunctionSpec) -> Result<Deployed, DeployError> {
    let client = aws_sdk_lambda::Client::new(&conn.sdk_config().await);
    let endpoint = conn.endpoint_name();
    let environment = spec.environment.clone().map(|vars| Environment::builder().set_variables(Some(vars)).build());
    let architecture = Architecture::from(spec.architecture.as_str());
    let existing = match client.get_function().function_name(&spec.name).send().await {
        Ok(f) => f.configuration,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => None,
        Err(e) => return Err(lambda_error(&endpoint, format!("get function {}", spec.name), e)),
    };
    let created = existing.is_none();
    let code = code_source(conn, spec).await?;
    if created {
        let role = spec.role.clone().ok_or_else(|| {
            DeployError::Invalid(format!(
                "function {} does not exist yet: creating it needs its role (--*-role ARN)",
                spec.name
            ))
        })?;
        client
            .create_function()
            .function_name(&spec.name)
            .description(&spec.description)
            .runtime(Runtime::from(RUNTIME))
            .handler(HANDLER)
            .role(role)
            .architectures(architecture)
            .code(match &code {
                Code::Direct => FunctionCode::builder().zip_file(Blob::new(spec.zip.clone())).build(),
                Code::Staged { bucket, key } => FunctionCode::builder().s3_bucket(bucket).s3_key(key).build(),
            })
            .set_environment(environment)
            .timeout(spec.timeout_seconds)
            .memory_size(spec.memory_mb)
            .send()
            .await
            .map_err(|e| lambda_error(&endpoint, format!("create function {}", spec.name), e))?;
    } else {
        let update = client.update_function_code().function_name(&spec.name);
        let update = match &code {
            Code::Direct => update.zip_file(Blob::new(spec.zip.clone())),
            Code::Staged { bucket, key } => update.s3_bucket(bucket).s3_key(key),
        };
        update
            .architectures(architecture)
            .send()
            .await
            .map_err(|e| lambda_error(&endpoint, format!("update code of {}", spec.name), e))?;
        // Lambda refuses a configuration change while the code update is in progress.
        settled(&client, &endpoint, &spec.name).await?;
        client
            .update_function_configuration()
            .function_name(&spec.name)
            .description(&spec.description)
            .runtime(Runtime::from(RUNTIME))
            .handler(HANDLER)
            .set_role(spec.role.clone())
            .set_environment(environment)
            .timeout(spec.timeout_seconds)
            .memory_size(spec.memory_mb)
            .send()
            .await
            .map_err(|e| lambda_error(&endpoint, format!("update configuration of {}", spec.name), e))?;
    }
    let config = settled(&client, &endpoint, &spec.name).await?;
    let staged_at = match code {
        Code::Staged { bucket, key } => Some(format!("s3://{bucket}/{key}")),
        Code::Direct => None,
    };
    Ok(Deployed {
        staged_at,
        name: spec.name.clone(),
        created,
        arn: config.function_arn.unwrap_or_default(),
        role: config.role.unwrap_or_default(),
        code_sha256: config.code_sha256.unwrap_or_default(),
        code_size: config.code_size,
    })
}

/// Waits (up to two minutes) until the function's last update is no longer in progress.
async fn settled(
    client: &aws_sdk_lambda::Client,
    endpoint: &str,
    name: &str,
) -> Result<aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput, DeployError> {
    for _ in 0..240 {
        let config = client
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| lambda_error(endpoint, format!("get configuration of {name}"), e))?;
        match config.last_update_status {
            Some(LastUpdateStatus::InProgress) => tokio::time::sleep(Duration::from_millis(500)).await,
            Some(LastUpdateStatus::Failed) => {
                return Err(DeployError::Lambda {
                    endpoint: endpoint.to_string(),
                    message: format!("{name}: update failed: {}", config.last_update_status_reason.unwrap_or_default()),
                })
            }
            _ => return Ok(config),
        }
    }
    Err(DeployError::Lambda { endpoint: endpoint.to_string(), message: format!("{name}: still updating after 2 min") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_before_any_upload() {
        const MIB: u64 = 1024 * 1024;
        assert!(check_limits("f", 14 * MIB, 42 * MIB, false).is_ok());
        let direct = check_limits("f", 66 * MIB, 240 * MIB, false).unwrap_err().to_string();
        assert!(direct.contains("66.0 MiB") && direct.contains("--code-bucket"), "{direct}");
        assert!(check_limits("f", 66 * MIB, 240 * MIB, true).is_ok());
        let unzipped = check_limits("f", 66 * MIB, 340 * MIB, true).unwrap_err().to_string();
        assert!(unzipped.contains("340.0 MiB unzipped") && unzipped.contains("--profile functions"), "{unzipped}");
    }

    #[test]
    fn the_unzipped_size_is_read_from_the_zip() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("exe");
        std::fs::write(&exe, vec![7u8; 300_000]).unwrap();
        let extra = dir.path().join("a.yaml");
        std::fs::write(&extra, "name: a\n").unwrap();
        let zip = function_zip(&exe, &[("scenarios/a.yaml".into(), extra)]).unwrap();
        assert!(zip.len() < 10_000, "zeros compress");
        assert_eq!(unzipped_size(&zip).unwrap(), 300_000 + 8);
    }
}
