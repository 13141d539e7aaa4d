//! What PostgreSQL's catalog and a few targeted queries say about a table: its columns
//! (`information_schema`), whether and how it is partitioned (`pg_partitioned_table`,
//! `pg_inherits`), its primary key, and per-day row and null counts.

use super::{ident, PgLayout};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// One column as the catalog has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgColumn {
    pub name: String,
    /// Type in [`super::types::pg_type`]'s spelling (`bigint`, `numeric(10,2)`, ...).
    pub pg_type: String,
}

/// One attached partition of a partitioned table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgPartition {
    /// Table name (unqualified; partitions live in the parent's schema here).
    pub name: String,
    /// The bound as `pg_get_expr` prints it.
    pub bound: String,
    /// The day the bound starts at, when it is a range bound on a timestamp.
    pub day: Option<NaiveDate>,
}

/// Rows and nulls of one day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayStats {
    pub rows: u64,
    /// Nulls per column asked for.
    pub nulls: BTreeMap<String, u64>,
}

/// The columns of `schema.table`, in order. Empty when the table does not exist.
///
/// Read from `pg_attribute` with `format_type`, which is what `information_schema.columns` is a
/// view over: the view costs tens of milliseconds per call, this a fraction of one, and the
/// healer asks on every pass.
pub async fn columns(client: &Client, schema: &str, table: &str) -> Result<Vec<PgColumn>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&schema, &table],
        )
        .await?;
    Ok(rows.iter().map(|r| PgColumn { name: r.get(0), pg_type: r.get(1) }).collect())
}

/// Whether `schema.table` is a partitioned table.
pub async fn is_partitioned(client: &Client, schema: &str, table: &str) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT 1 FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &table],
        )
        .await?;
    Ok(row.is_some())
}

/// The column `schema.table` is range-partitioned on, when it is partitioned on one column.
pub async fn partition_column(
    client: &Client,
    schema: &str,
    table: &str,
) -> Result<Option<String>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT a.attname::text FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0] \
             WHERE n.nspname = $1 AND c.relname = $2 AND pt.partstrat = 'r' AND pt.partnatts = 1",
            &[&schema, &table],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The partitions attached to `schema.table`.
pub async fn partitions(client: &Client, schema: &str, table: &str) -> Result<Vec<PgPartition>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i \
             JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
             JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = $2 ORDER BY 1",
            &[&schema, &table],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let bound: String = r.get(1);
            PgPartition { name: r.get(0), day: bound_start_day(&bound), bound }
        })
        .collect())
}

/// The day a range bound such as `FOR VALUES FROM ('2024-03-01 00:00:00+00') TO (...)` starts.
fn bound_start_day(bound: &str) -> Option<NaiveDate> {
    let start = bound.find("FROM ('")? + "FROM ('".len();
    NaiveDate::parse_from_str(bound.get(start..start + 10)?, "%Y-%m-%d").ok()
}

/// Whether a table (or anything else with that name) exists in `schema`, and if so whether it
/// is attached as a partition of some table.
pub async fn relation(client: &Client, schema: &str, name: &str) -> Result<Option<bool>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT c.relispartition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The primary key columns of `schema.table`, in key order (empty without one).
pub async fn primary_key(client: &Client, schema: &str, table: &str) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT a.attname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             WHERE i.indisprimary AND n.nspname = $1 AND c.relname = $2 ORDER BY k.ord",
            &[&schema, &table],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Rows and the nulls of `null_columns` per day of `table` (a quoted, qualified name), with the
/// day taken from `layout`'s partition column. One scan of the table.
pub async fn day_stats(
    client: &Client,
    layout: &PgLayout,
    table: &str,
    null_columns: &[String],
) -> Result<BTreeMap<NaiveDate, DayStats>, tokio_postgres::Error> {
    let mut select = format!("SELECT {}, count(*)::int8", layout.day_expr());
    for c in null_columns {
        select.push_str(&format!(", (count(*) - count({}))::int8", ident(c)));
    }
    let rows = client.query(&format!("{select} FROM {table} GROUP BY 1"), &[]).await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let day: NaiveDate = r.get(0);
        let rows: i64 = r.get(1);
        let nulls = null_columns.iter().enumerate().map(|(i, c)| (c.clone(), r.get::<_, i64>(i + 2) as u64)).collect();
        out.insert(day, DayStats { rows: rows as u64, nulls });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_bounds_give_their_day() {
        let b = "FOR VALUES FROM ('2024-03-01 00:00:00+00') TO ('2024-03-02 00:00:00+00')";
        assert_eq!(bound_start_day(b), NaiveDate::from_ymd_opt(2024, 3, 1));
        assert_eq!(bound_start_day("DEFAULT"), None);
    }
}

/// How a table's columns differ from the columns it should have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnDiff {
    /// Expected columns that are absent.
    pub missing: Vec<PgColumn>,
    /// Columns that should not be there.
    pub extra: Vec<PgColumn>,
    /// (column, expected type, actual type).
    pub retyped: Vec<(String, String, String)>,
}

impl ColumnDiff {
    /// Compares by name and type; column order does not matter (readers select by name).
    pub fn between(actual: &[PgColumn], expected: &[PgColumn]) -> ColumnDiff {
        let mut diff = ColumnDiff::default();
        for e in expected {
            match actual.iter().find(|a| a.name == e.name) {
                None => diff.missing.push(e.clone()),
                Some(a) if a.pg_type != e.pg_type => {
                    diff.retyped.push((e.name.clone(), e.pg_type.clone(), a.pg_type.clone()))
                }
                Some(_) => {}
            }
        }
        diff.extra = actual.iter().filter(|a| !expected.iter().any(|e| e.name == a.name)).cloned().collect();
        diff
    }

    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.retyped.is_empty()
    }
}

impl std::fmt::Display for ColumnDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!(
                "missing {}",
                self.missing.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        if !self.extra.is_empty() {
            parts.push(format!("extra {}", self.extra.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")));
        }
        for (name, want, got) in &self.retyped {
            parts.push(format!("{name} is {got}, should be {want}"));
        }
        f.write_str(&parts.join("; "))
    }
}
