//! Detectors for a PostgreSQL table, against its source of truth (the same table in the raw
//! schema). Catalog checks first (`information_schema` columns, `pg_partitioned_table` /
//! `pg_inherits` partitions), then one targeted query per table for row and null counts per day.
//! Each finding carries the repair that answers it.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use chrono::NaiveDate;
use lakechaos_lake::pg::introspect::{self, ColumnDiff};
use lakechaos_lake::pg::PgLayout;
use tokio_postgres::Client;

/// What mends a finding.
#[derive(Clone, Debug, PartialEq)]
pub enum PgRepair {
    /// Give the served table the source's columns.
    Columns(ColumnDiff),
    /// A detached partition table is still there: attach it again.
    AttachPartition(NaiveDate),
    /// The partition is gone: create it and refill it from the source.
    RecreatePartition(NaiveDate),
    /// Rows are missing from an attached partition: copy them from the source.
    RefillRows(NaiveDate),
    /// Values became NULL in these columns: copy them from the source.
    RestoreNulls(NaiveDate, Vec<String>),
}

impl PgRepair {
    /// The day the repair touches; `None` for the whole table.
    pub fn day(&self) -> Option<NaiveDate> {
        match self {
            PgRepair::Columns(_) => None,
            PgRepair::AttachPartition(d)
            | PgRepair::RecreatePartition(d)
            | PgRepair::RefillRows(d)
            | PgRepair::RestoreNulls(d, _) => Some(*d),
        }
    }
}

/// A finding with its repair.
#[derive(Clone, Debug)]
pub struct PgFinding {
    pub finding: Finding,
    pub repair: PgRepair,
}

/// What a detection pass looked at.
#[derive(Clone, Debug, Default)]
pub struct PgDetection {
    pub findings: Vec<PgFinding>,
    /// Partitions (days) checked.
    pub partitions_checked: usize,
}

impl PgFinding {
    fn new(
        l: &PgLayout,
        kind: FindingKind,
        location: String,
        tier: Tier,
        message: String,
        evidence: Evidence,
        repair: PgRepair,
    ) -> Self {
        PgFinding { finding: Finding { kind, table: l.table.clone(), location, tier, message, evidence }, repair }
    }
}

/// Runs every detector. Column drift stops the pass there: the per-day query needs the
/// source's columns, and the column repair comes first anyway.
pub async fn detect(client: &Client, l: &PgLayout) -> Result<PgDetection, tokio_postgres::Error> {
    let mut out = PgDetection::default();
    let source = introspect::columns(client, &l.raw_schema, &l.table).await?;
    let served = introspect::columns(client, &l.served_schema, &l.table).await?;
    let diff = ColumnDiff::between(&served, &source);
    if !diff.is_empty() {
        let evidence = Evidence::Schema {
            missing: diff.missing.iter().map(|c| c.name.clone()).collect(),
            extra: diff.extra.iter().map(|c| c.name.clone()).collect(),
            retyped: diff.retyped.clone(),
        };
        let message = format!("{} differs from {}: {diff}", l.served(), l.raw());
        out.findings.push(PgFinding::new(
            l,
            FindingKind::SchemaDrift,
            l.table_location(),
            Tier::Listing,
            message,
            evidence,
            PgRepair::Columns(diff),
        ));
        return Ok(out);
    }
    let key = introspect::primary_key(client, &l.raw_schema, &l.table).await?;
    let value_columns: Vec<String> =
        source.iter().map(|c| c.name.clone()).filter(|c| !key.contains(c) && *c != l.partition_column).collect();
    let expected = introspect::day_stats(client, l, &l.raw(), &value_columns).await?;
    let attached: Vec<NaiveDate> = if introspect::is_partitioned(client, &l.served_schema, &l.table).await? {
        introspect::partitions(client, &l.served_schema, &l.table).await?.into_iter().filter_map(|p| p.day).collect()
    } else {
        Vec::new()
    };
    for day in expected.keys().filter(|d| !attached.contains(d)) {
        let name = l.partition_name(*day);
        let still_there = introspect::relation(client, &l.served_schema, &name).await?.is_some();
        let (message, repair) = if still_there {
            (format!("partition {name} exists but is not attached to {}", l.served()), PgRepair::AttachPartition(*day))
        } else {
            (
                format!("partition {name} of {} does not exist; {} has the day", l.served(), l.raw()),
                PgRepair::RecreatePartition(*day),
            )
        };
        let evidence = Evidence::Partition {
            partition: format!("dt={day}"),
            registered: false,
            missing_files: Vec::new(),
            has_data: still_there,
        };
        let location = l.day_location(*day);
        out.findings.push(PgFinding::new(
            l,
            FindingKind::MissingPartition,
            location,
            Tier::Listing,
            message,
            evidence,
            repair,
        ));
    }
    let actual = introspect::day_stats(client, l, &l.served(), &value_columns).await?;
    out.partitions_checked = attached.len();
    for (day, want) in expected.iter().filter(|(d, _)| attached.contains(d)) {
        let got = actual.get(day).cloned().unwrap_or_default();
        if got.rows < want.rows {
            out.findings.push(PgFinding::new(
                l,
                FindingKind::MissingPartition,
                l.day_location(*day),
                Tier::Query,
                format!("{} of {} rows of {day} are served", got.rows, want.rows),
                Evidence::Rows { partition: format!("dt={day}"), expected: want.rows, served: got.rows },
                PgRepair::RefillRows(*day),
            ));
        }
        let flooded: Vec<(String, u64, u64, f64)> = value_columns
            .iter()
            .filter_map(|c| {
                let (n, allowed) = (got.nulls.get(c).copied().unwrap_or(0), want.nulls.get(c).copied().unwrap_or(0));
                (n > allowed).then(|| (c.clone(), n, got.rows, allowed as f64 / want.rows.max(1) as f64))
            })
            .collect();
        if !flooded.is_empty() {
            let names: Vec<&str> = flooded.iter().map(|f| f.0.as_str()).collect();
            let message = format!("more NULLs on {day} than {} has, in {}", l.raw(), names.join(", "));
            let repair = PgRepair::RestoreNulls(*day, flooded.iter().map(|f| f.0.clone()).collect());
            out.findings.push(PgFinding::new(
                l,
                FindingKind::NullFlood,
                l.day_location(*day),
                Tier::Query,
                message,
                Evidence::Nulls { columns: flooded },
                repair,
            ));
        }
    }
    Ok(out)
}
