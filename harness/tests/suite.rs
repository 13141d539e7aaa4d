//! The whole `scenarios/` folder through the library API, as a user's own `cargo test` would
//! run it.

mod common;

use lakechaos::scenario::ExpectedOutcome;
use lakechaos::{run_paths, RunOptions, Status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_heals_on_the_local_target() {
    let suite = run_paths(&[common::scenarios_dir()], &RunOptions::default()).await.unwrap();
    let files = common::scenario_file_count();
    assert_eq!(suite.scenarios.len(), files, "one result per scenario file, subfolders included");
    assert!(files >= 30);
    suite.assert_all_passed();
    let scenarios = lakechaos::load_paths(&[common::scenarios_dir()]).unwrap();
    for (r, s) in suite.scenarios.iter().zip(&scenarios) {
        assert_eq!(r.name, s.name);
        if s.needs.contains(&lakechaos::scenario::Capability::LakeFormation) {
            // A directory lake has no Lake Formation: skipped, never passed.
            assert_eq!(r.status, Status::Skipped, "{}", r.name);
            assert!(r.reason.as_deref().is_some_and(|m| m.contains("needs lake-formation")), "{:?}", r.reason);
            continue;
        }
        if s.needs.contains(&lakechaos::scenario::Capability::ObjectVersions) {
            // A directory keeps no object versions: the restore-from-version scenarios are moto's.
            assert_eq!(r.status, Status::Skipped, "{}", r.name);
            assert!(r.reason.as_deref().is_some_and(|m| m.contains("needs object-versions")), "{:?}", r.reason);
            continue;
        }
        assert_eq!(r.status, Status::Passed);
        assert!(r.false_incidents.is_empty(), "{}: {:?}", r.name, r.false_incidents);
        assert_eq!(r.locations_detected, r.locations_total, "{}", r.name);
        assert_eq!(r.damaged_objects_kept, r.damaged_objects, "{}: damage is quarantined, never deleted", r.name);
        match s.expect.outcome {
            ExpectedOutcome::Repaired => {
                assert_eq!(r.rows_lost, Some(0), "{}", r.name);
                assert!(r.time_to_detect_ms.unwrap() <= r.time_to_repair_ms.unwrap(), "{}", r.name);
                assert!(!r.reverted, "{}: a healed lake needs no revert", r.name);
            }
            ExpectedOutcome::Unrepairable => {
                // No source: rows stay lost, the healer says so, and the harness reverts.
                assert!(r.rows_lost.unwrap() > 0, "{}", r.name);
                assert!(r.time_to_unrepairable_ms.is_some(), "{}", r.name);
                assert!(r.reverted, "{}", r.name);
            }
            ExpectedOutcome::Detected => {}
        }
    }
    // Every fault class is exercised, and a smoke subset exists.
    let classes: std::collections::BTreeSet<_> = suite.scenarios.iter().map(|r| r.fault_class.as_str()).collect();
    assert_eq!(classes.len(), 6, "{classes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_run_at_once_give_the_same_verdicts_in_the_same_order() {
    let one = run_paths(&[common::scenarios_dir()], &RunOptions::default()).await.unwrap();
    let three = run_paths(&[common::scenarios_dir()], &RunOptions { jobs: 3, ..RunOptions::default() }).await.unwrap();
    let verdicts = |s: &lakechaos::SuiteReport| -> Vec<(String, Status, Option<u64>)> {
        s.scenarios.iter().map(|r| (r.name.clone(), r.status, r.rows_lost)).collect()
    };
    assert_eq!(verdicts(&three), verdicts(&one));
    three.assert_all_passed();
    // Each result says how many scenarios ran alongside it: none one at a time.
    assert!(one.scenarios.iter().all(|r| r.ran_alongside == 0));
    assert!(three.scenarios.iter().any(|r| r.ran_alongside > 0));
    assert!(three.scenarios.iter().all(|r| r.ran_alongside < three.scenarios.len()));
    // Three at once on two cores still beats one after another.
    eprintln!("local suite: {:.0} ms one at a time, {:.0} ms three at once", one.duration_ms, three.duration_ms);
}
