//! The files the local stack is made of, checked with the real tools: Prometheus' rules and
//! configuration with `promtool` (including the rules' unit tests), the Compose file against the
//! compose-spec schema, and the Grafana dashboard against its schema plus the structure Grafana
//! itself would insist on. No servers: the panel queries are evaluated in `metrics_publish.rs`.

mod common;

use common::{on_path, repo_root, setup_tool};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn promtool() -> Command {
    let mut cmd = Command::new(on_path("promtool"));
    cmd.current_dir(repo_root().join("compose/prometheus"));
    cmd
}

#[test]
fn promtool_passes_the_rule_unit_tests() {
    let out = run(promtool().args(["test", "rules", "tests/rules_test.yml"]));
    assert!(out.status.success(), "promtool test rules failed:\n{}", text(&out));
    assert!(text(&out).contains("SUCCESS"), "{}", text(&out));
}

#[test]
fn promtool_accepts_the_rules_and_the_configuration() {
    let out = run(promtool().args(["check", "rules", "rules/recording.yml", "rules/alerts.yml"]));
    assert!(out.status.success(), "{}", text(&out));
    let out = run(promtool().args(["check", "config", "prometheus.yml"]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 rule files found"), "the config must load both rule files:\n{}", text(&out));
}

#[test]
fn a_broken_rule_is_caught() {
    // The checks above can fail: a rule with a bad expression is refused.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "groups:\n  - name: x\n    rules:\n      - record: a:b\n        expr: sum(by (x)\n").unwrap();
    let out = run(promtool().args(["check", "rules", bad.to_str().unwrap()]));
    assert!(!out.status.success(), "promtool accepted a broken rule:\n{}", text(&out));
}

fn check_jsonschema() -> Command {
    Command::new(setup_tool(".venv-lint/bin/check-jsonschema", "check-jsonschema"))
}

#[test]
fn the_compose_file_validates_against_the_compose_spec() {
    let file = repo_root().join("compose/docker-compose.yml");
    let out = run(check_jsonschema().args(["--builtin-schema", "vendor.compose-spec"]).arg(&file));
    assert!(out.status.success(), "{}", text(&out));

    // The same check refuses a service with an unknown key.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("docker-compose.yml");
    let yaml = std::fs::read_to_string(&file)
        .unwrap()
        .replace("    image: ${LAKECHAOS_PUSHGATEWAY_IMAGE:-prom/pushgateway:v1.5.1}\n", "    imagee: x\n");
    std::fs::write(&broken, yaml).unwrap();
    let out = run(check_jsonschema().args(["--builtin-schema", "vendor.compose-spec"]).arg(&broken));
    assert!(!out.status.success(), "an unknown service key passed:\n{}", text(&out));
}

#[test]
fn the_compose_stack_has_every_service_and_mounts_what_exists() {
    let file = repo_root().join("compose/docker-compose.yml");
    let doc: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).expect("compose file is YAML");
    let services = doc["services"].as_object().expect("services");
    for name in ["postgres", "moto", "localstack", "prometheus", "pushgateway", "grafana", "healer"] {
        assert!(services.contains_key(name), "compose has no {name} service");
    }
    assert!(
        doc["services"]["localstack"]["environment"]["LOCALSTACK_AUTH_TOKEN"]
            .as_str()
            .unwrap()
            .contains("${LOCALSTACK_AUTH_TOKEN"),
        "LocalStack's token comes from the environment"
    );
    // Every bind mount of the repository exists, every published port is loopback only.
    for (name, svc) in services {
        for v in svc["volumes"].as_array().into_iter().flatten() {
            let source = v.as_str().unwrap().split(':').next().unwrap();
            if source.starts_with("./") {
                assert!(repo_root().join("compose").join(source).exists(), "{name} mounts missing {source}");
            }
        }
        for p in svc["ports"].as_array().into_iter().flatten() {
            assert!(p.as_str().unwrap().starts_with("127.0.0.1:"), "{name} publishes {p} beyond loopback");
        }
    }
    let dockerfile = svc_str(&doc, "healer", "build", "dockerfile");
    assert!(repo_root().join(dockerfile).is_file(), "healer image file {dockerfile} is missing");
}

fn svc_str<'a>(doc: &'a serde_json::Value, service: &str, key: &str, sub: &str) -> &'a str {
    doc["services"][service][key][sub].as_str().unwrap_or_else(|| panic!("services.{service}.{key}.{sub}"))
}

fn dashboard() -> serde_json::Value {
    let path = repo_root().join("compose/grafana/dashboards/lakechaos.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_dashboard_validates_against_its_schema() {
    let schema = repo_root().join("compose/grafana/dashboard.schema.json");
    let file = repo_root().join("compose/grafana/dashboards/lakechaos.json");
    let out = run(check_jsonschema().arg("--schemafile").arg(&schema).arg(&file));
    assert!(out.status.success(), "{}", text(&out));

    // The schema has teeth: a panel without queries is refused.
    let mut broken = dashboard();
    let panel = broken["panels"].as_array_mut().unwrap().iter_mut().find(|p| p["type"] == "timeseries").unwrap();
    panel["targets"] = serde_json::json!([]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, serde_json::to_string(&broken).unwrap()).unwrap();
    let out = run(check_jsonschema().arg("--schemafile").arg(&schema).arg(&path));
    assert!(!out.status.success(), "a panel without queries passed:\n{}", text(&out));
}

#[test]
fn the_dashboard_is_laid_out_and_wired_as_grafana_needs() {
    let d = dashboard();
    let panels = d["panels"].as_array().unwrap();
    let variables: HashSet<&str> =
        d["templating"]["list"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    let mut ids = HashSet::new();
    let mut cells: HashSet<(i64, i64)> = HashSet::new();
    for p in panels {
        let id = p["id"].as_i64().unwrap();
        assert!(ids.insert(id), "panel id {id} is used twice");
        let g = &p["gridPos"];
        let (x, y, w, h) =
            (g["x"].as_i64().unwrap(), g["y"].as_i64().unwrap(), g["w"].as_i64().unwrap(), g["h"].as_i64().unwrap());
        assert!(x + w <= 24, "panel {id} is wider than the grid");
        for cx in x..x + w {
            for cy in y..y + h {
                assert!(cells.insert((cx, cy)), "panel {id} overlaps another at ({cx}, {cy})");
            }
        }
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().unwrap();
            // Every $variable a query uses is defined (or one of Grafana's own).
            for var in
                expr.split('$').skip(1).map(|r| r.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap())
            {
                assert!(var.starts_with("__") || variables.contains(var), "panel {id} uses undefined ${var}");
            }
            let refs: Vec<&str> =
                p["targets"].as_array().unwrap().iter().map(|t| t["refId"].as_str().unwrap()).collect();
            assert_eq!(refs.len(), refs.iter().collect::<HashSet<_>>().len(), "panel {id} repeats a refId");
        }
    }
    // What the dashboard is for: TTD/TTR percentiles against the SLO, pass rate, rows lost,
    // healer incidents and repairs.
    let exprs: Vec<&str> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    for needle in [
        "lakechaos_time_to_detect_seconds:p95",
        "lakechaos_time_to_repair_seconds:p95",
        "lakechaos_slo_seconds",
        "lakechaos_scenarios_passed:ratio",
        "lakechaos_rows_lost_total",
        "lakehealer_incidents_total",
        "lakehealer_repairs_total",
    ] {
        assert!(exprs.iter().any(|e| e.contains(needle)), "no panel queries {needle}");
    }
    // Provisioning points Grafana at the dashboards folder the compose file mounts.
    let provider =
        std::fs::read_to_string(repo_root().join("compose/grafana/provisioning/dashboards/lakechaos.yml")).unwrap();
    assert!(provider.contains("path: /var/lib/grafana/dashboards"), "{provider}");
    assert!(Path::new(&repo_root().join("compose/grafana/provisioning/datasources/prometheus.yml")).is_file());
}
