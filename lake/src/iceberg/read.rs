//! Walking an Iceberg table's tree, each file read once and judged by its layer: missing
//! ([`IcebergError::Missing`]) or unparsable ([`IcebergError::Corrupt`]). Parsing hostile bytes
//! never panics the caller: a panic inside the format library is caught and reported as corrupt.

use super::{IcebergError, IcebergTable, Layer};
use crate::LakeError;
use bytes::Bytes;
use iceberg::spec::{
    DataContentType, DataFile, FormatVersion, Manifest, ManifestFile, ManifestList, ManifestStatus, Schema,
    SnapshotRef, TableMetadata,
};
use std::collections::BTreeMap;

/// A metadata file as read: where it is and what it says.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub location: String,
    pub metadata: TableMetadata,
}

/// A data file live in a snapshot, with what the manifest says of it.
#[derive(Clone, Debug)]
pub struct LiveFile {
    /// The manifest that lists it.
    pub manifest: String,
    /// Its data and file sequence numbers and the snapshot that added it (inherited from the
    /// manifest list where the entry leaves them out).
    pub sequence_number: i64,
    pub file_sequence_number: Option<i64>,
    pub snapshot_id: i64,
    /// Its partition as a path (`order_ts_day=2024-03-01`; empty when unpartitioned).
    pub partition: String,
    pub data_file: DataFile,
}

impl LiveFile {
    pub fn location(&self) -> &str {
        self.data_file.file_path()
    }
}

/// Parses with the format library, turning its panics on hostile input into errors.
fn parse<T>(layer: Layer, location: &str, f: impl FnOnce() -> Result<T, iceberg::Error>) -> Result<T, IcebergError> {
    let corrupt = |reason: String| IcebergError::Corrupt { layer, location: location.to_string(), reason };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(corrupt(e.to_string())),
        Err(_) => Err(corrupt("the format library could not parse it".into())),
    }
}

impl IcebergTable {
    /// The bytes at a location, `Missing` for `layer` when absent.
    pub async fn read_file(&self, layer: Layer, location: &str) -> Result<Bytes, IcebergError> {
        // A reference outside the lake is a corrupt reference: the file that made it is wrong.
        let key = self.key(location).map_err(|e| IcebergError::Corrupt {
            layer,
            location: location.to_string(),
            reason: e.to_string(),
        })?;
        match self.store.get(&key).await {
            Ok(bytes) => Ok(bytes),
            Err(LakeError::NotFound(_)) => Err(IcebergError::Missing { layer, location: location.to_string() }),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a location holds an object (a head request, nothing read).
    pub async fn exists(&self, location: &str) -> Result<bool, IcebergError> {
        Ok(self.store.head(&self.key(location)?).await?.is_some())
    }

    /// Parses a metadata file.
    pub async fn metadata_at(&self, location: &str) -> Result<Loaded, IcebergError> {
        let bytes = self.read_file(Layer::Metadata, location).await?;
        let metadata = parse_metadata(location, &bytes)?;
        Ok(Loaded { location: location.to_string(), metadata })
    }

    /// The metadata file the catalog points at.
    pub async fn current(&self) -> Result<Loaded, IcebergError> {
        let location = self.pointer().await?;
        self.metadata_at(&location).await
    }

    /// A snapshot's manifest list.
    pub async fn manifest_list(
        &self,
        md: &TableMetadata,
        snapshot: &SnapshotRef,
    ) -> Result<ManifestList, IcebergError> {
        let location = snapshot.manifest_list();
        let bytes = self.read_file(Layer::ManifestList, location).await?;
        let version = md.format_version();
        parse(Layer::ManifestList, location, || ManifestList::parse_with_version(&bytes, version))
    }

    /// A manifest.
    pub async fn manifest(&self, file: &ManifestFile) -> Result<Manifest, IcebergError> {
        let bytes = self.read_file(Layer::Manifest, &file.manifest_path).await?;
        parse(Layer::Manifest, &file.manifest_path, || Manifest::parse_avro(&bytes))
    }

    /// The data files live in `snapshot` (the current one when `None`), from its manifests.
    /// Delete files are not read (lakechaos writes none; a table that has them is read as its
    /// data files).
    pub async fn live_files(
        &self,
        md: &TableMetadata,
        snapshot: Option<&SnapshotRef>,
    ) -> Result<Vec<LiveFile>, IcebergError> {
        let Some(snapshot) = snapshot.or(md.current_snapshot()) else { return Ok(Vec::new()) };
        let list = self.manifest_list(md, snapshot).await?;
        let mut files = Vec::new();
        for mf in list.entries() {
            let manifest = self.manifest(mf).await?;
            let schema = manifest.metadata().schema().clone();
            let spec = manifest.metadata().partition_spec().clone();
            for entry in manifest.entries() {
                if entry.status() == ManifestStatus::Deleted || entry.content_type() != DataContentType::Data {
                    continue;
                }
                let partition = partition_path(&spec, &schema, entry.data_file().partition());
                files.push(LiveFile {
                    manifest: mf.manifest_path.clone(),
                    sequence_number: entry.sequence_number().unwrap_or(mf.sequence_number),
                    file_sequence_number: entry.file_sequence_number.or(Some(mf.sequence_number)),
                    snapshot_id: entry.snapshot_id().unwrap_or(mf.added_snapshot_id),
                    partition,
                    data_file: entry.data_file().clone(),
                });
            }
        }
        Ok(files)
    }
}

/// Parses a metadata file's JSON (gzip-compressed metadata is refused as unsupported).
pub fn parse_metadata(location: &str, bytes: &[u8]) -> Result<TableMetadata, IcebergError> {
    let corrupt =
        |reason: String| IcebergError::Corrupt { layer: Layer::Metadata, location: location.to_string(), reason };
    let metadata: TableMetadata = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if metadata.format_version() == FormatVersion::V1 {
        return Err(corrupt("format version 1 tables are not supported (version 2 and 3 are)".into()));
    }
    Ok(metadata)
}

/// A partition tuple as a path (`name=value/…`), as Iceberg's writers lay out data files.
pub fn partition_path(spec: &iceberg::spec::PartitionSpec, schema: &Schema, value: &iceberg::spec::Struct) -> String {
    let Ok(partition_type) = spec.partition_type(schema) else { return String::new() };
    let types = partition_type.fields();
    spec.fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let value = value.fields().get(i).and_then(|v| v.as_ref());
            let shown = match types.get(i) {
                Some(t) => field.transform.to_human_string(&t.field_type, value),
                None => "null".to_string(),
            };
            format!("{}={}", field.name, shown)
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The locations of every file the metadata log names, newest first (the current one excluded).
pub fn metadata_log_newest_first(md: &TableMetadata) -> Vec<String> {
    md.metadata_log().iter().rev().map(|l| l.metadata_file.clone()).collect()
}

/// Partitions → rows of the live files (what a reader of the snapshot sees).
pub fn rows_by_partition(files: &[LiveFile]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for f in files {
        *out.entry(f.partition.clone()).or_default() += f.data_file.record_count();
    }
    out
}
