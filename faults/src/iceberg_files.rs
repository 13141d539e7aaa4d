//! Iceberg tables broken in their own tree: a commit that died halfway (the catalog pointing at
//! a metadata file that is missing or corrupt), a manifest list or manifest missing or corrupt,
//! a live data file deleted (an orphan-file cleanup run with a stale view). Planned on the
//! table's current snapshot; the catalog pointer's move is journaled like any object.

use crate::iceberg_commit::{iceberg_err, iceberg_table};
use crate::{
    catalog_location, Change, Fault, FaultClass, FaultContext, FaultError, FaultPlan, Footprint, GroundTruth,
    InvalidParameter,
};
use bytes::Bytes;
use lakechaos_lake::iceberg::{Layer, Loaded};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which file of the tree, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IcebergFilesMode {
    /// The catalog points at a metadata file that was never written.
    MissingMetadata,
    /// The catalog points at a new metadata file whose write was cut off.
    CorruptMetadata,
    /// The metadata file the catalog points at is cut off where it lies (bit rot, a re-upload
    /// cut off): the pointer does not move, the table's last commit is in that file.
    DamagedMetadata,
    /// The current snapshot's manifest list is gone.
    MissingManifestList,
    /// The current snapshot's manifest list is cut off.
    CorruptManifestList,
    /// One manifest of the current snapshot is gone.
    MissingManifest,
    /// One manifest of the current snapshot is cut off.
    CorruptManifest,
    /// One data file live in the current snapshot is gone.
    MissingDataFile,
}

/// `kind: iceberg_files`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcebergFiles {
    /// `missing_metadata`, `corrupt_metadata`, `damaged_metadata`, `missing_manifest_list`,
    /// `corrupt_manifest_list`, `missing_manifest`, `corrupt_manifest` or `missing_data_file`.
    pub mode: IcebergFilesMode,
}

/// The bytes cut off somewhere in their middle third (an interrupted write): never parsable,
/// never empty.
fn cut(bytes: &Bytes, rng: &mut impl Rng) -> Bytes {
    let len = bytes.len();
    let at = rng.random_range(len / 3..=(2 * len / 3).max(len / 3 + 1)).clamp(1, len.saturating_sub(1).max(1));
    bytes.slice(..at)
}

#[async_trait::async_trait]
impl Fault for IcebergFiles {
    fn class(&self) -> FaultClass {
        FaultClass::IcebergFiles
    }

    fn mode(&self) -> String {
        crate::snake_name(&self.mode)
    }

    fn footprint(&self) -> Option<Footprint> {
        match self.mode {
            IcebergFilesMode::MissingDataFile => Some((1, Some(1))),
            // The table's metadata: every row becomes unreadable, though no data file changes.
            _ => None,
        }
    }

    fn validate(&self) -> Result<(), InvalidParameter> {
        Ok(())
    }

    fn needs_iceberg(&self) -> bool {
        true
    }

    fn postgres_skip_reason(&self) -> Option<String> {
        Some("iceberg_files breaks Iceberg tables; PostgreSQL tables have none".into())
    }

    async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        let table = iceberg_table(ctx)?;
        let base = table.current().await.map_err(iceberg_err)?;
        let live = table.live_files(&base.metadata, None).await.map_err(iceberg_err)?;
        if live.is_empty() {
            return Err(FaultError::NotApplicable(format!("table {} has no live data files", table.ident)));
        }
        let all_rows: u64 = live.iter().map(|f| f.data_file.record_count()).sum();
        let mode = self.mode();
        let mut truth = GroundTruth {
            kind: FaultClass::IcebergFiles,
            mode: mode.clone(),
            table: ctx.table.name.clone(),
            partitions: Vec::new(),
            files: Vec::new(),
            columns: Vec::new(),
            catalog: Vec::new(),
            grants: Vec::new(),
            rows_affected: all_rows,
            detail: String::new(),
        };
        let mut changes = Vec::new();
        match self.mode {
            IcebergFilesMode::MissingMetadata | IcebergFilesMode::CorruptMetadata => {
                let after = dead_commit_location(&base, ctx.rng);
                if self.mode == IcebergFilesMode::CorruptMetadata {
                    let current = table.read_file(Layer::Metadata, &base.location).await.map_err(iceberg_err)?;
                    let key = table.key(&after).map_err(iceberg_err)?;
                    changes.push(Change::Object { key, before: None, after: Some(cut(&current, ctx.rng)) });
                }
                changes.push(Change::IcebergPointer {
                    table: table.ident.to_string(),
                    before: base.location.clone(),
                    after: after.clone(),
                });
                truth.catalog.push(catalog_location(&ctx.table.name));
                truth.detail = format!("the catalog points at {after} ({mode})");
            }
            IcebergFilesMode::DamagedMetadata => {
                let bytes = table.read_file(Layer::Metadata, &base.location).await.map_err(iceberg_err)?;
                let key = table.key(&base.location).map_err(iceberg_err)?;
                changes.push(Change::Object {
                    key: key.clone(),
                    before: Some(bytes.clone()),
                    after: Some(cut(&bytes, ctx.rng)),
                });
                // Readers (and healers) meet it as the catalog's pointer to a corrupt file: the
                // catalog entry is where it is detected, the file where it is mended.
                truth.files.push(key);
                truth.catalog.push(catalog_location(&ctx.table.name));
                truth.detail = format!("metadata file {} cut off in place", base.location);
            }
            IcebergFilesMode::MissingManifestList | IcebergFilesMode::CorruptManifestList => {
                let snapshot = base.metadata.current_snapshot().expect("a table with live files has a snapshot");
                let location = snapshot.manifest_list().to_string();
                let bytes = table.read_file(Layer::ManifestList, &location).await.map_err(iceberg_err)?;
                let key = table.key(&location).map_err(iceberg_err)?;
                let after = (self.mode == IcebergFilesMode::CorruptManifestList).then(|| cut(&bytes, ctx.rng));
                changes.push(Change::Object { key: key.clone(), before: Some(bytes), after });
                truth.files.push(key);
                truth.detail = format!("manifest list {location}: {mode}");
            }
            IcebergFilesMode::MissingManifest | IcebergFilesMode::CorruptManifest => {
                let mut manifests: Vec<&str> = live.iter().map(|f| f.manifest.as_str()).collect();
                manifests.sort_unstable();
                manifests.dedup();
                let location = manifests[ctx.rng.random_range(0..manifests.len())].to_string();
                let bytes = table.read_file(Layer::Manifest, &location).await.map_err(iceberg_err)?;
                let key = table.key(&location).map_err(iceberg_err)?;
                let after = (self.mode == IcebergFilesMode::CorruptManifest).then(|| cut(&bytes, ctx.rng));
                changes.push(Change::Object { key: key.clone(), before: Some(bytes), after });
                truth.rows_affected =
                    live.iter().filter(|f| f.manifest == location).map(|f| f.data_file.record_count()).sum();
                truth.files.push(key);
                truth.detail = format!("manifest {location}: {mode}");
            }
            IcebergFilesMode::MissingDataFile => {
                let mut files: Vec<_> = live.iter().collect();
                files.sort_by(|a, b| a.location().cmp(b.location()));
                let file = files[ctx.rng.random_range(0..files.len())];
                let key = table.key(file.location()).map_err(iceberg_err)?;
                let bytes = table.read_file(Layer::DataFile, file.location()).await.map_err(iceberg_err)?;
                changes.push(Change::Object { key: key.clone(), before: Some(bytes), after: None });
                truth.rows_affected = file.data_file.record_count();
                truth.partitions.push(format!("{}/{}", ctx.table.location, file.partition));
                truth.files.push(key);
                truth.detail = format!("live data file {} deleted", file.location());
            }
        }
        Ok(FaultPlan { changes, ground_truth: truth })
    }

    fn examples(_select: &crate::select::Selection) -> Vec<Self> {
        use IcebergFilesMode::*;
        [
            MissingMetadata,
            CorruptMetadata,
            DamagedMetadata,
            MissingManifestList,
            CorruptManifestList,
            MissingManifest,
            CorruptManifest,
            MissingDataFile,
        ]
        .into_iter()
        .map(|mode| IcebergFiles { mode })
        .collect()
    }
}

/// Where a commit that died halfway would have put its metadata file: the next version, with a
/// name drawn from the fault's rng.
fn dead_commit_location(base: &Loaded, rng: &mut impl Rng) -> String {
    let dir = base.location.rsplit_once('/').map(|(d, _)| d).unwrap_or(&base.location);
    let version = base
        .location
        .rsplit('/')
        .next()
        .and_then(|n| n.split('-').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(base.metadata.metadata_log().len() as u64);
    let name: u128 = rng.random();
    format!("{dir}/{:05}-{}.metadata.json", version + 1, uuid_like(name))
}

fn uuid_like(n: u128) -> String {
    let h = format!("{n:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}
