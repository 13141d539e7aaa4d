//! Footer tier: silent row loss. A valid file with the right schema but fewer rows than its
//! landing twin (a writer that replaced 3,000 rows with none) passes every other check; its rows
//! are simply gone. Where a twin exists and the served file is smaller, the twin's footer says how
//! many rows there should be. Costs nothing for files at least as large as their twin.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use crate::HealerError;
use lakechaos_lake::layout::rebase;
use lakechaos_lake::parquet_io::read_footer;
use lakechaos_lake::{ObjectMeta, ObjectStore, TableDef};

/// Compares `served_rows` of the file at `meta` with its landing twin's row count.
pub async fn detect(
    store: &dyn ObjectStore,
    table: &TableDef,
    meta: &ObjectMeta,
    served_rows: u64,
) -> Result<Option<Finding>, HealerError> {
    let Some(landing) = &table.landing else { return Ok(None) };
    let Some(twin_key) = rebase(&meta.key, &table.location, landing) else { return Ok(None) };
    let Some(twin) = store.head(&twin_key).await? else { return Ok(None) };
    if meta.size >= twin.size {
        return Ok(None);
    }
    // A twin that is itself unreadable proves nothing about the served file.
    let Ok(footer) = read_footer(store, &twin_key, twin.size).await? else { return Ok(None) };
    let expected = footer.metadata.file_metadata().num_rows().max(0) as u64;
    if served_rows >= expected {
        return Ok(None);
    }
    Ok(Some(Finding {
        kind: FindingKind::RowLoss,
        table: table.name.clone(),
        location: meta.key.clone(),
        tier: Tier::Footer,
        message: format!(
            "{}: {served_rows} rows where its landing copy {twin_key} has {expected}: {} rows are gone",
            meta.key,
            expected - served_rows
        ),
        evidence: Evidence::FileRows { rows: served_rows, expected, source: twin_key },
    }))
}
