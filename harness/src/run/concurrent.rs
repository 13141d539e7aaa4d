//! Scenarios run several at once (`RunOptions::jobs`): each has its own lake, bucket, queue or
//! database, so they do not see each other's damage. They run as futures of the suite's own
//! task, so an interrupted run drops them all at once (nothing keeps injecting while the
//! journals are reverted). What they share is the machine: a scenario's time to detect and
//! repair includes waiting for cores the others use, which is why `--jobs 1` (the default)
//! stays the way to measure one scenario alone.

use super::{blank, run_scenario_in, RunOptions};
use crate::run::result::{ScenarioResult, Status};
use crate::scenario::Scenario;
use crate::targets::{Target, TargetEnv, TargetError};
use futures_util::stream::{self, StreamExt};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// The servers the scenarios share: `first`, and on moto one more per core the jobs can use.
/// A moto server is one Python process that answers one request at a time, so with several
/// scenarios at once it becomes the suite's bottleneck (one core busy, the other idle); each
/// server gets its share of the scenarios. An external endpoint is used as it is.
pub(super) async fn servers(
    first: TargetEnv,
    opts: &RunOptions,
    scenarios: usize,
) -> Result<Vec<TargetEnv>, TargetError> {
    let cores = crate::targets::cores();
    let wanted = if first.target() == Target::Moto && first.provider() != Some("external") {
        opts.jobs.min(cores).min(scenarios).max(1)
    } else {
        1
    };
    let more = futures_util::future::try_join_all((1..wanted).map(|_| opts.target.start(&opts.target_options))).await?;
    Ok(std::iter::once(first).chain(more).collect())
}

/// Runs every scenario, `opts.jobs` at a time; results in the scenarios' order. Once `stop`
/// names a reason for a finished scenario, those not yet started are reported skipped.
pub(super) async fn run_all(
    envs: &[TargetEnv],
    scenarios: &[Scenario],
    opts: &RunOptions,
    workdir: &Path,
    stop: impl Fn(&ScenarioResult) -> Option<String>,
) -> Vec<ScenarioResult> {
    let stopped: Mutex<Option<String>> = Mutex::new(None);
    let spans: Mutex<Vec<(usize, Instant, Instant)>> = Mutex::new(Vec::new());
    let (stopped, stop, spans) = (&stopped, &stop, &spans);
    let mut finished: Vec<(usize, ScenarioResult)> = stream::iter(scenarios.iter().enumerate())
        .map(|(index, scenario)| async move {
            let why = stopped.lock().expect("not poisoned").clone();
            if let Some(why) = why {
                let skipped = ScenarioResult { status: Status::Skipped, reason: Some(why), ..blank(scenario, opts) };
                return (index, skipped);
            }
            super::progress::report(
                &opts.progress,
                &scenario.name,
                super::progress::Progress::Started { index, total: scenarios.len() },
            );
            let env = &envs[index % envs.len()];
            let dir = workdir.join(&scenario.name);
            let began = Instant::now();
            let mut result = run_scenario_in(env, scenario, opts, &dir).await;
            spans.lock().expect("not poisoned").push((index, began, Instant::now()));
            if !opts.keep_workdir {
                super::kept_journals::keep_if_unpassed(&mut result, opts.keep_journals_in.as_deref());
                let _ = std::fs::remove_dir_all(&dir);
            }
            if let Some(why) = stop(&result) {
                let mut stopped = stopped.lock().expect("not poisoned");
                stopped.get_or_insert(format!("not run: the run stopped after {}: {why}", result.name));
            }
            (index, result)
        })
        .buffer_unordered(opts.jobs.max(1))
        .collect()
        .await;
    let spans = spans.lock().expect("not poisoned");
    for (index, result) in &mut finished {
        result.ran_alongside = alongside(*index, &spans);
    }
    finished.sort_by_key(|(index, _)| *index);
    finished.into_iter().map(|(_, result)| result).collect()
}

/// How many other scenarios' run spans overlap scenario `index`'s.
fn alongside(index: usize, spans: &[(usize, Instant, Instant)]) -> usize {
    let Some(&(_, start, end)) = spans.iter().find(|(i, _, _)| *i == index) else {
        return 0;
    };
    spans.iter().filter(|(i, s, e)| *i != index && *s < end && start < *e).count()
}
