//! Schema drift: an upstream writer adds, drops, renames or retypes a column in some files.

use crate::pg::{PgFaultPlan, PgTable};
use crate::rewrite::{decode, encode};
use crate::select::{choose_files, Selection};
use crate::{
    catalog_location, Change, ColumnChoice, Fault, FaultClass, FaultContext, FaultError, FaultPlan, Footprint,
    GroundTruth, InvalidParameter,
};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_cast::cast;
use arrow_schema::{DataType, Field, Schema};
use lakechaos_lake::contract::{arrow_type, logical_type};
use lakechaos_lake::{DeclaredColumn, TableDef};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
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
    /// The column to drop, rename or retype: a name, `"*"` or a selector such as
    /// `{type: integer, nullable: false}` (default: any contract column, drawn by the seed); or
    /// the name of the added column (default `ingest_source`).
    #[serde(default)]
    pub column: Option<ColumnChoice>,
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

#[async_trait::async_trait]
impl Fault for SchemaDrift {
    fn class(&self) -> FaultClass {
        FaultClass::SchemaDrift
    }

    fn mode(&self) -> String {
        crate::snake_name(&self.mode)
    }

    fn footprint(&self) -> Option<Footprint> {
        (self.scope == DriftScope::Files).then_some((self.select.partitions, Some(self.select.files)))
    }

    fn validate(&self) -> Result<(), InvalidParameter> {
        if let Some(c) = &self.column {
            c.validate("column")?;
            if self.mode == DriftMode::AddColumn && c.name().is_none() {
                return Err(InvalidParameter(format!("column: add_column adds a column by name, got {c}")));
            }
        }
        if let Some(n) = &self.new_name {
            crate::column_name("new_name", n)?;
        }
        self.check()
    }

    fn check_contract(&self, contract: &[lakechaos_lake::ColumnDef]) -> Result<(), InvalidParameter> {
        let known = |c: &str| contract.iter().any(|x| x.name == c);
        match (&self.column, self.mode) {
            (Some(c), DriftMode::AddColumn) if c.name().is_some_and(known) => {
                return Err(InvalidParameter(format!(
                    "column: {c} is already a column of the table; add_column adds a new one"
                )))
            }
            (Some(c), DriftMode::DropColumn | DriftMode::RenameColumn | DriftMode::ChangeType) => {
                c.check("column", contract, |_| true)?
            }
            _ => {}
        }
        match &self.new_name {
            Some(n) if known(n) => Err(InvalidParameter(format!("new_name: {n:?} is already a column of the table"))),
            _ => Ok(()),
        }
    }

    async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        let column = self.column_to_drift(ctx)?;
        if let Some(table) = crate::iceberg_commit::iceberg_of(ctx) {
            return self.plan_iceberg(ctx, table?, column).await;
        }
        match self.scope {
            DriftScope::Files => self.plan_files(ctx, column).await,
            DriftScope::Catalog => self.plan_catalog(ctx, column).await,
        }
    }

    fn postgres_skip_reason(&self) -> Option<String> {
        None
    }

    fn plan_postgres(&self, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
        self.plan_sql(table, rng, tag)
    }

    fn examples(select: &Selection) -> Vec<SchemaDrift> {
        let drift = |mode, select: Selection, scope| SchemaDrift {
            mode,
            column: None,
            new_name: None,
            new_type: None,
            select,
            scope,
        };
        let mut specs: Vec<SchemaDrift> =
            [DriftMode::AddColumn, DriftMode::DropColumn, DriftMode::RenameColumn, DriftMode::ChangeType]
                .into_iter()
                .map(|mode| drift(mode, select.clone(), DriftScope::Files))
                .collect();
        specs.push(drift(DriftMode::ChangeType, Selection::default(), DriftScope::Catalog));
        specs
    }
}

impl SchemaDrift {
    fn check(&self) -> Result<(), InvalidParameter> {
        if self.scope == DriftScope::Catalog && self.select != Selection::default() {
            return Err(InvalidParameter::new(
                "select applies to scope: files only; scope: catalog drifts the table's declared columns",
            ));
        }
        if self.new_name.is_some() && self.mode != DriftMode::RenameColumn {
            return Err(InvalidParameter::new("new_name is only valid with mode: rename_column"));
        }
        if let Some(t) = &self.new_type {
            if self.mode != DriftMode::ChangeType {
                return Err(InvalidParameter::new("new_type is only valid with mode: change_type"));
            }
            if arrow_type(t).is_none() {
                return Err(InvalidParameter(format!(
                    "new_type {t:?} is not a known logical type (e.g. string, int32, int64, float64, bool)"
                )));
            }
        }
        Ok(())
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
            grants: Vec::new(),
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

    /// On an Iceberg table: a committed schema change (a new current schema); data files stay.
    /// Retyping follows Iceberg's own promotions (int to long, float to double, a wider
    /// decimal); a column with none cannot be retyped.
    async fn plan_iceberg(
        &self,
        ctx: &mut FaultContext<'_>,
        table: lakechaos_lake::iceberg::IcebergTable,
        column: String,
    ) -> Result<FaultPlan, FaultError> {
        use crate::iceberg_commit::{commit_changes, iceberg_err};
        use lakechaos_lake::iceberg::spec::{NestedField, PrimitiveType, Schema as IcebergSchema, Type};
        let base = table.current().await.map_err(iceberg_err)?;
        let md = &base.metadata;
        let current = md.current_schema();
        let mut fields: Vec<NestedField> = current.as_struct().fields().iter().map(|f| f.as_ref().clone()).collect();
        let position = fields.iter().position(|f| f.name == column);
        let detail = match (self.mode, position) {
            (DriftMode::AddColumn, _) => {
                fields.push(NestedField::optional(
                    md.last_column_id() + 1,
                    &column,
                    Type::Primitive(PrimitiveType::String),
                ));
                format!("a schema change adds column {column}")
            }
            (_, None) => {
                return Err(FaultError::NotApplicable(format!("column {column} is not in the current schema")))
            }
            (DriftMode::DropColumn, Some(i)) => {
                fields.remove(i);
                format!("a schema change drops column {column}")
            }
            (DriftMode::RenameColumn, Some(i)) => {
                let to = self.new_name.clone().unwrap_or_else(|| format!("{column}_v2"));
                fields[i].name = to.clone();
                format!("a schema change renames column {column} to {to}")
            }
            (DriftMode::ChangeType, Some(i)) => {
                let wider = match fields[i].field_type.as_ref() {
                    Type::Primitive(PrimitiveType::Int) => PrimitiveType::Long,
                    Type::Primitive(PrimitiveType::Float) => PrimitiveType::Double,
                    Type::Primitive(PrimitiveType::Decimal { precision, scale }) if *precision < 38 => {
                        PrimitiveType::Decimal { precision: 38, scale: *scale }
                    }
                    other => {
                        return Err(FaultError::NotApplicable(format!(
                            "column {column} is {other}; Iceberg retypes only int, float and decimal (to long, double, a wider decimal)"
                        )))
                    }
                };
                let from = fields[i].field_type.to_string();
                *fields[i].field_type = Type::Primitive(wider.clone());
                format!("a schema change retypes column {column} from {from} to {wider}")
            }
        };
        let schema = IcebergSchema::builder()
            .with_fields(fields.into_iter().map(std::sync::Arc::new))
            .with_identifier_field_ids(current.identifier_field_ids())
            .build()
            .map_err(|e| FaultError::NotApplicable(format!("schema change: {e}")))?;
        let prepared = table.prepare_metadata(&base, |b| b.add_current_schema(schema)).map_err(iceberg_err)?;
        let rows =
            table.live_files(md, None).await.map_err(iceberg_err)?.iter().map(|f| f.data_file.record_count()).sum();
        Ok(FaultPlan {
            changes: commit_changes(&table, prepared)?,
            ground_truth: GroundTruth {
                kind: FaultClass::SchemaDrift,
                mode: crate::snake_name(&self.mode),
                table: ctx.table.name.clone(),
                partitions: Vec::new(),
                files: Vec::new(),
                columns: vec![column],
                catalog: vec![catalog_location(&ctx.table.name)],
                grants: Vec::new(),
                rows_affected: rows,
                detail,
            },
        })
    }

    fn column_to_drift(&self, ctx: &mut FaultContext<'_>) -> Result<String, FaultError> {
        if self.mode == DriftMode::AddColumn {
            let column = self.column.as_ref().and_then(|c| c.name()).unwrap_or("ingest_source");
            if ctx.table.column(column).is_some() {
                return Err(FaultError::NotApplicable(format!("column {column} already exists in {}", ctx.table.name)));
            }
            return Ok(column.to_string());
        }
        self.column.as_ref().unwrap_or(&ColumnChoice::Any).resolve(&ctx.table.columns, |_| true, ctx.rng)
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

/// On PostgreSQL: `ALTER TABLE` on the served table (its partitions follow).
impl SchemaDrift {
    fn plan_sql(&self, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
        use crate::pg::{contract_column, draw_column, draw_days, in_days, pg_of};
        use lakechaos_lake::pg::ident;
        let (mut p, journal) = crate::pg::start(self, table, tag);
        let l = &table.layout;
        let served = l.served();
        let key = ident(&table.key);
        let column = match (self.column.as_ref(), self.mode) {
            (Some(ColumnChoice::Named(c)), _) => c.clone(),
            (_, DriftMode::AddColumn) => "ingest_source".into(),
            (choice, _) => draw_column(table, choice, rng)?,
        };
        let c = ident(&column);
        if self.mode != DriftMode::AddColumn {
            contract_column(table, &column)?;
        }
        p.ground_truth.columns = vec![column.clone()];
        p.ground_truth.catalog = vec![crate::pg::definition_location(l)];
        match self.mode {
            DriftMode::AddColumn => {
                if table.contract.iter().any(|x| x.name == column) {
                    return Err(FaultError::NotApplicable(format!("{column} is already a column of {served}")));
                }
                let days = draw_days(table, self.select.partitions, rng)?;
                let new_type = pg_of(self.new_type.as_deref().unwrap_or("string"))?;
                p.count = format!("SELECT count(*) FROM {served} WHERE {}", in_days(l, &days));
                p.inject = vec![
                    format!("ALTER TABLE {served} ADD COLUMN {c} {new_type}"),
                    format!("UPDATE {served} SET {c} = 'upstream-v2' WHERE {}", in_days(l, &days)),
                ];
                p.revert = vec![format!("ALTER TABLE {served} DROP COLUMN IF EXISTS {c}")];
                p.ground_truth.partitions = days.iter().map(|d| l.day_location(*d)).collect();
                p.ground_truth.detail = format!("column {column} {new_type} added, filled on {} day(s)", days.len());
            }
            DriftMode::DropColumn | DriftMode::ChangeType => {
                let original = pg_of(&contract_column(table, &column)?.data_type)?;
                p.snapshot.push(format!("CREATE TABLE {journal} AS SELECT {key}, {c} FROM {served}"));
                let restore = format!("UPDATE {served} s SET {c} = j.{c} FROM {journal} j WHERE s.{key} = j.{key}");
                if self.mode == DriftMode::DropColumn {
                    p.inject = vec![format!("ALTER TABLE {served} DROP COLUMN {c}")];
                    p.revert = vec![format!("ALTER TABLE {served} ADD COLUMN {c} {original}"), restore];
                    p.ground_truth.detail = format!("column {column} dropped");
                } else {
                    let logical = self.new_type.clone().unwrap_or_else(|| "string".into());
                    let new_type = pg_of(&logical)?;
                    if new_type == original {
                        return Err(FaultError::NotApplicable(format!("{column} is already {original}")));
                    }
                    p.inject =
                        vec![format!("ALTER TABLE {served} ALTER COLUMN {c} TYPE {new_type} USING {c}::{new_type}")];
                    p.revert =
                        vec![format!("ALTER TABLE {served} ALTER COLUMN {c} TYPE {original} USING NULL"), restore];
                    p.ground_truth.detail = format!("column {column} retyped {original} → {new_type}");
                }
            }
            DriftMode::RenameColumn => {
                let new_name = self.new_name.clone().unwrap_or_else(|| format!("{column}_v2"));
                p.inject = vec![format!("ALTER TABLE {served} RENAME COLUMN {c} TO {}", ident(&new_name))];
                p.revert = vec![format!("ALTER TABLE {served} RENAME COLUMN {} TO {c}", ident(&new_name))];
                p.ground_truth.detail = format!("column {column} renamed to {new_name}");
            }
        }
        Ok(p)
    }
}
