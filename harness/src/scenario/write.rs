//! A scenario written back as a scenario file: for cases generated in code (a property test's
//! shrunk failure, a fuzzer's find) that a person should be able to re-run with `lakechaos run`.
//! Writes the `orders` fixture form; a fixture shaped like a profiled table is written by its
//! profile's path, which the caller must keep beside the file.

use super::Scenario;
use lakechaos_faults::FaultSpec;
use serde::Serialize;

#[derive(Serialize)]
struct FileOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    needs: &'a [super::Capability],
    fixture: FixtureOut<'a>,
    fault: FaultOut,
    slo: SloOut,
    expect: ExpectOut,
}

#[derive(Serialize)]
struct FixtureOut<'a> {
    dataset: &'a str,
    days: u32,
    rows_per_day: u32,
    files_per_day: u32,
    rows_per_row_group: u32,
    start_date: String,
    landing: bool,
    versioning: bool,
}

#[derive(Serialize)]
struct SloOut {
    detect_within: String,
    repair_within: String,
}

#[derive(Serialize)]
struct ExpectOut {
    outcome: super::ExpectedOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_lost: Option<u64>,
    false_incidents: u64,
}

/// The fault as a scenario declares it: `kind` first (the loader requires it there), then the
/// parameters, those left at their defaults (`null`) left out.
struct FaultOut(serde_json::Map<String, serde_json::Value>);

impl FaultOut {
    fn of(fault: &FaultSpec) -> FaultOut {
        fn prune(v: serde_json::Value) -> serde_json::Value {
            match v {
                serde_json::Value::Object(o) => serde_json::Value::Object(
                    o.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, prune(v))).collect(),
                ),
                v => v,
            }
        }
        match prune(serde_json::to_value(fault).unwrap_or_default()) {
            serde_json::Value::Object(o) => FaultOut(o),
            _ => FaultOut(serde_json::Map::new()),
        }
    }
}

impl Serialize for FaultOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        if let Some(kind) = self.0.get("kind") {
            map.serialize_entry("kind", kind)?;
        }
        for (k, v) in self.0.iter().filter(|(k, _)| *k != "kind") {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// `scenario` as the text of a scenario file.
pub fn to_yaml(scenario: &Scenario) -> Result<String, String> {
    let f = &scenario.fixture;
    let ms = |d: std::time::Duration| format!("{}ms", d.as_millis());
    let out = FileOut {
        name: &scenario.name,
        description: &scenario.description,
        tags: &scenario.tags,
        needs: &scenario.needs,
        fixture: FixtureOut {
            dataset: &scenario.dataset,
            days: f.days,
            rows_per_day: f.rows_per_day,
            files_per_day: f.files_per_day,
            rows_per_row_group: f.rows_per_row_group,
            start_date: f.start_date.to_string(),
            landing: f.landing,
            versioning: scenario.versioning,
        },
        fault: FaultOut::of(&scenario.fault),
        slo: SloOut { detect_within: ms(scenario.slo.detect_within), repair_within: ms(scenario.slo.repair_within) },
        expect: ExpectOut {
            outcome: scenario.expect.outcome,
            rows_lost: scenario.expect.rows_lost,
            false_incidents: scenario.expect.false_incidents,
        },
    };
    serde_saphyr::to_string(&out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load::parse_scenario;
    use std::path::Path;

    #[test]
    fn every_example_fault_round_trips_through_a_scenario_file() {
        let base = parse_scenario(
            "name: generated-case\nfixture: {dataset: orders, days: 3, rows_per_day: 400, files_per_day: 2, landing: false}\nfault: {kind: null_flood, fraction: 0.5}\nslo: {detect_within: 1500ms, repair_within: 2s}\nexpect: {outcome: repaired}\n",
            Path::new("case.yaml"),
        )
        .unwrap();
        let faults = FaultSpec::examples(&Default::default());
        assert!(faults.len() >= 10);
        for fault in faults {
            let scenario = Scenario { fault: fault.clone(), ..base.clone() };
            let text = to_yaml(&scenario).unwrap();
            let back = parse_scenario(&text, Path::new("case.yaml")).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(back.fault, fault, "{text}");
            assert_eq!(back.fixture, scenario.fixture, "{text}");
            assert_eq!((back.slo, back.expect, back.versioning), (scenario.slo, scenario.expect, scenario.versioning));
            assert_eq!(back.name, "generated-case");
        }
    }
}
