//! Footer tier: silent row loss. A valid file with the right schema but fewer rows than it should
//! have (a writer that replaced 3,000 rows with none) passes every other check; its rows are
//! simply gone. Two witnesses say how many rows there should be: the landing twin's footer (read
//! only when the served file is smaller, so it costs nothing otherwise), and the healer's own
//! row inventory of files it judged clean before ([`crate::inventory`]).

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use crate::HealerError;
use lakechaos_lake::layout::{inventory_key, rebase};
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

/// A file holding fewer rows than the inventory recorded when it was last judged clean.
pub fn against_inventory(table: &TableDef, key: &str, rows: u64, known: u64) -> Finding {
    let source = inventory_key(&table.name);
    Finding {
        kind: FindingKind::RowLoss,
        table: table.name.clone(),
        location: key.to_string(),
        tier: Tier::Footer,
        message: format!(
            "{key}: {rows} rows where it held {known} when last judged clean: {} rows are gone",
            known - rows
        ),
        evidence: Evidence::FileRows { rows, expected: known, source },
    }
}
