//! The function's counts in CloudWatch, one `PutMetricData` per invocation. The names are what
//! the Terraform module's alarms watch (`Unrepairable`, `PassFailures`); they carry no
//! dimensions, so an alarm on the bare metric name sees them.

use super::HealerResponse;
use crate::events::HealerEvent;
use lakechaos_lake::cloudwatch::{MetricDatum, StandardUnit};

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
