//! `discover` for an Iceberg table: declares the table's contract in its own properties, so
//! any healer of it (this one, a deployed one) tells a flood or a drift from an intended
//! change. The contract is the current schema (`lakechaos.contract-schema-id`); each nullable
//! column's null allowance is the highest null share its live data files show, from the
//! manifests' statistics (no data file is read), plus [`NULL_MARGIN`]; a required column
//! allows none. The declaration is one metadata commit; a table that already declares exactly
//! this is left as it is.

use crate::discover::NULL_MARGIN;
use crate::HealerError;
use lakechaos_lake::contract::ColumnDef;
use lakechaos_lake::iceberg::data_file::{contract_of, MAX_NULL_FRACTION_PROPERTY};
use lakechaos_lake::iceberg::{IcebergError, IcebergTable, CONTRACT_SCHEMA_PROPERTY};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What discovery declared.
#[derive(Clone, Debug, Serialize)]
pub struct IcebergDiscovery {
    pub table: String,
    /// The metadata file that holds the declaration.
    pub metadata_location: String,
    pub contract_schema_id: i32,
    /// The contract, with its null allowances.
    pub columns: Vec<ColumnDef>,
    pub files_measured: usize,
    /// Columns some live file has no null statistics for: their allowance is taken from the
    /// files that have them (or 1.0 when none has).
    pub unmeasured: Vec<String>,
    /// Whether a commit was needed (false: the table already declared exactly this).
    pub committed: bool,
}

fn lake_err(e: IcebergError) -> HealerError {
    HealerError::Lake(e.into())
}

/// Declares `table`'s contract from its current schema and live files' statistics.
pub async fn discover(table: &IcebergTable) -> Result<IcebergDiscovery, HealerError> {
    let base = table.current().await.map_err(lake_err)?;
    let schema = base.metadata.current_schema().clone();
    let live = table.live_files(&base.metadata, None).await.map_err(lake_err)?;
    // Highest null share per nullable top-level column, from the manifests.
    let mut highest: BTreeMap<String, Option<f64>> = BTreeMap::new();
    let mut unmeasured = Vec::new();
    for field in schema.as_struct().fields().iter().filter(|f| !f.required) {
        let mut share: Option<f64> = None;
        for f in &live {
            let rows = f.data_file.record_count();
            match f.data_file.null_value_counts().get(&field.id) {
                Some(&nulls) if rows > 0 => share = Some(share.unwrap_or(0.0).max(nulls as f64 / rows as f64)),
                Some(_) => {}
                None => {
                    if !unmeasured.contains(&field.name) {
                        unmeasured.push(field.name.clone());
                    }
                }
            }
        }
        highest.insert(field.name.clone(), share);
    }
    let mut properties: HashMap<String, String> = HashMap::new();
    properties.insert(CONTRACT_SCHEMA_PROPERTY.to_string(), schema.schema_id().to_string());
    for (name, share) in &highest {
        let allowance = share.map_or(1.0, |s| (s + NULL_MARGIN).min(1.0));
        properties.insert(format!("{MAX_NULL_FRACTION_PROPERTY}{name}"), format!("{allowance:.4}"));
    }
    let current = base.metadata.properties();
    let unchanged = properties.iter().all(|(k, v)| current.get(k) == Some(v));
    let metadata_location = if unchanged {
        base.location.clone()
    } else {
        let commit = table.prepare_metadata(&base, |b| b.set_properties(properties.clone())).map_err(lake_err)?;
        table.commit(&commit).await.map_err(lake_err)?;
        commit.after.clone()
    };
    let mut merged = current.clone();
    merged.extend(properties);
    Ok(IcebergDiscovery {
        table: table.ident.to_string(),
        metadata_location,
        contract_schema_id: schema.schema_id(),
        columns: contract_of(&schema, &merged),
        files_measured: live.len(),
        unmeasured,
        committed: !unchanged,
    })
}
