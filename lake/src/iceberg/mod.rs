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
pub mod glue_pointers;
pub mod location;
pub mod read;
pub mod sql_catalog;

/// The format library's metadata types (schemas, specs, snapshots, data file entries).
pub use ::iceberg::spec;
pub use catalog::{PointerCatalog, TableIdent};
pub use commit::Prepared;
pub use error::{IcebergError, Layer};
pub use glue_pointers::GluePointers;
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

/// Table property naming the landing prefix that mirrors the table's files (relative to the
/// table's location): the source a healer restores data files from when the store keeps no
/// versions.
pub const LANDING_PROPERTY: &str = "lakechaos.landing";

/// Table property naming the schema id that is the table's contract (default: the current
/// schema): a committed schema change that breaks it is drift.
pub const CONTRACT_SCHEMA_PROPERTY: &str = "lakechaos.contract-schema-id";

impl IcebergTable {
    /// The schema the table's contract is: the one its property names, else the current one.
    pub fn contract_schema(md: &spec::TableMetadata) -> &spec::SchemaRef {
        md.properties()
            .get(CONTRACT_SCHEMA_PROPERTY)
            .and_then(|id| id.parse::<i32>().ok())
            .and_then(|id| md.schema_by_id(id))
            .unwrap_or_else(|| md.current_schema())
    }

    /// The table as the rest of lakechaos describes tables: named `NAMESPACE.TABLE`, located at
    /// its data directory (where Iceberg writers lay out `name=value/` partition directories),
    /// with its contract, its live partitions and its landing copy.
    pub fn table_def(
        &self,
        md: &spec::TableMetadata,
        partitions: std::collections::BTreeSet<String>,
    ) -> Result<crate::TableDef, IcebergError> {
        let location = self.key(&format!("{}/data", md.location().trim_end_matches('/')))?;
        let partition_keys = md.default_partition_spec().fields().iter().map(|f| f.name.clone()).collect();
        let landing = md.properties().get(LANDING_PROPERTY).map(|l| format!("{}/data", l.trim_end_matches('/')));
        Ok(crate::TableDef {
            name: self.ident.to_string(),
            location,
            partition_keys,
            columns: data_file::contract_of(Self::contract_schema(md), md.properties()),
            partitions,
            landing,
            declared: None,
        })
    }

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

/// An Iceberg catalog as a lake holds it: the catalog, and the lake's root as its locations
/// spell it.
#[derive(Clone, Debug)]
pub struct IcebergCatalogRef {
    pub catalog: Arc<dyn PointerCatalog>,
    pub root: LakeRoot,
}

impl crate::Lake {
    /// Table `name` (`NAMESPACE.TABLE`) of the lake's Iceberg catalog; `None` when the lake has
    /// no Iceberg catalog. The table need not exist yet.
    pub fn iceberg_table(&self, name: &str) -> Option<Result<IcebergTable, IcebergError>> {
        let at = self.iceberg.as_ref()?;
        Some(TableIdent::parse(name).map(|ident| IcebergTable {
            store: self.store.clone(),
            root: at.root.clone(),
            catalog: at.catalog.clone(),
            ident,
        }))
    }
}

impl From<IcebergError> for crate::LakeError {
    fn from(e: IcebergError) -> crate::LakeError {
        match e {
            IcebergError::Lake(e) => e,
            // Another commit moved the pointer: a conditional write lost, as on any store.
            IcebergError::Changed { table, .. } => crate::LakeError::Changed(format!("catalog:{table}")),
            IcebergError::Catalog { .. } | IcebergError::Unsupported(_) => crate::LakeError::Address(e.to_string()),
            e => crate::LakeError::Catalog(e.to_string()),
        }
    }
}
