//! The one access layer of lakechaos.
//!
//! Everything that touches a lake goes through here: object storage ([`ObjectStore`]), the table
//! catalog ([`Catalog`]), the Hive-style layout ([`layout`]) and Parquet helpers ([`parquet_io`]).
//! The healer, the faults and the harness never open files or call a cloud SDK themselves, so a
//! new backend (S3, Glue, PostgreSQL) is one implementation of these traits.

pub mod catalog;
pub mod cloudwatch;
pub mod contract;
mod error;
pub mod eventbridge;
pub mod file_catalog;
pub mod glue_catalog;
pub mod glue_quality;
pub mod iceberg;
pub mod hive_types;
pub mod lakeformation;
pub mod layout;
pub mod local_store;
pub mod notifications;
mod open;
pub mod parquet_io;
pub mod parquet_strict;
pub mod pg;
pub mod redact;
pub mod s3_store;
pub mod storage;

pub use catalog::{Catalog, DeclaredColumn, TableDef};
pub use contract::{logical_type, ColumnDef};
pub use error::{LakeError, Result};
pub use file_catalog::FileCatalog;
pub use glue_catalog::GlueCatalog;
pub use lakeformation::{Grant, LakeFormation, LfResource};
pub use local_store::LocalStore;
pub use notifications::{EventQueue, ObjectEvent, QueuedMessage, Topic};
pub use open::{CatalogKind, LakeAddress};
pub use s3_store::{AwsConnection, S3Store};
pub use storage::{ObjectMeta, ObjectStore, ObjectVersion};

use std::path::Path;
use std::sync::Arc;

/// A lake as the rest of the product sees it: where the objects are and where the tables are
/// described. Cloning is cheap. Open one with [`Lake::open`] (from an address) or
/// [`Lake::open_local`] / [`Lake::open_s3`] (when provisioning).
#[derive(Clone, Debug)]
pub struct Lake {
    /// Object storage holding data, landing copies and quarantine.
    pub store: Arc<dyn ObjectStore>,
    /// The table catalog (the contract and the registered partitions).
    pub catalog: Arc<dyn Catalog>,
    /// Lake Formation, which governs who may read and write the catalog's tables: present for
    /// lakes whose catalog is Glue.
    pub grants: Option<LakeFormation>,
    /// The Iceberg catalog, for lakes opened with one (`iceberg-sql:PATH`): its tables are
    /// Iceberg tables ([`Lake::iceberg_table`]).
    pub iceberg: Option<iceberg::IcebergCatalogRef>,
}

impl Lake {
    /// A lake from a store and a catalog, without Lake Formation.
    pub fn new(store: Arc<dyn ObjectStore>, catalog: Arc<dyn Catalog>) -> Lake {
        Lake { store, catalog, grants: None, iceberg: None }
    }

    /// Opens a local directory lake: objects under `root`, the file catalog under
    /// `root/_catalog/`. The directory is created if missing.
    pub fn open_local(root: &Path) -> Result<Lake> {
        let store = Arc::new(LocalStore::open(root)?);
        let catalog = Arc::new(FileCatalog::new(store.clone()));
        Ok(Lake::new(store, catalog))
    }
}
