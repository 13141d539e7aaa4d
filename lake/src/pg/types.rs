//! Contract (logical) types as PostgreSQL types, and back.

/// The PostgreSQL type a contract column is stored as, as `format_type` spells it; `None` for
/// logical types with no mapping here.
pub fn pg_type(logical: &str) -> Option<String> {
    Some(
        match logical {
            "bool" => "boolean",
            "int16" => "smallint",
            "int32" => "integer",
            "int64" => "bigint",
            "float32" => "real",
            "float64" => "double precision",
            "string" => "text",
            "binary" => "bytea",
            "date" => "date",
            t if t.starts_with("timestamp[") && t.contains(',') => "timestamp with time zone",
            t if t.starts_with("timestamp[") => "timestamp without time zone",
            t => return t.strip_prefix("decimal").map(|ps| format!("numeric{ps}")),
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_types_map_to_postgres() {
        assert_eq!(pg_type("decimal(10,2)").as_deref(), Some("numeric(10,2)"));
        assert_eq!(pg_type("timestamp[us, UTC]").as_deref(), Some("timestamp with time zone"));
        assert_eq!(pg_type("int64").as_deref(), Some("bigint"));
        assert_eq!(pg_type("list<int64>"), None);
    }
}
