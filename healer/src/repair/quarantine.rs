//! Quarantine: keep a damaged object aside, with a reason record. Never a deletion: the bytes
//! are kept under the quarantine prefix.
//!
//! Safe to repeat and to run from two healers at once:
//! - the object's identity (its version token: ETag on S3, size + modification time locally) is
//!   checked right before anything is done, against the one the healer judged; an object that
//!   changed since (another healer restored it) is left alone; the removal (and the restore or
//!   rewrite that follows a kept copy) is a conditional write on that identity, so the check
//!   and the act are one step;
//! - the quarantine key is derived from that identity, not the clock, so a healer killed midway
//!   and restarted writes the same key again instead of a second copy;
//! - the reason record is written first, so a quarantined copy never lacks its reason.

use crate::events::RepairAction;
use crate::finding::Finding;
use crate::repair::{RepairContext, Step};
use crate::HealerError;
use bytes::Bytes;
use lakechaos_lake::layout::{quarantine_key, reason_key};
use lakechaos_lake::{LakeError, ObjectMeta};
use serde::Serialize;

#[derive(Serialize)]
struct ReasonRecord<'a> {
    original_key: &'a str,
    /// The identity of the quarantined version.
    version_token: &'a str,
    kind: &'a str,
    tier: crate::finding::Tier,
    reason: &'a str,
    quarantined_at: String,
    healer_version: &'static str,
}

/// What happens to the original once its copy is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// The original leaves the table (nothing replaces it).
    Remove,
    /// The original stays in place; the caller overwrites it next, so the key is never missing.
    Keep,
}

/// The object as it is now, if it is still the version the healer judged.
pub async fn judged(ctx: &RepairContext<'_>, key: &str) -> Result<ObjectMeta, HealerError> {
    let meta = ctx.lake.store.head(key).await?.ok_or_else(|| LakeError::NotFound(key.to_string()))?;
    match ctx.judged {
        Some(token) if token != meta.version_token => Err(LakeError::Changed(key.to_string()).into()),
        _ => Ok(meta),
    }
}

/// Keeps `key` at `<quarantine>/<its version>/<key>` with `<...>.reason.json` beside it, then
/// removes or keeps the original. Returns the step, whose `source` is the quarantine key (an
/// `s3://` address when quarantine is a store of its own).
pub async fn quarantine(
    ctx: &RepairContext<'_>,
    key: &str,
    finding: &Finding,
    then: Then,
) -> Result<Step, HealerError> {
    let meta = judged(ctx, key).await?;
    let stamp: String =
        meta.version_token.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let target = quarantine_key(ctx.quarantine_prefix, &stamp, key);
    let store = match ctx.quarantine_store {
        Some(q) => q.store.as_ref(),
        None => ctx.lake.store.as_ref(),
    };
    let record = ReasonRecord {
        original_key: key,
        version_token: &meta.version_token,
        kind: finding.kind.as_str(),
        tier: finding.tier,
        reason: &finding.message,
        quarantined_at: chrono::Utc::now().to_rfc3339(),
        healer_version: env!("CARGO_PKG_VERSION"),
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| HealerError::Invalid(e.to_string()))?;
    store.put(&reason_key(&target), Bytes::from(json)).await?;
    if store.head(&target).await?.is_none_or(|q| q.size != meta.size) {
        // Read, then check the identity again: only bytes that are still the judged version go
        // into quarantine under its name (another healer may have restored the key meanwhile).
        let data = ctx.lake.store.get(key).await?;
        judged(ctx, key).await?;
        store.put(&target, data).await?;
    }
    if then == Then::Remove {
        // Only after the copy and its record are stored, and only if it is still the version
        // judged, does the original leave the table.
        ctx.lake.store.delete_if_version(key, &meta.version_token).await?;
    }
    let source = match ctx.quarantine_store {
        Some(q) => format!("{}/{target}", q.url.trim_end_matches('/')),
        None => target,
    };
    Ok(Step { action: RepairAction::Quarantine, location: key.to_string(), source })
}
