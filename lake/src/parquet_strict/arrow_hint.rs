//! The Arrow schema Arrow-based writers embed in the footer (`ARROW:schema`, base64 of an IPC
//! schema message). Readers use it to restore types; the strictest refuse a file whose hint
//! is damaged (an unsupported metadata version, a missing schema, a decimal of impossible
//! precision), where a lenient one quietly falls back or reads it anyway.

use super::compact::Outcome;
use arrow_ipc::MetadataVersion;
use arrow_schema::{DataType, Field};
use base64::Engine;
use parquet::file::metadata::ParquetMetaData;

const KEY: &str = "ARROW:schema";

/// Checks the embedded Arrow schema, where there is one.
pub fn check(metadata: &ParquetMetaData) -> Outcome<()> {
    let Some(pairs) = metadata.file_metadata().key_value_metadata() else { return Ok(()) };
    for kv in pairs.iter().filter(|kv| kv.key == KEY) {
        let value = kv.value.as_deref().ok_or_else(|| format!("{KEY} has no value"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|e| format!("{KEY} is not base64: {e}"))?;
        // An IPC message may start with a continuation marker and its length, which must fit.
        let message = if bytes.len() > 8 && bytes[..4] == [0xff; 4] {
            let declared = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")) as usize;
            bytes.get(8..8 + declared).ok_or_else(|| format!(
                "{KEY} declares a {declared}-byte message in {} bytes",
                bytes.len() - 8
            ))?
        } else {
            &bytes[..]
        };
        let message = arrow_ipc::root_as_message(message).map_err(|e| format!("{KEY} is not an IPC message: {e}"))?;
        if message.version() < MetadataVersion::V4 || message.version() > MetadataVersion::V5 {
            return Err(format!("{KEY} has IPC metadata version {:?}, not V4 or V5", message.version()));
        }
        let schema = message.header_as_schema().ok_or_else(|| format!("{KEY} holds no schema"))?;
        let schema = arrow_ipc::convert::try_fb_to_schema(schema).map_err(|e| format!("{KEY}: {e}"))?;
        for field in schema.fields() {
            check_field(field)?;
        }
    }
    Ok(())
}

fn check_field(field: &Field) -> Outcome<()> {
    let bad = |what: String| Err(format!("{KEY}: column {} is {what}", field.name()));
    match field.data_type() {
        DataType::Decimal32(p, s) if !(1..=9).contains(p) || *s as i16 > *p as i16 => bad(format!("decimal({p}, {s})")),
        DataType::Decimal64(p, s) if !(1..=18).contains(p) || *s as i16 > *p as i16 => bad(format!("decimal({p}, {s})")),
        DataType::Decimal128(p, s) if !(1..=38).contains(p) || *s as i16 > *p as i16 => bad(format!("decimal({p}, {s})")),
        DataType::Decimal256(p, s) if !(1..=76).contains(p) || *s as i16 > *p as i16 => bad(format!("decimal({p}, {s})")),
        DataType::FixedSizeBinary(w) if *w < 0 => bad(format!("fixed-size binary of width {w}")),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::Map(f, _) => check_field(f),
        DataType::Struct(fields) => fields.iter().try_for_each(|f| check_field(f)),
        _ => Ok(()),
    }
}
