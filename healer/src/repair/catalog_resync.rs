//! Catalog re-sync: register partitions that hold data but are missing from the catalog.

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
