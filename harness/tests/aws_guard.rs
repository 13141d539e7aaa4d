//! The guarded `aws` target, exercised against a real moto server standing in for AWS
//! (`AWS_ENDPOINT_URL`; moto's STS reports account 123456789012):
//! - an account outside `allow_accounts` → exit 2 before any write;
//! - `--dry-run` prints the manifest and writes nothing;
//! - an allowed run writes only under `<prefix>/<run-id>/`.
//!
//! "Nothing written" is checked by listing the emulator afterwards.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::{AwsConnection, ObjectStore, S3Store};
use std::path::{Path, PathBuf};
use std::process::Output;

const BUCKET: &str = "staging-lake";
const MOTO_ACCOUNT: &str = "123456789012";

use common::lakechaos_against as lakechaos;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn config(dir: &Path, allow: &str) -> PathBuf {
    let path = dir.join("lakechaos-aws.yaml");
    std::fs::write(&path, format!("allow_accounts: ['{allow}']\nbucket: {BUCKET}\nprefix: chaos/runs\n")).unwrap();
    path
}

/// Every key in the bucket, and every Glue database.
async fn everything(conn: &AwsConnection) -> (Vec<String>, Vec<String>) {
    let store = S3Store::connect(conn, BUCKET, "").await;
    let keys = store.list("").await.unwrap().into_iter().map(|o| o.key).collect();
    let glue = aws_sdk_glue::Client::new(&conn.sdk_config().await);
    let dbs = glue.get_databases().send().await.unwrap();
    (keys, dbs.database_list().iter().map(|d| d.name().to_string()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_refuses_other_accounts_dry_runs_write_nothing_and_runs_stay_in_their_prefix() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    S3Store::connect(&conn, BUCKET, "").await.ensure_bucket(true).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::scenarios_dir().join("corrupt-parquet-truncated-tail.yaml");
    let scenario = scenario.to_str().unwrap();

    // Not an allowed account: exit 2, the account named, nothing written.
    let wrong = config(dir.path(), "111111111111");
    let o = lakechaos(
        moto.endpoint(),
        &["run", scenario, "--target", "aws", "--aws-config", wrong.to_str().unwrap(), "--run-id", "r1"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains(&format!("account {MOTO_ACCOUNT} is not in allow_accounts")), "{}", text(&o));
    assert_eq!(everything(&conn).await, (vec![], vec![]), "a refused run wrote something");
    // The same for a dry run.
    let o = lakechaos(
        moto.endpoint(),
        &["run", scenario, "--target", "aws", "--aws-config", wrong.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // Allowed, dry run: a manifest of keys under the run prefix, and still nothing written.
    let allowed = config(dir.path(), MOTO_ACCOUNT);
    let o = lakechaos(
        moto.endpoint(),
        &["run", scenario, "--target", "aws", "--aws-config", allowed.to_str().unwrap(), "--run-id", "r2", "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(manifest["account"], MOTO_ACCOUNT);
    assert_eq!(manifest["run_prefix"], "chaos/runs/r2");
    let keys: Vec<&str> =
        manifest["scenarios"][0]["keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(keys.len(), 28, "7 days × 2 files, served and landing: {keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("chaos/runs/r2/")), "{keys:?}");
    assert_eq!(everything(&conn).await, (vec![], vec![]), "a dry run wrote something");

    // Allowed, for real: the scenario passes and every key is under the run prefix.
    let o = lakechaos(
        moto.endpoint(),
        &["run", scenario, "--target", "aws", "--aws-config", allowed.to_str().unwrap(), "--run-id", "r3"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (keys, dbs) = everything(&conn).await;
    assert!(keys.len() >= 28, "{keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("chaos/runs/r3/")), "a key outside the run prefix: {keys:?}");
    assert_eq!(dbs, vec!["lakechaos_r3_corrupt_parquet_truncated_tail".to_string()]);
}
