//! `lakechaos gameday` end to end against a real moto server standing in for the staging account
//! (`AWS_ENDPOINT_URL`; moto's account is 123456789012): the guard is respected, a forced SLO
//! breach stops the rest of the suite, the reports are written and the summary reaches an SQS
//! queue subscribed to the SNS topic.

mod common;

use common::scenarios_dir;
use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::{AwsConnection, EventQueue, ObjectStore, S3Store, Topic};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

const BUCKET: &str = "staging-lake";

use common::lakechaos_against as lakechaos;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A copy of a repairable scenario whose detection deadline no healer can meet.
fn forced_breach(dir: &Path) -> std::path::PathBuf {
    let original = std::fs::read_to_string(scenarios_dir().join("null-flood-customer-id.yaml")).unwrap();
    let forced = original
        .replace("name: null-flood-customer-id", "name: a-forced-slo-breach")
        .replace("detect_within: 1s", "detect_within: 1ms");
    assert_ne!(original, forced);
    let path = dir.join("a-forced-slo-breach.yaml");
    std::fs::write(&path, forced).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_day_on_moto_stops_on_a_forced_breach_and_leaves_reports_and_a_summary() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    S3Store::connect(&conn, BUCKET, "").await.ensure_bucket(true).await.unwrap();
    let topic = Topic::create(&conn, "gameday-summaries").await.unwrap();
    let inbox = EventQueue::create(&conn, "oncall").await.unwrap();
    topic.subscribe_queue(&inbox).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("guard.yaml"),
        format!("allow_accounts: ['123456789012']\nbucket: {BUCKET}\nprefix: chaos/gamedays\n"),
    )
    .unwrap();
    let breach = forced_breach(dir.path());
    let config = dir.path().join("gameday.yaml");
    std::fs::write(
        &config,
        format!(
            "name: ci-gameday\nsuite:\n  - {}\n  - {}\n  - {}\ntarget: aws\naws_config: guard.yaml\n\
             stop: {{ slo_factor: 2 }}\npublish:\n  sns_topic: {}\n  endpoint_url: {}\n  cloudwatch: true\nreports: out\n",
            breach.display(),
            scenarios_dir().join("missing-partition-files.yaml").display(),
            scenarios_dir().join("schema-drift-add-column.yaml").display(),
            topic.arn(),
            moto.endpoint(),
        ),
    )
    .unwrap();

    let out = lakechaos(moto.endpoint(), &["gameday", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "a breached game day fails:\n{}", text(&out));

    // Reports: all three scenarios, the first failed on its SLO, the others not run.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap()).unwrap();
    let scenarios = report["suites"][0]["scenarios"].as_array().unwrap();
    let names: Vec<&str> = scenarios.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a-forced-slo-breach", "missing-partition-files", "schema-drift-add-column"]);
    assert_eq!(scenarios[0]["status"], "failed", "{}", scenarios[0]);
    assert!(scenarios[0]["slo_breaches"].as_array().unwrap().iter().any(|p| p == "detect"));
    for s in &scenarios[1..] {
        assert_eq!(s["status"], "skipped", "{s}");
        let reason = s["reason"].as_str().unwrap();
        assert!(reason.contains("stopped after a-forced-slo-breach") && reason.contains("over 2× its SLO"), "{reason}");
    }
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 3, "{junit}");
    assert_eq!(junit.matches("<skipped").count(), 2, "{junit}");
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(names.iter().all(|n| html.contains(n)) && html.contains("failure-a-forced-slo-breach"));

    // The guard held: everything the run wrote is under its prefix.
    let keys: Vec<String> =
        S3Store::connect(&conn, BUCKET, "").await.list("").await.unwrap().into_iter().map(|o| o.key).collect();
    assert!(!keys.is_empty() && keys.iter().all(|k| k.starts_with("chaos/gamedays/ci-gameday-")), "{keys:?}");

    // The summary on SNS.
    let deadline = Instant::now() + Duration::from_secs(15);
    let summary: serde_json::Value = loop {
        let batch = inbox.receive_raw(Duration::from_secs(1)).await.unwrap();
        if let Some(m) = batch.first() {
            break serde_json::from_str(m).unwrap();
        }
        assert!(Instant::now() < deadline, "no game-day summary reached the subscribed queue");
    };
    assert_eq!(summary["gameday"], "ci-gameday");
    assert_eq!((summary["failed"].as_u64(), summary["skipped"].as_u64()), (Some(1), Some(2)), "{summary}");
    assert!(summary["stopped"].as_str().unwrap().contains("a-forced-slo-breach"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_game_day_file_or_topic_stops_before_injection() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gameday.yaml");

    // Unknown key: file, line and column.
    std::fs::write(&config, "name: g\nsuite: [scenarios]\ntarget: local\nstopp: {}\n").unwrap();
    let out = lakechaos(moto.endpoint(), &["gameday", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{}:4:1", config.display())) && text(&out).contains("stopp"),
        "{}",
        text(&out)
    );

    // A topic that does not exist: named, nothing run.
    std::fs::write(
        &config,
        format!(
            "name: g\nsuite: [{}]\ntarget: local\npublish:\n  sns_topic: arn:aws:sns:us-east-1:123456789012:nope\n  endpoint_url: {}\n",
            scenarios_dir().join("null-flood-customer-id.yaml").display(),
            moto.endpoint()
        ),
    )
    .unwrap();
    let out = lakechaos(moto.endpoint(), &["gameday", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(":nope") && text(&out).contains("nothing was run"), "{}", text(&out));
    assert!(!dir.path().join("reports").exists(), "reports written for a game day that never ran");
}
