//! Detectors, one per check, and the tier pipeline that runs them.

pub mod catalog_schema;
pub mod concurrent;
pub mod empty_object;
pub mod footer_integrity;
pub mod null_stats;
pub mod page_decode;
pub mod partitions;
pub mod row_count;
pub mod schema_contract;

#[cfg(test)]
mod detect_tests;

use crate::config::Depth;
use crate::finding::Finding;
use crate::HealerError;
use lakechaos_lake::layout::parse_data_key;
use lakechaos_lake::{ObjectMeta, ObjectStore, TableDef};
use std::collections::BTreeMap;

/// A table as its listings show it.
#[derive(Clone, Debug)]
pub struct TableListing {
    pub table: TableDef,
    /// Served data files per partition (relative partition path).
    pub served: BTreeMap<String, Vec<ObjectMeta>>,
    /// Landing-zone file names per partition; empty when the table has no landing zone.
    pub landing: BTreeMap<String, Vec<String>>,
}

impl TableListing {
    /// Every served data file.
    pub fn files(&self) -> impl Iterator<Item = &ObjectMeta> {
        self.served.values().flatten()
    }
}

/// Lists a table's served files and its landing zone.
pub async fn list_table(store: &dyn ObjectStore, table: &TableDef) -> Result<TableListing, HealerError> {
    let depth = table.partition_keys.len();
    let mut served: BTreeMap<String, Vec<ObjectMeta>> = BTreeMap::new();
    for obj in store.list(&lakechaos_lake::layout::table_prefix(&table.location)).await? {
        if let Some((partition, _)) = parse_data_key(&table.location, depth, &obj.key) {
            served.entry(partition.to_string()).or_default().push(obj);
        }
    }
    let mut landing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(prefix) = &table.landing {
        for obj in store.list(&format!("{prefix}/")).await? {
            if let Some((partition, file)) = parse_data_key(prefix, depth, &obj.key) {
                landing.entry(partition.to_string()).or_default().push(file.to_string());
            }
        }
    }
    Ok(TableListing { table: table.clone(), served, landing })
}

/// The result of checking one data file.
#[derive(Clone, Debug, Default)]
pub struct FileCheck {
    pub finding: Option<Finding>,
    pub footer_read: bool,
    pub pages_decoded: bool,
    /// The rows its footer declares, once the footer passed its checks.
    pub rows: Option<u64>,
}

/// Runs every file tier on bytes in memory (a candidate source such as an earlier object
/// version), stopping at the first finding.
pub async fn check_bytes(table: &TableDef, key: &str, data: bytes::Bytes) -> Result<Option<Finding>, HealerError> {
    let meta =
        ObjectMeta { key: key.to_string(), size: data.len() as u64, version_token: String::new(), modified: None };
    if let Some(f) = empty_object::detect(table, &meta) {
        return Ok(Some(f));
    }
    let footer = match lakechaos_lake::parquet_io::footer_of(&data) {
        Ok(f) => f,
        Err(problem) => return Ok(Some(footer_integrity::finding(table, key, &problem))),
    };
    if let Some(f) = schema_contract::detect(table, key, &footer.schema) {
        return Ok(Some(f));
    }
    let stats = null_stats::detect(table, key, &footer.metadata, &footer.schema);
    if stats.finding.is_some() {
        return Ok(stats.finding);
    }
    page_decode::detect_bytes(table, key, data, !stats.complete).await
}

/// Runs the file tiers on one object, stopping at the first finding.
pub async fn check_file(
    store: &dyn ObjectStore,
    table: &TableDef,
    meta: &ObjectMeta,
    depth: Depth,
) -> Result<FileCheck, HealerError> {
    let mut check = FileCheck::default();
    if let Some(f) = empty_object::detect(table, meta) {
        check.finding = Some(f);
        return Ok(check);
    }
    if depth < Depth::Footer {
        return Ok(check);
    }
    check.footer_read = true;
    let footer = match footer_integrity::detect(store, table, meta).await? {
        Ok(footer) => footer,
        Err(finding) => {
            check.finding = Some(finding);
            return Ok(check);
        }
    };
    if let Some(f) = schema_contract::detect(table, &meta.key, &footer.schema) {
        check.finding = Some(f);
        return Ok(check);
    }
    let stats = null_stats::detect(table, &meta.key, &footer.metadata, &footer.schema);
    if let Some(f) = stats.finding {
        check.finding = Some(f);
        return Ok(check);
    }
    let rows = footer.metadata.file_metadata().num_rows().max(0) as u64;
    check.rows = Some(rows);
    if let Some(f) = row_count::detect(store, table, meta, rows).await? {
        check.finding = Some(f);
        return Ok(check);
    }
    if depth < Depth::Pages {
        return Ok(check);
    }
    check.pages_decoded = true;
    check.finding = page_decode::detect(store, table, &meta.key, !stats.complete).await?;
    Ok(check)
}

/// A table over `t` with the given contract columns, for detector tests.
#[cfg(test)]
pub(crate) fn test_table(name: &str, columns: &[(&str, &str)]) -> TableDef {
    let columns = columns
        .iter()
        .map(|(n, t)| lakechaos_lake::ColumnDef {
            name: n.to_string(),
            data_type: t.to_string(),
            nullable: true,
            max_null_fraction: 0.1,
        })
        .collect();
    TableDef {
        name: name.into(),
        location: name.into(),
        partition_keys: vec!["dt".into()],
        columns,
        partitions: Default::default(),
        landing: None,
        declared: None,
    }
}
