//! What every fault family implements. A family is one file: its scenario parameters (a serde
//! struct whose field docs are the scenario reference), their checks, its plan on an object lake
//! and, where it has a meaning there, its plan as SQL on PostgreSQL.

use crate::pg::{PgFaultPlan, PgTable};
use crate::select::Selection;
use crate::{FaultClass, FaultContext, FaultError, FaultPlan};
use rand_chacha::ChaCha8Rng;

/// A fault parameter serde accepted but the fault refuses (a range, a combination); the message
/// names the field and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidParameter(pub String);

impl InvalidParameter {
    pub fn new(message: impl Into<String>) -> InvalidParameter {
        InvalidParameter(message.into())
    }
}

/// Checks that `value` (of `field`) can be a column name: a letter or `_`, then letters, digits
/// or `_`, at most 128 characters. Anything else (`../x`, `<script>`, a newline) could not be a
/// safe name in a file, a catalog or SQL.
pub fn column_name(field: &str, value: &str) -> Result<(), InvalidParameter> {
    let mut chars = value.chars();
    let ok = value.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(InvalidParameter(format!(
            "{field}: expected a column name (a letter or _, then letters, digits or _, at most 128), got {value:?}"
        )))
    }
}

/// How much of a table a fault touches: partitions, and data files in each (`None` for faults
/// that take whole partitions).
pub type Footprint = (u32, Option<u32>);

/// One fault family.
#[async_trait::async_trait]
pub trait Fault: Send + Sync {
    /// The class the healer is scored on.
    fn class(&self) -> FaultClass;

    /// The mode within the class, as written in the scenario.
    fn mode(&self) -> String;

    /// How much of the table's data the fault touches; `None` for faults that touch no data
    /// (catalog declarations, grants).
    fn footprint(&self) -> Option<Footprint>;

    /// Checks what serde cannot (ranges, combinations).
    fn validate(&self) -> Result<(), InvalidParameter>;

    /// Checks the columns the fault names against the dataset's contract, known before anything
    /// is seeded (a column to flood or drop must exist; one to add must not).
    fn check_contract(&self, _contract: &[lakechaos_lake::ColumnDef]) -> Result<(), InvalidParameter> {
        Ok(())
    }

    /// Whether the fault acts on Lake Formation grants (targets without Lake Formation skip it).
    fn needs_lake_formation(&self) -> bool {
        false
    }

    /// Whether the fault acts only on Iceberg tables (their tree of metadata files).
    fn needs_iceberg(&self) -> bool {
        false
    }

    /// Plans the damage against an object lake; nothing is changed.
    async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError>;

    /// Why the fault has no meaning on PostgreSQL (its scenarios are skipped there); `None` when
    /// [`Fault::plan_postgres`] plans it.
    fn postgres_skip_reason(&self) -> Option<String> {
        Some(format!("{} has no meaning on PostgreSQL", self.class()))
    }

    /// Plans the same damage as SQL on a PostgreSQL table. `tag` keeps this plan's journal
    /// tables apart from another's in the same database. Deterministic in `rng`.
    fn plan_postgres(&self, _table: &PgTable, _rng: &mut ChaCha8Rng, _tag: &str) -> Result<PgFaultPlan, FaultError> {
        Err(FaultError::NotApplicable(self.postgres_skip_reason().unwrap_or_default()))
    }

    /// One fault of every mode, each touching `select` of the table: the catalog's coverage,
    /// for tests and examples.
    fn examples(select: &Selection) -> Vec<Self>
    where
        Self: Sized;
}
