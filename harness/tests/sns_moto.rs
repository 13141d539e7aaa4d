//! The healer publishes every incident and repair to SNS. A queue subscribed to the topic must
//! receive them, for one scenario of each fault class, on a real moto server.

mod common;

use lakechaos::targets::provision::ProviderKind;
use lakechaos::{load_paths, run::run_scenario_in, RunOptions, Status, Target, TargetOptions};
use lakechaos_lake::{EventQueue, Topic};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_and_repairs_reach_an_sns_subscriber() {
    let target_options = TargetOptions { provider: ProviderKind::LocalProcess, ..TargetOptions::default() };
    let env = Target::Moto.start(&target_options).await.unwrap_or_else(|e| panic!("{e}"));
    let conn = env.connection().unwrap().clone();
    let topic = Topic::create(&conn, "lakehealer-events").await.unwrap();
    let inbox = EventQueue::create(&conn, "oncall-inbox").await.unwrap();
    topic.subscribe_queue(&inbox).await.unwrap();
    let opts = RunOptions {
        target: Target::Moto,
        target_options,
        sns_topic: Some(topic.arn().to_string()),
        ..RunOptions::default()
    };
    let scenarios = load_paths(&[common::scenarios_dir()]).unwrap();
    let one_per_class = [
        "corrupt-parquet-truncated-tail",
        "missing-partition-files",
        "null-flood-customer-id",
        "schema-drift-add-column",
    ];
    for name in one_per_class {
        let scenario = scenarios.iter().find(|s| s.name == name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let result = run_scenario_in(&env, scenario, &opts, dir.path()).await;
        assert_eq!(result.status, Status::Passed, "{name}: {:?} {:?}", result.reason, result.failures);
        let truth = result.ground_truth.as_ref().unwrap();

        let mut messages: Vec<serde_json::Value> = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let batch = inbox.receive_raw(Duration::from_secs(1)).await.unwrap();
            if batch.is_empty() && !messages.is_empty() {
                break;
            }
            messages.extend(batch.iter().map(|b| serde_json::from_str(b).expect("raw JSON message")));
        }
        let class = scenario.fault.class().as_str();
        let incidents: Vec<&serde_json::Value> = messages.iter().filter(|m| m["event"] == "incident").collect();
        let repairs: Vec<&serde_json::Value> = messages.iter().filter(|m| m["event"] == "repair").collect();
        assert!(!incidents.is_empty(), "{name}: no incident published: {messages:?}");
        assert!(
            incidents.iter().all(|m| m["kind"] == class
                && lakechaos::run::scoring::matches(truth, class, m["location"].as_str().unwrap())),
            "{name}: incidents do not match the injected {class}: {incidents:?}"
        );
        assert_eq!(incidents.len(), result.incidents, "{name}: every incident published once");
        assert_eq!(repairs.len(), result.repairs, "{name}: every repair published: {repairs:?}");
        assert!(!repairs.is_empty(), "{name}: no repair published");
        if name == "missing-partition-files" {
            // The bucket is versioned: the deleted files come back from under their delete markers.
            assert!(repairs.iter().any(|r| r["action"] == "remove_delete_marker"), "{name}: {repairs:?}");
        }
        let incident_ids: Vec<&str> = incidents.iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert!(repairs.iter().all(|r| incident_ids.contains(&r["incident"].as_str().unwrap())), "{name}");
    }
}
