//! The loop, once, for every backend:
//!
//! provision → seed (golden) → healer + steady state → plan + journal → before-injection hook →
//! start the healer, first clean pass → inject (t0) → observe until repaired or the deadline →
//! stop the healer → verify against golden → score → probes → revert what is left.

use super::incident_feed::IncidentFeed;
use super::observe::{first_pass, observe, Running};
use super::progress::{Phase, Progress};
use super::result::ScenarioResult;
use super::{verdict, HealerChoice, RunOptions};
use crate::backend::{self, Backend, HealerSettings, Params};
use crate::error::{AtStage, ScenarioError, Stage};
use crate::scenario::Scenario;
use crate::targets::TargetEnv;
use lakehealer::events::HealerEvent;
use lakehealer::{EventSink, Mode};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Runs `scenario` on the started target, into `result`.
pub(crate) async fn run_steps(
    env: &TargetEnv,
    scenario: &Scenario,
    opts: &RunOptions,
    dir: &Path,
    result: &mut ScenarioResult,
) -> Result<(), ScenarioError> {
    let mut backend = backend::for_target(env, scenario, Params { seed: opts.seed, dir: dir.to_path_buf() });
    let outcome = steps(backend.as_mut(), env, scenario, opts, result).await;
    result.dbt_probe = backend.probes();
    match &outcome {
        Ok(()) => super::rollback::close(dir),
        // Stopped after the journal was written: whatever was injected goes back now.
        Err(e) if result.journal.is_some() && e.stage != Stage::Revert => {
            phase(opts, scenario, Phase::Revert);
            match backend.revert().await {
                Ok(()) => {
                    result.reverted = true;
                    super::rollback::close(dir);
                }
                Err(revert) => tracing::warn!(error = %revert, "could not revert after the scenario stopped"),
            }
        }
        Err(_) => {}
    }
    outcome
}

/// Tells the run's watcher that `scenario` reached `p`.
fn phase(opts: &RunOptions, scenario: &Scenario, p: Phase) {
    super::progress::report(&opts.progress, &scenario.name, Progress::Phase(p));
}

async fn steps(
    backend: &mut dyn Backend,
    env: &TargetEnv,
    scenario: &Scenario,
    opts: &RunOptions,
    result: &mut ScenarioResult,
) -> Result<(), ScenarioError> {
    phase(opts, scenario, Phase::Provision);
    backend.provision().await?;
    phase(opts, scenario, Phase::Seed);
    result.rows_expected = backend.seed().await?.rows;
    phase(opts, scenario, Phase::SteadyState);

    // Steady state: the healer must find nothing, the harness must agree, and so must the
    // backend's consumer probe.
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, HealerEvent)>();
    let feed_tx = tx.clone();
    let observer: EventSink = Arc::new(move |event| {
        let _ = tx.send((Instant::now(), event));
    });
    // An external healer is not asked anything: the lake's steady state is the harness's own
    // verification and the backend's probe.
    let healer = if opts.healer.runs_in_process() {
        let (sink, publisher) = published(observer, env, opts).await?;
        let settings = HealerSettings {
            sink: counted(sink, opts),
            mode: if opts.healer == HealerChoice::None { Mode::DetectOnly } else { Mode::Heal },
            reconcile_every: opts.reconcile_every.unwrap_or_else(|| env.target().reconcile_every()),
        };
        let healer = backend.healer(settings).await?;
        let findings = healer.findings().await.map_err(|e| format!("the healer failed: {e}")).at(Stage::SteadyState)?;
        if !findings.is_empty() {
            return Err(backend::not_steady(&findings));
        }
        Some((healer, publisher))
    } else {
        None
    };
    let baseline = backend.verify().await?;
    if !baseline.healed {
        return Err(ScenarioError::new(
            Stage::SteadyState,
            format!("the seeded lake does not match its own golden record: {baseline:?}"),
        ));
    }
    backend.probe_steady_state().await?;

    // Plan and journal before touching anything.
    let planned = backend.plan().await?;
    let truth = planned.ground_truth;
    result.journal = Some(planned.journal);
    result.locations_total = truth.locations().len();
    result.ground_truth = Some(truth.clone());
    backend.before_injection().await?;

    // Start the healer, wait for its first (clean) pass, then inject. An external healer's
    // incidents come from its topic, when one is given.
    let (running, publisher) = match healer {
        Some((healer, publisher)) => {
            let running = Running::start(healer);
            first_pass(&mut rx).await?;
            (Some(running), publisher)
        }
        None => (None, None),
    };
    let feed = match (&opts.incident_topic, opts.healer) {
        (Some(arn), HealerChoice::External) => Some(incident_feed(env, arn, scenario, feed_tx).await?),
        _ => None,
    };
    phase(opts, scenario, Phase::Inject);
    let t0 = Instant::now();
    backend.inject().await?;
    phase(opts, scenario, Phase::Detect);
    let on_detected = || phase(opts, scenario, Phase::Repair);
    let mut obs = observe(&mut rx, t0, scenario, &truth, backend, &on_detected).await?;
    match running {
        Some(running) => {
            let healer = running.healer.clone();
            running.stop(opts.settle).await?;
            // Every published event has reached SNS once the healer (and with it the sink) is gone.
            drop(healer);
        }
        None => tokio::time::sleep(opts.settle).await,
    }
    if let Some(feed) = feed {
        feed.stop().await;
    }
    obs.drain(&mut rx, t0, &truth);
    if let Some(task) = publisher {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }

    // The harness's own verdict, from the lake itself (every object read again), then the
    // consumer's.
    phase(opts, scenario, Phase::Verify);
    let fin = backend.verify_final().await?;
    let damage = backend.damage_kept().await?;
    let observed = opts.healer.runs_in_process() || opts.incident_topic.is_some();
    verdict::score(result, scenario, &obs, &fin, truth.locations().len(), &damage, observed);
    let probe_failures = backend.probe_after(scenario.expect.outcome).await?;
    if !probe_failures.is_empty() {
        result.failures.extend(probe_failures);
        result.status = super::result::Status::Failed;
    }

    // Revert what the healer left, from the journal: the lake ends as it started.
    if fin.healed {
        backend.cleanup().await?;
    } else {
        phase(opts, scenario, Phase::Revert);
        backend.revert().await?;
        result.reverted = true;
    }
    result.verification = Some(fin);
    Ok(())
}

/// The external healer's incidents from `topic_arn`, through a queue named after the scenario.
async fn incident_feed(
    env: &TargetEnv,
    topic_arn: &str,
    scenario: &Scenario,
    tx: mpsc::UnboundedSender<(Instant, HealerEvent)>,
) -> Result<IncidentFeed, ScenarioError> {
    let conn = env
        .connection()
        .ok_or_else(|| format!("--incident-topic needs an AWS target; {} has no SNS", env.target().name()))
        .at(Stage::Heal)?;
    let queue = format!("{}-incidents", crate::targets::resource_name(&scenario.name, '-'));
    IncidentFeed::start(conn, topic_arn, &queue, tx).await.at(Stage::Heal)
}

/// The observer, also publishing to SNS when the run asks for it (with the task to await).
async fn published(
    observer: EventSink,
    env: &TargetEnv,
    opts: &RunOptions,
) -> Result<(EventSink, Option<tokio::task::JoinHandle<()>>), ScenarioError> {
    match (&opts.sns_topic, env.connection()) {
        (Some(arn), Some(conn)) => {
            let (publish, task) = lakehealer::publish::sns_sink(lakechaos_lake::Topic::connect(conn, arn).await);
            Ok((lakehealer::publish::fanout(vec![observer, publish]), Some(task)))
        }
        (Some(_), None) => Err(ScenarioError::new(
            Stage::Heal,
            format!("--sns-topic needs an AWS target; {} has no SNS", env.target().name()),
        )),
        (None, _) => Ok((observer, None)),
    }
}

/// `sink`, also feeding the run's healer metrics when the run keeps them.
fn counted(sink: EventSink, opts: &RunOptions) -> EventSink {
    match &opts.healer_metrics {
        Some(metrics) => lakehealer::publish::fanout(vec![sink, metrics.sink()]),
        None => sink,
    }
}
