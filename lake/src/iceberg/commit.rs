//! Commits, prepared before they are made: a [`Prepared`] commit is the objects to write (data
//! files, manifests, the manifest list, the new metadata file) and one pointer swap. Faults
//! journal a prepared commit before applying it; the healer re-reads the pointer it judged and
//! swaps from exactly that, so a concurrent commit makes it look again ([`IcebergError::Changed`]).

use super::read::{LiveFile, Loaded};
use super::{IcebergError, IcebergTable};
use bytes::Bytes;
use iceberg::io::FileIO;
use iceberg::spec::{
    DataFile, FormatVersion, ManifestFile, ManifestListWriter, ManifestWriterBuilder, Operation, Schema, Snapshot,
    SnapshotReference, SnapshotRetention, SortOrder, Summary, TableMetadata, TableMetadataBuilder,
    UnboundPartitionSpec, MAIN_BRANCH,
};
use std::collections::{BTreeSet, HashMap};

/// A commit ready to be made.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Objects to write, in order: everything the new metadata file references comes before it.
    pub objects: Vec<(String, Bytes)>,
    /// The pointer the commit swaps from (`None`: the commit creates the table).
    pub before: Option<String>,
    /// The pointer after the commit.
    pub after: String,
    /// The new metadata (`None` when the commit only moves the pointer to an existing file).
    pub metadata: Option<TableMetadata>,
}

/// A data file to add: its key in the store, its bytes and its entry.
pub type NewDataFile = (String, Bytes, DataFile);

fn failed(what: &str) -> impl Fn(iceberg::Error) -> IcebergError + '_ {
    move |e| super::error::writing(what, e)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A fresh snapshot id: positive, from a random UUID.
fn new_snapshot_id() -> i64 {
    (uuid::Uuid::new_v4().as_u64_pair().0 >> 1) as i64
}

/// The metadata file after `current`: `metadata/NNNNN-UUID.metadata.json`, the version one more
/// than the current file's (or than the log's length when the name does not say).
fn next_metadata_location(table_location: &str, current: Option<&str>, log_len: usize) -> String {
    let version = current
        .and_then(|c| c.rsplit('/').next())
        .and_then(|name| name.split('-').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(log_len as u64);
    format!(
        "{}/metadata/{:05}-{}.metadata.json",
        table_location.trim_end_matches('/'),
        version + 1,
        uuid::Uuid::new_v4()
    )
}

impl IcebergTable {
    /// Makes a prepared commit: writes its objects, then swaps the pointer (or registers the
    /// table). A swap refused because the pointer moved leaves the written objects as orphans
    /// (never referenced), as every Iceberg writer does.
    pub async fn commit(&self, prepared: &Prepared) -> Result<(), IcebergError> {
        for (key, bytes) in &prepared.objects {
            self.store.put(key, bytes.clone()).await?;
        }
        match &prepared.before {
            Some(before) => self.catalog.swap(&self.ident, before, &prepared.after).await,
            None => self.catalog.create(&self.ident, &prepared.after).await,
        }
    }

    /// A new format-2 table at `table_key` with `schema` and `spec`.
    pub fn prepare_create(
        &self,
        table_key: &str,
        schema: Schema,
        spec: UnboundPartitionSpec,
        properties: HashMap<String, String>,
    ) -> Result<Prepared, IcebergError> {
        let location = self.root.location(table_key);
        let result = TableMetadataBuilder::new(
            schema,
            spec,
            SortOrder::unsorted_order(),
            location.clone(),
            FormatVersion::V2,
            properties,
        )
        .and_then(|b| b.build())
        .map_err(failed("table metadata"))?;
        let after = next_metadata_location(&location, None, 0);
        let bytes =
            Bytes::from(serde_json::to_vec(&result.metadata).map_err(|e| IcebergError::Unsupported(e.to_string()))?);
        Ok(Prepared { objects: vec![(self.key(&after)?, bytes)], before: None, after, metadata: Some(result.metadata) })
    }

    /// A metadata change with no new snapshot (a schema, a ref, properties): `change` edits a
    /// builder from the base.
    pub fn prepare_metadata(
        &self,
        base: &Loaded,
        change: impl FnOnce(TableMetadataBuilder) -> iceberg::Result<TableMetadataBuilder>,
    ) -> Result<Prepared, IcebergError> {
        let builder = base.metadata.clone().into_builder(Some(base.location.clone()));
        let metadata = change(builder).and_then(|b| b.build()).map_err(failed("table metadata"))?.metadata;
        self.with_metadata(base, metadata, Vec::new())
    }

    /// Points `main` at `snapshot_id` (an earlier snapshot: a rollback).
    pub fn prepare_set_current(&self, base: &Loaded, snapshot_id: i64) -> Result<Prepared, IcebergError> {
        self.prepare_metadata(base, |b| {
            b.set_ref(MAIN_BRANCH, SnapshotReference::new(snapshot_id, SnapshotRetention::branch(None, None, None)))
        })
    }

    /// Moves the pointer from `current` back to an existing metadata file, writing nothing.
    pub fn prepare_pointer(&self, current: &str, to: &str) -> Prepared {
        Prepared { objects: Vec::new(), before: Some(current.to_string()), after: to.to_string(), metadata: None }
    }

    /// Appends data files in a new snapshot: the parent's manifests stay, one manifest is added.
    pub async fn prepare_append(&self, base: &Loaded, files: Vec<NewDataFile>) -> Result<Prepared, IcebergError> {
        let md = &base.metadata;
        let carried = match md.current_snapshot() {
            Some(s) => self.manifest_list(md, s).await?.consume_entries().into_iter().collect(),
            None => Vec::new(),
        };
        self.prepare_snapshot(base, carried, &[], files, Vec::new(), Operation::Append).await
    }

    /// Appends data files that are already in storage (their entries as an earlier snapshot
    /// listed them), writing no data: what a commit removed, listed again.
    pub async fn prepare_add_existing(&self, base: &Loaded, files: Vec<DataFile>) -> Result<Prepared, IcebergError> {
        let md = &base.metadata;
        let carried = match md.current_snapshot() {
            Some(s) => self.manifest_list(md, s).await?.consume_entries().into_iter().collect(),
            None => Vec::new(),
        };
        self.prepare_snapshot(base, carried, &[], Vec::new(), files, Operation::Append).await
    }

    /// A new snapshot without the live data files at `remove` (their entries marked deleted),
    /// plus `add`: an overwrite, or a delete when nothing is added.
    pub async fn prepare_rewrite(
        &self,
        base: &Loaded,
        remove: &BTreeSet<String>,
        add: Vec<NewDataFile>,
    ) -> Result<Prepared, IcebergError> {
        let live = self.live_files(&base.metadata, None).await?;
        let missing: Vec<&String> =
            remove.iter().filter(|r| !live.iter().any(|f| f.location() == r.as_str())).collect();
        if !missing.is_empty() {
            return Err(IcebergError::Unsupported(format!("not live in the current snapshot: {missing:?}")));
        }
        let operation = if add.is_empty() { Operation::Delete } else { Operation::Overwrite };
        self.prepare_snapshot(base, Vec::new(), &live_with(live, remove), add, Vec::new(), operation).await
    }

    /// A new snapshot of `carried` manifests, one manifest of `rewritten` entries (kept as
    /// existing or marked deleted), and one of `added` files (written) and `relisted` ones
    /// (already in storage).
    async fn prepare_snapshot(
        &self,
        base: &Loaded,
        carried: Vec<ManifestFile>,
        rewritten: &[(LiveFile, bool)],
        added: Vec<NewDataFile>,
        relisted: Vec<DataFile>,
        operation: Operation,
    ) -> Result<Prepared, IcebergError> {
        let md = &base.metadata;
        if md.format_version() != FormatVersion::V2 {
            return Err(IcebergError::Unsupported(format!(
                "commits to format version {} tables are not supported (version 2 is)",
                md.format_version()
            )));
        }
        let schema = md.current_schema().clone();
        let spec = md.default_partition_spec().as_ref().clone();
        let snapshot_id = new_snapshot_id();
        let sequence = md.next_sequence_number();
        let parent = md.current_snapshot_id();
        let table = md.location().trim_end_matches('/');
        let io = FileIO::new_with_memory();
        let mut objects = Vec::new();
        let mut manifests = carried;

        if !rewritten.is_empty() {
            let location = format!("{table}/metadata/{}-m0.avro", uuid::Uuid::new_v4());
            let out = io.new_output(&location).map_err(failed("manifest"))?;
            let mut writer =
                ManifestWriterBuilder::new(out, Some(snapshot_id), schema.clone(), spec.clone()).build_v2_data();
            for (f, removed) in rewritten {
                let df = f.data_file.clone();
                if *removed {
                    writer.add_delete_file(df, f.sequence_number, f.file_sequence_number)
                } else {
                    writer.add_existing_file(df, f.snapshot_id, f.sequence_number, f.file_sequence_number)
                }
                .map_err(failed("manifest entry"))?;
            }
            manifests.push(writer.write_manifest_file().await.map_err(failed("manifest"))?);
            objects.push((
                self.key(&location)?,
                io.new_input(&location).map_err(failed("manifest"))?.read().await.map_err(failed("manifest"))?,
            ));
        }
        let (mut added_files, mut added_rows) = (0u64, 0u64);
        if !added.is_empty() || !relisted.is_empty() {
            let location = format!("{table}/metadata/{}-m1.avro", uuid::Uuid::new_v4());
            let out = io.new_output(&location).map_err(failed("manifest"))?;
            let mut writer =
                ManifestWriterBuilder::new(out, Some(snapshot_id), schema.clone(), spec.clone()).build_v2_data();
            for (key, bytes, df) in added {
                added_files += 1;
                added_rows += df.record_count();
                writer.add_file(df, sequence).map_err(failed("manifest entry"))?;
                objects.insert(0, (key, bytes));
            }
            for df in relisted {
                added_files += 1;
                added_rows += df.record_count();
                writer.add_file(df, sequence).map_err(failed("manifest entry"))?;
            }
            manifests.push(writer.write_manifest_file().await.map_err(failed("manifest"))?);
            objects.push((
                self.key(&location)?,
                io.new_input(&location).map_err(failed("manifest"))?.read().await.map_err(failed("manifest"))?,
            ));
        }

        let list_location = format!("{table}/metadata/snap-{snapshot_id}-1-{}.avro", uuid::Uuid::new_v4());
        let out = io.new_output(&list_location).map_err(failed("manifest list"))?;
        let mut list =
            ManifestListWriter::v2(out.writer().await.map_err(failed("manifest list"))?, snapshot_id, parent, sequence);
        list.add_manifests(manifests.into_iter()).map_err(failed("manifest list"))?;
        list.close().await.map_err(failed("manifest list"))?;
        let list_bytes = io
            .new_input(&list_location)
            .map_err(failed("manifest list"))?
            .read()
            .await
            .map_err(failed("manifest list"))?;
        objects.push((self.key(&list_location)?, list_bytes));

        let summary = Summary {
            operation,
            additional_properties: HashMap::from([
                ("added-data-files".to_string(), added_files.to_string()),
                ("added-records".to_string(), added_rows.to_string()),
                ("deleted-data-files".to_string(), rewritten.iter().filter(|(_, r)| *r).count().to_string()),
            ]),
        };
        let snapshot = Snapshot::builder()
            .with_snapshot_id(snapshot_id)
            .with_parent_snapshot_id(parent)
            .with_sequence_number(sequence)
            .with_timestamp_ms(now_ms().max(md.last_updated_ms()))
            .with_manifest_list(list_location)
            .with_summary(summary)
            .with_schema_id(md.current_schema_id())
            .build();
        let metadata = md
            .clone()
            .into_builder(Some(base.location.clone()))
            .set_branch_snapshot(snapshot, MAIN_BRANCH)
            .and_then(|b| b.build())
            .map_err(failed("table metadata"))?
            .metadata;
        self.with_metadata(base, metadata, objects)
    }

    /// Adds the new metadata file to `objects` (last) and names the swap.
    fn with_metadata(
        &self,
        base: &Loaded,
        metadata: TableMetadata,
        mut objects: Vec<(String, Bytes)>,
    ) -> Result<Prepared, IcebergError> {
        let after = next_metadata_location(metadata.location(), Some(&base.location), metadata.metadata_log().len());
        let bytes = Bytes::from(serde_json::to_vec(&metadata).map_err(|e| IcebergError::Unsupported(e.to_string()))?);
        objects.push((self.key(&after)?, bytes));
        Ok(Prepared { objects, before: Some(base.location.clone()), after, metadata: Some(metadata) })
    }
}

/// Every live file, marked whether it is removed.
fn live_with(live: Vec<LiveFile>, remove: &BTreeSet<String>) -> Vec<(LiveFile, bool)> {
    live.into_iter()
        .map(|f| {
            let removed = remove.contains(f.location());
            (f, removed)
        })
        .collect()
}
