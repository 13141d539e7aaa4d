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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse_scenario;
    use std::time::Duration;

    fn scenario(outcome: &str) -> Scenario {
        parse_scenario(
            &format!(
                "name: s\nfixture: {{dataset: orders}}\nfault: {{kind: null_flood, fraction: 0.5}}\n\
                 slo: {{detect_within: 1s, repair_within: 2s}}\nexpect: {{outcome: {outcome}}}\n"
            ),
            std::path::Path::new("s.yaml"),
        )
        .unwrap()
    }

    fn observed() -> Observation {
        Observation {
            time_to_detect: Some(Duration::from_millis(25)),
            time_to_repair: Some(Duration::from_millis(250)),
            detection_tier: Some("footer".into()),
            detected_via: Some("fs_event".into()),
            event_to_detect: Some(Duration::from_millis(5)),
            detected_locations: ["a".to_string(), "b".to_string()].into(),
            incidents: 3,
            repairs: 4,
            pages_decoded: 6,
            footers_read: 7,
            ..Observation::default()
        }
    }

    fn healed() -> Verification {
        Verification { healed: true, rows_expected: 100, ..Verification::default() }
    }

    fn kept() -> DamageKept {
        DamageKept { damaged: 2, kept: 2, quarantined: vec!["_quarantine/a".into()] }
    }

    fn scored(scenario: &Scenario, obs: &Observation, fin: &Verification, total: usize) -> ScenarioResult {
        let mut r = ScenarioResult::blank(scenario, "local", 7);
        score(&mut r, scenario, obs, fin, total, &kept(), true);
        r
    }

    #[test]
    fn a_healed_lake_passes_with_every_figure_carried_over() {
        let s = scenario("repaired");
        let r = scored(&s, &observed(), &healed(), 2);
        assert_eq!(r.status, Status::Passed, "{:?}", r.failures);
        assert!(r.failures.is_empty() && r.slo_breaches.is_empty());
        assert_eq!(r.time_to_detect_ms, Some(25.0));
        assert_eq!(r.time_to_repair_ms, Some(250.0));
        assert_eq!(r.event_to_detect_ms, Some(5.0));
        assert_eq!((r.detection_tier.as_deref(), r.detected_via.as_deref()), (Some("footer"), Some("fs_event")));
        assert_eq!((r.locations_detected, r.incidents, r.repairs), (2, 3, 4));
        assert_eq!((r.pages_decoded, r.footers_read), (6, 7));
        assert_eq!((r.rows_lost, r.rows_lost_expected, r.rows_lost_unexpected), (Some(0), Some(0), Some(0)));
        assert_eq!((r.damaged_objects, r.damaged_objects_kept), (2, 2));
        assert_eq!(r.kept_for_inspection, ["_quarantine/a"]);
        assert_eq!(r.time_to_unrepairable_ms, None);
    }

    #[test]
    fn an_unhealed_lake_has_no_repair_time_whatever_the_healer_said() {
        let s = scenario("repaired");
        let fin = Verification { healed: false, rows_lost: 9, rows_unexpected: 1, ..healed() };
        let r = scored(&s, &observed(), &fin, 2);
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.time_to_repair_ms, None);
        assert_eq!(r.slo_breaches, ["repair"]);
        assert!(r.failures[0].contains("9 of 100 rows lost"), "{:?}", r.failures);
        assert_eq!((r.rows_lost, r.rows_lost_expected, r.rows_lost_unexpected), (Some(9), Some(0), Some(9)));
    }

    #[test]
    fn missed_locations_false_alarms_and_false_repairs_fail_the_scenario() {
        let s = scenario("repaired");
        let obs = Observation {
            false_incidents: vec!["x".into()],
            false_repairs: vec!["Quarantine at y from z".into()],
            ..observed()
        };
        let r = scored(&s, &obs, &healed(), 3);
        assert_eq!(r.status, Status::Failed);
        assert!(r.failures.iter().any(|f| f.contains("2 of 3 damaged locations")), "{:?}", r.failures);
        assert!(r.failures.iter().any(|f| f.starts_with("false_repairs: 1")), "{:?}", r.failures);
        assert!(r.failures.iter().any(|f| f.starts_with("false_incidents: 1")), "{:?}", r.failures);
        assert_eq!(r.false_incidents, ["x"]);
        assert_eq!(r.false_repairs, ["Quarantine at y from z"]);
    }

    #[test]
    fn unrepairable_is_timed_only_once_every_location_was_reported() {
        let s = scenario("unrepairable");
        let fin = Verification { healed: false, rows_lost: 50, ..healed() };
        let all = Observation {
            unrepairable_locations: ["a".to_string(), "b".to_string()].into(),
            time_to_unrepairable: Some(Duration::from_millis(80)),
            ..observed()
        };
        let r = scored(&s, &all, &fin, 2);
        assert_eq!(r.status, Status::Passed, "{:?}", r.failures);
        assert_eq!(r.time_to_unrepairable_ms, Some(80.0));
        assert_eq!((r.rows_lost_expected, r.rows_lost_unexpected), (Some(50), Some(0)));

        let some = Observation { unrepairable_locations: ["a".to_string()].into(), ..all };
        let r = scored(&s, &some, &fin, 2);
        assert_eq!(r.time_to_unrepairable_ms, None);
        assert_eq!(r.status, Status::Failed);
    }
}
