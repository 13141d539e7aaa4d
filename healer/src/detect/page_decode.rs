//! Pages tier: decode every page of every column (CRC-checked where the writer stored one).
//! The only check that reads whole files; it runs on files whose footer is clean.

use crate::detect::null_stats;
use crate::finding::{Evidence, Finding, FindingKind, Tier};
use crate::HealerError;
use arrow_array::Array;
use lakechaos_lake::parquet_io::read_parquet;
use lakechaos_lake::{LakeError, ObjectStore, TableDef};

/// Decodes the file; with `count_nulls`, also counts nulls for files whose statistics lack them.
pub async fn detect(
    store: &dyn ObjectStore,
    table: &TableDef,
    key: &str,
    count_nulls: bool,
) -> Result<Option<Finding>, HealerError> {
    let data = match store.get(key).await {
        Ok(d) => d,
        Err(LakeError::NotFound(_)) => return Ok(None), // moved meanwhile; the next pass sees it
        Err(e) => return Err(e.into()),
    };
    detect_bytes(table, key, data, count_nulls).await
}

/// The same check on bytes already in memory (an earlier object version, say).
pub async fn detect_bytes(
    table: &TableDef,
    key: &str,
    data: bytes::Bytes,
    count_nulls: bool,
) -> Result<Option<Finding>, HealerError> {
    let decoded = tokio::task::spawn_blocking(move || read_parquet(data))
        .await
        .map_err(|e| HealerError::Invalid(format!("decoder task failed: {e}")))?;
    let (schema, batches) = match decoded {
        Ok(ok) => ok,
        Err(e) => {
            return Ok(Some(Finding {
                kind: FindingKind::CorruptParquet,
                table: table.name.clone(),
                location: key.to_string(),
                tier: Tier::Pages,
                message: format!("{key}: pages do not decode: {e}"),
                evidence: Evidence::Unreadable { reason: e.to_string() },
            }))
        }
    };
    if !count_nulls {
        return Ok(None);
    }
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let mut flooded = Vec::new();
    for c in table.columns.iter().filter(|c| !null_stats::typed_null(&schema, &c.name)) {
        let Ok(i) = schema.index_of(&c.name) else { continue };
        let nulls: u64 = batches.iter().map(|b| b.column(i).null_count() as u64).sum();
        if let Some(v) = null_stats::over_allowance(&c.name, nulls, rows, c.max_null_fraction) {
            flooded.push(v);
        }
    }
    Ok(null_stats::finding(table, key, Tier::Pages, flooded))
}
