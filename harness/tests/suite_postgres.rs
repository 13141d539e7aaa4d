//! The whole `scenarios/` folder on the `postgres` target: a throwaway PostgreSQL cluster
//! started by the local-process provider, a database per scenario, and a real `dbt build` of
//! `fixtures/dbt/` as the steady-state probe. Schema drift (all four kinds and the catalog
//! variant), null floods and missing partitions (rows deleted, partition detached, partition
//! dropped) must pass with no rows lost; corrupt-Parquet and no-landing scenarios are skipped
//! with their reason.

mod common;

use lakechaos::{run_paths, RunOptions, Status, Target};
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_scenarios_pass_and_the_dbt_probe_sees_each_fault() {
    let opts = RunOptions { target: Target::Postgres, ..RunOptions::default() };
    let suite = run_paths(&[common::scenarios_dir()], &opts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(suite.target, "postgres");
    suite.assert_all_passed();

    let mut modes = BTreeSet::new();
    let mut marts_mended = BTreeSet::new();
    for r in &suite.scenarios {
        if r.name.starts_with("iceberg-") {
            assert_eq!(r.status, Status::Skipped, "{}", r.name);
            assert!(r.reason.as_deref().unwrap_or("").contains("needs iceberg"), "{:?}", r.reason);
            continue;
        }
        match r.fault_class.as_str() {
            "corrupt_parquet" | "permission_drift" => {
                assert_eq!(r.status, Status::Skipped, "{}", r.name);
                assert!(r.reason.as_deref().unwrap_or("").contains("no meaning on PostgreSQL"), "{:?}", r.reason);
                continue;
            }
            _ if r.name.contains("no-landing") => {
                assert_eq!(r.status, Status::Skipped, "{}", r.name);
                continue;
            }
            _ => {}
        }
        assert_eq!(r.status, Status::Passed, "{}: {:?} {:?}", r.name, r.failures, r.reason);
        modes.insert(format!("{}/{}", r.fault_class, r.fault_mode));
        // Checked by the harness against golden, reading PostgreSQL itself.
        assert_eq!(r.rows_lost, Some(0), "{}", r.name);
        assert!(r.verification.as_ref().is_some_and(|v| v.healed), "{}", r.name);
        let truth = r.ground_truth.as_ref().expect("ground truth");
        assert!(truth.rows_affected > 0, "{}: the fault touched no rows", r.name);
        assert_eq!(r.locations_detected, r.locations_total, "{}", r.name);
        let probe = r.dbt_probe.as_ref().unwrap_or_else(|| panic!("{} has no dbt probe", r.name));
        let (before, after, repaired) = (
            probe.before.as_ref().expect("before"),
            probe.after_injection.as_ref().expect("after injection"),
            probe.after_repair.as_ref().expect("after repair"),
        );
        assert!(before.passed && repaired.passed, "{}: {}", r.name, probe.describe());
        assert!(!after.passed && !after.failing.is_empty(), "{}: {}", r.name, probe.describe());
        assert!(before.nodes >= 10, "{}: dbt ran only {} nodes", r.name, before.nodes);
        // Where the damage reached the marts, only the healer's re-materialization of the
        // repaired days can have mended them before the final build.
        let marts = |p: &Option<lakechaos::backend::ProbeResult>| p.as_ref().map(|p| p.passed);
        assert_eq!(marts(&probe.marts_after_healing), Some(true), "{}: {}", r.name, probe.describe());
        if marts(&probe.marts_after_injection) == Some(false) {
            marts_mended.insert(r.name.clone());
        }
    }
    // Null floods reach the marts; a day gone entirely does not (an incremental delete+insert
    // by day keeps the old row of a day that has no rows now).
    for polluting in ["null-flood-customer-id", "null-flood-nullable-discount"] {
        assert!(
            marts_mended.contains(polluting),
            "{polluting}: the marts were not damaged, or not mended: {marts_mended:?}"
        );
    }
    for expected in [
        "schema_drift/add_column",
        "schema_drift/drop_column",
        "schema_drift/rename_column",
        "schema_drift/change_type",
        "null_flood/fraction",
        "missing_partition/files",
        "missing_partition/catalog",
        "missing_partition/both",
    ] {
        assert!(modes.contains(expected), "no passing {expected} scenario: {modes:?}");
    }

    // The probe's story is in the JUnit report CI dashboards read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    lakechaos::report::junit::write(std::slice::from_ref(&suite), &path).unwrap();
    let xml = std::fs::read_to_string(&path).unwrap();
    let passed = suite.count(Status::Passed);
    assert_eq!(xml.matches(r#"name="dbt_probe_after_injection" value="failed""#).count(), passed, "{xml}");
    assert_eq!(xml.matches(r#"name="dbt_probe_after_repair" value="passed""#).count(), passed);
    assert!(xml.contains("dbt probe: before passed"), "{xml}");
}
