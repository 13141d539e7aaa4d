//! A scenario on the `postgres` target: provision a database → seed `raw` and the served table →
//! steady state (healer clean, golden verified, `dbt build` passes) → **evidence**: inject, `dbt
//! build` must fail, revert from the journal, golden verified again → start the healer → inject
//! the same plan again and time detection and repair → verify against golden → `dbt build`
//! must pass again → score. Between the two, `dbt test` of the marts against `raw` shows whether
//! the healer's own re-materialization brought the marts back (the evidence build left them
//! built from damaged rows, and nothing else rebuilds them before that test).
//!
//! The evidence pass runs without the healer because a `dbt build` takes seconds and the healer
//! repairs in milliseconds: with both running, the probe would race the repair. Injecting twice
//! from one plan shows dbt the exact damage the healer is then timed on.

use crate::dbt_probe::{Dbt, ProbeTimeline};
use crate::result::{ScenarioResult, Status};
use crate::runner::{first_pass, observe, score, stop_healer, stream_seed, Checker, RunOptions};
use crate::scenario::{ExpectedOutcome, Scenario};
use crate::target::TargetEnv;
use lakechaos_faults::pg::{self as pg_faults, PgJournal, PgTable};
use lakechaos_fixtures::{seed_postgres, PgVerifier, Verification};
use lakechaos_lake::pg::{connect, PgLayout};
use lakehealer::events::HealerEvent;
use lakehealer::pg::{PgHealer, PgHealerConfig};
use lakehealer::Mode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_postgres::Client;

/// The dbt test that compares the marts with `raw`, run after healing and before the last build.
const MART_CHECK: &str = "daily_revenue_matches_raw";

/// The marts (a scheduled run during an incident builds them from damaged rows).
pub const MARTS: &str = "marts";

/// What the healer rebuilds after repairs: every model downstream of the served table (the
/// staging table, then the marts for the repaired days).
pub const HEALED_MODELS: &str = "source:served.orders+";

/// Why a scenario cannot run on PostgreSQL, if it cannot.
pub fn skip_reason(scenario: &Scenario) -> Option<String> {
    if let Err(reason) = pg_faults::applicable(&scenario.fault) {
        return Some(reason);
    }
    (!scenario.fixture.landing).then(|| {
        "the fixture has no landing copy; on PostgreSQL the raw schema is the source of truth the served \
         table is loaded from, so a lake without one has no PostgreSQL counterpart"
            .to_string()
    })
}

struct PgChecker<'a> {
    verifier: &'a PgVerifier,
    client: &'a Client,
}

#[async_trait::async_trait]
impl Checker for PgChecker<'_> {
    async fn check(&mut self) -> Result<Verification, String> {
        self.verifier.verify(self.client).await.map_err(|e| format!("verify: {e}"))
    }

    /// Reading the whole table back takes tens of milliseconds; checking it back to back would
    /// compete with the healer for the database. Repairs are events, so a check follows each at
    /// once anyway.
    fn every(&self) -> Duration {
        Duration::from_millis(250)
    }
}

/// Runs one scenario on the started `postgres` target, into `result`.
pub(crate) async fn run_inner(
    env: &TargetEnv,
    scenario: &Scenario,
    opts: &RunOptions,
    dir: &Path,
    result: &mut ScenarioResult,
) -> Result<(), String> {
    if opts.sns_topic.is_some() {
        return Err("--sns-topic needs an AWS target; postgres has no SNS".into());
    }
    let dbt = Dbt::locate()?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("work directory {}: {e}", dir.display()))?;
    let url = env.provision_database(&scenario.name).await.map_err(|e| format!("provision: {e}"))?;
    let layout = PgLayout::default();
    let mut client = connect(&url, "lakechaos").await.map_err(|e| e.to_string())?;

    // Seed and record golden.
    let seed = stream_seed(opts.seed, &scenario.name, "fixture");
    let seeded = seed_postgres(&client, &url, &layout, &scenario.dataset, &scenario.fixture, seed)
        .await
        .map_err(|e| format!("seed: {e}"))?;
    result.rows_expected = seeded.golden.total_rows();
    let golden_json = serde_json::to_vec_pretty(&seeded.golden).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("golden.json"), golden_json).map_err(|e| format!("golden manifest: {e}"))?;
    let verifier = PgVerifier::new(seeded.golden.clone(), layout.clone());

    // Steady state: healer clean, golden verified, dbt build passes.
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, HealerEvent)>();
    let sink: lakehealer::EventSink = Arc::new(move |event| {
        let _ = tx.send((Instant::now(), event));
    });
    let config = PgHealerConfig {
        mode: if opts.no_heal { Mode::DetectOnly } else { Mode::Heal },
        poll_every: opts.reconcile_every.unwrap_or_else(|| opts.target.reconcile_every()),
        dbt: Some(dbt.models(&url, &dir.join("dbt-healer"))?),
    };
    let healer = Arc::new(PgHealer::new(url.clone(), layout.clone(), config, crate::runner::counted(sink, opts)));
    let steady = healer.scan().await.map_err(|e| format!("steady state: healer failed: {e}"))?;
    if !steady.is_empty() {
        let list: Vec<String> = steady.iter().map(|f| format!("{} at {}", f.kind, f.location)).collect();
        return Err(format!("steady state does not hold before injection: {}", list.join("; ")));
    }
    let baseline = verifier.verify(&client).await.map_err(|e| format!("steady state: {e}"))?;
    if !baseline.healed {
        return Err(format!("steady state: seeded tables do not match their own golden manifest: {baseline:?}"));
    }
    let probe_dir = dir.join("dbt");
    let mut probes = ProbeTimeline { before: Some(dbt.build(&url, &probe_dir).await?), ..ProbeTimeline::default() };
    result.dbt_probe = Some(probes.clone());
    if let Some(before) = probes.before.as_ref().filter(|p| !p.passed) {
        return Err(format!("steady state: dbt build fails before injection: {}", before.failing.join("; ")));
    }

    // Plan and journal before touching anything.
    let table = PgTable {
        layout: layout.clone(),
        days: seeded.days.clone(),
        key: seeded.key.clone(),
        contract: seeded.golden.contract.clone(),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(opts.seed, &scenario.name, "fault"));
    let mut plan = pg_faults::plan(&scenario.fault, &table, &mut rng, "1").map_err(|e| format!("fault: {e}"))?;
    let journal_path = dir.join("journal.json");
    let write_journal = |plan: &pg_faults::PgFaultPlan| {
        PgJournal {
            format: 1,
            scenario: scenario.name.clone(),
            seed: opts.seed,
            database: url.clone(),
            plan: plan.clone(),
        }
        .write(&journal_path)
        .map_err(|e| e.to_string())
    };
    write_journal(&plan)?;
    result.journal = Some(journal_path.clone());

    // Evidence: the fault breaks the dbt build, and the journal takes it back out.
    pg_faults::record(&mut client, &url, &mut plan).await.map_err(|e| format!("journal: {e}"))?;
    write_journal(&plan)?;
    pg_faults::inject(&mut client, &url, &plan).await.map_err(|e| format!("inject: {e}"))?;
    probes.after_injection = Some(dbt.build(&url, &probe_dir).await?);
    result.dbt_probe = Some(probes.clone());
    // As a scheduled run during the incident would, build the marts from the damaged table (the
    // build above skips them when a test upstream fails): only the healer's re-materialization
    // can then bring them back. Where the damage breaks the models, this run fails; that is fine.
    let _ = dbt.run(MARTS, &url, &probe_dir).await?;
    probes.marts_after_injection = Some(dbt.test(MART_CHECK, &url, &probe_dir).await?);
    result.dbt_probe = Some(probes.clone());
    pg_faults::revert(&mut client, &url, &plan).await.map_err(|e| format!("revert after the dbt probe: {e}"))?;
    let reverted = verifier.verify(&client).await.map_err(|e| format!("verify: {e}"))?;
    if !reverted.healed {
        return Err(format!("reverting from the journal did not restore golden: {reverted:?}"));
    }
    let truth = plan.ground_truth.clone();
    result.locations_total = truth.locations().len();
    result.ground_truth = Some(truth.clone());

    // The timed run: healer watching, same plan injected again.
    pg_faults::record(&mut client, &url, &mut plan).await.map_err(|e| format!("journal: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(lakehealer::pg::watch(healer.clone(), stop_rx));
    first_pass(&mut rx).await?;
    let t0 = Instant::now();
    pg_faults::inject(&mut client, &url, &plan).await.map_err(|e| format!("inject: {e}"))?;
    let mut checker = PgChecker { verifier: &verifier, client: &client };
    let mut obs = observe(&mut rx, t0, scenario, &truth, &mut checker).await?;
    stop_healer(opts.settle, stop_tx, watcher).await?;
    while let Ok((at, event)) = rx.try_recv() {
        obs.record(at, t0, event, &truth);
    }

    // The harness's own verdict, from the tables themselves, then the consumer's.
    let fin = verifier.verify(&client).await.map_err(|e| format!("verify: {e}"))?;
    score(result, scenario, &obs, &fin, truth.locations().len(), (0, 0));
    probes.marts_after_healing = Some(dbt.test(MART_CHECK, &url, &probe_dir).await?);
    probes.after_repair = Some(dbt.build(&url, &probe_dir).await?);
    if let Some(p) = probes.after_injection.as_ref().filter(|p| p.passed) {
        result.failures.push(format!(
            "dbt probe: dbt build still passes after injection ({} nodes): the fault is invisible to the models and tests",
            p.nodes
        ));
    }
    if scenario.expect.outcome == ExpectedOutcome::Repaired {
        if let Some(p) = probes.marts_after_healing.as_ref().filter(|p| !p.passed) {
            result.failures.push(format!(
                "dbt probe: the marts disagree with raw after healing (before any rebuild by the probe): {}",
                p.failing.join("; ")
            ));
        }
        if let Some(p) = probes.after_repair.as_ref().filter(|p| !p.passed) {
            result.failures.push(format!("dbt probe: dbt build fails after repair: {}", p.failing.join("; ")));
        }
    }
    result.dbt_probe = Some(probes);
    if !result.failures.is_empty() {
        result.status = Status::Failed;
    }

    // Revert what the healer left, from the journal; otherwise drop the journal's copies.
    if fin.healed {
        pg_faults::revert(&mut client, &url, &pg_faults::PgFaultPlan { revert: Vec::new(), ..plan })
            .await
            .map_err(|e| format!("dropping journal tables: {e}"))?;
    } else {
        let journal = PgJournal::read(&journal_path).map_err(|e| e.to_string())?;
        pg_faults::revert(&mut client, &url, &journal.plan).await.map_err(|e| format!("revert: {e}"))?;
        result.reverted = true;
    }
    result.verification = Some(fin);
    Ok(())
}
