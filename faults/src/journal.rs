//! The journal: what a fault will change and how to undo it, written before anything changes.
//!
//! A journal holds the complete before-state of every object and catalog entry the fault
//! touches (objects as base64) and the SHA-256 of every after-state. Reverting writes the
//! before-states back, so a lake is restored byte for byte even if the process that injected
//! the fault was killed halfway.

use crate::{Change, FaultError, FaultPlan, GroundTruth};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use lakechaos_lake::{AwsConnection, Grant, Lake, TableDef};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Journal format version.
const FORMAT: u32 = 1;

/// One change as journaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JournalEntry {
    Object {
        key: String,
        /// Base64 of the original object; `None` if the fault creates it.
        before: Option<String>,
        before_sha256: Option<String>,
        /// SHA-256 of what the fault writes; `None` if the fault removes the object.
        after_sha256: Option<String>,
    },
    CatalogTable {
        before: Box<TableDef>,
        after: Box<TableDef>,
    },
    /// Permissions revoked from a principal; reverting grants them again.
    Revoke {
        grant: Grant,
    },
    /// An Iceberg table's catalog pointer moved; reverting points it back at `before`.
    IcebergPointer {
        table: String,
        before: String,
        after: String,
    },
}

/// A fault's journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub format: u32,
    /// Scenario that injected the fault.
    pub scenario: String,
    /// Run seed.
    pub seed: u64,
    /// Where the lake is (a directory or `s3://bucket[/prefix]`), so `revert` can find it.
    pub lake: String,
    /// Its catalog as `lakehealer --catalog` names it (`file`, `glue:DATABASE`).
    #[serde(default = "file_catalog")]
    pub catalog: String,
    /// What the fault damaged.
    pub ground_truth: GroundTruth,
    /// Every change, in application order.
    pub changes: Vec<JournalEntry>,
}

fn file_catalog() -> String {
    "file".into()
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a revert did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RevertReport {
    pub objects_restored: usize,
    pub objects_removed: usize,
    pub catalog_entries_restored: usize,
    pub grants_restored: usize,
    /// PostgreSQL: statements run.
    pub statements: usize,
}

impl std::fmt::Display for RevertReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.statements > 0 {
            return write!(f, "{} statement(s)", self.statements);
        }
        write!(
            f,
            "{} object(s) restored, {} removed, {} catalog entr(ies) restored",
            self.objects_restored, self.objects_removed, self.catalog_entries_restored
        )?;
        if self.grants_restored > 0 {
            write!(f, ", {} grant(s) restored", self.grants_restored)?;
        }
        Ok(())
    }
}

impl Journal {
    /// Journals a plan.
    pub fn from_plan(scenario: &str, seed: u64, lake: &str, plan: &FaultPlan) -> Journal {
        let changes = plan
            .changes
            .iter()
            .map(|c| match c {
                Change::Object { key, before, after } => JournalEntry::Object {
                    key: key.clone(),
                    before: before.as_ref().map(|b| B64.encode(b)),
                    before_sha256: before.as_ref().map(|b| sha256_hex(b)),
                    after_sha256: after.as_ref().map(|a| sha256_hex(a)),
                },
                Change::CatalogTable { before, after } => {
                    JournalEntry::CatalogTable { before: before.clone(), after: after.clone() }
                }
                Change::Revoke { grant } => JournalEntry::Revoke { grant: grant.clone() },
                Change::IcebergPointer { table, before, after } => {
                    JournalEntry::IcebergPointer { table: table.clone(), before: before.clone(), after: after.clone() }
                }
            })
            .collect();
        Journal {
            format: FORMAT,
            scenario: scenario.to_string(),
            seed,
            lake: lake.to_string(),
            catalog: file_catalog(),
            ground_truth: plan.ground_truth.clone(),
            changes,
        }
    }

    /// Writes the journal durably (temporary file, fsync, rename).
    pub fn write(&self, path: &Path) -> Result<(), FaultError> {
        let err = |reason: String| FaultError::Journal { path: path.display().to_string(), reason };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| err(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(|e| err(e.to_string()))?;
            f.write_all(&json).map_err(|e| err(e.to_string()))?;
            f.sync_all().map_err(|e| err(e.to_string()))?;
        }
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
    }

    /// Reads a journal.
    pub fn read(path: &Path) -> Result<Journal, FaultError> {
        let origin = path.display().to_string();
        let data =
            std::fs::read(path).map_err(|e| FaultError::Journal { path: origin.clone(), reason: e.to_string() })?;
        Journal::parse(&data, &origin)
    }

    /// A journal from its bytes; `origin` names it in errors.
    pub fn parse(data: &[u8], origin: &str) -> Result<Journal, FaultError> {
        let err = |reason: String| FaultError::Journal { path: origin.to_string(), reason };
        let journal: Journal =
            serde_json::from_slice(data).map_err(|e| err(format!("not a lakechaos journal: {e}")))?;
        if journal.format != FORMAT {
            return Err(err(format!("journal format {} is not supported (expected {FORMAT})", journal.format)));
        }
        Ok(journal)
    }

    /// Restores every before-state, last change first. Idempotent: reverting twice, or reverting
    /// a fault that was only partly applied, leaves the same lake.
    pub async fn revert(&self, lake: &Lake) -> Result<RevertReport, FaultError> {
        let mut report = RevertReport::default();
        for entry in self.changes.iter().rev() {
            match entry {
                JournalEntry::Object { key, before: Some(b64), .. } => {
                    let data = B64.decode(b64).map_err(|e| FaultError::Journal {
                        path: self.scenario.clone(),
                        reason: format!("before-state of {key} is not base64: {e}"),
                    })?;
                    lake.store.put(key, Bytes::from(data)).await?;
                    report.objects_restored += 1;
                }
                JournalEntry::Object { key, before: None, .. } => {
                    lake.store.delete(key).await?;
                    report.objects_removed += 1;
                }
                JournalEntry::CatalogTable { before, .. } => {
                    lake.catalog.put_table(before).await?;
                    report.catalog_entries_restored += 1;
                }
                JournalEntry::Revoke { grant } => {
                    crate::governance(lake)?.grant(&grant.principal, &grant.resource, &grant.permissions).await?;
                    report.grants_restored += 1;
                }
                JournalEntry::IcebergPointer { table, before, .. } => {
                    // Back to `before` from wherever the pointer is now (the fault's target, or
                    // wherever a healer moved it since): the journal's before-state is the truth.
                    let table = crate::iceberg_pointer_table(lake, table)?;
                    let lost = |e: lakechaos_lake::iceberg::IcebergError| FaultError::Lake(e.into());
                    let now = table.pointer().await.map_err(lost)?;
                    if now != *before {
                        table.catalog.swap(&table.ident, &now, before).await.map_err(lost)?;
                    }
                    report.catalog_entries_restored += 1;
                }
            }
        }
        Ok(report)
    }
}

/// A journal of either kind: an object lake's (a directory or S3, with its catalog and grants) or
/// a PostgreSQL database's. `lakechaos revert` and the runner undo faults through it alone.
#[derive(Clone, Debug)]
pub enum AnyJournal {
    Objects(Journal),
    Postgres(crate::pg::PgJournal),
}

impl AnyJournal {
    /// Reads a journal from a file, or from `s3://BUCKET/KEY` through `conn` (where the chaos
    /// function leaves game-day journals).
    pub async fn read(source: &str, conn: &AwsConnection) -> Result<AnyJournal, FaultError> {
        let err = |reason: String| FaultError::Journal { path: source.to_string(), reason };
        let data = match lakechaos_lake::S3Store::parse_url(source) {
            Some((_, key)) if key.is_empty() => return Err(err("expected s3://BUCKET/KEY".into())),
            Some((bucket, key)) => {
                use lakechaos_lake::ObjectStore;
                Lake::bucket_store(conn, &bucket).await.get(&key).await.map_err(|e| err(e.to_string()))?.to_vec()
            }
            None => std::fs::read(source).map_err(|e| err(e.to_string()))?,
        };
        AnyJournal::parse(&data, source)
    }

    /// A journal of either kind from its bytes (a PostgreSQL journal names its database).
    pub fn parse(data: &[u8], origin: &str) -> Result<AnyJournal, FaultError> {
        if let Ok(pg) = serde_json::from_slice::<crate::pg::PgJournal>(data) {
            return Ok(AnyJournal::Postgres(pg));
        }
        Journal::parse(data, origin).map(AnyJournal::Objects)
    }

    /// The scenario that injected the fault.
    pub fn scenario(&self) -> &str {
        match self {
            AnyJournal::Objects(j) => &j.scenario,
            AnyJournal::Postgres(j) => &j.scenario,
        }
    }

    /// What the fault damaged.
    pub fn ground_truth(&self) -> &GroundTruth {
        match self {
            AnyJournal::Objects(j) => &j.ground_truth,
            AnyJournal::Postgres(j) => &j.plan.ground_truth,
        }
    }

    /// Where the damage is, fit to print (a database URL without its password).
    pub fn place(&self) -> String {
        match self {
            AnyJournal::Objects(j) => j.lake.clone(),
            AnyJournal::Postgres(j) => lakechaos_lake::pg::redact(&j.database),
        }
    }

    /// Undoes the fault: opens the journaled lake (through `conn` for S3) or database and puts
    /// every before-state back. Idempotent.
    pub async fn revert(&self, conn: &AwsConnection) -> Result<RevertReport, FaultError> {
        match self {
            AnyJournal::Objects(journal) => {
                let lake = Lake::open(&journal.lake, &journal.catalog, conn).await?;
                journal.revert(&lake).await
            }
            AnyJournal::Postgres(journal) => {
                let url = lakechaos_lake::pg::with_password(&journal.database);
                let mut client = lakechaos_lake::pg::connect(&url, "lakechaos").await?;
                crate::pg::revert(&mut client, &url, &journal.plan).await?;
                Ok(RevertReport { statements: journal.plan.revert.len(), ..RevertReport::default() })
            }
        }
    }
}
