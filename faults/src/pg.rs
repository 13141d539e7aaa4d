//! The fault families on PostgreSQL. A scenario's `fault:` means the same damage here as in a
//! file lake, done with SQL on the served table:
//!
//! | fault | on PostgreSQL |
//! |---|---|
//! | `schema_drift` `add_column` / `drop_column` / `rename_column` / `change_type` | `ALTER TABLE` on the served table (its partitions follow) |
//! | `null_flood` | a share of one column's values in `select.partitions` days set to NULL |
//! | `missing_partition` `files` / `catalog` / `both` | the day's rows deleted / its partition detached / its partition dropped |
//! | `corrupt_parquet` | no meaning: PostgreSQL owns its pages; such scenarios are skipped |
//!
//! As with files, a fault first records its before-state — here into tables of the
//! `lakechaos_journal` schema, by the statements in [`PgFaultPlan::snapshot`] — and the journal
//! file holds the exact SQL that injects and reverts it.

use crate::missing_partition::MissingMode;
use crate::schema_drift::DriftMode;
use crate::{catalog_location_of, FaultError, FaultSpec, GroundTruth};
use chrono::NaiveDate;
use lakechaos_lake::pg::types::pg_type;
use lakechaos_lake::pg::{ident, literal, sql_error, PgLayout};
use lakechaos_lake::ColumnDef;
use rand::seq::index::sample;
use rand::Rng;
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

/// Whether a fault has a meaning on PostgreSQL; `Err` says why not (the scenario is skipped).
pub fn applicable(spec: &FaultSpec) -> Result<(), String> {
    match spec {
        FaultSpec::CorruptParquet(_) => Err("corrupt Parquet has no meaning on PostgreSQL: rows live in pages \
             PostgreSQL writes and checksums itself, not in files an upload can cut short"
            .into()),
        _ => Ok(()),
    }
}

/// Plans `spec` against `table`. `tag` keeps this plan's journal tables apart from another
/// plan's in the same database. Deterministic in `rng`.
pub fn plan(spec: &FaultSpec, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
    applicable(spec).map_err(FaultError::NotApplicable)?;
    let l = &table.layout;
    let served = l.served();
    let key = ident(&table.key);
    let journal = format!("{}.{}", ident(JOURNAL_SCHEMA), ident(&format!("j_{}_{tag}", l.table)));
    let mut p = PgFaultPlan {
        snapshot: vec![format!("CREATE SCHEMA IF NOT EXISTS {}", ident(JOURNAL_SCHEMA))],
        count: format!("SELECT count(*) FROM {served}"),
        inject: Vec::new(),
        revert: Vec::new(),
        cleanup: vec![format!("DROP TABLE IF EXISTS {journal}")],
        ground_truth: GroundTruth {
            kind: spec.class(),
            mode: spec.mode(),
            table: l.table.clone(),
            partitions: Vec::new(),
            files: Vec::new(),
            columns: Vec::new(),
            catalog: Vec::new(),
            rows_affected: 0,
            detail: String::new(),
        },
    };
    match spec {
        FaultSpec::SchemaDrift(f) => {
            let column = match (&f.column, f.mode) {
                (Some(c), _) => c.clone(),
                (None, DriftMode::AddColumn) => "ingest_source".into(),
                (None, _) => draw_column(table, rng)?,
            };
            let c = ident(&column);
            if f.mode != DriftMode::AddColumn {
                contract_column(table, &column)?;
            }
            p.ground_truth.columns = vec![column.clone()];
            p.ground_truth.catalog = vec![catalog_location_of(l)];
            match f.mode {
                DriftMode::AddColumn => {
                    if table.contract.iter().any(|x| x.name == column) {
                        return Err(FaultError::NotApplicable(format!("{column} is already a column of {served}")));
                    }
                    let days = draw_days(table, f.select.partitions, rng)?;
                    let new_type = pg_of(f.new_type.as_deref().unwrap_or("string"))?;
                    p.count = format!("SELECT count(*) FROM {served} WHERE {}", in_days(l, &days));
                    p.inject = vec![
                        format!("ALTER TABLE {served} ADD COLUMN {c} {new_type}"),
                        format!("UPDATE {served} SET {c} = 'upstream-v2' WHERE {}", in_days(l, &days)),
                    ];
                    p.revert = vec![format!("ALTER TABLE {served} DROP COLUMN IF EXISTS {c}")];
                    p.ground_truth.partitions = days.iter().map(|d| l.day_location(*d)).collect();
                    p.ground_truth.detail =
                        format!("column {column} {new_type} added, filled on {} day(s)", days.len());
                }
                DriftMode::DropColumn | DriftMode::ChangeType => {
                    let original = pg_of(&contract_column(table, &column)?.data_type)?;
                    p.snapshot.push(format!("CREATE TABLE {journal} AS SELECT {key}, {c} FROM {served}"));
                    let restore = format!("UPDATE {served} s SET {c} = j.{c} FROM {journal} j WHERE s.{key} = j.{key}");
                    if f.mode == DriftMode::DropColumn {
                        p.inject = vec![format!("ALTER TABLE {served} DROP COLUMN {c}")];
                        p.revert = vec![format!("ALTER TABLE {served} ADD COLUMN {c} {original}"), restore];
                        p.ground_truth.detail = format!("column {column} dropped");
                    } else {
                        let logical = f.new_type.clone().unwrap_or_else(|| "string".into());
                        let new_type = pg_of(&logical)?;
                        if new_type == original {
                            return Err(FaultError::NotApplicable(format!("{column} is already {original}")));
                        }
                        p.inject = vec![format!(
                            "ALTER TABLE {served} ALTER COLUMN {c} TYPE {new_type} USING {c}::{new_type}"
                        )];
                        p.revert =
                            vec![format!("ALTER TABLE {served} ALTER COLUMN {c} TYPE {original} USING NULL"), restore];
                        p.ground_truth.detail = format!("column {column} retyped {original} → {new_type}");
                    }
                }
                DriftMode::RenameColumn => {
                    let new_name = f.new_name.clone().unwrap_or_else(|| format!("{column}_v2"));
                    p.inject = vec![format!("ALTER TABLE {served} RENAME COLUMN {c} TO {}", ident(&new_name))];
                    p.revert = vec![format!("ALTER TABLE {served} RENAME COLUMN {} TO {c}", ident(&new_name))];
                    p.ground_truth.detail = format!("column {column} renamed to {new_name}");
                }
            }
        }
        FaultSpec::NullFlood(f) => {
            let column = match &f.column {
                Some(c) => c.clone(),
                None => draw_column(table, rng)?,
            };
            contract_column(table, &column)?;
            let c = ident(&column);
            let days = draw_days(table, f.select.partitions, rng)?;
            let salt: i64 = rng.random_range(0..i64::MAX);
            // A stable pseudo-random share of rows, chosen by hashing the key with the drawn salt.
            let share = (f.fraction * 1_048_576.0).round() as i64;
            p.snapshot.push(format!(
                "CREATE TABLE {journal} AS SELECT {key}, {c} FROM {served} WHERE {} AND {c} IS NOT NULL \
                 AND (hashint8extended({key}, {salt}) & 1048575) < {share}",
                in_days(l, &days)
            ));
            p.count = format!("SELECT count(*) FROM {journal}");
            p.inject = vec![format!("UPDATE {served} s SET {c} = NULL FROM {journal} j WHERE s.{key} = j.{key}")];
            p.revert = vec![format!("UPDATE {served} s SET {c} = j.{c} FROM {journal} j WHERE s.{key} = j.{key}")];
            p.ground_truth.columns = vec![column.clone()];
            p.ground_truth.partitions = days.iter().map(|d| l.day_location(*d)).collect();
            p.ground_truth.detail =
                format!("{:.0}% of {column} set to NULL on {} day(s)", f.fraction * 100.0, days.len());
        }
        FaultSpec::MissingPartition(f) => {
            let days = draw_days(table, f.partitions, rng)?;
            p.count = format!("SELECT count(*) FROM {served} WHERE {}", in_days(l, &days));
            match f.mode {
                MissingMode::Files | MissingMode::Both => {
                    p.snapshot
                        .push(format!("CREATE TABLE {journal} AS SELECT * FROM {served} WHERE {}", in_days(l, &days)));
                    let refill = format!("INSERT INTO {served} SELECT * FROM {journal}");
                    if f.mode == MissingMode::Files {
                        p.inject = vec![format!("DELETE FROM {served} WHERE {}", in_days(l, &days))];
                        p.revert = vec![refill];
                        p.ground_truth.detail = format!("rows of {} day(s) deleted", days.len());
                    } else {
                        p.inject = days.iter().map(|d| format!("DROP TABLE {}", l.partition(*d))).collect();
                        p.revert = days.iter().map(|d| l.create_partition(*d)).collect();
                        p.revert.push(refill);
                        p.ground_truth.detail = format!("partition(s) of {} day(s) dropped", days.len());
                    }
                }
                MissingMode::Catalog => {
                    p.inject = days
                        .iter()
                        .map(|d| format!("ALTER TABLE {served} DETACH PARTITION {}", l.partition(*d)))
                        .collect();
                    p.revert = days
                        .iter()
                        .map(|d| format!("ALTER TABLE {served} ATTACH PARTITION {} {}", l.partition(*d), l.bounds(*d)))
                        .collect();
                    p.ground_truth.detail = format!("partition(s) of {} day(s) detached", days.len());
                }
            }
            p.ground_truth.partitions = days.iter().map(|d| l.day_location(*d)).collect();
        }
        FaultSpec::CorruptParquet(_) => unreachable!("refused by applicable() above"),
    }
    Ok(p)
}

fn pg_of(logical: &str) -> Result<String, FaultError> {
    pg_type(logical).ok_or_else(|| FaultError::NotApplicable(format!("no PostgreSQL type for {logical}")))
}

fn contract_column<'a>(table: &'a PgTable, column: &str) -> Result<&'a ColumnDef, FaultError> {
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

/// A contract column that is neither the key nor the partition column.
fn draw_column(table: &PgTable, rng: &mut ChaCha8Rng) -> Result<String, FaultError> {
    let candidates: Vec<&ColumnDef> =
        table.contract.iter().filter(|c| c.name != table.key && c.name != table.layout.partition_column).collect();
    if candidates.is_empty() {
        return Err(FaultError::NotApplicable("no column to damage".into()));
    }
    Ok(candidates[rng.random_range(0..candidates.len())].name.clone())
}

/// `n` distinct days, sorted.
fn draw_days(table: &PgTable, n: u32, rng: &mut ChaCha8Rng) -> Result<Vec<NaiveDate>, FaultError> {
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

fn in_days(l: &PgLayout, days: &[NaiveDate]) -> String {
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
