//! The whole `scenarios/` folder through the library API, as a user's own `cargo test` would
//! run it.

mod common;

use lakechaos::{run_paths, RunOptions, Status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_heals_on_the_local_target() {
    let suite = run_paths(&[common::scenarios_dir()], &RunOptions::default()).await.unwrap();
    let files = std::fs::read_dir(common::scenarios_dir()).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yaml")).count();
    assert_eq!(suite.scenarios.len(), files, "one result per scenario file");
    assert!(files >= 12);
    suite.assert_all_passed();
    for r in &suite.scenarios {
        assert_eq!(r.status, Status::Passed);
        assert_eq!(r.rows_lost, Some(0), "{}", r.name);
        assert!(r.false_incidents.is_empty(), "{}: {:?}", r.name, r.false_incidents);
        assert!(r.time_to_detect_ms.unwrap() <= r.time_to_repair_ms.unwrap(), "{}", r.name);
        assert_eq!(r.locations_detected, r.locations_total, "{}", r.name);
        assert!(!r.reverted, "{}: a healed lake needs no revert", r.name);
    }
    // Every fault class is exercised, and a smoke subset exists.
    let classes: std::collections::BTreeSet<_> = suite.scenarios.iter().map(|r| r.fault_class.as_str()).collect();
    assert_eq!(classes.len(), 4, "{classes:?}");
}
