//! Repairs of a PostgreSQL table, each in one transaction: if anything fails midway (a lost
//! connection included), PostgreSQL rolls it back and the table is as it was. Data comes only
//! from the source of truth (the raw schema); anything taken out of the served table is copied
//! into the quarantine schema first.

use super::detect::PgRepair;
use crate::events::RepairAction;
use lakechaos_lake::pg::introspect::{self, ColumnDiff};
use lakechaos_lake::pg::{ident, PgLayout};
use tokio_postgres::Client;

/// What a repair did.
#[derive(Clone, Debug)]
pub struct PgRepairDone {
    pub action: RepairAction,
    /// Where the data came from.
    pub source: String,
    /// Rows written.
    pub rows: u64,
}

/// Runs one repair.
pub async fn run(client: &mut Client, l: &PgLayout, repair: &PgRepair) -> Result<PgRepairDone, tokio_postgres::Error> {
    let source = introspect::columns(client, &l.raw_schema, &l.table).await?;
    let key = introspect::primary_key(client, &l.raw_schema, &l.table).await?;
    let names: Vec<String> = source.iter().map(|c| ident(&c.name)).collect();
    let names = names.join(", ");
    let served = l.served();
    let raw = l.raw();
    let matched = key.iter().map(|k| format!("s.{0} = r.{0}", ident(k))).collect::<Vec<_>>().join(" AND ");
    let tx = client.transaction().await?;
    let done = match repair {
        PgRepair::Columns(diff) => {
            let (statements, refill) = column_statements(l, diff, &key);
            for s in &statements {
                tx.batch_execute(s).await?;
            }
            let mut rows = 0;
            if !refill.is_empty() {
                let set: Vec<String> = refill.iter().map(|c| format!("{0} = r.{0}", ident(c))).collect();
                let sql = format!("UPDATE {served} s SET {} FROM {raw} r WHERE {matched}", set.join(", "));
                rows = tx.execute(&sql, &[]).await?;
            }
            PgRepairDone { action: RepairAction::RestoreColumns, source: raw.clone(), rows }
        }
        PgRepair::AttachPartition(day) => {
            tx.batch_execute(&format!(
                "ALTER TABLE {served} ATTACH PARTITION {} {}",
                l.partition(*day),
                l.bounds(*day)
            ))
            .await?;
            PgRepairDone { action: RepairAction::AttachPartition, source: l.partition(*day), rows: 0 }
        }
        PgRepair::RecreatePartition(day) => {
            tx.batch_execute(&l.create_partition(*day)).await?;
            let sql =
                format!("INSERT INTO {served} ({names}) SELECT {names} FROM {raw} r WHERE {}", l.day_range("r", *day));
            let rows = tx.execute(&sql, &[]).await?;
            PgRepairDone { action: RepairAction::RecreatePartition, source: raw.clone(), rows }
        }
        PgRepair::RefillRows(day) => {
            let sql = format!(
                "INSERT INTO {served} ({names}) SELECT {names} FROM {raw} r WHERE {} \
                 AND NOT EXISTS (SELECT 1 FROM {served} s WHERE {} AND {matched})",
                l.day_range("r", *day),
                l.day_range("s", *day)
            );
            let rows = tx.execute(&sql, &[]).await?;
            PgRepairDone { action: RepairAction::RefillFromSource, source: raw.clone(), rows }
        }
        PgRepair::RestoreNulls(day, columns) => {
            let set: Vec<String> = columns.iter().map(|c| format!("{0} = coalesce(s.{0}, r.{0})", ident(c))).collect();
            let any: Vec<String> =
                columns.iter().map(|c| format!("(s.{0} IS NULL AND r.{0} IS NOT NULL)", ident(c))).collect();
            let sql = format!(
                "UPDATE {served} s SET {} FROM {raw} r WHERE {} AND {matched} AND ({})",
                set.join(", "),
                l.day_range("s", *day),
                any.join(" OR ")
            );
            let rows = tx.execute(&sql, &[]).await?;
            PgRepairDone { action: RepairAction::RefillFromSource, source: raw.clone(), rows }
        }
    };
    tx.commit().await?;
    Ok(done)
}

/// The DDL that gives the served table the source's columns, and the columns whose values must
/// then be refilled from the source. A missing column with exactly one extra column of its type
/// is a rename: renamed back, values kept. Other extra columns and retyped columns are copied to
/// quarantine (with the key) before they are dropped or retyped.
fn column_statements(l: &PgLayout, diff: &ColumnDiff, key: &[String]) -> (Vec<String>, Vec<String>) {
    let served = l.served();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3f");
    let keys = key.iter().map(|k| ident(k)).collect::<Vec<_>>().join(", ");
    let quarantine = |column: &str| {
        let copy = format!("{}.{}", ident(&l.quarantine_schema), ident(&format!("{}__{column}__{stamp}", l.table)));
        format!("CREATE TABLE {copy} AS SELECT {keys}, {} FROM {served}", ident(column))
    };
    let mut statements = vec![format!("CREATE SCHEMA IF NOT EXISTS {}", ident(&l.quarantine_schema))];
    let mut refill = Vec::new();
    let mut extra = diff.extra.clone();
    for missing in &diff.missing {
        let same_type: Vec<usize> =
            extra.iter().enumerate().filter(|(_, e)| e.pg_type == missing.pg_type).map(|(i, _)| i).collect();
        if same_type.len() == 1 {
            let renamed = extra.remove(same_type[0]);
            statements.push(format!(
                "ALTER TABLE {served} RENAME COLUMN {} TO {}",
                ident(&renamed.name),
                ident(&missing.name)
            ));
        } else {
            statements.push(format!("ALTER TABLE {served} ADD COLUMN {} {}", ident(&missing.name), missing.pg_type));
            refill.push(missing.name.clone());
        }
    }
    for e in &extra {
        statements.push(quarantine(&e.name));
        statements.push(format!("ALTER TABLE {served} DROP COLUMN {}", ident(&e.name)));
    }
    for (name, want, _) in &diff.retyped {
        statements.push(quarantine(name));
        statements.push(format!("ALTER TABLE {served} ALTER COLUMN {} TYPE {want} USING NULL", ident(name)));
        refill.push(name.clone());
    }
    (statements, refill)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakechaos_lake::pg::PgColumn;

    fn col(name: &str, t: &str) -> PgColumn {
        PgColumn { name: name.into(), pg_type: t.into() }
    }

    #[test]
    fn a_lone_same_typed_extra_column_is_a_rename() {
        let diff = ColumnDiff {
            missing: vec![col("amount", "double precision")],
            extra: vec![col("amount_usd", "double precision")],
            retyped: vec![],
        };
        let (sql, refill) = column_statements(&PgLayout::default(), &diff, &["order_id".into()]);
        assert!(sql.iter().any(|s| s.contains("RENAME COLUMN \"amount_usd\" TO \"amount\"")), "{sql:?}");
        assert!(refill.is_empty());
    }

    #[test]
    fn extra_and_retyped_columns_are_quarantined_before_they_change() {
        let diff = ColumnDiff {
            missing: vec![col("customer_id", "bigint")],
            extra: vec![col("ingest_source", "text")],
            retyped: vec![("unit_price".into(), "numeric(10,2)".into(), "text".into())],
        };
        let (sql, refill) = column_statements(&PgLayout::default(), &diff, &["order_id".into()]);
        let pos =
            |needle: &str| sql.iter().position(|s| s.contains(needle)).unwrap_or_else(|| panic!("{needle}: {sql:?}"));
        assert!(pos("orders__ingest_source__") < pos("DROP COLUMN \"ingest_source\""));
        assert!(pos("orders__unit_price__") < pos("ALTER COLUMN \"unit_price\" TYPE numeric(10,2)"));
        assert!(sql.iter().any(|s| s.contains("ADD COLUMN \"customer_id\" bigint")));
        assert_eq!(refill, vec!["customer_id".to_string(), "unit_price".to_string()]);
    }
}
