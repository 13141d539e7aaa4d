//! Data files as Iceberg wants them: Parquet whose columns carry the table schema's field ids
//! (readers match columns by id, not name), described by a [`DataFile`] entry with the
//! statistics the healer reads without opening the file (value and null counts per field id).
//! Also the mapping between Arrow types and Iceberg types, and a table's contract.

use super::IcebergError;
use crate::contract::ColumnDef;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema as ArrowSchema, TimeUnit};
use bytes::Bytes;
use iceberg::spec::{
    DataContentType, DataFile, DataFileBuilder, DataFileFormat, NestedField, PrimitiveType, Schema, Struct, Type,
};
use parquet::arrow::PARQUET_FIELD_ID_META_KEY;
use parquet::file::properties::WriterProperties;
use std::collections::HashMap;
use std::sync::Arc;

/// The Iceberg type of an Arrow type lakechaos writes.
pub fn iceberg_type(dt: &DataType) -> Result<PrimitiveType, IcebergError> {
    Ok(match dt {
        DataType::Boolean => PrimitiveType::Boolean,
        DataType::Int8 | DataType::Int16 | DataType::Int32 => PrimitiveType::Int,
        DataType::Int64 => PrimitiveType::Long,
        DataType::Float32 => PrimitiveType::Float,
        DataType::Float64 => PrimitiveType::Double,
        DataType::Utf8 | DataType::LargeUtf8 => PrimitiveType::String,
        DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8) => PrimitiveType::String,
        DataType::Binary | DataType::LargeBinary => PrimitiveType::Binary,
        DataType::Date32 => PrimitiveType::Date,
        DataType::Decimal128(p, s) if *s >= 0 => PrimitiveType::Decimal { precision: *p as u32, scale: *s as u32 },
        DataType::Timestamp(TimeUnit::Microsecond, None) => PrimitiveType::Timestamp,
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => PrimitiveType::Timestamptz,
        other => return Err(IcebergError::Unsupported(format!("no Iceberg type for Arrow type {other}"))),
    })
}

/// An Iceberg schema (ids from 1, in order) for an Arrow schema.
pub fn iceberg_schema(arrow: &ArrowSchema) -> Result<Schema, IcebergError> {
    let mut fields = Vec::new();
    for (i, f) in arrow.fields().iter().enumerate() {
        let t = Type::Primitive(iceberg_type(f.data_type())?);
        let id = i as i32 + 1;
        let field = if f.is_nullable() {
            NestedField::optional(id, f.name(), t)
        } else {
            NestedField::required(id, f.name(), t)
        };
        fields.push(Arc::new(field));
    }
    Schema::builder().with_fields(fields).build().map_err(|e| super::error::writing("schema", e))
}

/// The contract's logical type of an Iceberg type, as data files of it read in Arrow; `None` for
/// nested types (lists, maps, structs), which the contract does not describe.
pub fn logical_of(t: &Type) -> Option<String> {
    let Type::Primitive(p) = t else { return None };
    Some(match p {
        PrimitiveType::Boolean => "bool".into(),
        PrimitiveType::Int => "int32".into(),
        PrimitiveType::Long => "int64".into(),
        PrimitiveType::Float => "float32".into(),
        PrimitiveType::Double => "float64".into(),
        PrimitiveType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        PrimitiveType::Date => "date".into(),
        PrimitiveType::Timestamp => "timestamp[us]".into(),
        PrimitiveType::Timestamptz => "timestamp[us, UTC]".into(),
        PrimitiveType::TimestampNs => "timestamp[ns]".into(),
        PrimitiveType::TimestamptzNs => "timestamp[ns, UTC]".into(),
        PrimitiveType::String => "string".into(),
        PrimitiveType::Binary | PrimitiveType::Fixed(_) | PrimitiveType::Uuid => "binary".into(),
        PrimitiveType::Time => "time64[us]".into(),
    })
}

/// Table property naming a column's allowed share of nulls (default: none for required
/// columns, any for optional ones): `lakechaos.max-null-fraction.COLUMN`.
pub const MAX_NULL_FRACTION_PROPERTY: &str = "lakechaos.max-null-fraction.";

/// The contract of an Iceberg schema: its primitive top-level columns, with null allowances
/// from the table's properties.
pub fn contract_of(schema: &Schema, properties: &HashMap<String, String>) -> Vec<ColumnDef> {
    schema
        .as_struct()
        .fields()
        .iter()
        .filter_map(|f| {
            let data_type = logical_of(&f.field_type)?;
            let declared = properties
                .get(&format!("{MAX_NULL_FRACTION_PROPERTY}{}", f.name))
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| (0.0..=1.0).contains(v));
            let max_null_fraction = declared.unwrap_or(if f.required { 0.0 } else { 1.0 });
            Some(ColumnDef { name: f.name.clone(), data_type, nullable: !f.required, max_null_fraction })
        })
        .collect()
}

/// Writes `batch` as a data file of `schema` (columns matched by name) in partition
/// `partition` of spec `spec_id`, to be placed at `location`.
pub fn write_data_file(
    schema: &Schema,
    spec_id: i32,
    batch: &RecordBatch,
    partition: Struct,
    location: &str,
) -> Result<(Bytes, DataFile), IcebergError> {
    let mut fields = Vec::new();
    let mut ids = Vec::new();
    let mut columns = Vec::new();
    for (f, column) in batch.schema().fields().iter().zip(batch.columns()) {
        // Iceberg has no dictionary type: the values' type is written (the encoding stays a
        // Parquet matter), so no reader is told of a type the table does not have.
        let (data_type, column) = match f.data_type() {
            DataType::Dictionary(_, value) => {
                (value.as_ref().clone(), arrow_cast::cast(column, value).map_err(crate::LakeError::from)?)
            }
            other => (other.clone(), column.clone()),
        };
        columns.push(column);
        let field = schema
            .field_by_name(f.name())
            .ok_or_else(|| IcebergError::Unsupported(format!("column {} is not in the table's schema", f.name())))?;
        ids.push(field.id);
        let metadata = HashMap::from([(PARQUET_FIELD_ID_META_KEY.to_string(), field.id.to_string())]);
        fields.push(Field::new(f.name(), data_type, f.is_nullable()).with_metadata(metadata));
    }
    let arrow = Arc::new(ArrowSchema::new(fields));
    let batch = RecordBatch::try_new(arrow.clone(), columns).map_err(crate::LakeError::from)?;
    let bytes =
        crate::parquet_io::write_parquet(arrow, std::slice::from_ref(&batch), WriterProperties::builder().build())?;
    let rows = batch.num_rows() as u64;
    let mut value_counts = HashMap::new();
    let mut null_value_counts = HashMap::new();
    for (id, column) in ids.iter().zip(batch.columns()) {
        value_counts.insert(*id, rows);
        null_value_counts.insert(*id, column.null_count() as u64);
    }
    let data_file = DataFileBuilder::default()
        .content(DataContentType::Data)
        .file_path(location.to_string())
        .file_format(DataFileFormat::Parquet)
        .partition(partition)
        .record_count(rows)
        .file_size_in_bytes(bytes.len() as u64)
        .value_counts(value_counts)
        .null_value_counts(null_value_counts)
        .partition_spec_id(spec_id)
        .build()
        .map_err(|e| IcebergError::Unsupported(format!("data file entry: {e}")))?;
    Ok((bytes, data_file))
}
