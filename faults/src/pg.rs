//! The fault families on PostgreSQL. A scenario's `fault:` means the same damage here as in a
//! file lake, done with SQL on the served table:
//!
//! | fault | on PostgreSQL |
//! |---|---|
//! | `schema_drift` `add_column` / `drop_column` / `rename_column` / `change_type` | `ALTER TABLE` on the served table (its partitions follow) |
//! | `null_flood` | a share of one column's values in `select.partitions` days set to NULL |
//! | `missing_partition` `files` / `catalog` / `both` | the day's rows deleted / its partition detached / its partition dropped |
//! | `corrupt_parquet`, `permission_drift` | no meaning: such scenarios are skipped |
//!
//! Each family plans its own SQL ([`crate::Fault::plan_postgres`], in the family's file); this
//! module holds what they share: the table they may know, the plan's shape, its journal, and
//! running it.
//!
//! As with files, a fault first records its before-state — here into tables of the
//! `lakechaos_journal` schema, by the statements in [`PgFaultPlan::snapshot`] — and the journal
//! file holds the exact SQL that injects and reverts it.

use crate::{Fault, FaultError, FaultSpec, GroundTruth};
use chrono::NaiveDate;
use lakechaos_lake::pg::types::pg_type;
use lakechaos_lake::pg::{ident, literal, sql_error, PgLayout};
use lakechaos_lake::ColumnDef;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tokio_postgres::Client;

/// The schema fault journals keep before-states in.
pub const JOURNAL_SCHEMA: &str = "lakechaos_journal";

/// What a fault may know about the table it damages.
#[derive(Clone, Debug)]
pub struct PgTable {
    pub layout: PgLayout,
    /// The days with a partition.
    pub days: Vec<NaiveDate>,
    /// The primary key column rows are matched on.
    pub key: String,
    pub contract: Vec<ColumnDef>,
}

/// A planned PostgreSQL fault: statements only, nothing run yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PgFaultPlan {
    /// Record the before-state into journal tables. Run (in one transaction) before `inject`.
    pub snapshot: Vec<String>,
    /// Counts the rows the fault affects; run after `snapshot`, before `inject`.
    pub count: String,
    /// The damage, in one transaction.
    pub inject: Vec<String>,
    /// Puts the before-state back, in one transaction.
    pub revert: Vec<String>,
    /// Drops the journal tables once reverted (they hold only copies).
    pub cleanup: Vec<String>,
    pub ground_truth: GroundTruth,
}

/// Why a fault has no meaning on PostgreSQL (its scenarios are skipped there), if it has none.
pub fn skip_reason(spec: &FaultSpec) -> Option<String> {
    spec.fault().postgres_skip_reason()
}

/// Plans `spec` against `table` (see [`crate::Fault::plan_postgres`]).
pub fn plan(spec: &FaultSpec, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
    spec.fault().plan_postgres(table, rng, tag)
}

/// The start of every plan: the journal schema, a count of the whole table, the cleanup of the
/// plan's journal table, and the ground truth's class and mode. Returns the plan and the name of
/// its journal table.
pub(crate) fn start(fault: &dyn Fault, table: &PgTable, tag: &str) -> (PgFaultPlan, String) {
    let l = &table.layout;
    let journal = format!("{}.{}", ident(JOURNAL_SCHEMA), ident(&format!("j_{}_{tag}", l.table)));
    let plan = PgFaultPlan {
        snapshot: vec![format!("CREATE SCHEMA IF NOT EXISTS {}", ident(JOURNAL_SCHEMA))],
        count: format!("SELECT count(*) FROM {}", l.served()),
        inject: Vec::new(),
        revert: Vec::new(),
        cleanup: vec![format!("DROP TABLE IF EXISTS {journal}")],
        ground_truth: GroundTruth {
            kind: fault.class(),
            mode: fault.mode(),
            table: l.table.clone(),
            partitions: Vec::new(),
            files: Vec::new(),
            columns: Vec::new(),
            catalog: Vec::new(),
            grants: Vec::new(),
            rows_affected: 0,
            detail: String::new(),
        },
    };
    (plan, journal)
}

/// The location of the table's definition (its columns in the system catalog).
pub(crate) fn definition_location(layout: &PgLayout) -> String {
    crate::catalog_location_of(layout)
}

pub(crate) fn pg_of(logical: &str) -> Result<String, FaultError> {
    pg_type(logical).ok_or_else(|| FaultError::NotApplicable(format!("no PostgreSQL type for {logical}")))
}

pub(crate) fn contract_column<'a>(table: &'a PgTable, column: &str) -> Result<&'a ColumnDef, FaultError> {
    if column == table.key || column == table.layout.partition_column {
        return Err(FaultError::NotApplicable(format!(
            "{column} is the {} of {}; PostgreSQL refuses to change it",
            if column == table.key { "primary key" } else { "partition key" },
            table.layout.served()
        )));
    }
    table.contract.iter().find(|c| c.name == column).ok_or_else(|| {
        FaultError::NotApplicable(format!("column {column} is not in the contract of {}", table.layout.table))
    })
}

/// A contract column that is neither the key nor the partition column, among those `choice`
/// (a wildcard or selector; `None` is any) accepts.
pub(crate) fn draw_column(
    table: &PgTable,
    choice: Option<&crate::ColumnChoice>,
    rng: &mut ChaCha8Rng,
) -> Result<String, FaultError> {
    let changeable = |c: &ColumnDef| c.name != table.key && c.name != table.layout.partition_column;
    choice.unwrap_or(&crate::ColumnChoice::Any).resolve(&table.contract, changeable, rng)
}

/// `n` distinct days, sorted.
pub(crate) fn draw_days(table: &PgTable, n: u32, rng: &mut ChaCha8Rng) -> Result<Vec<NaiveDate>, FaultError> {
    if n == 0 || n as usize > table.days.len() {
        return Err(FaultError::NotApplicable(format!(
            "asked for {n} day(s) of {}, which has {}",
            table.layout.served(),
            table.days.len()
        )));
    }
    let mut idx = sample(rng, table.days.len(), n as usize).into_vec();
    idx.sort_unstable();
    Ok(idx.into_iter().map(|i| table.days[i]).collect())
}

pub(crate) fn in_days(l: &PgLayout, days: &[NaiveDate]) -> String {
    let list: Vec<String> = days.iter().map(|d| format!("{}::date", literal(&d.to_string()))).collect();
    format!("{} IN ({})", l.day_expr(), list.join(", "))
}

/// A journaled PostgreSQL injection: where, what, and the SQL to undo it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PgJournal {
    pub format: u32,
    pub scenario: String,
    pub seed: u64,
    /// The database, as a connection URL.
    pub database: String,
    pub plan: PgFaultPlan,
}

impl PgJournal {
    pub fn write(&self, path: &Path) -> Result<(), FaultError> {
        let json = serde_json::to_vec_pretty(self).expect("journal serializes");
        std::fs::write(path, json)
            .map_err(|e| FaultError::Journal { path: path.display().to_string(), reason: e.to_string() })
    }

    pub fn read(path: &Path) -> Result<PgJournal, FaultError> {
        let text = std::fs::read(path)
            .map_err(|e| FaultError::Journal { path: path.display().to_string(), reason: e.to_string() })?;
        serde_json::from_slice(&text)
            .map_err(|e| FaultError::Journal { path: path.display().to_string(), reason: e.to_string() })
    }
}

/// Records the before-state and counts what the fault affects (into the plan's ground truth).
pub async fn record(client: &mut Client, url: &str, plan: &mut PgFaultPlan) -> Result<(), FaultError> {
    run_in_transaction(client, url, "recording the before-state", &plan.snapshot).await?;
    let row = client.query_one(&plan.count, &[]).await.map_err(|e| sql_error(url, "counting affected rows", e))?;
    plan.ground_truth.rows_affected = row.get::<_, i64>(0) as u64;
    Ok(())
}

/// Injects a recorded plan, all or nothing.
pub async fn inject(client: &mut Client, url: &str, plan: &PgFaultPlan) -> Result<(), FaultError> {
    run_in_transaction(client, url, "injecting", &plan.inject).await
}

/// Reverts an injected plan, all or nothing, then drops its journal tables.
pub async fn revert(client: &mut Client, url: &str, plan: &PgFaultPlan) -> Result<(), FaultError> {
    run_in_transaction(client, url, "reverting", &plan.revert).await?;
    run_in_transaction(client, url, "dropping journal tables", &plan.cleanup).await
}

async fn run_in_transaction(
    client: &mut Client,
    url: &str,
    what: &str,
    statements: &[String],
) -> Result<(), FaultError> {
    let tx = client.transaction().await.map_err(|e| sql_error(url, what, e))?;
    for s in statements {
        tx.batch_execute(s).await.map_err(|e| sql_error(url, format!("{what}: {s}"), e))?;
    }
    tx.commit().await.map_err(|e| sql_error(url, what, e))?;
    Ok(())
}
