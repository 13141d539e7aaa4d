//! Iceberg tables: the healer on a table pyiceberg wrote (not lakechaos), the dead-commit
//! repair there, the no-source cases left unrepairable (and `--allow-drop`), and every Iceberg
//! scenario's table read back by pyiceberg and compared with golden by the harness.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_faults::iceberg_files::{IcebergFiles, IcebergFilesMode};
use lakechaos_faults::{apply, FaultContext, FaultSpec, Journal};
use lakechaos_fixtures::digest::digest_parquet;
use lakechaos_fixtures::GoldenRecord;
use lakechaos_lake::{AwsConnection, Lake, S3Store};
use rand::SeedableRng;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use common::pyiceberg;

fn lakehealer(dir: &Path, args: &[&str]) -> Output {
    let catalog = format!("iceberg-sql:{}", dir.join("catalog.db").display());
    let lake = dir.join("lake");
    Command::new(common::lakehealer_bin())
        .args(args)
        .args(["--lake", lake.to_str().unwrap(), "--catalog", &catalog, "--table", "shop.sales"])
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn open(dir: &Path) -> Lake {
    let catalog = format!("iceberg-sql:{}", dir.join("catalog.db").display());
    Lake::open(dir.join("lake").to_str().unwrap(), &catalog, &Default::default()).await.unwrap()
}

/// Plans and applies one `iceberg_files` fault on the pyiceberg table; returns its journal.
async fn inject(dir: &Path, mode: IcebergFilesMode, seed: u64) -> Journal {
    inject_on(&open(dir).await, dir.join("lake").to_str().unwrap(), mode, seed).await
}

/// [`inject`] on shop.sales of a lake at `address`.
async fn inject_on(lake: &Lake, address: &str, mode: IcebergFilesMode, seed: u64) -> Journal {
    let table = lake.iceberg_table("shop.sales").unwrap().unwrap();
    let base = table.current().await.unwrap();
    let live = table.live_files(&base.metadata, None).await.unwrap();
    let def = table.table_def(&base.metadata, live.iter().map(|f| f.partition.clone()).collect()).unwrap();
    let spec = FaultSpec::IcebergFiles(IcebergFiles { mode });
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let plan = spec.plan(&mut FaultContext { lake, table: &def, rng: &mut rng, grants: &[] }).await.unwrap();
    let journal = Journal::from_plan("test", seed, address, &plan);
    apply(lake, &plan).await.unwrap();
    journal
}

/// The catalog's pointer for shop.sales, read from the SQLite file.
async fn pointer(dir: &Path) -> String {
    use lakechaos_lake::iceberg::{PointerCatalog, SqlCatalog, TableIdent};
    let catalog = SqlCatalog::open(&dir.join("catalog.db"), false).unwrap();
    catalog.pointer(&TableIdent::parse("shop.sales").unwrap()).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pyiceberg_table_is_checked_and_its_dead_commit_repaired_and_read_back_by_pyiceberg() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let written = pyiceberg(&["write", dir.to_str().unwrap()]);
    assert_eq!(written["snapshots"], 3);
    let before =
        pyiceberg(&["dump", dir.to_str().unwrap(), "shop.sales", dir.join("before.parquet").to_str().unwrap()]);
    assert_eq!(before["rows"], 1500);

    let clean = lakehealer(dir, &["scan"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));

    // A commit that died halfway: the catalog points at a cut-off metadata file.
    let good = pointer(dir).await;
    inject(dir, IcebergFilesMode::CorruptMetadata, 3).await;
    let dead = pointer(dir).await;
    assert_ne!(dead, good);
    let scan = lakehealer(dir, &["scan", "--format", "json"]);
    assert_eq!(scan.status.code(), Some(1), "{}", text(&scan));
    let found: serde_json::Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(found["findings"][0]["kind"], "iceberg_files");
    assert_eq!(found["findings"][0]["location"], "catalog:shop.sales");

    // The dry run names the repair and changes nothing.
    let dry = lakehealer(dir, &["heal", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry));
    assert!(text(&dry).contains(&format!("point catalog:shop.sales at {good}")), "{}", text(&dry));
    assert_eq!(pointer(dir).await, dead, "a dry run moved the pointer");

    let heal = lakehealer(dir, &["heal"]);
    assert_eq!(heal.status.code(), Some(0), "{}", text(&heal));
    assert_eq!(pointer(dir).await, good);
    let after = pyiceberg(&["dump", dir.to_str().unwrap(), "shop.sales", dir.join("after.parquet").to_str().unwrap()]);
    assert_eq!(after["digest"], before["digest"], "pyiceberg reads other rows after the repair");
    // The dead commit's file is left where it was (never deleted).
    assert!(dead.starts_with("file://") && Path::new(&dead["file://".len()..]).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_source_the_healer_changes_nothing_and_drops_rows_only_when_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pyiceberg(&["write", dir.to_str().unwrap()]);
    let d = dir.to_str().unwrap();

    // A missing manifest: no versions locally, no other copy. Unrepairable, nothing written.
    let journal = inject(dir, IcebergFilesMode::MissingManifest, 5).await;
    let files_before = common::files_under(dir);
    let heal = lakehealer(dir, &["heal"]);
    assert_eq!(heal.status.code(), Some(1), "{}", text(&heal));
    assert!(text(&heal).contains("UNREPAIRABLE"), "{}", text(&heal));
    assert_eq!(common::files_under(dir), files_before, "an unrepairable heal wrote or removed files");
    journal.revert(&open(dir).await).await.unwrap();
    assert_eq!(lakehealer(dir, &["scan"]).status.code(), Some(0));

    // A live data file deleted, no landing copy: unrepairable; --allow-drop commits a snapshot
    // without it, reports the rows, and pyiceberg reads the rest.
    let journal = inject(dir, IcebergFilesMode::MissingDataFile, 7).await;
    let lost = journal.ground_truth.rows_affected;
    assert!(lost > 0);
    let heal = lakehealer(dir, &["heal"]);
    assert_eq!(heal.status.code(), Some(1), "{}", text(&heal));
    let dry = lakehealer(dir, &["heal", "--dry-run", "--allow-drop"]);
    assert!(text(&dry).contains(&format!("dropping {lost} rows")), "{}", text(&dry));
    let drop = lakehealer(dir, &["heal", "--allow-drop"]);
    assert!(text(&drop).contains(&format!("dropped {lost} rows")), "{}", text(&drop));
    assert_eq!(drop.status.code(), Some(0), "the table reads again: {}", text(&drop));
    let read = pyiceberg(&["dump", d, "shop.sales", dir.join("dropped.parquet").to_str().unwrap()]);
    assert_eq!(read["rows"].as_u64().unwrap(), 1500 - lost);
}

/// The two whole-suite tests, one at a time: their SLOs (1 s to detect) are for a scenario that
/// does not share two cores with another suite.
static ONE_SUITE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_iceberg_scenario_leaves_a_table_pyiceberg_reads_as_golden() {
    let _one = ONE_SUITE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("report.json");
    let o = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(common::repo_root())
        .args(["run", "scenarios/iceberg", "--target", "local", "--seed", "21"])
        .args(["--workdir", work.path().to_str().unwrap(), "--json", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let scenarios = doc["suites"][0]["scenarios"].as_array().unwrap();
    let outcomes: BTreeSet<String> =
        scenarios.iter().map(|s| s["outcome"].as_str().unwrap_or_default().to_string()).collect();
    assert!(scenarios.len() >= 12, "{} scenarios", scenarios.len());
    for s in scenarios {
        let name = s["name"].as_str().unwrap();
        if s["status"] == "skipped" {
            // The restores from object versions: a directory keeps none.
            assert!(name.ends_with("-from-version"), "{name} was skipped: {}", s["reason"]);
            continue;
        }
        let dir = work.path().join(name);
        let out = dir.join("pyiceberg.parquet");
        pyiceberg(&["dump", dir.to_str().unwrap(), "lakechaos.orders", out.to_str().unwrap()]);
        assert_rows_equal_golden(name, &dir, &out);
    }
    eprintln!("outcomes: {outcomes:?}");
}

/// The rows pyiceberg wrote to `out` are exactly golden's (scenario `name`, work directory `dir`).
fn assert_rows_equal_golden(name: &str, dir: &Path, out: &Path) {
    let record: GoldenRecord = serde_json::from_slice(&std::fs::read(dir.join("golden.json")).unwrap()).unwrap();
    let digest = digest_parquet(std::fs::read(out).unwrap().into(), &record.manifest.contract)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut served = digest.row_hashes;
    let mut golden: Vec<u64> = record.row_hashes.values().flatten().copied().collect();
    served.sort_unstable();
    golden.sort_unstable();
    assert_eq!(
        served.len(),
        golden.len(),
        "{name}: pyiceberg reads {} rows, golden has {}",
        served.len(),
        golden.len()
    );
    assert!(served == golden, "{name}: pyiceberg reads other rows than golden");
}

#[test]
fn every_iceberg_scenario_on_moto_leaves_a_glue_table_pyiceberg_reads_as_golden() {
    let _one = ONE_SUITE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // One moto for the run and the reads after it: the scenarios' buckets and Glue databases
    // outlive the run.
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let endpoint = moto.endpoint();
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("report.json");
    let o = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(common::repo_root())
        .env("LAKECHAOS_MOTO_ENDPOINT", endpoint)
        // Two at a time on two cores: each scenario's times stay its own enough for its SLO.
        .args(["run", "scenarios/iceberg", "--target", "moto", "--seed", "22", "--jobs", "2"])
        .args(["--workdir", work.path().to_str().unwrap(), "--json", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let scenarios = doc["suites"][0]["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), common::count_yaml(&common::scenarios_dir().join("iceberg")));
    for s in scenarios {
        let name = s["name"].as_str().unwrap();
        assert_eq!(s["status"], "passed", "{name}: {}", text(&o));
        let dir = work.path().join(name);
        let out = dir.join("pyiceberg.parquet");
        // The scenario's Glue database is named after it (see `targets::resource_name`).
        let database: String = format!("lakechaos_{name}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .take(63)
            .collect();
        let table = format!("{}.orders", database.trim_end_matches('_'));
        pyiceberg(&["dump-glue", endpoint, &table, out.to_str().unwrap()]);
        assert_rows_equal_golden(name, &dir, &out);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pyiceberg_table_in_glue_is_repaired_from_its_dead_commit_and_from_object_versions() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let endpoint = moto.endpoint();
    let conn = AwsConnection::emulator(endpoint);
    S3Store::connect(&conn, "py-lake", "").await.ensure_bucket(true).await.unwrap();
    let written = pyiceberg(&["write-glue", endpoint, "py-lake"]);
    assert_eq!(written["snapshots"], 3);
    let tmp = tempfile::tempdir().unwrap();
    let dump = |name: &str| {
        pyiceberg(&["dump-glue", endpoint, "shop.sales", tmp.path().join(name).to_str().unwrap()])["digest"].clone()
    };
    let before = dump("before.parquet");
    let healer = |args: &[&str]| {
        let mut cmd = Command::new(common::lakehealer_bin());
        cmd.args(args).args([
            "--lake",
            "s3://py-lake",
            "--catalog",
            "glue:shop",
            "--table",
            "shop.sales",
            "--endpoint-url",
            endpoint,
        ]);
        common::against_emulator(&mut cmd, endpoint).output().unwrap()
    };
    let clean = healer(&["scan"]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));

    let lake = Lake::open("s3://py-lake", "glue:shop", &conn).await.unwrap();
    // A commit that died halfway, in Glue: the entry's metadata_location points at a cut-off file.
    inject_on(&lake, "s3://py-lake", IcebergFilesMode::CorruptMetadata, 3).await;
    let scan = healer(&["scan"]);
    assert_eq!(scan.status.code(), Some(1), "{}", text(&scan));
    assert!(text(&scan).contains("catalog:shop.sales"), "{}", text(&scan));
    let heal = healer(&["heal"]);
    assert_eq!(heal.status.code(), Some(0), "{}", text(&heal));
    assert_eq!(dump("repointed.parquet"), before, "pyiceberg reads other rows after the repair");

    // A manifest cut off in a versioned bucket: restored from its earlier version, the damaged
    // bytes kept in quarantine.
    inject_on(&lake, "s3://py-lake", IcebergFilesMode::CorruptManifest, 4).await;
    let heal = healer(&["heal"]);
    assert_eq!(heal.status.code(), Some(0), "{}", text(&heal));
    assert!(text(&heal).contains("restored") && text(&heal).contains("version"), "{}", text(&heal));
    assert_eq!(dump("restored.parquet"), before);
    let quarantined = S3Store::connect(&conn, "py-lake", "_quarantine").await;
    use lakechaos_lake::ObjectStore;
    let kept = quarantined.list("").await.unwrap().len();
    assert!(kept > 0, "the damaged manifest was not kept");

    // The metadata file the catalog points at, cut off where it lies: its earlier version is put
    // back at the same key (the last commit kept), the pointer does not move.
    let table = lake.iceberg_table("shop.sales").unwrap().unwrap();
    let pointed = table.pointer().await.unwrap();
    inject_on(&lake, "s3://py-lake", IcebergFilesMode::DamagedMetadata, 5).await;
    let dry = healer(&["heal", "--dry-run"]);
    assert!(text(&dry).contains("restore") && text(&dry).contains("the pointer stays"), "{}", text(&dry));
    let heal = healer(&["heal"]);
    assert_eq!(heal.status.code(), Some(0), "{}", text(&heal));
    assert!(text(&heal).contains("version"), "{}", text(&heal));
    assert_eq!(table.pointer().await.unwrap(), pointed);
    assert_eq!(dump("restored-metadata.parquet"), before);
    assert!(quarantined.list("").await.unwrap().len() > kept, "the damaged metadata file was not kept");
}
