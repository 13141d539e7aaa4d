//! Property: for random seeds, fault families, modes and parameters, one healer pass (as
//! `lakehealer heal` runs it) brings the lake back to golden with 0 rows lost and no incident
//! outside the ground truth. Cases: PROPTEST_CASES (default 256).

mod common;

use lakechaos_faults::corrupt_parquet::{CorruptMode, CorruptParquet, MagicEnd};
use lakechaos_faults::missing_partition::{MissingMode, MissingPartition};
use lakechaos_faults::null_flood::NullFlood;
use lakechaos_faults::schema_drift::{DriftMode, SchemaDrift};
use lakechaos_faults::select::Selection;
use lakechaos_faults::{apply, FaultContext, FaultSpec};
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::seed_lake;
use lakechaos_lake::Lake;
use lakehealer::events::HealerEvent;
use lakehealer::{Healer, HealerConfig};
use proptest::prelude::*;
use rand::SeedableRng;
use std::sync::{Arc, Mutex};

const COLUMNS: [&str; 11] = [
    "order_id", "customer_id", "order_ts", "status", "country", "sku", "quantity", "unit_price", "amount", "discount", "coupon_code",
];

fn selection() -> impl Strategy<Value = Selection> {
    (1u32..=3, 1u32..=2).prop_map(|(partitions, files)| Selection { partitions, files })
}

fn fault() -> impl Strategy<Value = FaultSpec> {
    let column = proptest::option::of(proptest::sample::select(COLUMNS.to_vec()).prop_map(String::from));
    prop_oneof![
        (prop_oneof![Just(DriftMode::AddColumn), Just(DriftMode::DropColumn), Just(DriftMode::RenameColumn), Just(DriftMode::ChangeType)], column.clone(), selection())
            .prop_map(|(mode, column, select)| {
                let column = if mode == DriftMode::AddColumn { None } else { column };
                FaultSpec::SchemaDrift(SchemaDrift { mode, column, new_name: None, new_type: None, select })
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
        // Floods large enough to be told from normal nulls: above 35% on every column.
        (column, 0.45f64..=1.0, selection()).prop_map(|(column, fraction, select)| FaultSpec::NullFlood(NullFlood { column, fraction, select })),
        (prop_oneof![Just(MissingMode::Files), Just(MissingMode::Catalog), Just(MissingMode::Both)], 1u32..=3)
            .prop_map(|(mode, partitions)| FaultSpec::MissingPartition(MissingPartition { mode, partitions })),
    ]
}

async fn heal_case(seed: u64, fault_seed: u64, spec: FaultSpec) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_local(dir.path()).unwrap();
    let seeded = seed_lake(&lake, "orders", &common::small_spec(), seed).await.unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(fault_seed);
    let plan = match spec.plan(&mut FaultContext { lake: &lake, table: &seeded.table, rng: &mut rng }).await {
        Ok(p) => p,
        // e.g. a null flood on a column the draw already made all-null, or a cast that cannot
        // happen: the fault does not apply, which is not the healer's business.
        Err(lakechaos_faults::FaultError::NotApplicable(_)) => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(e.to_string())),
    };
    apply(&lake, &plan).await.unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink_events = events.clone();
    let healer = Healer::new(lake.clone(), HealerConfig::default(), Arc::new(move |e| sink_events.lock().unwrap().push(e)));
    healer.heal_until_settled(5).await.unwrap();

    let v = Verifier::new(seeded.golden.clone()).verify(&lake).await.unwrap();
    prop_assert!(v.healed, "not healed after {spec:?}: {v:?}\nevents: {:?}", events.lock().unwrap());
    prop_assert_eq!(v.rows_lost, 0);
    let truth = &plan.ground_truth;
    for e in events.lock().unwrap().iter() {
        if let HealerEvent::Incident { kind, location, .. } = e {
            prop_assert!(lakechaos::scoring::matches(truth, kind.as_str(), location), "false incident {kind} at {location} for {spec:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_loop_heals_every_fault_with_nothing_lost(seed in any::<u64>(), fault_seed in any::<u64>(), spec in fault()) {
        prop_assume!(spec.validate().is_ok());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(heal_case(seed, fault_seed, spec))?;
    }
}
