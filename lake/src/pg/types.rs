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

/// The contract (logical) type of a PostgreSQL column, as `format_type` spells its type; `None`
/// for types lakechaos does not read (arrays, JSON, numerics without a scale, …).
pub fn logical_of_pg(pg: &str) -> Option<String> {
    Some(
        match pg {
            "boolean" => "bool",
            "smallint" => "int16",
            "integer" => "int32",
            "bigint" => "int64",
            "real" => "float32",
            "double precision" => "float64",
            "text" => "string",
            "bytea" => "binary",
            "date" => "date",
            "timestamp with time zone" => "timestamp[us, UTC]",
            "timestamp without time zone" => "timestamp[us]",
            t => {
                let ps = t.strip_prefix("numeric(")?.strip_suffix(')')?;
                let (p, s) = ps.split_once(',')?;
                return Some(format!("decimal({},{})", p.trim().parse::<u8>().ok()?, s.trim().parse::<i8>().ok()?));
            }
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_types_map_back_to_the_contract() {
        for logical in
            ["bool", "int16", "int32", "int64", "float64", "string", "date", "decimal(10,2)", "timestamp[us, UTC]"]
        {
            assert_eq!(logical_of_pg(&pg_type(logical).unwrap()).as_deref(), Some(logical));
        }
        assert_eq!(logical_of_pg("numeric"), None);
        assert_eq!(logical_of_pg("jsonb"), None);
    }

    #[test]
    fn contract_types_map_to_postgres() {
        assert_eq!(pg_type("decimal(10,2)").as_deref(), Some("numeric(10,2)"));
        assert_eq!(pg_type("timestamp[us, UTC]").as_deref(), Some("timestamp with time zone"));
        assert_eq!(pg_type("int64").as_deref(), Some("bigint"));
        assert_eq!(pg_type("list<int64>"), None);
    }
}
