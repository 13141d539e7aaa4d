//! Opening a lake from the addresses users give on the command line: a directory or
//! `s3://BUCKET/PREFIX`, with the file catalog or `glue:DATABASE`.

use crate::HealerError;
use lakechaos_lake::{AwsConnection, Catalog, FileCatalog, GlueCatalog, Lake, S3Store};
use std::path::Path;
use std::sync::Arc;

/// Opens a lake. `catalog` is `file` (JSON documents under `_catalog/` in the lake) or
/// `glue:DATABASE`. For S3, credentials and region come from the usual AWS sources (environment,
/// profile); `endpoint_url` points at an emulator or a compatible store.
pub async fn open(lake: &str, catalog: &str, endpoint_url: Option<&str>) -> Result<Lake, HealerError> {
    let conn = AwsConnection { endpoint_url: endpoint_url.map(str::to_string), ..Default::default() };
    if S3Store::parse_url(lake).is_none() && endpoint_url.is_some() {
        return Err(HealerError::Invalid("--endpoint-url applies to s3:// lakes only".into()));
    }
    open_with(lake, catalog, &conn).await
}

/// [`open`] with a given AWS connection (credentials, region, endpoint) for S3 lakes.
pub async fn open_with(lake: &str, catalog: &str, conn: &AwsConnection) -> Result<Lake, HealerError> {
    if let Some((bucket, prefix)) = S3Store::parse_url(lake) {
        let conn = conn.clone();
        let store = Arc::new(S3Store::connect(&conn, &bucket, &prefix).await);
        let catalog: Arc<dyn Catalog> = match catalog_kind(catalog)? {
            None => Arc::new(FileCatalog::new(store.clone())),
            Some(db) => {
                let root = if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
                Arc::new(GlueCatalog::connect(&conn, db, &root).await)
            }
        };
        return Ok(Lake { store, catalog });
    }
    if lake.starts_with("s3://") {
        return Err(HealerError::Invalid(format!("{lake:?} is not an S3 address (expected s3://BUCKET/PREFIX)")));
    }
    if catalog_kind(catalog)?.is_some() {
        return Err(HealerError::Invalid("a Glue catalog needs an s3:// lake".into()));
    }
    let dir = Path::new(lake);
    if !dir.is_dir() {
        return Err(HealerError::Invalid(format!("lake directory {} does not exist", dir.display())));
    }
    Ok(Lake::open_local(dir)?)
}

/// `None` for the file catalog, `Some(database)` for Glue.
fn catalog_kind(catalog: &str) -> Result<Option<&str>, HealerError> {
    match catalog {
        "file" => Ok(None),
        c => match c.strip_prefix("glue:") {
            Some(db) if !db.is_empty() => Ok(Some(db)),
            _ => Err(HealerError::Invalid(format!("--catalog {c:?}: expected `file` or `glue:DATABASE`"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bad_addresses_are_named() {
        let err = |r: Result<Lake, HealerError>| r.unwrap_err().to_string();
        assert!(err(open("/no/such/dir", "file", None).await).contains("/no/such/dir"));
        assert!(err(open("s3://", "file", None).await).contains("s3://BUCKET"));
        assert!(err(open("/tmp", "glue:db", None).await).contains("s3://"));
        assert!(err(open("/tmp", "hive", None).await).contains("glue:DATABASE"));
        assert!(err(open("/tmp", "file", Some("http://x")).await).contains("s3://"));
    }
}
