//! Schema drift: an upstream writer adds, drops, renames or retypes a column in some files.

use crate::rewrite::{decode, encode};
use crate::select::{choose_files, Selection};
use crate::{catalog_location, Change, FaultClass, FaultContext, FaultError, FaultPlan, GroundTruth};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_cast::cast;
use arrow_schema::{DataType, Field, Schema};
use lakechaos_lake::contract::{arrow_type, logical_type};
use lakechaos_lake::{DeclaredColumn, TableDef};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the schema drifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftMode {
    /// A new column appears (filled with plausible strings).
    AddColumn,
    /// A contract column disappears.
    DropColumn,
    /// A contract column is renamed.
    RenameColumn,
    /// A contract column is written with another type.
    ChangeType,
}

/// Where the schema drifts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftScope {
    /// In data files an upstream writer produced (default).
    #[default]
    Files,
    /// In the columns the catalog declares to query engines (a crawler run or a hand edit of a
    /// Glue table); data files and the contract are untouched.
    Catalog,
}

/// `kind: schema_drift`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaDrift {
    /// `add_column`, `drop_column`, `rename_column` or `change_type`.
    pub mode: DriftMode,
    /// The column to drop, rename or retype (default: drawn from the contract), or the name of
    /// the added column (default `ingest_source`).
    #[serde(default)]
    pub column: Option<String>,
    /// `rename_column` only: the new name (default `<column>_v2`).
    #[serde(default)]
    pub new_name: Option<String>,
    /// `change_type` only: the new logical type, e.g. `string`, `int64`, `float64` (default: a
    /// type an upstream change plausibly produces for the column's type).
    #[serde(default)]
    pub new_type: Option<String>,
    /// Which files drift (`scope: files`).
    #[serde(default)]
    pub select: Selection,
    /// `files` (default) or `catalog`.
    #[serde(default)]
    pub scope: DriftScope,
}

impl SchemaDrift {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.scope == DriftScope::Catalog && self.select != Selection::default() {
            return Err(
                "select applies to scope: files only; scope: catalog drifts the table's declared columns".into()
            );
        }
        if self.new_name.is_some() && self.mode != DriftMode::RenameColumn {
            return Err("new_name is only valid with mode: rename_column".into());
        }
        if let Some(t) = &self.new_type {
            if self.mode != DriftMode::ChangeType {
                return Err("new_type is only valid with mode: change_type".into());
            }
            if arrow_type(t).is_none() {
                return Err(format!(
                    "new_type {t:?} is not a known logical type (e.g. string, int32, int64, float64, bool)"
                ));
            }
        }
        Ok(())
    }

    pub(crate) async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        let column = self.column_to_drift(ctx)?;
        match self.scope {
            DriftScope::Files => self.plan_files(ctx, column).await,
            DriftScope::Catalog => self.plan_catalog(ctx, column).await,
        }
    }

    /// The catalog's declared columns drift: the table entry is rewritten with them, the
    /// contract kept.
    async fn plan_catalog(&self, ctx: &mut FaultContext<'_>, column: String) -> Result<FaultPlan, FaultError> {
        let before = ctx
            .lake
            .catalog
            .get_table(&ctx.table.name)
            .await?
            .ok_or_else(|| FaultError::NotApplicable(format!("table {} is not in the catalog", ctx.table.name)))?;
        let mut declared = before.declared_columns();
        let index = declared.iter().position(|c| c.name == column);
        let what = match (self.mode, index) {
            (DriftMode::AddColumn, _) => {
                declared.push(DeclaredColumn { name: column.clone(), data_type: "string".into() });
                format!("catalog declares an extra column {column} (string)")
            }
            (_, None) => return Err(FaultError::NotApplicable(format!("column {column} is not declared"))),
            (DriftMode::DropColumn, Some(i)) => {
                declared.remove(i);
                format!("catalog no longer declares column {column}")
            }
            (DriftMode::RenameColumn, Some(i)) => {
                let new_name = self.new_name.clone().unwrap_or_else(|| format!("{column}_v2"));
                declared[i].name = new_name.clone();
                format!("catalog declares column {column} as {new_name}")
            }
            (DriftMode::ChangeType, Some(i)) => {
                let old = declared[i].data_type.clone();
                let new = match &self.new_type {
                    Some(t) => t.clone(),
                    None => {
                        arrow_type(&old).map(|t| logical_type(&default_new_type(&t))).unwrap_or_else(|| "string".into())
                    }
                };
                declared[i].data_type = new.clone();
                format!("catalog declares column {column} as {new} instead of {old}")
            }
        };
        let after = TableDef { declared: Some(declared), ..before.clone() };
        if after.declared_drift().is_none() {
            return Err(FaultError::NotApplicable(format!("{what}: the catalog cannot tell that from the contract")));
        }
        let ground_truth = GroundTruth {
            kind: FaultClass::SchemaDrift,
            mode: crate::snake_name(&self.mode),
            table: before.name.clone(),
            partitions: Vec::new(),
            files: Vec::new(),
            columns: vec![column],
            catalog: vec![catalog_location(&before.name)],
            rows_affected: 0,
            detail: what,
        };
        Ok(FaultPlan {
            changes: vec![Change::CatalogTable { before: Box::new(before), after: Box::new(after) }],
            ground_truth,
        })
    }

    fn column_to_drift(&self, ctx: &mut FaultContext<'_>) -> Result<String, FaultError> {
        let contract_cols: Vec<String> = ctx.table.columns.iter().map(|c| c.name.clone()).collect();
        let column = match (&self.column, self.mode) {
            (Some(c), DriftMode::AddColumn) if contract_cols.contains(c) => {
                return Err(FaultError::NotApplicable(format!("column {c} already exists in {}", ctx.table.name)))
            }
            (Some(c), DriftMode::AddColumn) => c.clone(),
            (None, DriftMode::AddColumn) => "ingest_source".to_string(),
            (Some(c), _) if !contract_cols.contains(c) => {
                return Err(FaultError::NotApplicable(format!(
                    "column {c} is not in the contract of {}",
                    ctx.table.name
                )))
            }
            (Some(c), _) => c.clone(),
            (None, _) => contract_cols[ctx.rng.random_range(0..contract_cols.len())].clone(),
        };
        Ok(column)
    }

    async fn plan_files(&self, ctx: &mut FaultContext<'_>, column: String) -> Result<FaultPlan, FaultError> {
        let files = choose_files(ctx, &self.select).await?;
        let mut changes = Vec::new();
        let mut rows = 0u64;
        let mut detail = String::new();
        for f in &files {
            let before = ctx.lake.store.get(&f.meta.key).await?;
            let decoded = decode(&f.meta.key, &before)?;
            rows += decoded.batch.num_rows() as u64;
            let (drifted, what) = self.drift(&decoded.batch, &column, ctx)?;
            detail = what;
            let after = encode(&drifted, decoded.row_group_rows)?;
            changes.push(Change::Object { key: f.meta.key.clone(), before: Some(before), after: Some(after) });
        }
        let ground_truth = GroundTruth::for_files(
            ctx.table,
            FaultClass::SchemaDrift,
            crate::snake_name(&self.mode),
            &files,
            vec![column],
            rows,
            detail,
        );
        Ok(FaultPlan { changes, ground_truth })
    }

    fn drift(
        &self,
        batch: &RecordBatch,
        column: &str,
        ctx: &mut FaultContext<'_>,
    ) -> Result<(RecordBatch, String), FaultError> {
        let schema = batch.schema();
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        let what;
        match self.mode {
            DriftMode::AddColumn => {
                const SOURCES: [&str; 4] = ["web", "mobile", "partner-api", "batch-import"];
                let values: Vec<&str> =
                    (0..batch.num_rows()).map(|_| SOURCES[ctx.rng.random_range(0..SOURCES.len())]).collect();
                fields.push(Field::new(column, DataType::Utf8, true));
                columns.push(Arc::new(StringArray::from(values)));
                what = format!("added column {column} (string)");
            }
            DriftMode::DropColumn => {
                let i = schema.index_of(column)?;
                fields.remove(i);
                columns.remove(i);
                what = format!("dropped column {column}");
            }
            DriftMode::RenameColumn => {
                let i = schema.index_of(column)?;
                let new_name = self.new_name.clone().unwrap_or_else(|| format!("{column}_v2"));
                if schema.index_of(&new_name).is_ok() {
                    return Err(FaultError::NotApplicable(format!(
                        "cannot rename {column} to existing column {new_name}"
                    )));
                }
                fields[i] = fields[i].clone().with_name(&new_name);
                what = format!("renamed column {column} to {new_name}");
            }
            DriftMode::ChangeType => {
                let i = schema.index_of(column)?;
                let old = fields[i].data_type().clone();
                let target = match &self.new_type {
                    Some(t) => arrow_type(t).ok_or_else(|| FaultError::NotApplicable(format!("unknown type {t}")))?,
                    None => default_new_type(&old),
                };
                if logical_type(&target) == logical_type(&old) {
                    return Err(FaultError::NotApplicable(format!(
                        "column {column} already has type {}",
                        logical_type(&old)
                    )));
                }
                columns[i] = cast(&columns[i], &target)?;
                fields[i] = Field::new(column, target.clone(), true);
                what = format!("changed column {column} from {} to {}", logical_type(&old), logical_type(&target));
            }
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        Ok((batch, what))
    }
}

/// What an upstream change typically turns a type into: widened integers, numbers as strings.
fn default_new_type(old: &DataType) -> DataType {
    match old {
        DataType::Int32 => DataType::Int64,
        DataType::Int64 | DataType::Float64 | DataType::Decimal128(_, _) | DataType::Timestamp(_, _) => DataType::Utf8,
        DataType::Utf8 | DataType::Dictionary(_, _) => DataType::Binary,
        _ => DataType::Utf8,
    }
}
