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
            .code(FunctionCode::builder().zip_file(Blob::new(spec.zip.clone())).build())
            .set_environment(environment)
            .timeout(spec.timeout_seconds)
            .memory_size(spec.memory_mb)
            .send()
            .await
            .map_err(|e| lambda_error(&endpoint, format!("create function {}", spec.name), e))?;
    } else {
        client
            .update_function_code()
            .function_name(&spec.name)
            .zip_file(Blob::new(spec.zip.clone()))
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
    Ok(Deployed {
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
