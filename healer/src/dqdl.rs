//! A table's contract as a Glue Data Quality ruleset (DQDL), so the checks the healer enforces
//! can also run where a team already runs Glue Data Quality: the columns that must exist (and no
//! others), completeness where the contract bounds nulls, and a floor on the row count (the
//! rows the healer last judged clean, from its row inventory).
//!
//! DQDL's `ColumnDataType` checks whether *string* values cast to a type, which says nothing
//! about a typed Parquet column, so column types are written as comments: Glue Data Quality
//! cannot check them; the healer's footer tier does.

use lakechaos_lake::hive_types::hive_type;
use lakechaos_lake::TableDef;
use std::fmt::Write;

/// A column name as a DQDL string literal.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The DQDL ruleset of `table`; `min_rows` is the table's inventoried row count, if known.
pub fn ruleset(table: &TableDef, min_rows: Option<u64>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Contract of table {} (data under {}/), as lakehealer enforces it.", table.name, table.location);
    let _ = writeln!(out, "# Column types (checked by lakehealer's footer tier; DQDL cannot check typed columns):");
    for c in &table.columns {
        let _ = writeln!(out, "#   {}: {}", c.name, hive_type(&c.data_type));
    }
    for key in &table.partition_keys {
        let _ = writeln!(out, "#   {key}: partition key");
    }
    let mut rules = vec![format!("ColumnCount = {}", table.columns.len() + table.partition_keys.len())];
    for name in table.columns.iter().map(|c| c.name.as_str()).chain(table.partition_keys.iter().map(String::as_str)) {
        rules.push(format!("ColumnExists {}", quoted(name)));
    }
    for c in &table.columns {
        if !c.nullable {
            rules.push(format!("IsComplete {}", quoted(&c.name)));
        } else if c.max_null_fraction < 1.0 {
            // The contract bounds nulls per file; over the whole table the same share holds.
            let complete = (1.0 - c.max_null_fraction).clamp(0.0, 1.0);
            rules.push(format!("Completeness {} >= {}", quoted(&c.name), trim(complete)));
        }
    }
    rules.push(match min_rows {
        Some(rows) if rows > 0 => format!("RowCount >= {rows}"),
        _ => "RowCount > 0".to_string(),
    });
    let _ = writeln!(out, "Rules = [");
    for (i, rule) in rules.iter().enumerate() {
        let _ = writeln!(out, "    {rule}{}", if i + 1 < rules.len() { "," } else { "" });
    }
    let _ = writeln!(out, "]");
    out
}

/// A fraction without float noise (`0.9`, not `0.9000000000000001`).
fn trim(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakechaos_lake::ColumnDef;

    fn table() -> TableDef {
        let col = |name: &str, data_type: &str, nullable: bool, max: f64| ColumnDef {
            name: name.into(),
            data_type: data_type.into(),
            nullable,
            max_null_fraction: max,
        };
        TableDef {
            name: "orders".into(),
            location: "orders".into(),
            partition_keys: vec!["dt".into()],
            columns: vec![
                col("order_id", "int64", false, 0.0),
                col("customer_id", "int64", true, 0.1),
                col("note \"x\"", "utf8", true, 1.0),
            ],
            partitions: Default::default(),
            landing: None,
            declared: None,
        }
    }

    #[test]
    fn the_contract_becomes_rules() {
        let dqdl = ruleset(&table(), Some(70_000));
        let rules: Vec<&str> = dqdl
            .lines()
            .skip_while(|l| !l.starts_with("Rules = ["))
            .skip(1)
            .take_while(|l| *l != "]")
            .map(|l| l.trim().trim_end_matches(','))
            .collect();
        assert_eq!(
            rules,
            [
                "ColumnCount = 4",
                "ColumnExists \"order_id\"",
                "ColumnExists \"customer_id\"",
                "ColumnExists \"note \\\"x\\\"\"",
                "ColumnExists \"dt\"",
                "IsComplete \"order_id\"",
                "Completeness \"customer_id\" >= 0.9",
                "RowCount >= 70000",
            ]
        );
        assert!(dqdl.contains("#   order_id: bigint"), "{dqdl}");
        assert!(dqdl.trim_end().ends_with(']'));
        // Every rule line but the last ends with a comma.
        let body: Vec<&str> = dqdl.lines().skip_while(|l| !l.starts_with("Rules")).collect();
        assert!(body[1..body.len() - 2].iter().all(|l| l.ends_with(',')) && !body[body.len() - 2].ends_with(','));
    }

    #[test]
    fn without_an_inventory_the_table_must_not_be_empty() {
        assert!(ruleset(&table(), None).contains("    RowCount > 0\n"));
        assert!(ruleset(&table(), Some(0)).contains("    RowCount > 0\n"));
    }
}
