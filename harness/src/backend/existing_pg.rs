//! Existing-table mode on PostgreSQL: a served table partitioned by day and its `raw` source of
//! truth that lakechaos did not create. Golden is the served table as found; a planned fault is
//! checked against the blast radius before its journal tables are written; and after each
//! scenario the journal's revert runs (unless the healer already restored the table) and the
//! table must equal its snapshot again. There is no dbt probe: the database is the user's.

use super::postgres::TableHealer;
use super::{Backend, HealerSettings, HealerUnderTest, Params, Planned, Seeded};
use crate::error::{AtStage, ScenarioError, Stage};
use crate::scenario::Scenario;
use crate::targets::existing::ExistingTable;
use lakechaos_faults::pg::{self as pg_faults, PgFaultPlan, PgJournal, PgTable};
use lakechaos_fixtures::{snapshot_postgres, PgVerifier, SeededPg, Verification};
use lakechaos_lake::pg::PgLayout;
use lakehealer::pg::{PgHealer, PgHealerConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::Client;

pub struct ExistingPgBackend<'a> {
    table: &'a ExistingTable,
    scenario: &'a Scenario,
    params: Params,
    db: Option<(Client, PgLayout)>,
    seeded: Option<SeededPg>,
    plan: Option<PgFaultPlan>,
}

impl<'a> ExistingPgBackend<'a> {
    pub fn new(table: &'a ExistingTable, scenario: &'a Scenario, params: Params) -> Self {
        ExistingPgBackend { table, scenario, params, db: None, seeded: None, plan: None }
    }

    fn journal_path(&self) -> PathBuf {
        self.params.dir.join("journal.json")
    }

    fn layout(&self) -> &PgLayout {
        &self.db.as_ref().expect("provisioned").1
    }

    fn client(&mut self) -> &mut Client {
        &mut self.db.as_mut().expect("provisioned").0
    }

    fn verifier(&self) -> PgVerifier {
        PgVerifier::new(self.seeded.as_ref().expect("seeded").golden.clone(), self.layout().clone())
    }

    async fn run_revert(&mut self, plan: PgFaultPlan) -> Result<(), ScenarioError> {
        let url = self.table.address.clone();
        pg_faults::revert(self.client(), &url, &plan).await.at(Stage::Revert)
    }

    /// The table must equal its snapshot.
    async fn check_restored(&mut self) -> Result<(), ScenarioError> {
        let v = self.verify().await.map_err(|e| ScenarioError::new(Stage::Revert, e.to_string()))?;
        if !v.healed {
            return Err(ScenarioError::new(
                Stage::Revert,
                format!(
                    "table {} does not equal its snapshot after the revert: {}",
                    self.layout().served(),
                    v.describe()
                ),
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Backend for ExistingPgBackend<'_> {
    async fn provision(&mut self) -> Result<(), ScenarioError> {
        super::fresh_dir(&self.params.dir)?;
        self.db = Some(self.table.postgres().await.at(Stage::Provision)?);
        Ok(())
    }

    async fn seed(&mut self) -> Result<Seeded, ScenarioError> {
        let url = self.table.address.clone();
        let (client, layout) = self.db.as_ref().expect("provisioned");
        let seeded = snapshot_postgres(client, &url, layout).await.at(Stage::Seed)?;
        let path = self.params.dir.join("golden.json");
        let json = serde_json::to_vec(&seeded.golden.record()).at(Stage::Seed)?;
        std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display())).at(Stage::Seed)?;
        let rows = seeded.golden.total_rows();
        self.seeded = Some(seeded);
        Ok(Seeded { rows })
    }

    async fn healer(&mut self, settings: HealerSettings) -> Result<Arc<dyn HealerUnderTest>, ScenarioError> {
        let config = PgHealerConfig { mode: settings.mode, poll_every: settings.reconcile_every, dbt: None };
        let healer = PgHealer::new(self.table.address.clone(), self.layout().clone(), config, settings.sink);
        Ok(Arc::new(TableHealer(Arc::new(healer))))
    }

    async fn verify(&mut self) -> Result<Verification, ScenarioError> {
        let verifier = self.verifier();
        verifier.verify(&self.db.as_ref().expect("provisioned").0).await.at(Stage::Verify)
    }

    fn verify_every(&self) -> Duration {
        Duration::from_millis(250)
    }

    /// Plans the SQL, refuses it beyond the blast radius (nothing written yet), then writes
    /// the journal file and the journal tables.
    async fn plan(&mut self) -> Result<Planned, ScenarioError> {
        let seeded = self.seeded.as_ref().expect("seeded");
        let table = PgTable {
            layout: self.layout().clone(),
            days: seeded.days.clone(),
            key: seeded.key.clone(),
            contract: seeded.golden.contract.clone(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.scenario.stream_seed(self.params.seed, "fault"));
        let mut plan = pg_faults::plan(&self.scenario.fault, &table, &mut rng, "1")
            .map_err(|e| format!("{}: {e}", self.scenario.fault_location()))
            .at(Stage::Fault)?;
        if let Some(why) = self.table.radius.exceeded_by_days(&plan.ground_truth, &seeded.golden) {
            return Err(ScenarioError::new(
                Stage::Fault,
                format!("{}: refused: {why} (nothing was written)", self.scenario.fault_location()),
            ));
        }
        let journal = PgJournal {
            format: 1,
            scenario: self.scenario.name.clone(),
            seed: self.params.seed,
            database: lakechaos_lake::pg::redact(&self.table.address),
            plan: plan.clone(),
        };
        journal.write(&self.journal_path()).at(Stage::Journal)?;
        let url = self.table.address.clone();
        pg_faults::record(self.client(), &url, &mut plan).await.at(Stage::Journal)?;
        PgJournal { plan: plan.clone(), ..journal }.write(&self.journal_path()).at(Stage::Journal)?;
        let out = Planned { ground_truth: plan.ground_truth.clone(), journal: self.journal_path() };
        self.plan = Some(plan);
        Ok(out)
    }

    async fn inject(&mut self) -> Result<(), ScenarioError> {
        let plan = self.plan.clone().expect("planned");
        let url = self.table.address.clone();
        pg_faults::inject(self.client(), &url, &plan).await.at(Stage::Inject)
    }

    /// The journal's revert, then the table must equal its snapshot.
    async fn revert(&mut self) -> Result<(), ScenarioError> {
        let journal = PgJournal::read(&self.journal_path()).at(Stage::Revert)?;
        self.run_revert(journal.plan).await?;
        self.check_restored().await
    }

    /// The healer restored the table: the journal tables are dropped, and the table must still
    /// equal its snapshot.
    async fn cleanup(&mut self) -> Result<(), ScenarioError> {
        let plan = self.plan.clone().expect("planned");
        self.run_revert(PgFaultPlan { revert: Vec::new(), ..plan }).await?;
        self.check_restored().await
    }
}
