//! The two built function executables (`lakechaos-chaos-lambda`, `lakehealer-lambda`) run as
//! Lambda runs a `provided.al2023` bootstrap: configured only by their environment, pulling
//! invocations from a Runtime API and posting answers back, against moto. The chaos function
//! injects a game day; the healer function heals it from the events the bucket sent.

mod common;
#[path = "common/runtime_api.rs"]
mod runtime_api;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::AwsConnection;
use runtime_api::{bootstrap, response, Answer, Running, RuntimeApi};
use serde_json::json;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const BUCKET: &str = "runtime-curated";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_executables_inject_and_heal_under_the_runtime_api() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let queue = common::bucket_with_events(&conn, BUCKET).await;
    let scenarios = common::scenarios_dir();

    // The chaos function: a game day of one scenario, then one the guard refuses.
    let mut chaos_api = RuntimeApi::start().await;
    let _chaos = Running(bootstrap(
        Path::new(env!("CARGO_BIN_EXE_lakechaos-chaos-lambda")),
        &chaos_api,
        moto.endpoint(),
        &[
            ("LAKECHAOS_ALLOW_ACCOUNTS", "123456789012"),
            ("LAKECHAOS_BUCKET", BUCKET),
            ("LAKECHAOS_PREFIX", "chaos"),
            ("LAKECHAOS_SCENARIOS", scenarios.to_str().unwrap()),
        ],
        Stdio::inherit(),
    ));
    let id = chaos_api.invoke(json!({ "scenarios": ["corrupt-parquet-truncated-tail"], "run_id": "rt-1" }));
    let (answered, answer) = chaos_api.answer(Duration::from_secs(120)).await;
    assert_eq!(answered, id);
    let run = response(answer);
    assert_eq!(run["run_id"], "rt-1", "{run}");
    let lake = run["injected"][0]["lake"].as_str().unwrap().to_string();
    assert_eq!(lake, format!("s3://{BUCKET}/chaos/rt-1/corrupt-parquet-truncated-tail"));
    let damaged = run["injected"][0]["ground_truth"]["files"][0].as_str().unwrap().to_string();

    chaos_api.invoke(json!({ "scenario": "corrupt-parquet-truncated-tail", "run_id": "rt-1" }));
    match chaos_api.answer(Duration::from_secs(60)).await.1 {
        Answer::Error(e) => assert!(e["errorMessage"].as_str().unwrap().contains("already holds a lake"), "{e}"),
        other => panic!("a second injection into the same lake must fail: {other:?}"),
    }

    // The healer function, fed the bucket's real events as an SQS batch.
    let batch = common::sqs_batch(&common::queued_bodies(&queue).await);
    let mut healer_api = RuntimeApi::start().await;
    let _healer = Running(bootstrap(
        &common::workspace_bin("lakehealer", "lakehealer-lambda"),
        &healer_api,
        moto.endpoint(),
        &[
            ("LAKEHEALER_LAKE", &format!("s3://{BUCKET}/lake")),
            ("LAKEHEALER_CATALOG", "file"),
            ("LAKEHEALER_GAMEDAY_PREFIX", "chaos"),
        ],
        Stdio::inherit(),
    ));
    healer_api.invoke(batch.clone());
    let healed = response(healer_api.answer(Duration::from_secs(120)).await.1);
    assert_eq!(healed["batchItemFailures"], json!([]), "{healed}");
    assert_eq!(healed["passes"][0]["lake"], lake.as_str(), "{healed}");
    let incident = healed["events"].as_array().unwrap().iter().find(|e| e["event"] == "incident");
    let incident = incident.unwrap_or_else(|| panic!("no incident in {healed}"));
    assert_eq!(incident["location"], damaged.as_str(), "{healed}");
    assert!(healed["passes"][0]["repaired"].as_u64().unwrap() >= 1, "{healed}");

    // A warm function keeps its verdicts: the same batch again reads nothing and finds nothing.
    healer_api.invoke(batch.clone());
    let again = response(healer_api.answer(Duration::from_secs(60)).await.1);
    assert_eq!(again["passes"][0]["findings"], 0, "{again}");

    // What is not an event is the invocation's error.
    healer_api.invoke(json!({ "hello": "world" }));
    match healer_api.answer(Duration::from_secs(60)).await.1 {
        Answer::Error(e) => assert!(e["errorMessage"].as_str().unwrap().contains("unrecognised event"), "{e}"),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_without_its_configuration_exits_naming_what_is_missing() {
    // Lambda reports a bootstrap that exits at start as an init failure, with its output in
    // the function's log.
    let api = RuntimeApi::start().await;
    for (exe, missing) in [
        (Path::new(env!("CARGO_BIN_EXE_lakechaos-chaos-lambda")).to_path_buf(), "LAKECHAOS_ALLOW_ACCOUNTS"),
        (common::workspace_bin("lakehealer", "lakehealer-lambda"), "LAKEHEALER_LAKE"),
    ] {
        let mut child = bootstrap(&exe, &api, "http://127.0.0.1:9", &[], Stdio::piped());
        let mut cmd_err = String::new();
        use std::io::Read;
        let status = child.wait().unwrap();
        if let Some(mut e) = child.stderr.take() {
            e.read_to_string(&mut cmd_err).unwrap();
        }
        assert!(!status.success(), "{} started without its configuration", exe.display());
        assert!(cmd_err.contains(missing), "{}: {cmd_err}", exe.display());
    }
}
