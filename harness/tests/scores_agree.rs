//! Every report of one run carries the same scores: per fault class and for the whole run, the
//! time to detect and repair (p50, p95, max), recall, false incidents and repairs, and rows lost
//! split into expected and unexpected. The JSON is the reference; the summary table, the
//! Markdown step summary, the JUnit suite properties, the HTML and the Prometheus exposition
//! must each say the same. Output that is not a terminal has no escape codes; journals of
//! scenarios that did not pass outlive the temporary work directory.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const SCENARIOS: [&str; 4] = [
    "null-flood-customer-id.yaml",
    "corrupt-parquet-no-landing.yaml",
    "corrupt-parquet-bad-magic.yaml",
    "schema-drift-add-column.yaml",
];

fn run(dir: &Path, extra: &[&str]) -> std::process::Output {
    let scenarios = common::scenarios_dir();
    Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .arg("run")
        .args(SCENARIOS.iter().map(|s| scenarios.join(s)))
        .args(["--target", "local"])
        .args(extra)
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `12.3ms` as the table and the Markdown write a figure in milliseconds.
fn ms1(v: &Value) -> String {
    v.as_f64().map(|v| format!("{v:.1}ms")).unwrap_or_else(|| "-".into())
}

/// The value of the JUnit suite property `name`.
fn junit_property<'a>(xml: &'a str, name: &str) -> &'a str {
    let at = xml.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no property {name}"));
    let rest = &xml[at..];
    let start = rest.find("value=\"").expect("a value") + 7;
    &rest[start..start + rest[start..].find('"').expect("closed")]
}

/// The value of the exposition's sample of `metric` with every label in `labels`.
fn sample(exposition: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    exposition
        .lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .find(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {metric} {labels:?} in the exposition"))
}

#[test]
fn every_report_of_a_run_carries_the_same_scores_and_none_has_escape_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "--json",
            "r/report.json",
            "--junit",
            "r/junit.xml",
            "--html",
            "r/report.html",
            "--markdown",
            "r/summary.md",
            "--metrics-file",
            "r/metrics.prom",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b), "escape codes in redirected output");
    let read = |name: &str| std::fs::read_to_string(dir.path().join("r").join(name)).unwrap();
    let json: Value = serde_json::from_str(&read("report.json")).unwrap();
    let scores = &json["suites"][0]["scores"];
    let (junit, markdown, html, prom) =
        (read("junit.xml"), read("summary.md"), read("report.html"), read("metrics.prom"));
    let table = String::from_utf8_lossy(&out.stdout).to_string();

    let mut classes: Vec<&Value> = scores["classes"].as_array().unwrap().iter().collect();
    assert_eq!(classes.len(), 3, "{scores}");
    classes.push(&scores["run"]);
    for c in classes {
        let class = c["fault_class"].as_str().unwrap();
        let md_row = markdown
            .lines()
            .find(|l| l.starts_with(&format!("| `{class}` |")) || (class == "all" && l.starts_with("| **all** |")))
            .unwrap_or_else(|| panic!("no Markdown row for {class}:\n{markdown}"));
        let md: Vec<&str> = md_row.split('|').map(str::trim).collect();
        let table_row: Vec<&str> = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(class) && l.split_whitespace().count() == 13)
            .unwrap_or_else(|| panic!("no table row for {class}:\n{table}"))
            .split_whitespace()
            .collect();
        for (phase, key, col) in [("ttd", "time_to_detect", 3), ("ttr", "time_to_repair", 6)] {
            for (i, (q, field)) in [("p50", "p50_ms"), ("p95", "p95_ms"), ("max", "max_ms")].into_iter().enumerate() {
                let v = &c[key][field];
                assert_eq!(md[col + i], ms1(v), "{class} {phase} {q}: Markdown");
                assert_eq!(table_row[2 + col - 3 + i], ms1(v), "{class} {phase} {q}: table");
                let junit_value = junit_property(&junit, &format!("score.{class}.{phase}_{q}_ms"));
                match v.as_f64() {
                    Some(v) => {
                        assert_eq!(junit_value, format!("{v:.1}"), "{class} {phase} {q}: JUnit");
                        let metric = format!("lakechaos_class_{key}_seconds");
                        let pushed = sample(&prom, &metric, &[("fault_class", class), ("stat", q)]);
                        assert!((pushed - v / 1000.0).abs() < 1e-9, "{class} {phase} {q}: Prometheus {pushed} vs {v}");
                        assert!(html.contains(&format!("{v:.0} ms")), "{class} {phase} {q}: HTML lacks {v:.0} ms");
                    }
                    None => assert_eq!(junit_value, "none", "{class} {phase} {q}: JUnit"),
                }
            }
        }
        let recall = c["recall"].as_f64().unwrap();
        assert_eq!(md[9], format!("{recall:.2}"), "{class} recall: Markdown");
        assert_eq!(junit_property(&junit, &format!("score.{class}.recall")), format!("{recall:.4}"));
        assert!((sample(&prom, "lakechaos_class_recall_ratio", &[("fault_class", class)]) - recall).abs() < 1e-9);
        for (field, md_col, loss) in
            [("rows_lost_unexpected", 12, "unexpected"), ("rows_lost_expected", 13, "expected")]
        {
            let n = c[field].as_u64().unwrap();
            assert_eq!(md[md_col], n.to_string(), "{class} {field}: Markdown");
            assert_eq!(
                junit_property(&junit, &format!("score.{class}.{field}")),
                n.to_string(),
                "{class} {field}: JUnit"
            );
            assert_eq!(sample(&prom, "lakechaos_class_rows_lost", &[("fault_class", class), ("loss", loss)]), n as f64);
        }
        for (field, md_col, metric) in [
            ("false_incidents", 10, "lakechaos_class_false_incidents"),
            ("false_repairs", 11, "lakechaos_class_false_repairs"),
        ] {
            let n = c[field].as_u64().unwrap();
            assert_eq!(md[md_col], n.to_string(), "{class} {field}: Markdown");
            assert_eq!(sample(&prom, metric, &[("fault_class", class)]), n as f64, "{class} {field}: Prometheus");
        }
    }
    // The scenario declared unrepairable loses rows by design: expected loss, not unexpected.
    assert!(scores["run"]["rows_lost_expected"].as_u64().unwrap() > 0, "{scores}");
    assert_eq!(scores["run"]["rows_lost_unexpected"], 0);
    assert!(html.contains("expected loss (unrepairable)"));
    // A passing run advertises no journal: the temporary work directory is gone.
    for s in json["suites"][0]["scenarios"].as_array().unwrap() {
        assert!(s["journal"].is_null(), "{}: {}", s["name"], s["journal"]);
    }
}

#[test]
fn journals_of_scenarios_that_did_not_pass_outlive_the_temporary_work_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--no-heal", "--json", "out/report.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap()).unwrap();
    let mut kept = 0;
    for s in json["suites"][0]["scenarios"].as_array().unwrap() {
        match s["status"].as_str().unwrap() {
            "failed" | "error" => {
                let journal = s["journal"].as_str().unwrap_or_else(|| panic!("{} names no journal", s["name"]));
                let path = Path::new(journal);
                assert!(path.is_absolute() && path.starts_with(dir.path().join("out/journals")), "{journal}");
                let j: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
                assert_eq!(j["scenario"], s["name"]);
                assert!(
                    text(&out).contains(path.parent().unwrap().parent().unwrap().to_str().unwrap()),
                    "path printed"
                );
                kept += 1;
            }
            _ => assert!(s["journal"].is_null(), "{}", s["name"]),
        }
    }
    assert!(kept >= 3, "{kept} journals kept: {}", text(&out));
}
