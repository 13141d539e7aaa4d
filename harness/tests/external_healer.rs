//! `--healer external` on moto: lakechaos seeds, injects and verifies; the healer is a
//! `lakehealer watch` this test starts on its own, as a user's deployed healer would run, once
//! the scenario's `golden.json` says the lake is seeded. Its incidents reach the harness through
//! SNS (`--incident-topic`). Without anyone healing, the same run fails at its SLO and reverts.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::{AwsConnection, EventQueue, Topic};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const SCENARIO: &str = "corrupt-parquet-truncated-tail";

fn run_external(endpoint: &str, workdir: &Path, topic: &str, json: &Path) -> Child {
    let scenario = common::scenarios_dir().join(format!("{SCENARIO}.yaml"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakechaos"));
    cmd.args(["run", scenario.to_str().unwrap(), "--target", "moto", "--provider", "external"])
        .args(["--healer", "external", "--incident-topic", topic])
        .args(["--workdir", workdir.to_str().unwrap(), "--json", json.to_str().unwrap()])
        .current_dir(common::repo_root())
        .env("LAKECHAOS_MOTO_ENDPOINT", endpoint)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    common::against_emulator(&mut cmd, endpoint).spawn().unwrap()
}

/// Waits for the scenario's golden record (the lake is seeded), at most `limit`.
fn wait_for_golden(workdir: &Path, limit: Duration) -> bool {
    let golden: PathBuf = workdir.join(SCENARIO).join("golden.json");
    let started = Instant::now();
    while started.elapsed() < limit {
        if golden.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn scenario_json(json: &Path) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    doc["suites"][0]["scenarios"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_healer_is_scored_from_the_lake_and_its_topic_and_nobody_healing_fails() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let topic = Topic::create(&conn, "external-healer-incidents").await.unwrap();
    let bucket = format!("lakechaos-{SCENARIO}");
    let database = format!("lakechaos_{}", SCENARIO.replace('-', "_"));

    // With a healer: it starts once the lake is seeded, from the outside.
    let dir = tempfile::tempdir().unwrap();
    let (workdir, json) = (dir.path().join("work"), dir.path().join("run.json"));
    let run = run_external(moto.endpoint(), &workdir, topic.arn(), &json);
    assert!(wait_for_golden(&workdir, Duration::from_secs(60)), "the lake was never seeded");
    let queue = EventQueue::create(&conn, &format!("{bucket}-events")).await.unwrap();
    let mut healer = Command::new(common::lakehealer_bin());
    healer
        .args(["watch", "--lake", &format!("s3://{bucket}"), "--catalog", &format!("glue:{database}")])
        .args(["--endpoint-url", moto.endpoint(), "--events-queue", queue.url(), "--sns-topic", topic.arn()])
        .args(["--reconcile-every", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut healer = common::against_emulator(&mut healer, moto.endpoint()).spawn().unwrap();
    let out = tokio::task::spawn_blocking(move || run.wait_with_output().unwrap()).await.unwrap();
    let _ = healer.kill();
    let _ = healer.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("external healer"), "{}", text(&out));
    let result = scenario_json(&json);
    assert_eq!(result["status"], "passed", "{result:#}");
    assert!(result["time_to_repair_ms"].as_f64().is_some(), "{result:#}");
    // Detection came from the healer's own incidents on its topic.
    assert!(result["time_to_detect_ms"].as_f64().is_some(), "{result:#}");
    assert_eq!(result["locations_detected"], result["locations_total"], "{result:#}");
    assert_eq!(result["rows_lost"], 0);
    assert_eq!(result["reverted"], false);

    // Nobody heals: the repair deadline fails it, and the journal reverts the damage.
    let dir = tempfile::tempdir().unwrap();
    let (workdir, json) = (dir.path().join("work"), dir.path().join("run.json"));
    let out = tokio::task::spawn_blocking({
        let (endpoint, arn) = (moto.endpoint().to_string(), topic.arn().to_string());
        move || run_external(&endpoint, &workdir, &arn, &json).wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let result = scenario_json(&dir.path().join("run.json"));
    assert_eq!(result["status"], "failed", "{result:#}");
    assert!(result["slo_breaches"].as_array().unwrap().iter().any(|b| b == "repair"), "{result:#}");
    assert!(result["time_to_detect_ms"].is_null(), "nobody raised an incident: {result:#}");
    assert_eq!(result["reverted"], true, "{result:#}");
    // The lake is back to golden after the revert.
    let lake = lakechaos_lake::Lake::open(&format!("s3://{bucket}"), &format!("glue:{database}"), &conn).await.unwrap();
    let golden: lakechaos_fixtures::GoldenRecord =
        serde_json::from_slice(&std::fs::read(dir.path().join("work").join(SCENARIO).join("golden.json")).unwrap())
            .unwrap();
    let verdict = lakechaos_fixtures::manifest::Verifier::new(golden.into()).verify(&lake).await.unwrap();
    assert!(verdict.healed, "after the revert: {verdict:?}");
}
