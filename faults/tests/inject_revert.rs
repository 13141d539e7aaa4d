//! Every fault mode: injecting changes the lake, reverting from the journal restores every file
//! byte for byte, and the same seed plans the same damage.

use lakechaos_faults::corrupt_parquet::{CorruptMode, CorruptParquet};
use lakechaos_faults::null_flood::NullFlood;
use lakechaos_faults::select::Selection;
use lakechaos_faults::{apply, FaultClass, FaultContext, FaultSpec, Journal};
use lakechaos_fixtures::{seed_lake, OrdersSpec};
use lakechaos_lake::Lake;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::Path;

/// Every mode that acts on a directory lake (faults on Lake Formation grants are tested on moto).
fn all_modes() -> Vec<FaultSpec> {
    FaultSpec::examples(&Selection { partitions: 2, files: 1 })
        .into_iter()
        .filter(|s| !s.fault().needs_lake_formation() && !s.fault().needs_iceberg())
        .collect()
}

#[tokio::test]
async fn a_fault_on_grants_is_refused_where_the_lake_has_no_lake_formation() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, table) = seeded(dir.path()).await;
    let spec = FaultSpec::examples(&Selection::default())
        .into_iter()
        .find(|s| s.fault().needs_lake_formation())
        .expect("permission_drift is registered");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let err =
        spec.plan(&mut FaultContext { lake: &lake, table: &table, rng: &mut rng, grants: &[] }).await.unwrap_err();
    assert!(err.to_string().contains("no Lake Formation"), "{err}");
}

fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

async fn seeded(dir: &Path) -> (Lake, lakechaos_lake::TableDef) {
    let lake = Lake::open_local(dir).unwrap();
    let spec =
        OrdersSpec { days: 4, rows_per_day: 600, files_per_day: 2, rows_per_row_group: 150, ..OrdersSpec::default() };
    let seeded = seed_lake(&lake, "orders", &spec, 11).await.unwrap();
    (lake, seeded.table)
}

async fn plan(
    lake: &Lake,
    table: &lakechaos_lake::TableDef,
    spec: &FaultSpec,
    seed: u64,
) -> lakechaos_faults::FaultPlan {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ctx = FaultContext { lake, table, rng: &mut rng, grants: &[] };
    spec.plan(&mut ctx).await.unwrap_or_else(|e| panic!("{spec:?}: {e}"))
}

#[tokio::test]
async fn every_fault_reverts_byte_for_byte() {
    for spec in all_modes() {
        let dir = tempfile::tempdir().unwrap();
        let (lake, table) = seeded(dir.path()).await;
        let before = snapshot(dir.path());
        let plan = plan(&lake, &table, &spec, 3).await;
        assert!(!plan.changes.is_empty(), "{spec:?} planned nothing");
        assert_eq!(plan.ground_truth.kind, spec.class());
        if plan.ground_truth.catalog.is_empty() {
            assert_eq!(plan.ground_truth.locations().len(), 2, "{spec:?}: two partitions/files chosen");
            assert!(plan.ground_truth.rows_affected > 0, "{spec:?}");
        } else {
            // A fault in the catalog entry itself: one entry, no data rows.
            assert_eq!(plan.ground_truth.locations(), ["catalog:orders".to_string()], "{spec:?}");
        }
        let journal = Journal::from_plan("t", 3, &dir.path().display().to_string(), &plan);
        let jpath = tempfile::tempdir().unwrap();
        let jfile = jpath.path().join("journal.json");
        journal.write(&jfile).unwrap();
        assert_eq!(snapshot(dir.path()), before, "{spec:?}: planning and journaling change nothing");

        apply(&lake, &plan).await.unwrap();
        assert_ne!(snapshot(dir.path()), before, "{spec:?}: injection changed nothing");

        Journal::read(&jfile).unwrap().revert(&lake).await.unwrap();
        assert_eq!(snapshot(dir.path()), before, "{spec:?}: revert is not byte-exact");
    }
}

#[tokio::test]
async fn same_seed_same_damage_other_seed_differs() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let (lake_a, table_a) = seeded(dir_a.path()).await;
    let (lake_b, table_b) = seeded(dir_b.path()).await;
    for spec in all_modes() {
        let a = Journal::from_plan("t", 1, "x", &plan(&lake_a, &table_a, &spec, 1).await);
        let b = Journal::from_plan("t", 1, "x", &plan(&lake_b, &table_b, &spec, 1).await);
        assert_eq!(a, b, "{spec:?}: same seed, different journal");
    }
    // A different seed draws other partitions, files or bytes for every mode that draws at all.
    let mut differing = 0;
    for spec in all_modes() {
        let a = Journal::from_plan("t", 1, "x", &plan(&lake_a, &table_a, &spec, 1).await);
        let c = Journal::from_plan("t", 1, "x", &plan(&lake_a, &table_a, &spec, 99).await);
        if a != c {
            differing += 1;
        }
    }
    assert_eq!(differing, all_modes().len());
}

#[tokio::test]
async fn null_flood_counts_nulled_values_and_bit_flip_keeps_footer() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, table) = seeded(dir.path()).await;
    let spec = FaultSpec::NullFlood(NullFlood {
        column: Some(lakechaos_faults::ColumnChoice::Named("order_id".into())),
        fraction: 1.0,
        select: Selection::default(),
    });
    let p = plan(&lake, &table, &spec, 5).await;
    assert_eq!(p.ground_truth.rows_affected, 300, "every value of a non-null column in a 300-row file");
    assert_eq!(p.ground_truth.kind, FaultClass::NullFlood);

    let spec = FaultSpec::CorruptParquet(CorruptParquet {
        mode: CorruptMode::BitFlipPage,
        bytes: None,
        bits: Some(4),
        at: None,
        select: Selection::default(),
    });
    let p = plan(&lake, &table, &spec, 5).await;
    let lakechaos_faults::Change::Object { after: Some(after), .. } = &p.changes[0] else { panic!() };
    assert!(lakechaos_lake::parquet_io::footer_of(after).is_ok(), "footer intact");
    assert!(lakechaos_lake::parquet_io::read_parquet(after.clone()).is_err(), "pages do not decode");
}

#[test]
fn validation_rejects_misplaced_parameters() {
    let bad = FaultSpec::CorruptParquet(CorruptParquet {
        mode: CorruptMode::ZeroByte,
        bytes: Some(3),
        bits: None,
        at: None,
        select: Selection::default(),
    });
    assert!(bad.validate().unwrap_err().to_string().contains("truncate_tail"));
    let bad = FaultSpec::NullFlood(NullFlood { column: None, fraction: 1.5, select: Selection::default() });
    assert!(bad.validate().is_err());
}
