//! Apache Iceberg tables: the catalog's pointer, the metadata tree under it (metadata file →
//! manifest list → manifests → data files), and commits that add a new metadata file and move
//! the pointer. The `iceberg` crate parses and writes the metadata formats; every byte goes
//! through the lake's own [`ObjectStore`], so the same code serves a directory and S3, and
//! data files are our own Parquet (the crate's Arrow is a different version and is not used).
//!
//! - [`catalog`]: the pointer per table, [`PointerCatalog`]; [`sql_catalog`]: the SQL catalog on
//!   SQLite.
//! - [`location`]: Iceberg's absolute locations and the store's keys.
//! - [`read`]: walking the tree, every missing or corrupt file a typed [`IcebergError`].
//! - [`commit`]: preparing commits (append, remove files, schema, pointer) as objects to write and
//!   one pointer swap, so a fault can journal them before anything changes.
//! - [`data_file`]: writing a data file with Iceberg field ids and its statistics.

pub mod catalog;
pub mod commit;
pub mod data_file;
mod error;
pub mod location;
pub mod read;
pub mod sql_catalog;

/// The format library's metadata types (schemas, specs, snapshots, data file entries).
pub use ::iceberg::spec;
pub use catalog::{PointerCatalog, TableIdent};
pub use commit::Prepared;
pub use error::{IcebergError, Layer};
pub use location::LakeRoot;
pub use read::{LiveFile, Loaded};
pub use sql_catalog::SqlCatalog;

use crate::ObjectStore;
use std::sync::Arc;

/// One Iceberg table in one lake.
#[derive(Clone, Debug)]
pub struct IcebergTable {
    /// The lake's objects (metadata, manifests and data files are all in it).
    pub store: Arc<dyn ObjectStore>,
    /// The lake's root as Iceberg locations spell it.
    pub root: LakeRoot,
    pub catalog: Arc<dyn PointerCatalog>,
    pub ident: TableIdent,
}

impl IcebergTable {
    /// The table's current metadata location, as the catalog has it.
    pub async fn pointer(&self) -> Result<String, IcebergError> {
        self.catalog.pointer(&self.ident).await?.ok_or_else(|| IcebergError::NoSuchTable(self.ident.to_string()))
    }

    /// The store key of a location of this table.
    pub fn key(&self, location: &str) -> Result<String, IcebergError> {
        self.root.key(location)
    }
}

/// How the catalog of an Iceberg lake is named on command lines: `iceberg-sql:PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IcebergCatalogKind {
    /// The SQL catalog in an SQLite file.
    Sql(std::path::PathBuf),
}

impl IcebergCatalogKind {
    /// Parses `iceberg-sql:PATH`; `None` for catalogs that are not Iceberg catalogs.
    pub fn parse(catalog: &str) -> Option<Result<IcebergCatalogKind, IcebergError>> {
        let path = catalog.strip_prefix("iceberg-sql:")?;
        if path.is_empty() {
            return Some(Err(IcebergError::Unsupported(format!(
                "catalog {catalog:?}: expected iceberg-sql:PATH (the SQL catalog's SQLite file)"
            ))));
        }
        Some(Ok(IcebergCatalogKind::Sql(path.into())))
    }

    /// Opens the catalog (it must exist).
    pub fn open(&self) -> Result<Arc<dyn PointerCatalog>, IcebergError> {
        match self {
            IcebergCatalogKind::Sql(path) => Ok(Arc::new(SqlCatalog::open(path, false)?)),
        }
    }
}

/// Opens `table` (`NAMESPACE.TABLE`) of the lake at `address` with the Iceberg `catalog`.
pub async fn open_table(
    address: &str,
    catalog: &str,
    table: &str,
    conn: &crate::AwsConnection,
) -> Result<IcebergTable, IcebergError> {
    let kind = IcebergCatalogKind::parse(catalog)
        .ok_or_else(|| IcebergError::Unsupported(format!("catalog {catalog:?}: expected iceberg-sql:PATH")))??;
    let ident = TableIdent::parse(table)?;
    let (store, root): (Arc<dyn ObjectStore>, LakeRoot) = match crate::LakeAddress::parse(address)? {
        crate::LakeAddress::Dir(dir) => {
            if !dir.is_dir() {
                return Err(
                    crate::LakeError::Address(format!("lake directory {} does not exist", dir.display())).into()
                );
            }
            let store = crate::LocalStore::open(&dir)?;
            let root = LakeRoot::dir(store.root());
            (Arc::new(store), root)
        }
        crate::LakeAddress::S3 { bucket, prefix } => {
            (Arc::new(crate::S3Store::connect(conn, &bucket, &prefix).await), LakeRoot::s3(&bucket, &prefix))
        }
    };
    Ok(IcebergTable { store, root, catalog: kind.open()?, ident })
}
