//! The runner: provision → seed → steady state → journal → inject → heal (in-process healer) →
//! time detection and repair → verify against golden → score → revert what is left.

use crate::result::{ScenarioResult, Status, SuiteReport};
use crate::scenario::{ExpectedOutcome, Scenario};
use crate::scoring::{self, Measured};
use crate::target::{Target, TargetEnv, TargetOptions};
use lakechaos_faults::{apply, FaultContext, Journal};
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{derive_seed, seed_lake, Verification};
use lakehealer::events::HealerEvent;
use lakehealer::{Healer, HealerConfig, Mode};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How a suite runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub target: Target,
    /// The run seed: same seed, same fixtures, same faults.
    pub seed: u64,
    /// Run the healer detect-only: every repair expectation must then fail.
    pub no_heal: bool,
    /// Where lakes and journals go (default: a new temporary directory, removed afterwards).
    pub workdir: Option<PathBuf>,
    /// Keep each scenario's lake, golden manifest and journal after it ran.
    pub keep_workdir: bool,
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            target: Target::Local,
            seed: 7,
            no_heal: false,
            workdir: None,
            keep_workdir: false,
            settle: Duration::from_millis(50),
            target_options: TargetOptions::default(),
            sns_topic: None,
            reconcile_every: None,
            healer_metrics: None,
        }
    }
}

/// `sink`, also feeding the run's healer metrics when the run keeps them.
pub(crate) fn counted(sink: lakehealer::EventSink, opts: &RunOptions) -> lakehealer::EventSink {
    match &opts.healer_metrics {
        Some(metrics) => lakehealer::publish::fanout(vec![sink, metrics.sink()]),
        None => sink,
    }
}

/// Errors that stop a whole run (not a single scenario).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("work directory {path}: {source}")]
    Workdir { path: String, source: std::io::Error },
    #[error("target: {0}")]
    Target(String),
}

/// Interval at which the runner re-verifies the lake while waiting for repair.
const VERIFY_EVERY: Duration = Duration::from_millis(10);

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
    let env = opts.target.start(&opts.target_options).await.map_err(|e| RunError::Target(e.to_string()))?;
    let mut results = Vec::with_capacity(scenarios.len());
    let mut stopped: Option<String> = None;
    for scenario in scenarios {
        if let Some(why) = &stopped {
            results.push(ScenarioResult {
                status: Status::Skipped,
                reason: Some(why.clone()),
                ..blank(scenario, opts)
            });
            continue;
        }
        let dir = workdir.join(&scenario.name);
        let result = run_scenario_in(&env, scenario, opts, &dir).await;
        if !opts.keep_workdir {
            let _ = std::fs::remove_dir_all(&dir);
        }
        stopped = stop(&result).map(|why| format!("not run: the run stopped after {}: {why}", result.name));
        results.push(result);
    }
    Ok(SuiteReport {
        target: opts.target.name().to_string(),
        seed: opts.seed,
        no_heal: opts.no_heal,
        started_at,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        scenarios: results,
    })
}

pub(crate) fn blank(scenario: &Scenario, opts: &RunOptions) -> ScenarioResult {
    ScenarioResult {
        name: scenario.name.clone(),
        source: scenario.source.clone(),
        target: opts.target.name().to_string(),
        fault_class: scenario.fault.class().to_string(),
        fault_mode: scenario.fault.mode(),
        seed: opts.seed,
        status: Status::Error,
        failures: Vec::new(),
        slo_breaches: Vec::new(),
        reason: None,
        slo: scenario.slo,
        expected_outcome: scenario.expect.outcome,
        rows_lost_allowed: scenario.expect.rows_lost,
        time_to_detect_ms: None,
        time_to_repair_ms: None,
        time_to_unrepairable_ms: None,
        damaged_objects: 0,
        damaged_objects_kept: 0,
        detection_tier: None,
        detected_via: None,
        event_to_detect_ms: None,
        locations_detected: 0,
        locations_total: 0,
        rows_expected: 0,
        rows_lost: None,
        incidents: 0,
        false_incidents: Vec::new(),
        repairs: 0,
        pages_decoded: 0,
        footers_read: 0,
        ground_truth: None,
        verification: None,
        reverted: false,
        journal: None,
        dbt_probe: None,
        duration_ms: 0.0,
    }
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
    // On PostgreSQL a scenario's faults are SQL on tables, so object-store and catalog needs do
    // not apply; what decides is whether the fault has a meaning there.
    let skip = match env.target() {
        Target::Postgres => crate::pg_runner::skip_reason(scenario),
        _ => env
            .missing(&scenario.needs)
            .map(|(cap, why)| format!("needs {}, which target {} lacks: {why}", cap.name(), opts.target.name())),
    };
    if let Some(reason) = skip {
        result.status = Status::Skipped;
        result.reason = Some(reason);
        return result;
    }
    let ran = match env.target() {
        Target::Postgres => crate::pg_runner::run_inner(env, scenario, opts, dir, &mut result).await,
        _ => run_inner(env, scenario, opts, dir, &mut result).await,
    };
    if let Err(reason) = ran {
        result.status = Status::Error;
        result.reason = Some(reason);
    }
    result.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    result
}

/// The seed of one of a scenario's random streams.
pub fn stream_seed(run_seed: u64, scenario: &str, stream: &str) -> u64 {
    derive_seed(derive_seed(run_seed, scenario), stream)
}

async fn run_inner(
    env: &TargetEnv,
    scenario: &Scenario,
    opts: &RunOptions,
    dir: &Path,
    result: &mut ScenarioResult,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("work directory {}: {e}", dir.display()))?;
    let provisioned =
        env.provision(&scenario.name, dir, scenario.versioning).await.map_err(|e| format!("provision: {e}"))?;
    let lake = provisioned.lake.clone();

    // Seed and record golden.
    let seeded =
        seed_lake(&lake, &scenario.dataset, &scenario.fixture, stream_seed(opts.seed, &scenario.name, "fixture"))
            .await
            .map_err(|e| format!("seed: {e}"))?;
    result.rows_expected = seeded.golden.total_rows();
    let golden_json = serde_json::to_vec_pretty(&seeded.golden).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("golden.json"), golden_json).map_err(|e| format!("golden manifest: {e}"))?;
    let mut verifier = Verifier::new(seeded.golden.clone());

    // Steady state: the healer must find nothing, and the harness must agree.
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, HealerEvent)>();
    let observer: lakehealer::EventSink = Arc::new(move |event| {
        let _ = tx.send((Instant::now(), event));
    });
    let (sink, publisher) = match (&opts.sns_topic, env.connection()) {
        (Some(arn), Some(conn)) => {
            let (publish, task) = lakehealer::publish::sns_sink(lakechaos_lake::Topic::connect(conn, arn).await);
            (lakehealer::publish::fanout(vec![observer, publish]), Some(task))
        }
        (Some(_), None) => return Err(format!("--sns-topic needs an AWS target; {} has no SNS", opts.target.name())),
        (None, _) => (observer, None),
    };
    let mode = if opts.no_heal { Mode::DetectOnly } else { Mode::Heal };
    let config = HealerConfig {
        mode,
        reconcile_every: opts.reconcile_every.unwrap_or_else(|| opts.target.reconcile_every()),
        event_queue: provisioned.events.clone(),
        ..HealerConfig::default()
    };
    let healer = Arc::new(Healer::new(lake.clone(), config, counted(sink, opts)));
    let steady = healer.scan().await.map_err(|e| format!("steady state: healer failed: {e}"))?;
    if !steady.findings.is_empty() {
        let list: Vec<String> = steady.findings.iter().map(|f| format!("{} at {}", f.kind, f.location)).collect();
        return Err(format!("steady state does not hold before injection: {}", list.join("; ")));
    }
    let baseline = verifier.verify(&lake).await.map_err(|e| format!("steady state: {e}"))?;
    if !baseline.healed {
        return Err(format!("steady state: seeded lake does not match its own golden manifest: {baseline:?}"));
    }

    // Plan and journal before touching anything.
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(opts.seed, &scenario.name, "fault"));
    let plan = {
        let mut ctx = FaultContext { lake: &lake, table: &seeded.table, rng: &mut rng };
        scenario.fault.plan(&mut ctx).await.map_err(|e| format!("fault: {e}"))?
    };
    let mut journal = Journal::from_plan(&scenario.name, opts.seed, &provisioned.address, &plan);
    journal.catalog = provisioned.catalog.clone();
    let journal_path = dir.join("journal.json");
    journal.write(&journal_path).map_err(|e| e.to_string())?;
    result.journal = Some(journal_path);
    let truth = plan.ground_truth.clone();
    result.locations_total = truth.locations().len();
    result.ground_truth = Some(truth.clone());

    // Events from seeding are history: the healer's first pass covers them, and they must not
    // be mistaken for the fault's.
    if let Some(queue) = &provisioned.events {
        queue.drain().await.map_err(|e| format!("draining seed events: {e}"))?;
    }

    // Start the healer, wait for its first (clean) pass, then inject.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(lakehealer::watch::watch(healer.clone(), stop_rx));
    first_pass(&mut rx).await?;
    let t0 = Instant::now();
    apply(&lake, &plan).await.map_err(|e| format!("inject: {e}"))?;

    let mut checker = LakeChecker { verifier: &mut verifier, lake: &lake };
    let mut obs = observe(&mut rx, t0, scenario, &truth, &mut checker).await?;
    stop_healer(opts.settle, stop_tx, watcher).await?;
    while let Ok((at, event)) = rx.try_recv() {
        obs.record(at, t0, event, &truth);
    }
    // Every published event has reached SNS once the healer (and with it the sink) is gone.
    drop(healer);
    if let Some(task) = publisher {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }

    // The harness's own verdict, from the lake itself.
    let fin = verifier.verify(&lake).await.map_err(|e| format!("verify: {e}"))?;
    let (kept, damaged) = damaged_objects_kept(&lake, &journal, &truth).await.map_err(|e| format!("verify: {e}"))?;
    score(result, scenario, &obs, &fin, truth.locations().len(), (kept, damaged));
    // Revert what the healer left, from the journal: the lake ends as it started.
    if !fin.healed {
        let journal = Journal::read(result.journal.as_deref().expect("set above")).map_err(|e| e.to_string())?;
        journal.revert(&lake).await.map_err(|e| format!("revert: {e}"))?;
        result.reverted = true;
    }
    result.verification = Some(fin);
    Ok(())
}

/// Re-checks the lake against golden while the runner waits for repair.
#[async_trait::async_trait]
pub(crate) trait Checker: Send {
    async fn check(&mut self) -> Result<Verification, String>;

    /// How often to check when nothing happens; a repair event triggers a check at once.
    fn every(&self) -> Duration {
        VERIFY_EVERY
    }
}

struct LakeChecker<'a> {
    verifier: &'a mut Verifier,
    lake: &'a lakechaos_lake::Lake,
}

#[async_trait::async_trait]
impl Checker for LakeChecker<'_> {
    async fn check(&mut self) -> Result<Verification, String> {
        self.verifier.verify(self.lake).await.map_err(|e| format!("verify: {e}"))
    }
}

/// Waits for the healer's first completed pass (before injection: it must be clean).
pub(crate) async fn first_pass(rx: &mut mpsc::UnboundedReceiver<(Instant, HealerEvent)>) -> Result<(), String> {
    let ready_deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(ready_deadline.into(), rx.recv()).await {
            Ok(Some((_, HealerEvent::Scan { .. }))) => return Ok(()),
            Ok(Some(_)) => continue,
            _ => return Err("healer did not complete its first pass within 30 s".into()),
        }
    }
}

/// Records healer events from injection (`t0`) until the scenario's expectation is met or its
/// deadline passes: for `repaired`, until `checker` finds the lake equal to golden.
pub(crate) async fn observe(
    rx: &mut mpsc::UnboundedReceiver<(Instant, HealerEvent)>,
    t0: Instant,
    scenario: &Scenario,
    truth: &lakechaos_faults::GroundTruth,
    checker: &mut dyn Checker,
) -> Result<Observation, String> {
    let mut obs = Observation::default();
    let deadline = t0
        + match scenario.expect.outcome {
            ExpectedOutcome::Repaired | ExpectedOutcome::Unrepairable => scenario.slo.repair_within,
            ExpectedOutcome::Detected => scenario.slo.detect_within,
        };
    let mut last_check: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let repairs_before = obs.repairs;
        if let Ok(Some((at, event))) = tokio::time::timeout((deadline - now).min(VERIFY_EVERY), rx.recv()).await {
            obs.record(at, t0, event, truth);
            while let Ok((at, event)) = rx.try_recv() {
                obs.record(at, t0, event, truth);
            }
        }
        let due = obs.repairs > repairs_before || last_check.is_none_or(|t| t.elapsed() >= checker.every());
        match scenario.expect.outcome {
            ExpectedOutcome::Repaired if !due => {}
            ExpectedOutcome::Repaired => {
                last_check = Some(Instant::now());
                if checker.check().await?.healed {
                    obs.time_to_repair = Some(Instant::now() - t0);
                    break;
                }
            }
            ExpectedOutcome::Detected if obs.detected_locations.len() == truth.locations().len() => break,
            ExpectedOutcome::Unrepairable if obs.unrepairable_locations.len() == truth.locations().len() => break,
            ExpectedOutcome::Detected | ExpectedOutcome::Unrepairable => {}
        }
    }
    Ok(obs)
}

/// Waits `settle` (late incidents still count against the healer), then stops it.
pub(crate) async fn stop_healer(
    settle: Duration,
    stop: tokio::sync::watch::Sender<bool>,
    watcher: tokio::task::JoinHandle<Result<(), lakehealer::HealerError>>,
) -> Result<(), String> {
    tokio::time::sleep(settle).await;
    let _ = stop.send(true);
    match tokio::time::timeout(Duration::from_secs(30), watcher).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(e))) => {
            tracing::warn!(error = %e, "healer stopped with an error");
            Ok(())
        }
        Ok(Err(e)) => Err(format!("healer task panicked: {e}")),
        Err(_) => Err("healer did not stop within 30 s".into()),
    }
}

/// Scores what was observed and verified into `result`. `objects` is (damaged objects kept,
/// damaged objects).
pub(crate) fn score(
    result: &mut ScenarioResult,
    scenario: &Scenario,
    obs: &Observation,
    fin: &Verification,
    locations_total: usize,
    objects: (usize, usize),
) {
    let (kept, damaged) = objects;
    let measured = Measured {
        time_to_detect: obs.time_to_detect,
        time_to_repair: if fin.healed { obs.time_to_repair } else { None },
        locations_detected: obs.detected_locations.len(),
        locations_total,
        rows_lost: fin.rows_lost,
        false_incidents: obs.false_incidents.len(),
        unhealed_because: (!fin.healed).then(|| describe_unhealed(fin)),
        time_to_unrepairable: (obs.unrepairable_locations.len() == locations_total)
            .then_some(obs.time_to_unrepairable)
            .flatten(),
        damaged_objects_kept: kept,
        damaged_objects: damaged,
    };
    result.failures = scoring::failures(scenario, &measured);
    result.slo_breaches = scoring::slo_breaches(scenario, &measured);
    result.status = if result.failures.is_empty() { Status::Passed } else { Status::Failed };
    result.time_to_detect_ms = measured.time_to_detect.map(|d| d.as_secs_f64() * 1000.0);
    result.time_to_repair_ms = measured.time_to_repair.map(|d| d.as_secs_f64() * 1000.0);
    result.detection_tier = obs.detection_tier.clone();
    result.detected_via = obs.detected_via.clone();
    result.event_to_detect_ms = obs.event_to_detect.map(|d| d.as_secs_f64() * 1000.0);
    result.locations_detected = measured.locations_detected;
    result.rows_lost = Some(fin.rows_lost);
    result.incidents = obs.incidents;
    result.false_incidents = obs.false_incidents.clone();
    result.repairs = obs.repairs;
    result.pages_decoded = obs.pages_decoded;
    result.footers_read = obs.footers_read;
    result.time_to_unrepairable_ms = measured.time_to_unrepairable.map(|d| d.as_secs_f64() * 1000.0);
    result.damaged_objects = damaged;
    result.damaged_objects_kept = kept;
}

/// Of the objects the fault wrote (the damaged versions), how many are still in the lake, in
/// place or in quarantine. The healer may move damage aside but must never delete it.
async fn damaged_objects_kept(
    lake: &lakechaos_lake::Lake,
    journal: &Journal,
    truth: &lakechaos_faults::GroundTruth,
) -> Result<(usize, usize), lakechaos_lake::LakeError> {
    use lakechaos_faults::journal::JournalEntry;
    use sha2::{Digest, Sha256};
    let wanted: Vec<&String> = journal
        .changes
        .iter()
        .filter_map(|c| match c {
            JournalEntry::Object { after_sha256: Some(h), .. } => Some(h),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok((0, 0));
    }
    let quarantine = format!("{}/", HealerConfig::default().quarantine_prefix);
    let mut candidates: Vec<String> = lake
        .store
        .list(&quarantine)
        .await?
        .into_iter()
        .map(|o| o.key)
        .filter(|k| !k.ends_with(".reason.json"))
        .collect();
    candidates.extend(truth.files.iter().cloned());
    let mut present = std::collections::HashSet::new();
    for key in candidates {
        if let Ok(data) = lake.store.get(&key).await {
            present.insert(Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect::<String>());
        }
    }
    Ok((wanted.iter().filter(|h| present.contains(h.as_str())).count(), wanted.len()))
}

fn describe_unhealed(v: &Verification) -> String {
    let mut parts = vec![format!("{} of {} rows lost", v.rows_lost, v.rows_expected)];
    if v.rows_unexpected > 0 {
        parts.push(format!("{} unexpected rows", v.rows_unexpected));
    }
    if !v.unreadable_files.is_empty() {
        parts.push(format!("{} unreadable file(s)", v.unreadable_files.len()));
    }
    if !v.nonconforming_files.is_empty() {
        parts.push(format!("{} file(s) off contract", v.nonconforming_files.len()));
    }
    if v.contract_changed {
        parts.push("catalog contract changed".into());
    }
    if let Some(drift) = &v.declared_drift {
        parts.push(format!("catalog declares columns off the contract ({drift})"));
    }
    parts.join(", ")
}

/// Healer events as the runner sees them.
#[derive(Default)]
pub(crate) struct Observation {
    time_to_detect: Option<Duration>,
    time_to_repair: Option<Duration>,
    detection_tier: Option<String>,
    detected_via: Option<String>,
    event_to_detect: Option<Duration>,
    detected_locations: std::collections::BTreeSet<String>,
    unrepairable_locations: std::collections::BTreeSet<String>,
    /// When the last ground-truth location was reported unrepairable.
    time_to_unrepairable: Option<Duration>,
    incidents: usize,
    false_incidents: Vec<String>,
    repairs: usize,
    pages_decoded: usize,
    footers_read: usize,
}

impl Observation {
    pub(crate) fn record(
        &mut self,
        at: Instant,
        t0: Instant,
        event: HealerEvent,
        truth: &lakechaos_faults::GroundTruth,
    ) {
        match event {
            HealerEvent::Incident { kind, location, tier, message, trigger, at: raised, .. } => {
                self.incidents += 1;
                if scoring::matches(truth, kind.as_str(), &location) {
                    if self.time_to_detect.is_none() {
                        self.time_to_detect = Some(at.saturating_duration_since(t0));
                        self.detection_tier = Some(format!("{tier:?}").to_lowercase());
                        self.detected_via =
                            serde_json::to_value(trigger.via).ok().and_then(|v| v.as_str().map(String::from));
                        self.event_to_detect = trigger.event_time.and_then(|t| (raised - t).to_std().ok());
                    }
                    self.detected_locations.insert(location);
                } else {
                    self.false_incidents.push(format!("{kind} at {location}: {message}"));
                }
            }
            HealerEvent::Repair { .. } => self.repairs += 1,
            HealerEvent::Scan { pages_decoded, footers_read, .. } => {
                self.pages_decoded += pages_decoded;
                self.footers_read += footers_read;
            }
            HealerEvent::Unrepairable { location, .. } => {
                if truth.locations().contains(&location) && self.unrepairable_locations.insert(location) {
                    self.time_to_unrepairable = Some(at.saturating_duration_since(t0));
                }
            }
            HealerEvent::Resolved { .. } | HealerEvent::PassFailed { .. } => {}
        }
    }
}
