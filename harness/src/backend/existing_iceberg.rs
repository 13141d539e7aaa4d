//! The existing-table backend for an Iceberg table someone else owns (`lakechaos run --lake …
//! --catalog iceberg-sql:DB|glue:DB --table NAMESPACE.TABLE`). Golden is the table as found
//! through its current snapshot; a planned fault is held to the blast radius before it is
//! journaled; the healer under test is the Iceberg healer; and at the end the table must read
//! equal to its snapshot, whatever the healer did — or the scenario ends in an error that says
//! how it differs.
//!
//! When the healer mended the table, its repair commits stay in the table's history (they are
//! the repair); when it did not, the journal moves the catalog's pointer back to the metadata
//! file found, which serves exactly the snapshot found.

use super::damage::{keep_unexpected_writes, kept_in_lake};
use super::iceberg::{bundled_healer, table_def, verify_table};
use super::{Backend, DamageKept, HealerSettings, HealerUnderTest, Params, Planned, Seeded};
use crate::error::{AtStage, ScenarioError, Stage};
use crate::method::{self, FileRecords, Method, Records};
use crate::scenario::Scenario;
use crate::targets::existing::ExistingTable;
use lakechaos_fixtures::{snapshot_iceberg, IcebergSnapshot, IcebergVerifier, Verification};
use lakechaos_lake::iceberg::IcebergTable;
use lakechaos_lake::Lake;
use std::sync::Arc;

pub struct ExistingIcebergBackend<'a> {
    table: &'a ExistingTable,
    scenario: &'a Scenario,
    params: Params,
    opened: Option<(Lake, IcebergTable)>,
    verifier: Option<IcebergVerifier>,
    snapshot: Option<IcebergSnapshot>,
    planned: Option<method::Planned>,
}

impl<'a> ExistingIcebergBackend<'a> {
    pub fn new(table: &'a ExistingTable, scenario: &'a Scenario, params: Params) -> Self {
        ExistingIcebergBackend { table, scenario, params, opened: None, verifier: None, snapshot: None, planned: None }
    }

    fn method(&self) -> Method<'a> {
        Method { scenario: self.scenario, seed: self.params.seed }
    }

    fn opened(&self) -> &(Lake, IcebergTable) {
        self.opened.as_ref().expect("provisioned before use")
    }

    /// The table, read afresh, must equal its snapshot.
    async fn check_as_found(&mut self) -> Result<(), ScenarioError> {
        let v = self.verify_final().await.map_err(|e| ScenarioError::new(Stage::Revert, e.to_string()))?;
        if !v.healed {
            let found = self.snapshot.as_ref().map(|s| s.metadata_location.as_str()).unwrap_or("?");
            return Err(ScenarioError::new(
                Stage::Revert,
                format!(
                    "Iceberg table {} does not equal its snapshot (metadata {found}) after the scenario: {}",
                    self.table.table,
                    v.describe()
                ),
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Backend for ExistingIcebergBackend<'_> {
    /// Opens the table's lake; only the work directory (journal, snapshot) is created.
    async fn provision(&mut self) -> Result<(), ScenarioError> {
        super::fresh_dir(&self.params.dir)?;
        let lake = self.table.open().await.at(Stage::Provision)?;
        let iceberg = self.table.iceberg_table(&lake).at(Stage::Provision)?;
        self.opened = Some((lake, iceberg));
        Ok(())
    }

    /// Golden is the table as found through its current snapshot (`golden.json`), with the
    /// metadata file the catalog pointed at and every live file's identity (`snapshot.json`).
    async fn seed(&mut self) -> Result<Seeded, ScenarioError> {
        let (golden, snapshot) = snapshot_iceberg(&self.opened().1).await.at(Stage::Seed)?;
        let records = FileRecords::in_dir(&self.params.dir);
        records.golden(serde_json::to_vec(&golden.record()).at(Stage::Seed)?).await.at(Stage::Seed)?;
        let path = self.params.dir.join("snapshot.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&snapshot).at(Stage::Seed)?)
            .map_err(|e| format!("{}: {e}", path.display()))
            .at(Stage::Seed)?;
        let rows = golden.total_rows();
        self.verifier = Some(IcebergVerifier::new(golden));
        self.snapshot = Some(snapshot);
        Ok(Seeded { rows })
    }

    async fn healer(&mut self, settings: HealerSettings) -> Result<Arc<dyn HealerUnderTest>, ScenarioError> {
        bundled_healer(&self.opened().0, &self.table.table, &settings)
    }

    async fn verify(&mut self) -> Result<Verification, ScenarioError> {
        let table = &self.opened.as_ref().expect("provisioned").1;
        verify_table(self.verifier.as_mut(), table, false).await
    }

    async fn verify_final(&mut self) -> Result<Verification, ScenarioError> {
        let table = &self.opened.as_ref().expect("provisioned").1;
        verify_table(self.verifier.as_mut(), table, true).await
    }

    /// Plans the fault against the table's current snapshot, refuses it if it exceeds the blast
    /// radius (before the journal, so nothing at all is written), then journals it.
    async fn plan(&mut self) -> Result<Planned, ScenarioError> {
        let (lake, iceberg) = self.opened();
        let def = table_def(iceberg).await.at(Stage::Fault)?;
        let at = method::Target { lake, address: &self.table.address, catalog: &self.table.catalog };
        let method = self.method();
        let draft = method.draft(&at, &def, &[]).await?;
        let rows = self.verifier.as_ref().expect("seeded before plan").golden().total_rows();
        if let Some(why) = self.table.radius.exceeded_by(&draft.ground_truth, rows) {
            return Err(ScenarioError::new(
                Stage::Fault,
                format!("{}: refused: {why} (nothing was written)", method.scenario.fault_location()),
            ));
        }
        let planned = method.journal(&at, draft, &FileRecords::in_dir(&self.params.dir)).await?;
        let out = Planned { ground_truth: planned.ground_truth().clone(), journal: planned.journal_at.clone().into() };
        self.planned = Some(planned);
        Ok(out)
    }

    async fn inject(&mut self) -> Result<(), ScenarioError> {
        let planned = self.planned.as_ref().expect("planned before inject");
        self.method().apply(&self.opened().0, planned).await
    }

    /// What became of the fault's objects; the quarantined copies stay in the table's lake
    /// for its owner to inspect.
    async fn damage_kept(&mut self) -> Result<DamageKept, ScenarioError> {
        let planned = self.planned.as_ref().expect("planned");
        kept_in_lake(planned, self.opened().0.store.as_ref()).await
    }

    /// Copies aside anything another writer put where the journal restores, undoes the fault
    /// (the pointer goes back to the metadata file found), then checks the table as found.
    async fn revert(&mut self) -> Result<(), ScenarioError> {
        let planned = self.planned.as_ref().expect("planned before revert");
        let lake = &self.opened().0;
        keep_unexpected_writes(planned, lake.store.as_ref(), &self.scenario.name).await?;
        planned.journal.revert(lake).await.at(Stage::Revert)?;
        self.check_as_found().await
    }

    /// The healer mended the table: read afresh, it must still equal its snapshot.
    async fn cleanup(&mut self) -> Result<(), ScenarioError> {
        self.check_as_found().await
    }
}
