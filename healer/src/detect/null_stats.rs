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

/// How many standard deviations above the allowed share a file's null count must be to count
/// as a flood. The allowance is a rate: a small file drawn at that rate often lands above it
/// (19 nulls in 50 rows at 35 % is ordinary), so the bound is a one-sided binomial test, not the
/// bare rate. At 4 σ a clean file is flagged about once in 30,000 checks.
const FLOOD_SIGMAS: f64 = 4.0;

/// `Some` when `nulls` out of `rows` is more than chance allows at the contract's rate.
pub fn over_allowance(column: &str, nulls: u64, rows: u64, allowed: f64) -> Option<(String, u64, u64, f64)> {
    (rows > 0 && nulls as f64 > flood_bound(rows, allowed)).then(|| (column.to_string(), nulls, rows, allowed))
}

/// The highest null count of a clean file of `rows` rows at null rate `allowed`.
pub fn flood_bound(rows: u64, allowed: f64) -> f64 {
    let n = rows as f64;
    let p = allowed.clamp(0.0, 1.0);
    n * p + FLOOD_SIGMAS * (n * p * (1.0 - p)).sqrt()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_at_the_allowed_rate_are_not_floods() {
        // The steady-state false flag seen with 2 days x 100 rows: 19 nulls in 50 rows at 35 %.
        assert!(over_allowance("c", 19, 50, 0.35).is_none());
        assert!(over_allowance("c", 0, 50, 0.0).is_none());
        // Real floods still are, at the sizes the scenarios use.
        assert!(over_allowance("c", 100, 200, 0.15).is_some(), "half of a 15 % column");
        assert!(over_allowance("c", 136, 200, 0.35).is_some(), "0.6 flood of a 20 % column");
        assert!(over_allowance("c", 2500, 5000, 0.15).is_some());
        assert!(over_allowance("c", 1, 50, 0.0).is_some(), "a non-nullable column has no slack");
    }

    #[test]
    fn the_bound_is_four_binomial_deviations_above_the_rate() {
        // 200 rows at 15 %: 30 expected, deviation sqrt(25.5) = 5.05, bound 50.2.
        assert!(over_allowance("c", 50, 200, 0.15).is_none());
        assert!(over_allowance("c", 51, 200, 0.15).is_some());
        // 100 rows at 50 %: 50 expected, deviation 5, bound exactly 70 (not above it).
        assert!(over_allowance("c", 70, 100, 0.5).is_none());
        assert!(over_allowance("c", 71, 100, 0.5).is_some());
        // A footer declaring no rows but some nulls is hostile, not a flood to divide by zero.
        assert!(over_allowance("c", 5, 0, 0.1).is_none());
    }

    #[test]
    fn the_bound_holds_for_clean_files_drawn_at_the_rate() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut flagged = 0;
        for _ in 0..20_000 {
            let rows = rng.random_range(10..400);
            let p: f64 = rng.random_range(0.0..0.6);
            let nulls = (0..rows).filter(|_| rng.random_bool(p)).count() as u64;
            flagged += over_allowance("c", nulls, rows, p).is_some() as u32;
        }
        assert!(flagged <= 5, "{flagged} of 20000 clean files flagged");
    }
}
