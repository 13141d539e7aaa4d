//! The harness's own verdict on game-day lakes the chaos function seeded: each lake under a prefix
//! is checked against the golden record the chaos function left in it
//! (`_lakechaos/golden.json`, with row hashes), whatever the healer function reported.

use super::chaos::RECORDS;
use lakechaos_faults::Journal;
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{GoldenManifest, GoldenRecord, Verification};
use lakechaos_lake::{AwsConnection, CatalogKind, Lake, LakeAddress, LakeError, ObjectStore};
use serde::Serialize;

/// Why game-day lakes could not be verified (the lakes themselves being damaged is a verdict,
/// not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Address(#[from] LakeError),
    #[error("no game-day lake under {0} (no {RECORDS}/golden.json found)")]
    NoLake(String),
    #[error("{record}: {reason}")]
    Record { record: String, reason: String },
}

/// One game-day lake's verdict.
#[derive(Debug, Serialize)]
pub struct LakeVerdict {
    /// `s3://bucket/prefix/<run>/<scenario>`.
    pub lake: String,
    pub scenario: String,
    pub verification: Verification,
}

/// Verifies every game-day lake under `url` (`s3://BUCKET/PREFIX`: one lake, a run, or all runs).
pub async fn verify_gamedays(conn: &AwsConnection, url: &str) -> Result<Vec<LakeVerdict>, VerifyError> {
    let LakeAddress::S3 { bucket, prefix } = LakeAddress::parse(url)? else {
        return Err(LakeError::Address(format!("{url:?} is not an S3 address (expected s3://BUCKET/PREFIX)")).into());
    };
    let whole = Lake::bucket_store(conn, &bucket).await;
    let under = if prefix.is_empty() { String::new() } else { format!("{}/", prefix.trim_end_matches('/')) };
    let golden_suffix = format!("/{RECORDS}/golden.json");
    let records: Vec<String> =
        whole.list(&under).await?.into_iter().map(|o| o.key).filter(|k| k.ends_with(&golden_suffix)).collect();
    if records.is_empty() {
        return Err(VerifyError::NoLake(url.to_string()));
    }
    let mut verdicts = Vec::with_capacity(records.len());
    for key in records {
        let root = key.strip_suffix(&golden_suffix).expect("filtered above").to_string();
        let read = |what: &str, e: String| VerifyError::Record {
            record: format!("s3://{bucket}/{root}/{RECORDS}/{what}"),
            reason: e,
        };
        let bytes = whole.get(&key).await.map_err(|e| read("golden.json", e.to_string()))?;
        let record: GoldenRecord = serde_json::from_slice(&bytes).map_err(|e| read("golden.json", e.to_string()))?;
        let journal_key = format!("{root}/{RECORDS}/journal.json");
        let bytes = whole.get(&journal_key).await.map_err(|e| read("journal.json", e.to_string()))?;
        let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| read("journal.json", e.to_string()))?;
        let lake = Lake::open_s3(conn, &bucket, &root, &CatalogKind::File).await;
        let verification = Verifier::new(GoldenManifest::from(record))
            .verify(&lake)
            .await
            .map_err(|e| VerifyError::Record { record: format!("s3://{bucket}/{root}"), reason: e.to_string() })?;
        verdicts.push(LakeVerdict { lake: format!("s3://{bucket}/{root}"), scenario: journal.scenario, verification });
    }
    Ok(verdicts)
}
