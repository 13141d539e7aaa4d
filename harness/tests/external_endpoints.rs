//! Emulators that are already running (a Compose stack, a shared server): the external
//! provider uses the endpoint from `LAKECHAOS_MOTO_ENDPOINT`, an unreachable one is named with
//! exit 2, and a fault injected into an S3/Glue lake there is undone by `lakechaos revert
//! --endpoint-url` from its journal.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos::{load_paths, RunOptions};
use lakechaos_faults::{apply, FaultContext, Journal};
use lakechaos_lake::{AwsConnection, ObjectStore};
use rand::SeedableRng;
use std::process::{Command, Output};

fn lakechaos(args: &[&str], endpoint: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .args(args)
        .env("LAKECHAOS_MOTO_ENDPOINT", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_moto_is_used_named_when_unreachable_and_revert_works_there() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let scenario = common::scenarios_dir().join("null-flood-customer-id.yaml");
    let scenario = scenario.to_str().unwrap();

    // Used as it is: the run passes against the server this test started, which outlives it.
    let o = lakechaos(&["run", scenario, "--target", "moto", "--provider", "external"], moto.endpoint());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let conn = AwsConnection::emulator(moto.endpoint());
    let bucket = lakechaos_lake::S3Store::connect(&conn, "lakechaos-null-flood-customer-id", "").await;
    assert!(!bucket.list("orders/").await.unwrap().is_empty(), "the lake lives on the external server");

    // Unreachable: exit 2, the endpoint named.
    let o = lakechaos(&["run", scenario, "--target", "moto", "--provider", "external"], "http://127.0.0.1:9");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("http://127.0.0.1:9"), "{}", text(&o));

    // A fault injected into a lake on the server, undone from its journal by the CLI.
    let scenarios = load_paths(&[common::scenarios_dir()]).unwrap();
    let s = scenarios.iter().find(|s| s.name == "schema-drift-drop-column").unwrap();
    std::env::set_var("LAKECHAOS_MOTO_ENDPOINT", moto.endpoint());
    let opts = RunOptions {
        target: lakechaos::Target::Moto,
        target_options: lakechaos::TargetOptions {
            provider: lakechaos::targets::provision::ProviderKind::External,
            ..Default::default()
        },
        ..RunOptions::default()
    };
    let env = opts.target.start(&opts.target_options).await.unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let provisioned = env.provision(&s.name, dir.path(), true).await.unwrap();
    let seeded = lakechaos_fixtures::seed_lake(&provisioned.lake, &s.dataset, &s.fixture, 5).await.unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let plan = s
        .fault
        .plan(&mut FaultContext { lake: &provisioned.lake, table: &seeded.table, rng: &mut rng, grants: &[] })
        .await
        .unwrap();
    let mut journal = Journal::from_plan(&s.name, 5, &provisioned.address, &plan);
    journal.catalog = provisioned.catalog.clone();
    let journal_path = dir.path().join("journal.json");
    journal.write(&journal_path).unwrap();
    let victim = plan.ground_truth.files[0].clone();
    let original = provisioned.lake.store.get(&victim).await.unwrap();
    apply(&provisioned.lake, &plan).await.unwrap();
    assert_ne!(provisioned.lake.store.get(&victim).await.unwrap(), original);

    let o = lakechaos(
        &["revert", "--journal", journal_path.to_str().unwrap(), "--endpoint-url", moto.endpoint()],
        moto.endpoint(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(provisioned.lake.store.get(&victim).await.unwrap(), original, "revert restores the bytes");
}
