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
    /// The columns the catalog declares to query engines, where that can differ from the
    /// contract (a Glue table's storage descriptor, which crawlers and people edit). `None`
    /// means the contract is what is declared. Writing a table writes these when set, else the
    /// contract's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<Vec<DeclaredColumn>>,
}

/// A column as the catalog declares it: name and logical type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredColumn {
    pub name: String,
    pub data_type: String,
}

impl TableDef {
    /// The contract column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// What the catalog declares: its own columns if set, else the contract's.
    pub fn declared_columns(&self) -> Vec<DeclaredColumn> {
        self.declared.clone().unwrap_or_else(|| {
            self.columns
                .iter()
                .map(|c| DeclaredColumn { name: c.name.clone(), data_type: c.data_type.clone() })
                .collect()
        })
    }

    /// How the declared columns differ from the contract, compared as a catalog stores types
    /// (Glue's `timestamp` stands for every timestamp unit); `None` if they agree.
    pub fn declared_drift(&self) -> Option<String> {
        let declared = self.declared.as_ref()?;
        let contract: Vec<(String, String)> =
            self.columns.iter().map(|c| (c.name.clone(), catalog_form(&c.data_type))).collect();
        let actual: Vec<(String, String)> =
            declared.iter().map(|c| (c.name.clone(), catalog_form(&c.data_type))).collect();
        if contract == actual {
            return None;
        }
        let mut differences = Vec::new();
        for (name, ty) in &contract {
            match actual.iter().find(|(n, _)| n == name) {
                None => differences.push(format!("{name} missing")),
                Some((_, t)) if t != ty => differences.push(format!("{name} declared {t}, contract {ty}")),
                Some(_) => {}
            }
        }
        for (name, t) in &actual {
            if !contract.iter().any(|(n, _)| n == name) {
                differences.push(format!("{name} ({t}) not in the contract"));
            }
        }
        if differences.is_empty() {
            differences.push("column order differs from the contract".into());
        }
        Some(differences.join("; "))
    }
}

/// A logical type as a Hive-style catalog can hold it.
fn catalog_form(logical: &str) -> String {
    crate::hive_types::logical_from_hive(&crate::hive_types::hive_type(logical))
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

    /// Starts the catalog's crawler `name` (one already running is left to finish) and returns
    /// its state as the catalog reports it (`RUNNING`, ...). Only Glue has crawlers.
    async fn start_crawler(&self, name: &str) -> Result<String> {
        Err(crate::LakeError::Catalog(format!("crawler {name}: {} has no crawlers (Glue has)", self.describe())))
    }
}
