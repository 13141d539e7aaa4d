//! Footer tier: null counts from column-chunk statistics against the contract's allowance.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use lakechaos_lake::TableDef;
use parquet::file::metadata::ParquetMetaData;

/// The outcome of the statistics check.
pub struct NullStats {
    pub finding: Option<Finding>,
    /// False when some contract column had no null count in its statistics, so the pages tier
    /// must count nulls itself.
    pub complete: bool,
}

/// Sums null counts per top-level column over all row groups and compares the share with the
/// contract's `max_null_fraction`. Columns the file types `Null` (no values by type, as pyarrow
/// writes an optional column that is empty in that file) are not judged.
pub fn detect(table: &TableDef, key: &str, metadata: &ParquetMetaData, schema: &arrow_schema::Schema) -> NullStats {
    let rows = metadata.file_metadata().num_rows().max(0) as u64;
    let mut complete = true;
    let mut flooded = Vec::new();
    for c in table.columns.iter().filter(|c| !typed_null(schema, &c.name)) {
        let mut nulls = 0u64;
        let mut seen = false;
        for rg in metadata.row_groups() {
            for col in rg.columns() {
                if col.column_path().parts() != [c.name.as_str()] {
                    continue;
                }
                match col.statistics().and_then(|s| s.null_count_opt()) {
                    Some(n) => {
                        nulls += n;
                        seen = true;
                    }
                    None => complete = false,
                }
            }
        }
        if seen {
            if let Some(v) = over_allowance(&c.name, nulls, rows, c.max_null_fraction) {
                flooded.push(v);
            }
        }
    }
    NullStats { finding: finding(table, key, Tier::Footer, flooded), complete }
}

/// Whether the file types `column` as `Null`.
pub fn typed_null(schema: &arrow_schema::Schema, column: &str) -> bool {
    schema.field_with_name(column).is_ok_and(|f| f.data_type() == &arrow_schema::DataType::Null)
}

/// `Some` when `nulls` out of `rows` exceeds the allowance.
pub fn over_allowance(column: &str, nulls: u64, rows: u64, allowed: f64) -> Option<(String, u64, u64, f64)> {
    (rows > 0 && nulls as f64 / rows as f64 > allowed).then(|| (column.to_string(), nulls, rows, allowed))
}

/// Builds the null-flood finding for the flooded columns, if any.
pub fn finding(table: &TableDef, key: &str, tier: Tier, flooded: Vec<(String, u64, u64, f64)>) -> Option<Finding> {
    if flooded.is_empty() {
        return None;
    }
    let text: Vec<String> = flooded
        .iter()
        .map(|(c, n, r, a)| {
            format!(
                "{c} has {n} nulls in {r} rows ({:.1}%, contract allows {:.1}%)",
                *n as f64 * 100.0 / *r as f64,
                a * 100.0
            )
        })
        .collect();
    Some(Finding {
        kind: FindingKind::NullFlood,
        table: table.name.clone(),
        location: key.to_string(),
        tier,
        message: format!("{key}: {}", text.join("; ")),
        evidence: Evidence::Nulls { columns: flooded },
    })
}
