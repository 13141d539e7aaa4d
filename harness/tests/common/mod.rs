//! Helpers shared by the harness's integration tests.
#![allow(dead_code)]

use lakechaos_faults::null_flood::NullFlood;
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

/// One fault per mode, plus a flood of a nullable column (told from its normal nulls).
pub fn every_mode() -> Vec<FaultSpec> {
    let mut specs = FaultSpec::examples(&Selection::default());
    specs.push(FaultSpec::NullFlood(NullFlood {
        column: Some("coupon_code".into()),
        fraction: 0.6,
        select: Selection::default(),
    }));
    specs
}
