//! What a detector reports.

use serde::{Deserialize, Serialize};

/// Classes of damage. The names are the `kind` of every finding and incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    SchemaDrift,
    CorruptParquet,
    NullFlood,
    MissingPartition,
    /// A Lake Formation grant of the declared policy is missing.
    MissingGrant,
    /// A valid file holds fewer rows than its landing copy: rows silently gone.
    RowLoss,
    /// A file of an Iceberg table's tree (the metadata file the catalog points at, a manifest
    /// list, a manifest, a data file) is missing or does not parse.
    IcebergFiles,
}

impl FindingKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::SchemaDrift => "schema_drift",
            FindingKind::CorruptParquet => "corrupt_parquet",
            FindingKind::NullFlood => "null_flood",
            FindingKind::MissingPartition => "missing_partition",
            FindingKind::MissingGrant => "missing_grant",
            FindingKind::RowLoss => "row_loss",
            FindingKind::IcebergFiles => "iceberg_files",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The detection tier that produced a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Listing,
    Footer,
    Pages,
    /// A targeted query of a database table (row and null counts per partition).
    Query,
    /// Column statistics a table format keeps in its metadata (Iceberg manifests' null and
    /// value counts), read without opening a data file.
    Statistics,
}

/// Structured evidence, kept alongside the human-readable text so repairs can act on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// The object cannot be read as Parquet.
    Unreadable { reason: String },
    /// The catalog declares columns that differ from the contract.
    CatalogSchema { differences: String },
    /// The file's schema differs from the contract.
    Schema { missing: Vec<String>, extra: Vec<String>, retyped: Vec<(String, String, String)> },
    /// Columns with more nulls than the contract allows: (column, nulls, rows, allowed fraction).
    Nulls { columns: Vec<(String, u64, u64, f64)> },
    /// A partition that is expected but incomplete.
    /// Fewer rows than the named source holds.
    FileRows { rows: u64, expected: u64, source: String },
    Partition {
        /// Partition path relative to the table (`dt=2024-01-01`).
        partition: String,
        registered: bool,
        /// Data files expected (from the landing zone) but absent.
        missing_files: Vec<String>,
        /// Whether any data file is present.
        has_data: bool,
    },
    /// Permissions of a declared Lake Formation grant that the principal no longer holds.
    Grant { principal: String, resource: String, missing: Vec<String> },
    /// A partition serves fewer rows than its source of truth holds.
    Rows { partition: String, expected: u64, served: u64 },
}

/// One piece of damage found in the lake.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub table: String,
    /// Object key relative to the lake root, or the partition (`<table>/<partition>`).
    pub location: String,
    pub tier: Tier,
    /// One line for people.
    pub message: String,
    pub evidence: Evidence,
}
