//! Scoring: incidents against ground truth, and a scenario's expectations against what was
//! measured. Pure functions, so they are tested without running anything.

use crate::scenario::{ExpectedOutcome, Scenario};
use lakechaos_faults::GroundTruth;
use std::time::Duration;

/// Whether an incident (kind, location) is the injected damage: the kind a healer reports for the
/// fault's class (a revoked grant is a `missing_grant`), at one of its locations.
pub fn matches(truth: &GroundTruth, kind: &str, location: &str) -> bool {
    kind == truth.kind.incident_kind() && truth.locations().iter().any(|l| l == location)
}

/// Whether an incident that does not match the damage is still about it: an incident about a
/// whole partition the fault damaged (a partition left without data once the healer
/// quarantined its only, damaged, file) reports the damage's consequence, not a false alarm.
pub fn about_damage(truth: &GroundTruth, location: &str) -> bool {
    truth.partitions.iter().any(|p| p == location)
}

/// Whether a repair at `location` stays inside the fault's footprint: a location the ground
/// truth names (a file, a partition, a catalog entry, a grant), an object inside a partition it
/// names, or the damaged table's own catalog entry (an Iceberg table is mended by a commit
/// there, whatever the fault damaged in it). A repair anywhere else touched what the fault
/// never damaged.
pub fn within_footprint(truth: &GroundTruth, location: &str) -> bool {
    let named = [&truth.files, &truth.partitions, &truth.catalog, &truth.grants];
    named.iter().any(|set| set.iter().any(|l| l == location))
        || truth.partitions.iter().any(|p| location.starts_with(&format!("{}/", p.trim_end_matches('/'))))
        || location == lakechaos_faults::catalog_location(&truth.table)
        || downstream_of(truth, location)
}

/// Whether `location` is the models downstream of the damaged table (`dbt:source:SCHEMA.TABLE+`):
/// rebuilding what was derived from the damaged rows is part of mending them.
fn downstream_of(truth: &GroundTruth, location: &str) -> bool {
    let Some(source) = location.strip_prefix("dbt:source:") else { return false };
    let source = source.trim_end_matches('+');
    let table = truth.table.rsplit('.').next().unwrap_or(&truth.table);
    source.rsplit('.').next() == Some(table)
}

/// Rows lost, split into the loss a scenario declared unrepairable expects (the fault destroyed
/// what no source holds) and the loss nobody expected: `(expected, unexpected)`.
pub fn loss_split(outcome: ExpectedOutcome, rows_lost: u64) -> (u64, u64) {
    match outcome {
        ExpectedOutcome::Unrepairable => (rows_lost, 0),
        _ => (0, rows_lost),
    }
}

/// What the runner measured for one scenario.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    pub time_to_detect: Option<Duration>,
    pub time_to_repair: Option<Duration>,
    pub locations_detected: usize,
    pub locations_total: usize,
    pub rows_lost: u64,
    pub false_incidents: usize,
    /// Why the lake is not equal to golden, when it is not.
    pub unhealed_because: Option<String>,
    /// When the healer had reported every damaged location unrepairable.
    pub time_to_unrepairable: Option<Duration>,
    /// Damaged objects (as the fault wrote them) still in the lake, in place or quarantined.
    pub damaged_objects_kept: usize,
    pub damaged_objects: usize,
    /// Whether the healer's incidents could be seen (always for the bundled healer; for an
    /// external one only through its incident topic). Unseen, detection is not judged, and an
    /// unrepairable fault is judged from the lake alone.
    pub detection_observed: bool,
    /// Rows the lake serves that golden does not have (a healer that invents rows).
    pub rows_unexpected: u64,
    /// Repairs outside the fault's footprint, each described.
    pub false_repairs: Vec<String>,
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The detection deadline's breach, if any, with its numbers.
fn detect_breach(scenario: &Scenario, m: &Measured) -> Option<String> {
    if !m.detection_observed {
        return None;
    }
    let within = scenario.slo.detect_within;
    match m.time_to_detect {
        None => Some(format!("detect: no matching incident within detect_within {} (SLO breach)", ms(within))),
        Some(t) if t > within => {
            Some(format!("detect: time to detect {} exceeds detect_within {} (SLO breach)", ms(t), ms(within)))
        }
        Some(_) => None,
    }
}

/// The repair deadline's breach, if any: repaired too late (or never), or for an unrepairable
/// fault, reported unrepairable too late (or never).
fn repair_breach(scenario: &Scenario, m: &Measured) -> Option<String> {
    let within = scenario.slo.repair_within;
    match scenario.expect.outcome {
        ExpectedOutcome::Repaired => match m.time_to_repair {
            None => Some(format!(
                "repair: lake not equal to golden within repair_within {} (SLO breach){}",
                ms(within),
                m.unhealed_because.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
            )),
            Some(t) if t > within => {
                Some(format!("repair: time to repair {} exceeds repair_within {} (SLO breach)", ms(t), ms(within)))
            }
            Some(_) => None,
        },
        // Judged from the lake: not healed (the damage is kept, checked with the quarantine),
        // and nothing invented.
        ExpectedOutcome::Unrepairable if !m.detection_observed => (m.rows_unexpected > 0)
            .then(|| format!("unrepairable: the lake serves {} row(s) golden does not have", m.rows_unexpected)),
        ExpectedOutcome::Unrepairable => match m.time_to_unrepairable {
            None => Some(format!(
                "unrepairable: the healer did not report every damaged location unrepairable within repair_within {}",
                ms(within)
            )),
            Some(t) if t > within => Some(format!(
                "unrepairable: reported after {}, beyond repair_within {} (SLO breach)",
                ms(t),
                ms(within)
            )),
            Some(_) => None,
        },
        ExpectedOutcome::Detected => None,
    }
}

/// The SLO phases (`detect`, `repair`) whose deadline was missed.
pub fn slo_breaches(scenario: &Scenario, m: &Measured) -> Vec<String> {
    let mut phases = Vec::new();
    if detect_breach(scenario, m).is_some() {
        phases.push("detect".to_string());
    }
    if repair_breach(scenario, m).is_some() {
        phases.push("repair".to_string());
    }
    phases
}

/// Every broken expectation, each naming its numbers. Empty means passed.
pub fn failures(scenario: &Scenario, m: &Measured) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(detect_breach(scenario, m));
    if !m.detection_observed && scenario.expect.outcome == ExpectedOutcome::Detected {
        out.push(
            "detect: the scenario expects only detection, and the external healer's incidents are not observed \
             (give --incident-topic)"
                .into(),
        );
    } else if m.detection_observed && m.locations_detected < m.locations_total {
        out.push(format!(
            "detect: {} of {} damaged locations raised a matching incident",
            m.locations_detected, m.locations_total
        ));
    }
    out.extend(repair_breach(scenario, m));
    if m.damaged_objects_kept < m.damaged_objects {
        out.push(format!(
            "quarantine: {} of {} damaged object(s) are gone from the lake (damage must be quarantined, never deleted)",
            m.damaged_objects - m.damaged_objects_kept,
            m.damaged_objects
        ));
    }
    if let Some(max) = scenario.expect.rows_lost {
        if m.rows_lost > max {
            out.push(format!("rows_lost: {} rows lost, expected at most {max}", m.rows_lost));
        }
    }
    if !m.false_repairs.is_empty() {
        out.push(format!(
            "false_repairs: {} repair(s) touched objects outside the fault's footprint: {}",
            m.false_repairs.len(),
            m.false_repairs.join("; ")
        ));
    }
    if m.false_incidents as u64 > scenario.expect.false_incidents {
        out.push(format!(
            "false_incidents: {} incident(s) match no injected damage, expected at most {}",
            m.false_incidents, scenario.expect.false_incidents
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse_scenario;
    use lakechaos_faults::FaultClass;
    use std::path::Path;

    fn scenario() -> Scenario {
        parse_scenario(
            "name: s\nfixture: {dataset: orders}\nfault: {kind: null_flood, fraction: 0.5}\nslo: {detect_within: 1s, repair_within: 2s}\nexpect: {outcome: repaired}\n",
            Path::new("s.yaml"),
        )
        .unwrap()
    }

    #[test]
    fn a_revoked_grant_is_matched_by_the_healer_kind_at_the_grant() {
        let truth = GroundTruth {
            kind: FaultClass::PermissionDrift,
            grants: vec!["lakeformation/table db.orders/arn:r".into()],
            catalog: vec![],
            files: vec![],
            ..truth()
        };
        assert!(matches(&truth, "missing_grant", "lakeformation/table db.orders/arn:r"));
        assert!(!matches(&truth, "permission_drift", "lakeformation/table db.orders/arn:r"));
        assert!(!matches(&truth, "missing_grant", "orders/dt=2024-03-01"));
    }

    fn truth() -> GroundTruth {
        GroundTruth {
            kind: FaultClass::NullFlood,
            mode: "fraction".into(),
            table: "orders".into(),
            partitions: vec!["orders/dt=2024-03-01".into()],
            files: vec!["orders/dt=2024-03-01/part-0.parquet".into()],
            columns: vec![],
            catalog: vec![],
            grants: vec![],
            rows_affected: 10,
            detail: String::new(),
        }
    }

    #[test]
    fn an_incident_about_a_damaged_partition_is_not_false() {
        let t = truth();
        assert!(about_damage(&t, "orders/dt=2024-03-01"));
        assert!(!about_damage(&t, "orders/dt=2024-03-02"));
        assert!(!about_damage(&t, "orders/dt=2024-03-01/part-1.parquet"), "another file is not the damage");
    }

    #[test]
    fn matching_needs_kind_and_location() {
        let t = truth();
        assert!(matches(&t, "null_flood", "orders/dt=2024-03-01/part-0.parquet"));
        assert!(!matches(&t, "schema_drift", "orders/dt=2024-03-01/part-0.parquet"));
        assert!(!matches(&t, "null_flood", "orders/dt=2024-03-01/part-1.parquet"));
        assert!(!matches(&t, "null_flood", "orders/dt=2024-03-01"), "file faults match files, not partitions");
    }

    #[test]
    fn a_good_run_passes_and_each_breach_is_named() {
        let s = scenario();
        let good = Measured {
            time_to_detect: Some(Duration::from_millis(20)),
            time_to_repair: Some(Duration::from_millis(90)),
            locations_detected: 1,
            locations_total: 1,
            detection_observed: true,
            ..Measured::default()
        };
        assert!(failures(&s, &good).is_empty());

        let slow = Measured { time_to_detect: Some(Duration::from_millis(1500)), ..good.clone() };
        assert!(failures(&s, &slow)[0].contains("1500 ms exceeds detect_within 1000 ms"));

        let unhealed = Measured {
            time_to_repair: None,
            rows_lost: 7,
            unhealed_because: Some("rows lost 7".into()),
            ..good.clone()
        };
        let f = failures(&s, &unhealed);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].starts_with("repair:") && f[0].contains("SLO breach"));
        assert!(f[1].contains("7 rows lost"));

        let noisy = Measured { false_incidents: 2, ..good.clone() };
        assert!(failures(&s, &noisy)[0].contains("2 incident(s)"));

        let deleted = Measured { damaged_objects: 2, damaged_objects_kept: 1, ..good.clone() };
        assert!(failures(&s, &deleted)[0].contains("1 of 2 damaged object(s) are gone"));

        let meddling = Measured { false_repairs: vec!["Restore at orders/dt=x/other.parquet".into()], ..good.clone() };
        assert!(failures(&s, &meddling)[0].starts_with("false_repairs: 1 repair(s) touched objects outside"));

        let mut unrepairable = s.clone();
        unrepairable.expect.outcome = ExpectedOutcome::Unrepairable;
        let f = failures(&unrepairable, &Measured { time_to_repair: None, ..good.clone() });
        assert!(f[0].starts_with("unrepairable: the healer did not report"), "{f:?}");
        let reported =
            Measured { time_to_repair: None, time_to_unrepairable: Some(Duration::from_millis(30)), ..good.clone() };
        assert!(failures(&unrepairable, &reported).is_empty());
    }

    #[test]
    fn the_footprint_is_the_truths_locations_and_what_is_inside_its_partitions() {
        let t = GroundTruth {
            files: vec!["orders/dt=1/a.parquet".into()],
            partitions: vec!["orders/dt=1".into()],
            catalog: vec!["catalog:orders".into()],
            ..truth()
        };
        for inside in ["orders/dt=1/a.parquet", "orders/dt=1/b.parquet", "orders/dt=1", "catalog:orders"] {
            assert!(within_footprint(&t, inside), "{inside}");
        }
        assert!(
            within_footprint(&GroundTruth { catalog: vec![], ..t.clone() }, "catalog:orders"),
            "the table's own entry"
        );
        assert!(within_footprint(&t, "dbt:source:served.orders+"), "models downstream of the table");
        assert!(!within_footprint(&t, "dbt:source:served.customers+"));
        for outside in ["orders/dt=10/a.parquet", "orders/dt=2/a.parquet", "catalog:sales", "orders"] {
            assert!(!within_footprint(&t, outside), "{outside}");
        }
        assert_eq!(loss_split(ExpectedOutcome::Unrepairable, 5), (5, 0));
        assert_eq!(loss_split(ExpectedOutcome::Repaired, 5), (0, 5));
    }

    #[test]
    fn an_unobserved_external_healer_is_judged_by_the_lake_alone() {
        let s = scenario();
        let unseen = Measured {
            time_to_detect: None,
            time_to_repair: Some(Duration::from_millis(400)),
            locations_detected: 0,
            locations_total: 1,
            detection_observed: false,
            ..Measured::default()
        };
        assert!(failures(&s, &unseen).is_empty(), "{:?}", failures(&s, &unseen));
        assert!(slo_breaches(&s, &unseen).is_empty());

        // Nobody healed: the repair deadline still fails it.
        let nobody = Measured { time_to_repair: None, rows_lost: 3, ..unseen.clone() };
        assert_eq!(slo_breaches(&s, &nobody), vec!["repair".to_string()]);

        let mut unrepairable = s.clone();
        unrepairable.expect.outcome = ExpectedOutcome::Unrepairable;
        assert!(failures(&unrepairable, &Measured { time_to_repair: None, ..unseen.clone() }).is_empty());
        let invented = Measured { time_to_repair: None, rows_unexpected: 5, ..unseen.clone() };
        assert!(failures(&unrepairable, &invented)[0].contains("5 row(s) golden does not have"));

        let mut detected = s.clone();
        detected.expect.outcome = ExpectedOutcome::Detected;
        assert!(failures(&detected, &unseen)[0].contains("--incident-topic"));
    }
    #[test]
    fn a_deadline_met_exactly_is_met() {
        let s = scenario();
        let at = |detect: u64, repair: u64| Measured {
            time_to_detect: Some(Duration::from_millis(detect)),
            time_to_repair: Some(Duration::from_millis(repair)),
            locations_detected: 1,
            locations_total: 1,
            detection_observed: true,
            ..Measured::default()
        };
        assert!(failures(&s, &at(1000, 2000)).is_empty(), "{:?}", failures(&s, &at(1000, 2000)));
        assert_eq!(slo_breaches(&s, &at(1001, 2000)), ["detect"]);
        let late = failures(&s, &at(10, 2001));
        assert_eq!(late, ["repair: time to repair 2001 ms exceeds repair_within 2000 ms (SLO breach)"]);
        assert_eq!(slo_breaches(&s, &at(10, 2001)), ["repair"]);

        let mut unrepairable = s.clone();
        unrepairable.expect.outcome = ExpectedOutcome::Unrepairable;
        let reported = |ms: u64| Measured {
            time_to_repair: None,
            time_to_unrepairable: Some(Duration::from_millis(ms)),
            ..at(10, 0)
        };
        assert!(failures(&unrepairable, &reported(2000)).is_empty());
        assert_eq!(
            failures(&unrepairable, &reported(2001)),
            ["unrepairable: reported after 2001 ms, beyond repair_within 2000 ms (SLO breach)"]
        );
    }

    #[test]
    fn every_damaged_location_must_be_detected() {
        let s = scenario();
        let partly = Measured {
            time_to_detect: Some(Duration::from_millis(10)),
            time_to_repair: Some(Duration::from_millis(20)),
            locations_detected: 2,
            locations_total: 3,
            detection_observed: true,
            ..Measured::default()
        };
        assert_eq!(failures(&s, &partly), ["detect: 2 of 3 damaged locations raised a matching incident"]);
        assert!(failures(&s, &Measured { locations_detected: 3, ..partly.clone() }).is_empty());
        assert!(failures(&s, &Measured { locations_detected: 4, ..partly }).is_empty(), "more incidents are not fewer");
    }
}
