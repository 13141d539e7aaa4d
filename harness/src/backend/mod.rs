//! Backends: what differs per storage in the one loop the runner runs. The runner calls the same
//! steps in the same order for every backend (see `run::runner`); a backend says how each is done
//! on its storage:
//!
//! | step | objects (directory, S3 + Glue/file catalog) | PostgreSQL |
//! |---|---|---|
//! | provision | a directory, or a bucket + queue + Glue database | a database |
//! | seed | fixture files, landing copy, catalog entry, golden record | `raw` and the served table, golden |
//! | healer | `lakehealer` on the lake (+ its grant policy) | `lakehealer` on the table (+ dbt rebuilds) |
//! | steady-state probe | — | `dbt build` passes |
//! | plan + journal | the fault's object/catalog/grant plan | the fault's SQL, before-state in journal tables |
//! | before the timed injection | drain the seeding's S3 events | evidence: inject, `dbt build` must fail, revert |
//! | inject, verify, revert | objects, catalog, grants | SQL |
//! | probes after | — | marts against `raw`, `dbt build` |
//!
//! A new storage is one file here plus one arm in [`for_target`].

pub mod damage;
mod dbt_probe;
mod dbt_worker;
pub mod existing;
mod existing_iceberg;
mod existing_pg;
pub mod iceberg;
pub mod objects;
pub mod postgres;

pub use dbt_probe::{Dbt, ProbeResult, ProbeTimeline};

use crate::error::ScenarioError;
use crate::scenario::{ExpectedOutcome, Scenario};
use crate::targets::{Target, TargetEnv};
use lakechaos_faults::GroundTruth;
use lakechaos_fixtures::Verification;
use lakehealer::{EventSink, HealerError, Mode};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a backend knows of the run it serves.
#[derive(Clone, Debug)]
pub struct Params {
    /// The run seed.
    pub seed: u64,
    /// The scenario's work directory (journal, golden record, a local lake).
    pub dir: PathBuf,
}

/// How the healer under test is started for one scenario.
#[derive(Clone)]
pub struct HealerSettings {
    /// Where its events go (the runner's observer, metrics, SNS).
    pub sink: EventSink,
    pub mode: Mode,
    /// Its full reconcile interval.
    pub reconcile_every: Duration,
}

/// A seeded lake, as the runner reports it.
#[derive(Clone, Debug)]
pub struct Seeded {
    /// Rows golden holds.
    pub rows: u64,
}

/// A fault planned and journaled.
#[derive(Clone, Debug)]
pub struct Planned {
    pub ground_truth: GroundTruth,
    /// The journal, for `lakechaos revert`.
    pub journal: PathBuf,
}

/// The harness's own look at the lake at the end, beyond golden.
#[derive(Clone, Debug, Default)]
pub struct DamageKept {
    /// Objects the fault wrote (its damaged versions).
    pub damaged: usize,
    /// How many of them are still in the lake, in place or in quarantine.
    pub kept: usize,
    /// The quarantined copies of them, left for inspection.
    pub quarantined: Vec<String>,
}

/// The healer under test on a backend's storage.
#[async_trait::async_trait]
pub trait HealerUnderTest: Send + Sync {
    /// One detect-only look at the whole lake: each finding as `kind at location`. Steady state
    /// needs it empty.
    async fn findings(&self) -> Result<Vec<String>, HealerError>;

    /// Heals in the background until `stop` turns true.
    fn start(self: Arc<Self>, stop: watch::Receiver<bool>) -> JoinHandle<Result<(), HealerError>>;
}

/// The storage-specific steps of the loop, in the order the runner calls them.
#[async_trait::async_trait]
pub trait Backend: Send {
    /// Creates the scenario's empty lake or database.
    async fn provision(&mut self) -> Result<(), ScenarioError>;

    /// Seeds the fixture and records golden.
    async fn seed(&mut self) -> Result<Seeded, ScenarioError>;

    /// The healer under test, on the seeded lake.
    async fn healer(&mut self, settings: HealerSettings) -> Result<Arc<dyn HealerUnderTest>, ScenarioError>;

    /// The lake against golden (and, where the backend keeps them, its grants). May reuse what
    /// an earlier call learned of unchanged objects (while the runner waits for a repair).
    async fn verify(&mut self) -> Result<Verification, ScenarioError>;

    /// [`Backend::verify`] from scratch, remembering nothing: the verdict's verification,
    /// outside the timed window.
    async fn verify_final(&mut self) -> Result<Verification, ScenarioError> {
        self.verify().await
    }

    /// How often the runner re-verifies while it waits for repair (a repair event triggers a
    /// check at once anyway).
    fn verify_every(&self) -> Duration {
        Duration::from_millis(10)
    }

    /// Steady-state hook: a consumer's probe must pass before injection.
    async fn probe_steady_state(&mut self) -> Result<(), ScenarioError> {
        Ok(())
    }

    /// Plans the fault and writes the journal; nothing changes yet.
    async fn plan(&mut self) -> Result<Planned, ScenarioError>;

    /// Hook between the journal and the timed injection (before the healer starts).
    async fn before_injection(&mut self) -> Result<(), ScenarioError> {
        Ok(())
    }

    /// Applies the journaled fault.
    async fn inject(&mut self) -> Result<(), ScenarioError>;

    /// What became of the damaged objects (never deleted).
    async fn damage_kept(&mut self) -> Result<DamageKept, ScenarioError> {
        Ok(DamageKept::default())
    }

    /// Probe hook after the verdict: broken consumer expectations, as failures.
    async fn probe_after(&mut self, _outcome: ExpectedOutcome) -> Result<Vec<String>, ScenarioError> {
        Ok(Vec::new())
    }

    /// The consumer probes so far, for the report.
    fn probes(&self) -> Option<ProbeTimeline> {
        None
    }

    /// Undoes the fault from the journal (the lake was not healed).
    async fn revert(&mut self) -> Result<(), ScenarioError>;

    /// Drops what the journal kept once the lake is whole again.
    async fn cleanup(&mut self) -> Result<(), ScenarioError> {
        Ok(())
    }
}

/// Why `scenario` cannot run on the started target, if it cannot.
pub fn skip_reason(env: &TargetEnv, scenario: &Scenario) -> Option<String> {
    match env.target() {
        // On PostgreSQL a scenario's faults are SQL on tables, so object-store and catalog
        // needs do not apply; what decides is whether the fault has a meaning there.
        Target::Postgres if scenario.needs.contains(&crate::scenario::Capability::Iceberg) => {
            Some(format!("needs iceberg, which target postgres lacks: {}", crate::targets::ICEBERG_LOCAL_ONLY))
        }
        Target::Postgres => postgres::skip_reason(scenario),
        target => env
            .missing(&scenario.needs)
            .map(|(cap, why)| format!("needs {}, which target {} lacks: {why}", cap.name(), target.name())),
    }
}

/// The backend for the started target.
pub fn for_target<'a>(env: &'a TargetEnv, scenario: &'a Scenario, params: Params) -> Box<dyn Backend + 'a> {
    if let Some(table) = env.existing() {
        if table.is_postgres() {
            return Box::new(existing_pg::ExistingPgBackend::new(table, scenario, params));
        }
        if table.is_iceberg() {
            return Box::new(existing_iceberg::ExistingIcebergBackend::new(table, scenario, params));
        }
        return Box::new(existing::ExistingTableBackend::new(env, table, scenario, params));
    }
    if scenario.needs.contains(&crate::scenario::Capability::Iceberg) {
        return Box::new(iceberg::IcebergBackend::new(env, scenario, params));
    }
    match env.target() {
        Target::Postgres => Box::new(postgres::PostgresBackend::new(env, scenario, params)),
        Target::Local | Target::Moto | Target::Localstack | Target::Aws => {
            Box::new(objects::ObjectBackend::new(env, scenario, params))
        }
    }
}

/// A steady-state refusal listing what the healer found.
pub(crate) fn not_steady(findings: &[String]) -> ScenarioError {
    ScenarioError::new(
        crate::error::Stage::SteadyState,
        format!("does not hold before injection: {}", findings.join("; ")),
    )
}

/// The work directory for a scenario, emptied.
pub(crate) fn fresh_dir(dir: &Path) -> Result<(), ScenarioError> {
    use crate::error::AtStage;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("work directory {}: {e}", dir.display()))
        .at(crate::error::Stage::Provision)
}
