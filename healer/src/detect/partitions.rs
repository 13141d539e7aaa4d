//! Listing tier: partitions that should exist but are missing data, missing files, or missing
//! from the catalog. "Should exist" means registered in the catalog or present in the landing
//! zone (the source of truth), or holding data.

use crate::detect::TableListing;
use crate::finding::{Evidence, Finding, FindingKind, Tier};
use lakechaos_lake::layout::partition_prefix;
use std::collections::BTreeSet;

/// One finding per incomplete partition.
pub fn detect(listing: &TableListing) -> Vec<Finding> {
    let table = &listing.table;
    let expected: BTreeSet<&String> = table.partitions.iter().chain(listing.landing.keys()).chain(listing.served.keys()).collect();
    let mut findings = Vec::new();
    for partition in expected {
        let registered = table.partitions.contains(partition);
        let served: BTreeSet<&str> = listing
            .served
            .get(partition)
            .map(|files| files.iter().filter_map(|o| o.key.rsplit('/').next()).collect())
            .unwrap_or_default();
        let missing_files: Vec<String> = listing
            .landing
            .get(partition)
            .map(|names| names.iter().filter(|n| !served.contains(n.as_str())).cloned().collect())
            .unwrap_or_default();
        let has_data = !served.is_empty();
        let mut problems = Vec::new();
        if !registered {
            problems.push("not registered in the catalog".to_string());
        }
        if !has_data {
            problems.push("has no data files".to_string());
        } else if !missing_files.is_empty() {
            problems.push(format!("lacks {} file(s) present in the landing zone: {}", missing_files.len(), missing_files.join(", ")));
        }
        if problems.is_empty() {
            continue;
        }
        let location = partition_prefix(&table.location, partition);
        findings.push(Finding {
            kind: FindingKind::MissingPartition,
            table: table.name.clone(),
            message: format!("partition {location} {}", problems.join(" and ")),
            location,
            tier: Tier::Listing,
            evidence: Evidence::Partition { partition: partition.clone(), registered, missing_files, has_data },
        });
    }
    findings
}
