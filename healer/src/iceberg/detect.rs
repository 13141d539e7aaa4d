//! Detection on an Iceberg table, tiered so that cost grows with files, not bytes:
//! 1. **listing** — the catalog's pointer, the metadata file, the current snapshot's manifest
//!    list and manifests parse, and every live data file exists with the size its manifest
//!    records (no data file opened);
//! 2. **statistics** — null counts per column from the manifests against the contract's
//!    allowance (a flood seen without reading data);
//! 3. **footer** and 4. **pages** — each data file through the file healer's checks, once per
//!    version of it (verdicts are kept by version token).
//!
//! A layer that cannot be read hides what is under it: a missing manifest list is one finding,
//! not one per data file.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use crate::{Depth, HealerError};
use lakechaos_lake::iceberg::spec::{Datum, Literal, Manifest, ManifestFile, ManifestStatus, TableMetadata};
use lakechaos_lake::iceberg::{IcebergError, IcebergTable, Layer, LiveFile, Loaded};
use lakechaos_lake::TableDef;
use std::collections::{BTreeSet, HashMap};

/// What a finding was judged on, so a repair acts only on that.
#[derive(Clone, Debug, PartialEq)]
pub enum Judged {
    /// The catalog's pointer, as read.
    Pointer { current: String },
    /// An object of the tree (`token` is its version token; `None` when it was missing).
    Object { key: String, layer: Layer, token: Option<String>, location: String },
    /// The current schema is not the contract's (`current` is the metadata location read).
    Schema { current: String, contract_id: i32, current_id: i32 },
    /// A partition the landing copy has and the current snapshot does not.
    Partition { partition: String },
}

/// A finding, with what a repair needs.
#[derive(Clone, Debug)]
pub struct IcebergFinding {
    pub finding: Finding,
    pub judged: Judged,
    /// For data files: the live file as its manifest lists it.
    pub live: Option<LiveFile>,
}

/// One detection pass.
#[derive(Debug, Default)]
pub struct Detection {
    pub findings: Vec<IcebergFinding>,
    /// The metadata read (when it could be).
    pub base: Option<Loaded>,
    /// The table as the file checks see it (when the metadata could be read).
    pub table: Option<TableDef>,
    pub files_checked: usize,
    pub footers_read: usize,
    pub pages_decoded: usize,
    pub bytes_read: u64,
}

/// Verdicts of the footer and pages tiers, by (key, version token): unchanged files are not
/// read again.
pub type Verdicts = HashMap<(String, String), Option<Finding>>;

/// How the pointer of `table` is named as a location: `catalog:NAMESPACE.TABLE`.
pub fn pointer_location(table: &IcebergTable) -> String {
    format!("catalog:{}", table.ident)
}

fn tree_finding(table: &IcebergTable, location: String, message: String) -> Finding {
    Finding {
        kind: FindingKind::IcebergFiles,
        table: table.ident.to_string(),
        location,
        tier: Tier::Listing,
        evidence: Evidence::Unreadable { reason: message.clone() },
        message,
    }
}

/// A layer's missing or corrupt file as a finding (a corrupt one with the version judged);
/// other errors stop the pass.
async fn layer_finding(table: &IcebergTable, current: &str, e: IcebergError) -> Result<IcebergFinding, HealerError> {
    let (Some(layer), Some(location)) = (e.layer(), e.location().map(str::to_string)) else {
        return Err(HealerError::Lake(e.into()));
    };
    let Ok(key) = table.key(&location) else {
        // The metadata points outside the lake: the metadata file itself is what is wrong.
        return Ok(pointer_finding(table, current, format!("the current metadata references a {e}")));
    };
    let token = match e {
        IcebergError::Corrupt { .. } => table.store.head(&key).await?.map(|m| m.version_token),
        _ => None,
    };
    Ok(IcebergFinding {
        finding: tree_finding(table, key.clone(), e.to_string()),
        judged: Judged::Object { key, layer, token, location },
        live: None,
    })
}

/// The catalog's pointer judged wrong: the metadata it points at cannot be used.
fn pointer_finding(table: &IcebergTable, current: &str, message: String) -> IcebergFinding {
    IcebergFinding {
        finding: tree_finding(table, pointer_location(table), message),
        judged: Judged::Pointer { current: current.to_string() },
        live: None,
    }
}

/// Detects damage in `table` down to `depth`.
pub async fn detect(table: &IcebergTable, depth: Depth, verdicts: &mut Verdicts) -> Result<Detection, HealerError> {
    let mut d = Detection::default();
    let lake_err = |e: IcebergError| HealerError::Lake(e.into());
    let current = table.pointer().await.map_err(lake_err)?;
    let base = match table.metadata_at(&current).await {
        Ok(base) => base,
        Err(e @ (IcebergError::Missing { .. } | IcebergError::Corrupt { .. })) => {
            d.findings.push(pointer_finding(table, &current, format!("the catalog points at a {e}")));
            return Ok(d);
        }
        Err(e) => return Err(lake_err(e)),
    };
    let live = match live_files(table, &current, &base.metadata, &mut d).await? {
        Some(live) => live,
        None => {
            d.base = Some(base);
            return Ok(d);
        }
    };
    let partitions: BTreeSet<String> = live.iter().map(|f| f.partition.clone()).collect();
    let def = match table.table_def(&base.metadata, partitions.clone()) {
        Ok(def) => def,
        Err(e) => {
            d.findings.push(pointer_finding(table, &current, format!("the current metadata is unusable: {e}")));
            d.base = Some(base);
            return Ok(d);
        }
    };
    if let Some(f) = schema_drift(table, &base) {
        d.findings.push(f);
    }
    for f in missing_partitions(table, &def, &partitions).await? {
        d.findings.push(f);
    }

    for f in &live {
        d.files_checked += 1;
        let key = match table.key(f.location()) {
            Ok(k) => k,
            Err(e) => {
                let message = format!("data file {}: {e}", f.location());
                d.findings.push(data_finding(table, f, String::new(), None, message, FindingKind::IcebergFiles));
                continue;
            }
        };
        // Tier 1: the file is there, at the size its manifest records.
        let Some(meta) = table.store.head(&key).await? else {
            let message = format!("data file {} is missing (its manifest lists it)", f.location());
            d.findings.push(data_finding(table, f, key, None, message, FindingKind::IcebergFiles));
            continue;
        };
        if meta.size != f.data_file.file_size_in_bytes() {
            let message = format!(
                "data file {} is {} bytes; its manifest records {}",
                f.location(),
                meta.size,
                f.data_file.file_size_in_bytes()
            );
            d.findings.push(data_finding(
                table,
                f,
                key,
                Some(meta.version_token),
                message,
                FindingKind::CorruptParquet,
            ));
            continue;
        }
        // Tier 2: the manifest's null counts against the contract.
        if let Some(finding) = null_flood(table, &def, &base.metadata, f, &key) {
            d.findings.push(IcebergFinding {
                finding,
                judged: Judged::Object {
                    key: key.clone(),
                    layer: Layer::DataFile,
                    token: Some(meta.version_token.clone()),
                    location: f.location().to_string(),
                },
                live: Some(f.clone()),
            });
            continue;
        }
        if depth < Depth::Footer {
            continue;
        }
        // Tiers 3 and 4: the file itself, once per version.
        let id = (key.clone(), meta.version_token.clone());
        if !verdicts.contains_key(&id) {
            let bytes = table.store.get(&key).await?;
            d.bytes_read += bytes.len() as u64;
            d.footers_read += 1;
            d.pages_decoded += usize::from(depth >= Depth::Pages);
            let verdict = crate::detect::check_bytes(&def, &key, bytes).await?;
            verdicts.insert(id.clone(), verdict);
        }
        if let Some(finding) = verdicts[&id].clone() {
            d.findings.push(IcebergFinding {
                finding,
                judged: Judged::Object {
                    key,
                    layer: Layer::DataFile,
                    token: Some(meta.version_token),
                    location: f.location().to_string(),
                },
                live: Some(f.clone()),
            });
        }
    }
    let live_keys: BTreeSet<String> = live.iter().filter_map(|f| table.key(f.location()).ok()).collect();
    verdicts.retain(|(k, _), _| live_keys.contains(k));
    d.base = Some(base);
    d.table = Some(def);
    Ok(d)
}

/// The current snapshot's live files, or `None` with the unreadable layers' findings in `d`.
async fn live_files(
    table: &IcebergTable,
    current: &str,
    md: &TableMetadata,
    d: &mut Detection,
) -> Result<Option<Vec<LiveFile>>, HealerError> {
    let Some(snapshot) = md.current_snapshot() else { return Ok(Some(Vec::new())) };
    let list = match table.manifest_list(md, snapshot).await {
        Ok(l) => l,
        Err(e) => {
            d.findings.push(layer_finding(table, current, e).await?);
            return Ok(None);
        }
    };
    // Each manifest on its own: one missing manifest does not hide the others' files.
    let mut broken = false;
    for mf in list.entries() {
        match table.manifest(mf).await {
            Err(e) => {
                d.findings.push(layer_finding(table, current, e).await?);
                broken = true;
            }
            // A manifest that parses but disagrees with what its manifest list recorded of it
            // (entry counts, rows, partition bounds) was changed after it was written.
            Ok(manifest) => {
                if let Some(why) = disagreement(mf, &manifest) {
                    let e = IcebergError::Corrupt {
                        layer: Layer::Manifest,
                        location: mf.manifest_path.clone(),
                        reason: format!("it disagrees with its manifest list: {why}"),
                    };
                    d.findings.push(layer_finding(table, current, e).await?);
                    broken = true;
                }
            }
        }
    }
    if broken {
        return Ok(None);
    }
    match table.live_files(md, Some(snapshot)).await {
        Ok(files) => Ok(Some(files)),
        Err(e) => {
            d.findings.push(layer_finding(table, current, e).await?);
            Ok(None)
        }
    }
}

/// How a manifest differs from what its manifest list says of it, if it does: entry counts by
/// status, rows, and each partition value within the list's bounds for its field.
fn disagreement(mf: &ManifestFile, manifest: &Manifest) -> Option<String> {
    let (mut added, mut existing, mut deleted) = (0u64, 0u64, 0u64);
    let (mut added_rows, mut existing_rows) = (0u64, 0u64);
    for e in manifest.entries() {
        match e.status() {
            ManifestStatus::Added => {
                added += 1;
                added_rows += e.record_count();
            }
            ManifestStatus::Existing => {
                existing += 1;
                existing_rows += e.record_count();
            }
            ManifestStatus::Deleted => deleted += 1,
        }
    }
    let recorded = [
        ("added files", mf.added_files_count.map(u64::from), added),
        ("existing files", mf.existing_files_count.map(u64::from), existing),
        ("deleted files", mf.deleted_files_count.map(u64::from), deleted),
        ("added rows", mf.added_rows_count, added_rows),
        ("existing rows", mf.existing_rows_count, existing_rows),
    ];
    for (what, listed, counted) in recorded {
        if listed.is_some_and(|l| l != counted) {
            return Some(format!(
                "{what}: the list records {}, the manifest has {counted}",
                listed.unwrap_or_default()
            ));
        }
    }
    let summaries = mf.partitions.as_ref()?;
    let metadata = manifest.metadata();
    let types = metadata.partition_spec().partition_type(metadata.schema()).ok()?;
    for e in manifest.entries().iter().filter(|e| e.is_alive()) {
        for (i, value) in e.data_file().partition().fields().iter().enumerate() {
            let (Some(Literal::Primitive(v)), Some(summary), Some(field)) =
                (value, summaries.get(i), types.fields().get(i))
            else {
                continue;
            };
            let Some(t) = field.field_type.as_primitive_type() else { continue };
            let lower = summary.lower_bound.as_deref().and_then(|b| Datum::try_from_bytes(b, t.clone()).ok());
            let upper = summary.upper_bound.as_deref().and_then(|b| Datum::try_from_bytes(b, t.clone()).ok());
            let below = lower.is_some_and(|l| v < l.literal());
            let above = upper.is_some_and(|u| v > u.literal());
            if below || above {
                return Some(format!(
                    "{}'s partition {} is outside the bounds the list records",
                    e.file_path(),
                    field.name
                ));
            }
        }
    }
    None
}

fn data_finding(
    table: &IcebergTable,
    f: &LiveFile,
    key: String,
    token: Option<String>,
    message: String,
    kind: FindingKind,
) -> IcebergFinding {
    let mut finding = tree_finding(table, key.clone(), message);
    finding.kind = kind;
    IcebergFinding {
        finding,
        judged: Judged::Object { key, layer: Layer::DataFile, token, location: f.location().to_string() },
        live: Some(f.clone()),
    }
}

/// The current schema against the contract's: a committed change readers see.
fn schema_drift(table: &IcebergTable, base: &Loaded) -> Option<IcebergFinding> {
    use lakechaos_lake::iceberg::data_file::contract_of;
    let md = &base.metadata;
    let contract_schema = IcebergTable::contract_schema(md);
    let props = md.properties();
    let (want, have) = (contract_of(contract_schema, props), contract_of(md.current_schema(), props));
    if want == have {
        return None;
    }
    let name = |c: &lakechaos_lake::ColumnDef| format!("{} {}", c.name, c.data_type);
    let missing: Vec<String> = want.iter().filter(|c| !have.contains(c)).map(name).collect();
    let extra: Vec<String> = have.iter().filter(|c| !want.contains(c)).map(name).collect();
    let differences =
        format!("schema {} lacks [{}], has [{}] instead", md.current_schema_id(), missing.join(", "), extra.join(", "));
    Some(IcebergFinding {
        finding: Finding {
            kind: FindingKind::SchemaDrift,
            table: table.ident.to_string(),
            location: pointer_location(table),
            tier: Tier::Listing,
            message: format!(
                "the current schema is not the contract (schema {}): {differences}",
                contract_schema.schema_id()
            ),
            evidence: Evidence::CatalogSchema { differences },
        },
        judged: Judged::Schema {
            current: base.location.clone(),
            contract_id: contract_schema.schema_id(),
            current_id: md.current_schema_id(),
        },
        live: None,
    })
}

/// Partitions the landing copy holds that the current snapshot lacks.
async fn missing_partitions(
    table: &IcebergTable,
    def: &TableDef,
    live: &BTreeSet<String>,
) -> Result<Vec<IcebergFinding>, HealerError> {
    let Some(landing) = &def.landing else { return Ok(Vec::new()) };
    let prefix = format!("{}/", landing.trim_end_matches('/'));
    let mut expected: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for obj in table.store.list(&prefix).await? {
        let Some((partition, file)) = obj.key[prefix.len()..].rsplit_once('/') else { continue };
        if file.ends_with(".parquet") {
            expected.entry(partition.to_string()).or_default().push(file.to_string());
        }
    }
    Ok(expected
        .into_iter()
        .filter(|(p, _)| !live.contains(p))
        .map(|(partition, missing_files)| {
            let location = format!("{}/{partition}", def.location);
            IcebergFinding {
                finding: Finding {
                    kind: FindingKind::MissingPartition,
                    table: table.ident.to_string(),
                    message: format!("partition {partition} is in the landing copy but not in the current snapshot"),
                    location,
                    tier: Tier::Listing,
                    evidence: Evidence::Partition {
                        partition: partition.clone(),
                        registered: false,
                        missing_files,
                        has_data: false,
                    },
                },
                judged: Judged::Partition { partition },
                live: None,
            }
        })
        .collect())
}

/// A data file whose manifest statistics show more nulls than the contract allows.
fn null_flood(table: &IcebergTable, def: &TableDef, md: &TableMetadata, f: &LiveFile, key: &str) -> Option<Finding> {
    let rows = f.data_file.record_count();
    if rows == 0 {
        return None;
    }
    let schema = IcebergTable::contract_schema(md);
    let mut over = Vec::new();
    for c in &def.columns {
        let Some(field) = schema.field_by_name(&c.name) else { continue };
        let Some(nulls) = f.data_file.null_value_counts().get(&field.id) else { continue };
        if (*nulls as f64) > c.max_null_fraction * rows as f64 + 1e-9 {
            over.push((c.name.clone(), *nulls, rows, c.max_null_fraction));
        }
    }
    if over.is_empty() {
        return None;
    }
    let shown: Vec<String> = over.iter().map(|(c, n, r, a)| format!("{c}: {n} of {r} null (allowed {a})")).collect();
    Some(Finding {
        kind: FindingKind::NullFlood,
        table: table.ident.to_string(),
        location: key.to_string(),
        tier: Tier::Statistics,
        message: format!("manifest statistics of {}: {}", f.location(), shown.join(", ")),
        evidence: Evidence::Nulls { columns: over },
    })
}
