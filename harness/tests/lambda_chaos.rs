//! The chaos Lambda handler against moto standing in for the staging account: behind the aws
//! target's guard it seeds a game-day lake under the prefix, records golden and journal there and
//! injects the scenario's fault; the healer handler, fed the S3 events the bucket really sent,
//! heals it — checked by the harness against the golden manifest the chaos function wrote.

mod common;

use common::lakechaos_against as lakechaos;

use lakechaos::ops::lambda::chaos::{inject, ChaosConfig, ChaosError, ChaosRequest, ChaosResponse};
use lakechaos::targets::aws_guard::{AwsGuardConfig, GuardError};
use lakechaos::targets::provision::LocalProcess;
use lakechaos_faults::Journal;
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{GoldenManifest, GoldenRecord};
use lakechaos_lake::{AwsConnection, FileCatalog, Lake, ObjectStore, S3Store};
use lakehealer::events::HealerEvent;
use lakehealer::lambda::{FunctionConfig, HealerFunction};
use lakehealer::Mode;
use serde_json::json;
use std::sync::Arc;

const BUCKET: &str = "staging-curated";

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn config(accounts: &[&str]) -> ChaosConfig {
    ChaosConfig {
        guard: AwsGuardConfig {
            allow_accounts: accounts.iter().map(|a| a.to_string()).collect(),
            bucket: BUCKET.into(),
            prefix: "chaos".into(),
            region: None,
            profile: None,
            glue_database_prefix: "lakechaos_".into(),
            events_queue_url: None,
        }
        .checked("test")
        .unwrap(),
        scenarios: common::scenarios_dir(),
    }
}

fn request(scenario: &str, run_id: &str) -> ChaosRequest {
    serde_json::from_value(json!({ "scenario": scenario, "seed": 7, "run_id": run_id })).unwrap()
}

async fn keys(conn: &AwsConnection) -> Vec<String> {
    S3Store::connect(conn, BUCKET, "").await.list("").await.unwrap().into_iter().map(|o| o.key).collect()
}

/// A game-day lake read back by the harness: its lake, and a verifier from the golden record the
/// chaos function left there.
async fn read_back(conn: &AwsConnection, injected: &ChaosResponse) -> (Lake, Verifier) {
    let root = injected.lake.strip_prefix(&format!("s3://{BUCKET}/")).unwrap();
    let store = Arc::new(S3Store::connect(conn, BUCKET, root).await);
    let lake = Lake::new(store.clone(), Arc::new(FileCatalog::new(store)));
    let whole = S3Store::connect(conn, BUCKET, "").await;
    let golden: GoldenRecord = serde_json::from_slice(&whole.get(&injected.golden).await.unwrap()).unwrap();
    let golden = GoldenManifest::from(golden);
    let journal: Journal = serde_json::from_slice(&whole.get(&injected.journal).await.unwrap()).unwrap();
    assert_eq!(journal.ground_truth, injected.ground_truth);
    assert_eq!(journal.lake, injected.lake);
    assert_eq!(golden.total_rows(), injected.rows);
    (lake, Verifier::new(golden))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chaos_function_injects_behind_the_guard_and_the_healer_function_heals_it() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let queue = common::bucket_with_events(&conn, BUCKET).await;

    // Two scenarios in one invocation, as the game-day schedule sends them.
    let chaos = config(&["123456789012"]);
    let game_day: ChaosRequest = serde_json::from_value(json!({
        "scenarios": ["corrupt-parquet-bad-magic", "null-flood-customer-id"], "seed": 7, "run_id": "gd-1"
    }))
    .unwrap();
    let run = inject(&chaos, conn.clone(), &game_day).await.unwrap();
    assert_eq!((run.account.as_str(), run.run_id.as_str()), ("123456789012", "gd-1"));
    let lakes: Vec<&str> = run.injected.iter().map(|i| i.lake.as_str()).collect();
    assert_eq!(
        lakes,
        [
            format!("s3://{BUCKET}/chaos/gd-1/corrupt-parquet-bad-magic"),
            format!("s3://{BUCKET}/chaos/gd-1/null-flood-customer-id")
        ]
    );
    let kinds: Vec<&str> = run.injected.iter().map(|i| i.ground_truth.kind.as_str()).collect();
    assert_eq!(kinds, ["corrupt_parquet", "null_flood"]);
    assert!(run.injected.iter().all(|i| i.catalog == "file"));
    let written = keys(&conn).await;
    assert!(written.iter().all(|k| k.starts_with("chaos/gd-1/")), "the guard's prefix holds: {written:?}");

    // The harness's own verdict, from the records in the bucket: both lakes damaged.
    let run_url = format!("s3://{BUCKET}/chaos/gd-1");
    let before = lakechaos(moto.endpoint(), &["verify", "--lake", &run_url]);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    assert_eq!(String::from_utf8_lossy(&before.stdout).matches("DAMAGED").count(), 2, "{}", text(&before));

    let mut lakes = Vec::new();
    for injected in &run.injected {
        let (lake, mut verifier) = read_back(&conn, injected).await;
        assert!(!verifier.verify(&lake).await.unwrap().healed, "{}: the fault is in the lake", injected.scenario);
        lakes.push((lake, verifier));
    }

    // The healer function, fed what the bucket sent to its queue (seeding and the faults).
    let bodies = common::queued_bodies(&queue).await;
    assert!(!bodies.is_empty());
    let healer = HealerFunction::start(FunctionConfig {
        lake: format!("s3://{BUCKET}/lake"),
        catalog: "file".into(),
        quarantine: None,
        gameday_prefix: Some("chaos".into()),
        sns_topic: None,
        metrics_namespace: None,
        mode: Mode::Heal,
        lf_policy: None,
        start_crawler: None,
        connection: conn.clone(),
    })
    .await
    .unwrap();
    let response = healer.handle(common::sqs_batch(&bodies)).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let passed: Vec<&str> = response.passes.iter().map(|p| p.lake.as_str()).collect();
    assert_eq!(passed, run.injected.iter().map(|i| i.lake.as_str()).collect::<Vec<_>>(), "one pass per game-day lake");
    let found: Vec<(&str, String)> = response
        .events
        .iter()
        .filter_map(|e| match e {
            HealerEvent::Incident { kind, location, .. } => Some((kind.as_str(), location.clone())),
            _ => None,
        })
        .collect();
    assert!(found.contains(&("corrupt_parquet", run.injected[0].ground_truth.files[0].clone())), "{found:?}");
    assert!(found.iter().any(|(k, _)| *k == "null_flood"), "{found:?}");
    for (injected, (lake, verifier)) in run.injected.iter().zip(lakes.iter_mut()) {
        let after = verifier.verify(lake).await.unwrap();
        assert!(after.healed, "{}: healed, by the harness's own check: {after:?}", injected.scenario);
    }

    let after = lakechaos(moto.endpoint(), &["verify", "--lake", &run_url, "--format", "json"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    let verdicts: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    let scenarios: Vec<&str> = verdicts.as_array().unwrap().iter().map(|v| v["scenario"].as_str().unwrap()).collect();
    assert_eq!(scenarios, ["corrupt-parquet-bad-magic", "null-flood-customer-id"]);
    assert!(verdicts
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["verification"]["healed"] == true && v["verification"]["rows_lost"] == 0));

    // A game day nobody healed is reverted from the journal the chaos function left.
    let unhealed = inject(&chaos, conn.clone(), &request("null-flood-customer-id", "gd-2")).await.unwrap();
    let lake_url = &unhealed.injected[0].lake;
    assert_eq!(lakechaos(moto.endpoint(), &["verify", "--lake", lake_url]).status.code(), Some(1));
    let journal_url = format!("s3://{BUCKET}/{}", unhealed.injected[0].journal);
    let reverted = lakechaos(moto.endpoint(), &["revert", "--journal", &journal_url]);
    assert!(reverted.status.success(), "{}", text(&reverted));
    let whole = lakechaos(moto.endpoint(), &["verify", "--lake", lake_url]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole));
    assert!(String::from_utf8_lossy(&whole.stdout).contains("WHOLE"), "{}", text(&whole));
    let nothing = lakechaos(moto.endpoint(), &["verify", "--lake", &format!("s3://{BUCKET}/nothing-here")]);
    assert_eq!(nothing.status.code(), Some(2), "{}", text(&nothing));
    assert!(text(&nothing).contains("no game-day lake"), "{}", text(&nothing));

    // A game day whose events never reached the healer: the scheduled reconcile covers game-day
    // lakes too, and heals it.
    let missed = inject(&chaos, conn.clone(), &request("corrupt-parquet-bad-magic", "gd-3")).await.unwrap();
    let missed_lake = &missed.injected[0].lake;
    assert_eq!(lakechaos(moto.endpoint(), &["verify", "--lake", missed_lake]).status.code(), Some(1));
    let scheduled: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_root().join("harness/tests/events/scheduled-event.json")).unwrap(),
    )
    .unwrap();
    let response = healer.handle(scheduled).await.unwrap();
    let passed: Vec<&str> = response.passes.iter().map(|p| p.lake.as_str()).collect();
    assert!(passed.contains(&missed_lake.as_str()), "the reconcile passed over {passed:?}");
    assert!(response.passes.iter().all(|p| p.error.is_none()), "{response:?}");
    let whole = lakechaos(moto.endpoint(), &["verify", "--lake", missed_lake]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole));

    // The same run id again: refused, nothing written.
    let before = keys(&conn).await;
    let again = inject(&chaos, conn.clone(), &request("corrupt-parquet-bad-magic", "gd-1")).await.unwrap_err();
    assert!(matches!(again, ChaosError::Exists(_)), "{again}");
    assert_eq!(keys(&conn).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_before_anything_is_written() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());

    // No bucket: named, nothing created.
    let err =
        inject(&config(&["123456789012"]), conn.clone(), &request("null-flood-customer-id", "r1")).await.unwrap_err();
    assert!(matches!(err, ChaosError::Guard(GuardError::Bucket { .. })), "{err}");
    assert!(err.to_string().contains(BUCKET), "{err}");

    S3Store::connect(&conn, BUCKET, "").await.ensure_bucket(true).await.unwrap();
    // Another account: refused.
    let err =
        inject(&config(&["000000000000"]), conn.clone(), &request("null-flood-customer-id", "r1")).await.unwrap_err();
    assert!(matches!(err, ChaosError::Guard(GuardError::AccountNotAllowed { .. })), "{err}");
    assert!(err.to_string().contains("123456789012"), "{err}");
    // A scenario that is not packed: the known ones are listed.
    let err = inject(&config(&["123456789012"]), conn.clone(), &request("no-such-scenario", "r1")).await.unwrap_err();
    assert!(err.to_string().contains("null-flood-customer-id"), "{err}");
    // A run id that could escape the prefix.
    let err =
        inject(&config(&["123456789012"]), conn.clone(), &request("null-flood-customer-id", "../x")).await.unwrap_err();
    assert!(err.to_string().contains("run id"), "{err}");
    assert!(keys(&conn).await.is_empty(), "nothing was written");

    // One unknown among several: refused before anything is written; no scenario at all: named.
    let two: ChaosRequest =
        serde_json::from_value(json!({"scenarios": ["null-flood-customer-id", "nope"], "run_id": "r2"})).unwrap();
    let err = inject(&config(&["123456789012"]), conn.clone(), &two).await.unwrap_err();
    assert!(matches!(err, ChaosError::UnknownScenario { ref name, .. } if name == "nope"), "{err}");
    let none: ChaosRequest = serde_json::from_value(json!({"run_id": "r3"})).unwrap();
    assert!(matches!(inject(&config(&["123456789012"]), conn.clone(), &none).await, Err(ChaosError::NoScenario)));
    assert!(keys(&conn).await.is_empty(), "nothing was written");

    // An invocation with an unknown field is refused when it is read.
    assert!(serde_json::from_value::<ChaosRequest>(json!({"scenario": "x", "bucket": "elsewhere"})).is_err());
}
