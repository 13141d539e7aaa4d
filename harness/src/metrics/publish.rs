//! Where a run's metrics go (pushgateway, CloudWatch), checked before anything is injected and
//! published once the suite has finished.

use super::cloudwatch;
use super::http::{HttpClient, HttpError};
use super::push::PushError;
use crate::run::result::SuiteReport;
use lakechaos_lake::cloudwatch::CloudWatch;
use lakechaos_lake::{AwsConnection, LakeError};
use lakehealer::metrics::HealerMetrics;
use std::sync::Arc;

/// A destination that does not answer, or refused what was published.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    #[error("pushgateway {gateway} is not ready: HTTP {status}: {body}")]
    NotReady { gateway: String, status: u16, body: String },
    #[error("pushgateway {gateway} is unreachable: {source}")]
    Unreachable {
        gateway: String,
        #[source]
        source: HttpError,
    },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Push(#[from] PushError),
    /// CloudWatch (the error names the endpoint).
    #[error("{0}")]
    CloudWatch(#[from] LakeError),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("metrics: {0}")]
    Exposition(String),
}

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
    pub async fn check(&self) -> Result<(), DestinationError> {
        if let Some(gateway) = &self.pushgateway {
            let url = format!("{}/-/ready", gateway.trim_end_matches('/'));
            match HttpClient::new()?.get(&url).await {
                Ok((status, _)) if status.is_success() => {}
                Ok((status, body)) => {
                    return Err(DestinationError::NotReady {
                        gateway: lakechaos_lake::redact::url(gateway),
                        status: status.as_u16(),
                        body: body.trim().to_string(),
                    })
                }
                Err(source) => {
                    return Err(DestinationError::Unreachable { gateway: lakechaos_lake::redact::url(gateway), source })
                }
            }
        }
        if let Some((conn, namespace)) = &self.cloudwatch {
            CloudWatch::connect(conn).await.check(namespace).await?;
        }
        Ok(())
    }

    /// Publishes the suite's metrics (and the healer's, for the pushgateway) everywhere set.
    pub async fn publish(
        &self,
        suite: &SuiteReport,
        healer: Option<&Arc<HealerMetrics>>,
    ) -> Result<Published, DestinationError> {
        let mut done = Published::default();
        let text = super::exposition(suite, healer.map(|h| h.as_ref()))
            .map_err(|e| DestinationError::Exposition(e.to_string()))?;
        if let Some(path) = &self.textfile {
            // Written aside and renamed, so a collector never reads half a file.
            let aside = path.with_extension("prom.tmp");
            std::fs::write(&aside, &text)
                .and_then(|_| std::fs::rename(&aside, path))
                .map_err(|source| DestinationError::Write { path: path.display().to_string(), source })?;
        }
        if let Some(gateway) = &self.pushgateway {
            let url = super::push::push(gateway, &self.run_id, &suite.target, text).await?;
            done.pushed_to = Some(url);
        }
        if let Some((conn, namespace)) = &self.cloudwatch {
            done.cloudwatch_data = Some(cloudwatch::publish(conn, namespace, suite).await?);
        }
        Ok(done)
    }
}
