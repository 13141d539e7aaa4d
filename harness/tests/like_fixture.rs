//! Fixtures shaped like a real table: `lakechaos fixture describe` profiles a table pyarrow
//! wrote (no values, only statistics), and the default suite — each scenario's fixture replaced
//! by `profile: sales.profile.yaml`, and each column it names by a selector of the same kind —
//! runs on tables generated from that profile and passes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn writers_python() -> PathBuf {
    let p = common::repo_root().join(".venv-writers/bin/python");
    assert!(p.exists(), "{} is missing: run scripts/setup", p.display());
    p
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn lakechaos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakechaos")).args(args).current_dir(common::repo_root()).output().unwrap()
}

/// The type family of an `orders` column, as a selector names it.
fn family_of(column: &str) -> Option<&'static str> {
    let c = lakechaos_fixtures::orders::contract().into_iter().find(|c| c.name == column)?;
    let t = c.data_type.as_str();
    Some(match t {
        "string" => "string",
        "bool" => "boolean",
        _ if t.starts_with("int") || t.starts_with("uint") => "integer",
        _ if t.starts_with("float") => "float",
        _ if t.starts_with("decimal") => "decimal",
        _ if t.starts_with("timestamp") => "timestamp",
        other => panic!("no family for {other}"),
    })
}

/// A default-suite scenario rewritten for the profile: its fixture generated from it, each
/// `orders` column it names replaced by a selector of the same kind.
fn rewritten(scenario: &str, profile: &str) -> String {
    scenario
        .lines()
        .map(|line| {
            if line.starts_with("fixture:") {
                return line.replace("dataset: orders", &format!("profile: {profile}"));
            }
            match line.trim_start().strip_prefix("column: ").and_then(family_of) {
                Some(family) => format!("  column: {{ type: {family} }}"),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_default_suite_passes_on_a_fixture_shaped_like_a_pyarrow_table() {
    let lake = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/sales_table.py");
    let o = Command::new(writers_python()).arg(script).arg("write").arg(lake.path()).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let lake_dir = lake.path().to_str().unwrap();
    let o = Command::new(common::lakehealer_bin())
        .args(["discover", "--lake", lake_dir, "--table", "sales"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let suite = tempfile::tempdir().unwrap();
    let profile = suite.path().join("sales.profile.yaml");
    let o =
        lakechaos(&["fixture", "describe", "--lake", lake_dir, "--table", "sales", "--out", profile.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let yaml = std::fs::read_to_string(&profile).unwrap();
    // Statistics, not values: no customer name pyarrow wrote ("c0" … "c996") is in it.
    assert!(yaml.contains("name: customer") && yaml.contains("distinct: 997"), "{yaml}");
    assert!(!(0..997).any(|i| yaml.contains(&format!("c{i}\n")) || yaml.contains(&format!("'c{i}'"))), "{yaml}");

    let mut copied = 0;
    for entry in std::fs::read_dir(common::scenarios_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(suite.path().join(path.file_name().unwrap()), rewritten(&text, "sales.profile.yaml")).unwrap();
        copied += 1;
    }
    assert!(copied >= 19, "the default suite has {copied} scenarios");
    // And one profiled afresh from the table itself when it is seeded (`like:`).
    std::fs::write(
        suite.path().join("like-table.yaml"),
        format!(
            "name: like-table-null-flood\nfixture: {{ like: {lake_dir}/sales, days: 3, rows_per_day: 2000 }}\n\
             fault: {{ kind: null_flood, column: {{ type: string }}, fraction: 0.8 }}\n\
             slo: {{ detect_within: 2s, repair_within: 5s }}\nexpect: {{ outcome: repaired }}\n"
        ),
    )
    .unwrap();
    copied += 1;

    let report = suite.path().join("report.json");
    let o = lakechaos(&["run", suite.path().to_str().unwrap(), "--json", report.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let scenarios = doc["suites"][0]["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), copied, "{out}");
    for s in scenarios {
        match s["fault_class"].as_str().unwrap() {
            // A directory lake has no Lake Formation.
            "permission_drift" => assert_eq!(s["status"], "skipped", "{out}"),
            _ => {
                assert_eq!(s["status"], "passed", "{}: {out}", s["name"]);
                assert_eq!(s["ground_truth"]["table"], "sales", "the generated table takes the profiled name: {out}");
            }
        }
    }
}
