//! Property: for random seeds, fault families, modes and parameters, the whole loop (the watching
//! healer, as in `lakechaos run`) brings the lake back to golden with 0 rows lost, no incident
//! outside the ground truth, and every damaged object kept in quarantine. Cases:
//! PROPTEST_CASES (default 256).

mod common;

use lakechaos::run::HealerChoice;
use lakechaos::scenario::{Expectations, ExpectedOutcome, Scenario, Slo};
use lakechaos::{run_scenario, RunOptions, Status};
use lakechaos_faults::corrupt_parquet::{CorruptMode, CorruptParquet, MagicEnd};
use lakechaos_faults::missing_partition::{MissingMode, MissingPartition};
use lakechaos_faults::null_flood::NullFlood;
use lakechaos_faults::schema_drift::{DriftMode, SchemaDrift};
use lakechaos_faults::select::Selection;
use lakechaos_faults::{ColumnChoice, ColumnSelector, FaultSpec, TypeFamily};
use proptest::prelude::*;
use std::time::Duration;

const COLUMNS: [&str; 11] = [
    "order_id",
    "customer_id",
    "order_ts",
    "status",
    "country",
    "sku",
    "quantity",
    "unit_price",
    "amount",
    "discount",
    "coupon_code",
];

fn selection() -> impl Strategy<Value = Selection> {
    (1u32..=3, 1u32..=2).prop_map(|(partitions, files)| Selection { partitions, files })
}

fn fault() -> impl Strategy<Value = FaultSpec> {
    // A column by name, `"*"`, or a selector the orders contract has columns for.
    let named = proptest::sample::select(COLUMNS.to_vec()).prop_map(ColumnChoice::from);
    let selector = (
        proptest::sample::select(vec![
            None,
            Some(TypeFamily::String),
            Some(TypeFamily::Integer),
            Some(TypeFamily::Float),
        ]),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(family, nullable)| ColumnChoice::Matching(ColumnSelector { family, nullable }))
        .prop_filter("a selector the orders contract matches", |c| {
            !c.candidates(&lakechaos_fixtures::orders::contract(), |_| true).is_empty()
        });
    let column = proptest::option::of(prop_oneof![3 => named, 1 => Just(ColumnChoice::Any), 1 => selector]);
    prop_oneof![
        (
            prop_oneof![
                Just(DriftMode::AddColumn),
                Just(DriftMode::DropColumn),
                Just(DriftMode::RenameColumn),
                Just(DriftMode::ChangeType)
            ],
            column.clone(),
            selection()
        )
            .prop_map(|(mode, column, select)| {
                let column = if mode == DriftMode::AddColumn { None } else { column };
                FaultSpec::SchemaDrift(SchemaDrift {
                    mode,
                    column,
                    new_name: None,
                    new_type: None,
                    select,
                    scope: Default::default(),
                })
            }),
        (0usize..6, 1u64..2000, 1u32..=64, selection()).prop_map(|(m, bytes, bits, select)| {
            let (mode, bytes, bits, at) = match m {
                0 => (CorruptMode::TruncateTail, Some(bytes), None, None),
                1 => (CorruptMode::BadMagic, None, None, Some(MagicEnd::Tail)),
                2 => (CorruptMode::BadMagic, None, None, Some(MagicEnd::Head)),
                3 => (CorruptMode::CorruptFooterLength, None, None, None),
                4 => (CorruptMode::BitFlipPage, None, Some(bits), None),
                _ => (CorruptMode::ZeroByte, None, None, None),
            };
            FaultSpec::CorruptParquet(CorruptParquet { mode, bytes, bits, at, select })
        }),
        // Floods large enough to be told from normal nulls at 200 rows a file: the healer flags a
        // share 4 σ above the allowance (coupon_code: 20 % null, 35 % allowed).
        (column, 0.6f64..=1.0, selection()).prop_map(|(column, fraction, select)| FaultSpec::NullFlood(NullFlood {
            column,
            fraction,
            select
        })),
        (prop_oneof![Just(MissingMode::Files), Just(MissingMode::Catalog), Just(MissingMode::Both)], 1u32..=3)
            .prop_map(|(mode, partitions)| FaultSpec::MissingPartition(MissingPartition { mode, partitions })),
    ]
}

/// The scenario built from the drawn parameters, with deadlines of `repair_within`.
fn case(spec: FaultSpec, repair_within: Duration) -> Scenario {
    Scenario {
        name: "proptest-case".into(),
        description: "A case drawn by the loop property test.".into(),
        tags: vec![],
        needs: vec![],
        dataset: "orders".into(),
        fixture: common::small_spec(),
        like: None,
        versioning: true,
        fault: spec,
        slo: Slo { detect_within: repair_within / 2, repair_within },
        expect: Expectations { outcome: ExpectedOutcome::Repaired, rows_lost: Some(0), false_incidents: 0 },
        source: "proptest".into(),
        fault_at: (1, 1),
        fixture_at: Some((1, 1)),
    }
}

/// Where failing cases are written: `LAKECHAOS_REPLAY_DIR`, default `target/lakechaos-replay`.
fn replay_root() -> std::path::PathBuf {
    std::env::var_os("LAKECHAOS_REPLAY_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join("target/lakechaos-replay"))
}

/// Writes `scenario` as a scenario file in `dir`, plus the command that runs it again with
/// `seed`, for a failing case: the last case a property fails on is the one proptest shrank to,
/// so the file left is the minimal one. Returns the command.
fn write_replay(dir: &std::path::Path, scenario: &Scenario, seed: u64, extra: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let yaml = dir.join("case.yaml");
    std::fs::write(&yaml, lakechaos::scenario::write::to_yaml(scenario).unwrap()).unwrap();
    let command = format!("lakechaos run {} --target local --seed {seed}{extra}", yaml.display());
    std::fs::write(dir.join("command.txt"), format!("{command}\n")).unwrap();
    command
}

/// One scenario built from the drawn parameters, run through the real loop: seed, steady
/// state, journal, inject, the watching healer, verification against golden, scoring. A failure
/// names the scenario file and command that replay it.
async fn heal_case(
    replay: &std::path::Path,
    seed: u64,
    spec: FaultSpec,
    healer: HealerChoice,
    repair_within: Duration,
) -> Result<(), TestCaseError> {
    let scenario = case(spec.clone(), repair_within);
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { seed, healer, settle: Duration::from_millis(20), ..RunOptions::default() };
    let r = run_scenario(&scenario, &opts, dir.path()).await;
    if r.status == Status::Error
        && r.reason.as_deref().is_some_and(|m| m.starts_with("fault: ") && m.contains("cannot inject"))
    {
        // The drawn fault does not apply to the drawn data (e.g. a cast that cannot happen):
        // nothing was injected, which is not the healer's business.
        return Ok(());
    }
    let healthy = r.status == Status::Passed
        && r.rows_lost == Some(0)
        && r.false_incidents.is_empty()
        && r.damaged_objects_kept == r.damaged_objects;
    if !healthy {
        let extra = if healer == HealerChoice::None { " --no-heal" } else { "" };
        let replay = write_replay(replay, &scenario, seed, extra);
        return Err(TestCaseError::fail(format!(
            "{:?} {:?}: {:?} {:?}; rows lost {:?}, false incidents {:?}, damaged kept {}/{}\nreplay: {replay}",
            r.status,
            spec,
            r.failures,
            r.reason,
            r.rows_lost,
            r.false_incidents,
            r.damaged_objects_kept,
            r.damaged_objects
        )));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_loop_heals_every_fault_with_nothing_lost(seed in any::<u64>(), spec in fault()) {
        prop_assume!(spec.validate().is_ok());
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let replay = replay_root().join("the_loop_heals_every_fault_with_nothing_lost");
        rt.block_on(heal_case(&replay, seed, spec, HealerChoice::Bundled, Duration::from_secs(10)))?;
    }
}

/// The property against a healer that only watches (`--no-heal`): it must fail, and the case it
/// shrinks to must be left as a scenario file whose command fails the same way with
/// `lakechaos run`.
#[test]
fn a_broken_healer_fails_the_property_and_leaves_a_case_lakechaos_run_replays() {
    use proptest::test_runner::{Config, TestError, TestRunner};
    let replay_dir = tempfile::tempdir().unwrap();
    let config = Config { cases: 3, max_shrink_iters: 6, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let outcome = runner.run(&(any::<u64>(), fault()), |(seed, spec)| {
        prop_assume!(spec.validate().is_ok());
        rt.block_on(heal_case(replay_dir.path(), seed, spec, HealerChoice::None, Duration::from_millis(800)))
    });
    let message = match outcome {
        Err(TestError::Fail(why, _)) => why.to_string(),
        other => panic!("a detect-only healer passed the property: {other:?}"),
    };
    let command = std::fs::read_to_string(replay_dir.path().join("command.txt")).unwrap();
    assert!(message.contains(&format!("replay: {}", command.trim())), "{message}\n{command}");
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .args(&args)
        .current_dir(replay_dir.path())
        .output()
        .unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{command}: {out}");
    assert!(out.contains("FAIL   proptest-case"), "{out}");
    // The shrunk case fails for the reason the property saw: the lake was not repaired.
    assert!(message.contains("repair:") && out.contains("repair:"), "{message}\n{out}");
}
