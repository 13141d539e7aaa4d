//! The object backend: a lake of Parquet files in a directory or an S3 bucket, with the file
//! catalog or Glue, and, where the target has Lake Formation and the scenario needs it, a
//! declared grant policy the healer keeps.

use super::damage::kept_in_lake;
use super::{Backend, DamageKept, HealerSettings, HealerUnderTest, Params, Planned, Seeded};
use crate::error::{AtStage, ScenarioError, Stage};
use crate::method::{self, FileRecords, Method};
use crate::scenario::{Capability, Scenario};
use crate::targets::{Provisioned, TargetEnv};
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{SeededTable, Verification};
use lakechaos_lake::{Grant, LakeFormation, LfResource};
use lakehealer::governance::{Governance, Policy};
use lakehealer::{Healer, HealerConfig, HealerError};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The permissions the healer's role holds on a governed scenario table.
const HEALER_PERMISSIONS: [&str; 5] = ["SELECT", "DESCRIBE", "ALTER", "INSERT", "DELETE"];

pub struct ObjectBackend<'a> {
    env: &'a TargetEnv,
    scenario: &'a Scenario,
    pub(super) params: Params,
    provisioned: Option<Provisioned>,
    pub(super) seeded: Option<SeededTable>,
    verifier: Option<Verifier>,
    /// The grants the lake's policy declares (scenarios that need Lake Formation).
    pub(super) grants: Vec<Grant>,
    pub(super) planned: Option<method::Planned>,
    /// The tables the healer under test looks after (empty: every table of the lake).
    pub(super) healer_tables: Vec<String>,
}

impl<'a> ObjectBackend<'a> {
    pub fn new(env: &'a TargetEnv, scenario: &'a Scenario, params: Params) -> ObjectBackend<'a> {
        ObjectBackend {
            env,
            scenario,
            params,
            provisioned: None,
            seeded: None,
            verifier: None,
            grants: Vec::new(),
            planned: None,
            healer_tables: Vec::new(),
        }
    }

    pub(super) fn method(&self) -> Method<'a> {
        Method { scenario: self.scenario, seed: self.params.seed }
    }

    pub(super) fn lake(&self) -> &Provisioned {
        self.provisioned.as_ref().expect("provisioned before use")
    }

    /// Takes a lake that already exists, and its golden record, instead of provisioning and
    /// seeding one (existing-table mode).
    pub(super) fn adopt(&mut self, lake: Provisioned, golden: SeededTable) {
        self.provisioned = Some(lake);
        self.verifier = Some(Verifier::new(golden.golden.clone()));
        self.healer_tables = vec![golden.table.name.clone()];
        self.seeded = Some(golden);
    }

    fn lake_formation(&self) -> Option<&LakeFormation> {
        self.lake().lake.grants.as_ref().filter(|_| !self.grants.is_empty())
    }

    /// Declares and grants the healer's permissions on the seeded table, for scenarios that need
    /// Lake Formation: the policy the healer keeps and the fault revokes from.
    async fn declare_grants(&mut self, table: &str) -> Result<(), ScenarioError> {
        let p = self.lake();
        let (Some(lf), Some(database)) = (p.lake.grants.as_ref(), p.catalog.strip_prefix("glue:")) else {
            return Err(ScenarioError::new(
                Stage::Seed,
                "the scenario needs Lake Formation, which comes with a Glue catalog",
            ));
        };
        let conn = self.env.connection().ok_or_else(|| ScenarioError::new(Stage::Seed, "no AWS connection"))?;
        let account = lakechaos_lake::notifications::caller_account(conn).await.at(Stage::Seed)?;
        let grant = Grant {
            principal: format!("arn:aws:iam::{account}:role/lakehealer"),
            resource: LfResource::Table { database: database.to_string(), name: table.to_string() },
            permissions: HEALER_PERMISSIONS.iter().map(|p| p.to_string()).collect(),
        };
        lf.grant(&grant.principal, &grant.resource, &grant.permissions).await.at(Stage::Seed)?;
        self.grants = vec![grant];
        Ok(())
    }
}

#[async_trait::async_trait]
impl Backend for ObjectBackend<'_> {
    async fn provision(&mut self) -> Result<(), ScenarioError> {
        super::fresh_dir(&self.params.dir)?;
        let p = self
            .env
            .provision(&self.scenario.name, &self.params.dir, self.scenario.versioning)
            .await
            .at(Stage::Provision)?;
        self.provisioned = Some(p);
        Ok(())
    }

    async fn seed(&mut self) -> Result<Seeded, ScenarioError> {
        let records = FileRecords::in_dir(&self.params.dir);
        let seeded = self.method().seed(&self.lake().lake, &records).await?;
        if self.scenario.needs.contains(&Capability::LakeFormation) {
            self.declare_grants(&seeded.table.name).await?;
        }
        self.verifier = Some(Verifier::new(seeded.golden.clone()));
        let rows = seeded.golden.total_rows();
        self.seeded = Some(seeded);
        Ok(Seeded { rows })
    }

    async fn healer(&mut self, settings: HealerSettings) -> Result<Arc<dyn HealerUnderTest>, ScenarioError> {
        let p = self.lake();
        let config = HealerConfig {
            mode: settings.mode,
            reconcile_every: settings.reconcile_every,
            event_queue: p.events.clone(),
            tables: self.healer_tables.clone(),
            ..HealerConfig::default()
        };
        let governance = self.lake_formation().map(|lf| {
            let policy = Policy { grants: self.grants.clone() };
            Governance::new(lf.clone(), policy, "the scenario's declared grant policy")
        });
        Ok(Arc::new(BundledHealer {
            healer: Arc::new(Healer::new(p.lake.clone(), config, settings.sink.clone())),
            governance: governance.map(Arc::new),
            settings,
        }))
    }

    async fn verify_final(&mut self) -> Result<Verification, ScenarioError> {
        if let Some(verifier) = self.verifier.as_mut() {
            verifier.forget();
        }
        self.verify().await
    }

    async fn verify(&mut self) -> Result<Verification, ScenarioError> {
        let lake = &self.provisioned.as_ref().expect("provisioned").lake;
        let verifier = self.verifier.as_mut().expect("seeded before verify");
        let mut v = verifier.verify(lake).await.at(Stage::Verify)?;
        if let Some(lf) = lake.grants.as_ref().filter(|_| !self.grants.is_empty()) {
            for grant in &self.grants {
                let missing = lf.missing(grant).await.at(Stage::Verify)?;
                if !missing.is_empty() {
                    v.missing_grants.push(format!("{} lacks {}", grant.location(), missing.join(",")));
                }
            }
            v.healed &= v.missing_grants.is_empty();
        }
        Ok(v)
    }

    async fn plan(&mut self) -> Result<Planned, ScenarioError> {
        let p = self.lake();
        let table = &self.seeded.as_ref().expect("seeded before plan").table;
        let at = method::Target { lake: &p.lake, address: &p.address, catalog: &p.catalog };
        let planned = self.method().plan(&at, table, &self.grants, &FileRecords::in_dir(&self.params.dir)).await?;
        let out = Planned { ground_truth: planned.ground_truth().clone(), journal: planned.journal_at.clone().into() };
        self.planned = Some(planned);
        Ok(out)
    }

    /// Events from seeding are history: the healer's first pass covers them, and they must not
    /// be mistaken for the fault's.
    async fn before_injection(&mut self) -> Result<(), ScenarioError> {
        if let Some(queue) = &self.lake().events {
            queue.drain().await.map_err(|e| format!("draining seed events: {e}")).at(Stage::Inject)?;
        }
        Ok(())
    }

    async fn inject(&mut self) -> Result<(), ScenarioError> {
        let planned = self.planned.as_ref().expect("planned before inject");
        self.method().apply(&self.lake().lake, planned).await
    }

    /// Of the objects the fault wrote (the damaged versions), how many are still in the lake, in
    /// place or in quarantine. The healer may move damage aside but must never delete it.
    async fn damage_kept(&mut self) -> Result<DamageKept, ScenarioError> {
        let planned = self.planned.as_ref().expect("planned");
        let mut kept = kept_in_lake(planned, self.lake().lake.store.as_ref()).await?;
        // A seeded lake is the run's own and goes with its work directory; only a table that
        // was there before (existing-table mode) keeps its quarantine for someone to inspect.
        if self.healer_tables.is_empty() {
            kept.quarantined.clear();
        }
        Ok(kept)
    }

    async fn revert(&mut self) -> Result<(), ScenarioError> {
        let planned = self.planned.as_ref().expect("planned before revert");
        planned.journal.revert(&self.lake().lake).await.at(Stage::Revert)?;
        Ok(())
    }
}

/// The bundled healer, in this process: `lakehealer watch` on the lake, and its governance pass
/// on the declared grants when the lake has them.
struct BundledHealer {
    healer: Arc<Healer>,
    governance: Option<Arc<Governance>>,
    settings: HealerSettings,
}

#[async_trait::async_trait]
impl HealerUnderTest for BundledHealer {
    async fn findings(&self) -> Result<Vec<String>, HealerError> {
        let mut found = self.healer.scan().await?.findings;
        if let Some(g) = &self.governance {
            found.extend(g.check().await?);
        }
        Ok(found.iter().map(|f| format!("{} at {}", f.kind, f.location)).collect())
    }

    fn start(self: Arc<Self>, stop: watch::Receiver<bool>) -> JoinHandle<Result<(), HealerError>> {
        let grants = self.governance.clone().map(|g| {
            let (sink, every, mode, stop) =
                (self.settings.sink.clone(), self.settings.reconcile_every, self.settings.mode, stop.clone());
            tokio::spawn(async move { g.keep(mode, sink, every, stop).await })
        });
        let healer = self.healer.clone();
        tokio::spawn(async move {
            let watched = lakehealer::watch::watch(healer, stop).await;
            if let Some(task) = grants {
                let _ = task.await;
            }
            watched
        })
    }
}
