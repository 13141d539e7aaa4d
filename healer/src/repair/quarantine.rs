//! Quarantine: move an object out of the table, with a reason record. Never a deletion: the
//! bytes are kept under the quarantine prefix.

use crate::events::RepairAction;
use crate::finding::Finding;
use crate::repair::{RepairContext, Step};
use crate::HealerError;
use bytes::Bytes;
use lakechaos_lake::layout::{quarantine_key, reason_key};
use serde::Serialize;

#[derive(Serialize)]
struct ReasonRecord<'a> {
    original_key: &'a str,
    kind: &'a str,
    tier: crate::finding::Tier,
    reason: &'a str,
    quarantined_at: String,
    healer_version: &'static str,
}

/// Moves `key` to `<quarantine>/<timestamp>/<key>` and writes
/// `<...>.reason.json` beside it. Returns the step, whose `source` is the quarantine key (an
/// `s3://` address when quarantine is a store of its own).
pub async fn quarantine(ctx: &RepairContext<'_>, key: &str, finding: &Finding) -> Result<Step, HealerError> {
    let now = chrono::Utc::now();
    let target = quarantine_key(ctx.quarantine_prefix, &now.format("%Y%m%dT%H%M%S%.6fZ").to_string(), key);
    let store = match ctx.quarantine_store {
        Some(q) => {
            q.store.put(&target, ctx.lake.store.get(key).await?).await?;
            q.store.as_ref()
        }
        None => {
            ctx.lake.store.copy(key, &target).await?;
            ctx.lake.store.as_ref()
        }
    };
    let record = ReasonRecord {
        original_key: key,
        kind: finding.kind.as_str(),
        tier: finding.tier,
        reason: &finding.message,
        quarantined_at: now.to_rfc3339(),
        healer_version: env!("CARGO_PKG_VERSION"),
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| HealerError::Invalid(e.to_string()))?;
    store.put(&reason_key(&target), Bytes::from(json)).await?;
    // Only after the copy and its record are stored does the original leave the table.
    ctx.lake.store.delete(key).await?;
    let source = match ctx.quarantine_store {
        Some(q) => format!("{}/{target}", q.url.trim_end_matches('/')),
        None => target,
    };
    Ok(Step { action: RepairAction::Quarantine, location: key.to_string(), source })
}
