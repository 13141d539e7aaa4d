//! Listing tier: the columns the catalog declares to query engines against the contract. A
//! Glue table edited by a crawler run or by hand makes engines read the data wrongly (or not at
//! all) even when every file is fine.

use crate::finding::{Evidence, Finding, FindingKind, Tier};
use lakechaos_lake::TableDef;

/// How the catalog entry itself is named as a location.
pub fn location(table: &TableDef) -> String {
    format!("catalog:{}", table.name)
}

/// A finding when the declared columns differ from the contract.
pub fn detect(table: &TableDef) -> Option<Finding> {
    let differences = table.declared_drift()?;
    Some(Finding {
        kind: FindingKind::SchemaDrift,
        table: table.name.clone(),
        location: location(table),
        tier: Tier::Listing,
        message: format!("catalog entry of {} declares columns off the contract: {differences}", table.name),
        evidence: Evidence::CatalogSchema { differences },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakechaos_lake::DeclaredColumn;

    fn table(declared: Option<Vec<(&str, &str)>>) -> TableDef {
        let mut table = crate::detect::test_table("orders", &[("id", "int64"), ("at", "timestamp[us, UTC]")]);
        table.declared = declared
            .map(|d| d.into_iter().map(|(n, t)| DeclaredColumn { name: n.into(), data_type: t.into() }).collect());
        table
    }

    #[test]
    fn agreeing_declarations_are_clean_even_where_the_catalog_is_coarser() {
        assert_eq!(detect(&table(None)), None);
        // Glue has one timestamp type: `timestamp[us]` declares the contract's UTC microseconds.
        assert_eq!(detect(&table(Some(vec![("id", "int64"), ("at", "timestamp[us]")]))), None);
    }

    #[test]
    fn retyped_missing_and_extra_columns_are_named() {
        let f = detect(&table(Some(vec![("id", "string"), ("extra", "string")]))).unwrap();
        assert_eq!(f.location, "catalog:orders");
        assert_eq!(f.tier, Tier::Listing);
        let Evidence::CatalogSchema { differences } = f.evidence else { panic!() };
        assert!(differences.contains("id declared string, contract int64"), "{differences}");
        assert!(differences.contains("at missing"), "{differences}");
        assert!(differences.contains("extra (string) not in the contract"), "{differences}");
    }
}
