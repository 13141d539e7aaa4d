use std::io;

/// Errors of the access layer. Corrupt data is reported as data (`Parquet`), never as a panic.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("object not found: {0}")]
    NotFound(String),
    /// The object is no longer the version that was judged (another writer or healer changed
    /// it); whoever acts on it must look again.
    #[error("object changed since it was checked: {0}")]
    Changed(String),
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A lake or catalog address that cannot be opened (named, with what was expected).
    #[error("{0}")]
    Address(String),
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("{0} is not supported by this store")]
    Unsupported(&'static str),
    /// A remote service failed or could not be reached; names the service and endpoint.
    #[error("{service} at {endpoint}: {message}")]
    Remote { service: &'static str, endpoint: String, message: String },
}

/// Result type of the access layer.
pub type Result<T, E = LakeError> = std::result::Result<T, E>;

impl LakeError {
    pub(crate) fn io(path: impl std::fmt::Display, source: io::Error) -> Self {
        LakeError::Io { path: path.to_string(), source }
    }
}

/// A remote error from any AWS SDK call, in one line: what was being done, the service's code
/// and message (or why no answer came), and the endpoint — never the SDK's whole debug dump.
pub(crate) fn sdk_error<E, R>(
    service: &'static str,
    endpoint: &str,
    what: impl std::fmt::Display,
    e: aws_sdk_s3::error::SdkError<E, R>,
) -> LakeError
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    LakeError::Remote {
        service,
        endpoint: crate::redact::url(endpoint),
        message: format!("{what}: {}", sdk_reason(&e)),
    }
}

/// Why an SDK call failed, in one line.
pub(crate) fn sdk_reason<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    let first_line = |s: String| s.lines().next().unwrap_or_default().chars().take(300).collect::<String>();
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {}", first_line(message.to_string())),
                (Some(code), None) => code.to_string(),
                _ => first_line(err.to_string()),
            }
        }
        SdkError::TimeoutError(_) => "no answer within the timeout".into(),
        SdkError::DispatchFailure(d) => {
            let mut cause: &dyn std::error::Error = e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            let kind = if d.is_timeout() {
                "timed out"
            } else if d.is_io() {
                "connection failed"
            } else {
                "request failed"
            };
            format!("{kind}: {}", first_line(cause.to_string()))
        }
        SdkError::ResponseError(_) => "the response could not be read".into(),
        SdkError::ConstructionFailure(_) => first_line(aws_sdk_s3::error::DisplayErrorContext(e).to_string()),
        _ => first_line(aws_sdk_s3::error::DisplayErrorContext(e).to_string()),
    }
}
