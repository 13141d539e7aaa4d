//! Event-driven healing on moto: S3 event notifications reach the healer through SQS, and it
//! detects damage from them rather than from its reconcile pass. The pass interval is set to a
//! minute here, so only an event can explain a detection within the SLO.

mod common;

use lakechaos::targets::provision::ProviderKind;
use lakechaos::{load_paths, run_scenario, RunOptions, Status, Target, TargetOptions};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_is_detected_from_s3_events_not_from_polling() {
    let opts = RunOptions {
        target: Target::Moto,
        target_options: TargetOptions { provider: ProviderKind::LocalProcess, ..TargetOptions::default() },
        reconcile_every: Some(Duration::from_secs(60)),
        ..RunOptions::default()
    };
    let scenarios = load_paths(&[common::scenarios_dir()]).unwrap();
    // One object fault of each family that writes objects.
    let names = ["corrupt-parquet-truncated-tail", "null-flood-customer-id", "schema-drift-add-column"];
    for name in names {
        let scenario = scenarios.iter().find(|s| s.name == name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let result = run_scenario(scenario, &opts, dir.path()).await;
        assert_eq!(result.status, Status::Passed, "{name}: {:?} {:?}", result.reason, result.failures);
        assert_eq!(result.detected_via.as_deref(), Some("s3_event"), "{name}");
        let ttd = result.time_to_detect_ms.unwrap();
        assert!(ttd < 1000.0, "{name}: detected after {ttd} ms with a 60 s reconcile");
        let from_event = result.event_to_detect_ms.expect("event time recorded");
        assert!((0.0..1000.0).contains(&from_event), "{name}: {from_event} ms from the S3 event");
    }
}

/// `--events eventbridge`: the bucket sends its events to EventBridge, and a rule delivers them
/// to the healer's queue, as the Terraform module routes them; detections say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_is_detected_from_events_routed_through_eventbridge() {
    let opts = RunOptions {
        target: Target::Moto,
        target_options: TargetOptions {
            provider: ProviderKind::LocalProcess,
            events: lakechaos::targets::EventRoute::Eventbridge,
            ..TargetOptions::default()
        },
        reconcile_every: Some(Duration::from_secs(60)),
        ..RunOptions::default()
    };
    let scenarios = load_paths(&[common::scenarios_dir()]).unwrap();
    for name in ["corrupt-parquet-truncated-tail", "null-flood-customer-id"] {
        let scenario = scenarios.iter().find(|s| s.name == name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let result = run_scenario(scenario, &opts, dir.path()).await;
        assert_eq!(result.status, Status::Passed, "{name}: {:?} {:?}", result.reason, result.failures);
        assert_eq!(result.detected_via.as_deref(), Some("event_bridge"), "{name}");
        let ttd = result.time_to_detect_ms.unwrap();
        assert!(ttd < 1000.0, "{name}: detected after {ttd} ms with a 60 s reconcile");
    }
}
