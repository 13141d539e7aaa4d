//! The fault catalog.
//!
//! A fault never touches the lake directly. It *plans*: it reads what it will damage and returns
//! the exact before and after state of every object and catalog entry it changes, plus the ground
//! truth (what it damaged). The caller writes that plan to a [`journal`] first and only then
//! applies it, so every injection can be reverted byte for byte, even after a crash.
//!
//! One file per fault family, implementing [`Fault`]; the [`faults!`] list below registers each
//! with one entry (see [`registry`]).

#[macro_use]
pub mod registry;
pub mod column;
mod error;
mod fault;
mod iceberg_commit;
pub mod journal;
pub mod pg;
mod rewrite;
pub mod select;
pub mod strict;

pub use column::{ColumnChoice, ColumnSelector, TypeFamily};
pub use error::FaultError;
pub use fault::{column_name, Fault, Footprint, InvalidParameter};
pub use journal::{AnyJournal, Journal};

// The fault families: `module::Type => Variant, "scenario kind", reported as "healer incident kind";`
faults! {
    /// Columns added, dropped, renamed or retyped in some data files, or in the catalog's declaration.
    schema_drift::SchemaDrift => SchemaDrift, "schema_drift", reported as "schema_drift";
    /// Data files damaged at the byte level.
    corrupt_parquet::CorruptParquet => CorruptParquet, "corrupt_parquet", reported as "corrupt_parquet";
    /// A share of one column's values replaced by nulls (still valid Parquet).
    null_flood::NullFlood => NullFlood, "null_flood", reported as "null_flood";
    /// A partition's data files, its catalog entry, or both, gone.
    missing_partition::MissingPartition => MissingPartition, "missing_partition", reported as "missing_partition";
    /// A Lake Formation grant the lake's declared policy names, revoked.
    permission_drift::PermissionDrift => PermissionDrift, "permission_drift", reported as "missing_grant";
    /// A file of an Iceberg table's tree missing or corrupt: the metadata file the catalog
    /// points at, a manifest list, a manifest, or a live data file.
    iceberg_files::IcebergFiles => IcebergFiles, "iceberg_files", reported as "iceberg_files";
}

use bytes::Bytes;
use lakechaos_lake::{Grant, Lake, TableDef};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

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
    /// Grants revoked (see [`Grant::location`]), for faults in the lake's governance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
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
            grants: Vec::new(),
            rows_affected,
            detail,
        }
    }

    /// The locations a healer should report: partitions for partition-level faults, files for
    /// the rest.
    pub fn locations(&self) -> &[String] {
        match self.kind {
            _ if !self.grants.is_empty() => &self.grants,
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
    /// Permissions a principal holds are revoked (exactly `grant`'s, all of them held now).
    Revoke { grant: Grant },
    /// An Iceberg table's catalog pointer moves (`table` is `NAMESPACE.TABLE`).
    IcebergPointer { table: String, before: String, after: String },
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
    /// The grants the lake's declared policy names (empty where the lake has no Lake Formation).
    pub grants: &'a [Grant],
}

/// Applies a plan's after-states. Call only after the plan is journaled.
pub async fn apply(lake: &Lake, plan: &FaultPlan) -> Result<(), FaultError> {
    for change in &plan.changes {
        match change {
            Change::Object { key, after: Some(data), .. } => lake.store.put(key, data.clone()).await?,
            Change::Object { key, after: None, .. } => lake.store.delete(key).await?,
            Change::CatalogTable { after, .. } => lake.catalog.put_table(after).await?,
            Change::Revoke { grant } => {
                governance(lake)?.revoke(&grant.principal, &grant.resource, &grant.permissions).await?
            }
            Change::IcebergPointer { table, before, after } => {
                let table = iceberg_pointer_table(lake, table)?;
                table.catalog.swap(&table.ident, before, after).await.map_err(|e| FaultError::Lake(e.into()))?
            }
        }
    }
    Ok(())
}

/// The Iceberg table whose pointer a change moves.
pub(crate) fn iceberg_pointer_table(
    lake: &Lake,
    table: &str,
) -> Result<lakechaos_lake::iceberg::IcebergTable, FaultError> {
    lake.iceberg_table(table)
        .ok_or_else(|| FaultError::NotApplicable(format!("{table}: the lake has no Iceberg catalog")))?
        .map_err(|e| FaultError::NotApplicable(e.to_string()))
}

/// The lake's Lake Formation, for faults on grants.
pub(crate) fn governance(lake: &Lake) -> Result<&lakechaos_lake::LakeFormation, FaultError> {
    lake.grants
        .as_ref()
        .ok_or_else(|| FaultError::NotApplicable("the lake has no Lake Formation (a Glue catalog brings it)".into()))
}

/// The serialized (snake_case) name of a unit enum value such as a fault mode.
pub(crate) fn snake_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}
