//! The whole `scenarios/` folder on the `localstack` target: LocalStack community started as a
//! local process (host mode) on a free loopback port. It has S3, SQS and SNS but no Glue, so the
//! scenarios that damage the catalog must be reported skipped with the reason, never passed.

mod common;

use lakechaos::report::junit;
use lakechaos::scenario::Capability;
use lakechaos::targets::provision::ProviderKind;
use lakechaos::{run_paths, RunOptions, Status, Target, TargetOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pure_s3_scenarios_pass_and_catalog_scenarios_are_skipped_on_localstack() {
    let opts = RunOptions {
        target: Target::Localstack,
        target_options: TargetOptions { provider: ProviderKind::LocalProcess, ..TargetOptions::default() },
        ..RunOptions::default()
    };
    let suite = run_paths(&[common::scenarios_dir()], &opts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(suite.target, "localstack");
    let scenarios = lakechaos::load_paths(&[common::scenarios_dir()]).unwrap();
    let mut skipped = 0;
    for (scenario, result) in scenarios.iter().zip(&suite.scenarios) {
        assert_eq!(scenario.name, result.name);
        if scenario.needs.contains(&Capability::Iceberg) {
            // Iceberg tables need a catalog that holds them: Glue, which LocalStack community lacks.
            skipped += 1;
            assert_eq!(result.status, Status::Skipped, "{}: {:?}", result.name, result.reason);
            assert!(result.reason.as_deref().unwrap_or_default().contains("needs iceberg"), "{:?}", result.reason);
            continue;
        }
        if scenario.needs.contains(&Capability::Catalog) {
            skipped += 1;
            assert_eq!(result.status, Status::Skipped, "{}: {:?}", result.name, result.reason);
            let reason = result.reason.as_deref().unwrap_or_default();
            assert!(reason.contains("needs catalog") && reason.contains("Glue"), "{reason}");
        } else {
            assert_eq!(result.status, Status::Passed, "{}: {:?} {:?}", result.name, result.reason, result.failures);
            assert_eq!(result.damaged_objects_kept, result.damaged_objects);
        }
    }
    assert!(skipped >= 2, "the catalog scenarios exist and were skipped");
    // Object damage is noticed mostly from S3 events delivered through SQS. The 100 ms reconcile
    // pass can get there first when an event is slow, so not all of them.
    let by_event = suite.scenarios.iter().filter(|r| r.detected_via.as_deref() == Some("s3_event")).count();
    assert!(by_event >= 8, "only {by_event} of 15 scenarios were detected from S3 events");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    junit::write(std::slice::from_ref(&suite), &path).unwrap();
    let xml = std::fs::read_to_string(&path).unwrap();
    assert_eq!(xml.matches("<skipped message=").count(), skipped, "{xml}");
    assert!(xml.contains("not included in your current license plan") || xml.contains("Glue"), "{xml}");
}
