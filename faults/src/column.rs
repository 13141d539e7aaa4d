//! Which column a fault damages. A scenario written for someone else's table cannot know its
//! column names, so a fault's `column` may be a name, `"*"` (any contract column the fault can
//! apply to, drawn by the seed) or a selector such as `{type: string, nullable: true}`. The
//! choice is checked against the real contract before injection and resolved while planning.

use crate::{FaultError, InvalidParameter};
use lakechaos_lake::ColumnDef;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A fault's `column:`.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnChoice {
    /// This column.
    Named(String),
    /// `"*"`: any contract column the fault can apply to.
    Any,
    /// A column of the contract matching the selector.
    Matching(ColumnSelector),
}

/// `column: {type: …, nullable: …}`; either key may be left out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSelector {
    /// `string`, `integer`, `float`, `decimal`, `timestamp` or `boolean`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub family: Option<TypeFamily>,
    /// Whether the contract allows the column nulls.
    #[serde(default, deserialize_with = "crate::strict::opt_bool", skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
}

/// Logical types grouped as people name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeFamily {
    String,
    Integer,
    Float,
    Decimal,
    Timestamp,
    Boolean,
}

impl TypeFamily {
    /// Whether a contract's logical type (`int64`, `timestamp[us, UTC]`, …) is of this family.
    pub fn contains(self, logical: &str) -> bool {
        match self {
            TypeFamily::String => logical == "string",
            TypeFamily::Integer => logical.starts_with("int") || logical.starts_with("uint"),
            TypeFamily::Float => logical.starts_with("float"),
            TypeFamily::Decimal => logical.starts_with("decimal("),
            TypeFamily::Timestamp => logical.starts_with("timestamp["),
            TypeFamily::Boolean => logical == "bool",
        }
    }
}

impl ColumnSelector {
    fn matches(&self, c: &ColumnDef) -> bool {
        self.family.is_none_or(|f| f.contains(&c.data_type)) && self.nullable.is_none_or(|n| n == c.nullable)
    }
}

impl From<&str> for ColumnChoice {
    /// A name as written in a scenario (`"*"` is the wildcard).
    fn from(name: &str) -> ColumnChoice {
        if name == "*" {
            ColumnChoice::Any
        } else {
            ColumnChoice::Named(name.to_string())
        }
    }
}

impl fmt::Display for ColumnChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnChoice::Named(name) => write!(f, "{name:?}"),
            ColumnChoice::Any => f.write_str("\"*\""),
            ColumnChoice::Matching(s) => {
                let mut parts = Vec::new();
                if let Some(family) = s.family {
                    parts.push(format!("type: {}", crate::snake_name(&family)));
                }
                if let Some(n) = s.nullable {
                    parts.push(format!("nullable: {n}"));
                }
                write!(f, "{{{}}}", parts.join(", "))
            }
        }
    }
}

impl ColumnChoice {
    /// The name, when the scenario wrote one.
    pub fn name(&self) -> Option<&str> {
        match self {
            ColumnChoice::Named(n) => Some(n),
            _ => None,
        }
    }

    /// Checks what the scenario wrote (a name must be a safe column name).
    pub fn validate(&self, field: &str) -> Result<(), InvalidParameter> {
        match self {
            ColumnChoice::Named(n) => crate::column_name(field, n),
            _ => Ok(()),
        }
    }

    /// The contract columns this choice may resolve to, among those `applies` accepts.
    pub fn candidates<'c>(
        &self,
        contract: &'c [ColumnDef],
        applies: impl Fn(&ColumnDef) -> bool,
    ) -> Vec<&'c ColumnDef> {
        contract
            .iter()
            .filter(|c| applies(c))
            .filter(|c| match self {
                ColumnChoice::Named(n) => &c.name == n,
                ColumnChoice::Any => true,
                ColumnChoice::Matching(s) => s.matches(c),
            })
            .collect()
    }

    /// Checks the choice against a table's contract: a named column must exist, and a wildcard
    /// or selector must match at least one column the fault can apply to.
    pub fn check(
        &self,
        field: &str,
        contract: &[ColumnDef],
        applies: impl Fn(&ColumnDef) -> bool,
    ) -> Result<(), InvalidParameter> {
        if !self.candidates(contract, &applies).is_empty() {
            return Ok(());
        }
        let columns = contract.iter().map(|c| format!("{} {}", c.name, c.data_type)).collect::<Vec<_>>().join(", ");
        Err(InvalidParameter(match self {
            ColumnChoice::Named(n) if contract.iter().any(|c| &c.name == n) => {
                format!("{field}: the fault cannot apply to column {n:?}")
            }
            ColumnChoice::Named(n) => {
                format!("{field}: {n:?} is not a column of the table (expected one of: {columns})")
            }
            other => format!("{field}: no column of the table matches {other} (the table has: {columns})"),
        }))
    }

    /// Resolves the choice, drawing among the candidates with `rng` (a name draws nothing).
    pub fn resolve(
        &self,
        contract: &[ColumnDef],
        applies: impl Fn(&ColumnDef) -> bool,
        rng: &mut ChaCha8Rng,
    ) -> Result<String, FaultError> {
        if let ColumnChoice::Named(n) = self {
            return match contract.iter().find(|c| &c.name == n) {
                Some(c) if applies(c) => Ok(n.clone()),
                Some(_) => Err(FaultError::NotApplicable(format!("the fault cannot apply to column {n}"))),
                None => Err(FaultError::NotApplicable(format!("column {n} is not in the contract"))),
            };
        }
        let candidates = self.candidates(contract, applies);
        if candidates.is_empty() {
            return Err(FaultError::NotApplicable(format!("no column of the contract matches {self}")));
        }
        Ok(candidates[rng.random_range(0..candidates.len())].name.clone())
    }
}

impl Serialize for ColumnChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ColumnChoice::Named(n) => s.serialize_str(n),
            ColumnChoice::Any => s.serialize_str("*"),
            ColumnChoice::Matching(sel) => sel.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ColumnChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ColumnChoice, D::Error> {
        struct ChoiceVisitor;
        impl<'de> Visitor<'de> for ChoiceVisitor {
            type Value = ColumnChoice;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name, \"*\", or a selector such as {type: string, nullable: true}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ColumnChoice, E> {
                Ok(ColumnChoice::from(v))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ColumnChoice, A::Error> {
                ColumnSelector::deserialize(de::value::MapAccessDeserializer::new(map)).map(ColumnChoice::Matching)
            }
        }
        d.deserialize_any(ChoiceVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn col(name: &str, data_type: &str, nullable: bool) -> ColumnDef {
        ColumnDef { name: name.into(), data_type: data_type.into(), nullable, max_null_fraction: 0.0 }
    }

    fn contract() -> Vec<ColumnDef> {
        vec![
            col("id", "int64", false),
            col("note", "string", true),
            col("price", "decimal(12,2)", true),
            col("at", "timestamp[us, UTC]", false),
            col("flag", "bool", true),
        ]
    }

    fn parse(yaml: &str) -> ColumnChoice {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn names_wildcards_and_selectors_parse_and_round_trip() {
        assert_eq!(parse("note"), ColumnChoice::Named("note".into()));
        assert_eq!(parse("'*'"), ColumnChoice::Any);
        let sel = parse("{type: timestamp, nullable: false}");
        assert_eq!(sel.candidates(&contract(), |_| true).iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["at"]);
        for choice in [parse("note"), parse("'*'"), sel, parse("{nullable: true}")] {
            let json = serde_json::to_string(&choice).unwrap();
            assert_eq!(serde_json::from_str::<ColumnChoice>(&json).unwrap(), choice, "{json}");
        }
        assert!(serde_saphyr::from_str::<ColumnChoice>("{type: text}").is_err());
        assert!(serde_saphyr::from_str::<ColumnChoice>("{colour: red}").is_err());
    }

    #[test]
    fn checks_name_the_table_columns() {
        let e = ColumnChoice::Named("amount".into()).check("column", &contract(), |_| true).unwrap_err();
        assert!(e.0.contains("\"amount\" is not a column") && e.0.contains("id int64"), "{e}");
        let e = parse("{type: float}").check("column", &contract(), |_| true).unwrap_err();
        assert!(e.0.contains("no column of the table matches {type: float}"), "{e}");
        assert!(parse("{type: integer}").check("column", &contract(), |_| true).is_ok());
    }

    proptest::proptest! {
        /// A drawn column is always one the selector and the fault accept, and the same seed
        /// draws the same column.
        #[test]
        fn draws_stay_within_the_candidates(seed: u64, family in 0usize..7, nullable in proptest::option::of(proptest::bool::ANY)) {
            let families = [TypeFamily::String, TypeFamily::Integer, TypeFamily::Float, TypeFamily::Decimal, TypeFamily::Timestamp, TypeFamily::Boolean];
            let choice = ColumnChoice::Matching(ColumnSelector { family: families.get(family).copied(), nullable });
            let applies = |c: &ColumnDef| c.name != "flag";
            let expected: Vec<String> = choice.candidates(&contract(), applies).iter().map(|c| c.name.clone()).collect();
            let a = choice.resolve(&contract(), applies, &mut ChaCha8Rng::seed_from_u64(seed));
            let b = choice.resolve(&contract(), applies, &mut ChaCha8Rng::seed_from_u64(seed));
            match a {
                Ok(name) => {
                    proptest::prop_assert!(expected.contains(&name));
                    proptest::prop_assert_eq!(b.unwrap(), name);
                }
                Err(_) => proptest::prop_assert!(expected.is_empty()),
            }
        }
    }
}
