//! The fault catalog.
//!
//! A fault never touches the lake directly. It *plans*: it reads what it will damage and returns
//! the exact before and after state of every object and catalog entry it changes, plus the ground
//! truth (what it damaged). The caller writes that plan to a [`journal`] first and only then
//! applies it, so every injection can be reverted byte for byte, even after a crash.
//!
//! One file per fault family; [`registry`] maps scenario `kind:` names to them.

pub mod corrupt_parquet;
mod error;
pub mod journal;
pub mod missing_partition;
pub mod null_flood;
pub mod pg;
pub mod registry;
mod rewrite;
pub mod schema_drift;
pub mod select;

pub use error::FaultError;
pub use journal::Journal;
pub use registry::FaultSpec;

use bytes::Bytes;
use lakechaos_lake::{Lake, TableDef};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The classes of damage a healer is scored on. Serialized names are the `kind` strings the
/// healer reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultClass {
    SchemaDrift,
    CorruptParquet,
    NullFlood,
    MissingPartition,
}

impl FaultClass {
    /// The snake_case name used in scenarios, reports and healer findings.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultClass::SchemaDrift => "schema_drift",
            FaultClass::CorruptParquet => "corrupt_parquet",
            FaultClass::NullFlood => "null_flood",
            FaultClass::MissingPartition => "missing_partition",
        }
    }
}

impl std::fmt::Display for FaultClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a fault damaged: the answer key the harness scores the healer against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Fault class.
    pub kind: FaultClass,
    /// Mode within the class (`truncate_tail`, `rename_column`, ...).
    pub mode: String,
    /// Table damaged.
    pub table: String,
    /// Partitions touched, as `<table location>/<partition>` keys.
    pub partitions: Vec<String>,
    /// Data files touched (keys).
    pub files: Vec<String>,
    /// Columns touched, if the fault is about columns.
    pub columns: Vec<String>,
    /// Catalog entries touched (see [`catalog_location`]), for faults in the catalog itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalog: Vec<String>,
    /// Rows whose data became wrong, unreadable or invisible.
    pub rows_affected: u64,
    /// One line for people.
    pub detail: String,
}

impl GroundTruth {
    /// Ground truth of a fault that damaged data files in place.
    pub(crate) fn for_files(
        table: &TableDef,
        kind: FaultClass,
        mode: String,
        files: &[select::ChosenFile],
        columns: Vec<String>,
        rows_affected: u64,
        detail: String,
    ) -> GroundTruth {
        let mut partitions: Vec<String> =
            files.iter().map(|f| lakechaos_lake::layout::partition_prefix(&table.location, &f.partition)).collect();
        partitions.dedup();
        GroundTruth {
            kind,
            mode,
            table: table.name.clone(),
            partitions,
            files: files.iter().map(|f| f.meta.key.clone()).collect(),
            columns,
            catalog: Vec::new(),
            rows_affected,
            detail,
        }
    }

    /// The locations a healer should report: partitions for partition-level faults, files for
    /// the rest.
    pub fn locations(&self) -> &[String] {
        match self.kind {
            _ if !self.catalog.is_empty() => &self.catalog,
            FaultClass::MissingPartition => &self.partitions,
            // Damage to rows of a table (PostgreSQL) rather than to files is located by partition.
            _ if self.files.is_empty() => &self.partitions,
            _ => &self.files,
        }
    }
}

/// How a table's catalog entry is named as a location: `catalog:<table>` (as the healer reports
/// damage to the entry itself).
pub fn catalog_location(table: &str) -> String {
    format!("catalog:{table}")
}

/// The location of a PostgreSQL table's definition (its columns in the system catalog).
pub(crate) fn catalog_location_of(layout: &lakechaos_lake::pg::PgLayout) -> String {
    layout.table_location()
}

/// One planned change with its before and after state.
#[derive(Clone, Debug)]
pub enum Change {
    /// An object is replaced, created (`before: None`) or removed (`after: None`).
    Object { key: String, before: Option<Bytes>, after: Option<Bytes> },
    /// A catalog table entry is replaced.
    CatalogTable { before: Box<TableDef>, after: Box<TableDef> },
}

/// A fault's complete plan: apply `changes` to inject it.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub changes: Vec<Change>,
    pub ground_truth: GroundTruth,
}

/// What a fault may look at while planning.
pub struct FaultContext<'a> {
    /// The lake to damage.
    pub lake: &'a Lake,
    /// The table to damage, as the catalog holds it now.
    pub table: &'a TableDef,
    /// The only source of randomness: same seed, same plan.
    pub rng: &'a mut ChaCha8Rng,
}

/// Applies a plan's after-states. Call only after the plan is journaled.
pub async fn apply(lake: &Lake, plan: &FaultPlan) -> Result<(), FaultError> {
    for change in &plan.changes {
        match change {
            Change::Object { key, after: Some(data), .. } => lake.store.put(key, data.clone()).await?,
            Change::Object { key, after: None, .. } => lake.store.delete(key).await?,
            Change::CatalogTable { after, .. } => lake.catalog.put_table(after).await?,
        }
    }
    Ok(())
}

/// The serialized (snake_case) name of a unit enum value such as a fault mode.
pub(crate) fn snake_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}
