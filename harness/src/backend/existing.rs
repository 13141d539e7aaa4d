//! The existing-table backend: the object backend's steps on a table that already exists (a
//! directory or an S3 lake, file catalog or Glue), with three differences. Golden is a snapshot
//! of the table as found, not a seeded fixture; a planned fault is checked against the blast
//! radius before it is journaled; and at the end the table is put back to its snapshot and
//! verified equal to it, whatever the healer did — or the scenario ends in an error that says
//! how it differs.

use super::objects::ObjectBackend;
use super::{Backend, DamageKept, HealerSettings, HealerUnderTest, Params, Planned, Seeded};
use crate::error::{AtStage, ScenarioError, Stage};
use crate::method::{self, FileRecords};
use crate::scenario::Scenario;
use crate::targets::existing::ExistingTable;
use crate::targets::{Provisioned, TargetEnv};
use lakechaos_fixtures::{snapshot_table, TableSnapshot, Verification};
use std::sync::Arc;

pub struct ExistingTableBackend<'a> {
    inner: ObjectBackend<'a>,
    table: &'a ExistingTable,
    opened: Option<Provisioned>,
    snapshot: Option<TableSnapshot>,
}

impl<'a> ExistingTableBackend<'a> {
    pub fn new(env: &'a TargetEnv, table: &'a ExistingTable, scenario: &'a Scenario, params: Params) -> Self {
        ExistingTableBackend { inner: ObjectBackend::new(env, scenario, params), table, opened: None, snapshot: None }
    }

    /// Puts the catalog entry back as found if anything changed it, then checks the whole table
    /// against its snapshot, reading every object again.
    async fn restore_and_check(&mut self) -> Result<(), ScenarioError> {
        let snapshot = self.snapshot.as_ref().expect("snapshot before restore");
        let catalog = &self.inner.lake().lake.catalog;
        let now = catalog.get_table(&snapshot.table.name).await.at(Stage::Revert)?;
        if now.as_ref() != Some(&snapshot.table) {
            catalog.put_table(&snapshot.table).await.at(Stage::Revert)?;
        }
        let v = self.inner.verify_final().await.map_err(|e| ScenarioError::new(Stage::Revert, e.to_string()))?;
        if !v.healed {
            return Err(ScenarioError::new(
                Stage::Revert,
                format!("table {} does not equal its snapshot after the revert: {}", snapshot.table.name, v.describe()),
            ));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Backend for ExistingTableBackend<'_> {
    /// Opens the table's lake; only the work directory (journal, snapshot) is created.
    async fn provision(&mut self) -> Result<(), ScenarioError> {
        super::fresh_dir(&self.inner.params.dir)?;
        let lake = self.table.open().await.at(Stage::Provision)?;
        self.opened = Some(Provisioned {
            lake,
            address: self.table.address.clone(),
            catalog: self.table.catalog.clone(),
            // The user's bucket notifications are theirs: the healer finds damage by its
            // reconcile passes.
            events: None,
        });
        Ok(())
    }

    /// Golden is the table as found: per-partition row hashes, object identities and the
    /// catalog entry (`golden.json`, `snapshot.json` in the work directory).
    async fn seed(&mut self) -> Result<Seeded, ScenarioError> {
        let opened = self.opened.take().expect("provisioned before seed");
        let (golden, snapshot) = snapshot_table(&opened.lake, &self.table.table).await.at(Stage::Seed)?;
        let dir = &self.inner.params.dir;
        let write = |name: &str, json: Vec<u8>| {
            std::fs::write(dir.join(name), json).map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        write("golden.json", serde_json::to_vec(&golden.golden.record()).at(Stage::Seed)?).at(Stage::Seed)?;
        write("snapshot.json", serde_json::to_vec_pretty(&snapshot).at(Stage::Seed)?).at(Stage::Seed)?;
        let rows = golden.golden.total_rows();
        self.inner.adopt(opened, golden);
        // The declared grants: the healer under test keeps them, the verification checks them,
        // and a permission_drift fault revokes from them.
        if self.table.grants_unavailable().is_none() {
            self.inner.grants = self.table.declared_grants().at(Stage::Seed)?;
        }
        self.snapshot = Some(snapshot);
        Ok(Seeded { rows })
    }

    async fn healer(&mut self, settings: HealerSettings) -> Result<Arc<dyn HealerUnderTest>, ScenarioError> {
        self.inner.healer(settings).await
    }

    async fn verify(&mut self) -> Result<Verification, ScenarioError> {
        self.inner.verify().await
    }

    async fn verify_final(&mut self) -> Result<Verification, ScenarioError> {
        self.inner.verify_final().await
    }

    /// Plans the fault against the table as the catalog holds it, refuses it if it exceeds the
    /// blast radius (before the journal, so nothing at all is written), then journals it.
    async fn plan(&mut self) -> Result<Planned, ScenarioError> {
        let p = self.inner.lake();
        let seeded = self.inner.seeded.as_ref().expect("seeded before plan");
        let at = method::Target { lake: &p.lake, address: &p.address, catalog: &p.catalog };
        let method = self.inner.method();
        let draft = method.draft(&at, &seeded.table, &self.inner.grants).await?;
        if let Some(why) = self.table.radius.exceeded_by(&draft.ground_truth, seeded.golden.total_rows()) {
            return Err(ScenarioError::new(
                Stage::Fault,
                format!("{}: refused: {why} (nothing was written)", method.scenario.fault_location()),
            ));
        }
        let planned = method.journal(&at, draft, &FileRecords::in_dir(&self.inner.params.dir)).await?;
        let out = Planned { ground_truth: planned.ground_truth().clone(), journal: planned.journal_at.clone().into() };
        self.inner.planned = Some(planned);
        Ok(out)
    }

    async fn before_injection(&mut self) -> Result<(), ScenarioError> {
        self.inner.before_injection().await
    }

    async fn inject(&mut self) -> Result<(), ScenarioError> {
        self.inner.inject().await
    }

    async fn damage_kept(&mut self) -> Result<DamageKept, ScenarioError> {
        self.inner.damage_kept().await
    }

    /// The journal's before-states, then the catalog entry as found; the table must then equal
    /// its snapshot.
    async fn revert(&mut self) -> Result<(), ScenarioError> {
        let planned = self.inner.planned.as_ref().expect("planned before revert");
        let scenario = &self.inner.method().scenario.name;
        super::damage::keep_unexpected_writes(planned, self.inner.lake().lake.store.as_ref(), scenario).await?;
        self.inner.revert().await?;
        self.restore_and_check().await
    }

    /// The healer mended the table: it must still equal its snapshot, catalog entry included.
    async fn cleanup(&mut self) -> Result<(), ScenarioError> {
        self.restore_and_check().await
    }
}
