//! Restore: bring a file's data back from a named source. Sources, in order:
//! 0. for a deleted object in a versioned bucket, the version under its **delete marker**: the
//!    marker is removed (no data is written or removed) if that version passes every check;
//! 1. the newest earlier **object version** that passes every check (versioned S3 buckets);
//! 2. the **raw/landing zone** copy, checked the same way.
//!
//! A candidate that fails any check is never used; with no good candidate the restore says why.

use crate::config::Depth;
use crate::detect::{check_bytes, check_file};
use crate::events::RepairAction;
use crate::finding::{Evidence, Finding};
use crate::repair::{quarantine, RepairContext, Step};
use crate::HealerError;
use bytes::Bytes;
use lakechaos_lake::layout::{data_key, rebase};
use lakechaos_lake::parquet_io::footer_of;
use lakechaos_lake::ObjectVersion;

/// Why no source may be used for a key: every candidate tried and what was wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoGoodSource(pub String);

/// A checked, good source for a key.
enum Source {
    Version { id: String, data: Bytes },
    Landing { key: String },
}

/// The newest clean earlier version of `key`, if the store keeps versions.
async fn good_version(
    ctx: &RepairContext<'_>,
    key: &str,
    min_rows: Option<u64>,
) -> Result<Result<(String, Bytes), NoGoodSource>, HealerError> {
    if !ctx.lake.store.supports_versions() {
        return Ok(Err(NoGoodSource(format!("{} keeps no object versions", ctx.lake.store.describe()))));
    }
    let versions = ctx.lake.store.list_versions(key).await?;
    let mut checked = 0;
    for v in versions.iter().filter(|v| !v.is_delete_marker) {
        checked += 1;
        let data = ctx.lake.store.get_version(key, &v.version_id).await?;
        let rows = footer_of(&data).map(|f| f.metadata.file_metadata().num_rows().max(0) as u64).ok();
        if check_bytes(ctx.table, key, data.clone()).await?.is_none() && enough(rows, min_rows) {
            return Ok(Ok((v.version_id.clone(), data)));
        }
    }
    Ok(Err(NoGoodSource(format!("none of {checked} stored version(s) of {key} is clean{}", wanting(min_rows)))))
}

/// The landing key for a served key, checked healthy.
async fn good_landing(
    ctx: &RepairContext<'_>,
    key: &str,
    min_rows: Option<u64>,
) -> Result<Result<String, NoGoodSource>, HealerError> {
    let Some(landing) = &ctx.table.landing else {
        return Ok(Err(NoGoodSource(format!("table {} has no landing zone to restore {key} from", ctx.table.name))));
    };
    let Some(source) = rebase(key, &ctx.table.location, landing) else {
        return Ok(Err(NoGoodSource(format!("{key} is outside table location {}", ctx.table.location))));
    };
    let Some(meta) = ctx.lake.store.head(&source).await? else {
        return Ok(Err(NoGoodSource(format!("no landing copy {source} for {key}"))));
    };
    let check = check_file(ctx.lake.store.as_ref(), ctx.table, &meta, Depth::Pages).await?;
    if let Some(problem) = check.finding {
        return Ok(Err(NoGoodSource(format!("landing copy is itself damaged: {}", problem.message))));
    }
    if !enough(check.rows, min_rows) {
        return Ok(Err(NoGoodSource(format!("landing copy {source} is clean{}", wanting(min_rows)))));
    }
    Ok(Ok(source))
}

/// Whether a candidate holding `rows` may stand in for a file that should hold `min_rows`.
fn enough(rows: Option<u64>, min_rows: Option<u64>) -> bool {
    min_rows.is_none_or(|min| rows.is_some_and(|r| r >= min))
}

fn wanting(min_rows: Option<u64>) -> String {
    min_rows.map(|m| format!(" with at least {m} rows")).unwrap_or_default()
}

/// The first good source, or every reason there is none.
async fn good_source(
    ctx: &RepairContext<'_>,
    key: &str,
    min_rows: Option<u64>,
) -> Result<Result<Source, NoGoodSource>, HealerError> {
    let no_version = match good_version(ctx, key, min_rows).await? {
        Ok((id, data)) => return Ok(Ok(Source::Version { id, data })),
        Err(reason) => reason,
    };
    match good_landing(ctx, key, min_rows).await? {
        Ok(key) => Ok(Ok(Source::Landing { key })),
        Err(no_landing) => Ok(Err(NoGoodSource(format!("{no_version}; {no_landing}")))),
    }
}

/// Writes `source` at `key`; with `replacing`, only over that version of `key` (the one judged
/// and quarantined): of two healers that judged it, one writes and the other sees `Changed`.
async fn write(ctx: &RepairContext<'_>, key: &str, source: Source, replacing: Option<&str>) -> Result<Step, HealerError> {
    let store = ctx.lake.store.as_ref();
    Ok(match source {
        Source::Version { id, data } => {
            match replacing {
                Some(version) => store.put_if_version(key, data, version).await?,
                None => store.put(key, data).await?,
            }
            Step {
                action: RepairAction::RestoreFromVersion,
                location: key.to_string(),
                source: format!("{key} version {id}"),
            }
        }
        Source::Landing { key: from } => {
            match replacing {
                Some(version) => store.put_if_version(key, store.get(&from).await?, version).await?,
                None => store.copy(&from, key).await?,
            }
            Step { action: RepairAction::RestoreFromLanding, location: key.to_string(), source: from }
        }
    })
}

/// When `key` is hidden by delete markers over a clean version, removes the markers.
async fn undelete(ctx: &RepairContext<'_>, key: &str) -> Result<Option<Step>, HealerError> {
    if !ctx.lake.store.supports_versions() {
        return Ok(None);
    }
    let versions = ctx.lake.store.list_versions(key).await?;
    let markers: Vec<&ObjectVersion> = versions.iter().take_while(|v| v.is_delete_marker).collect();
    let Some(under) = versions.get(markers.len()) else { return Ok(None) };
    if markers.is_empty() {
        return Ok(None);
    }
    let data = ctx.lake.store.get_version(key, &under.version_id).await?;
    if check_bytes(ctx.table, key, data).await?.is_some() {
        return Ok(None); // the hidden version is damaged too: restore from another source
    }
    for marker in &markers {
        ctx.lake.store.remove_delete_marker(key, &marker.version_id).await?;
    }
    let ids: Vec<&str> = markers.iter().map(|m| m.version_id.as_str()).collect();
    Ok(Some(Step {
        action: RepairAction::RemoveDeleteMarker,
        location: key.to_string(),
        source: format!("{key} version {} (delete marker {} removed)", under.version_id, ids.join(", ")),
    }))
}

/// Restores `key` (which is absent, e.g. already quarantined) from the first good source.
pub async fn restore(ctx: &RepairContext<'_>, key: &str) -> Result<Result<Step, NoGoodSource>, HealerError> {
    if let Some(step) = undelete(ctx, key).await? {
        return Ok(Ok(step));
    }
    match good_source(ctx, key, None).await? {
        Ok(source) => Ok(Ok(write(ctx, key, source, None).await?)),
        Err(reason) => Ok(Err(reason)),
    }
}

/// Finds a good source, then quarantines the current `key` and restores it. Nothing is moved
/// when there is no good source, so a readable-but-wrong file stays readable.
pub async fn restore_replacing(
    ctx: &RepairContext<'_>,
    key: &str,
    finding: &Finding,
) -> Result<Result<Vec<Step>, NoGoodSource>, HealerError> {
    // A file that lost rows is only replaced by one that has them.
    let min_rows = match &finding.evidence {
        Evidence::FileRows { expected, .. } => Some(*expected),
        _ => None,
    };
    let source = match good_source(ctx, key, min_rows).await? {
        Ok(s) => s,
        Err(reason) => return Ok(Err(reason)),
    };
    let q = quarantine::quarantine(ctx, key, finding, quarantine::Then::Keep).await?;
    let judged = quarantine::judged(ctx, key).await?;
    let restored = write(ctx, key, source, Some(&judged.version_token)).await?;
    Ok(Ok(vec![q, restored]))
}

/// Restores a data file that is absent from a partition.
pub async fn restore_missing(
    ctx: &RepairContext<'_>,
    partition: &str,
    file: &str,
) -> Result<Result<Step, NoGoodSource>, HealerError> {
    restore(ctx, &data_key(&ctx.table.location, partition, file)).await
}
