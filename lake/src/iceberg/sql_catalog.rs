//! The SQL catalog on SQLite, in the layout the JDBC catalog defined and pyiceberg's and
//! iceberg-rust's SQL catalogs share: `iceberg_tables(catalog_name, table_namespace, table_name,
//! metadata_location, previous_metadata_location)`. A table written by any of them is found here,
//! whatever its `catalog_name`; tables lakechaos creates go under [`DEFAULT_CATALOG_NAME`].

use super::catalog::{PointerCatalog, TableIdent};
use super::IcebergError;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `catalog_name` of tables lakechaos creates (pyiceberg's `load_catalog("default", …)`).
pub const DEFAULT_CATALOG_NAME: &str = "default";

const CREATE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS iceberg_tables (
    catalog_name VARCHAR(255) NOT NULL,
    table_namespace VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    metadata_location VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    PRIMARY KEY (catalog_name, table_namespace, table_name)
);
CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
    catalog_name VARCHAR(255) NOT NULL,
    namespace VARCHAR(255) NOT NULL,
    property_key VARCHAR(255) NOT NULL,
    property_value VARCHAR(1000),
    PRIMARY KEY (catalog_name, namespace, property_key)
);";

/// An SQLite file holding the SQL catalog.
#[derive(Clone, Debug)]
pub struct SqlCatalog {
    path: PathBuf,
}

impl SqlCatalog {
    /// The catalog in `path`. The file must exist unless `create` (then its tables are made
    /// where missing).
    pub fn open(path: &Path, create: bool) -> Result<SqlCatalog, IcebergError> {
        if !create && !path.is_file() {
            return Err(IcebergError::Catalog {
                catalog: path.display().to_string(),
                message: "no such SQLite file (expected the SQL catalog's database)".into(),
            });
        }
        let catalog = SqlCatalog { path: path.to_path_buf() };
        if create {
            let conn = catalog.connect()?;
            conn.execute_batch(CREATE_TABLES).map_err(|e| catalog.failed(e))?;
        }
        Ok(catalog)
    }

    fn failed(&self, e: rusqlite::Error) -> IcebergError {
        IcebergError::Catalog { catalog: self.name(), message: e.to_string() }
    }

    fn connect(&self) -> Result<Connection, IcebergError> {
        let conn = Connection::open(&self.path).map_err(|e| self.failed(e))?;
        // Another process's commit holds the write lock briefly; wait for it rather than fail.
        conn.busy_timeout(Duration::from_secs(10)).map_err(|e| self.failed(e))?;
        Ok(conn)
    }

    /// Runs `f` on a connection off the async threads (SQLite is blocking).
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqlCatalog, &Connection) -> Result<T, IcebergError> + Send + 'static,
    ) -> Result<T, IcebergError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = this.connect()?;
            f(&this, &conn)
        })
        .await
        .map_err(|e| IcebergError::Catalog { catalog: self.name(), message: e.to_string() })?
    }

    /// The `catalog_name` the table is under; refuses a table under several.
    fn catalog_name_of(&self, conn: &Connection, table: &TableIdent) -> Result<Option<String>, IcebergError> {
        let mut stmt = conn
            .prepare("SELECT catalog_name FROM iceberg_tables WHERE table_namespace = ?1 AND table_name = ?2")
            .map_err(|e| self.failed(e))?;
        let names: Vec<String> = stmt
            .query_map(params![table.namespace, table.name], |row| row.get(0))
            .map_err(|e| self.failed(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.failed(e))?;
        match names.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            many => Err(IcebergError::Catalog {
                catalog: self.name(),
                message: format!("table {table} is registered under several catalog names: {}", many.join(", ")),
            }),
        }
    }
}

#[async_trait::async_trait]
impl PointerCatalog for SqlCatalog {
    fn name(&self) -> String {
        format!("iceberg-sql:{}", self.path.display())
    }

    async fn pointer(&self, table: &TableIdent) -> Result<Option<String>, IcebergError> {
        let table = table.clone();
        self.with(move |this, conn| {
            let Some(catalog_name) = this.catalog_name_of(conn, &table)? else { return Ok(None) };
            conn.query_row(
                "SELECT metadata_location FROM iceberg_tables
                 WHERE catalog_name = ?1 AND table_namespace = ?2 AND table_name = ?3",
                params![catalog_name, table.namespace, table.name],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| this.failed(e))
        })
        .await
    }

    async fn swap(&self, table: &TableIdent, expected: &str, new: &str) -> Result<(), IcebergError> {
        let (table, expected, new) = (table.clone(), expected.to_string(), new.to_string());
        self.with(move |this, conn| {
            let catalog_name =
                this.catalog_name_of(conn, &table)?.ok_or_else(|| IcebergError::NoSuchTable(table.to_string()))?;
            let updated = conn
                .execute(
                    "UPDATE iceberg_tables SET metadata_location = ?1, previous_metadata_location = ?2
                     WHERE catalog_name = ?3 AND table_namespace = ?4 AND table_name = ?5
                       AND metadata_location = ?2",
                    params![new, expected, catalog_name, table.namespace, table.name],
                )
                .map_err(|e| this.failed(e))?;
            if updated == 1 {
                Ok(())
            } else {
                Err(IcebergError::Changed { table: table.to_string(), expected })
            }
        })
        .await
    }

    async fn create(&self, table: &TableIdent, metadata_location: &str) -> Result<(), IcebergError> {
        let (table, location) = (table.clone(), metadata_location.to_string());
        self.with(move |this, conn| {
            if this.catalog_name_of(conn, &table)?.is_some() {
                return Err(IcebergError::Catalog {
                    catalog: this.name(),
                    message: format!("table {table} already exists"),
                });
            }
            conn.execute(
                "INSERT OR IGNORE INTO iceberg_namespace_properties VALUES (?1, ?2, 'exists', 'true')",
                params![DEFAULT_CATALOG_NAME, table.namespace],
            )
            .map_err(|e| this.failed(e))?;
            conn.execute(
                "INSERT INTO iceberg_tables VALUES (?1, ?2, ?3, ?4, NULL)",
                params![DEFAULT_CATALOG_NAME, table.namespace, table.name, location],
            )
            .map_err(|e| this.failed(e))?;
            Ok(())
        })
        .await
    }

    async fn unregister(&self, table: &TableIdent) -> Result<(), IcebergError> {
        let table = table.clone();
        self.with(move |this, conn| {
            conn.execute(
                "DELETE FROM iceberg_tables WHERE table_namespace = ?1 AND table_name = ?2",
                params![table.namespace, table.name],
            )
            .map_err(|e| this.failed(e))?;
            Ok(())
        })
        .await
    }

    async fn tables(&self) -> Result<Vec<TableIdent>, IcebergError> {
        self.with(|this, conn| {
            let mut stmt = conn
                .prepare("SELECT DISTINCT table_namespace, table_name FROM iceberg_tables ORDER BY 1, 2")
                .map_err(|e| this.failed(e))?;
            let rows = stmt
                .query_map([], |row| Ok(TableIdent { namespace: row.get(0)?, name: row.get(1)? }))
                .map_err(|e| this.failed(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| this.failed(e))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pointer_moves_only_from_what_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqlCatalog::open(&dir.path().join("c.db"), true).unwrap();
        let t = TableIdent::parse("sales.orders").unwrap();
        assert_eq!(catalog.pointer(&t).await.unwrap(), None);
        catalog.create(&t, "file:///x/1.json").await.unwrap();
        assert!(catalog.create(&t, "file:///x/1.json").await.is_err());
        catalog.swap(&t, "file:///x/1.json", "file:///x/2.json").await.unwrap();
        let stale = catalog.swap(&t, "file:///x/1.json", "file:///x/3.json").await.unwrap_err();
        assert!(matches!(stale, IcebergError::Changed { .. }), "{stale}");
        assert_eq!(catalog.pointer(&t).await.unwrap().as_deref(), Some("file:///x/2.json"));
        assert_eq!(catalog.tables().await.unwrap(), vec![t]);
        assert!(SqlCatalog::open(&dir.path().join("none.db"), false).is_err());
    }

    #[test]
    fn table_names_are_checked() {
        assert_eq!(TableIdent::parse("a.b.t").unwrap().namespace, "a.b");
        for bad in ["t", ".t", "a.", "a..t", "a.t;drop", "a/b.t", ""] {
            assert!(TableIdent::parse(bad).is_err(), "{bad}");
        }
    }
}
