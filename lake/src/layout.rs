//! Hive-style table layout: `<location>/<key>=<value>/.../<file>`.
//!
//! Names beginning with `_` or `.` are hidden, as Spark and Hive treat them (`_SUCCESS`,
//! `.part-0.crc`, `_quarantine/`): they are never data.

use chrono::NaiveDate;

/// Whether a path segment is hidden from table readers.
pub fn is_hidden(segment: &str) -> bool {
    segment.starts_with('_') || segment.starts_with('.')
}

/// The partition path for one day: `dt=YYYY-MM-DD`.
pub fn day_partition(date: NaiveDate) -> String {
    format!("dt={}", date.format("%Y-%m-%d"))
}

/// `rest` under a table location; a table at the lake's root has the empty location.
fn under(location: &str, rest: &str) -> String {
    if location.is_empty() {
        rest.to_string()
    } else {
        format!("{location}/{rest}")
    }
}

/// The listing prefix of a table's objects: `<location>/`, or everything for a table at the root.
pub fn table_prefix(location: &str) -> String {
    under(location, "")
}

/// A table location as users write it (`orders/`, `.`, `./orders`), normalized: no leading
/// `./`, no trailing `/`, and `""` for the lake's root.
pub fn normalize_location(location: &str) -> String {
    let trimmed = location.trim_matches('/');
    let trimmed = trimmed.strip_prefix("./").unwrap_or(trimmed);
    if trimmed == "." {
        String::new()
    } else {
        trimmed.to_string()
    }
}

/// The directory key of a partition: `<location>/<partition>`.
pub fn partition_prefix(location: &str, partition: &str) -> String {
    under(location, partition)
}

/// A data file's key.
pub fn data_key(location: &str, partition: &str, file_name: &str) -> String {
    under(location, &format!("{partition}/{file_name}"))
}

/// Splits a data-file key of the table at `location` into (partition, file name), given the
/// number of partition keys. `None` for hidden files, keys of other tables, or keys that do not
/// follow the layout.
pub fn parse_data_key<'k>(location: &str, partition_depth: usize, key: &'k str) -> Option<(&'k str, &'k str)> {
    let rest = if location.is_empty() { key } else { key.strip_prefix(location)?.strip_prefix('/')? };
    let (partition, file) = match rest.rfind('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => ("", rest),
    };
    let segments: Vec<&str> = if partition.is_empty() { Vec::new() } else { partition.split('/').collect() };
    if segments.len() != partition_depth || is_hidden(file) || file.is_empty() {
        return None;
    }
    if segments.iter().any(|s| is_hidden(s) || !s.contains('=')) {
        return None;
    }
    Some((partition, file))
}

/// Rebases a key from one table prefix to another (served ↔ landing): `orders/dt=x/p` with
/// `orders` → `_landing/orders` gives `_landing/orders/dt=x/p`.
pub fn rebase(key: &str, from: &str, to: &str) -> Option<String> {
    let rest = if from.is_empty() { key } else { key.strip_prefix(from)?.strip_prefix('/')? };
    Some(under(to, rest))
}

/// Where a healer moves damaged objects inside a lake: `_quarantine/<timestamp>/<original key>`.
/// Hidden (leading `_`), so readers never take quarantine for data.
pub const QUARANTINE_PREFIX: &str = "_quarantine";

/// Suffix of the reason record written beside every quarantined object.
pub const REASON_SUFFIX: &str = ".reason.json";

/// The quarantine key of `key` under `prefix`, stamped with `stamp` (a UTC time, sortable).
pub fn quarantine_key(prefix: &str, stamp: &str, key: &str) -> String {
    format!("{}/{stamp}/{key}", prefix.trim_end_matches('/'))
}

/// The reason record of a quarantined object.
pub fn reason_key(quarantined: &str) -> String {
    format!("{quarantined}{REASON_SUFFIX}")
}

/// Whether `key` is a reason record rather than quarantined bytes.
pub fn is_reason_record(key: &str) -> bool {
    key.ends_with(REASON_SUFFIX)
}

/// Where the healer keeps what it knows of a lake between passes (hidden, like quarantine).
pub const HEALER_STATE_PREFIX: &str = "_lakehealer";

/// Where, inside a game-day lake, lakechaos keeps its own records (golden, journal, injection,
/// the healer's incidents as the scoring step collected them): never the lake's data, and no
/// healer acts on them.
pub const HARNESS_RECORDS_PREFIX: &str = "_lakechaos";

/// The healer's row inventory of a table: the row count of every data file last judged clean.
pub fn inventory_key(table: &str) -> String {
    format!("{HEALER_STATE_PREFIX}/inventory/{table}.json")
}

/// Whether a key (relative to a lake root) lies in the quarantine under `prefix`.
pub fn in_quarantine(prefix: &str, key: &str) -> bool {
    key.strip_prefix(prefix.trim_end_matches('/')).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_layout_keys() {
        assert_eq!(
            parse_data_key("orders", 1, "orders/dt=2024-01-01/part-0.parquet"),
            Some(("dt=2024-01-01", "part-0.parquet"))
        );
        assert_eq!(parse_data_key("orders", 1, "orders/dt=2024-01-01/_SUCCESS"), None);
        assert_eq!(parse_data_key("orders", 1, "orders/dt=2024-01-01/.part-0.crc"), None);
        assert_eq!(parse_data_key("orders", 1, "orders/part-0.parquet"), None);
        assert_eq!(parse_data_key("orders", 1, "orders_v2/dt=2024-01-01/p"), None);
        assert_eq!(parse_data_key("t", 2, "t/y=2024/m=01/f.parquet"), Some(("y=2024/m=01", "f.parquet")));
    }

    #[test]
    fn a_table_at_the_lake_root_has_the_empty_location() {
        assert_eq!(normalize_location("."), "");
        assert_eq!(normalize_location("./"), "");
        assert_eq!(normalize_location("orders/"), "orders");
        assert_eq!(table_prefix(""), "");
        assert_eq!(data_key("", "dt=x", "p"), "dt=x/p");
        assert_eq!(parse_data_key("", 1, "dt=x/p.parquet"), Some(("dt=x", "p.parquet")));
        assert_eq!(parse_data_key("", 1, "_landing/dt=x/p.parquet"), None);
        assert_eq!(parse_data_key("", 1, "_catalog/t.json"), None);
    }

    #[test]
    fn day_partitions_are_hive_style() {
        assert_eq!(day_partition(NaiveDate::from_ymd_opt(2024, 1, 5).unwrap()), "dt=2024-01-05");
    }

    #[test]
    fn quarantine_keys_sit_under_the_prefix_with_their_reason_beside_them() {
        let q = quarantine_key(QUARANTINE_PREFIX, "20240101T000000Z", "orders/dt=x/p");
        assert_eq!(q, "_quarantine/20240101T000000Z/orders/dt=x/p");
        assert!(in_quarantine(QUARANTINE_PREFIX, &q));
        assert!(!in_quarantine(QUARANTINE_PREFIX, "_quarantine_other/x"));
        assert!(is_reason_record(&reason_key(&q)));
        assert!(!is_reason_record(&q));
    }

    #[test]
    fn rebases_between_zones() {
        assert_eq!(rebase("orders/dt=x/p", "orders", "_landing/orders").as_deref(), Some("_landing/orders/dt=x/p"));
        assert_eq!(rebase("other/dt=x/p", "orders", "_landing/orders"), None);
    }
}
