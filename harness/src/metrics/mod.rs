//! A run's recovery metrics in Prometheus form: what the suite measured (outcomes, time to
//! detect and repair, SLO breaches, rows lost, false incidents) plus the healer's own metrics
//! from the same run; pushed to a pushgateway ([`push`]) or sent to CloudWatch ([`cloudwatch`]).
//!
//! Harness metrics are derived from the finished [`SuiteReport`], so they always agree with the
//! JUnit and JSON reports of the same run.

pub mod cloudwatch;
pub mod http;
pub mod publish;
pub mod push;

use crate::run::result::{ScenarioResult, Status, SuiteReport};
use prometheus::{GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The ladder of time-to-detect / time-to-repair buckets (seconds); every SLO deadline in the
/// suite is added to it, so "within SLO" is always an exact bucket boundary.
const BASE_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// The label value of a status (`passed`, `failed`, `skipped`, `error`).
pub fn outcome(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Error => "error",
    }
}

/// The label value of an expected outcome.
pub fn expected_outcome(e: crate::scenario::ExpectedOutcome) -> &'static str {
    match e {
        crate::scenario::ExpectedOutcome::Repaired => "repaired",
        crate::scenario::ExpectedOutcome::Detected => "detected",
        crate::scenario::ExpectedOutcome::Unrepairable => "unrepairable",
    }
}

/// Histogram buckets: [`BASE_BUCKETS`] plus every detect and repair deadline in `suite`.
pub fn buckets(suite: &SuiteReport) -> Vec<f64> {
    let mut b: Vec<f64> = BASE_BUCKETS.to_vec();
    for s in &suite.scenarios {
        b.push(s.slo.detect_within.as_secs_f64());
        b.push(s.slo.repair_within.as_secs_f64());
    }
    b.sort_by(|x, y| x.total_cmp(y));
    b.dedup_by(|x, y| (*x - *y).abs() < 1e-9);
    b
}

struct SuiteMetrics {
    scenarios: IntCounterVec,
    time_to_detect: HistogramVec,
    time_to_repair: HistogramVec,
    slo_breaches: IntCounterVec,
    slo_seconds: GaugeVec,
    rows_lost: IntCounterVec,
    rows_lost_allowed: GaugeVec,
    false_incidents: IntCounterVec,
    run_duration: GaugeVec,
    run_completed: GaugeVec,
    false_repairs: IntCounterVec,
    class: ClassMetrics,
}

/// The run's scores per fault class (and `all`), as `report::scores` computes them for every
/// report: a dashboard charts the same figures the JSON, HTML and JUnit carry.
struct ClassMetrics {
    time_to_detect: GaugeVec,
    time_to_repair: GaugeVec,
    recall: GaugeVec,
    false_incidents: GaugeVec,
    false_repairs: GaugeVec,
    rows_lost: GaugeVec,
}

impl ClassMetrics {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        const CLASS: &[&str] = &["fault_class", "target"];
        let gauge =
            |name: &str, help: &str, labels: &[&str]| register(registry, GaugeVec::new(Opts::new(name, help), labels)?);
        Ok(ClassMetrics {
            time_to_detect: gauge(
                "lakechaos_class_time_to_detect_seconds",
                "Time to detect per fault class (class all: the whole run), by stat (p50, p95, max).",
                &["fault_class", "target", "stat"],
            )?,
            time_to_repair: gauge(
                "lakechaos_class_time_to_repair_seconds",
                "Time to repair per fault class (class all: the whole run), by stat (p50, p95, max).",
                &["fault_class", "target", "stat"],
            )?,
            recall: gauge(
                "lakechaos_class_recall_ratio",
                "Injected damage locations the healer raised a matching incident for / locations injected.",
                CLASS,
            )?,
            false_incidents: gauge(
                "lakechaos_class_false_incidents",
                "Incidents that match no injected damage, per fault class.",
                CLASS,
            )?,
            false_repairs: gauge(
                "lakechaos_class_false_repairs",
                "Repairs that touched objects outside the fault's footprint, per fault class.",
                CLASS,
            )?,
            rows_lost: gauge(
                "lakechaos_class_rows_lost",
                "Rows lost per fault class: loss=expected in scenarios declared unrepairable, loss=unexpected anywhere else.",
                &["fault_class", "target", "loss"],
            )?,
        })
    }

    fn record(&self, target: &str, c: &crate::run::scores::Score) {
        let class = c.fault_class.as_str();
        for (gauge, d) in [(&self.time_to_detect, c.time_to_detect), (&self.time_to_repair, c.time_to_repair)] {
            if let Some(d) = d {
                // `stat`, not `quantile`: that label belongs to summaries, and these are gauges.
                for (q, v) in [("p50", d.p50_ms), ("p95", d.p95_ms), ("max", d.max_ms)] {
                    gauge.with_label_values(&[class, target, q]).set(v / 1000.0);
                }
            }
        }
        if let Some(r) = c.recall {
            self.recall.with_label_values(&[class, target]).set(r);
        }
        self.false_incidents.with_label_values(&[class, target]).set(c.false_incidents as f64);
        self.false_repairs.with_label_values(&[class, target]).set(c.false_repairs as f64);
        self.rows_lost.with_label_values(&[class, target, "expected"]).set(c.rows_lost_expected as f64);
        self.rows_lost.with_label_values(&[class, target, "unexpected"]).set(c.rows_lost_unexpected as f64);
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    c: C,
) -> Result<C, prometheus::Error> {
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

impl SuiteMetrics {
    fn new(registry: &Registry, buckets: Vec<f64>) -> Result<Self, prometheus::Error> {
        const SCENARIO: &[&str] = &["scenario", "fault_class", "target"];
        let histogram = |name: &str, help: &str| {
            HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.clone()), &["fault_class", "target"])
        };
        Ok(SuiteMetrics {
            scenarios: register(
                registry,
                IntCounterVec::new(
                    Opts::new("lakechaos_scenarios_total", "Scenarios run, by scenario, fault class, target and outcome."),
                    &["scenario", "fault_class", "target", "outcome"],
                )?,
            )?,
            time_to_detect: register(
                registry,
                histogram(
                    "lakechaos_time_to_detect_seconds",
                    "From the start of injection to the healer's first incident matching the damage.",
                )?,
            )?,
            time_to_repair: register(
                registry,
                histogram(
                    "lakechaos_time_to_repair_seconds",
                    "From the start of injection to the first verification of the lake equal to golden.",
                )?,
            )?,
            slo_breaches: register(
                registry,
                IntCounterVec::new(
                    Opts::new("lakechaos_slo_breaches_total", "Scenarios that missed an SLO deadline, by phase (detect, repair)."),
                    &["scenario", "fault_class", "target", "phase"],
                )?,
            )?,
            slo_seconds: register(
                registry,
                GaugeVec::new(
                    Opts::new("lakechaos_slo_seconds", "Each scenario's SLO deadline, by phase (detect, repair)."),
                    &["scenario", "fault_class", "target", "phase"],
                )?,
            )?,
            rows_lost: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "lakechaos_rows_lost_total",
                        "Golden rows not served intact after the run, counted by the harness; by what the scenario expected (repaired, detected, unrepairable).",
                    ),
                    &["scenario", "fault_class", "target", "expected_outcome"],
                )?,
            )?,
            rows_lost_allowed: register(
                registry,
                GaugeVec::new(
                    Opts::new(
                        "lakechaos_rows_lost_allowed",
                        "The most rows a scenario may lose (0 for every repairable fault); absent where loss is not checked.",
                    ),
                    SCENARIO,
                )?,
            )?,
            false_incidents: register(
                registry,
                IntCounterVec::new(
                    Opts::new("lakechaos_false_incidents_total", "Healer incidents that match no injected damage."),
                    SCENARIO,
                )?,
            )?,
            run_duration: register(
                registry,
                GaugeVec::new(Opts::new("lakechaos_run_duration_seconds", "Wall time of the suite run."), &["target"])?,
            )?,
            run_completed: register(
                registry,
                GaugeVec::new(
                    Opts::new("lakechaos_run_last_completion_timestamp_seconds", "Unix time the suite run ended."),
                    &["target"],
                )?,
            )?,
            false_repairs: register(
                registry,
                IntCounterVec::new(
                    Opts::new("lakechaos_false_repairs_total", "Healer repairs that touched objects outside the fault's footprint."),
                    SCENARIO,
                )?,
            )?,
            class: ClassMetrics::new(registry)?,
        })
    }

    fn record(&self, target: &str, s: &ScenarioResult) {
        let class = s.fault_class.as_str();
        let scenario = [s.name.as_str(), class, target];
        self.scenarios.with_label_values(&[&s.name, class, target, outcome(s.status)]).inc();
        // Skipped and errored scenarios measured nothing: they add no zeros to the figures.
        if !matches!(s.status, Status::Passed | Status::Failed) {
            return;
        }
        if let Some(ms) = s.time_to_detect_ms {
            self.time_to_detect.with_label_values(&[class, target]).observe(ms / 1000.0);
        }
        if let Some(ms) = s.time_to_repair_ms {
            self.time_to_repair.with_label_values(&[class, target]).observe(ms / 1000.0);
        }
        for (phase, within) in [("detect", s.slo.detect_within), ("repair", s.slo.repair_within)] {
            let labels = [s.name.as_str(), class, target, phase];
            // Present at 0 for every measured scenario, so "no breach" is data, not absence.
            self.slo_breaches.with_label_values(&labels).inc_by(s.slo_breaches.iter().any(|p| p == phase) as u64);
            self.slo_seconds.with_label_values(&labels).set(within.as_secs_f64());
        }
        if let Some(lost) = s.rows_lost {
            let expected = expected_outcome(s.expected_outcome);
            self.rows_lost.with_label_values(&[s.name.as_str(), class, target, expected]).inc_by(lost);
        }
        if let Some(allowed) = s.rows_lost_allowed {
            self.rows_lost_allowed.with_label_values(&scenario).set(allowed as f64);
        }
        self.false_incidents.with_label_values(&scenario).inc_by(s.false_incidents.len() as u64);
        self.false_repairs.with_label_values(&scenario).inc_by(s.false_repairs.len() as u64);
    }
}

/// Registers the suite's metrics in `registry`, with values from `suite`.
pub fn record_suite(registry: &Registry, suite: &SuiteReport) -> Result<(), prometheus::Error> {
    let m = SuiteMetrics::new(registry, buckets(suite))?;
    for s in &suite.scenarios {
        m.record(&suite.target, s);
    }
    let scores = crate::run::scores::of_suite(suite);
    for c in scores.classes.iter().chain(std::iter::once(&scores.run)) {
        m.class.record(&suite.target, c);
    }
    m.run_duration.with_label_values(&[&suite.target]).set(suite.duration_ms / 1000.0);
    let ended = suite.started_at + chrono::Duration::milliseconds(suite.duration_ms as i64);
    m.run_completed.with_label_values(&[&suite.target]).set(ended.timestamp_millis() as f64 / 1000.0);
    Ok(())
}

/// The run's exposition: the suite's metrics plus, when given, the healer's from the same run.
pub fn exposition(
    suite: &SuiteReport,
    healer: Option<&lakehealer::metrics::HealerMetrics>,
) -> Result<String, prometheus::Error> {
    let registry = Registry::new();
    record_suite(&registry, suite)?;
    let mut families = registry.gather();
    if let Some(h) = healer {
        families.extend(h.registry().gather());
    }
    Ok(lakehealer::metrics::encode(&families))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, status: Status, ttd: Option<f64>, breaches: &[&str]) -> ScenarioResult {
        let mut r = ScenarioResult::example(name);
        r.status = status;
        r.time_to_detect_ms = ttd;
        r.slo_breaches = breaches.iter().map(|s| s.to_string()).collect();
        r
    }

    fn suite(scenarios: Vec<ScenarioResult>) -> SuiteReport {
        SuiteReport {
            target: "local".into(),
            seed: 7,
            no_heal: false,
            healer: crate::run::HealerChoice::Bundled,
            jobs: 1,
            started_at: chrono::Utc::now(),
            duration_ms: 1500.0,
            scenarios,
        }
    }

    #[test]
    fn slo_deadlines_become_bucket_boundaries() {
        let b = buckets(&suite(vec![ScenarioResult::example("a")]));
        assert!(b.contains(&0.3) && b.contains(&2.0), "{b:?}");
        assert!(b.windows(2).all(|w| w[0] < w[1]), "sorted and unique: {b:?}");
    }

    #[test]
    fn the_exposition_carries_each_scenario() {
        let s = suite(vec![
            result("a", Status::Passed, Some(100.0), &[]),
            result("b", Status::Failed, Some(400.0), &["detect"]),
            result("c", Status::Skipped, None, &[]),
        ]);
        let text = exposition(&s, None).unwrap();
        for line in [
            r#"lakechaos_scenarios_total{fault_class="null_flood",outcome="passed",scenario="a",target="local"} 1"#,
            r#"lakechaos_scenarios_total{fault_class="null_flood",outcome="skipped",scenario="c",target="local"} 1"#,
            r#"lakechaos_time_to_detect_seconds_count{fault_class="null_flood",target="local"} 2"#,
            r#"lakechaos_time_to_detect_seconds_bucket{fault_class="null_flood",target="local",le="0.3"} 1"#,
            r#"lakechaos_slo_breaches_total{fault_class="null_flood",phase="detect",scenario="b",target="local"} 1"#,
            r#"lakechaos_slo_breaches_total{fault_class="null_flood",phase="detect",scenario="a",target="local"} 0"#,
            r#"lakechaos_rows_lost_total{expected_outcome="repaired",fault_class="null_flood",scenario="a",target="local"} 0"#,
            r#"lakechaos_rows_lost_allowed{fault_class="null_flood",scenario="a",target="local"} 0"#,
            r#"lakechaos_run_duration_seconds{target="local"} 1.5"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
        }
        assert!(!text.contains(r#"scenario="c",target="local"} 0"#), "a skipped scenario adds no measurements");
    }
}
