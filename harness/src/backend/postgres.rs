//! The PostgreSQL backend: a database per scenario with `raw.orders` (the source of truth) and
//! the served table partitioned by day, and a dbt project as the consumer's probe.
//!
//! Steady state adds `dbt build` passing. Before the timed injection comes the **evidence**:
//! inject, `dbt build` must fail, the marts are rebuilt from the damaged table (as a scheduled run
//! during the incident would) and tested against `raw`, then the journal reverts it all and golden
//! is verified again. Only then does the healer start and the same plan get injected again, timed.
//! After the verdict, `dbt test` of the marts against `raw` shows whether the healer's own
//! re-materialization brought them back (nothing else rebuilt them), then `dbt build` must pass.
//!
//! The evidence pass runs without the healer because a `dbt build` takes seconds and the healer
//! repairs in milliseconds: with both running, the probe would race the repair.

use super::dbt_probe::{Dbt, ProbeTimeline};
use super::{Backend, HealerSettings, HealerUnderTest, Params, Planned, Seeded};
use crate::error::{AtStage, ScenarioError, Stage};
use crate::scenario::{ExpectedOutcome, Scenario};
use crate::targets::TargetEnv;
use lakechaos_faults::pg::{self as pg_faults, PgFaultPlan, PgJournal, PgTable};
use lakechaos_fixtures::{seed_postgres, PgVerifier, SeededPg, Verification};
use lakechaos_lake::pg::{connect, PgLayout};
use lakehealer::pg::{PgHealer, PgHealerConfig};
use lakehealer::HealerError;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
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
    if let Some(reason) = pg_faults::skip_reason(&scenario.fault) {
        return Some(reason);
    }
    if scenario.like.is_some() {
        return Some(
            "fixtures shaped like a profiled table are generated as Parquet lakes, not yet as PostgreSQL tables".into(),
        );
    }
    (!scenario.fixture.landing).then(|| {
        "the fixture has no landing copy; on PostgreSQL the raw schema is the source of truth the served \
         table is loaded from, so a lake without one has no PostgreSQL counterpart"
            .to_string()
    })
}

/// The database, once provisioned.
struct Database {
    url: String,
    client: Client,
    dbt: Dbt,
}

pub struct PostgresBackend<'a> {
    env: &'a TargetEnv,
    scenario: &'a Scenario,
    params: Params,
    layout: PgLayout,
    db: Option<Database>,
    seeded: Option<SeededPg>,
    verifier: Option<PgVerifier>,
    plan: Option<PgFaultPlan>,
    probes: ProbeTimeline,
}

impl<'a> PostgresBackend<'a> {
    pub fn new(env: &'a TargetEnv, scenario: &'a Scenario, params: Params) -> PostgresBackend<'a> {
        PostgresBackend {
            env,
            scenario,
            params,
            layout: PgLayout::default(),
            db: None,
            seeded: None,
            verifier: None,
            plan: None,
            probes: ProbeTimeline::default(),
        }
    }

    fn db(&mut self) -> &mut Database {
        self.db.as_mut().expect("provisioned before use")
    }

    fn probe_dir(&self) -> PathBuf {
        self.params.dir.join("dbt")
    }

    fn journal_path(&self) -> PathBuf {
        self.params.dir.join("journal.json")
    }

    /// Writes the journal: the database (without its password) and the plan's SQL.
    fn write_journal(&self) -> Result<(), ScenarioError> {
        let db = self.db.as_ref().expect("provisioned");
        PgJournal {
            format: 1,
            scenario: self.scenario.name.clone(),
            seed: self.params.seed,
            // Without its password: `lakechaos revert` takes that from PGPASSWORD or
            // LAKECHAOS_POSTGRES_URL.
            database: lakechaos_lake::pg::redact(&db.url),
            plan: self.plan.clone().expect("planned"),
        }
        .write(&self.journal_path())
        .at(Stage::Journal)
    }

    /// Records the plan's before-state (its count goes into the ground truth), then journals it.
    async fn record(&mut self) -> Result<(), ScenarioError> {
        let mut plan = self.plan.take().expect("planned");
        let db = self.db.as_mut().expect("provisioned");
        let recorded = pg_faults::record(&mut db.client, &db.url, &mut plan).await.at(Stage::Journal);
        self.plan = Some(plan);
        recorded?;
        self.write_journal()
    }

    async fn verify_golden(&mut self) -> Result<Verification, ScenarioError> {
        let verifier = self.verifier.as_ref().expect("seeded");
        let db = self.db.as_ref().expect("provisioned");
        verifier.verify(&db.client).await.at(Stage::Verify)
    }

    async fn revert_with(&mut self, plan: PgFaultPlan) -> Result<(), ScenarioError> {
        let db = self.db();
        pg_faults::revert(&mut db.client, &db.url, &plan).await.at(Stage::Revert)
    }
}

#[async_trait::async_trait]
impl Backend for PostgresBackend<'_> {
    async fn provision(&mut self) -> Result<(), ScenarioError> {
        let dbt = Dbt::locate().at(Stage::Provision)?.start_worker().await.at(Stage::Provision)?;
        super::fresh_dir(&self.params.dir)?;
        let url = self.env.provision_database(&self.scenario.name).await.at(Stage::Provision)?;
        let client = connect(&url, "lakechaos").await.at(Stage::Provision)?;
        self.db = Some(Database { url, client, dbt });
        Ok(())
    }

    async fn seed(&mut self) -> Result<Seeded, ScenarioError> {
        let s = self.scenario;
        let seed = s.stream_seed(self.params.seed, "fixture");
        let db = self.db.as_ref().expect("provisioned");
        let seeded =
            seed_postgres(&db.client, &db.url, &self.layout, &s.dataset, &s.fixture, seed).await.at(Stage::Seed)?;
        let golden = serde_json::to_vec(&seeded.golden.record()).at(Stage::Seed)?;
        let path = self.params.dir.join("golden.json");
        std::fs::write(&path, golden).map_err(|e| format!("{}: {e}", path.display())).at(Stage::Seed)?;
        self.verifier = Some(PgVerifier::new(seeded.golden.clone(), self.layout.clone()));
        let rows = seeded.golden.total_rows();
        self.seeded = Some(seeded);
        Ok(Seeded { rows })
    }

    async fn healer(&mut self, settings: HealerSettings) -> Result<Arc<dyn HealerUnderTest>, ScenarioError> {
        let work = self.params.dir.join("dbt-healer");
        let db = self.db.as_ref().expect("provisioned");
        let config = PgHealerConfig {
            mode: settings.mode,
            poll_every: settings.reconcile_every,
            dbt: Some(db.dbt.models(&db.url, &work, HEALED_MODELS).at(Stage::Heal)?),
        };
        Ok(Arc::new(TableHealer(Arc::new(PgHealer::new(db.url.clone(), self.layout.clone(), config, settings.sink)))))
    }

    async fn verify(&mut self) -> Result<Verification, ScenarioError> {
        self.verify_golden().await
    }

    /// Reading the whole table back takes tens of milliseconds; checking it back to back would
    /// compete with the healer for the database.
    fn verify_every(&self) -> Duration {
        Duration::from_millis(250)
    }

    async fn probe_steady_state(&mut self) -> Result<(), ScenarioError> {
        let dir = self.probe_dir();
        let db = self.db.as_ref().expect("provisioned");
        let before = db.dbt.build(&db.url, &dir).await.at(Stage::Probe)?;
        let passed = before.passed;
        let failing = before.failing.join("; ");
        self.probes.before = Some(before);
        if !passed {
            return Err(ScenarioError::new(Stage::SteadyState, format!("dbt build fails before injection: {failing}")));
        }
        Ok(())
    }

    async fn plan(&mut self) -> Result<Planned, ScenarioError> {
        let seeded = self.seeded.as_ref().expect("seeded");
        let table = PgTable {
            layout: self.layout.clone(),
            days: seeded.days.clone(),
            key: seeded.key.clone(),
            contract: seeded.golden.contract.clone(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.scenario.stream_seed(self.params.seed, "fault"));
        let plan = pg_faults::plan(&self.scenario.fault, &table, &mut rng, "1")
            .map_err(|e| format!("{}: {e}", self.scenario.fault_location()))
            .at(Stage::Fault)?;
        self.plan = Some(plan);
        self.write_journal()?;
        self.record().await?;
        Ok(Planned {
            ground_truth: self.plan.as_ref().expect("set").ground_truth.clone(),
            journal: self.journal_path(),
        })
    }

    /// Evidence: the fault breaks the dbt build, and the journal takes it back out. Then the
    /// before-state is recorded again for the timed injection.
    async fn before_injection(&mut self) -> Result<(), ScenarioError> {
        let dir = self.probe_dir();
        let plan = self.plan.clone().expect("planned");
        {
            let db = self.db();
            pg_faults::inject(&mut db.client, &db.url, &plan).await.at(Stage::Inject)?;
        }
        let db = self.db.as_ref().expect("provisioned");
        self.probes.after_injection = Some(db.dbt.build(&db.url, &dir).await.at(Stage::Probe)?);
        // As a scheduled run during the incident would, build the marts from the damaged table
        // (the build above skips them when a test upstream fails): only the healer's
        // re-materialization can then bring them back. Where the damage breaks the models, this
        // run fails; that is fine.
        let _ = db.dbt.run(MARTS, &db.url, &dir).await.at(Stage::Probe)?;
        self.probes.marts_after_injection = Some(db.dbt.test(MART_CHECK, &db.url, &dir).await.at(Stage::Probe)?);
        self.revert_with(plan).await?;
        let reverted = self.verify_golden().await?;
        if !reverted.healed {
            return Err(ScenarioError::new(
                Stage::Revert,
                format!("reverting from the journal did not restore golden: {reverted:?}"),
            ));
        }
        self.record().await
    }

    async fn inject(&mut self) -> Result<(), ScenarioError> {
        let plan = self.plan.clone().expect("planned");
        let db = self.db();
        pg_faults::inject(&mut db.client, &db.url, &plan).await.at(Stage::Inject)
    }

    async fn probe_after(&mut self, outcome: ExpectedOutcome) -> Result<Vec<String>, ScenarioError> {
        let dir = self.probe_dir();
        let db = self.db.as_ref().expect("provisioned");
        self.probes.marts_after_healing = Some(db.dbt.test(MART_CHECK, &db.url, &dir).await.at(Stage::Probe)?);
        self.probes.after_repair = Some(db.dbt.build(&db.url, &dir).await.at(Stage::Probe)?);
        let mut failures = Vec::new();
        if let Some(p) = self.probes.after_injection.as_ref().filter(|p| p.passed) {
            failures.push(format!(
                "dbt probe: dbt build still passes after injection ({} nodes): the fault is invisible to the models and tests",
                p.nodes
            ));
        }
        if outcome == ExpectedOutcome::Repaired {
            if let Some(p) = self.probes.marts_after_healing.as_ref().filter(|p| !p.passed) {
                failures.push(format!(
                    "dbt probe: the marts disagree with raw after healing (before any rebuild by the probe): {}",
                    p.failing.join("; ")
                ));
            }
            if let Some(p) = self.probes.after_repair.as_ref().filter(|p| !p.passed) {
                failures.push(format!("dbt probe: dbt build fails after repair: {}", p.failing.join("; ")));
            }
        }
        Ok(failures)
    }

    fn probes(&self) -> Option<ProbeTimeline> {
        Some(self.probes.clone())
    }

    /// From the journal file, as `lakechaos revert` would.
    async fn revert(&mut self) -> Result<(), ScenarioError> {
        let journal = PgJournal::read(&self.journal_path()).at(Stage::Revert)?;
        self.revert_with(journal.plan).await
    }

    /// The journal's copies are dropped; nothing is put back.
    async fn cleanup(&mut self) -> Result<(), ScenarioError> {
        let plan = self.plan.clone().expect("planned");
        self.revert_with(PgFaultPlan { revert: Vec::new(), ..plan }).await
    }
}

/// The bundled healer on a PostgreSQL table.
pub(super) struct TableHealer(pub(super) Arc<PgHealer>);

#[async_trait::async_trait]
impl HealerUnderTest for TableHealer {
    async fn findings(&self) -> Result<Vec<String>, HealerError> {
        Ok(self.0.scan().await?.iter().map(|f| format!("{} at {}", f.kind, f.location)).collect())
    }

    fn start(self: Arc<Self>, stop: watch::Receiver<bool>) -> JoinHandle<Result<(), HealerError>> {
        tokio::spawn(lakehealer::pg::watch(self.0.clone(), stop))
    }
}
