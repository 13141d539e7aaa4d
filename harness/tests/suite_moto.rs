//! The whole `scenarios/` folder on the `moto` target: S3 data and a Glue catalog on a real moto
//! server over HTTP, which the run starts on a free loopback port and stops afterwards.

mod common;

use lakechaos::{run_paths, RunOptions, Status, Target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_on_moto() {
    let opts = RunOptions { target: Target::Moto, ..RunOptions::default() };
    let suite = run_paths(&[common::scenarios_dir()], &opts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(suite.target, "moto");
    suite.assert_all_passed();
    assert!(suite.scenarios.iter().all(|r| r.status == Status::Passed));
    assert!(suite.scenarios.iter().all(|r| r.damaged_objects_kept == r.damaged_objects));
    // A revoked Lake Formation grant: found as the healer's `missing_grant` at the grant, granted
    // back, and timed like any other fault (the harness checks the grants itself).
    let drift =
        suite.scenarios.iter().find(|r| r.fault_class == "permission_drift").expect("a permission drift scenario");
    assert!(drift.time_to_detect_ms.is_some() && drift.time_to_repair_ms.is_some(), "{drift:?}");
    assert_eq!(drift.locations_detected, 1);
    assert!(drift.verification.as_ref().is_some_and(|v| v.healed && v.missing_grants.is_empty()));
}
