//! The reports a run writes for people and CI: `--html` (self-contained, every scenario, every
//! failure's details) and `--junit` (checked against the common JUnit XML format).

mod common;
mod junit_schema;

use common::repo_root;
use std::process::Command;

fn lakechaos(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lakechaos")).args(args).current_dir(repo_root()).output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn scenario_names() -> Vec<String> {
    let mut names: Vec<String> =
        lakechaos::load_paths(&[repo_root().join("scenarios")]).unwrap().into_iter().map(|s| s.name).collect();
    names.sort();
    names
}

/// No way for the page to fetch anything: no scripts, stylesheets, images or fonts from
/// elsewhere, and the only URL is the SVG namespace.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for banned in ["<script", "<link", "<img", "<iframe", "@import", "url(", " src=", " href="] {
        assert!(!lower.contains(banned), "the report references something outside itself: {banned}");
    }
    let urls = lower.matches("http").count();
    let namespaces = lower.matches("http://www.w3.org/2000/svg").count();
    assert_eq!(urls, namespaces, "a URL other than the SVG namespace");
}

#[test]
fn a_passing_run_writes_a_self_contained_html_report_and_conforming_junit() {
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("reports/report.html");
    let junit_path = dir.path().join("reports/junit.xml");
    let out = lakechaos(&[
        "run",
        "scenarios",
        "--target",
        "local",
        "--html",
        html_path.to_str().unwrap(),
        "--junit",
        junit_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(&html_path).expect("the HTML report was written");
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80.min(html.len())]);
    assert_self_contained(&html);
    let names = scenario_names();
    assert!(names.len() >= 19);
    for name in &names {
        // In the table and, when it ran, as a bar in the chart (Lake Formation scenarios are
        // skipped on a directory lake).
        let runs_locally = !name.starts_with("permission-drift") && !name.ends_with("-from-version");
        let at_least = if runs_locally { 2 } else { 1 };
        assert!(html.matches(&format!(">{name}<")).count() >= at_least, "{name} is not in the table and the chart");
    }
    assert!(html.contains("<svg") && html.contains("Every scenario passed"), "chart and verdict");
    assert!(!html.contains("id=\"failure-"), "a passing run lists no failures");

    let xml = std::fs::read_to_string(&junit_path).unwrap();
    let problems = junit_schema::check(&xml);
    assert!(problems.is_empty(), "JUnit departs from the format:\n{}", problems.join("\n"));
    for name in &names {
        assert!(xml.contains(&format!("<testcase name=\"{name}\"")), "{name} has no testcase");
    }
}

#[test]
fn a_failing_run_reports_each_failure_in_html_and_junit() {
    // Detect-only: the repair expectations must fail, each with its numbers.
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("report.html");
    let junit_path = dir.path().join("junit.xml");
    let out = lakechaos(&[
        "run",
        "scenarios/null-flood-customer-id.yaml",
        "scenarios/schema-drift-drop-column.yaml",
        "--no-heal",
        "--html",
        html_path.to_str().unwrap(),
        "--junit",
        junit_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert_self_contained(&html);
    for name in ["null-flood-customer-id", "schema-drift-drop-column"] {
        assert!(html.contains(&format!("id=\"failure-{name}\"")), "no failure details for {name}");
    }
    assert!(html.contains("SLO breach") && html.contains("rows lost, expected at most 0"), "failure text");
    assert!(html.contains("Some scenarios failed"));

    let xml = std::fs::read_to_string(&junit_path).unwrap();
    let problems = junit_schema::check(&xml);
    assert!(problems.is_empty(), "JUnit departs from the format:\n{}", problems.join("\n"));
    assert_eq!(xml.matches("<failure ").count(), 2, "{xml}");
}

#[test]
fn the_junit_check_catches_what_the_format_forbids() {
    let good = r#"<testsuites tests="1" failures="0"><testsuite name="s" tests="1" time="0.5"><testcase name="a" time="0.1"/></testsuite></testsuites>"#;
    assert!(junit_schema::check(good).is_empty(), "{:?}", junit_schema::check(good));
    for (bad, complaint) in [
        (good.replace("tests=\"1\" failures", "tests=\"2\" failures"), "tests=2 but it holds 1"),
        (good.replace("<testcase name=\"a\"", "<testcase"), "lacks the required attribute name"),
        (good.replace("time=\"0.1\"", "time=\"soon\""), "time=\"soon\" is not of its type"),
        (
            good.replace("/></testsuite>", "><failure/><skipped/></testcase></testsuite>"),
            "<skipped> comes after <failure>",
        ),
        (good.replace("<testcase", "<case name=\"x\"/><testcase"), "<case> is not allowed here"),
        (good.replace("name=\"s\"", "name=\"s\" colour=\"red\""), "attribute colour is not in the schema"),
        (good.replace("</testsuites>", ""), "not well-formed"),
    ] {
        let problems = junit_schema::check(&bad);
        assert!(problems.iter().any(|p| p.contains(complaint)), "{bad}\nexpected {complaint:?}, got {problems:?}");
    }
}
