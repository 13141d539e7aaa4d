//! What a run produced: per scenario and per suite.

use crate::scenario::{Scenario, Slo};
use lakechaos_faults::GroundTruth;
use lakechaos_fixtures::Verification;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How a scenario ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// An expectation did not hold (see `failures`).
    Failed,
    /// The target lacks a capability the scenario needs.
    Skipped,
    /// The scenario could not run (steady state broken, fault not applicable, I/O error).
    Error,
}

/// The result of one scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    pub source: PathBuf,
    pub target: String,
    pub fault_class: String,
    pub fault_mode: String,
    /// The run seed (each scenario derives its own streams from it and its name).
    pub seed: u64,
    pub status: Status,
    /// Broken expectations, each with its numbers.
    pub failures: Vec<String>,
    /// SLO phases (`detect`, `repair`) whose deadline was missed.
    pub slo_breaches: Vec<String>,
    /// Why the scenario could not run, or was skipped.
    pub reason: Option<String>,
    pub slo: Slo,
    /// What the scenario expects of the healer (`repaired`, `detected`, `unrepairable`).
    pub expected_outcome: crate::scenario::ExpectedOutcome,
    /// The most rows the scenario may lose; `None` where loss is not checked (nothing heals).
    pub rows_lost_allowed: Option<u64>,
    /// From the start of injection to the first incident matching the ground truth.
    pub time_to_detect_ms: Option<f64>,
    /// From the start of injection to the first passing verification against golden.
    pub time_to_repair_ms: Option<f64>,
    /// From the start of injection until every damaged location was reported unrepairable.
    pub time_to_unrepairable_ms: Option<f64>,
    /// Objects the fault wrote, and how many of them are still in the lake (in place or in
    /// quarantine) at the end: the healer must never delete.
    pub damaged_objects: usize,
    pub damaged_objects_kept: usize,
    /// The healer's quarantined copies of the damage, left in the lake for inspection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_for_inspection: Vec<String>,
    /// Tier of the first matching incident (`listing`, `footer`, `pages`).
    pub detection_tier: Option<String>,
    /// What made the healer look when it raised the first matching incident (`s3_event`,
    /// `fs_event`, `reconcile`, `scan`).
    pub detected_via: Option<String>,
    /// For event-triggered detection: from the change's own event time (S3's `eventTime`) to the
    /// incident.
    pub event_to_detect_ms: Option<f64>,
    /// Ground-truth locations with a matching incident / all ground-truth locations.
    pub locations_detected: usize,
    pub locations_total: usize,
    pub rows_expected: u64,
    /// Golden rows not served intact at the end (before any revert), measured by the harness.
    pub rows_lost: Option<u64>,
    /// `rows_lost` in a scenario declared unrepairable: the loss its fault was expected to cause.
    #[serde(default)]
    pub rows_lost_expected: Option<u64>,
    /// `rows_lost` anywhere else: loss nobody expected.
    #[serde(default)]
    pub rows_lost_unexpected: Option<u64>,
    /// Repairs that touched objects outside the fault's footprint.
    #[serde(default)]
    pub false_repairs: Vec<String>,
    pub incidents: usize,
    /// Incidents that match no injected damage.
    pub false_incidents: Vec<String>,
    pub repairs: usize,
    /// File checks during the run that decoded pages / read only footers.
    pub pages_decoded: usize,
    pub footers_read: usize,
    pub ground_truth: Option<GroundTruth>,
    pub verification: Option<Verification>,
    /// Whether the harness reverted the fault from its journal because the lake was not healed.
    pub reverted: bool,
    pub journal: Option<PathBuf>,
    /// Where the scenario stopped, when it ended in an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_stage: Option<crate::error::Stage>,
    /// PostgreSQL scenarios: the dbt steady-state probe before injection, after it, and after
    /// repair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbt_probe: Option<crate::backend::ProbeTimeline>,
    pub duration_ms: f64,
    /// Other scenarios of the suite that were running at some point while this one ran
    /// (`--jobs` above 1): its TTD and TTR then include waiting for the cores they used.
    pub ran_alongside: usize,
}

impl ScenarioResult {
    /// A result that has not run yet (status `error` until the runner says otherwise).
    pub fn blank(scenario: &Scenario, target: &str, seed: u64) -> ScenarioResult {
        ScenarioResult {
            fault_class: scenario.fault.class().to_string(),
            fault_mode: scenario.fault.mode(),
            slo: scenario.slo,
            expected_outcome: scenario.expect.outcome,
            rows_lost_allowed: scenario.expect.rows_lost,
            ..ScenarioResult::unjudged(&scenario.name, &scenario.source, target, seed)
        }
    }

    /// The result of a scenario that could not even be read (its fault, SLO and expectations
    /// unknown): status `error`.
    pub fn unjudged(name: &str, source: &std::path::Path, target: &str, seed: u64) -> ScenarioResult {
        ScenarioResult {
            name: name.to_string(),
            source: source.to_path_buf(),
            target: target.to_string(),
            fault_class: "unknown".into(),
            fault_mode: "unknown".into(),
            seed,
            status: Status::Error,
            failures: Vec::new(),
            slo_breaches: Vec::new(),
            reason: None,
            slo: Slo { detect_within: std::time::Duration::ZERO, repair_within: std::time::Duration::ZERO },
            expected_outcome: crate::scenario::ExpectedOutcome::Repaired,
            rows_lost_allowed: None,
            time_to_detect_ms: None,
            time_to_repair_ms: None,
            time_to_unrepairable_ms: None,
            damaged_objects: 0,
            damaged_objects_kept: 0,
            kept_for_inspection: Vec::new(),
            detection_tier: None,
            detected_via: None,
            event_to_detect_ms: None,
            locations_detected: 0,
            locations_total: 0,
            rows_expected: 0,
            rows_lost: None,
            rows_lost_expected: None,
            rows_lost_unexpected: None,
            false_repairs: Vec::new(),
            incidents: 0,
            false_incidents: Vec::new(),
            repairs: 0,
            pages_decoded: 0,
            footers_read: 0,
            ground_truth: None,
            verification: None,
            reverted: false,
            journal: None,
            error_stage: None,
            dbt_probe: None,
            duration_ms: 0.0,
            ran_alongside: 0,
        }
    }
}

#[cfg(test)]
impl ScenarioResult {
    /// A passed null-flood scenario (SLO 300 ms / 2 s) with plausible figures, for unit tests of
    /// what consumes results.
    pub(crate) fn example(name: &str) -> ScenarioResult {
        let yaml = format!(
            "name: {name:?}\nfixture: {{dataset: orders}}\nfault: {{kind: null_flood, fraction: 0.5}}\nslo: {{detect_within: 300ms, repair_within: 2s}}\nexpect: {{outcome: repaired}}\n"
        );
        let scenario = crate::scenario::load::parse_scenario(&yaml, std::path::Path::new("x.yaml")).expect("valid");
        ScenarioResult {
            status: Status::Passed,
            time_to_repair_ms: Some(120.0),
            locations_detected: 1,
            locations_total: 1,
            rows_expected: 10,
            rows_lost: Some(0),
            incidents: 1,
            repairs: 1,
            duration_ms: 500.0,
            ..ScenarioResult::blank(&scenario, "local", 7)
        }
    }
}

/// The result of a suite on one target.
#[derive(Clone, Debug, Serialize)]
pub struct SuiteReport {
    pub target: String,
    pub seed: u64,
    /// Whether the healer ran detect-only (`healer` is `none`).
    pub no_heal: bool,
    /// Who healed: `bundled`, `external` or `none`.
    pub healer: super::HealerChoice,
    /// Scenarios run at once.
    pub jobs: usize,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub duration_ms: f64,
    pub scenarios: Vec<ScenarioResult>,
}

impl SuiteReport {
    /// Scenarios with this status.
    pub fn count(&self, status: Status) -> usize {
        self.scenarios.iter().filter(|s| s.status == status).count()
    }

    /// True when nothing failed or errored (skips are not failures, and not passes).
    pub fn all_passed(&self) -> bool {
        self.count(Status::Failed) == 0 && self.count(Status::Error) == 0
    }
}
