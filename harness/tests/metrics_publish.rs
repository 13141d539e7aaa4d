//! A run's metrics in the real servers: `lakechaos run --pushgateway` against a real
//! pushgateway scraped by a real Prometheus (which also scrapes a running `lakehealer watch` and
//! evaluates the repository's rules), exact values read back through Prometheus' HTTP API, both
//! expositions through `promtool check metrics`, every Grafana panel query answered; and
//! `--cloudwatch` against moto.

mod common;

use common::{lakehealer_bin, on_path, repo_root, scenarios_dir};
use lakechaos::metrics::http::HttpClient;
use lakechaos::targets::provision::prometheus_process::ScrapeJob;
use lakechaos::targets::provision::{free_port, LocalProcess};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process stopped (SIGTERM, then SIGKILL) when dropped.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        // SAFETY: signalling a child we spawned and have not reaped.
        unsafe {
            libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lakechaos(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lakechaos")).args(args).current_dir(repo_root()).output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// An instant query's result vector.
async fn query(client: &HttpClient, prometheus: &str, promql: &str) -> Vec<Value> {
    let url = format!(
        "{prometheus}/api/v1/query?query={}",
        percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC)
    );
    let (status, body) = client.get(&url).await.unwrap_or_else(|e| panic!("{promql}: {e}"));
    let doc: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{promql}: {e}: {body}"));
    assert!(status.is_success() && doc["status"] == "success", "{promql}: HTTP {status}: {body}");
    doc["data"]["result"].as_array().cloned().unwrap_or_default()
}

fn value_of(sample: &Value) -> f64 {
    sample["value"][1].as_str().unwrap().parse().unwrap()
}

/// The single value of a scalar-like query (a one-element vector), polled until `ready` holds
/// for it or 60 s pass.
async fn poll_value(client: &HttpClient, prometheus: &str, promql: &str, ready: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let result = query(client, prometheus, promql).await;
        if let [one] = result.as_slice() {
            let v = value_of(one);
            if ready(v) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "{promql} did not reach the expected value within 60 s: {result:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn promtool_check_metrics(exposition: &str, what: &str) {
    let mut child = Command::new(on_path("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(exposition.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool check metrics on {what}:\n{}", text(&out));
    assert!(text(&out).trim().is_empty(), "promtool has remarks on {what}:\n{}", text(&out));
}

fn json_report(path: &Path) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["suites"][0]["scenarios"].as_array().unwrap().clone()
}

fn measured(s: &&Value) -> bool {
    s["status"] == "passed" || s["status"] == "failed"
}

/// Replaces Grafana's variables in a panel query: every target and fault class, and a rate
/// window several scrapes wide.
fn instantiate(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m").replace("$target", ".*").replace("$fault_class", ".*")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_run_lands_in_a_real_prometheus_and_every_panel_answers() {
    let pushgateway = LocalProcess::start_pushgateway().unwrap_or_else(|e| panic!("{e}"));

    // A watching healer on a lake broken with a repairable fault, serving /metrics.
    let work = tempfile::tempdir().unwrap();
    let lake = work.path().join("lake");
    let scenario = scenarios_dir().join("null-flood-customer-id.yaml");
    let injected = lakechaos(&["inject", scenario.to_str().unwrap(), "--lake", lake.to_str().unwrap()]);
    assert!(injected.status.success(), "{}", text(&injected));
    let healer_addr = format!("127.0.0.1:{}", free_port().unwrap());
    let healer = Stopped(
        Command::new(lakehealer_bin())
            .args(["watch", "--lake", lake.to_str().unwrap(), "--metrics-listen", &healer_addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let pushgateway_addr = pushgateway.endpoint().trim_start_matches("http://").to_string();
    let rules: Vec<PathBuf> =
        ["recording.yml", "alerts.yml"].iter().map(|f| repo_root().join("compose/prometheus/rules").join(f)).collect();
    let prometheus = LocalProcess::start_prometheus(
        &[
            ScrapeJob { job: "pushgateway".into(), targets: vec![pushgateway_addr], honor_labels: true },
            ScrapeJob { job: "lakehealer".into(), targets: vec![healer_addr.clone()], honor_labels: false },
        ],
        &rules,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let prom = prometheus.endpoint().to_string();
    let client = HttpClient::new().unwrap();

    // The suite, pushing at the end.
    let run_id = format!("it-{}", std::process::id());
    let report = work.path().join("report.json");
    let textfile = work.path().join("run.prom");
    let out = lakechaos(&[
        "run",
        "scenarios",
        "--target",
        "local",
        "--pushgateway",
        pushgateway.endpoint(),
        "--run-id",
        &run_id,
        "--json",
        report.to_str().unwrap(),
        "--metrics-file",
        textfile.to_str().unwrap(),
    ]);
    let run_ended = Instant::now();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("/metrics/job/lakechaos/run_id/{run_id}/target/local")), "{}", text(&out));
    let scenarios = json_report(&report);
    let sel = format!(r#"run_id="{run_id}",job="lakechaos",target="local""#);

    // Exact values, read back from Prometheus.
    let count = poll_value(&client, &prom, &format!("count(lakechaos_scenarios_total{{{sel}}})"), |v| {
        v as usize == scenarios.len()
    })
    .await;
    let queryable_after = run_ended.elapsed();
    eprintln!("run end to queryable in Prometheus: {:.2} s", queryable_after.as_secs_f64());
    let files = common::scenario_file_count();
    assert_eq!(count as usize, files, "every scenario of the folder");
    for outcome in ["passed", "failed", "skipped", "error"] {
        let expected = scenarios.iter().filter(|s| s["status"] == outcome).count() as f64;
        let got =
            query(&client, &prom, &format!(r#"sum(lakechaos_scenarios_total{{{sel},outcome="{outcome}"}})"#)).await;
        assert_eq!(got.first().map(value_of).unwrap_or(0.0), expected, "{outcome} scenarios");
    }
    for (metric, field) in [("time_to_detect", "time_to_detect_ms"), ("time_to_repair", "time_to_repair_ms")] {
        let expected = scenarios.iter().filter(measured).filter(|s| !s[field].is_null()).count() as f64;
        assert!(expected > 0.0);
        let got =
            poll_value(&client, &prom, &format!("sum(lakechaos_{metric}_seconds_count{{{sel}}})"), |_| true).await;
        assert_eq!(got, expected, "{metric} histogram count");
        // Every observation at most the largest finite bucket lands in it: +Inf equals count.
        let inf = poll_value(
            &client,
            &prom,
            &format!(r#"sum(lakechaos_{metric}_seconds_bucket{{{sel},le="+Inf"}})"#),
            |_| true,
        )
        .await;
        assert_eq!(inf, expected);
    }
    let repaired: Vec<&Value> =
        scenarios.iter().filter(measured).filter(|s| s["expected_outcome"] == "repaired").collect();
    let lost =
        query(&client, &prom, &format!(r#"lakechaos_rows_lost_total{{{sel},expected_outcome="repaired"}}"#)).await;
    assert_eq!(lost.len(), repaired.len(), "one rows-lost series per scenario expecting repair");
    assert!(lost.iter().all(|s| value_of(s) == 0.0), "rows lost where none may be: {lost:?}");
    let total_lost: f64 = scenarios.iter().filter(measured).filter_map(|s| s["rows_lost"].as_f64()).sum();
    assert_eq!(
        poll_value(&client, &prom, &format!("sum(lakechaos_rows_lost_total{{{sel}}})"), |_| true).await,
        total_lost
    );
    assert_eq!(
        poll_value(&client, &prom, &format!("sum(lakechaos_false_incidents_total{{{sel}}})"), |_| true).await,
        0.0
    );
    let breaches = query(&client, &prom, &format!("sum(lakechaos_slo_breaches_total{{{sel}}})")).await;
    assert_eq!(breaches.first().map(value_of), Some(0.0), "a passing suite breaches no SLO");
    // The run's own healer metrics came along: one incident per matching or false incident.
    let incidents: f64 = scenarios.iter().filter_map(|s| s["incidents"].as_f64()).sum();
    let pushed = poll_value(&client, &prom, &format!("sum(lakehealer_incidents_total{{{sel}}})"), |_| true).await;
    assert!(pushed >= incidents && incidents > 0.0, "pushed healer incidents {pushed}, report {incidents}");

    // The watching healer, scraped: it found the flood and repaired it.
    poll_value(&client, &prom, r#"sum(lakehealer_incidents_total{job="lakehealer",kind="null_flood"})"#, |v| v >= 1.0)
        .await;
    poll_value(&client, &prom, r#"sum(lakehealer_repairs_total{job="lakehealer",result="succeeded"})"#, |v| v >= 1.0)
        .await;
    poll_value(&client, &prom, r#"up{job="lakehealer"}"#, |v| v == 1.0).await;

    // Both expositions pass promtool.
    promtool_check_metrics(&std::fs::read_to_string(&textfile).unwrap(), "the run's metrics");
    let (status, healer_text) = client.get(&format!("http://{healer_addr}/metrics")).await.unwrap();
    assert!(status.is_success());
    assert!(healer_text.contains("lakehealer_scan_duration_seconds_bucket"), "{healer_text}");
    promtool_check_metrics(&healer_text, "lakehealer watch's /metrics");

    // Every Grafana panel query returns data with at least one number.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("compose/grafana/dashboards/lakechaos.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = instantiate(target["expr"].as_str().unwrap());
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let result = query(&client, &prom, &expr).await;
                if result.iter().any(|s| value_of(s).is_finite()) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "panel {:?} query {expr} returned no data: {result:?}",
                    panel["title"].as_str().unwrap()
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} panel queries");

    // The rows-lost alert stays quiet for a run that lost nothing where it mattered.
    let alerts = query(&client, &prom, &format!(r#"ALERTS{{alertname="LakechaosRowsLost",run_id="{run_id}"}}"#)).await;
    assert!(alerts.is_empty(), "{alerts:?}");
    drop(healer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_metric_destinations_stop_the_run_before_injection() {
    for args in [
        vec!["--pushgateway", "http://127.0.0.1:1"],
        vec!["--cloudwatch", "--cloudwatch-endpoint", "http://127.0.0.1:1"],
    ] {
        let mut all = vec!["run", "scenarios/null-flood-customer-id.yaml", "--target", "local"];
        all.extend(args.iter().copied());
        let out = lakechaos(&all);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("127.0.0.1:1") && text(&out).contains("nothing was run"), "{}", text(&out));
        assert!(!text(&out).contains("passed"), "a scenario ran: {}", text(&out));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_run_sends_the_same_figures_to_cloudwatch_on_moto() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("{e}"));
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("report.json");
    let out = lakechaos(&[
        "run",
        "scenarios",
        "--target",
        "local",
        "--cloudwatch",
        "--cloudwatch-endpoint",
        moto.endpoint(),
        "--cloudwatch-namespace",
        "LakeChaosTest",
        "--json",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let scenarios = json_report(&report);

    let conn = lakechaos_lake::AwsConnection::emulator(moto.endpoint());
    let cw = aws_sdk_cloudwatch::Client::new(&conn.sdk_config().await);
    let mut metrics = Vec::new();
    let mut token = None;
    loop {
        let page = cw.list_metrics().namespace("LakeChaosTest").set_next_token(token).send().await.unwrap();
        metrics.extend(page.metrics().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    let dim = |m: &aws_sdk_cloudwatch::types::Metric, name: &str| {
        m.dimensions().iter().find(|d| d.name() == Some(name)).and_then(|d| d.value()).map(String::from)
    };
    let names: std::collections::BTreeSet<&str> = metrics.iter().filter_map(|m| m.metric_name()).collect();
    for name in
        ["Scenarios", "TimeToDetect", "TimeToRepair", "SloBreaches", "RowsLost", "FalseIncidents", "RunDuration"]
    {
        assert!(names.contains(name), "no {name} metric in {names:?}");
    }
    // One Scenarios metric per scenario, with its outcome.
    let per_scenario: Vec<_> = metrics.iter().filter(|m| m.metric_name() == Some("Scenarios")).collect();
    assert_eq!(per_scenario.len(), scenarios.len());
    for s in &scenarios {
        let m = per_scenario
            .iter()
            .find(|m| dim(m, "Scenario").as_deref() == s["name"].as_str())
            .unwrap_or_else(|| panic!("no Scenarios metric for {}", s["name"]));
        assert_eq!(dim(m, "Outcome").as_deref(), s["status"].as_str());
    }
    // The time-to-detect data per fault class: as many samples as the report has figures.
    let end = aws_sdk_cloudwatch::primitives::DateTime::from_secs(chrono::Utc::now().timestamp() + 600);
    let start = aws_sdk_cloudwatch::primitives::DateTime::from_secs(chrono::Utc::now().timestamp() - 3600);
    for class in ["null_flood", "schema_drift", "corrupt_parquet", "missing_partition"] {
        let expected = scenarios
            .iter()
            .filter(measured)
            .filter(|s| s["fault_class"] == class && !s["time_to_detect_ms"].is_null())
            .count() as f64;
        let stats = cw
            .get_metric_statistics()
            .namespace("LakeChaosTest")
            .metric_name("TimeToDetect")
            .dimensions(aws_sdk_cloudwatch::types::Dimension::builder().name("FaultClass").value(class).build())
            .dimensions(aws_sdk_cloudwatch::types::Dimension::builder().name("Target").value("local").build())
            .start_time(start)
            .end_time(end)
            .period(3600)
            .statistics(aws_sdk_cloudwatch::types::Statistic::SampleCount)
            .send()
            .await
            .unwrap();
        let samples: f64 = stats.datapoints().iter().filter_map(|d| d.sample_count()).sum();
        assert_eq!(samples, expected, "TimeToDetect samples for {class}");
    }
}
