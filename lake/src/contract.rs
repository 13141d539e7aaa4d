//! The table contract: the columns a table promises its readers.
//!
//! Types are compared as *logical* names (`int64`, `string`, `timestamp[us, UTC]`) rather than
//! Arrow types, because writers encode the same logical column differently (a dictionary-encoded
//! string from one writer is a plain string from another) and readers do not care.

use arrow_schema::{DataType, TimeUnit};
use serde::{Deserialize, Serialize};

/// One column of a table's contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// Column name as readers query it.
    pub name: String,
    /// Logical type name (see [`logical_type`]).
    pub data_type: String,
    /// Whether the contract allows nulls at all.
    pub nullable: bool,
    /// Highest share of nulls per file the contract accepts; more is a null flood. Zero for
    /// non-nullable columns.
    pub max_null_fraction: f64,
}

/// The logical name of an Arrow type, as stored in the contract.
pub fn logical_type(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float16 => "float16".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(unit, tz) => {
            let unit = match unit {
                TimeUnit::Second => "s",
                TimeUnit::Millisecond => "ms",
                TimeUnit::Microsecond => "us",
                TimeUnit::Nanosecond => "ns",
            };
            match tz {
                Some(tz) => format!("timestamp[{unit}, {tz}]"),
                None => format!("timestamp[{unit}]"),
            }
        }
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Dictionary(_, value) => logical_type(value),
        other => other.to_string(),
    }
}

/// The Arrow type a rewrite to the contract produces for a logical type, if the logical type is
/// one the healer can write.
pub fn arrow_type(logical: &str) -> Option<DataType> {
    let simple = match logical {
        "bool" => Some(DataType::Boolean),
        "int8" => Some(DataType::Int8),
        "int16" => Some(DataType::Int16),
        "int32" => Some(DataType::Int32),
        "int64" => Some(DataType::Int64),
        "uint8" => Some(DataType::UInt8),
        "uint16" => Some(DataType::UInt16),
        "uint32" => Some(DataType::UInt32),
        "uint64" => Some(DataType::UInt64),
        "float32" => Some(DataType::Float32),
        "float64" => Some(DataType::Float64),
        "string" => Some(DataType::Utf8),
        "binary" => Some(DataType::Binary),
        "date" => Some(DataType::Date32),
        _ => None,
    };
    if simple.is_some() {
        return simple;
    }
    if let Some(inner) = logical.strip_prefix("timestamp[").and_then(|s| s.strip_suffix(']')) {
        let mut parts = inner.splitn(2, ',').map(str::trim);
        let unit = match parts.next()? {
            "s" => TimeUnit::Second,
            "ms" => TimeUnit::Millisecond,
            "us" => TimeUnit::Microsecond,
            "ns" => TimeUnit::Nanosecond,
            _ => return None,
        };
        let tz = parts.next().map(|tz| tz.into());
        return Some(DataType::Timestamp(unit, tz));
    }
    if let Some(inner) = logical.strip_prefix("decimal(").and_then(|s| s.strip_suffix(')')) {
        let (p, s) = inner.split_once(',')?;
        return Some(DataType::Decimal128(p.trim().parse().ok()?, s.trim().parse().ok()?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_strings_are_strings() {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        assert_eq!(logical_type(&dict), "string");
        assert_eq!(logical_type(&DataType::LargeUtf8), "string");
    }

    #[test]
    fn logical_names_round_trip() {
        for dt in [
            DataType::Int64,
            DataType::Float64,
            DataType::Utf8,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            DataType::Decimal128(12, 2),
        ] {
            let name = logical_type(&dt);
            assert_eq!(arrow_type(&name), Some(dt), "{name}");
        }
    }
}
