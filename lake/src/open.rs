//! The one way to open a lake from the addresses users, journals and functions give: a directory
//! or `s3://BUCKET/PREFIX`, with the file catalog (`file`) or a Glue database (`glue:DATABASE`).
//! Every binary, function and target opens lakes here, so an address means the same everywhere.

use crate::{AwsConnection, Catalog, FileCatalog, GlueCatalog, Lake, LakeError, LakeFormation, Result, S3Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a lake's objects are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LakeAddress {
    /// A local directory.
    Dir(PathBuf),
    /// A bucket, and a key prefix inside it (no leading or trailing `/`; empty for the root).
    S3 { bucket: String, prefix: String },
}

impl LakeAddress {
    /// Parses `s3://BUCKET[/PREFIX]` or a directory path.
    pub fn parse(address: &str) -> Result<LakeAddress> {
        if let Some((bucket, prefix)) = S3Store::parse_url(address) {
            return Ok(LakeAddress::S3 { bucket, prefix });
        }
        if address.starts_with("s3://") {
            return Err(LakeError::Address(format!("{address:?} is not an S3 address (expected s3://BUCKET/PREFIX)")));
        }
        if address.is_empty() {
            return Err(LakeError::Address(
                "the lake address is empty (expected a directory or s3://BUCKET/PREFIX)".into(),
            ));
        }
        Ok(LakeAddress::Dir(PathBuf::from(address)))
    }

    /// The address as written in journals and reports (`s3://bucket/prefix`, or the directory).
    pub fn url(&self) -> String {
        match self {
            LakeAddress::Dir(dir) => dir.display().to_string(),
            LakeAddress::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            LakeAddress::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

/// Which catalog describes a lake's tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogKind {
    /// JSON documents under `_catalog/` in the lake itself.
    File,
    /// A Glue database.
    Glue { database: String },
}

impl CatalogKind {
    /// Parses `file` or `glue:DATABASE`.
    pub fn parse(catalog: &str) -> Result<CatalogKind> {
        match catalog {
            c if c.starts_with("iceberg-sql:") => {
                Err(LakeError::Address(format!("catalog {c:?} is an Iceberg catalog: open the lake with Lake::open")))
            }
            "file" => Ok(CatalogKind::File),
            c => match c.strip_prefix("glue:") {
                Some(db) if !db.is_empty() => Ok(CatalogKind::Glue { database: db.to_string() }),
                _ => Err(LakeError::Address(format!("catalog {c:?}: expected `file` or `glue:DATABASE`"))),
            },
        }
    }

    /// The catalog as `--catalog` and journals name it.
    pub fn name(&self) -> String {
        match self {
            CatalogKind::File => "file".into(),
            CatalogKind::Glue { database } => format!("glue:{database}"),
        }
    }
}

impl Lake {
    /// Opens the lake at `address` with `catalog` (`file` or `glue:DATABASE`). S3 lakes are
    /// reached through `conn` (credentials, region, endpoint); a directory must exist.
    pub async fn open(address: &str, catalog: &str, conn: &AwsConnection) -> Result<Lake> {
        if let Some(kind) = crate::iceberg::IcebergCatalogKind::parse(catalog) {
            return Lake::open_iceberg(address, kind?, conn).await;
        }
        let catalog = CatalogKind::parse(catalog)?;
        match LakeAddress::parse(address)? {
            LakeAddress::S3 { bucket, prefix } => Ok(Lake::open_s3(conn, &bucket, &prefix, &catalog).await),
            LakeAddress::Dir(_) if catalog != CatalogKind::File => {
                Err(LakeError::Address("a Glue catalog needs an s3:// lake".into()))
            }
            LakeAddress::Dir(dir) if !dir.is_dir() => {
                Err(LakeError::Address(format!("lake directory {} does not exist", dir.display())))
            }
            LakeAddress::Dir(dir) => Lake::open_local(Path::new(&dir)),
        }
    }

    /// The lake at `address` whose tables are in an Iceberg catalog: the store as a file-catalog
    /// lake has it, and the catalog's pointers.
    async fn open_iceberg(
        address: &str,
        kind: crate::iceberg::IcebergCatalogKind,
        conn: &AwsConnection,
    ) -> Result<Lake> {
        let root = match LakeAddress::parse(address)? {
            LakeAddress::S3 { bucket, prefix } => crate::iceberg::LakeRoot::s3(&bucket, &prefix),
            LakeAddress::Dir(dir) if dir.is_dir() => {
                crate::iceberg::LakeRoot::dir(&dir.canonicalize().map_err(|e| LakeError::io(dir.display(), e))?)
            }
            LakeAddress::Dir(dir) => {
                return Err(LakeError::Address(format!("lake directory {} does not exist", dir.display())))
            }
        };
        let mut lake = Box::pin(Lake::open(address, "file", conn)).await?;
        lake.iceberg = Some(crate::iceberg::IcebergCatalogRef { catalog: kind.open()?, root });
        Ok(lake)
    }

    /// [`Lake::open`] with only an endpoint override for S3 (the usual AWS sources otherwise),
    /// as the command lines take it: `endpoint_url` is refused for a directory lake.
    pub async fn open_at(address: &str, catalog: &str, endpoint_url: Option<&str>) -> Result<Lake> {
        if endpoint_url.is_some() && !matches!(LakeAddress::parse(address)?, LakeAddress::S3 { .. }) {
            return Err(LakeError::Address("--endpoint-url applies to s3:// lakes only".into()));
        }
        let conn = AwsConnection { endpoint_url: endpoint_url.map(str::to_string), ..Default::default() };
        Lake::open(address, catalog, &conn).await
    }

    /// The lake under `prefix` in `bucket`. A Glue catalog brings Lake Formation with it.
    pub async fn open_s3(conn: &AwsConnection, bucket: &str, prefix: &str, catalog: &CatalogKind) -> Lake {
        let store = Arc::new(S3Store::connect(conn, bucket, prefix).await);
        match catalog {
            CatalogKind::File => Lake::new(store.clone(), Arc::new(FileCatalog::new(store))),
            CatalogKind::Glue { database } => {
                let root = LakeAddress::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() }.url();
                let glue: Arc<dyn Catalog> = Arc::new(GlueCatalog::connect(conn, database, &root).await);
                // A Glue database also holds Iceberg tables (`table_type=ICEBERG`), named
                // `DATABASE.TABLE` (`Lake::iceberg_table`).
                let iceberg = crate::iceberg::IcebergCatalogRef {
                    catalog: Arc::new(crate::iceberg::GluePointers::connect(conn, database).await),
                    root: crate::iceberg::LakeRoot::s3(bucket, prefix),
                };
                Lake { store, catalog: glue, grants: Some(LakeFormation::connect(conn).await), iceberg: Some(iceberg) }
            }
        }
    }

    /// Creates what [`Lake::open_s3`] opens, where missing: the bucket when `versioning` says how
    /// (`None` leaves the bucket alone: it must exist), and the Glue database. Then opens it.
    pub async fn create_s3(
        conn: &AwsConnection,
        bucket: &str,
        prefix: &str,
        catalog: &CatalogKind,
        versioning: Option<bool>,
    ) -> Result<Lake> {
        if let Some(versioned) = versioning {
            Lake::bucket_store(conn, bucket).await.ensure_bucket(versioned).await?;
        }
        if let CatalogKind::Glue { database } = catalog {
            let root = LakeAddress::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() }.url();
            GlueCatalog::connect(conn, database, &root).await.ensure_database().await?;
        }
        Ok(Lake::open_s3(conn, bucket, prefix, catalog).await)
    }

    /// The object store at an S3 address alone (a quarantine bucket of its own), without a catalog.
    pub async fn open_store(conn: &AwsConnection, address: &str) -> Result<Arc<S3Store>> {
        match LakeAddress::parse(address)? {
            LakeAddress::S3 { bucket, prefix } => Ok(Arc::new(S3Store::connect(conn, &bucket, &prefix).await)),
            LakeAddress::Dir(_) => Err(LakeError::Address(format!("{address:?}: expected s3://BUCKET[/PREFIX]"))),
        }
    }

    /// A whole bucket as an object store, for reading records that sit beside lakes (game-day
    /// golden records and journals).
    pub async fn bucket_store(conn: &AwsConnection, bucket: &str) -> Arc<S3Store> {
        Arc::new(S3Store::connect(conn, bucket, "").await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_addresses_are_named() {
        let err = |r: Result<Lake>| r.unwrap_err().to_string();
        assert!(err(Lake::open_at("/no/such/dir", "file", None).await).contains("/no/such/dir"));
        assert!(err(Lake::open_at("s3://", "file", None).await).contains("s3://BUCKET"));
        assert!(err(Lake::open_at("/tmp", "glue:db", None).await).contains("s3://"));
        assert!(err(Lake::open_at("/tmp", "hive", None).await).contains("glue:DATABASE"));
        assert!(err(Lake::open_at("/tmp", "file", Some("http://x")).await).contains("s3://"));
    }

    #[test]
    fn addresses_round_trip() {
        let s3 = LakeAddress::parse("s3://b/p/q").unwrap();
        assert_eq!(s3, LakeAddress::S3 { bucket: "b".into(), prefix: "p/q".into() });
        assert_eq!(s3.url(), "s3://b/p/q");
        assert_eq!(LakeAddress::parse("s3://b").unwrap().url(), "s3://b");
        assert_eq!(CatalogKind::parse("glue:db").unwrap().name(), "glue:db");
    }
}
