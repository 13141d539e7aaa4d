//! Property: for random seeds, fault families, modes and parameters, the whole loop (the watching
//! healer, as in `lakechaos run`) brings the lake back to golden with 0 rows lost, no incident
//! outside the ground truth, and every damaged object kept in quarantine. Cases:
//! PROPTEST_CASES (default 256).

mod common;

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

/// One scenario built from the drawn parameters, run through the real loop: seed, steady
/// state, journal, inject, the watching healer, verification against golden, scoring.
async fn heal_case(seed: u64, spec: FaultSpec) -> Result<(), TestCaseError> {
    let scenario = Scenario {
        name: "prop".into(),
        description: String::new(),
        tags: vec![],
        needs: vec![],
        dataset: "orders".into(),
        fixture: common::small_spec(),
        like: None,
        versioning: true,
        fault: spec.clone(),
        slo: Slo { detect_within: Duration::from_secs(5), repair_within: Duration::from_secs(10) },
        expect: Expectations { outcome: ExpectedOutcome::Repaired, rows_lost: Some(0), false_incidents: 0 },
        source: "proptest".into(),
        fault_at: (1, 1),
        fixture_at: Some((1, 1)),
    };
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { seed, settle: Duration::from_millis(20), ..RunOptions::default() };
    let r = run_scenario(&scenario, &opts, dir.path()).await;
    if r.status == Status::Error
        && r.reason.as_deref().is_some_and(|m| m.starts_with("fault: ") && m.contains("cannot inject"))
    {
        // The drawn fault does not apply to the drawn data (e.g. a cast that cannot happen):
        // nothing was injected, which is not the healer's business.
        return Ok(());
    }
    prop_assert_eq!(r.status, Status::Passed, "{:?}: {:?} {:?}", spec, r.failures, r.reason);
    prop_assert_eq!(r.rows_lost, Some(0));
    prop_assert!(r.false_incidents.is_empty(), "{:?}", r.false_incidents);
    prop_assert_eq!(r.damaged_objects_kept, r.damaged_objects);
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
        rt.block_on(heal_case(seed, spec))?;
    }
}
