//! Null flood: a bug upstream writes nulls into a share of one column's values. The files stay
//! valid Parquet; only the data is wrong.

use crate::pg::{PgFaultPlan, PgTable};
use crate::rewrite::{decode, encode};
use crate::select::{choose_files, Selection};
use crate::{
    Change, ColumnChoice, Fault, FaultClass, FaultContext, FaultError, FaultPlan, Footprint, GroundTruth,
    InvalidParameter,
};
use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{Field, Schema};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `kind: null_flood`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NullFlood {
    /// The column to flood: a name, `"*"` or a selector such as `{type: string}` (default: any
    /// contract column, drawn by the seed).
    #[serde(default)]
    pub column: Option<ColumnChoice>,
    /// Share of the file's rows whose value becomes null, in (0, 1].
    #[serde(deserialize_with = "crate::strict::f64")]
    pub fraction: f64,
    /// Which files are flooded.
    #[serde(default)]
    pub select: Selection,
}

#[async_trait::async_trait]
impl Fault for NullFlood {
    fn class(&self) -> FaultClass {
        FaultClass::NullFlood
    }

    fn mode(&self) -> String {
        "fraction".into()
    }

    fn footprint(&self) -> Option<Footprint> {
        Some((self.select.partitions, Some(self.select.files)))
    }

    fn validate(&self) -> Result<(), InvalidParameter> {
        if let Some(c) = &self.column {
            c.validate("column")?;
        }
        if !(self.fraction > 0.0 && self.fraction <= 1.0) {
            return Err(InvalidParameter(format!("fraction must be in (0, 1], got {}", self.fraction)));
        }
        Ok(())
    }

    fn check_contract(&self, contract: &[lakechaos_lake::ColumnDef]) -> Result<(), InvalidParameter> {
        self.column.as_ref().map_or(Ok(()), |c| c.check("column", contract, |_| true))
    }

    async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        if let Some(table) = crate::iceberg_commit::iceberg_of(ctx) {
            return self.plan_iceberg(ctx, table?).await;
        }
        self.plan_files(ctx).await
    }

    fn postgres_skip_reason(&self) -> Option<String> {
        None
    }

    fn plan_postgres(&self, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
        self.plan_sql(table, rng, tag)
    }

    fn examples(select: &Selection) -> Vec<NullFlood> {
        vec![NullFlood {
            column: Some(ColumnChoice::Named("customer_id".into())),
            fraction: 0.5,
            select: select.clone(),
        }]
    }
}

impl NullFlood {
    async fn plan_files(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        let column =
            self.column.as_ref().unwrap_or(&ColumnChoice::Any).resolve(&ctx.table.columns, |_| true, ctx.rng)?;
        let files = choose_files(ctx, &self.select).await?;
        let mut changes = Vec::new();
        let mut rows_nulled = 0u64;
        for f in &files {
            let before = ctx.lake.store.get(&f.meta.key).await?;
            let decoded = decode(&f.meta.key, &before)?;
            let (flooded, nulled) = self.flood(&decoded.batch, &column, ctx)?;
            rows_nulled += nulled;
            let after = encode(&flooded, decoded.row_group_rows)?;
            changes.push(Change::Object { key: f.meta.key.clone(), before: Some(before), after: Some(after) });
        }
        let ground_truth = GroundTruth::for_files(
            ctx.table,
            FaultClass::NullFlood,
            "fraction".into(),
            &files,
            vec![column.clone()],
            rows_nulled,
            format!("nulled {rows_nulled} value(s) of {column} ({:.0}% of rows drawn)", self.fraction * 100.0),
        );
        Ok(FaultPlan { changes, ground_truth })
    }

    /// Nulls a random `fraction` of rows in `column`; returns the batch and how many non-null
    /// values became null.
    fn flood(
        &self,
        batch: &RecordBatch,
        column: &str,
        ctx: &mut FaultContext<'_>,
    ) -> Result<(RecordBatch, u64), FaultError> {
        let schema = batch.schema();
        let i = schema.index_of(column)?;
        let original = batch.column(i);
        let keep: BooleanArray = (0..batch.num_rows()).map(|_| Some(!ctx.rng.random_bool(self.fraction))).collect();
        let nulls = new_null_array(original.data_type(), batch.num_rows());
        let flooded: ArrayRef = arrow_select::zip::zip(&keep, original, &nulls)?;
        let nulled = (flooded.null_count() - original.null_count()) as u64;
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[i] = fields[i].clone().with_nullable(true);
        let mut columns = batch.columns().to_vec();
        columns[i] = flooded;
        Ok((RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?, nulled))
    }
}

/// On an Iceberg table: a bad append. The chosen files' rows, flooded, are written as new data
/// files in the same partitions and committed as a new snapshot; the files already there stay
/// as they were.
impl NullFlood {
    async fn plan_iceberg(
        &self,
        ctx: &mut FaultContext<'_>,
        table: lakechaos_lake::iceberg::IcebergTable,
    ) -> Result<FaultPlan, FaultError> {
        use crate::iceberg_commit::{commit_changes, iceberg_err};
        let column =
            self.column.as_ref().unwrap_or(&ColumnChoice::Any).resolve(&ctx.table.columns, |_| true, ctx.rng)?;
        let files = choose_files(ctx, &self.select).await?;
        let base = table.current().await.map_err(iceberg_err)?;
        let live = table.live_files(&base.metadata, None).await.map_err(iceberg_err)?;
        let (mut added, mut keys, mut rows) = (Vec::new(), Vec::new(), 0u64);
        for f in &files {
            let location = table.root.location(&f.meta.key);
            let listed = live.iter().find(|l| l.location() == location).ok_or_else(|| {
                FaultError::NotApplicable(format!("{} is not live in the current snapshot", f.meta.key))
            })?;
            let decoded = decode(&f.meta.key, &ctx.lake.store.get(&f.meta.key).await?)?;
            let (flooded, _) = self.flood(&decoded.batch, &column, ctx)?;
            let name: u64 = ctx.rng.random();
            let key = format!("{}/{}/append-{name:016x}.parquet", ctx.table.location, f.partition);
            let (bytes, entry) = lakechaos_lake::iceberg::data_file::write_data_file(
                base.metadata.current_schema(),
                base.metadata.default_partition_spec_id(),
                &flooded,
                listed.data_file.partition().clone(),
                &table.root.location(&key),
            )
            .map_err(iceberg_err)?;
            rows += flooded.num_rows() as u64;
            keys.push(key.clone());
            added.push((key, bytes, entry));
        }
        let prepared = table.prepare_append(&base, added).await.map_err(iceberg_err)?;
        let mut partitions: Vec<String> =
            files.iter().map(|f| lakechaos_lake::layout::partition_prefix(&ctx.table.location, &f.partition)).collect();
        partitions.dedup();
        Ok(FaultPlan {
            changes: commit_changes(&table, prepared)?,
            ground_truth: GroundTruth {
                kind: FaultClass::NullFlood,
                mode: "fraction".into(),
                table: ctx.table.name.clone(),
                partitions,
                files: keys,
                columns: vec![column.clone()],
                catalog: Vec::new(),
                grants: Vec::new(),
                rows_affected: rows,
                detail: format!(
                    "a snapshot appends {rows} row(s) whose {column} is {:.0}% null",
                    self.fraction * 100.0
                ),
            },
        })
    }
}

/// On PostgreSQL: a share of the column's values on the chosen days set to NULL.
impl NullFlood {
    fn plan_sql(&self, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
        use crate::pg::{contract_column, draw_column, draw_days, in_days};
        use lakechaos_lake::pg::ident;
        let (mut p, journal) = crate::pg::start(self, table, tag);
        let l = &table.layout;
        let (served, key) = (l.served(), ident(&table.key));
        let column = match self.column.as_ref() {
            Some(ColumnChoice::Named(c)) => c.clone(),
            choice => draw_column(table, choice, rng)?,
        };
        contract_column(table, &column)?;
        let c = ident(&column);
        let days = draw_days(table, self.select.partitions, rng)?;
        let salt: i64 = rng.random_range(0..i64::MAX);
        // A stable pseudo-random share of rows, chosen by hashing the key with the drawn salt.
        let share = (self.fraction * 1_048_576.0).round() as i64;
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
            format!("{:.0}% of {column} set to NULL on {} day(s)", self.fraction * 100.0, days.len());
        Ok(p)
    }
}
