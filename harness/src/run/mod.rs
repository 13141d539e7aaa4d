//! Running suites: one target started for the whole suite, each scenario run through the one
//! loop ([`runner`]) on it, observed ([`observe`]), scored ([`verdict`], [`scoring`]) into
//! [`result`]s.

mod concurrent;
pub mod healer_choice;
mod incident_feed;
pub mod kept_journals;
pub mod observe;
pub mod progress;
pub mod result;
pub mod rollback;
mod runner;
pub mod scores;
pub mod scoring;
pub(crate) mod verdict;

pub use healer_choice::HealerChoice;

use crate::scenario::Scenario;
use crate::targets::{Target, TargetEnv, TargetOptions};
use progress::Progress;
use result::{ScenarioResult, Status, SuiteReport};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a suite runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub target: Target,
    /// The run seed: same seed, same fixtures, same faults.
    pub seed: u64,
    /// Who heals: the bundled healer, someone else, or nobody (the bundled healer detect-only:
    /// every repair expectation must then fail).
    pub healer: HealerChoice,
    /// `--healer external`: the SNS topic the external healer publishes its incidents to (TTD
    /// and detection are not observed without it).
    pub incident_topic: Option<String>,
    /// Where lakes and journals go (default: a new temporary directory, removed afterwards).
    pub workdir: Option<PathBuf>,
    /// Keep each scenario's lake, golden manifest and journal after it ran.
    pub keep_workdir: bool,
    /// Without `keep_workdir`: where the journals of scenarios that did not pass are copied
    /// before their work directory goes (see [`kept_journals`]); `None` keeps none.
    pub keep_journals_in: Option<PathBuf>,
    /// Extra time after repair to catch late false incidents.
    pub settle: Duration,
    /// How the target is started (provider, AWS guard configuration).
    pub target_options: TargetOptions,
    /// Publish the healer's incidents and repairs to this SNS topic (on the target's endpoint).
    pub sns_topic: Option<String>,
    /// The healer's reconcile interval (default: the target's, see [`Target::reconcile_every`]).
    /// A long one proves that detection comes from events.
    pub reconcile_every: Option<Duration>,
    /// Count every healer event of the run in these metrics (see [`crate::metrics`]).
    pub healer_metrics: Option<Arc<lakehealer::metrics::HealerMetrics>>,
    /// How many scenarios run at once (each has its own lake, bucket or database). 1 runs them
    /// one after another, the only way every scenario has the machine to itself.
    pub jobs: usize,
    /// Existing-table mode: every scenario breaks this table (one scenario at a time, each
    /// reverted before the next) instead of seeding a fixture.
    pub existing: Option<crate::targets::existing::ExistingTable>,
    /// Told each scenario's phases as it reaches them (a live display, a log).
    pub progress: Option<progress::Watch>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: Target::Local,
            seed: 7,
            healer: HealerChoice::Bundled,
            incident_topic: None,
            workdir: None,
            keep_workdir: false,
            keep_journals_in: None,
            settle: Duration::from_millis(50),
            target_options: TargetOptions::default(),
            sns_topic: None,
            reconcile_every: None,
            healer_metrics: None,
            jobs: 1,
            existing: None,
            progress: None,
        }
    }
}

/// Errors that stop a whole run (not a single scenario).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("work directory {path}: {source}")]
    Workdir { path: String, source: std::io::Error },
    #[error("target: {0}")]
    Target(#[from] crate::targets::TargetError),
    #[error("--sns-topic needs an AWS target; {0} has no SNS (nothing was run)")]
    SnsWithoutAws(&'static str),
    #[error(transparent)]
    Existing(#[from] crate::targets::existing::ExistingError),
}

/// Runs scenarios one after another on one target.
pub async fn run_suite(scenarios: &[Scenario], opts: &RunOptions) -> Result<SuiteReport, RunError> {
    run_suite_until(scenarios, opts, |_| None).await
}

/// [`run_suite`], stopping early: after each scenario `stop` may name a reason, and every
/// scenario not yet run is then reported skipped with it (nothing more is injected).
pub async fn run_suite_until(
    scenarios: &[Scenario],
    opts: &RunOptions,
    stop: impl Fn(&ScenarioResult) -> Option<String>,
) -> Result<SuiteReport, RunError> {
    let target = opts.existing.as_ref().map_or(opts.target, |t| t.target());
    if opts.sns_topic.is_some() && matches!(target, Target::Local | Target::Postgres) {
        return Err(RunError::SnsWithoutAws(target.name()));
    }
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let (workdir, _guard) = match &opts.workdir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| RunError::Workdir { path: dir.display().to_string(), source: e })?;
            (dir.clone(), None)
        }
        None => {
            let tmp = tempfile::Builder::new()
                .prefix("lakechaos-")
                .tempdir()
                .map_err(|e| RunError::Workdir { path: "temporary directory".into(), source: e })?;
            let path = tmp.path().to_path_buf();
            (
                path,
                if opts.keep_workdir {
                    let _ = tmp.keep();
                    None
                } else {
                    Some(tmp)
                },
            )
        }
    };
    tracing::info!(workdir = %workdir.display(), "running {} scenario(s)", scenarios.len());
    let (env, claim) = match &opts.existing {
        Some(table) => {
            let aws = if table.is_postgres() {
                table.postgres().await?;
                None
            } else {
                table.preflight().await?.1
            };
            // No other run may break the table while this one does.
            let run = opts.target_options.run_id.clone().unwrap_or_else(crate::targets::aws_guard::default_run_id);
            let claim = table.claim(&run).await?;
            (TargetEnv::for_existing(table.clone(), aws), Some(claim))
        }
        None => (opts.target.start(&opts.target_options).await?, None),
    };
    // One table: its scenarios run one after another, each reverted before the next.
    if opts.jobs > 1 && opts.existing.is_none() {
        let envs = concurrent::servers(env, opts, scenarios.len()).await?;
        let results = concurrent::run_all(&envs, scenarios, opts, &workdir, stop).await;
        return Ok(suite_report(opts, started_at, started, results));
    }
    let mut results = Vec::with_capacity(scenarios.len());
    let mut stopped: Option<String> = None;
    for (index, scenario) in scenarios.iter().enumerate() {
        progress::report(&opts.progress, &scenario.name, Progress::Started { index, total: scenarios.len() });
        if let Some(why) = &stopped {
            results.push(ScenarioResult {
                status: Status::Skipped,
                reason: Some(why.clone()),
                ..blank(scenario, opts)
            });
            progress::report(
                &opts.progress,
                &scenario.name,
                Progress::Finished { status: Status::Skipped, duration_ms: 0.0 },
            );
            continue;
        }
        let dir = workdir.join(&scenario.name);
        let mut result = run_scenario_in(&env, scenario, opts, &dir).await;
        if !opts.keep_workdir {
            kept_journals::keep_if_unpassed(&mut result, opts.keep_journals_in.as_deref());
            let _ = std::fs::remove_dir_all(&dir);
        }
        stopped = stop(&result).map(|why| format!("not run: the run stopped after {}: {why}", result.name));
        results.push(result);
    }
    if let Some(claim) = claim {
        claim.release().await;
    }
    Ok(suite_report(opts, started_at, started, results))
}

fn suite_report(
    opts: &RunOptions,
    started_at: chrono::DateTime<chrono::Utc>,
    started: Instant,
    results: Vec<ScenarioResult>,
) -> SuiteReport {
    SuiteReport {
        target: opts.target.name().to_string(),
        seed: opts.seed,
        no_heal: opts.healer == HealerChoice::None,
        healer: opts.healer,
        jobs: opts.jobs.clamp(1, results.len().max(1)),
        started_at,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        scenarios: results,
    }
}

fn blank(scenario: &Scenario, opts: &RunOptions) -> ScenarioResult {
    ScenarioResult::blank(scenario, opts.target.name(), opts.seed)
}

/// Runs one scenario in `dir` (journal and golden manifest there; a local lake in `dir/lake`),
/// starting the target's services for it alone.
pub async fn run_scenario(scenario: &Scenario, opts: &RunOptions, dir: &Path) -> ScenarioResult {
    match opts.target.start(&opts.target_options).await {
        Ok(env) => run_scenario_in(&env, scenario, opts, dir).await,
        Err(e) => ScenarioResult { reason: Some(format!("target: {e}")), ..blank(scenario, opts) },
    }
}

/// Runs one scenario on an already started target.
pub async fn run_scenario_in(env: &TargetEnv, scenario: &Scenario, opts: &RunOptions, dir: &Path) -> ScenarioResult {
    let started = Instant::now();
    let mut result = blank(scenario, opts);
    if let Some(reason) = crate::backend::skip_reason(env, scenario) {
        result.status = Status::Skipped;
        result.reason = Some(reason);
    } else if let Err(e) = runner::run_steps(env, scenario, opts, dir, &mut result).await {
        result.status = Status::Error;
        result.error_stage = Some(e.stage);
        result.reason = Some(lakechaos_lake::redact::text(&e.to_string()));
    }
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    progress::report(
        &opts.progress,
        &scenario.name,
        Progress::Finished { status: result.status, duration_ms: result.duration_ms },
    );
    result
}
