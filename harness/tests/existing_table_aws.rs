//! Existing-table mode on AWS (an s3:// lake without `--endpoint-url`), exercised against a real
//! moto server standing in for AWS (`AWS_ENDPOINT_URL`; moto's STS reports account
//! 123456789012): the aws target's guard applies — an account outside `allow_accounts`, and a
//! lake outside the guard file's bucket and prefix, are refused with exit 2 and nothing written;
//! `--dry-run` lists every key, partition and catalog entry each scenario would touch and
//! writes nothing; a guarded run puts the table back as found.

mod common;

use common::lakechaos_against as lakechaos;
use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::{AwsConnection, ObjectStore, S3Store};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BUCKET: &str = "staging-lake";
const LAKE: &str = "s3://staging-lake/chaos/warehouse";

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn guard(dir: &Path, allow: &str, prefix: &str) -> PathBuf {
    let path = dir.join(format!("guard-{allow}-{}.yaml", prefix.replace('/', "_")));
    std::fs::write(&path, format!("allow_accounts: ['{allow}']\nbucket: {BUCKET}\nprefix: {prefix}\n")).unwrap();
    path
}

/// Every key and version in the bucket: what "nothing written" compares.
async fn versions(conn: &AwsConnection) -> Vec<(String, String)> {
    let store = S3Store::connect(conn, BUCKET, "").await;
    let mut all = Vec::new();
    for o in store.list("").await.unwrap() {
        all.push((o.key.clone(), o.version_token));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_guard_holds_for_existing_tables() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let endpoint = moto.endpoint();
    let conn = AwsConnection::emulator(endpoint);
    // A pyarrow table, uploaded to the staging bucket under the guard's prefix.
    let local = tempfile::tempdir().unwrap();
    let python = common::repo_root().join(".venv-writers/bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/sales_table.py");
    let o = Command::new(&python).arg(script).arg("write").arg(local.path()).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let store = S3Store::connect(&conn, BUCKET, "chaos/warehouse").await;
    store.ensure_bucket(true).await.unwrap();
    for path in common::files_under(&local.path().join("sales")) {
        let key = path.strip_prefix(local.path()).unwrap().to_str().unwrap().to_string();
        store.put(&key, std::fs::read(&path).unwrap().into()).await.unwrap();
    }
    let mut discover = Command::new(common::lakehealer_bin());
    common::against_emulator(&mut discover, endpoint);
    let o = discover.args(["discover", "--lake", LAKE, "--table", "sales"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let untouched = versions(&conn).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |guard: &Path, extra: &[&str]| {
        let mut args = vec!["run", "scenarios-existing", "--lake", LAKE, "--table", "sales"];
        args.extend(["--aws-config", guard.to_str().unwrap()]);
        args.extend(extra);
        lakechaos(endpoint, &args)
    };

    let o = run(&guard(dir.path(), "111111111111", "chaos"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("account 123456789012 is not in allow_accounts"), "{}", text(&o));
    assert_eq!(versions(&conn).await, untouched);

    let o = run(&guard(dir.path(), "123456789012", "chaos/runs"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is outside the guard's scope s3://staging-lake/chaos/runs"), "{}", text(&o));
    assert_eq!(versions(&conn).await, untouched);

    let allowed = guard(dir.path(), "123456789012", "chaos");
    let o = run(&allowed, &["--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let planned = manifest["scenarios"].as_array().unwrap();
    assert!(planned.len() >= 6, "{manifest}");
    assert!(
        planned.iter().any(|p| p["ground_truth"]["files"].as_array().is_some_and(|f| !f.is_empty())),
        "object keys are listed: {manifest}"
    );
    assert!(
        planned.iter().any(|p| p["ground_truth"]["catalog"].as_array().is_some_and(|c| !c.is_empty())),
        "catalog entries are listed: {manifest}"
    );
    assert_eq!(versions(&conn).await, untouched, "a dry run wrote something");

    let o = run(&allowed, &[]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let digest = |o: Output| {
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let read = || {
        Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/sales_table.py"))
            .args(["digest", "s3://staging-lake/chaos/warehouse/sales", endpoint])
            .output()
            .unwrap()
    };
    let mut expected = Command::new(&python);
    let local_digest = digest(
        expected
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/sales_table.py"))
            .args(["digest", local.path().join("sales").to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert_eq!(digest(read()), local_digest, "{out}");
}
