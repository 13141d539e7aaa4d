//! JUnit XML: a testsuite per target, a testcase per scenario, failures naming the broken
//! expectation with its numbers, measurements as properties.

use crate::run::result::{ScenarioResult, Status, SuiteReport};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::Path;
use std::time::Duration;

fn property(name: &str, value: impl ToString) -> Property {
    Property::new(name, value.to_string())
}

fn opt_ms(v: Option<f64>) -> String {
    v.map(|ms| format!("{ms:.1}")).unwrap_or_else(|| "none".into())
}

fn testcase(r: &ScenarioResult) -> TestCase {
    let status = match r.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(r.failures.first().cloned().unwrap_or_default());
            s.set_type("expectation");
            s.set_description(r.failures.join("\n"));
            s
        }
        Status::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(r.reason.clone().unwrap_or_default());
            s.set_type("scenario-error");
            s
        }
        Status::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(r.reason.clone().unwrap_or_default());
            s
        }
    };
    let mut tc = TestCase::new(r.name.clone(), status);
    tc.set_classname(format!("lakechaos.{}.{}", r.target, r.fault_class));
    tc.set_time(Duration::from_secs_f64(r.duration_ms / 1000.0));
    tc.add_properties([
        property("seed", r.seed),
        property("fault", format!("{}/{}", r.fault_class, r.fault_mode)),
        property("time_to_detect_ms", opt_ms(r.time_to_detect_ms)),
        property("time_to_repair_ms", opt_ms(r.time_to_repair_ms)),
        property("detect_within_ms", r.slo.detect_within.as_millis()),
        property("repair_within_ms", r.slo.repair_within.as_millis()),
        property("ran_alongside", r.ran_alongside),
        property("rows_lost", r.rows_lost.map(|n| n.to_string()).unwrap_or_else(|| "none".into())),
        property("rows_lost_expected", r.rows_lost_expected.map(|n| n.to_string()).unwrap_or_else(|| "none".into())),
        property(
            "rows_lost_unexpected",
            r.rows_lost_unexpected.map(|n| n.to_string()).unwrap_or_else(|| "none".into()),
        ),
        property("false_incidents", r.false_incidents.len()),
        property("false_repairs", r.false_repairs.len()),
        property("detection_tier", r.detection_tier.clone().unwrap_or_else(|| "none".into())),
    ]);
    if let Some(probe) = &r.dbt_probe {
        // passed / failed / not_run at each point, plus the whole story in system-out.
        let verdict = |p: &Option<crate::backend::ProbeResult>| match p {
            Some(p) if p.passed => "passed",
            Some(_) => "failed",
            None => "not_run",
        };
        tc.add_properties([
            property("dbt_probe_before", verdict(&probe.before)),
            property("dbt_probe_after_injection", verdict(&probe.after_injection)),
            property("dbt_marts_after_healing", verdict(&probe.marts_after_healing)),
            property("dbt_probe_after_repair", verdict(&probe.after_repair)),
        ]);
        let mut out = format!("dbt probe: {}\n", probe.describe());
        if let Some(p) = &probe.after_injection {
            for f in &p.failing {
                out.push_str(&format!("  after injection: {f}\n"));
            }
        }
        tc.set_system_out(out);
    }
    tc
}

/// A class's scores (or the run's, class `all`) as suite properties named
/// `score.<class>.<figure>`; a figure without samples is `none`.
fn score_properties(c: &crate::run::scores::Score) -> Vec<Property> {
    let p = |figure: &str, value: String| property(&format!("score.{}.{figure}", c.fault_class), value);
    let mut out = vec![p("scenarios", c.scenarios.to_string())];
    for (phase, d) in [("ttd", c.time_to_detect), ("ttr", c.time_to_repair)] {
        out.push(p(&format!("{phase}_p50_ms"), opt_ms(d.map(|d| d.p50_ms))));
        out.push(p(&format!("{phase}_p95_ms"), opt_ms(d.map(|d| d.p95_ms))));
        out.push(p(&format!("{phase}_max_ms"), opt_ms(d.map(|d| d.max_ms))));
    }
    out.push(p("recall", c.recall.map(|r| format!("{r:.4}")).unwrap_or_else(|| "none".into())));
    out.push(p("false_incidents", c.false_incidents.to_string()));
    out.push(p("false_repairs", c.false_repairs.to_string()));
    out.push(p("rows_lost_unexpected", c.rows_lost_unexpected.to_string()));
    out.push(p("rows_lost_expected", c.rows_lost_expected.to_string()));
    out
}

/// The JUnit report for a set of suites (one per target).
pub fn report(suites: &[SuiteReport]) -> Report {
    let mut report = Report::new("lakechaos");
    for suite in suites {
        let mut ts = TestSuite::new(suite.target.clone());
        ts.set_timestamp(suite.started_at);
        ts.set_time(Duration::from_secs_f64(suite.duration_ms / 1000.0));
        ts.add_property(property("seed", suite.seed));
        ts.add_property(property("no_heal", suite.no_heal));
        ts.add_property(property("healer", suite.healer.name()));
        let scores = crate::run::scores::of_suite(suite);
        for c in scores.classes.iter().chain(std::iter::once(&scores.run)) {
            ts.add_properties(score_properties(c));
        }
        ts.add_test_cases(suite.scenarios.iter().map(testcase));
        report.add_test_suite(ts);
    }
    report
}

/// Writes the JUnit XML file.
pub fn write(suites: &[SuiteReport], path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let xml = report(suites).to_string().map_err(std::io::Error::other)?;
    std::fs::write(path, xml)
}
