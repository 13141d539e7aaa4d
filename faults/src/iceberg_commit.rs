//! What the faults that act on Iceberg tables share: the Iceberg table a fault context is
//! about, and a prepared commit as a fault's changes. `null_flood`, `schema_drift` and
//! `missing_partition` plan as commits on an Iceberg table; `iceberg_files` acts on its tree.

use crate::{Change, FaultContext, FaultError};
use lakechaos_lake::iceberg::{IcebergTable, Prepared};

/// The Iceberg table of a fault context whose lake has an Iceberg catalog (`None` for other
/// lakes): faults that have a meaning on both plan the Iceberg way there, as commits.
pub(crate) fn iceberg_of(ctx: &FaultContext<'_>) -> Option<Result<IcebergTable, FaultError>> {
    ctx.lake.iceberg.as_ref()?;
    // A Glue lake has both kinds of table; only an Iceberg table is named NAMESPACE.TABLE.
    lakechaos_lake::iceberg::TableIdent::parse(&ctx.table.name).ok()?;
    Some(iceberg_table(ctx))
}

/// The changes a prepared commit makes: every object it writes (each new: commits never
/// overwrite) and the pointer's move, in that order.
pub(crate) fn commit_changes(table: &IcebergTable, prepared: Prepared) -> Result<Vec<Change>, FaultError> {
    let before = prepared
        .before
        .ok_or_else(|| FaultError::NotApplicable(format!("{}: a commit that creates the table", table.ident)))?;
    let mut changes: Vec<Change> = prepared
        .objects
        .into_iter()
        .map(|(key, bytes)| Change::Object { key, before: None, after: Some(bytes) })
        .collect();
    changes.push(Change::IcebergPointer { table: table.ident.to_string(), before, after: prepared.after });
    Ok(changes)
}

/// The Iceberg table a fault context is about, or why there is none.
pub(crate) fn iceberg_table(ctx: &FaultContext<'_>) -> Result<IcebergTable, FaultError> {
    ctx.lake
        .iceberg_table(&ctx.table.name)
        .ok_or_else(|| {
            FaultError::NotApplicable("needs an Iceberg table (a lake opened with an Iceberg catalog)".into())
        })?
        .map_err(|e| FaultError::NotApplicable(e.to_string()))
}

pub(crate) fn iceberg_err(e: lakechaos_lake::iceberg::IcebergError) -> FaultError {
    FaultError::Lake(e.into())
}
