//! Helpers shared by the harness's integration tests.
#![allow(dead_code)]

use lakechaos_faults::null_flood::NullFlood;
use lakechaos_faults::select::Selection;
use lakechaos_faults::FaultSpec;
use lakechaos_fixtures::OrdersSpec;
use std::path::PathBuf;

/// The repository's `scenarios/` folder.
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// How many scenario files `scenarios/` holds, its subfolders (`iceberg/`) included.
pub fn scenario_file_count() -> usize {
    count_yaml(&scenarios_dir())
}

/// How many scenario files `dir` and its subfolders hold (profiles are not scenarios).
pub fn count_yaml(dir: &std::path::Path) -> usize {
    files_under(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "yaml") && !p.to_string_lossy().ends_with(".profile.yaml"))
        .count()
}

/// A fixture small enough for many cases, with several row groups per file.
pub fn small_spec() -> OrdersSpec {
    OrdersSpec { days: 3, rows_per_day: 400, files_per_day: 2, rows_per_row_group: 100, ..OrdersSpec::default() }
}

/// One fault per mode that acts on data or catalog (grant faults need Lake Formation: see
/// `governance_moto.rs`), plus a flood of a nullable column (told from its normal nulls).
pub fn every_mode() -> Vec<FaultSpec> {
    let mut specs: Vec<FaultSpec> = FaultSpec::examples(&Selection::default())
        .into_iter()
        .filter(|s| !s.fault().needs_lake_formation() && !s.fault().needs_iceberg())
        .collect();
    specs.push(FaultSpec::NullFlood(NullFlood {
        column: Some("coupon_code".into()),
        fraction: 0.6,
        select: Selection::default(),
    }));
    specs
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A tool the project's `scripts/setup` installs: `repo_root()/<relative>` if there, else the
/// name on PATH. Panics naming what to run when it is missing: a missing tool is a failed
/// test, never a silent pass.
pub fn setup_tool(relative: &str, name: &str) -> PathBuf {
    let local = repo_root().join(relative);
    if local.is_file() {
        return local;
    }
    on_path(name)
}

/// `name` on PATH; panics naming scripts/setup when it is not there.
pub fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
        .unwrap_or_else(|| panic!("{name} is not installed (not on PATH); run scripts/setup"))
}

/// The `lakehealer` binary, next to `lakechaos` (built first when `cargo test -p lakechaos`
/// alone has not built it).
pub fn lakehealer_bin() -> PathBuf {
    workspace_bin("lakehealer", "lakehealer")
}

/// A binary of another workspace package, built into this test's target directory if absent
/// (cargo builds only this package's binaries for its tests).
pub fn workspace_bin(package: &str, bin: &str) -> PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_lakechaos")).with_file_name(bin);
    if !path.exists() {
        let built = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", package, "--bin", bin])
            .status()
            .unwrap();
        assert!(built.success() && path.exists(), "{} could not be built", path.display());
    }
    path
}

/// Runs `lakechaos` from the repository root against an AWS emulator standing in for AWS
/// (`AWS_ENDPOINT_URL`, its dummy credentials, no profile).
pub fn lakechaos_against(endpoint: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lakechaos"));
    cmd.args(args).current_dir(repo_root());
    against_emulator(&mut cmd, endpoint).output().unwrap()
}

/// Points a command's AWS SDK at an emulator: `AWS_ENDPOINT_URL`, its dummy credentials and
/// region, no profile.
pub fn against_emulator<'a>(cmd: &'a mut std::process::Command, endpoint: &str) -> &'a mut std::process::Command {
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
}

/// The bucket `bucket` (versioned) with its S3 events going to a new queue, drained of the test
/// event S3 sends first.
pub async fn bucket_with_events(conn: &lakechaos_lake::AwsConnection, bucket: &str) -> lakechaos_lake::EventQueue {
    lakechaos_lake::S3Store::connect(conn, bucket, "").await.ensure_bucket(true).await.unwrap();
    let queue = lakechaos_lake::EventQueue::create(conn, &format!("{bucket}-events")).await.unwrap();
    lakechaos_lake::notifications::notify_bucket_to_queue(conn, bucket, &queue).await.unwrap();
    queue.drain().await.unwrap();
    queue
}

/// Every message body now in `queue` (waiting a second for each batch).
pub async fn queued_bodies(queue: &lakechaos_lake::EventQueue) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let batch = queue.receive_raw(std::time::Duration::from_secs(1)).await.unwrap();
        if batch.is_empty() {
            return bodies;
        }
        bodies.extend(batch);
    }
}

/// An SQS batch as Lambda's event source mapping hands it over (the fields the handler reads):
/// one record per body, message ids `m0`, `m1`, ...
pub fn sqs_batch(bodies: &[String]) -> serde_json::Value {
    let records: Vec<serde_json::Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            serde_json::json!({ "messageId": format!("m{i}"), "body": body, "eventSource": "aws:sqs", "awsRegion": "us-east-1" })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// Every file under `dir`, recursively (an absent directory has none).
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Temporary files of any writer (`.lakechaos-tmp-…`) left under `dir`.
pub fn temporary_files(dir: &std::path::Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".lakechaos-tmp-")))
        .collect()
}

/// The healer's findings on a lake directory (the library, as `lakehealer scan` uses it).
pub fn findings(lake: &std::path::Path) -> Vec<lakehealer::Finding> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let lake = lakechaos_lake::Lake::open_local(lake).unwrap();
        let healer = lakehealer::Healer::new(lake, lakehealer::HealerConfig::default(), lakehealer::events::discard());
        healer.scan().await.unwrap().findings
    })
}

/// The SHA-256 of some bytes, in hex.
pub fn sha(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// What is wrong with a lake's quarantine after healing damage whose versions have the digests
/// `damaged`: a copy without its reason record, a healthy file kept there, a version kept twice.
pub async fn quarantine_problems(
    lake: &lakechaos_lake::Lake,
    damaged: &std::collections::HashSet<String>,
) -> Vec<String> {
    use lakechaos_lake::layout::{is_reason_record, reason_key, QUARANTINE_PREFIX};
    let mut problems = Vec::new();
    let quarantined = lake.store.list(&format!("{QUARANTINE_PREFIX}/")).await.unwrap();
    let keys: std::collections::HashSet<&str> = quarantined.iter().map(|o| o.key.as_str()).collect();
    let mut copies = Vec::new();
    for o in quarantined.iter().filter(|o| !is_reason_record(&o.key)) {
        if !keys.contains(reason_key(&o.key).as_str()) {
            problems.push(format!("quarantined without a reason record: {}", o.key));
        }
        let digest = sha(&lake.store.get(&o.key).await.unwrap());
        if !damaged.contains(&digest) {
            let reason = lake.store.get(&reason_key(&o.key)).await.map(|b| String::from_utf8_lossy(&b).into_owned());
            problems.push(format!("a healthy file was quarantined: {} ({} bytes; reason {reason:?})", o.key, o.size));
        }
        copies.push(digest);
    }
    let distinct: std::collections::HashSet<&String> = copies.iter().collect();
    if distinct.len() != copies.len() {
        problems.push(format!("{} quarantine copies of {} damaged versions", copies.len(), distinct.len()));
    }
    problems
}

/// A fault cutting `bytes` off the tail of `files` files in each of `partitions` partitions.
pub fn truncate_tail(bytes: u64, partitions: u32, files: u32) -> FaultSpec {
    use lakechaos_faults::corrupt_parquet::{CorruptMode, CorruptParquet};
    FaultSpec::CorruptParquet(CorruptParquet {
        mode: CorruptMode::TruncateTail,
        bytes: Some(bytes),
        bits: None,
        at: None,
        select: Selection { partitions, files },
    })
}

/// The Python that has pyiceberg (`scripts/setup` installs it).
pub fn writers_python() -> PathBuf {
    let p = repo_root().join(".venv-writers/bin/python");
    assert!(p.exists(), "{} is missing: run scripts/setup (it installs pyiceberg)", p.display());
    p
}

/// Runs `harness/tests/writers/iceberg_table.py` with `args`; its JSON answer.
pub fn pyiceberg(args: &[&str]) -> serde_json::Value {
    let script = repo_root().join("harness/tests/writers/iceberg_table.py");
    let o = std::process::Command::new(writers_python()).arg(script).args(args).output().unwrap();
    assert!(o.status.success(), "pyiceberg {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}
