//! Repairs of an Iceberg table, each from a named source and each acting only on what the pass
//! judged (the pointer moves only from the location that was read; an object is replaced only
//! if it is still the version that was judged):
//! - the metadata file the catalog points at damaged in place, in a store with versions → its
//!   newest earlier version that parses, put back at its key;
//! - the catalog pointing at a missing or corrupt metadata file → the newest metadata file of
//!   the table's metadata directory whose metadata tree (manifest list, manifests) reads;
//! - a manifest list or manifest missing or corrupt → its newest earlier object version that
//!   parses (stores with versions; elsewhere there is no source);
//! - a data file missing or damaged → the file healer's restore (an earlier object version,
//!   else the landing copy), the damaged bytes kept in quarantine first;
//! - with `allow_drop` only, a data file no source holds → a snapshot without it (its rows are
//!   reported as dropped; the file stays in storage).

use super::detect::{pointer_location, IcebergFinding, Judged};
use crate::events::RepairAction;
use crate::finding::FindingKind;
use crate::repair::{quarantine, restore, Outcome, RepairContext, Step};
use crate::HealerError;
use lakechaos_lake::iceberg::spec::{FormatVersion, Manifest, ManifestList};
use lakechaos_lake::iceberg::{IcebergError, IcebergTable, Layer, Loaded};
use lakechaos_lake::{Lake, LakeError, TableDef};
use std::collections::BTreeSet;

/// What a repair may use.
pub struct IcebergRepair<'a> {
    pub lake: &'a Lake,
    pub table: &'a IcebergTable,
    /// The metadata the pass read, and the table as the file checks saw it (both absent when
    /// the metadata file itself is the damage).
    pub base: Option<&'a Loaded>,
    pub def: Option<&'a TableDef>,
    pub quarantine_prefix: &'a str,
    pub allow_drop: bool,
}

/// An earlier stored version of a damaged metadata file that parses.
struct EarlierVersion {
    key: String,
    version_id: String,
    data: bytes::Bytes,
    /// The damaged version's token: the restore replaces only that.
    damaged: String,
}

fn lake_err(e: IcebergError) -> HealerError {
    HealerError::Lake(e.into())
}

impl IcebergRepair<'_> {
    /// Runs the playbook for one finding.
    pub async fn run(&self, f: &IcebergFinding) -> Result<Outcome, HealerError> {
        match &f.judged {
            Judged::Pointer { current } => match self.earlier_metadata_version(current).await? {
                Some(earlier) => self.restore_current_metadata(f, earlier).await,
                None => self.repoint(current).await,
            },
            Judged::Object { key, layer: layer @ (Layer::ManifestList | Layer::Manifest), token, .. } => {
                self.restore_metadata_file(f, key, *layer, token.as_deref()).await
            }
            Judged::Object { key, layer: Layer::DataFile, token, location } => {
                self.restore_data_file(f, key, token.as_deref(), location).await
            }
            Judged::Object { key, .. } => {
                Ok(Outcome::Unrepairable { done: Vec::new(), reason: format!("no repair for {key}") })
            }
            Judged::Schema { current, contract_id, current_id } => {
                self.revert_schema(current, *contract_id, *current_id).await
            }
            Judged::Partition { partition } => self.relist_partition(partition).await,
        }
    }

    /// Makes the contract schema current again, when no live data was written with the
    /// schema that replaced it (those rows could not be read back through the contract).
    async fn revert_schema(&self, current: &str, contract_id: i32, current_id: i32) -> Result<Outcome, HealerError> {
        let Some(base) = self.base.filter(|b| b.location == current) else {
            return Err(LakeError::Changed(pointer_location(self.table)).into());
        };
        match self.written_with(base, current_id).await? {
            Some(snapshot) => Ok(Outcome::Unrepairable {
                done: Vec::new(),
                reason: format!(
                    "snapshot {snapshot} wrote data with schema {current_id}; reverting it would hide those rows"
                ),
            }),
            None => {
                let commit =
                    self.table.prepare_metadata(base, |b| b.set_current_schema(contract_id)).map_err(lake_err)?;
                self.table.commit(&commit).await.map_err(lake_err)?;
                Ok(Outcome::Repaired(vec![Step {
                    action: RepairAction::RevertSchema,
                    location: pointer_location(self.table),
                    source: format!("schema {contract_id}"),
                }]))
            }
        }
    }

    /// A live data file's snapshot that was written with schema `schema_id`, if any.
    async fn written_with(&self, base: &Loaded, schema_id: i32) -> Result<Option<i64>, HealerError> {
        let live = self.table.live_files(&base.metadata, None).await.map_err(lake_err)?;
        Ok(live
            .iter()
            .map(|f| f.snapshot_id)
            .find(|s| base.metadata.snapshot_by_id(*s).and_then(|s| s.schema_id()) == Some(schema_id)))
    }

    /// Lists a partition's files again from the newest earlier snapshot that had them, when
    /// every one is still in storage at its recorded size.
    async fn relist_partition(&self, partition: &str) -> Result<Outcome, HealerError> {
        match self.partition_source(partition).await? {
            Err(reason) => Ok(Outcome::Unrepairable { done: Vec::new(), reason }),
            Ok((snapshot, files)) => {
                let base = self.base.expect("partition findings come with the metadata");
                let n = files.len();
                let commit = self.table.prepare_add_existing(base, files).await.map_err(lake_err)?;
                // Only from the metadata this pass read.
                self.table.commit(&commit).await.map_err(lake_err)?;
                Ok(Outcome::Repaired(vec![Step {
                    action: RepairAction::RelistFiles,
                    location: self.def.map(|d| format!("{}/{partition}", d.location)).unwrap_or_default(),
                    source: format!("{n} file(s) as snapshot {snapshot} listed them"),
                }]))
            }
        }
    }

    /// The newest ancestor snapshot listing files of `partition`, all still whole in storage.
    async fn partition_source(
        &self,
        partition: &str,
    ) -> Result<Result<(i64, Vec<lakechaos_lake::iceberg::spec::DataFile>), String>, HealerError> {
        let Some(base) = self.base else { return Ok(Err("the table's metadata cannot be read".into())) };
        let md = &base.metadata;
        let mut at = md.current_snapshot().and_then(|s| s.parent_snapshot_id());
        while let Some(id) = at {
            let Some(snapshot) = md.snapshot_by_id(id) else { break };
            let files = match self.table.live_files(md, Some(snapshot)).await {
                Ok(f) => f,
                Err(e @ (IcebergError::Missing { .. } | IcebergError::Corrupt { .. })) => {
                    return Ok(Err(format!("snapshot {id}: {e}")))
                }
                Err(e) => return Err(lake_err(e)),
            };
            let had: Vec<_> = files.into_iter().filter(|f| f.partition == partition).collect();
            if !had.is_empty() {
                for f in &had {
                    let whole = match self.table.key(f.location()) {
                        Ok(key) => self
                            .lake
                            .store
                            .head(&key)
                            .await?
                            .is_some_and(|m| m.size == f.data_file.file_size_in_bytes()),
                        Err(_) => false,
                    };
                    if !whole {
                        return Ok(Err(format!("{} (listed by snapshot {id}) is gone or resized", f.location())));
                    }
                }
                return Ok(Ok((id, had.into_iter().map(|f| f.data_file).collect())));
            }
            at = snapshot.parent_snapshot_id();
        }
        Ok(Err(format!("no earlier snapshot lists files of {partition}")))
    }

    /// Undoes the append that brought a data file with wrong content, when no source holds it:
    /// the branch goes back to the commit's parent when it is the latest, else a new snapshot
    /// removes exactly the files it added. Its rows were never the table's: nothing committed
    /// before it is lost.
    async fn undo_append(&self, f: &IcebergFinding, why: &str) -> Result<Outcome, HealerError> {
        let (Some(base), Some(live)) = (self.base, f.live.as_ref()) else {
            return Ok(Outcome::Unrepairable { done: Vec::new(), reason: why.to_string() });
        };
        let md = &base.metadata;
        let Some(snapshot) = md.snapshot_by_id(live.snapshot_id) else {
            return Ok(Outcome::Unrepairable { done: Vec::new(), reason: format!("{why}; its snapshot is expired") });
        };
        if snapshot.summary().operation != lakechaos_lake::iceberg::spec::Operation::Append {
            return Ok(Outcome::Unrepairable {
                done: Vec::new(),
                reason: format!("{why}; snapshot {} that wrote it is not an append", snapshot.snapshot_id()),
            });
        }
        if self.table.pointer().await.map_err(lake_err)? != base.location {
            return Err(LakeError::Changed(pointer_location(self.table)).into());
        }
        let (commit, step) =
            match (md.current_snapshot_id() == Some(snapshot.snapshot_id()), snapshot.parent_snapshot_id()) {
                (true, Some(parent)) => (
                    self.table.prepare_set_current(base, parent).map_err(lake_err)?,
                    Step {
                        action: RepairAction::RollbackCommit,
                        location: pointer_location(self.table),
                        source: format!("snapshot {} undone, back to {parent}", snapshot.snapshot_id()),
                    },
                ),
                _ => {
                    let all = self.table.live_files(md, None).await.map_err(lake_err)?;
                    let added: BTreeSet<String> = all
                        .iter()
                        .filter(|x| x.snapshot_id == snapshot.snapshot_id())
                        .map(|x| x.location().to_string())
                        .collect();
                    let n = added.len();
                    (
                        self.table.prepare_rewrite(base, &added, Vec::new()).await.map_err(lake_err)?,
                        Step {
                            action: RepairAction::RevertCommit,
                            location: pointer_location(self.table),
                            source: format!("the {n} file(s) snapshot {} added", snapshot.snapshot_id()),
                        },
                    )
                }
            };
        self.table.commit(&commit).await.map_err(lake_err)?;
        Ok(Outcome::Repaired(vec![step]))
    }

    /// What [`IcebergRepair::run`] would do for a finding, found by reading only: for
    /// `lakehealer heal --dry-run`.
    pub async fn plan(&self, f: &IcebergFinding) -> Result<String, HealerError> {
        Ok(match &f.judged {
            Judged::Pointer { current } => match self.earlier_metadata_version(current).await? {
                Some(e) => format!(
                    "restore {} from its version {} (the damaged bytes kept in quarantine); the pointer stays",
                    e.key, e.version_id
                ),
                None => match self.newest_whole(current).await? {
                    Ok(to) => format!("point {} at {to} (now {current})", pointer_location(self.table)),
                    Err(why) => format!("unrepairable: {why}"),
                },
            },
            Judged::Object { key, layer: Layer::ManifestList | Layer::Manifest, .. } => {
                let store = self.lake.store.as_ref();
                if !store.supports_versions() {
                    format!(
                        "unrepairable: {} keeps no object versions and no other copy of {key} exists",
                        store.describe()
                    )
                } else {
                    let n = store.list_versions(key).await?.iter().filter(|v| !v.is_delete_marker).count();
                    format!("restore {key} from the newest of its {n} stored version(s) that parses (the damaged bytes kept in quarantine)")
                }
            }
            Judged::Schema { contract_id, current_id, .. } => match self.base {
                Some(base) => match self.written_with(base, *current_id).await? {
                    Some(s) => format!("unrepairable: snapshot {s} wrote data with schema {current_id}"),
                    None => format!("commit schema {contract_id} as current again (no live data was written with schema {current_id})"),
                },
                None => "unrepairable: the table's metadata cannot be read".into(),
            },
            Judged::Partition { partition } => match self.partition_source(partition).await? {
                Ok((snapshot, files)) => format!("list the {} file(s) of {partition} again, as snapshot {snapshot} listed them", files.len()),
                Err(why) => format!("unrepairable: {why}"),
            },
            Judged::Object { key, location, .. } => {
                let landing = self
                    .def
                    .and_then(|d| Some((d.landing.as_ref()?, d)))
                    .and_then(|(l, d)| lakechaos_lake::layout::rebase(key, &d.location, l));
                let versions = if self.lake.store.supports_versions() {
                    self.lake.store.list_versions(key).await?.iter().filter(|v| !v.is_delete_marker).count()
                } else {
                    0
                };
                let landing_present = match &landing {
                    Some(l) => self.lake.store.head(l).await?.is_some(),
                    None => false,
                };
                let mut sources = Vec::new();
                if versions > 0 {
                    sources.push(format!("{versions} stored version(s)"));
                }
                if let (Some(l), true) = (&landing, landing_present) {
                    sources.push(format!("the landing copy {l}"));
                }
                match (sources.is_empty(), self.allow_drop) {
                    (false, _) => format!("restore {key} from the first clean of: {} (the damaged bytes kept in quarantine)", sources.join(", ")),
                    (true, true) => format!(
                        "no source for {key}: commit a snapshot without {location}, dropping {} rows (--allow-drop)",
                        f.live.as_ref().map(|l| l.data_file.record_count()).unwrap_or(0)
                    ),
                    (true, false) => format!("unrepairable: no stored version and no landing copy of {key} (--allow-drop would drop its rows)"),
                }
            }
        })
    }

    /// The newest metadata file next to `current` whose tree is whole, or why there is none.
    async fn newest_whole(&self, current: &str) -> Result<Result<String, String>, HealerError> {
        let dir = current.rsplit_once('/').map(|(d, _)| d).unwrap_or(current);
        let probe = self.table.key(&format!("{dir}/x")).map_err(lake_err)?;
        let prefix = probe.strip_suffix('x').unwrap_or(&probe).to_string();
        let current_key = self.table.key(current).ok();
        let mut candidates: Vec<(u64, String)> = Vec::new();
        for obj in self.lake.store.list(&prefix).await? {
            let name = obj.key.rsplit('/').next().unwrap_or_default();
            if !name.ends_with(".metadata.json") || Some(&obj.key) == current_key.as_ref() {
                continue;
            }
            let version = name.split('-').next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            candidates.push((version, obj.key));
        }
        candidates.sort_by(|a, b| b.cmp(a));
        let mut refused = Vec::new();
        for (_, key) in candidates {
            let location = self.table.root.location(&key);
            match self.whole_tree(&location).await? {
                Ok(()) => return Ok(Ok(location)),
                Err(why) => refused.push(why),
            }
        }
        Ok(Err(format!("no intact metadata file in {dir} to point at ({})", refused.join("; "))))
    }

    /// The metadata file the catalog points at, damaged in place (bit rot, a cut-off
    /// re-upload) in a store that keeps versions: its key, its newest earlier version that
    /// parses and whose metadata tree reads (id and bytes), and the damaged version's token.
    /// `None` otherwise: a file never written whole has no such version (a dead commit, which
    /// is repointed instead).
    async fn earlier_metadata_version(&self, current: &str) -> Result<Option<EarlierVersion>, HealerError> {
        let store = self.lake.store.as_ref();
        let Ok(key) = self.table.key(current) else { return Ok(None) };
        if !store.supports_versions() {
            return Ok(None);
        }
        let Some(now) = store.head(&key).await? else { return Ok(None) };
        for v in store.list_versions(&key).await?.iter().filter(|v| !v.is_delete_marker) {
            let data = store.get_version(&key, &v.version_id).await?;
            let Ok(metadata) = lakechaos_lake::iceberg::read::parse_metadata(current, &data) else { continue };
            if self.table.live_files(&metadata, None).await.is_ok() {
                return Ok(Some(EarlierVersion {
                    key,
                    version_id: v.version_id.clone(),
                    data,
                    damaged: now.version_token,
                }));
            }
        }
        Ok(None)
    }

    /// Puts [`IcebergRepair::earlier_metadata_version`]'s version back at its key, the damaged
    /// bytes kept in quarantine first, so the table keeps its last commit.
    async fn restore_current_metadata(
        &self,
        f: &IcebergFinding,
        earlier: EarlierVersion,
    ) -> Result<Outcome, HealerError> {
        let EarlierVersion { key, version_id, data, damaged } = earlier;
        // The quarantine names a table in its reason record; the metadata that would describe
        // it is the damage, so the record names it by its identifier.
        let def = TableDef {
            name: self.table.ident.to_string(),
            location: key.rsplit_once("/metadata/").map(|(t, _)| t.to_string()).unwrap_or_default(),
            partition_keys: Vec::new(),
            columns: Vec::new(),
            partitions: BTreeSet::new(),
            landing: None,
            declared: None,
        };
        let ctx = RepairContext {
            lake: self.lake,
            table: &def,
            quarantine_prefix: self.quarantine_prefix,
            quarantine_store: None,
            judged: Some(&damaged),
        };
        let kept = quarantine::quarantine(&ctx, &key, &f.finding, quarantine::Then::Keep).await?;
        self.lake.store.put_if_version(&key, data, &damaged).await?;
        let restored = Step {
            action: RepairAction::RestoreFromVersion,
            location: key.clone(),
            source: format!("{key} version {version_id}"),
        };
        Ok(Outcome::Repaired(vec![kept, restored]))
    }

    /// Points the catalog at the newest metadata file whose tree is whole.
    async fn repoint(&self, current: &str) -> Result<Outcome, HealerError> {
        match self.newest_whole(current).await? {
            Ok(location) => {
                // Only from the pointer this pass read: a concurrent commit or healer wins.
                self.table.catalog.swap(&self.table.ident, current, &location).await.map_err(lake_err)?;
                Ok(Outcome::Repaired(vec![Step {
                    action: RepairAction::RepointMetadata,
                    location: pointer_location(self.table),
                    source: location,
                }]))
            }
            Err(reason) => Ok(Outcome::Unrepairable { done: Vec::new(), reason }),
        }
    }

    /// Whether the metadata file at `location` and the metadata tree of its current snapshot
    /// (manifest list, manifests) can be read. Its data files are not asked: a damaged data file
    /// is damaged under every metadata file that lists it, and is mended from its own sources;
    /// going back past the commits that added it would only serve fewer committed rows.
    async fn whole_tree(&self, location: &str) -> Result<Result<(), String>, HealerError> {
        let loaded = match self.table.metadata_at(location).await {
            Ok(l) => l,
            Err(e @ (IcebergError::Missing { .. } | IcebergError::Corrupt { .. })) => return Ok(Err(e.to_string())),
            Err(e) => return Err(lake_err(e)),
        };
        match self.table.live_files(&loaded.metadata, None).await {
            Ok(_) => Ok(Ok(())),
            Err(e @ (IcebergError::Missing { .. } | IcebergError::Corrupt { .. })) => {
                Ok(Err(format!("{location}: {e}")))
            }
            Err(e) => Err(lake_err(e)),
        }
    }

    /// Restores a manifest list or manifest from its newest earlier version that parses.
    async fn restore_metadata_file(
        &self,
        f: &IcebergFinding,
        key: &str,
        layer: Layer,
        token: Option<&str>,
    ) -> Result<Outcome, HealerError> {
        let store = self.lake.store.as_ref();
        if !store.supports_versions() {
            return Ok(Outcome::Unrepairable {
                done: Vec::new(),
                reason: format!("{} keeps no object versions and no other copy of {key} exists", store.describe()),
            });
        }
        let version = self.base.map(|b| b.metadata.format_version()).unwrap_or(FormatVersion::V2);
        let mut checked = 0;
        for v in store.list_versions(key).await?.iter().filter(|v| !v.is_delete_marker) {
            checked += 1;
            let data = store.get_version(key, &v.version_id).await?;
            let parses = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match layer {
                Layer::ManifestList => ManifestList::parse_with_version(&data, version).is_ok(),
                _ => Manifest::parse_avro(&data).is_ok(),
            }))
            .unwrap_or(false);
            if !parses {
                continue;
            }
            let mut done = Vec::new();
            match token {
                Some(judged) => {
                    // The damaged bytes are kept before they are replaced, and only that version is.
                    let Some(ctx) = self.ctx(Some(judged)) else {
                        return Ok(Outcome::Unrepairable {
                            done,
                            reason: "the table's metadata cannot be read".into(),
                        });
                    };
                    done.push(quarantine::quarantine(&ctx, key, &f.finding, quarantine::Then::Keep).await?);
                    store.put_if_version(key, data, judged).await?;
                }
                None => {
                    if store.head(key).await?.is_some() {
                        return Err(LakeError::Changed(key.to_string()).into());
                    }
                    store.put(key, data).await?;
                }
            }
            done.push(Step {
                action: RepairAction::RestoreFromVersion,
                location: key.to_string(),
                source: format!("{key} version {}", v.version_id),
            });
            return Ok(Outcome::Repaired(done));
        }
        Ok(Outcome::Unrepairable {
            done: Vec::new(),
            reason: format!("none of {checked} stored version(s) of {key} parses as a {}", layer.name()),
        })
    }

    /// The file playbook's context; `None` when the table's metadata could not be read.
    fn ctx<'b>(&'b self, judged: Option<&'b str>) -> Option<RepairContext<'b>> {
        Some(RepairContext {
            lake: self.lake,
            table: self.def?,
            quarantine_prefix: self.quarantine_prefix,
            quarantine_store: None,
            judged,
        })
    }

    /// Restores a data file (missing, or damaged) from the file healer's sources.
    async fn restore_data_file(
        &self,
        f: &IcebergFinding,
        key: &str,
        token: Option<&str>,
        location: &str,
    ) -> Result<Outcome, HealerError> {
        let (false, Some(ctx)) = (key.is_empty(), self.ctx(token)) else {
            return Ok(Outcome::Unrepairable { done: Vec::new(), reason: f.finding.message.clone() });
        };
        let restored = if f.finding.kind == FindingKind::IcebergFiles && token.is_none() {
            restore::restore(&ctx, key).await?.map(|step| vec![step])
        } else {
            restore::restore_replacing(&ctx, key, &f.finding).await?
        };
        let wrong_content =
            matches!(f.finding.kind, FindingKind::NullFlood | FindingKind::SchemaDrift | FindingKind::RowLoss);
        match restored {
            Ok(steps) => Ok(Outcome::Repaired(steps)),
            Err(no_source) if wrong_content => self.undo_append(f, &no_source.0).await,
            Err(no_source) if self.allow_drop => self.drop_file(f, location, &no_source.0).await,
            Err(no_source) => Ok(Outcome::Unrepairable { done: Vec::new(), reason: no_source.0 }),
        }
    }

    /// Commits a snapshot without the file (`--allow-drop`): the table reads again, without its
    /// rows, which are reported; the file stays in storage.
    async fn drop_file(&self, f: &IcebergFinding, location: &str, why: &str) -> Result<Outcome, HealerError> {
        let Some(base) = self.base else {
            return Ok(Outcome::Unrepairable { done: Vec::new(), reason: why.to_string() });
        };
        // Only from the metadata this pass read.
        if self.table.pointer().await.map_err(lake_err)? != base.location {
            return Err(LakeError::Changed(pointer_location(self.table)).into());
        }
        let rows = f.live.as_ref().map(|l| l.data_file.record_count()).unwrap_or(0);
        let remove = BTreeSet::from([location.to_string()]);
        let commit = self.table.prepare_rewrite(base, &remove, Vec::new()).await.map_err(lake_err)?;
        self.table.commit(&commit).await.map_err(lake_err)?;
        Ok(Outcome::Unrepairable {
            done: vec![Step {
                action: RepairAction::DropFiles,
                location: pointer_location(self.table),
                source: location.to_string(),
            }],
            reason: format!("dropped {rows} rows: {location} is not in the new snapshot ({why})"),
        })
    }
}
