//! The scheduled scoring step: the half of a game day that runs after the chaos function
//! injected and the deployed healer had its time. The Terraform module invokes the chaos
//! function with `{"score": {}}` on a schedule (every few minutes); each pass
//!
//! 1. moves the healer's incidents waiting in the incident ledger into their game-day lakes
//!    ([`super::ledger`]);
//! 2. scores every run not scored yet whose lakes are all past their deadline: each lake is
//!    verified against its golden record, its time to detect and repair measured
//!    ([`super::score_lake`]), whatever is still broken reverted from its journal; the run's
//!    metrics go to CloudWatch (and a pushgateway when configured) under the metric names of
//!    `lakechaos run`, and its JUnit, JSON and HTML reports to `<prefix>/<run>/_reports/`
//!    (`report.json` last: it marks the run scored);
//! 3. deletes the lakes of runs older than the retention (default 7 days); their reports stay.
//!
//! A periodic pass rather than a one-off schedule per injection: it needs no rights to create
//! schedules or pass roles, a pass that fails is simply done again by the next one, and the
//! figures do not depend on when the pass runs (they come from the events' and objects' own
//! times), only the report's arrival does.

use super::injection::{root_of_injection, InjectionRecord};
use super::ledger::{self, Collected};
use super::score_lake::{score_lake, GameDayLake};
use crate::backend::damage::QuarantineAt;
use crate::metrics::publish::Destinations;
use crate::report::{html, json, junit};
use crate::run::result::{ScenarioResult, Status, SuiteReport};
use crate::run::HealerChoice;
use crate::targets::aws_guard::{AwsGuardConfig, AwsRun, GuardError};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use lakechaos_lake::layout::QUARANTINE_PREFIX;
use lakechaos_lake::{AwsConnection, Lake, LakeError, ObjectMeta, ObjectStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a run's reports go, under the run's prefix.
pub const REPORTS: &str = "_reports";

/// The scoring step's settings (the chaos function's environment).
#[derive(Clone, Debug)]
pub struct ScoreConfig {
    pub guard: AwsGuardConfig,
    /// `LAKECHAOS_INCIDENT_LEDGER`: the URL of the queue subscribed to the healer's incident
    /// topic. Unset, detection is not observed (reported so) and repair is judged alone.
    pub ledger: Option<String>,
    /// `LAKECHAOS_QUARANTINE`: the healer's quarantine (`s3://BUCKET[/PREFIX]`, as
    /// `LAKEHEALER_QUARANTINE`); unset, quarantine is `_quarantine/` inside each lake.
    pub quarantine: Option<String>,
    /// `LAKECHAOS_RETENTION_DAYS` (default 7).
    pub retention: chrono::Duration,
    /// `LAKECHAOS_METRICS_NAMESPACE`: CloudWatch namespace of the run metrics (unset: none).
    pub cloudwatch_namespace: Option<String>,
    /// `LAKECHAOS_PUSHGATEWAY`: pushgateway base URL (unset: none).
    pub pushgateway: Option<String>,
}

/// Default retention of game-day lakes.
pub const RETENTION_DAYS: i64 = 7;

impl ScoreConfig {
    /// From the function's environment (the guard's variables are the chaos function's).
    pub fn from_env(guard: AwsGuardConfig) -> Result<ScoreConfig, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let retention = match var("LAKECHAOS_RETENTION_DAYS") {
            None => RETENTION_DAYS,
            Some(days) => days.trim().parse::<i64>().ok().filter(|d| *d >= 1).ok_or_else(|| {
                format!("LAKECHAOS_RETENTION_DAYS: expected a whole number of days (1 or more), got {days:?}")
            })?,
        };
        Ok(ScoreConfig {
            guard,
            ledger: var("LAKECHAOS_INCIDENT_LEDGER"),
            quarantine: var("LAKECHAOS_QUARANTINE"),
            retention: chrono::Duration::days(retention),
            cloudwatch_namespace: var("LAKECHAOS_METRICS_NAMESPACE"),
            pushgateway: var("LAKECHAOS_PUSHGATEWAY"),
        })
    }
}

/// A scoring invocation: `{"score": {}}`, or `{"score": {"run_id": "gd-1"}}` for one run.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    #[serde(default)]
    pub run_id: Option<String>,
}

/// Why a scoring pass could not run at all (one run failing to score is reported in
/// [`ScorePass::errors`] instead, and retried by the next pass).
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("{what}: {source}")]
    Store {
        what: String,
        #[source]
        source: LakeError,
    },
}

/// What one pass did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScorePass {
    pub account: String,
    /// Healer events moved from the ledger into their lakes (none without a ledger).
    pub collected: Option<Collected>,
    pub scored: Vec<RunScore>,
    /// Runs not due yet, with when they are.
    pub waiting: Vec<Waiting>,
    /// Runs whose lakes were deleted (older than the retention).
    pub expired: Vec<String>,
    /// Runs that could not be scored or deleted this time, and why.
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Waiting {
    pub run_id: String,
    pub due_at: DateTime<Utc>,
}

/// One run's verdict, in brief (the reports hold everything).
#[derive(Clone, Debug, Serialize)]
pub struct RunScore {
    pub run_id: String,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    /// Keys of the JUnit, JSON and HTML reports.
    pub reports: Vec<String>,
    /// Data sent to CloudWatch, and the pushgateway group, when configured.
    pub cloudwatch_data: Option<usize>,
    pub pushed_to: Option<String>,
    /// A publishing failure (the reports are written regardless).
    pub metrics_error: Option<String>,
    pub scenarios: Vec<ScenarioBrief>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioBrief {
    pub scenario: String,
    pub lake: String,
    pub status: Status,
    pub time_to_detect_ms: Option<f64>,
    pub time_to_repair_ms: Option<f64>,
    pub reverted: bool,
    pub failures: Vec<String>,
    pub reason: Option<String>,
}

/// One run as the bucket holds it.
#[derive(Default)]
struct RunState {
    /// Lakes with their injection record's key.
    lakes: Vec<String>,
    scored: bool,
    /// The earliest object time, for runs whose records are unreadable.
    first_write: Option<DateTime<Utc>>,
}

/// One scoring pass at `now`.
pub async fn score(
    config: &ScoreConfig,
    conn: AwsConnection,
    request: &ScoreRequest,
    now: DateTime<Utc>,
) -> Result<ScorePass, ScoreError> {
    let run = AwsRun::check(config.guard.clone(), conn, None, "the function's environment (LAKECHAOS_*)").await?;
    let conn = run.connection().clone();
    let bucket = run.bucket().to_string();
    let prefix = config.guard.prefix.trim_matches('/').to_string();
    let whole = Lake::bucket_store(&conn, &bucket).await;
    let store_error = |what: String| move |source| ScoreError::Store { what, source };
    let mut pass = ScorePass { account: run.account().to_string(), ..ScorePass::default() };
    if let Some(queue) = &config.ledger {
        let collected = ledger::collect(&conn, queue, whole.as_ref(), &bucket, &prefix)
            .await
            .map_err(store_error(format!("collecting incidents from {queue}")))?;
        pass.collected = Some(collected);
    }
    let objects =
        whole.list(&format!("{prefix}/")).await.map_err(store_error(format!("listing s3://{bucket}/{prefix}/")))?;
    let runs = runs_of(&objects, &prefix);
    let quarantine = match &config.quarantine {
        Some(url) => {
            Some(Lake::open_store(&conn, url).await.map_err(store_error(format!("LAKECHAOS_QUARANTINE {url}")))?)
        }
        None => None,
    };

    let mut ages: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for (run_id, state) in &runs {
        if request.run_id.as_ref().is_some_and(|wanted| wanted != run_id) {
            continue;
        }
        let mut records = Vec::new();
        for key in &state.lakes {
            match read_record(whole.as_ref(), key).await {
                Ok(r) => records.push((root_of_injection(key).expect("listed as a record").to_string(), r)),
                Err(e) => pass.errors.push(format!("{run_id}: {e}")),
            }
        }
        let oldest = records.iter().map(|(_, r)| r.injected_at).min().or(state.first_write);
        if let Some(oldest) = oldest {
            ages.insert(run_id.clone(), oldest);
        }
        if state.scored || records.is_empty() {
            continue;
        }
        let due = records.iter().map(|(_, r)| r.due_at).max().expect("not empty");
        if due > now {
            pass.waiting.push(Waiting { run_id: run_id.clone(), due_at: due });
            continue;
        }
        let mut results = Vec::with_capacity(records.len());
        for (root, record) in &records {
            let lake_objects: Vec<ObjectMeta> =
                objects.iter().filter(|o| o.key.starts_with(&format!("{root}/"))).cloned().collect();
            let lake_store;
            let quarantine_at = match &quarantine {
                Some(store) => QuarantineAt { store: store.as_ref(), prefix: root },
                None => {
                    lake_store = lakechaos_lake::S3Store::connect(&conn, &bucket, root).await;
                    QuarantineAt { store: &lake_store, prefix: QUARANTINE_PREFIX }
                }
            };
            let at = GameDayLake {
                conn: &conn,
                bucket: &bucket,
                root,
                objects: &lake_objects,
                quarantine: quarantine_at,
                incidents_observed: config.ledger.is_some(),
            };
            results.push((format!("s3://{bucket}/{root}"), score_lake(&at, whole.as_ref(), record).await));
        }
        let started = records.iter().map(|(_, r)| r.injected_at).min().expect("not empty");
        match finish_run(config, &conn, whole.as_ref(), &prefix, run_id, records[0].1.seed, started, results).await {
            Ok(score) => pass.scored.push(score),
            Err(e) => pass.errors.push(format!("{run_id}: {e}")),
        }
    }

    for (run_id, oldest) in ages {
        if now - oldest <= config.retention {
            continue;
        }
        // Listed again: this pass may have written records into the run's lakes.
        let run_prefix = format!("{prefix}/{run_id}/");
        let keys = match whole.list(&run_prefix).await {
            Ok(objects) => {
                objects.into_iter().map(|o| o.key).filter(|k| !k.starts_with(&format!("{run_prefix}{REPORTS}/")))
            }
            Err(e) => {
                pass.errors.push(format!("{run_id}: listing s3://{bucket}/{run_prefix}: {e}"));
                continue;
            }
        };
        let mut failed = None;
        for key in keys {
            if let Err(e) = whole.delete(&key).await {
                failed = Some(format!("{run_id}: deleting s3://{bucket}/{key}: {e}"));
                break;
            }
        }
        match failed {
            Some(e) => pass.errors.push(e),
            None => pass.expired.push(run_id),
        }
    }
    Ok(pass)
}

/// The runs under `prefix/`, from one listing.
fn runs_of(objects: &[ObjectMeta], prefix: &str) -> BTreeMap<String, RunState> {
    let mut runs: BTreeMap<String, RunState> = BTreeMap::new();
    for object in objects {
        let Some(rest) = object.key.strip_prefix(&format!("{prefix}/")) else { continue };
        let Some((run_id, within)) = rest.split_once('/') else { continue };
        let state = runs.entry(run_id.to_string()).or_default();
        if within.starts_with(&format!("{REPORTS}/")) {
            state.scored |= within == format!("{REPORTS}/report.json");
            continue;
        }
        if let Some(t) = object.modified {
            state.first_write = Some(state.first_write.map_or(t, |f| f.min(t)));
        }
        // `scenario/_lakechaos/injection.json`: one lake.
        if root_of_injection(within).is_some_and(|scenario| !scenario.contains('/')) {
            state.lakes.push(object.key.clone());
        }
    }
    runs
}

async fn read_record(whole: &dyn ObjectStore, key: &str) -> Result<InjectionRecord, String> {
    let bytes = whole.get(key).await.map_err(|e| format!("{key}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{key}: {e}"))
}

/// Publishes a scored run's metrics and writes its reports.
#[allow(clippy::too_many_arguments)]
async fn finish_run(
    config: &ScoreConfig,
    conn: &AwsConnection,
    whole: &dyn ObjectStore,
    prefix: &str,
    run_id: &str,
    seed: u64,
    started_at: DateTime<Utc>,
    results: Vec<(String, ScenarioResult)>,
) -> Result<RunScore, String> {
    let scenarios: Vec<ScenarioBrief> = results
        .iter()
        .map(|(lake, r)| ScenarioBrief {
            scenario: r.name.clone(),
            lake: lake.clone(),
            status: r.status,
            time_to_detect_ms: r.time_to_detect_ms,
            time_to_repair_ms: r.time_to_repair_ms,
            reverted: r.reverted,
            failures: r.failures.clone(),
            reason: r.reason.clone(),
        })
        .collect();
    let suite = SuiteReport {
        target: "aws".into(),
        seed,
        no_heal: false,
        healer: HealerChoice::External,
        jobs: 1,
        started_at,
        duration_ms: (Utc::now() - started_at).num_milliseconds().max(0) as f64,
        scenarios: results.into_iter().map(|(_, r)| r).collect(),
    };
    let destinations = Destinations {
        pushgateway: config.pushgateway.clone(),
        cloudwatch: config.cloudwatch_namespace.clone().map(|ns| (conn.clone(), ns)),
        textfile: None,
        run_id: run_id.to_string(),
    };
    let (mut cloudwatch_data, mut pushed_to, mut metrics_error) = (None, None, None);
    if destinations.any() {
        match destinations.publish(&suite, None).await {
            Ok(published) => {
                cloudwatch_data = published.cloudwatch_data;
                pushed_to = published.pushed_to;
            }
            Err(e) => metrics_error = Some(e.to_string()),
        }
    }
    let suites = std::slice::from_ref(&suite);
    let junit = junit::report(suites).to_string().map_err(|e| format!("the JUnit report: {e}"))?;
    let document = serde_json::to_vec_pretty(&json::document(suites)).map_err(|e| format!("the JSON report: {e}"))?;
    let reports = [
        ("junit.xml", junit.into_bytes()),
        ("report.html", html::render(suites).into_bytes()),
        ("report.json", document),
    ];
    let mut keys = Vec::new();
    for (name, body) in reports {
        let key = format!("{prefix}/{run_id}/{REPORTS}/{name}");
        whole.put(&key, Bytes::from(body)).await.map_err(|e| format!("writing {key}: {e}"))?;
        keys.push(key);
    }
    Ok(RunScore {
        run_id: run_id.to_string(),
        passed: suite.count(Status::Passed),
        failed: suite.count(Status::Failed),
        errors: suite.count(Status::Error),
        reports: keys,
        cloudwatch_data,
        pushed_to,
        metrics_error,
        scenarios,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str, minute: u32) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 1,
            version_token: String::new(),
            modified: chrono::DateTime::from_timestamp(1_700_000_000 + i64::from(minute) * 60, 0),
        }
    }

    #[test]
    fn runs_are_found_with_their_lakes_reports_and_first_write() {
        let objects = [
            meta("chaos/gd-1/a/_lakechaos/injection.json", 2),
            meta("chaos/gd-1/a/orders/dt=1/p.parquet", 1),
            meta("chaos/gd-1/b/_lakechaos/injection.json", 3),
            meta("chaos/gd-1/_reports/report.json", 9),
            meta("chaos/gd-2/a/_lakechaos/injection.json", 5),
            meta("chaos/gd-2/_reports/junit.xml", 9),
            meta("chaos/gd-3/a/_lakechaos/incidents/_lakechaos/injection.json", 5),
            meta("chaos/loose.txt", 0),
        ];
        let runs = runs_of(&objects, "chaos");
        assert_eq!(runs.keys().collect::<Vec<_>>(), ["gd-1", "gd-2", "gd-3"]);
        let gd1 = &runs["gd-1"];
        assert_eq!(gd1.lakes.len(), 2);
        assert!(gd1.scored, "report.json marks a run scored");
        assert_eq!(gd1.first_write, objects[1].modified);
        assert!(!runs["gd-2"].scored, "only report.json (written last) marks a run scored");
        assert!(runs["gd-3"].lakes.is_empty(), "an injection record deeper in a lake is not a lake's");
    }
}
