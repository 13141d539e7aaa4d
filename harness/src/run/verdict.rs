//! The verdict: what was observed and verified, scored against the scenario's expectations
//! into its result.

use super::observe::Observation;
use super::result::{ScenarioResult, Status};
use super::scoring::{self, Measured};
use crate::backend::DamageKept;
use crate::scenario::Scenario;
use lakechaos_fixtures::Verification;

/// Scores `obs` and the final verification `fin` into `result`.
pub(crate) fn score(
    result: &mut ScenarioResult,
    scenario: &Scenario,
    obs: &Observation,
    fin: &Verification,
    locations_total: usize,
    damage: &DamageKept,
    detection_observed: bool,
) {
    let measured = Measured {
        time_to_detect: obs.time_to_detect,
        time_to_repair: if fin.healed { obs.time_to_repair } else { None },
        locations_detected: obs.detected_locations.len(),
        locations_total,
        rows_lost: fin.rows_lost,
        false_incidents: obs.false_incidents.len(),
        unhealed_because: (!fin.healed).then(|| fin.describe()),
        time_to_unrepairable: (obs.unrepairable_locations.len() == locations_total)
            .then_some(obs.time_to_unrepairable)
            .flatten(),
        damaged_objects_kept: damage.kept,
        damaged_objects: damage.damaged,
        detection_observed,
        rows_unexpected: fin.rows_unexpected,
        false_repairs: obs.false_repairs.clone(),
    };
    result.failures = scoring::failures(scenario, &measured);
    result.slo_breaches = scoring::slo_breaches(scenario, &measured);
    result.status = if result.failures.is_empty() { Status::Passed } else { Status::Failed };
    result.time_to_detect_ms = measured.time_to_detect.map(|d| d.as_secs_f64() * 1000.0);
    result.time_to_repair_ms = measured.time_to_repair.map(|d| d.as_secs_f64() * 1000.0);
    result.detection_tier = obs.detection_tier.clone();
    result.detected_via = obs.detected_via.clone();
    result.event_to_detect_ms = obs.event_to_detect.map(|d| d.as_secs_f64() * 1000.0);
    result.locations_detected = measured.locations_detected;
    result.rows_lost = Some(fin.rows_lost);
    let (expected, unexpected) = scoring::loss_split(scenario.expect.outcome, fin.rows_lost);
    result.rows_lost_expected = Some(expected);
    result.rows_lost_unexpected = Some(unexpected);
    result.false_repairs = obs.false_repairs.clone();
    result.incidents = obs.incidents;
    result.false_incidents = obs.false_incidents.clone();
    result.repairs = obs.repairs;
    result.pages_decoded = obs.pages_decoded;
    result.footers_read = obs.footers_read;
    result.time_to_unrepairable_ms = measured.time_to_unrepairable.map(|d| d.as_secs_f64() * 1000.0);
    result.damaged_objects = damage.damaged;
    result.damaged_objects_kept = damage.kept;
    result.kept_for_inspection = damage.quarantined.clone();
}
