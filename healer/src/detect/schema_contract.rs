//! Footer tier: the file's schema against the table contract (names and logical types; order
//! and nullability are the writer's business). A column typed `Null` (pyarrow's type for a column
//! with no values in that file) fits any nullable contract column.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use arrow_schema::Schema;
use lakechaos_lake::contract::logical_type;
use lakechaos_lake::TableDef;

/// Compares a footer's schema with the contract.
pub fn detect(table: &TableDef, key: &str, schema: &Schema) -> Option<Finding> {
    let mut missing = Vec::new();
    let mut retyped = Vec::new();
    for c in &table.columns {
        match schema.field_with_name(&c.name) {
            Err(_) => missing.push(c.name.clone()),
            Ok(f) if f.data_type() == &arrow_schema::DataType::Null && c.nullable => {}
            Ok(f) => {
                let found = logical_type(f.data_type());
                if found != c.data_type {
                    retyped.push((c.name.clone(), c.data_type.clone(), found));
                }
            }
        }
    }
    let extra: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| table.column(n).is_none() && !table.partition_keys.contains(n))
        .collect();
    if missing.is_empty() && extra.is_empty() && retyped.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", missing.join(", ")));
    }
    if !extra.is_empty() {
        parts.push(format!("unexpected {}", extra.join(", ")));
    }
    for (c, want, got) in &retyped {
        parts.push(format!("{c} is {got}, contract says {want}"));
    }
    Some(Finding {
        kind: FindingKind::SchemaDrift,
        table: table.name.clone(),
        location: key.to_string(),
        tier: Tier::Footer,
        message: format!("{key}: schema differs from the contract: {}", parts.join("; ")),
        evidence: Evidence::Schema { missing, extra, retyped },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field};

    fn table() -> TableDef {
        crate::detect::test_table("t", &[("id", "int64"), ("s", "string")])
    }

    #[test]
    fn order_nullability_and_encoding_do_not_matter() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let schema = Schema::new(vec![Field::new("s", dict, false), Field::new("id", DataType::Int64, false)]);
        assert_eq!(detect(&table(), "k", &schema), None);
        // A partition column written into the file is not drift either.
        let with_dt = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("dt", DataType::Utf8, true),
        ]);
        assert_eq!(detect(&table(), "k", &with_dt), None);
    }

    #[test]
    fn missing_extra_and_retyped_columns_are_named() {
        let schema = Schema::new(vec![Field::new("id", DataType::Utf8, true), Field::new("x", DataType::Int8, true)]);
        let f = detect(&table(), "k", &schema).unwrap();
        assert_eq!(
            f.evidence,
            Evidence::Schema {
                missing: vec!["s".into()],
                extra: vec!["x".into()],
                retyped: vec![("id".into(), "int64".into(), "string".into())]
            }
        );
        assert!(
            f.message.contains("missing s") && f.message.contains("unexpected x") && f.message.contains("id is string")
        );
    }
}
