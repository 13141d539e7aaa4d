//! The Iceberg backend: an Iceberg table in a directory lake with the SQL catalog on SQLite
//! (`local`), or in a bucket with a Glue database (`moto`), seeded as the `orders` fixture with
//! one snapshot per day. Faults plan against the table's
//! current snapshot (its tree and its data files), the healer under test is the Iceberg healer,
//! and verification reads the table through its current snapshot against golden.

use super::damage::kept_in_lake;
use super::{Backend, DamageKept, HealerSettings, HealerUnderTest, Params, Planned, Seeded};
use crate::error::{AtStage, ScenarioError, Stage};
use crate::method::{self, FileRecords, Method, Records};
use crate::scenario::Scenario;
use crate::targets::{Target, TargetEnv};
use lakechaos_fixtures::{seed_iceberg, IcebergVerifier, Verification};
use lakechaos_lake::iceberg::{IcebergTable, SqlCatalog};
use lakechaos_lake::{Lake, TableDef};
use lakehealer::iceberg::{IcebergHealer, IcebergHealerConfig};
use lakehealer::HealerError;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The namespace scenario tables are created in.
pub const NAMESPACE: &str = "lakechaos";

/// A scenario's Iceberg lake.
struct IcebergLake {
    lake: Lake,
    table: IcebergTable,
    address: String,
    catalog: String,
}

pub struct IcebergBackend<'a> {
    env: &'a TargetEnv,
    scenario: &'a Scenario,
    params: Params,
    lake: Option<IcebergLake>,
    verifier: Option<IcebergVerifier>,
    planned: Option<method::Planned>,
}

impl<'a> IcebergBackend<'a> {
    pub fn new(env: &'a TargetEnv, scenario: &'a Scenario, params: Params) -> IcebergBackend<'a> {
        IcebergBackend { env, scenario, params, lake: None, verifier: None, planned: None }
    }

    fn method(&self) -> Method<'a> {
        Method { scenario: self.scenario, seed: self.params.seed }
    }

    fn lake(&self) -> &IcebergLake {
        self.lake.as_ref().expect("provisioned before use")
    }
}

/// An Iceberg table as faults plan against it: from its current metadata and live files.
pub async fn table_def(table: &IcebergTable) -> Result<TableDef, String> {
    let base = table.current().await.map_err(|e| e.to_string())?;
    let live = table.live_files(&base.metadata, None).await.map_err(|e| e.to_string())?;
    let partitions: BTreeSet<String> = live.iter().map(|f| f.partition.clone()).collect();
    table.table_def(&base.metadata, partitions).map_err(|e| e.to_string())
}

#[async_trait::async_trait]
impl Backend for IcebergBackend<'_> {
    async fn provision(&mut self) -> Result<(), ScenarioError> {
        super::fresh_dir(&self.params.dir)?;
        if self.env.target() != Target::Local {
            // A bucket (versioned as the scenario says) and a Glue database; the table is
            // `DATABASE.orders` there.
            let p = self
                .env
                .provision(&self.scenario.name, &self.params.dir, self.scenario.versioning)
                .await
                .at(Stage::Provision)?;
            let database = p.catalog.strip_prefix("glue:").unwrap_or_default().to_string();
            if database.is_empty() {
                return Err(ScenarioError::new(Stage::Provision, "Iceberg tables need a Glue catalog on this target"));
            }
            let name = format!("{database}.{}", self.scenario.dataset);
            let table = p
                .lake
                .iceberg_table(&name)
                .expect("a Glue lake has Iceberg tables")
                .map_err(|e| e.to_string())
                .at(Stage::Provision)?;
            // The scenario's own table from an earlier run on the same emulator: seeded afresh.
            table.catalog.unregister(&table.ident).await.map_err(|e| e.to_string()).at(Stage::Provision)?;
            self.lake = Some(IcebergLake { lake: p.lake, table, address: p.address, catalog: p.catalog });
            return Ok(());
        }
        let dir = self.params.dir.join("lake");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display())).at(Stage::Provision)?;
        let address = dir.canonicalize().unwrap_or(dir).display().to_string();
        let db = self.params.dir.join("catalog.db");
        SqlCatalog::open(&db, true).map_err(|e| e.to_string()).at(Stage::Provision)?;
        let catalog = format!("iceberg-sql:{}", db.canonicalize().unwrap_or(db).display());
        let lake = Lake::open(&address, &catalog, &Default::default()).await.at(Stage::Provision)?;
        let name = format!("{NAMESPACE}.{}", self.scenario.dataset);
        let table = lake
            .iceberg_table(&name)
            .expect("opened with an Iceberg catalog")
            .map_err(|e| e.to_string())
            .at(Stage::Provision)?;
        self.lake = Some(IcebergLake { lake, table, address, catalog });
        Ok(())
    }

    async fn seed(&mut self) -> Result<Seeded, ScenarioError> {
        let s = self.scenario;
        if s.like.is_some() || s.dataset != "orders" {
            return Err(ScenarioError::new(
                Stage::Seed,
                format!(
                    "{}: Iceberg fixtures are the orders dataset (profiles are not yet seeded as Iceberg tables)",
                    s.fixture_location()
                ),
            ));
        }
        let l = self.lake();
        let key = format!("warehouse/{}", l.table.ident.name);
        let seeded = seed_iceberg(&l.table, &key, &s.fixture, s.stream_seed(self.params.seed, "fixture"))
            .await
            .at(Stage::Seed)?;
        let json = serde_json::to_vec(&seeded.golden.record()).at(Stage::Seed)?;
        FileRecords::in_dir(&self.params.dir).golden(json).await.at(Stage::Seed)?;
        let rows = seeded.golden.total_rows();
        self.verifier = Some(IcebergVerifier::new(seeded.golden));
        Ok(Seeded { rows })
    }

    async fn healer(&mut self, settings: HealerSettings) -> Result<Arc<dyn HealerUnderTest>, ScenarioError> {
        let l = self.lake();
        bundled_healer(&l.lake, &l.table.ident.to_string(), &settings)
    }

    async fn verify(&mut self) -> Result<Verification, ScenarioError> {
        let table = &self.lake.as_ref().expect("provisioned").table;
        verify_table(self.verifier.as_mut(), table, false).await
    }

    async fn verify_final(&mut self) -> Result<Verification, ScenarioError> {
        let table = &self.lake.as_ref().expect("provisioned").table;
        verify_table(self.verifier.as_mut(), table, true).await
    }

    async fn plan(&mut self) -> Result<Planned, ScenarioError> {
        let l = self.lake();
        let table = table_def(&l.table).await.at(Stage::Fault)?;
        let at = method::Target { lake: &l.lake, address: &l.address, catalog: &l.catalog };
        let planned = self.method().plan(&at, &table, &[], &FileRecords::in_dir(&self.params.dir)).await?;
        let out = Planned { ground_truth: planned.ground_truth().clone(), journal: planned.journal_at.clone().into() };
        self.planned = Some(planned);
        Ok(out)
    }

    async fn inject(&mut self) -> Result<(), ScenarioError> {
        let planned = self.planned.as_ref().expect("planned before inject");
        self.method().apply(&self.lake().lake, planned).await
    }

    async fn damage_kept(&mut self) -> Result<DamageKept, ScenarioError> {
        let planned = self.planned.as_ref().expect("planned");
        let mut kept = kept_in_lake(planned, self.lake().lake.store.as_ref()).await?;
        // The scenario's lake goes with its work directory.
        kept.quarantined.clear();
        Ok(kept)
    }

    async fn revert(&mut self) -> Result<(), ScenarioError> {
        let planned = self.planned.as_ref().expect("planned before revert");
        planned.journal.revert(&self.lake().lake).await.at(Stage::Revert)?;
        Ok(())
    }
}

/// The Iceberg healer of table `name` (`NAMESPACE.TABLE`) of `lake`, in this process.
pub(super) fn bundled_healer(
    lake: &Lake,
    name: &str,
    settings: &HealerSettings,
) -> Result<Arc<dyn HealerUnderTest>, ScenarioError> {
    let config = IcebergHealerConfig { mode: settings.mode, ..IcebergHealerConfig::default() };
    let healer = IcebergHealer::new(lake.clone(), name, config, settings.sink.clone())
        .map_err(|e| e.to_string())
        .at(Stage::Heal)?;
    Ok(Arc::new(BundledIcebergHealer { healer: Arc::new(healer) }))
}

/// `table` against golden; `fresh` forgets every digest first (the verdict's verification).
pub(super) async fn verify_table(
    verifier: Option<&mut IcebergVerifier>,
    table: &IcebergTable,
    fresh: bool,
) -> Result<Verification, ScenarioError> {
    let verifier = verifier.expect("seeded before verify");
    if fresh {
        verifier.forget();
    }
    verifier.verify(table).await.at(Stage::Verify)
}

/// The Iceberg healer, in this process, polling the table.
struct BundledIcebergHealer {
    healer: Arc<IcebergHealer>,
}

#[async_trait::async_trait]
impl HealerUnderTest for BundledIcebergHealer {
    async fn findings(&self) -> Result<Vec<String>, HealerError> {
        Ok(self.healer.scan().await?.iter().map(|f| format!("{} at {}", f.kind, f.location)).collect())
    }

    fn start(self: Arc<Self>, stop: watch::Receiver<bool>) -> JoinHandle<Result<(), HealerError>> {
        let healer = self.healer.clone();
        tokio::spawn(lakehealer::iceberg::watch(healer, stop))
    }
}
