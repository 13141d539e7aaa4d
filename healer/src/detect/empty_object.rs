//! Listing tier: a zero-byte object where a data file should be.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use lakechaos_lake::{ObjectMeta, TableDef};

/// Flags a data object of size 0; costs nothing beyond the listing.
pub fn detect(table: &TableDef, meta: &ObjectMeta) -> Option<Finding> {
    (meta.size == 0).then(|| Finding {
        kind: FindingKind::CorruptParquet,
        table: table.name.clone(),
        location: meta.key.clone(),
        tier: Tier::Listing,
        message: format!("{} is an empty object (0 bytes)", meta.key),
        evidence: Evidence::Unreadable { reason: "empty object".into() },
    })
}
