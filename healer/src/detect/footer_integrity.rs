//! Footer tier: magic bytes, footer length and a decodable footer.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use crate::HealerError;
use lakechaos_lake::parquet_io::{read_footer, Footer, FooterProblem};
use lakechaos_lake::{ObjectMeta, ObjectStore, TableDef};

/// Reads the footer (three small ranged reads). `Err(finding)` when the file is corrupt.
pub async fn detect(
    store: &dyn ObjectStore,
    table: &TableDef,
    meta: &ObjectMeta,
) -> Result<Result<Footer, Finding>, HealerError> {
    Ok(read_footer(store, &meta.key, meta.size).await?.map_err(|problem| finding(table, &meta.key, &problem)))
}

/// The finding for a footer problem.
pub fn finding(table: &TableDef, key: &str, problem: &FooterProblem) -> Finding {
    Finding {
        kind: FindingKind::CorruptParquet,
        table: table.name.clone(),
        location: key.to_string(),
        tier: Tier::Footer,
        message: format!("{key}: {problem}"),
        evidence: Evidence::Unreadable { reason: problem.to_string() },
    }
}
