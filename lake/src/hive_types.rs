//! Logical (Arrow) types as a Hive-style catalog (Glue, Hive metastore) writes them, and back.
//! Kept apart from the Glue client so that the catalog model can use them without importing it.

/// The Hive/Glue type for a logical type.
pub fn hive_type(logical: &str) -> String {
    match logical {
        "int64" | "uint32" => "bigint".into(),
        "int32" | "uint16" => "int".into(),
        "int16" | "uint8" => "smallint".into(),
        "int8" => "tinyint".into(),
        "float64" => "double".into(),
        "float32" => "float".into(),
        "bool" => "boolean".into(),
        "binary" => "binary".into(),
        "date" => "date".into(),
        t if t.starts_with("timestamp") => "timestamp".into(),
        t if t.starts_with("decimal") => t.into(),
        _ => "string".into(),
    }
}

/// The logical type for a Hive/Glue type (for tables a crawler registered).
pub fn logical_from_hive(hive: &str) -> String {
    match hive.to_ascii_lowercase().as_str() {
        "bigint" => "int64".into(),
        "int" | "integer" => "int32".into(),
        "smallint" => "int16".into(),
        "tinyint" => "int8".into(),
        "double" => "float64".into(),
        "float" => "float32".into(),
        "boolean" => "bool".into(),
        "binary" => "binary".into(),
        "date" => "date".into(),
        "timestamp" => "timestamp[us]".into(),
        t if t.starts_with("decimal") => t.replace(' ', ""),
        _ => "string".into(),
    }
}
