//! Whether the damage a fault wrote is still somewhere: the healer must quarantine, never
//! delete. Each object the fault wrote is looked for by its bytes' digest, in place and in the
//! quarantine.

use super::DamageKept;
use lakechaos_faults::journal::JournalEntry;
use lakechaos_faults::{GroundTruth, Journal};
use lakechaos_lake::layout::is_reason_record;
use lakechaos_lake::{LakeError, ObjectStore};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// Where a healer quarantines: a store and the prefix its quarantined objects are under.
#[derive(Clone, Copy)]
pub struct QuarantineAt<'a> {
    pub store: &'a dyn ObjectStore,
    pub prefix: &'a str,
}

/// How many of the objects the journal says the fault wrote are still in `lake` (where it wrote
/// them, or at the ground truth's files) or in `quarantine`.
pub async fn damage_kept(
    journal: &Journal,
    truth: &GroundTruth,
    lake: &dyn ObjectStore,
    quarantine: QuarantineAt<'_>,
) -> Result<DamageKept, LakeError> {
    let wanted: Vec<&String> = journal
        .changes
        .iter()
        .filter_map(|c| match c {
            JournalEntry::Object { after_sha256: Some(h), .. } => Some(h),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(DamageKept::default());
    }
    let mut present = HashSet::new();
    let mut quarantined = Vec::new();
    let prefix = format!("{}/", quarantine.prefix.trim_end_matches('/'));
    for object in quarantine.store.list(&prefix).await? {
        if is_reason_record(&object.key) {
            continue;
        }
        if let Ok(data) = quarantine.store.get(&object.key).await {
            let digest = hex(&data);
            if wanted.contains(&&digest) {
                quarantined.push(object.key.clone());
            }
            present.insert(digest);
        }
    }
    // In place: where the fault wrote each object (a commit's new files as much as a damaged
    // file), and the files the ground truth names.
    let written = journal.changes.iter().filter_map(|c| match c {
        JournalEntry::Object { key, after_sha256: Some(_), .. } => Some(key),
        _ => None,
    });
    let places: std::collections::BTreeSet<&String> = written.chain(truth.files.iter()).collect();
    for key in places {
        if let Ok(data) = lake.get(key).await {
            present.insert(hex(&data));
        }
    }
    let kept = wanted.iter().filter(|h| present.contains(h.as_str())).count();
    Ok(DamageKept { damaged: wanted.len(), kept, quarantined })
}

/// [`damage_kept`] for a journaled plan on a lake that quarantines under its own
/// `_quarantine/` prefix.
pub async fn kept_in_lake(
    planned: &crate::method::Planned,
    store: &dyn ObjectStore,
) -> Result<DamageKept, crate::error::ScenarioError> {
    use crate::error::AtStage;
    let quarantine = QuarantineAt { store, prefix: lakechaos_lake::layout::QUARANTINE_PREFIX };
    damage_kept(&planned.journal, planned.ground_truth(), store, quarantine).await.at(crate::error::Stage::Verify)
}

/// Before a journal puts its before-states back on someone else's table: any object at a
/// journaled key whose bytes are neither the fault's damage nor the original (someone else
/// wrote there meanwhile — a pipeline, or the healer mid-repair) is copied aside to
/// `_lakechaos/kept/<scenario>/…` first, so nothing another writer wrote is overwritten without
/// a copy. Returns the copies.
pub async fn keep_unexpected_writes(
    planned: &crate::method::Planned,
    store: &dyn ObjectStore,
    scenario: &str,
) -> Result<Vec<String>, crate::error::ScenarioError> {
    use crate::error::{AtStage, Stage};
    let mut kept = Vec::new();
    for entry in &planned.journal.changes {
        let JournalEntry::Object { key, before_sha256, after_sha256, .. } = entry else { continue };
        let Ok(now) = store.get(key).await else { continue };
        let digest = hex(&now);
        if Some(&digest) == before_sha256.as_ref() || Some(&digest) == after_sha256.as_ref() {
            continue;
        }
        let aside = format!("{}/kept/{scenario}/{key}", lakechaos_lake::layout::HARNESS_RECORDS_PREFIX);
        store.put(&aside, now).await.at(Stage::Revert)?;
        tracing::warn!(%key, copy = %aside, "an unexpected write was found where the journal restores; kept a copy");
        kept.push(aside);
    }
    Ok(kept)
}

fn hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "damage_tests.rs"]
mod tests;
