//! Helpers shared by the harness's integration tests.
#![allow(dead_code)]

use lakechaos_faults::corrupt_parquet::{CorruptMode, CorruptParquet, MagicEnd};
use lakechaos_faults::missing_partition::{MissingMode, MissingPartition};
use lakechaos_faults::null_flood::NullFlood;
use lakechaos_faults::schema_drift::{DriftMode, SchemaDrift};
use lakechaos_faults::select::Selection;
use lakechaos_faults::FaultSpec;
use lakechaos_fixtures::OrdersSpec;
use std::path::PathBuf;

/// The repository's `scenarios/` folder.
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// A fixture small enough for many cases, with several row groups per file.
pub fn small_spec() -> OrdersSpec {
    OrdersSpec { days: 3, rows_per_day: 400, files_per_day: 2, rows_per_row_group: 100, ..OrdersSpec::default() }
}

/// One fault per mode.
pub fn every_mode() -> Vec<FaultSpec> {
    let sel = Selection::default();
    let mut specs = Vec::new();
    for mode in [DriftMode::AddColumn, DriftMode::DropColumn, DriftMode::RenameColumn, DriftMode::ChangeType] {
        specs.push(FaultSpec::SchemaDrift(SchemaDrift {
            mode,
            column: None,
            new_name: None,
            new_type: None,
            select: sel.clone(),
        }));
    }
    for mode in [
        CorruptMode::TruncateTail,
        CorruptMode::BadMagic,
        CorruptMode::CorruptFooterLength,
        CorruptMode::BitFlipPage,
        CorruptMode::ZeroByte,
    ] {
        specs.push(FaultSpec::CorruptParquet(CorruptParquet {
            mode,
            bytes: None,
            bits: None,
            at: None,
            select: sel.clone(),
        }));
    }
    specs.push(FaultSpec::CorruptParquet(CorruptParquet {
        mode: CorruptMode::BadMagic,
        bytes: None,
        bits: None,
        at: Some(MagicEnd::Head),
        select: sel.clone(),
    }));
    specs.push(FaultSpec::NullFlood(NullFlood {
        column: Some("customer_id".into()),
        fraction: 0.5,
        select: sel.clone(),
    }));
    specs.push(FaultSpec::NullFlood(NullFlood { column: Some("coupon_code".into()), fraction: 0.6, select: sel }));
    for mode in [MissingMode::Files, MissingMode::Catalog, MissingMode::Both] {
        specs.push(FaultSpec::MissingPartition(MissingPartition { mode, partitions: 1 }));
    }
    specs
}
