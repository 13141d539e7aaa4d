//! Maps a scenario's `fault.kind` to the fault that implements it. Adding a fault family is one
//! file plus one variant here and one arm in [`FaultSpec::plan`].

use crate::{FaultClass, FaultContext, FaultError, FaultPlan};
use serde::{Deserialize, Serialize};

/// A fault as a scenario declares it (`fault:` in YAML), selected by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultSpec {
    /// Columns added, dropped, renamed or retyped in some data files.
    SchemaDrift(crate::schema_drift::SchemaDrift),
    /// Data files damaged at the byte level.
    CorruptParquet(crate::corrupt_parquet::CorruptParquet),
    /// A share of one column's values replaced by nulls (still valid Parquet).
    NullFlood(crate::null_flood::NullFlood),
    /// A partition's data files, its catalog entry, or both, gone.
    MissingPartition(crate::missing_partition::MissingPartition),
}

impl FaultSpec {
    /// The class the healer is scored on.
    pub fn class(&self) -> FaultClass {
        match self {
            FaultSpec::SchemaDrift(_) => FaultClass::SchemaDrift,
            FaultSpec::CorruptParquet(_) => FaultClass::CorruptParquet,
            FaultSpec::NullFlood(_) => FaultClass::NullFlood,
            FaultSpec::MissingPartition(_) => FaultClass::MissingPartition,
        }
    }

    /// The mode within the class, as written in the scenario.
    pub fn mode(&self) -> String {
        match self {
            FaultSpec::SchemaDrift(f) => crate::snake_name(&f.mode),
            FaultSpec::CorruptParquet(f) => crate::snake_name(&f.mode),
            FaultSpec::NullFlood(_) => "fraction".into(),
            FaultSpec::MissingPartition(f) => crate::snake_name(&f.mode),
        }
    }

    /// Checks parameters that serde cannot (ranges, combinations). `Err` names the field.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            FaultSpec::SchemaDrift(f) => f.validate(),
            FaultSpec::CorruptParquet(f) => f.validate(),
            FaultSpec::NullFlood(f) => f.validate(),
            FaultSpec::MissingPartition(f) => f.validate(),
        }
    }

    /// Plans the fault against the lake; nothing is changed.
    pub async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        match self {
            FaultSpec::SchemaDrift(f) => f.plan(ctx).await,
            FaultSpec::CorruptParquet(f) => f.plan(ctx).await,
            FaultSpec::NullFlood(f) => f.plan(ctx).await,
            FaultSpec::MissingPartition(f) => f.plan(ctx).await,
        }
    }
}
