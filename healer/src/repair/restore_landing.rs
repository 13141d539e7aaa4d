//! Restore from the raw/landing zone: the named source of truth. The landing copy is checked
//! with every detection tier before it is used; a bad source is never copied.

use crate::config::Depth;
use crate::detect::check_file;
use crate::events::RepairAction;
use crate::finding::Finding;
use crate::repair::{quarantine, RepairContext, Step};
use crate::HealerError;
use lakechaos_lake::layout::{data_key, rebase};

/// The landing key for a served key, checked healthy. `Err` explains why there is no source.
async fn good_source(ctx: &RepairContext<'_>, key: &str) -> Result<Result<String, String>, HealerError> {
    let Some(landing) = &ctx.table.landing else {
        return Ok(Err(format!("table {} has no landing zone to restore {key} from", ctx.table.name)));
    };
    let Some(source) = rebase(key, &ctx.table.location, landing) else {
        return Ok(Err(format!("{key} is outside table location {}", ctx.table.location)));
    };
    let Some(meta) = ctx.lake.store.head(&source).await? else {
        return Ok(Err(format!("no landing copy {source} for {key}")));
    };
    let check = check_file(ctx.lake.store.as_ref(), ctx.table, &meta, Depth::Pages).await?;
    if let Some(problem) = check.finding {
        return Ok(Err(format!("landing copy is itself damaged: {}", problem.message)));
    }
    Ok(Ok(source))
}

/// Copies the landing copy onto `key` (which is absent, e.g. already quarantined).
pub async fn restore(ctx: &RepairContext<'_>, key: &str) -> Result<Result<Step, String>, HealerError> {
    let source = match good_source(ctx, key).await? {
        Ok(s) => s,
        Err(reason) => return Ok(Err(reason)),
    };
    ctx.lake.store.copy(&source, key).await?;
    Ok(Ok(Step { action: RepairAction::RestoreFromLanding, location: key.to_string(), source }))
}

/// Quarantines the current `key`, then restores it from landing. Nothing is moved when there is
/// no good source, so a readable-but-wrong file stays readable.
pub async fn restore_replacing(
    ctx: &RepairContext<'_>,
    key: &str,
    finding: &Finding,
) -> Result<Result<Vec<Step>, String>, HealerError> {
    if let Err(reason) = good_source(ctx, key).await? {
        return Ok(Err(reason));
    }
    let q = quarantine::quarantine(ctx, key, finding).await?;
    match restore(ctx, key).await? {
        Ok(step) => Ok(Ok(vec![q, step])),
        Err(reason) => Ok(Err(reason)),
    }
}

/// Restores a data file that is absent from a partition.
pub async fn restore_missing(
    ctx: &RepairContext<'_>,
    partition: &str,
    file: &str,
) -> Result<Result<Step, String>, HealerError> {
    restore(ctx, &data_key(&ctx.table.location, partition, file)).await
}
