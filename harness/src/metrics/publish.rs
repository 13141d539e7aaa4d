//! Where a run's metrics go (pushgateway, CloudWatch), checked before anything is injected and
//! published once the suite has finished.

use super::cloudwatch;
use super::http::HttpClient;
use crate::result::SuiteReport;
use lakechaos_lake::AwsConnection;
use lakehealer::metrics::HealerMetrics;
use std::sync::Arc;

/// The run's metric destinations.
#[derive(Clone, Debug, Default)]
pub struct Destinations {
    /// Pushgateway base URL (`http://HOST:9091`).
    pub pushgateway: Option<String>,
    /// CloudWatch connection and namespace.
    pub cloudwatch: Option<(AwsConnection, String)>,
    /// Write the exposition to this file as well (node_exporter's textfile collector reads
    /// such files; tools can lint it).
    pub textfile: Option<std::path::PathBuf>,
    /// The run id grouping the pushed metrics.
    pub run_id: String,
}

/// What was published.
#[derive(Clone, Debug, Default)]
pub struct Published {
    /// The pushgateway group URL.
    pub pushed_to: Option<String>,
    /// Data sent to CloudWatch.
    pub cloudwatch_data: Option<usize>,
}

impl Destinations {
    /// Whether any destination is set.
    pub fn any(&self) -> bool {
        self.pushgateway.is_some() || self.cloudwatch.is_some() || self.textfile.is_some()
    }

    /// Checks that every destination answers, naming the endpoint that does not.
    pub async fn check(&self) -> Result<(), String> {
        if let Some(gateway) = &self.pushgateway {
            let url = format!("{}/-/ready", gateway.trim_end_matches('/'));
            let client = HttpClient::new().map_err(|e| e.to_string())?;
            match client.get(&url).await {
                Ok((status, _)) if status.is_success() => {}
                Ok((status, body)) => {
                    return Err(format!("pushgateway {gateway} is not ready: HTTP {status}: {}", body.trim()))
                }
                Err(e) => return Err(format!("pushgateway {gateway} is unreachable: {e}")),
            }
        }
        if let Some((conn, namespace)) = &self.cloudwatch {
            let client = aws_sdk_cloudwatch::Client::new(&conn.sdk_config().await);
            client.list_metrics().namespace(namespace).send().await.map_err(|e| {
                format!(
                    "CloudWatch at {} is unreachable: {}",
                    conn.endpoint_name(),
                    aws_sdk_cloudwatch::error::DisplayErrorContext(&e)
                )
            })?;
        }
        Ok(())
    }

    /// Publishes the suite's metrics (and the healer's, for the pushgateway) everywhere set.
    pub async fn publish(&self, suite: &SuiteReport, healer: Option<&Arc<HealerMetrics>>) -> Result<Published, String> {
        let mut done = Published::default();
        let text = super::exposition(suite, healer.map(|h| h.as_ref())).map_err(|e| e.to_string())?;
        if let Some(path) = &self.textfile {
            // Written aside and renamed, so a collector never reads half a file.
            let aside = path.with_extension("prom.tmp");
            std::fs::write(&aside, &text)
                .and_then(|_| std::fs::rename(&aside, path))
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        if let Some(gateway) = &self.pushgateway {
            let url = super::push::push(gateway, &self.run_id, &suite.target, text).await.map_err(|e| e.to_string())?;
            done.pushed_to = Some(url);
        }
        if let Some((conn, namespace)) = &self.cloudwatch {
            done.cloudwatch_data = Some(cloudwatch::publish(conn, namespace, suite).await.map_err(|e| e.to_string())?);
        }
        Ok(done)
    }
}
