//! The function's counts in CloudWatch, one `PutMetricData` per invocation. The names are what
//! the Terraform module's alarms watch (`Unrepairable`, `PassFailures`); they carry no
//! dimensions, so an alarm on the bare metric name sees them.

use super::HealerResponse;
use crate::events::HealerEvent;
use aws_sdk_cloudwatch::types::{MetricDatum, StandardUnit};

/// The default namespace.
pub const NAMESPACE: &str = "Lakehealer";

/// The data of one invocation.
pub fn data(response: &HealerResponse) -> Vec<MetricDatum> {
    let count = |f: fn(&HealerEvent) -> bool| response.events.iter().filter(|e| f(e)).count() as f64;
    let figures = [
        ("Incidents", count(|e| matches!(e, HealerEvent::Incident { .. }))),
        ("Repairs", count(|e| matches!(e, HealerEvent::Repair { .. }))),
        ("Unrepairable", count(|e| matches!(e, HealerEvent::Unrepairable { .. }))),
        ("Resolved", count(|e| matches!(e, HealerEvent::Resolved { .. }))),
        ("PassFailures", count(|e| matches!(e, HealerEvent::PassFailed { .. }))),
        ("ObjectEvents", response.objects as f64),
    ];
    figures
        .into_iter()
        .map(|(name, value)| MetricDatum::builder().metric_name(name).value(value).unit(StandardUnit::Count).build())
        .collect()
}

/// Sends the data of `response` to `namespace`.
pub async fn put(
    client: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    response: &HealerResponse,
) -> Result<(), String> {
    client
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data(response)))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_sdk_cloudwatch::error::DisplayErrorContext(e).to_string())
}
