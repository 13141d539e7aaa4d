//! A JSON file catalog kept inside the lake's own store: `_catalog/<table>.json`.

use crate::catalog::{Catalog, TableDef};
use crate::storage::ObjectStore;
use crate::{LakeError, Result};
use async_trait::async_trait;
use bytes::Bytes;
use std::sync::Arc;

/// Prefix under which the file catalog keeps one JSON document per table.
pub const CATALOG_PREFIX: &str = "_catalog/";

/// The embedded catalog of the `local` target. It stands where Glue stands on AWS.
#[derive(Debug, Clone)]
pub struct FileCatalog {
    store: Arc<dyn ObjectStore>,
}

impl FileCatalog {
    /// A catalog stored in `store` under [`CATALOG_PREFIX`].
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        FileCatalog { store }
    }

    fn key(table: &str) -> Result<String> {
        if table.is_empty() || table.contains('/') || table.starts_with('.') {
            return Err(LakeError::Catalog(format!("invalid table name {table:?}")));
        }
        Ok(format!("{CATALOG_PREFIX}{table}.json"))
    }
}

#[async_trait]
impl Catalog for FileCatalog {
    fn describe(&self) -> String {
        format!("{}/{}", self.store.describe(), CATALOG_PREFIX.trim_end_matches('/'))
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .store
            .list(CATALOG_PREFIX)
            .await?
            .into_iter()
            .filter_map(|o| o.key.strip_prefix(CATALOG_PREFIX)?.strip_suffix(".json").map(str::to_string))
            .filter(|n| !n.contains('/'))
            .collect();
        names.sort();
        Ok(names)
    }

    async fn get_table(&self, name: &str) -> Result<Option<TableDef>> {
        let key = Self::key(name)?;
        let bytes = match self.store.get(&key).await {
            Ok(b) => b,
            Err(LakeError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| LakeError::Catalog(format!("{key} is not a valid table document: {e}")))
    }

    async fn put_table(&self, table: &TableDef) -> Result<()> {
        let key = Self::key(&table.name)?;
        let json = serde_json::to_vec_pretty(table).map_err(|e| LakeError::Catalog(e.to_string()))?;
        self.store.put(&key, Bytes::from(json)).await
    }

    fn watched_prefix(&self) -> Option<String> {
        Some(CATALOG_PREFIX.to_string())
    }
}
