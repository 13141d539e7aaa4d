//! The method, in Chaos Toolkit's word: seed the fixture and record golden, plan the fault and
//! journal it, then apply it. `lakechaos run` (through the object backend), `lakechaos inject`
//! and the chaos function all inject through here, so damage never exists without a journal
//! written before it, and the same seed plans byte-identical damage everywhere.

use crate::error::{AtStage, BoxError, ScenarioError, Stage};
use crate::scenario::{Like, Scenario};
use bytes::Bytes;
use lakechaos_faults::{apply, FaultContext, FaultPlan, GroundTruth, Journal};
use lakechaos_fixtures::{profile_table, seed_lake, seed_like, SeededTable};
use lakechaos_lake::{Grant, Lake, ObjectStore, TableDef};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a method keeps its records: the golden record (manifest and row hashes) and the journal.
#[async_trait::async_trait]
pub trait Records: Send + Sync {
    /// Stores the golden record; returns where it went.
    async fn golden(&self, json: Vec<u8>) -> Result<String, BoxError>;
    /// Stores the journal durably; returns where it went.
    async fn journal(&self, journal: &Journal) -> Result<String, BoxError>;
}

/// Records in files: `golden` (when given) and `journal`.
pub struct FileRecords {
    pub golden: Option<PathBuf>,
    pub journal: PathBuf,
}

impl FileRecords {
    /// `golden.json` and `journal.json` in a scenario's work directory.
    pub fn in_dir(dir: &std::path::Path) -> FileRecords {
        FileRecords { golden: Some(dir.join("golden.json")), journal: dir.join("journal.json") }
    }
}

#[async_trait::async_trait]
impl Records for FileRecords {
    async fn golden(&self, json: Vec<u8>) -> Result<String, BoxError> {
        let Some(path) = &self.golden else { return Ok(String::new()) };
        std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path.display().to_string())
    }

    async fn journal(&self, journal: &Journal) -> Result<String, BoxError> {
        journal.write(&self.journal)?;
        Ok(self.journal.display().to_string())
    }
}

/// Records inside the lake, under a hidden prefix (game-day lakes carry their own).
pub struct LakeRecords {
    pub store: Arc<dyn ObjectStore>,
    /// The hidden prefix, e.g. `_lakechaos`.
    pub prefix: String,
}

#[async_trait::async_trait]
impl Records for LakeRecords {
    async fn golden(&self, json: Vec<u8>) -> Result<String, BoxError> {
        let key = format!("{}/golden.json", self.prefix);
        self.store.put(&key, Bytes::from(json)).await?;
        Ok(key)
    }

    async fn journal(&self, journal: &Journal) -> Result<String, BoxError> {
        let key = format!("{}/journal.json", self.prefix);
        self.store.put(&key, Bytes::from(serde_json::to_vec_pretty(journal)?)).await?;
        Ok(key)
    }
}

/// A lake as the method needs it: the lake, and its address and catalog as journals name them.
pub struct Target<'a> {
    pub lake: &'a Lake,
    pub address: &'a str,
    pub catalog: &'a str,
}

/// A fault planned and journaled, not yet applied.
pub struct Planned {
    pub plan: FaultPlan,
    pub journal: Journal,
    /// Where the journal is.
    pub journal_at: String,
}

impl Planned {
    /// What the fault will damage.
    pub fn ground_truth(&self) -> &GroundTruth {
        &self.plan.ground_truth
    }
}

/// One scenario's method under one run seed.
pub struct Method<'a> {
    pub scenario: &'a Scenario,
    pub seed: u64,
}

impl Method<'_> {
    /// Seeds the fixture and stores its golden record.
    pub async fn seed(&self, lake: &Lake, records: &dyn Records) -> Result<SeededTable, ScenarioError> {
        let s = self.scenario;
        if s.fixture_at.is_none() {
            return Err(ScenarioError::new(
                Stage::Seed,
                format!(
                    "{}: the scenario has no fixture; it breaks an existing table (--lake … --table …)",
                    s.fixture_location()
                ),
            ));
        }
        if s.needs.contains(&crate::scenario::Capability::Iceberg) {
            // Its fixture is an Iceberg table, which only `lakechaos run`'s Iceberg backend seeds.
            return Err(ScenarioError::new(
                Stage::Seed,
                format!(
                    "{}: an Iceberg scenario runs through `lakechaos run` (it seeds an Iceberg table)",
                    s.fixture_location()
                ),
            ));
        }
        let seed = s.stream_seed(self.seed, "fixture");
        let seeded = match &s.like {
            None => seed_lake(lake, &s.dataset, &s.fixture, seed).await.at(Stage::Seed)?,
            Some(Like::Profile(profile)) => seed_like(lake, profile, &s.fixture, seed).await.at(Stage::Seed)?,
            Some(Like::Table { lake: address, table }) => {
                let conn = lakechaos_lake::AwsConnection::from_environment(None, None);
                let source = Lake::open(address, "file", &conn).await.at(Stage::Seed)?;
                let profile = profile_table(&source, table)
                    .await
                    .map_err(|e| format!("{}: fixture.like {address}/{table}: {e}", s.fixture_location()))
                    .at(Stage::Seed)?;
                seed_like(lake, &profile, &s.fixture, seed).await.at(Stage::Seed)?
            }
        };
        let json = serde_json::to_vec(&seeded.golden.record()).at(Stage::Seed)?;
        records.golden(json).await.at(Stage::Seed)?;
        Ok(seeded)
    }

    /// Plans the fault against `table` (with the lake's declared `grants`) and journals it;
    /// nothing in the lake changes.
    pub async fn plan(
        &self,
        at: &Target<'_>,
        table: &TableDef,
        grants: &[Grant],
        records: &dyn Records,
    ) -> Result<Planned, ScenarioError> {
        let plan = self.draft(at, table, grants).await?;
        self.journal(at, plan, records).await
    }

    /// Plans the fault against `table` without journaling it: what it would damage, to be
    /// checked before [`Method::journal`] makes it the plan.
    pub async fn draft(&self, at: &Target<'_>, table: &TableDef, grants: &[Grant]) -> Result<FaultPlan, ScenarioError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.scenario.stream_seed(self.seed, "fault"));
        let mut ctx = FaultContext { lake: at.lake, table, rng: &mut rng, grants };
        // A fault whose bounds depend on the lake (more bytes than the file has, a column the
        // table lacks) fails here, pointing at the scenario's fault.
        self.scenario
            .fault
            .plan(&mut ctx)
            .await
            .map_err(|e| format!("{}: {e}", self.scenario.fault_location()))
            .at(Stage::Fault)
    }

    /// Journals a drafted plan; nothing in the lake changes.
    pub async fn journal(
        &self,
        at: &Target<'_>,
        plan: FaultPlan,
        records: &dyn Records,
    ) -> Result<Planned, ScenarioError> {
        let mut journal = Journal::from_plan(&self.scenario.name, self.seed, at.address, &plan);
        journal.catalog = at.catalog.to_string();
        let journal_at = records.journal(&journal).await.at(Stage::Journal)?;
        Ok(Planned { plan, journal, journal_at })
    }

    /// Applies a journaled plan.
    pub async fn apply(&self, lake: &Lake, planned: &Planned) -> Result<(), ScenarioError> {
        apply(lake, &planned.plan).await.at(Stage::Inject)
    }

    /// The whole method on a new lake: seed, record golden, plan, journal, apply.
    pub async fn inject(
        &self,
        at: &Target<'_>,
        records: &dyn Records,
    ) -> Result<(SeededTable, Planned), ScenarioError> {
        let seeded = self.seed(at.lake, records).await?;
        let planned = self.plan(at, &seeded.table, &[], records).await?;
        self.apply(at.lake, &planned).await?;
        Ok((seeded, planned))
    }
}
