//! Existing-table mode: the scenarios break a table that already exists (`lakechaos run --lake …
//! --table …`) instead of a fixture the run seeds. Someone else's staging table deserves more
//! care than a throwaway lake, so before anything is written the table must be registered, an S3
//! bucket must keep object versions (unless `--allow-unversioned`), a real-AWS lake must pass the
//! aws target's guard, and every fault must stay within the blast radius.

use super::aws_guard::{AwsGuardConfig, AwsRun, GuardError};
use super::Target;
use lakechaos_faults::GroundTruth;
use lakechaos_lake::pg::PgLayout;
use lakechaos_lake::{AwsConnection, Lake, LakeAddress, LakeError};
use std::path::PathBuf;

/// How much of an existing table one fault may touch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlastRadius {
    /// Partitions (default 1).
    pub max_partitions: u32,
    /// Rows made wrong, unreadable or invisible, as a share of the table's rows (default 0.05).
    pub max_rows_fraction: f64,
}

impl Default for BlastRadius {
    fn default() -> Self {
        BlastRadius { max_partitions: 1, max_rows_fraction: 0.05 }
    }
}

impl BlastRadius {
    /// Why a planned fault exceeds the radius on a table of `total_rows`, if it does.
    pub fn exceeded_by(&self, truth: &GroundTruth, total_rows: u64) -> Option<String> {
        let partitions = truth.partitions.len();
        if partitions > self.max_partitions as usize {
            return Some(format!(
                "it would touch {partitions} partition(s) ({}), above --max-partitions {}",
                truth.partitions.join(", "),
                self.max_partitions
            ));
        }
        let allowed = (self.max_rows_fraction * total_rows as f64).floor() as u64;
        (truth.rows_affected > allowed).then(|| {
            // A fault in a table's metadata (an Iceberg commit, its pointer) breaks every reader
            // of the whole table at once: only an explicit radius of the whole table allows it.
            let whole = if truth.rows_affected >= total_rows {
                "; it breaks the whole table for its readers, which only --max-rows-fraction 1 allows"
            } else {
                ""
            };
            format!(
                "it would touch {} of the table's {total_rows} rows ({:.2}%), above --max-rows-fraction {} ({allowed} rows){whole}",
                truth.rows_affected,
                100.0 * truth.rows_affected as f64 / total_rows.max(1) as f64,
                self.max_rows_fraction
            )
        })
    }
}

impl BlastRadius {
    /// [`BlastRadius::exceeded_by`] for a table of day partitions whose golden record says how
    /// many rows each day holds: a fault's rows are those of the days it touches (its count of
    /// rows is known only once its journal tables are written).
    pub fn exceeded_by_days(&self, truth: &GroundTruth, golden: &lakechaos_fixtures::GoldenManifest) -> Option<String> {
        let rows = truth
            .partitions
            .iter()
            .filter_map(|p| p.rsplit('/').next())
            .filter_map(|p| golden.partitions.get(p).map(|d| d.rows))
            .sum();
        self.exceeded_by(&GroundTruth { rows_affected: rows, ..truth.clone() }, golden.total_rows())
    }
}

/// The table a run breaks, and the guard around it.
#[derive(Clone, Debug)]
pub struct ExistingTable {
    /// A directory or `s3://BUCKET/PREFIX`.
    pub address: String,
    /// `file` or `glue:DATABASE`.
    pub catalog: String,
    pub table: String,
    /// An S3-compatible endpoint (an emulator); without one an s3:// lake is real AWS.
    pub endpoint_url: Option<String>,
    pub radius: BlastRadius,
    /// Break a table in a bucket without object versions (the journal is then the only way back).
    pub allow_unversioned: bool,
    /// The aws target's guard configuration, for a lake on real AWS.
    pub aws_config: Option<PathBuf>,
    /// The Lake Formation grants the table's healer keeps (`lakehealer grants --policy`'s
    /// file): given, `permission_drift` may revoke one of them (and the revert grants it back);
    /// without it no grant is ever touched.
    pub lf_policy: Option<PathBuf>,
}

/// Why an existing table may not be broken (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum ExistingError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("table {table} is not registered in the {catalog} catalog of {address}; register it first with `lakehealer discover --lake {address} --catalog {catalog} --table {table}` (nothing was written)")]
    NotRegistered { table: String, catalog: String, address: String },
    #[error("Iceberg table {table} is not in the {catalog} catalog (no metadata location is registered for it; nothing was written)")]
    NotRegisteredIceberg { table: String, catalog: String },
    #[error("bucket {bucket} does not keep object versions, so a revert would rest on the journal alone; enable versioning, or pass --allow-unversioned (nothing was written)")]
    Unversioned { bucket: String },
    #[error("{address} is outside the guard's scope s3://{bucket}/{prefix} ({config}) (nothing was written)")]
    OutOfScope { address: String, bucket: String, prefix: String, config: String },
    #[error("{0} (nothing was written)")]
    Refused(String),
    #[error(transparent)]
    Claim(#[from] super::claim::ClaimError),
}

impl ExistingTable {
    /// The target the table's storage is: a directory is `local`, S3 behind an endpoint
    /// override is an emulator (`moto`), S3 without one is `aws`.
    pub fn target(&self) -> Target {
        if self.is_postgres() {
            return Target::Postgres;
        }
        match (LakeAddress::parse(&self.address), &self.endpoint_url) {
            (Ok(LakeAddress::S3 { .. }), Some(_)) => Target::Moto,
            (Ok(LakeAddress::S3 { .. }), None) => Target::Aws,
            _ => Target::Local,
        }
    }

    /// Whether the table is an Iceberg table: one in an Iceberg SQL catalog, or one named
    /// `DATABASE.TABLE` in a Glue catalog (Glue's own table names hold no dot).
    pub fn is_iceberg(&self) -> bool {
        self.catalog.starts_with("iceberg-sql:") || (self.catalog.starts_with("glue:") && self.table.contains('.'))
    }

    /// The Iceberg table in the opened lake.
    pub fn iceberg_table(&self, lake: &Lake) -> Result<lakechaos_lake::iceberg::IcebergTable, ExistingError> {
        lake.iceberg_table(&self.table)
            .ok_or_else(|| ExistingError::Refused(format!("catalog {} holds no Iceberg tables", self.catalog)))?
            .map_err(|e| ExistingError::Refused(e.to_string()))
    }

    /// Whether the table is a PostgreSQL table (`postgresql://…`).
    pub fn is_postgres(&self) -> bool {
        self.address.starts_with("postgresql://") || self.address.starts_with("postgres://")
    }

    /// Connects to the table's database and finds its layout: `public.<table>` range-partitioned
    /// by day on one timestamp column, and `raw.<table>`, its source of truth, as
    /// `lakehealer`'s PostgreSQL healer expects.
    pub async fn postgres(&self) -> Result<(tokio_postgres::Client, PgLayout), ExistingError> {
        use lakechaos_lake::pg::{introspect, sql_error};
        let client = lakechaos_lake::pg::connect(&self.address, "lakechaos").await?;
        let mut layout = PgLayout { table: self.table.clone(), ..PgLayout::default() };
        let url = &self.address;
        let err = |what: &str, e| ExistingError::Lake(sql_error(url, what, e));
        let served = layout.served();
        match introspect::partition_column(&client, &layout.served_schema, &layout.table)
            .await
            .map_err(|e| err("reading the partitioning", e))?
        {
            Some(column) => layout.partition_column = column,
            None => {
                return Err(ExistingError::Refused(format!(
                    "{served} is not range-partitioned on one column (existing PostgreSQL tables are served \
                     from a table partitioned by day, with raw.{} as its source of truth)",
                    self.table
                )))
            }
        }
        let raw = introspect::columns(&client, &layout.raw_schema, &layout.table)
            .await
            .map_err(|e| err("reading the raw table", e))?;
        if raw.is_empty() {
            return Err(ExistingError::Refused(format!(
                "{} does not exist: it is the source of truth {served} is healed from",
                layout.raw()
            )));
        }
        Ok((client, layout))
    }

    /// How the table's S3 and Glue are reached: the endpoint override with the environment's
    /// credentials (an emulator's test pair when there are none), else the usual AWS sources.
    pub fn connection(&self) -> AwsConnection {
        let mut conn = AwsConnection::from_environment(None, None);
        if let Some(url) = &self.endpoint_url {
            let emulator = AwsConnection::emulator(url);
            conn.endpoint_url = emulator.endpoint_url;
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                conn.static_credentials = emulator.static_credentials;
            }
            conn.region = conn.region.or(std::env::var("AWS_REGION").ok()).or(emulator.region);
        }
        conn
    }

    /// Why `permission_drift` cannot run on this table, if it cannot: it needs the declared
    /// policy and a Glue catalog (Lake Formation governs Glue tables).
    pub fn grants_unavailable(&self) -> Option<String> {
        match (&self.lf_policy, self.catalog.starts_with("glue:")) {
            (Some(_), true) => None,
            (Some(_), false) => Some("Lake Formation governs Glue tables; this table's catalog is not Glue".into()),
            (None, _) => Some(
                "existing-table mode changes no Lake Formation grant unless --lf-policy FILE declares the grants the table's healer keeps".into(),
            ),
        }
    }

    /// What scenarios may need that this table does not offer, with why: their scenarios are
    /// reported skipped.
    pub fn lacking(&self) -> Vec<(crate::scenario::Capability, String)> {
        use crate::scenario::Capability;
        let mut lacking = Vec::new();
        if self.is_iceberg() {
            lacking.push((
                Capability::LakeFormation,
                "existing-table mode changes no Lake Formation grant of an Iceberg table (the Iceberg healer keeps no grants)".to_string(),
            ));
        } else {
            lacking.extend(self.grants_unavailable().map(|why| (Capability::LakeFormation, why)));
            lacking.push((Capability::Iceberg, format!("table {} is not an Iceberg table", self.table)));
        }
        match (LakeAddress::parse(&self.address), self.allow_unversioned) {
            (Ok(LakeAddress::S3 { .. }), false) => {}
            (Ok(LakeAddress::S3 { .. }), true) => lacking.push((
                Capability::ObjectVersions,
                "--allow-unversioned: the bucket need not keep object versions".to_string(),
            )),
            _ => lacking.push((Capability::ObjectVersions, "a directory keeps no object versions".to_string())),
        }
        lacking
    }

    /// The declared grants (`--lf-policy`), if any.
    pub fn declared_grants(&self) -> Result<Vec<lakechaos_lake::Grant>, ExistingError> {
        match &self.lf_policy {
            None => Ok(Vec::new()),
            Some(path) => lakehealer::governance::Policy::load(path)
                .map(|p| p.grants)
                .map_err(|e| ExistingError::Refused(e.to_string())),
        }
    }

    /// Claims the table for run `run`: no other run may break it until the claim is released.
    pub async fn claim(&self, run: &str) -> Result<super::claim::Claim, ExistingError> {
        if self.is_postgres() {
            return Ok(super::claim::claim_postgres(&self.address, &self.table).await?);
        }
        Ok(super::claim::claim_objects(&self.open().await?, &self.table, run).await?)
    }

    /// Refuses when another run holds the table (read-only; a PostgreSQL lock is taken and
    /// given back at once).
    pub async fn check_unclaimed(&self) -> Result<(), ExistingError> {
        if self.is_postgres() {
            return self.claim("check").await.map(drop);
        }
        let lake = self.open().await?;
        match super::claim::holder(&lake, &self.table).await? {
            None => Ok(()),
            Some(r) => Err(super::claim::busy(&self.table, &r).into()),
        }
    }

    /// Opens the lake.
    pub async fn open(&self) -> Result<Lake, ExistingError> {
        let conn = self.connection();
        Ok(Lake::open(&self.address, &self.catalog, &conn).await?)
    }

    /// The checks made before anything is written: the guard (real AWS), the table registered,
    /// the bucket versioned. Returns the opened lake, and the guarded run on AWS.
    pub async fn preflight(&self) -> Result<(Lake, Option<AwsRun>), ExistingError> {
        if self.is_postgres() {
            return Err(ExistingError::Refused("a PostgreSQL table has no object lake".into()));
        }
        let address = LakeAddress::parse(&self.address)?;
        let aws = match (&address, self.target()) {
            (LakeAddress::S3 { bucket, prefix }, Target::Aws) => Some(self.guard(bucket, prefix).await?),
            _ => None,
        };
        let lake = self.open().await?;
        if self.is_iceberg() {
            let table = self.iceberg_table(&lake)?;
            let pointer = table.catalog.pointer(&table.ident).await.map_err(LakeError::from)?;
            if pointer.is_none() {
                return Err(ExistingError::NotRegisteredIceberg {
                    table: self.table.clone(),
                    catalog: self.catalog.clone(),
                });
            }
        } else if lake.catalog.get_table(&self.table).await?.is_none() {
            return Err(ExistingError::NotRegistered {
                table: self.table.clone(),
                catalog: self.catalog.clone(),
                address: self.address.clone(),
            });
        }
        if let LakeAddress::S3 { bucket, .. } = &address {
            let versioned = Lake::bucket_store(&self.connection(), bucket).await.versioning_enabled().await?;
            if !versioned && !self.allow_unversioned {
                return Err(ExistingError::Unversioned { bucket: bucket.clone() });
            }
        }
        Ok((lake, aws))
    }

    /// The aws target's guard: the caller's account allowed, the lake inside the configured
    /// bucket and prefix.
    async fn guard(&self, bucket: &str, prefix: &str) -> Result<AwsRun, ExistingError> {
        let path = self.aws_config.as_deref().ok_or(GuardError::NoConfig)?;
        let config = AwsGuardConfig::load(path)?;
        let scope = config.prefix.trim_matches('/').to_string();
        let inside = prefix == scope || prefix.starts_with(&format!("{scope}/"));
        if config.bucket != bucket || !inside {
            return Err(ExistingError::OutOfScope {
                address: self.address.clone(),
                bucket: config.bucket.clone(),
                prefix: scope,
                config: path.display().to_string(),
            });
        }
        let conn = AwsConnection::from_environment(config.profile.clone(), config.region.clone());
        Ok(AwsRun::check(config, conn, None, &path.display().to_string()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakechaos_faults::FaultClass;

    fn truth(partitions: usize, rows: u64) -> GroundTruth {
        GroundTruth {
            kind: FaultClass::NullFlood,
            mode: "fraction".into(),
            table: "t".into(),
            partitions: (0..partitions).map(|i| format!("t/dt={i}")).collect(),
            files: Vec::new(),
            columns: Vec::new(),
            catalog: Vec::new(),
            grants: Vec::new(),
            rows_affected: rows,
            detail: String::new(),
        }
    }

    #[test]
    fn the_radius_counts_partitions_and_rows() {
        let r = BlastRadius::default();
        assert_eq!(r.exceeded_by(&truth(1, 50), 1000), None);
        assert!(r.exceeded_by(&truth(1, 51), 1000).unwrap().contains("51 of the table's 1000 rows"));
        assert!(r.exceeded_by(&truth(2, 1), 1000).unwrap().contains("--max-partitions 1"));
        // A fault in the catalog alone touches no partition and no row.
        assert_eq!(r.exceeded_by(&truth(0, 0), 0), None);
    }

    #[test]
    fn the_storage_decides_the_target() {
        let t = |address: &str, endpoint: Option<&str>| ExistingTable {
            address: address.into(),
            catalog: "file".into(),
            table: "t".into(),
            endpoint_url: endpoint.map(String::from),
            radius: BlastRadius::default(),
            allow_unversioned: false,
            aws_config: None,
            lf_policy: None,
        };
        assert_eq!(t("/tmp/lake", None).target(), Target::Local);
        assert_eq!(t("s3://b/p", Some("http://127.0.0.1:5000")).target(), Target::Moto);
        assert_eq!(t("s3://b/p", None).target(), Target::Aws);
        assert_eq!(t("postgresql://u@127.0.0.1:5432/db", None).target(), Target::Postgres);
    }
}
