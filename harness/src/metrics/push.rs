//! Pushing a run's metrics to a Prometheus pushgateway, grouped by job, run id and target: one
//! group per run, replaced as a whole if the same run pushes again.

use super::http::{HttpClient, HttpError};
use base64::Engine;
use hyper::Method;

/// The pushgateway job every run pushes under.
pub const JOB: &str = "lakechaos";

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("pushgateway: {0}")]
    Http(#[from] HttpError),
    #[error("pushgateway {url} refused the metrics: HTTP {status}: {body}")]
    Refused { url: String, status: u16, body: String },
}

/// `name/value` as a grouping-key path; a value that is not plain (slashes, spaces, empty)
/// goes in the pushgateway's `name@base64/<url-safe base64>` form.
fn label_path(name: &str, value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "_.-:".contains(c));
    if plain {
        format!("{name}/{value}")
    } else {
        format!("{name}@base64/{}", base64::engine::general_purpose::URL_SAFE.encode(value))
    }
}

/// The group's URL: `<gateway>/metrics/job/lakechaos/run_id/<id>/target/<target>`.
pub fn group_url(gateway: &str, run_id: &str, target: &str) -> String {
    format!(
        "{}/metrics/job/{JOB}/{}/{}",
        gateway.trim_end_matches('/'),
        label_path("run_id", run_id),
        label_path("target", target)
    )
}

/// PUTs `exposition` (text format) as the run's group, replacing any earlier push of it.
pub async fn push(gateway: &str, run_id: &str, target: &str, exposition: String) -> Result<String, PushError> {
    let url = group_url(gateway, run_id, target);
    let (status, body) = HttpClient::new()?.send(Method::PUT, &url, Some(prometheus::TEXT_FORMAT), exposition).await?;
    if !status.is_success() {
        return Err(PushError::Refused { url, status: status.as_u16(), body: body.trim().to_string() });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    #[test]
    fn group_url_escapes_label_values() {
        assert_eq!(
            super::group_url("http://127.0.0.1:9091/", "r 1/x", "local"),
            "http://127.0.0.1:9091/metrics/job/lakechaos/run_id@base64/ciAxL3g=/target/local"
        );
        assert!(
            super::group_url("http://g", "20261129T0601Z-7", "moto").ends_with("/run_id/20261129T0601Z-7/target/moto")
        );
    }
}
