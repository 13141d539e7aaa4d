//! Existing-table mode on Iceberg tables pyiceberg wrote (not lakechaos): in the SQL catalog on
//! SQLite and in Glue on moto. A table that declares no contract is refused for the faults only
//! a contract tells from intent, with the command that declares it; a declared one is broken by
//! every scenario of `scenarios-existing-iceberg/`, healed, and read back by pyiceberg exactly as
//! it was; an unhealed one is put back to the very metadata file it was found at.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::iceberg::{PointerCatalog, SqlCatalog, TableIdent};
use lakechaos_lake::{AwsConnection, S3Store};
use std::path::Path;
use std::process::{Command, Output};

const SUITE: &str = "scenarios-existing-iceberg";

use common::pyiceberg;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The flags naming shop.sales in the SQL catalog of `dir`.
fn local_table(dir: &Path) -> Vec<String> {
    vec![
        "--lake".into(),
        dir.join("lake").display().to_string(),
        "--catalog".into(),
        format!("iceberg-sql:{}", dir.join("catalog.db").display()),
        "--table".into(),
        "shop.sales".into(),
    ]
}

fn lakechaos(args: &[&str], table: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(common::repo_root())
        .args(args)
        .args(table)
        .output()
        .unwrap()
}

fn lakehealer(args: &[&str], table: &[String]) -> Output {
    Command::new(common::lakehealer_bin()).args(args).args(table).output().unwrap()
}

async fn pointer(dir: &Path) -> String {
    let catalog = SqlCatalog::open(&dir.join("catalog.db"), false).unwrap();
    catalog.pointer(&TableIdent::parse("shop.sales").unwrap()).await.unwrap().unwrap()
}

fn report_scenarios(report: &Path) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    doc["suites"][0]["scenarios"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_or_unbounded_iceberg_table_is_refused_with_the_way_forward_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pyiceberg(&["write", dir.to_str().unwrap()]);
    let table = local_table(dir);
    let files = common::files_under(dir);

    // No contract declared: the floods and drifts are refused, naming the command that
    // declares it.
    let o = lakechaos(&["run", SUITE, "--max-rows-fraction", "1"], &table);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("null-flood-append.yaml:6:3: fault (null_flood)"), "{}", text(&o));
    assert!(text(&o).contains("declares no contract"), "{}", text(&o));
    assert!(text(&o).contains("lakehealer discover --lake"), "{}", text(&o));
    assert!(!text(&o).contains("corrupt-metadata.yaml"), "a metadata fault needs no contract: {}", text(&o));

    // A metadata fault breaks every reader of the table: the default radius refuses it.
    let o = lakechaos(&["run", &format!("{SUITE}/corrupt-metadata.yaml")], &table);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("only --max-rows-fraction 1 allows"), "{}", text(&o));

    // A table the catalog does not have.
    let mut other = table.clone();
    other[5] = "shop.nothing".into();
    let o = lakechaos(&["run", &format!("{SUITE}/corrupt-metadata.yaml"), "--max-rows-fraction", "1"], &other);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("Iceberg table shop.nothing is not in the iceberg-sql:"), "{}", text(&o));

    assert_eq!(common::files_under(dir), files, "a refused run wrote or removed files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_pyiceberg_table_is_broken_healed_and_read_back_by_pyiceberg_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pyiceberg(&["write", dir.to_str().unwrap()]);
    let table = local_table(dir);
    let declare = lakehealer(&["discover"], &table);
    assert!(declare.status.success(), "{}", text(&declare));
    assert!(
        text(&declare).contains("column note") && text(&declare).contains("max_null_fraction=0.35"),
        "{}",
        text(&declare)
    );
    let d = dir.to_str().unwrap();
    let before = pyiceberg(&["dump", d, "shop.sales", dir.join("before.parquet").to_str().unwrap()]);

    let report = dir.join("report.json");
    let o = lakechaos(&["run", SUITE, "--max-rows-fraction", "1", "--json", report.to_str().unwrap()], &table);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let scenarios = report_scenarios(&report);
    assert_eq!(scenarios.len(), common::count_yaml(&common::repo_root().join(SUITE)), "{}", text(&o));
    for s in &scenarios {
        let name = s["name"].as_str().unwrap();
        if name.ends_with("-from-version") {
            assert_eq!(s["status"], "skipped", "{name}: {}", text(&o));
            assert!(s["reason"].as_str().unwrap().contains("keeps no object versions"), "{s}");
        } else {
            assert_eq!(s["status"], "passed", "{name}: {}", text(&o));
            assert_eq!(s["rows_lost"], 0, "{name}");
        }
    }
    let after = pyiceberg(&["dump", d, "shop.sales", dir.join("after.parquet").to_str().unwrap()]);
    assert_eq!(after, before, "pyiceberg reads another table after the run");
    let scan = lakehealer(&["scan"], &table);
    assert_eq!(scan.status.code(), Some(0), "the table is left clean: {}", text(&scan));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealed_iceberg_table_is_put_back_to_the_metadata_file_it_was_found_at() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pyiceberg(&["write", dir.to_str().unwrap()]);
    let table = local_table(dir);
    assert!(lakehealer(&["discover"], &table).status.success());
    let found = pointer(dir).await;
    let d = dir.to_str().unwrap();
    let before = pyiceberg(&["dump", d, "shop.sales", dir.join("before.parquet").to_str().unwrap()]);

    // Faults with short SLOs, for a healer that only watches.
    let suite = dir.join("suite");
    std::fs::create_dir(&suite).unwrap();
    for name in ["corrupt-metadata", "null-flood-append", "schema-drift-rename-any-column"] {
        let body = std::fs::read_to_string(common::repo_root().join(SUITE).join(format!("{name}.yaml"))).unwrap();
        let body = body.replace("detect_within: 10s, repair_within: 30s", "detect_within: 1s, repair_within: 1s");
        std::fs::write(suite.join(format!("{name}.yaml")), body).unwrap();
    }
    let report = dir.join("report.json");
    let o = lakechaos(
        &["run", suite.to_str().unwrap(), "--max-rows-fraction", "1", "--healer", "none", "--json"],
        &[vec![report.display().to_string()], table.clone()].concat(),
    );
    assert_eq!(o.status.code(), Some(1), "every repair expectation fails: {}", text(&o));
    let scenarios = report_scenarios(&report);
    assert_eq!(scenarios.len(), 3);
    assert!(scenarios.iter().all(|s| s["status"] == "failed"), "{}", text(&o));
    assert!(!text(&o).contains("does not equal its snapshot"), "{}", text(&o));

    assert_eq!(pointer(dir).await, found, "the catalog points elsewhere than it was found");
    let after = pyiceberg(&["dump", d, "shop.sales", dir.join("after.parquet").to_str().unwrap()]);
    assert_eq!(after, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pyiceberg_table_in_glue_on_moto_passes_every_scenario_and_pyiceberg_reads_it_as_it_was() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let endpoint = moto.endpoint();
    let conn = AwsConnection::emulator(endpoint);
    S3Store::connect(&conn, "py-lake", "").await.ensure_bucket(true).await.unwrap();
    pyiceberg(&["write-glue", endpoint, "py-lake"]);
    let tmp = tempfile::tempdir().unwrap();
    let dump = |name: &str| pyiceberg(&["dump-glue", endpoint, "shop.sales", tmp.path().join(name).to_str().unwrap()]);
    let table: Vec<String> = ["--lake", "s3://py-lake", "--catalog", "glue:shop", "--table", "shop.sales"]
        .iter()
        .map(|s| s.to_string())
        .chain(["--endpoint-url".to_string(), endpoint.to_string()])
        .collect();
    let run = |cmd: &mut Command| common::against_emulator(cmd, endpoint).output().unwrap();
    let declare = run(Command::new(common::lakehealer_bin()).arg("discover").args(&table));
    assert!(declare.status.success(), "{}", text(&declare));
    let before = dump("before.parquet");

    let report = tmp.path().join("report.json");
    let o = run(Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(common::repo_root())
        .args(["run", SUITE, "--max-rows-fraction", "1", "--json", report.to_str().unwrap()])
        .args(&table));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let scenarios = report_scenarios(&report);
    assert_eq!(scenarios.len(), common::count_yaml(&common::repo_root().join(SUITE)));
    for s in &scenarios {
        assert_eq!(s["status"], "passed", "{}: {}", s["name"], text(&o));
    }
    assert_eq!(dump("after.parquet"), before, "pyiceberg reads another table after the run");
    // The damaged data file's bytes are kept in the bucket's quarantine, and the run says where.
    assert!(text(&o).contains("kept in the lake for inspection"), "{}", text(&o));
}
