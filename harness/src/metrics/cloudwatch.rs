//! The same figures as the Prometheus metrics, sent to CloudWatch with `PutMetricData`: one datum
//! per scenario and measurement, so CloudWatch computes its own percentiles and sums.

use super::outcome;
use crate::run::result::{Status, SuiteReport};
use lakechaos_lake::cloudwatch::{CloudWatch, DateTime, Dimension, MetricDatum, StandardUnit};
use lakechaos_lake::{AwsConnection, LakeError};

/// The default namespace.
pub const NAMESPACE: &str = "LakeChaos";

fn dims(pairs: &[(&str, &str)]) -> Vec<Dimension> {
    pairs.iter().map(|(n, v)| Dimension::builder().name(*n).value(*v).build()).collect()
}

fn datum(name: &str, value: f64, unit: StandardUnit, dimensions: Vec<Dimension>, at: DateTime) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .value(value)
        .unit(unit)
        .set_dimensions(Some(dimensions))
        .timestamp(at)
        .build()
}

/// Every datum for `suite`. Metric names and dimensions:
/// - `Scenarios` (Count) by Scenario, FaultClass, Target, Outcome;
/// - `TimeToDetect`, `TimeToRepair` (Milliseconds) by FaultClass, Target;
/// - `SloBreaches` (Count) by Scenario, FaultClass, Target, Phase;
/// - `RowsLost`, `FalseIncidents` (Count) by Scenario, FaultClass, Target;
/// - `RunDuration` (Seconds) by Target.
pub fn data(suite: &SuiteReport) -> Vec<MetricDatum> {
    let ended = suite.started_at + chrono::Duration::milliseconds(suite.duration_ms as i64);
    let at = DateTime::from_millis(ended.timestamp_millis());
    let target = suite.target.as_str();
    let mut out = Vec::new();
    for s in &suite.scenarios {
        let class = s.fault_class.as_str();
        let scenario = [("Scenario", s.name.as_str()), ("FaultClass", class), ("Target", target)];
        let mut with_outcome = scenario.to_vec();
        with_outcome.push(("Outcome", outcome(s.status)));
        out.push(datum("Scenarios", 1.0, StandardUnit::Count, dims(&with_outcome), at));
        if !matches!(s.status, Status::Passed | Status::Failed) {
            continue;
        }
        let class_dims = [("FaultClass", class), ("Target", target)];
        if let Some(ms) = s.time_to_detect_ms {
            out.push(datum("TimeToDetect", ms, StandardUnit::Milliseconds, dims(&class_dims), at));
        }
        if let Some(ms) = s.time_to_repair_ms {
            out.push(datum("TimeToRepair", ms, StandardUnit::Milliseconds, dims(&class_dims), at));
        }
        for phase in ["detect", "repair"] {
            let mut d = scenario.to_vec();
            d.push(("Phase", phase));
            let breached = s.slo_breaches.iter().any(|p| p == phase);
            out.push(datum("SloBreaches", breached as u8 as f64, StandardUnit::Count, dims(&d), at));
        }
        if let Some(lost) = s.rows_lost {
            out.push(datum("RowsLost", lost as f64, StandardUnit::Count, dims(&scenario), at));
        }
        out.push(datum("FalseIncidents", s.false_incidents.len() as f64, StandardUnit::Count, dims(&scenario), at));
    }
    out.push(datum("RunDuration", suite.duration_ms / 1000.0, StandardUnit::Seconds, dims(&[("Target", target)]), at));
    out
}

/// Publishes [`data`] under `namespace`; returns how many data were sent.
pub async fn publish(connection: &AwsConnection, namespace: &str, suite: &SuiteReport) -> Result<usize, LakeError> {
    CloudWatch::connect(connection).await.put(namespace, &data(suite)).await
}
