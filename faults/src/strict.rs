//! Numbers and booleans in scenario files must be written as numbers and booleans: `days: "2"`
//! or `fraction: "0.6"` is a string that happens to look like one, and accepting it would hide a
//! templating mistake. Fields use these through `#[serde(deserialize_with = ...)]`; a quoted
//! value is refused with what was expected, at its own line and column.

use serde::de::{self, Deserializer, Unexpected, Visitor};
use std::fmt;

/// What a plain (unquoted) YAML scalar gave.
enum Plain {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    Null,
}

struct PlainVisitor(&'static str);

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = Plain;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} written without quotes", self.0)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Plain, E> {
        Ok(Plain::Unsigned(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Plain, E> {
        Ok(Plain::Signed(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Plain, E> {
        Ok(Plain::Float(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Plain, E> {
        Ok(Plain::Bool(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Plain, E> {
        Ok(Plain::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Plain, E> {
        Ok(Plain::Null)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Plain, E> {
        Err(E::invalid_type(Unexpected::Str(v), &self))
    }
}

fn plain<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<Plain, D::Error> {
    d.deserialize_any(PlainVisitor(what))
}

fn unsigned<E: de::Error>(p: Plain, max: u64, what: &'static str) -> Result<Option<u64>, E> {
    let expected = PlainVisitor(what);
    match p {
        Plain::Unsigned(v) if v <= max => Ok(Some(v)),
        Plain::Unsigned(v) => Err(E::invalid_value(Unexpected::Unsigned(v), &expected)),
        Plain::Signed(v) => Err(E::invalid_value(Unexpected::Signed(v), &expected)),
        Plain::Float(v) => Err(E::invalid_type(Unexpected::Float(v), &expected)),
        Plain::Bool(v) => Err(E::invalid_type(Unexpected::Bool(v), &expected)),
        Plain::Null => Ok(None),
    }
}

fn required<E: de::Error, T>(v: Option<T>, what: &'static str) -> Result<T, E> {
    v.ok_or_else(|| E::invalid_type(Unexpected::Unit, &PlainVisitor(what)))
}

/// A `u32` written as a number.
pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = unsigned(plain(d, "a whole number")?, u32::MAX as u64, "a whole number")?;
    required(v, "a whole number").map(|v| v as u32)
}

/// An optional `u32` written as a number.
pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(unsigned(plain(d, "a whole number")?, u32::MAX as u64, "a whole number")?.map(|v| v as u32))
}

/// An optional `u64` written as a number.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    unsigned(plain(d, "a whole number")?, u64::MAX, "a whole number")
}

/// An `f64` written as a number.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let expected = PlainVisitor("a number");
    match plain(d, "a number")? {
        Plain::Unsigned(v) => Ok(v as f64),
        Plain::Signed(v) => Ok(v as f64),
        Plain::Float(v) => Ok(v),
        Plain::Bool(v) => Err(de::Error::invalid_type(Unexpected::Bool(v), &expected)),
        Plain::Null => Err(de::Error::invalid_type(Unexpected::Unit, &expected)),
    }
}

/// An optional `bool` written as `true` or `false`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let expected = PlainVisitor("true or false");
    match plain(d, "true or false")? {
        Plain::Bool(v) => Ok(Some(v)),
        Plain::Null => Ok(None),
        Plain::Unsigned(v) => Err(de::Error::invalid_type(Unexpected::Unsigned(v), &expected)),
        Plain::Signed(v) => Err(de::Error::invalid_type(Unexpected::Signed(v), &expected)),
        Plain::Float(v) => Err(de::Error::invalid_type(Unexpected::Float(v), &expected)),
    }
}
