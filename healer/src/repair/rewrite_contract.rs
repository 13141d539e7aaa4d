//! Rewrite to the contract: keep the contract's columns (casting back only where the cast is
//! lossless), drop what the contract does not know. The original goes to quarantine first, so
//! dropped columns are not lost.

use crate::events::RepairAction;
use crate::finding::Finding;
use crate::repair::{quarantine, Outcome, RepairContext, Step};
use crate::HealerError;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_cast::{cast, cast_with_options, CastOptions};
use arrow_schema::{Field, Schema};
use lakechaos_lake::contract::{arrow_type, logical_type};
use lakechaos_lake::parquet_io::{footer_of, read_parquet, write_parquet, writer_properties};
use std::sync::Arc;

/// Why a file cannot be rewritten to the contract (the incident is then unrepairable).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotRewritable(String);

impl From<&str> for NotRewritable {
    fn from(s: &str) -> Self {
        NotRewritable(s.to_string())
    }
}

impl From<String> for NotRewritable {
    fn from(s: String) -> Self {
        NotRewritable(s)
    }
}

/// Rewrites `key` to the contract schema.
pub async fn rewrite(ctx: &RepairContext<'_>, key: &str, finding: &Finding) -> Result<Outcome, HealerError> {
    let data = ctx.lake.store.get(key).await?;
    let row_group_rows = footer_of(&data)
        .map(|f| f.metadata.row_groups().iter().map(|rg| rg.num_rows()).max().unwrap_or(1).max(1) as usize)
        .unwrap_or(8192);
    let table = ctx.table.clone();
    let rewritten = tokio::task::spawn_blocking(move || -> Result<bytes::Bytes, NotRewritable> {
        let (_, batches) = read_parquet(data).map_err(|e| NotRewritable(e.to_string()))?;
        let mut out = Vec::with_capacity(batches.len());
        let mut schema = None;
        for b in &batches {
            let batch = to_contract(&table, b)?;
            schema.get_or_insert_with(|| batch.schema());
            out.push(batch);
        }
        let schema = schema.ok_or("file has no rows to rewrite")?;
        write_parquet(schema, &out, writer_properties(row_group_rows)).map_err(|e| NotRewritable(e.to_string()))
    })
    .await
    .map_err(|e| HealerError::Invalid(format!("rewrite task failed: {e}")))?;
    let bytes = match rewritten {
        Ok(b) => b,
        Err(reason) => {
            return Ok(Outcome::Unrepairable {
                done: Vec::new(),
                reason: format!("cannot rewrite {key} to the contract: {reason}"),
            })
        }
    };
    let q = quarantine::quarantine(ctx, key, finding, quarantine::Then::Keep).await?;
    let judged = quarantine::judged(ctx, key).await?;
    ctx.lake.store.put_if_version(key, bytes, &judged.version_token).await?;
    let source = q.source.clone();
    Ok(Outcome::Repaired(vec![q, Step { action: RepairAction::RewriteToContract, location: key.to_string(), source }]))
}

/// Projects a batch onto the contract. A retyped column is cast back only if casting forth
/// again reproduces it exactly.
fn to_contract(table: &lakechaos_lake::TableDef, batch: &RecordBatch) -> Result<RecordBatch, NotRewritable> {
    let mut fields = Vec::with_capacity(table.columns.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(table.columns.len());
    for c in &table.columns {
        let i = batch.schema().index_of(&c.name).map_err(|_| format!("column {} is missing", c.name))?;
        let col = batch.column(i).clone();
        let field = batch.schema().field(i).clone();
        if logical_type(col.data_type()) == c.data_type {
            fields.push(field);
            columns.push(col);
            continue;
        }
        let target =
            arrow_type(&c.data_type).ok_or_else(|| format!("contract type {} is not writable", c.data_type))?;
        let strict = CastOptions { safe: false, ..CastOptions::default() };
        let back = cast_with_options(&col, &target, &strict)
            .map_err(|e| format!("{} does not cast to {}: {e}", c.name, c.data_type))?;
        let again = cast(&back, col.data_type()).map_err(|e| NotRewritable(e.to_string()))?;
        if again.as_ref() != col.as_ref() {
            return Err(format!("casting {} to {} loses information", c.name, c.data_type).into());
        }
        fields.push(Field::new(&c.name, target, field.is_nullable()));
        columns.push(back);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| NotRewritable(e.to_string()))
}
