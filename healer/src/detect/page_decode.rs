//! Pages tier: decode every page of every column (CRC-checked where the writer stored one).
//! The only check that reads whole files; it runs on files whose footer is clean.

use crate::detect::null_stats;
use crate::finding::{Evidence, Finding, FindingKind, Tier};
use crate::HealerError;
use arrow_array::Array;
use lakechaos_lake::parquet_io::decode_each;
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

/// The most memory one decoded batch may take: a file whose pages inflate beyond it is a finding,
/// not an out-of-memory crash. Batches are decoded one at a time and dropped.
pub const BATCH_MEMORY_BUDGET: usize = 256 << 20;

/// The same check on bytes already in memory (an earlier object version, say). Pages are decoded
/// a batch at a time (nulls counted as they pass), so a small file that inflates to tens of
/// millions of rows costs one batch of memory, not all of them.
pub async fn detect_bytes(
    table: &TableDef,
    key: &str,
    data: bytes::Bytes,
    count_nulls: bool,
) -> Result<Option<Finding>, HealerError> {
    let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let decoded = tokio::task::spawn_blocking(move || {
        let mut rows = 0u64;
        let mut nulls: Vec<Option<u64>> = vec![None; columns.len()];
        let schema = decode_each(data, |batch| {
            let size = batch.get_array_memory_size();
            if size > BATCH_MEMORY_BUDGET {
                return Err(LakeError::Parquet(parquet::errors::ParquetError::General(format!(
                    "a batch of {} rows decodes to {} MiB, beyond the {} MiB budget",
                    batch.num_rows(),
                    size >> 20,
                    BATCH_MEMORY_BUDGET >> 20
                ))));
            }
            rows += batch.num_rows() as u64;
            if count_nulls {
                for (i, name) in columns.iter().enumerate() {
                    if let Ok(j) = batch.schema().index_of(name) {
                        *nulls[i].get_or_insert(0) += batch.column(j).null_count() as u64;
                    }
                }
            }
            Ok(())
        })?;
        Ok::<_, LakeError>((schema, rows, nulls))
    })
    .await
    .map_err(|e| HealerError::Invalid(format!("decoder task failed: {e}")))?;
    let (schema, rows, nulls) = match decoded {
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
    let mut flooded = Vec::new();
    for (c, nulls) in table.columns.iter().zip(nulls) {
        let Some(nulls) = nulls.filter(|_| !null_stats::typed_null(&schema, &c.name)) else { continue };
        if let Some(v) = null_stats::over_allowance(&c.name, nulls, rows, c.max_null_fraction) {
            flooded.push(v);
        }
    }
    Ok(null_stats::finding(table, key, Tier::Pages, flooded))
}
