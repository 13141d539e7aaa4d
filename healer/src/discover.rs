//! `discover`: register an existing table from its data, as a Glue crawler would: partitions
//! from the Hive layout, the contract from the schema most files agree on, null allowances from
//! what the data shows.

use crate::HealerError;
use lakechaos_lake::contract::{logical_type, ColumnDef};
use lakechaos_lake::layout::{is_hidden, parse_data_key};
use lakechaos_lake::parquet_io::read_footer;
use lakechaos_lake::{Lake, TableDef};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Margin added to the highest null share seen per column: more than that is a flood.
pub const NULL_MARGIN: f64 = 0.15;

/// A schema as (column name, logical type) pairs, in file order.
type Signature = Vec<(String, String)>;

/// What discovery found.
#[derive(Clone, Debug, Serialize)]
pub struct Discovery {
    pub table: TableDef,
    pub files_read: usize,
    /// Files left out of the contract: unreadable, or with a schema most files disagree with.
    pub skipped: Vec<(String, String)>,
}

/// Discovers a table under `location` (default: the table name) and registers it.
pub async fn discover(
    lake: &Lake,
    name: &str,
    location: Option<&str>,
    landing: Option<&str>,
) -> Result<Discovery, HealerError> {
    let location = lakechaos_lake::layout::normalize_location(location.unwrap_or(name));
    let prefix = lakechaos_lake::layout::table_prefix(&location);
    let objects = lake.store.list(&prefix).await?;
    // Partition depth: the most common number of `k=v` directories above a visible file.
    let mut depths: BTreeMap<usize, usize> = BTreeMap::new();
    for o in &objects {
        let rest = &o.key[prefix.len()..];
        let segments: Vec<&str> = rest.split('/').collect();
        let (file, dirs) = segments.split_last().expect("split yields at least one part");
        if is_hidden(file) || dirs.iter().any(|d| is_hidden(d) || !d.contains('=')) {
            continue;
        }
        *depths.entry(dirs.len()).or_default() += 1;
    }
    let depth = depths
        .iter()
        .max_by_key(|(d, n)| (**n, usize::MAX - **d))
        .map(|(d, _)| *d)
        .ok_or_else(|| HealerError::Invalid(format!("no data files under {}/{prefix}", lake.store.describe())))?;

    let mut partition_keys: Vec<String> = Vec::new();
    let mut partitions = BTreeSet::new();
    let mut skipped = Vec::new();
    // Per schema signature: files, and per column the highest null share.
    let mut schemas: BTreeMap<Signature, (usize, Vec<ColumnDef>)> = BTreeMap::new();
    let mut files_read = 0;
    for o in &objects {
        let Some((partition, _)) = parse_data_key(&location, depth, &o.key) else { continue };
        if partition_keys.is_empty() && depth > 0 {
            partition_keys =
                partition.split('/').filter_map(|s| s.split_once('=').map(|(k, _)| k.to_string())).collect();
        }
        let footer = match read_footer(lake.store.as_ref(), &o.key, o.size).await? {
            Ok(f) => f,
            Err(problem) => {
                skipped.push((o.key.clone(), problem.to_string()));
                continue;
            }
        };
        files_read += 1;
        partitions.insert(partition.to_string());
        let rows = footer.metadata.file_metadata().num_rows().max(1) as f64;
        let fields: Vec<_> =
            footer.schema.fields().iter().filter(|f| !partition_keys.contains(f.name())).cloned().collect();
        let signature: Vec<(String, String)> =
            fields.iter().map(|f| (f.name().clone(), logical_type(f.data_type()))).collect();
        let entry = schemas.entry(signature).or_insert_with(|| {
            (
                0,
                fields
                    .iter()
                    .map(|f| ColumnDef {
                        name: f.name().clone(),
                        data_type: logical_type(f.data_type()),
                        nullable: f.is_nullable(),
                        max_null_fraction: 0.0,
                    })
                    .collect(),
            )
        });
        entry.0 += 1;
        for col in entry.1.iter_mut() {
            let nulls: u64 = footer
                .metadata
                .row_groups()
                .iter()
                .flat_map(|rg| rg.columns())
                .filter(|c| c.column_path().parts() == [col.name.as_str()])
                .filter_map(|c| c.statistics().and_then(|s| s.null_count_opt()))
                .sum();
            let share = nulls as f64 / rows;
            if share > col.max_null_fraction {
                col.max_null_fraction = share;
            }
            col.nullable |= nulls > 0;
        }
    }
    let (_, (_, mut columns)) = schemas
        .iter()
        .max_by_key(|(_, (n, _))| *n)
        .map(|(s, v)| (s.clone(), v.clone()))
        .ok_or_else(|| HealerError::Invalid(format!("no readable Parquet files under {prefix}")))?;
    for c in columns.iter_mut() {
        c.max_null_fraction = if c.nullable { (c.max_null_fraction + NULL_MARGIN).min(1.0) } else { 0.0 };
    }
    // Files whose schema disagrees with the majority are left out of the contract, not hidden.
    let majority: Vec<(String, String)> = columns.iter().map(|c| (c.name.clone(), c.data_type.clone())).collect();
    // A file that types a column `Null` (no values there) agrees with a nullable column.
    let agrees = |signature: &Signature| {
        signature.len() == majority.len()
            && signature
                .iter()
                .zip(&majority)
                .zip(&columns)
                .all(|(((name, t), (m_name, m_t)), c)| name == m_name && (t == m_t || (t == "Null" && c.nullable)))
    };
    for (signature, (n, _)) in &schemas {
        if !agrees(signature) {
            skipped.push((format!("{n} file(s)"), format!("schema differs from the majority: {signature:?}")));
        }
    }
    let landing = match landing {
        Some(l) => Some(l.trim_end_matches('/').to_string()),
        None => {
            let candidate = format!("_landing/{name}");
            (!lake.store.list(&format!("{candidate}/")).await?.is_empty()).then_some(candidate)
        }
    };
    let table =
        TableDef { name: name.to_string(), location, partition_keys, columns, partitions, landing, declared: None };
    lake.catalog.put_table(&table).await?;
    Ok(Discovery { table, files_read, skipped })
}
