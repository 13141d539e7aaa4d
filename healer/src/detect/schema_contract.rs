//! Footer tier: the file's schema against the table contract (names and logical types; order
//! and nullability are the writer's business).

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
