//! Creating a PostgreSQL lake's tables and loading Arrow batches into them with `COPY`.

use super::types::pg_type;
use super::{ident, PgLayout};
use crate::contract::ColumnDef;
use crate::LakeError;
use arrow_array::RecordBatch;
use arrow_cast::cast;
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use chrono::NaiveDate;
use futures_util::SinkExt;
use std::sync::Arc;
use tokio_postgres::Client;

/// `name type, ...` of a contract, for `CREATE TABLE`. Columns are left nullable: what may be
/// null is the contract's to say and the checks' (healer, dbt tests) to enforce, as in most
/// warehouses; a NOT NULL here would turn a null flood into a failed load instead.
pub fn column_definitions(contract: &[ColumnDef]) -> Result<String, LakeError> {
    let mut out = Vec::with_capacity(contract.len());
    for c in contract {
        let t = pg_type(&c.data_type)
            .ok_or_else(|| LakeError::Catalog(format!("column {}: no PostgreSQL type for {}", c.name, c.data_type)))?;
        out.push(format!("{} {t}", ident(&c.name)));
    }
    Ok(out.join(", "))
}

/// The statements that create the lake's schemas, the raw table (primary key `key`) and the
/// served table partitioned by day with one partition per day in `days`.
pub fn create_statements(
    layout: &PgLayout,
    contract: &[ColumnDef],
    key: &str,
    days: &[NaiveDate],
) -> Result<Vec<String>, LakeError> {
    let columns = column_definitions(contract)?;
    let mut sql = vec![
        format!("CREATE SCHEMA IF NOT EXISTS {}", ident(&layout.raw_schema)),
        format!("CREATE SCHEMA IF NOT EXISTS {}", ident(&layout.served_schema)),
        format!("CREATE TABLE {} ({columns}, PRIMARY KEY ({}))", layout.raw(), ident(key)),
        format!(
            "CREATE TABLE {} ({columns}) PARTITION BY RANGE ({})",
            layout.served(),
            ident(&layout.partition_column)
        ),
    ];
    sql.extend(days.iter().map(|d| layout.create_partition(*d)));
    Ok(sql)
}

/// Loads batches into `table` (quoted, qualified) with `COPY ... FROM STDIN (FORMAT csv)`,
/// columns by name. Dictionary columns are loaded as their values.
pub async fn copy_batches(client: &Client, table: &str, batches: &[RecordBatch]) -> Result<u64, LakeError> {
    let Some(first) = batches.first() else { return Ok(0) };
    let names: Vec<String> = first.schema().fields().iter().map(|f| ident(f.name())).collect();
    let statement = format!("COPY {table} ({}) FROM STDIN (FORMAT csv)", names.join(", "));
    let sink = client.copy_in(&statement).await.map_err(|e| LakeError::Catalog(format!("{statement}: {e}")))?;
    futures_util::pin_mut!(sink);
    for batch in batches {
        let mut csv = Vec::new();
        {
            let mut writer = arrow_csv::WriterBuilder::new().with_header(false).build(&mut csv);
            writer.write(&plain(batch)?)?;
        }
        sink.send(Bytes::from(csv)).await.map_err(|e| LakeError::Catalog(format!("{statement}: {e}")))?;
    }
    sink.finish().await.map_err(|e| LakeError::Catalog(format!("{statement}: {e}")))
}

/// The batch with dictionary columns cast to their value type (CSV has no dictionaries).
fn plain(batch: &RecordBatch) -> Result<RecordBatch, LakeError> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        match field.data_type() {
            DataType::Dictionary(_, value) => {
                fields.push(Field::new(field.name(), value.as_ref().clone(), field.is_nullable()));
                columns.push(cast(column, value)?);
            }
            _ => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}
