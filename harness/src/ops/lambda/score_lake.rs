//! Scoring one game-day lake after its deadline, the way `lakechaos run` scores a scenario but
//! from what the lake holds: the harness's own verification against the golden record (never
//! the healer's word), the healer incidents the scoring step collected into the lake, and the
//! lake's object times.
//!
//! Time to repair is bounded from the lake itself: when the lake equals golden, it has been so
//! since the last write to it after injection (the store's `LastModified`, whole seconds on S3,
//! so the end of that second is taken; the records of lakechaos and the healer's own state
//! excluded). Time to detect is the first
//! matching incident's time, as the healer stamped it.

use super::injection::{incidents_prefix, record_key, InjectionRecord, GOLDEN, JOURNAL, VERDICT};
use crate::backend::damage::{damage_kept, QuarantineAt};
use crate::run::observe::Observation;
use crate::run::result::ScenarioResult;
use crate::run::verdict;
use crate::scenario::load::parse_scenario;
use lakechaos_faults::Journal;
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{GoldenManifest, GoldenRecord};
use lakechaos_lake::layout::{HARNESS_RECORDS_PREFIX, HEALER_STATE_PREFIX};
use lakechaos_lake::{AwsConnection, CatalogKind, Lake, ObjectMeta, ObjectStore};
use lakehealer::events::HealerEvent;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lake under test and where its healer quarantines.
pub struct GameDayLake<'a> {
    pub conn: &'a AwsConnection,
    pub bucket: &'a str,
    /// `prefix/run/scenario`.
    pub root: &'a str,
    /// The bucket's objects under `root/`, keys relative to the bucket.
    pub objects: &'a [ObjectMeta],
    /// The healer's quarantine: a store and the prefix of this lake's objects in it.
    pub quarantine: QuarantineAt<'a>,
    /// Whether the healer's incidents are collected (an incident ledger is configured).
    pub incidents_observed: bool,
}

/// Scores the lake injected as `record`; a lake still not equal to golden is reverted from its
/// journal.
pub async fn score_lake(at: &GameDayLake<'_>, whole: &dyn ObjectStore, record: &InjectionRecord) -> ScenarioResult {
    let scenario = match parse_scenario(&record.scenario_text, Path::new(&record.scenario_file)) {
        Ok(s) => s,
        Err(e) => {
            // Without its scenario the lake cannot be judged; it is reported, not guessed at.
            let mut result = error_result(record, format!("the recorded scenario does not load: {e}"));
            result.journal = Some(journal_url(at));
            return result;
        }
    };
    let mut result = ScenarioResult::blank(&scenario, "aws", record.seed);
    result.journal = Some(journal_url(at));
    match judge(at, whole, record, &scenario, &mut result).await {
        Ok(()) => {}
        Err(e) => {
            result.status = crate::run::result::Status::Error;
            result.reason = Some(e);
        }
    }
    result
}

async fn judge(
    at: &GameDayLake<'_>,
    whole: &dyn ObjectStore,
    record: &InjectionRecord,
    scenario: &crate::scenario::Scenario,
    result: &mut ScenarioResult,
) -> Result<(), String> {
    let read = |name: &'static str| {
        let key = record_key(at.root, name);
        async move {
            let bytes = whole.get(&key).await.map_err(|e| format!("s3://{}/{key}: {e}", at.bucket))?;
            Ok::<_, String>((key, bytes))
        }
    };
    let (key, bytes) = read(GOLDEN).await?;
    let golden: GoldenRecord = serde_json::from_slice(&bytes).map_err(|e| format!("{key}: {e}"))?;
    let (key, bytes) = read(JOURNAL).await?;
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| format!("{key}: {e}"))?;
    let truth = journal.ground_truth.clone();
    let lake = Lake::open_s3(at.conn, at.bucket, at.root, &CatalogKind::File).await;
    let mut verifier = Verifier::new(GoldenManifest::from(golden));
    let verdict_key = record_key(at.root, VERDICT);
    if at.objects.iter().any(|o| o.key == verdict_key) {
        // An earlier pass judged this lake and stopped before it reported: its verdict stands
        // (the lake may have been reverted since, which is no repair), and a revert it began is
        // completed.
        let bytes = whole.get(&verdict_key).await.map_err(|e| format!("{verdict_key}: {e}"))?;
        *result = serde_json::from_slice(&bytes).map_err(|e| format!("{verdict_key}: {e}"))?;
        if result.reverted && !verifier.verify(&lake).await.map_err(|e| format!("verifying: {e}"))?.healed {
            revert(&journal, &lake, &mut verifier, result, at).await?;
        }
        return Ok(());
    }
    let verification =
        verifier.verify(&lake).await.map_err(|e| format!("verifying s3://{}/{}: {e}", at.bucket, at.root))?;

    let mut obs = Observation::default();
    for event in incidents(at, whole).await? {
        let elapsed = (event_time(&event) - record.injected_at).to_std().unwrap_or(Duration::ZERO);
        obs.record(elapsed, event, &truth);
    }
    if verification.healed {
        obs.time_to_repair = Some(last_write_after(at, record).unwrap_or(Duration::ZERO));
    }
    let damage = damage_kept(&journal, &truth, lake.store.as_ref(), at.quarantine)
        .await
        .map_err(|e| format!("looking for the damaged objects: {e}"))?;
    verdict::score(result, scenario, &obs, &verification, truth.locations().len(), &damage, at.incidents_observed);
    result.locations_total = truth.locations().len();
    result.rows_expected = verification.rows_expected;
    result.duration_ms = (chrono::Utc::now() - record.injected_at).num_milliseconds().max(0) as f64;
    // Whatever the healer left broken goes back to how it was before the fault.
    result.reverted = !verification.healed;
    result.ground_truth = Some(truth);
    result.verification = Some(verification);
    // The verdict is kept before anything changes the lake, so a pass stopped midway does not
    // judge the reverted lake as repaired.
    let json = serde_json::to_vec_pretty(result).map_err(|e| format!("the verdict: {e}"))?;
    whole.put(&verdict_key, json.into()).await.map_err(|e| format!("writing {verdict_key}: {e}"))?;
    if result.reverted {
        revert(&journal, &lake, &mut verifier, result, at).await?;
    }
    Ok(())
}

/// Reverts the lake from its journal and checks that it equals golden again.
async fn revert(
    journal: &Journal,
    lake: &Lake,
    verifier: &mut Verifier,
    result: &mut ScenarioResult,
    at: &GameDayLake<'_>,
) -> Result<(), String> {
    journal.revert(lake).await.map_err(|e| format!("reverting s3://{}/{}: {e}", at.bucket, at.root))?;
    let after = verifier.verify(lake).await.map_err(|e| format!("verifying after the revert: {e}"))?;
    if !after.healed {
        result.failures.push(format!(
            "revert: the lake is still not equal to golden after reverting the journal ({})",
            after.describe()
        ));
        result.status = crate::run::result::Status::Failed;
    }
    Ok(())
}

/// The healer events collected into the lake, in the order the healer stamped them.
async fn incidents(at: &GameDayLake<'_>, whole: &dyn ObjectStore) -> Result<Vec<HealerEvent>, String> {
    let prefix = incidents_prefix(at.root);
    let mut events = Vec::new();
    for object in at.objects.iter().filter(|o| o.key.starts_with(&prefix)) {
        let bytes = whole.get(&object.key).await.map_err(|e| format!("{}: {e}", object.key))?;
        // A record that is not an event was not written by the scoring step: not evidence.
        if let Ok(event) = serde_json::from_slice::<HealerEvent>(&bytes) {
            events.push(event);
        }
    }
    events.sort_by_key(event_time);
    Ok(events)
}

fn event_time(event: &HealerEvent) -> chrono::DateTime<chrono::Utc> {
    match event {
        HealerEvent::Incident { at, .. }
        | HealerEvent::Repair { at, .. }
        | HealerEvent::Unrepairable { at, .. }
        | HealerEvent::Resolved { at, .. }
        | HealerEvent::Crawler { at, .. }
        | HealerEvent::Scan { at, .. }
        | HealerEvent::PassFailed { at, .. } => *at,
    }
}

/// From injection to the last write to the lake's data or catalog after it.
fn last_write_after(at: &GameDayLake<'_>, record: &InjectionRecord) -> Option<Duration> {
    let own = [HARNESS_RECORDS_PREFIX, HEALER_STATE_PREFIX].map(|p| format!("{}/{p}/", at.root));
    at.objects.iter().filter(|o| !own.iter().any(|p| o.key.starts_with(p))).filter_map(|o| o.modified).max().map(
        |last| {
            // S3 keeps whole seconds: the write happened within the second after, and the
            // later bound is taken so the figure never flatters the healer.
            let last = if last.timestamp_subsec_nanos() == 0 { last + chrono::Duration::seconds(1) } else { last };
            (last - record.injected_at).to_std().unwrap_or(Duration::ZERO)
        },
    )
}

fn journal_url(at: &GameDayLake<'_>) -> PathBuf {
    PathBuf::from(format!("s3://{}/{}", at.bucket, record_key(at.root, JOURNAL)))
}

/// A result for a lake that could not be judged at all.
fn error_result(record: &InjectionRecord, reason: String) -> ScenarioResult {
    let mut result = ScenarioResult::unjudged(&record.scenario, Path::new(&record.scenario_file), "aws", record.seed);
    result.reason = Some(reason);
    result
}
