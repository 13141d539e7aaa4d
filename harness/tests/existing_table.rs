//! Existing-table mode (`lakechaos run --lake … --table …`) on a table lakechaos did not write:
//! pyarrow writes it, `lakehealer discover` registers it, every fault class of
//! `scenarios-existing/` breaks it, and afterwards pyarrow — not the harness — reads it back
//! equal to what it wrote (DuckDB and Spark, for tables they wrote). The refusals (blast radius, a dirty table, a column the table lacks,
//! an unregistered table, an unversioned bucket, a fixture scenario) each exit 2 with nothing
//! written.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::{AwsConnection, Catalog, GlueCatalog, ObjectStore, S3Store};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TABLE: &str = "sales";

fn writers_python() -> PathBuf {
    let p = common::repo_root().join(".venv-writers/bin/python");
    assert!(p.exists(), "{} is missing: run scripts/setup", p.display());
    p
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/sales_table.py")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// pyarrow's reading of the table: rows and a hash of every row, sorted.
fn pyarrow_digest(location: &str, endpoint: Option<&str>) -> serde_json::Value {
    let mut cmd = Command::new(writers_python());
    cmd.arg(script()).arg("digest").arg(location);
    if let Some(e) = endpoint {
        cmd.arg(e);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "pyarrow could not read {location}: {}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A lake directory holding `sales`, written by pyarrow (24 partitions over region and dt, 4
/// files of 250 rows each).
fn pyarrow_lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(writers_python()).arg(script()).arg("write").arg(dir.path()).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    dir
}

fn lakehealer(args: &[&str], endpoint: Option<&str>) -> Output {
    let mut cmd = Command::new(common::lakehealer_bin());
    cmd.args(args);
    if let Some(e) = endpoint {
        common::against_emulator(&mut cmd, e);
    }
    cmd.output().unwrap()
}

fn lakechaos(args: &[&str], endpoint: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakechaos"));
    cmd.args(args).current_dir(common::repo_root());
    if let Some(e) = endpoint {
        common::against_emulator(&mut cmd, e);
    }
    cmd.output().unwrap()
}

/// [`pyarrow_lake`] with `sales` registered by `lakehealer discover`.
fn registered_lake() -> tempfile::TempDir {
    let dir = pyarrow_lake();
    let o = lakehealer(&["discover", "--lake", dir.path().to_str().unwrap(), "--table", TABLE], None);
    assert!(o.status.success(), "{}", text(&o));
    dir
}

/// A folder holding one scenario, `<name>.yaml`.
fn one_scenario(name: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(format!("{name}.yaml")), body).unwrap();
    dir
}

/// `lakechaos run SUITE` on `sales` with nobody healing (an external healer that never comes):
/// each scenario waits out its SLO. Output piped.
fn spawn_unhealed(suite: &str, lake: &str, workdir: Option<&Path>) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakechaos"));
    cmd.args(["run", suite, "--lake", lake, "--table", TABLE, "--healer", "external"]);
    if let Some(w) = workdir {
        cmd.args(["--workdir", w.to_str().unwrap()]);
    }
    cmd.current_dir(common::repo_root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (up to 30 s) until `done` holds; `what` names it when it never does.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Every file under `dir` with its size and modification time: what "nothing written" compares.
fn tree(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut files: Vec<_> = common::files_under(dir)
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).unwrap();
            (p, m.len(), m.modified().unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The JSON report's scenarios.
fn scenarios_of(report: &Path) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    doc["suites"][0]["scenarios"].as_array().unwrap().clone()
}

/// Every fault class passed; `permission_drift` only where the run declared the table's grants
/// (`--lf-policy`), reported skipped with the reason elsewhere.
fn assert_every_class_passed(scenarios: &[serde_json::Value], out: &str, with_grants: bool) {
    let mut passed: Vec<&str> =
        scenarios.iter().filter(|s| s["status"] == "passed").map(|s| s["fault_class"].as_str().unwrap()).collect();
    passed.sort();
    passed.dedup();
    let mut expected = vec!["corrupt_parquet", "missing_partition", "null_flood", "schema_drift"];
    if with_grants {
        expected.push("permission_drift");
    }
    expected.sort();
    assert_eq!(passed, expected, "{out}");
    for s in scenarios {
        if s["fault_class"] == "permission_drift" && !with_grants {
            assert_eq!(s["status"], "skipped", "{out}");
            assert!(s["reason"].as_str().unwrap().contains("--lf-policy"), "{out}");
        } else {
            assert_eq!(s["status"], "passed", "{}: {out}", s["name"]);
        }
    }
}

#[test]
fn every_fault_class_breaks_a_pyarrow_table_in_a_directory_and_it_comes_back_as_it_was() {
    let dir = pyarrow_lake();
    let lake = dir.path().to_str().unwrap();
    let o = lakehealer(&["discover", "--lake", lake, "--table", TABLE], None);
    assert!(o.status.success(), "{}", text(&o));
    let before = pyarrow_digest(&format!("{lake}/{TABLE}"), None);
    assert_eq!(before["rows"], 24000);
    let catalog_entry = dir.path().join("_catalog/sales.json");
    let entry_before: serde_json::Value = serde_json::from_slice(&std::fs::read(&catalog_entry).unwrap()).unwrap();

    let report = dir.path().join("report.json");
    let o = lakechaos(
        &["run", "scenarios-existing", "--lake", lake, "--table", TABLE, "--json", report.to_str().unwrap()],
        None,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_every_class_passed(&scenarios_of(&report), &out, false);

    // Another reader sees the table exactly as it was, and the catalog entry is as found.
    assert_eq!(pyarrow_digest(&format!("{lake}/{TABLE}"), None), before, "{out}");
    let entry_after: serde_json::Value = serde_json::from_slice(&std::fs::read(&catalog_entry).unwrap()).unwrap();
    assert_eq!(entry_after, entry_before);
    // The healer's quarantined damage stays in the lake, and the run lists it.
    let quarantined: Vec<PathBuf> = common::files_under(&dir.path().join("_quarantine"))
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".reason.json"))
        .collect();
    assert!(!quarantined.is_empty(), "the truncated file is quarantined: {out}");
    assert!(out.contains("kept in the lake for inspection"), "{out}");
    for q in &quarantined {
        let key = q.strip_prefix(dir.path()).unwrap().to_str().unwrap();
        assert!(out.contains(key), "{key} is listed: {out}");
    }
}

#[test]
fn refusals_exit_2_and_write_nothing() {
    let dir = registered_lake();
    let lake = dir.path().to_str().unwrap();
    let scenarios = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let path = scenarios.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_string()
    };
    let null_flood = |column: &str| {
        format!(
            "name: flood\nfault:\n  kind: null_flood\n  column: {column}\n  fraction: 0.5\nslo: {{ detect_within: 5s, repair_within: 9s }}\nexpect: {{ outcome: detected }}\n"
        )
    };
    let lacking = write("lacking.yaml", &null_flood("amount_eur"));
    let no_float_col = write("no-such-type.yaml", &null_flood("{ type: float, nullable: false }"));
    let whole_day = write(
        "two-days.yaml",
        "name: two-days\nfault: { kind: missing_partition, mode: files, partitions: 2 }\nslo: { detect_within: 5s, repair_within: 9s }\nexpect: { outcome: detected }\n",
    );
    let fixture = common::scenarios_dir().join("null-flood-customer-id.yaml");
    let fixture = fixture.to_str().unwrap();

    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "a column the table lacks",
            vec![lacking.as_str()],
            "lacking.yaml:3:3: fault (null_flood): column: \"amount_eur\" is not a column of the table",
        ),
        (
            "a selector nothing matches",
            vec![no_float_col.as_str()],
            "no column of the table matches {type: float, nullable: false}",
        ),
        ("two partitions, one allowed", vec![whole_day.as_str()], "above --max-partitions 1"),
        (
            "rows above the fraction",
            vec!["scenarios-existing", "--max-rows-fraction", "0.005"],
            "above --max-rows-fraction 0.005",
        ),
        ("a scenario with a fixture", vec![fixture], "seeds a fixture; against an existing table it is refused"),
        (
            "an unregistered table",
            vec!["scenarios-existing", "--table", "sales_v2"],
            "table sales_v2 is not registered",
        ),
    ];
    let untouched = tree(dir.path());
    for (case, extra, expected) in cases {
        let mut args = vec!["run", "--lake", lake];
        if !extra.contains(&"--table") {
            args.extend(["--table", TABLE]);
        }
        args.extend(extra);
        let o = lakechaos(&args, None);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{case}: {out}");
        assert!(out.contains(expected), "{case}: expected {expected:?} in {out}");
        assert!(out.contains("nothing was written"), "{case}: {out}");
        assert_eq!(tree(dir.path()), untouched, "{case}: the lake changed");
    }

    // A dirty table: a truncated file. Refused before anything is planned or written.
    let victim = dir.path().join("sales/region=eu/dt=2024-05-03/part-1.parquet");
    let data = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &data[..data.len() - 40]).unwrap();
    let dirty = tree(dir.path());
    let o = lakechaos(&["run", "scenarios-existing", "--lake", lake, "--table", TABLE], None);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("table sales is not clean") && out.contains("region=eu/dt=2024-05-03/part-1.parquet"),
        "{out}"
    );
    assert_eq!(tree(dir.path()), dirty, "the dirty lake changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_class_on_s3_with_glue_in_a_versioned_bucket_and_an_unversioned_one_is_refused() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let endpoint = moto.endpoint();
    let conn = AwsConnection::emulator(endpoint);
    let local = pyarrow_lake();
    // The same pyarrow table uploaded to two buckets: one versioned, one not.
    for (bucket, versioned) in [("their-lake", true), ("their-unversioned-lake", false)] {
        let store = S3Store::connect(&conn, bucket, "warehouse").await;
        store.ensure_bucket(versioned).await.unwrap();
        for path in common::files_under(&local.path().join(TABLE)) {
            let key = path.strip_prefix(local.path()).unwrap().to_str().unwrap().to_string();
            store.put(&key, std::fs::read(&path).unwrap().into()).await.unwrap();
        }
        let glue = GlueCatalog::connect(
            &conn,
            &format!("{}_db", bucket.replace('-', "_")),
            &format!("s3://{bucket}/warehouse"),
        )
        .await;
        glue.ensure_database().await.unwrap();
    }
    let address = "s3://their-lake/warehouse";
    let o = lakehealer(
        &[
            "discover",
            "--lake",
            address,
            "--catalog",
            "glue:their_lake_db",
            "--table",
            TABLE,
            "--endpoint-url",
            endpoint,
        ],
        Some(endpoint),
    );
    assert!(o.status.success(), "{}", text(&o));
    // The grants the table's healer keeps, held now, declared in a policy file.
    let policy = local.path().join("grants.yaml");
    std::fs::write(
        &policy,
        "grants:\n  - principal: arn:aws:iam::123456789012:role/lakehealer\n    resource: { table: { database: their_lake_db, name: sales } }\n    permissions: [SELECT, DESCRIBE, ALTER, INSERT, DELETE]\n",
    )
    .unwrap();
    let lf = lakechaos_lake::LakeFormation::connect(&conn).await;
    let declared = lakehealer::governance::Policy::load(&policy).unwrap();
    for g in &declared.grants {
        lf.grant(&g.principal, &g.resource, &g.permissions).await.unwrap();
    }
    let glue = GlueCatalog::connect(&conn, "their_lake_db", address).await;
    let entry_before = glue.get_table(TABLE).await.unwrap().expect("registered");
    let before = pyarrow_digest("s3://their-lake/warehouse/sales", Some(endpoint));
    assert_eq!(before["rows"], 24000);

    let report = local.path().join("report.json");
    let o = lakechaos(
        &[
            "run",
            "scenarios-existing",
            "--lake",
            address,
            "--catalog",
            "glue:their_lake_db",
            "--table",
            TABLE,
            "--endpoint-url",
            endpoint,
            "--lf-policy",
            policy.to_str().unwrap(),
            "--json",
            report.to_str().unwrap(),
        ],
        Some(endpoint),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_every_class_passed(&scenarios_of(&report), &out, true);
    assert_eq!(pyarrow_digest("s3://their-lake/warehouse/sales", Some(endpoint)), before, "{out}");
    for g in &declared.grants {
        assert!(lf.missing(g).await.unwrap().is_empty(), "the declared grant is held again: {out}");
    }
    assert_eq!(glue.get_table(TABLE).await.unwrap(), Some(entry_before), "the Glue entry is as found");

    // The unversioned bucket: registered, clean, and refused.
    let unversioned = "s3://their-unversioned-lake/warehouse";
    let o = lakehealer(
        &[
            "discover",
            "--lake",
            unversioned,
            "--catalog",
            "glue:their_unversioned_lake_db",
            "--table",
            TABLE,
            "--endpoint-url",
            endpoint,
        ],
        Some(endpoint),
    );
    assert!(o.status.success(), "{}", text(&o));
    let store = S3Store::connect(&conn, "their-unversioned-lake", "").await;
    let listed = |objects: Vec<lakechaos_lake::ObjectMeta>| {
        objects.into_iter().map(|o| (o.key, o.version_token)).collect::<Vec<_>>()
    };
    let untouched = listed(store.list("").await.unwrap());
    let o = lakechaos(
        &[
            "run",
            "scenarios-existing",
            "--lake",
            unversioned,
            "--catalog",
            "glue:their_unversioned_lake_db",
            "--table",
            TABLE,
            "--endpoint-url",
            endpoint,
        ],
        Some(endpoint),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("bucket their-unversioned-lake does not keep object versions")
            && out.contains("--allow-unversioned"),
        "{out}"
    );
    assert_eq!(listed(store.list("").await.unwrap()), untouched, "nothing was written");
}

/// DuckDB's reading of a Hive-partitioned table: rows and an order-independent hash.
fn duckdb_digest(table_dir: &Path) -> String {
    let code = "import duckdb, sys; print(duckdb.sql(f\"SELECT count(*), sum(hash(id, price, note, dt)) FROM read_parquet('{sys.argv[1]}/*/*.parquet', hive_partitioning=true)\").fetchall())";
    let o = Command::new(writers_python()).args(["-c", code]).arg(table_dir).output().unwrap();
    assert!(o.status.success(), "DuckDB could not read {}: {}", table_dir.display(), text(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_duckdb_table_with_one_file_per_partition_comes_back_as_duckdb_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    let writer = common::repo_root().join("healer/tests/writers/write_lake.py");
    let o = Command::new(writers_python()).arg(writer).arg(dir.path()).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let lake = dir.path().to_str().unwrap();
    assert!(lakehealer(&["discover", "--lake", lake, "--table", "duck_orders"], None).status.success());
    let before = duckdb_digest(&dir.path().join("duck_orders"));
    // Two partitions of one file each: every fault touches half the table, so the radius is
    // widened on purpose.
    let o = lakechaos(
        &["run", "scenarios-existing", "--lake", lake, "--table", "duck_orders", "--max-rows-fraction", "0.6"],
        None,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("6 passed, 0 failed, 1 skipped"), "{out}");
    assert_eq!(duckdb_digest(&dir.path().join("duck_orders")), before, "{out}");
}

/// Spark's reading of a table: rows and a sum of Spark's row hashes. Spark checks the `.crc`
/// files it wrote beside each data file, so one byte off fails the read.
fn spark_digest(table_dir: &Path) -> String {
    let reader = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/spark_digest.py");
    let o = Command::new(writers_python()).arg(reader).arg(table_dir).output().unwrap();
    assert!(o.status.success(), "Spark could not read {}: {}", table_dir.display(), text(&o));
    String::from_utf8(o.stdout).unwrap().lines().last().unwrap_or_default().to_string()
}

#[test]
fn a_spark_table_comes_back_byte_for_byte_as_spark_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let writer = common::repo_root().join("healer/tests/writers/write_spark.py");
    let o = Command::new(writers_python()).arg(writer).arg(dir.path()).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let lake = dir.path().to_str().unwrap();
    assert!(lakehealer(&["discover", "--lake", lake, "--table", "sp_orders"], None).status.success());
    let before = spark_digest(&dir.path().join("sp_orders"));
    assert!(before.contains("\"rows\": 3000"), "{before}");
    let o = lakechaos(
        &["run", "scenarios-existing", "--lake", lake, "--table", "sp_orders", "--max-rows-fraction", "0.6"],
        None,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("6 passed, 0 failed, 1 skipped"), "{out}");
    assert_eq!(spark_digest(&dir.path().join("sp_orders")), before, "{out}");
}

#[test]
fn a_game_day_breaks_the_tables_it_names_and_puts_them_back() {
    let dir = registered_lake();
    let lake = dir.path().to_str().unwrap();
    let before = pyarrow_digest(&format!("{lake}/{TABLE}"), None);
    let suite = common::repo_root().join("scenarios-existing");
    let config = dir.path().join("gameday.yaml");
    let write = |extra: &str| {
        std::fs::write(
            &config,
            format!(
                "name: staging-tables\nsuite: [{}]\ntarget: local\nreports: reports\ntables:\n  - {{ lake: {lake}, table: {TABLE}{extra} }}\n",
                suite.display()
            ),
        )
        .unwrap()
    };
    write("");
    let o = lakechaos(&["gameday", "--config", config.to_str().unwrap()], None);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let scenarios = scenarios_of(&dir.path().join("reports/report.json"));
    assert_eq!(scenarios.len(), 7, "{out}");
    assert!(scenarios.iter().all(|s| s["name"].as_str().unwrap().starts_with("sales:")), "{out}");
    assert_every_class_passed(&scenarios, &out, false);
    assert_eq!(pyarrow_digest(&format!("{lake}/{TABLE}"), None), before, "{out}");

    // The same guard as `run`: a radius the suite exceeds stops the game day before anything is written.
    write(", max_rows_fraction: 0.001");
    let untouched = tree(&dir.path().join(TABLE));
    let o = lakechaos(&["gameday", "--config", config.to_str().unwrap()], None);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("above --max-rows-fraction 0.001") && out.contains("nothing was written"), "{out}");
    assert_eq!(tree(&dir.path().join(TABLE)), untouched);
}

/// Someone else writes to the table while a scenario runs: the damaged file is overwritten by
/// another writer, and a new file lands in a partition. The revert keeps a copy of the other
/// writer's bytes before it restores the original, never deletes the new file, and the scenario
/// says the table differs from its snapshot instead of claiming it was put back.
#[test]
fn another_writer_during_a_scenario_loses_nothing_and_the_difference_is_reported() {
    let dir = registered_lake();
    let lake = dir.path().to_str().unwrap();
    let scenarios = one_scenario(
        "truncate",
        "name: truncate\nfault: { kind: corrupt_parquet, mode: truncate_tail, bytes: 300 }\nslo: { detect_within: 3s, repair_within: 4s }\nexpect: { outcome: detected }\n",
    );
    let suite = scenarios.path().to_str().unwrap();
    let o = lakechaos(&["run", suite, "--lake", lake, "--table", TABLE, "--dry-run"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let victim_key = plan["scenarios"][0]["ground_truth"]["files"][0].as_str().unwrap().to_string();
    let victim = dir.path().join(&victim_key);
    let original = std::fs::read(&victim).unwrap();

    let child = spawn_unhealed(suite, lake, None);
    wait_until("the injection", || std::fs::read(&victim).unwrap_or_default() != original);
    // The other writer: rewrites the damaged file with its own (valid) bytes, and adds a file.
    let partition = victim.parent().unwrap();
    let theirs = std::fs::read(partition.join(if victim_key.ends_with("part-0.parquet") {
        "part-1.parquet"
    } else {
        "part-0.parquet"
    }))
    .unwrap();
    std::fs::write(&victim, &theirs).unwrap();
    let appended = partition.join("part-99.parquet");
    std::fs::write(&appended, &theirs).unwrap();

    let o = child.wait_with_output().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("does not equal its snapshot after the revert") && out.contains("unexpected rows"), "{out}");
    assert_eq!(std::fs::read(&victim).unwrap(), original, "the journal restored the original bytes");
    assert_eq!(std::fs::read(&appended).unwrap(), theirs, "the other writer's new file is untouched");
    let kept = dir.path().join("_lakechaos/kept/truncate").join(&victim_key);
    assert_eq!(std::fs::read(&kept).unwrap_or_default(), theirs, "the other writer's bytes were kept: {out}");
}

/// `lakechaos run` killed (SIGKILL) while every scenario's damage is in a user's table: the
/// journals in its work directory put the table back (`lakechaos revert --all`), as pyarrow
/// reads it.
#[test]
fn a_killed_run_is_put_back_from_its_journals() {
    let dir = registered_lake();
    let lake = dir.path().to_str().unwrap();
    let before = pyarrow_digest(&format!("{lake}/{TABLE}"), None);
    let scenarios = one_scenario(
        "flood",
        "name: flood\nfault: { kind: null_flood, column: \"*\", fraction: 1.0 }\nslo: { detect_within: 20s, repair_within: 30s }\nexpect: { outcome: repaired }\n",
    );
    let suite = scenarios.path().to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut child = spawn_unhealed(suite, lake, Some(work.path()));
    // Killed once the damage is in: the table no longer reads as it was.
    wait_until("the injection", || pyarrow_digest(&format!("{lake}/{TABLE}"), None) != before);
    child.kill().unwrap();
    child.wait().unwrap();
    let o = lakechaos(&["revert", "--all", work.path().to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("reverted"), "{}", text(&o));
    assert_eq!(pyarrow_digest(&format!("{lake}/{TABLE}"), None), before);
}

/// Two runs on one table at once: the second is refused (exit 2, nothing written) while the
/// first holds its claim; the claim is gone when the first ends; a claim left by a killed run
/// on this host does not block the next one.
#[test]
fn a_second_run_on_the_same_table_waits_its_turn() {
    let dir = registered_lake();
    let lake = dir.path().to_str().unwrap();
    let before = pyarrow_digest(&format!("{lake}/{TABLE}"), None);
    let scenarios = one_scenario(
        "flood",
        "name: flood\nfault: { kind: null_flood, column: \"*\", fraction: 1.0 }\nslo: { detect_within: 2s, repair_within: 3s }\nexpect: { outcome: detected }\n",
    );
    let suite = scenarios.path().to_str().unwrap();
    let claim = dir.path().join("_lakechaos/claims/sales.json");
    // Nobody heals: the first run holds the table for its SLO.
    let first = spawn_unhealed(suite, lake, None);
    wait_until("the first run's claim", || claim.exists());
    let o = lakechaos(&["run", suite, "--lake", lake, "--table", TABLE], None);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("table sales is being broken by another lakechaos run"), "{out}");
    // Nobody healed it (so the scenario fails), and it was put back all the same.
    let o = first.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("0 passed, 1 failed, 0 skipped, 0 errors"), "{}", text(&o));
    assert!(!claim.exists(), "the claim is released");
    assert_eq!(pyarrow_digest(&format!("{lake}/{TABLE}"), None), before);

    // A claim left by a process of this host that is gone: taken over.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    std::fs::create_dir_all(claim.parent().unwrap()).unwrap();
    std::fs::write(
        &claim,
        serde_json::json!({"run": "killed", "host": host.trim(), "pid": pid, "nonce": "x", "started_at": "then"})
            .to_string(),
    )
    .unwrap();
    let o = lakechaos(&["run", suite, "--lake", lake, "--table", TABLE], None);
    assert_eq!(o.status.code(), Some(0), "the bundled healer detects it: {}", text(&o));
    assert!(!claim.exists());
    assert_eq!(pyarrow_digest(&format!("{lake}/{TABLE}"), None), before);
}
