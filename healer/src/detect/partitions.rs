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
    let expected: BTreeSet<&String> =
        table.partitions.iter().chain(listing.landing.keys()).chain(listing.served.keys()).collect();
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
            problems.push(format!(
                "lacks {} file(s) present in the landing zone: {}",
                missing_files.len(),
                missing_files.join(", ")
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use lakechaos_lake::{ObjectMeta, TableDef};
    use std::collections::BTreeMap;

    fn listing(registered: &[&str], served: &[(&str, &[&str])], landing: &[(&str, &[&str])]) -> TableListing {
        let obj = |p: &str, f: &str| ObjectMeta {
            key: format!("t/{p}/{f}"),
            size: 10,
            version_token: "1".into(),
            modified: None,
        };
        TableListing {
            table: TableDef {
                name: "t".into(),
                location: "t".into(),
                partition_keys: vec!["dt".into()],
                columns: vec![],
                partitions: registered.iter().map(|s| s.to_string()).collect(),
                landing: (!landing.is_empty()).then(|| "_landing/t".into()),
                declared: None,
            },
            served: served.iter().map(|(p, fs)| (p.to_string(), fs.iter().map(|f| obj(p, f)).collect())).collect(),
            landing: landing
                .iter()
                .map(|(p, fs)| (p.to_string(), fs.iter().map(|f| f.to_string()).collect()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn complete_partitions_raise_nothing() {
        let l = listing(&["dt=1"], &[("dt=1", &["a", "b"])], &[("dt=1", &["a", "b"])]);
        assert!(detect(&l).is_empty());
        // Without a landing zone, served and registered agreeing is enough.
        assert!(detect(&listing(&["dt=1"], &[("dt=1", &["a"])], &[])).is_empty());
    }

    #[test]
    fn each_kind_of_gap_is_one_finding_per_partition() {
        let l = listing(
            &["dt=1", "dt=2"],
            &[("dt=1", &["a"]), ("dt=3", &["a", "b"])],
            &[("dt=1", &["a", "b"]), ("dt=2", &["a"]), ("dt=3", &["a", "b"]), ("dt=4", &["a"])],
        );
        let found: Vec<(String, Evidence)> = detect(&l).into_iter().map(|f| (f.location, f.evidence)).collect();
        let ev = |p: &str, registered, missing: &[&str], has_data| Evidence::Partition {
            partition: p.into(),
            registered,
            missing_files: missing.iter().map(|s| s.to_string()).collect(),
            has_data,
        };
        assert_eq!(
            found,
            vec![
                ("t/dt=1".into(), ev("dt=1", true, &["b"], true)),   // a file gone
                ("t/dt=2".into(), ev("dt=2", true, &["a"], false)),  // data gone
                ("t/dt=3".into(), ev("dt=3", false, &[], true)),     // catalog entry gone
                ("t/dt=4".into(), ev("dt=4", false, &["a"], false)), // never arrived
            ]
        );
    }
}
