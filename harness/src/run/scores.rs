//! Scores a dashboard can chart: per run and per fault class, the time to detect and to repair
//! (p50, p95, max), recall (injected locations detected / injected), false incidents, false
//! repairs, and rows lost split into the loss scenarios declared unrepairable expect and the
//! loss nobody expected. Every report (JSON, table, HTML, Markdown, JUnit, Prometheus) takes its
//! figures from here, so they agree.

use crate::run::result::{ScenarioResult, Status, SuiteReport};
use serde::Serialize;
use std::collections::BTreeMap;

/// Nearest-rank percentiles of a sample, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Distribution {
    pub samples: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentiles; `None` without samples.
pub fn distribution(mut samples: Vec<f64>) -> Option<Distribution> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let rank = |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    Some(Distribution { samples: samples.len(), p50_ms: rank(0.50), p95_ms: rank(0.95), max_ms: rank(1.0) })
}

/// The scores of a set of scenario results (one fault class, or the whole run).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    /// `all` for the whole run, else the fault class.
    pub fault_class: String,
    /// Scenarios that ran to a verdict (passed or failed); skipped and errored ones measured
    /// nothing and add nothing here.
    pub scenarios: usize,
    pub passed: usize,
    pub time_to_detect: Option<Distribution>,
    pub time_to_repair: Option<Distribution>,
    pub locations_injected: usize,
    pub locations_detected: usize,
    /// `locations_detected / locations_injected`; `None` when nothing was injected (or no
    /// incident could be seen: an external healer without an incident topic).
    pub recall: Option<f64>,
    pub false_incidents: usize,
    /// Repairs that touched objects outside the fault's footprint.
    pub false_repairs: usize,
    /// Rows lost in scenarios declared unrepairable (no source exists: the loss is the fault's).
    pub rows_lost_expected: u64,
    /// Rows lost anywhere else: the healer's (or the harness's) failure.
    pub rows_lost_unexpected: u64,
}

/// A run's scores: overall, and per fault class (sorted by class).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    pub run: Score,
    pub classes: Vec<Score>,
}

fn score(fault_class: &str, results: &[&ScenarioResult]) -> Score {
    let measured: Vec<&&ScenarioResult> =
        results.iter().filter(|r| matches!(r.status, Status::Passed | Status::Failed)).collect();
    let injected: usize = measured.iter().map(|r| r.locations_total).sum();
    let detected: usize = measured.iter().map(|r| r.locations_detected).sum();
    Score {
        fault_class: fault_class.to_string(),
        scenarios: measured.len(),
        passed: measured.iter().filter(|r| r.status == Status::Passed).count(),
        time_to_detect: distribution(measured.iter().filter_map(|r| r.time_to_detect_ms).collect()),
        time_to_repair: distribution(measured.iter().filter_map(|r| r.time_to_repair_ms).collect()),
        locations_injected: injected,
        locations_detected: detected,
        recall: (injected > 0).then(|| detected as f64 / injected as f64),
        false_incidents: measured.iter().map(|r| r.false_incidents.len()).sum(),
        false_repairs: measured.iter().map(|r| r.false_repairs.len()).sum(),
        rows_lost_expected: measured.iter().map(|r| r.rows_lost_expected.unwrap_or(0)).sum(),
        rows_lost_unexpected: measured.iter().map(|r| r.rows_lost_unexpected.unwrap_or(0)).sum(),
    }
}

/// The scores of `results`.
pub fn of_results(results: &[&ScenarioResult]) -> Scores {
    let mut by_class: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for r in results {
        by_class.entry(r.fault_class.as_str()).or_default().push(r);
    }
    Scores { run: score("all", results), classes: by_class.iter().map(|(class, rs)| score(class, rs)).collect() }
}

/// The scores of one suite.
pub fn of_suite(suite: &SuiteReport) -> Scores {
    of_results(&suite.scenarios.iter().collect::<Vec<_>>())
}

impl Score {
    /// The figures after the class name, as the table and the Markdown print them: scenarios,
    /// TTD p50/p95/max, TTR p50/p95/max, recall, false incidents, false repairs, rows lost
    /// unexpected, rows lost expected.
    pub fn cells(&self) -> [String; 12] {
        let (d, r) = (self.time_to_detect, self.time_to_repair);
        [
            self.scenarios.to_string(),
            ms(d.map(|d| d.p50_ms)),
            ms(d.map(|d| d.p95_ms)),
            ms(d.map(|d| d.max_ms)),
            ms(r.map(|d| d.p50_ms)),
            ms(r.map(|d| d.p95_ms)),
            ms(r.map(|d| d.max_ms)),
            ratio(self.recall),
            self.false_incidents.to_string(),
            self.false_repairs.to_string(),
            self.rows_lost_unexpected.to_string(),
            self.rows_lost_expected.to_string(),
        ]
    }
}

/// `12.3ms`, or `-` without a figure.
pub fn ms(v: Option<f64>) -> String {
    v.map(|ms| format!("{ms:.1}ms")).unwrap_or_else(|| "-".into())
}

/// `0.75`, or `-`.
pub fn ratio(v: Option<f64>) -> String {
    v.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_and_max() {
        let d = distribution((1..=20).map(f64::from).collect()).unwrap();
        assert_eq!((d.samples, d.p50_ms, d.p95_ms, d.max_ms), (20, 10.0, 19.0, 20.0));
        let one = distribution(vec![7.0]).unwrap();
        assert_eq!((one.p50_ms, one.p95_ms, one.max_ms), (7.0, 7.0, 7.0));
        assert_eq!(distribution(Vec::new()), None);
    }

    #[test]
    fn classes_split_recall_false_repairs_and_expected_loss() {
        let mut a = ScenarioResult::example("a");
        a.time_to_detect_ms = Some(10.0);
        a.locations_total = 2;
        a.locations_detected = 1;
        let mut b = ScenarioResult::example("b");
        b.fault_class = "corrupt_parquet".into();
        b.time_to_detect_ms = Some(30.0);
        b.rows_lost_expected = Some(500);
        b.false_repairs = vec!["restore at t/other".into()];
        let mut c = ScenarioResult::example("c");
        c.status = Status::Skipped;
        c.rows_lost_unexpected = Some(99); // skipped: measured nothing, counts nothing
        let scores = of_results(&[&a, &b, &c]);
        assert_eq!(scores.run.scenarios, 2);
        assert_eq!(scores.run.recall, Some(2.0 / 3.0));
        assert_eq!(scores.run.time_to_detect.unwrap().max_ms, 30.0);
        assert_eq!((scores.run.rows_lost_expected, scores.run.rows_lost_unexpected), (500, 0));
        assert_eq!(
            scores.classes.iter().map(|c| c.fault_class.as_str()).collect::<Vec<_>>(),
            ["corrupt_parquet", "null_flood"]
        );
        assert_eq!(scores.classes[0].false_repairs, 1);
        assert_eq!(scores.classes[1].recall, Some(0.5));
    }
    #[test]
    fn percentiles_take_the_nearest_rank_from_below() {
        // 1..=10: p50 is the 5th, p95 the 10th; unsorted input is sorted first.
        let d = distribution(vec![10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0]).unwrap();
        assert_eq!((d.samples, d.p50_ms, d.p95_ms, d.max_ms), (10, 5.0, 10.0, 10.0));
        let d = distribution((1..=100).map(f64::from).collect()).unwrap();
        assert_eq!((d.p50_ms, d.p95_ms, d.max_ms), (50.0, 95.0, 100.0));
        let two = distribution(vec![3.0, 1.0]).unwrap();
        assert_eq!((two.p50_ms, two.p95_ms), (1.0, 3.0));
    }

    #[test]
    fn every_figure_sums_over_the_measured_scenarios() {
        let mut a = ScenarioResult::example("a");
        a.status = Status::Failed;
        a.time_to_detect_ms = Some(40.0);
        a.time_to_repair_ms = None;
        a.false_incidents = vec!["x".into(), "y".into()];
        a.rows_lost_unexpected = Some(7);
        a.locations_total = 3;
        a.locations_detected = 3;
        let mut b = ScenarioResult::example("b");
        b.time_to_detect_ms = Some(20.0);
        b.time_to_repair_ms = Some(300.0);
        b.false_repairs = vec!["r".into()];
        b.rows_lost_unexpected = Some(4);
        b.rows_lost_expected = Some(2);
        let mut errored = ScenarioResult::example("e");
        errored.status = Status::Error;
        errored.false_incidents = vec!["z".into()];
        let s = of_results(&[&a, &b, &errored]).run;
        assert_eq!(s.fault_class, "all");
        assert_eq!((s.scenarios, s.passed), (2, 1));
        let c = ScenarioResult::example("c");
        assert_eq!(of_results(&[&a, &b, &c]).run.passed, 2, "passed counts the passed, not the failed");
        assert_eq!((s.locations_injected, s.locations_detected), (4, 4));
        assert_eq!(s.recall, Some(1.0));
        assert_eq!((s.false_incidents, s.false_repairs), (2, 1));
        assert_eq!((s.rows_lost_unexpected, s.rows_lost_expected), (11, 2));
        let ttd = s.time_to_detect.unwrap();
        assert_eq!((ttd.samples, ttd.p50_ms, ttd.max_ms), (2, 20.0, 40.0));
        let ttr = s.time_to_repair.unwrap();
        assert_eq!((ttr.samples, ttr.max_ms), (1, 300.0), "a scenario that did not heal has no TTR");

        let mut none = ScenarioResult::example("n");
        none.locations_total = 0;
        none.locations_detected = 0;
        assert_eq!(of_results(&[&none]).run.recall, None, "nothing injected: no recall");
    }

    #[test]
    fn cells_print_each_figure_in_its_column() {
        let s = Score {
            fault_class: "null_flood".into(),
            scenarios: 3,
            passed: 2,
            time_to_detect: Some(Distribution { samples: 3, p50_ms: 1.0, p95_ms: 2.0, max_ms: 3.0 }),
            time_to_repair: Some(Distribution { samples: 3, p50_ms: 4.0, p95_ms: 5.0, max_ms: 6.0 }),
            locations_injected: 4,
            locations_detected: 3,
            recall: Some(0.75),
            false_incidents: 7,
            false_repairs: 8,
            rows_lost_expected: 9,
            rows_lost_unexpected: 10,
        };
        assert_eq!(
            s.cells(),
            ["3", "1.0ms", "2.0ms", "3.0ms", "4.0ms", "5.0ms", "6.0ms", "0.75", "7", "8", "10", "9"].map(String::from)
        );
        let empty = Score { time_to_detect: None, time_to_repair: None, recall: None, ..s };
        assert_eq!(empty.cells()[1..8], ["-", "-", "-", "-", "-", "-", "-"].map(String::from));
        assert_eq!((ms(Some(12.34)), ratio(Some(2.0 / 3.0))), ("12.3ms".to_string(), "0.67".to_string()));
    }
}
