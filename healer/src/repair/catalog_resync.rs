//! Catalog re-sync: register partitions that hold data but are missing from the catalog, and
//! declare the contract's columns again where the catalog entry drifted.

use crate::events::RepairAction;
use crate::repair::{RepairContext, Step};
use crate::HealerError;
use lakechaos_lake::layout::partition_prefix;

/// Registers one partition (idempotent).
pub async fn register(ctx: &RepairContext<'_>, partition: &str) -> Result<Step, HealerError> {
    ctx.lake.catalog.add_partitions(&ctx.table.name, &[partition.to_string()]).await?;
    Ok(Step {
        action: RepairAction::CatalogResync,
        location: partition_prefix(&ctx.table.location, partition),
        source: format!("data files under {}", partition_prefix(&ctx.table.location, partition)),
    })
}

/// Declares the contract's columns again in the table's catalog entry. The table is re-read
/// first so that partitions registered meanwhile are kept.
pub async fn redeclare(ctx: &RepairContext<'_>, location: &str) -> Result<Step, HealerError> {
    let mut table = ctx.lake.catalog.get_table(&ctx.table.name).await?.unwrap_or_else(|| ctx.table.clone());
    table.declared = None;
    ctx.lake.catalog.put_table(&table).await?;
    Ok(Step {
        action: RepairAction::CatalogRedeclare,
        location: location.to_string(),
        source: format!("the contract of {} ({} columns)", table.name, table.columns.len()),
    })
}
