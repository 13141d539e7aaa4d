//! The table-catalog trait: what tables exist, their contract, their registered partitions.

use crate::contract::ColumnDef;
use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::Debug;

/// A table as the catalog describes it (a Glue table, or an entry of the file catalog).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    /// Table name.
    pub name: String,
    /// Key prefix of the table's data in the store (no trailing slash).
    pub location: String,
    /// Hive partition keys, outermost first (e.g. `["dt"]`).
    pub partition_keys: Vec<String>,
    /// The contract: columns in order, excluding partition keys.
    pub columns: Vec<ColumnDef>,
    /// Registered partitions as relative paths (`dt=2024-01-01`).
    pub partitions: BTreeSet<String>,
    /// Key prefix of the raw/landing copy of this table, if one exists: the source of truth the
    /// healer restores from. Same relative layout as `location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing: Option<String>,
}

impl TableDef {
    /// The contract column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A table catalog. Implementations must make each call atomic for concurrent readers.
#[async_trait]
pub trait Catalog: Send + Sync + Debug {
    /// A human-readable address of the catalog (`file://.../_catalog`, `glue:db`).
    fn describe(&self) -> String;

    /// Names of all tables, sorted.
    async fn list_tables(&self) -> Result<Vec<String>>;

    /// One table, or `None` when it is not registered.
    async fn get_table(&self, name: &str) -> Result<Option<TableDef>>;

    /// Creates or replaces a table (contract and partitions).
    async fn put_table(&self, table: &TableDef) -> Result<()>;

    /// Registers partitions (idempotent).
    async fn add_partitions(&self, table: &str, partitions: &[String]) -> Result<()> {
        let mut def = self.require(table).await?;
        def.partitions.extend(partitions.iter().cloned());
        self.put_table(&def).await
    }

    /// Unregisters partitions (idempotent). The data stays where it is.
    async fn remove_partitions(&self, table: &str, partitions: &[String]) -> Result<()> {
        let mut def = self.require(table).await?;
        for p in partitions {
            def.partitions.remove(p);
        }
        self.put_table(&def).await
    }

    /// One table, or an error naming it.
    async fn require(&self, table: &str) -> Result<TableDef> {
        self.get_table(table).await?.ok_or_else(|| {
            crate::LakeError::Catalog(format!("table {table:?} is not registered in {}", self.describe()))
        })
    }

    /// Store keys whose change means the catalog changed (for event-driven detection), if the
    /// catalog lives in the lake's own store.
    fn watched_prefix(&self) -> Option<String> {
        None
    }
}
