//! CloudWatch metrics: `PutMetricData` in batches, for the healer function's counts and a run's
//! recovery figures alike. The datum types are re-exported so callers build data without
//! depending on the SDK themselves.

use crate::error::sdk_error;
use crate::{AwsConnection, Result};
pub use aws_sdk_cloudwatch::primitives::DateTime;
pub use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

/// Data per `PutMetricData` call (the API takes up to 1000).
const BATCH: usize = 500;

/// A CloudWatch client.
#[derive(Clone, Debug)]
pub struct CloudWatch {
    client: aws_sdk_cloudwatch::Client,
    endpoint: String,
}

impl CloudWatch {
    pub async fn connect(conn: &AwsConnection) -> CloudWatch {
        CloudWatch { client: aws_sdk_cloudwatch::Client::new(&conn.sdk_config().await), endpoint: conn.endpoint_name() }
    }

    /// Whether CloudWatch answers (lists one page of `namespace`'s metrics).
    pub async fn check(&self, namespace: &str) -> Result<()> {
        self.client
            .list_metrics()
            .namespace(namespace)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("CloudWatch", &self.endpoint, format!("ListMetrics in {namespace}"), e))
    }

    /// Sends `data` to `namespace`, in batches; returns how many data were sent.
    pub async fn put(&self, namespace: &str, data: &[MetricDatum]) -> Result<usize> {
        for batch in data.chunks(BATCH) {
            self.client
                .put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error("CloudWatch", &self.endpoint, format!("PutMetricData to {namespace}"), e))?;
        }
        Ok(data.len())
    }
}
