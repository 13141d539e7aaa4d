//! Reading a PostgreSQL table's rows back as Arrow batches in contract types, one per day, so
//! they can be digested exactly like the rows of a Parquet file.

use super::{ident, PgLayout};
use crate::contract::{arrow_type, ColumnDef};
use crate::LakeError;
use arrow_array::builder::{ArrayBuilder, BooleanBuilder, Int16Builder, TimestampMicrosecondBuilder};
use arrow_array::builder::{Decimal128Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_postgres::Client;

/// How one contract column is selected and built.
enum Reader {
    Int64,
    Int32,
    Float64,
    Text,
    /// Unscaled integer, precision and scale.
    Decimal(u8, i8),
    /// Microseconds since the epoch, time zone.
    Timestamp(Option<Arc<str>>),
    Boolean,
    Int16,
}

impl Reader {
    fn for_type(dt: &DataType) -> Option<Reader> {
        Some(match dt {
            DataType::Int64 => Reader::Int64,
            DataType::Int32 => Reader::Int32,
            DataType::Float64 => Reader::Float64,
            DataType::Utf8 => Reader::Text,
            DataType::Decimal128(p, s) => Reader::Decimal(*p, *s),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => Reader::Timestamp(tz.clone()),
            DataType::Boolean => Reader::Boolean,
            DataType::Int16 => Reader::Int16,
            _ => return None,
        })
    }

    /// The select expression: values cast to what the builder takes, so a column whose type
    /// drifted is still read (or fails to cast, which is itself the verdict).
    fn select(&self, column: &str) -> String {
        let c = ident(column);
        match self {
            Reader::Int64 => format!("{c}::int8"),
            Reader::Int32 => format!("{c}::int4"),
            Reader::Float64 => format!("{c}::float8"),
            Reader::Text => format!("{c}::text"),
            Reader::Decimal(_, s) => format!("round({c}::numeric * 10 ^ {s})::int8"),
            Reader::Timestamp(_) => format!("(extract(epoch FROM {c}::timestamptz) * 1000000)::int8"),
            Reader::Boolean => format!("{c}::boolean"),
            Reader::Int16 => format!("{c}::int2"),
        }
    }

    fn builder(&self) -> Box<dyn ArrayBuilder> {
        match self {
            Reader::Int64 | Reader::Decimal(..) | Reader::Timestamp(_) => Box::new(Int64Builder::new()),
            Reader::Int32 => Box::new(Int32Builder::new()),
            Reader::Float64 => Box::new(Float64Builder::new()),
            Reader::Text => Box::new(StringBuilder::new()),
            Reader::Boolean => Box::new(BooleanBuilder::new()),
            Reader::Int16 => Box::new(Int16Builder::new()),
        }
    }

    fn append(&self, builder: &mut Box<dyn ArrayBuilder>, row: &tokio_postgres::Row, i: usize) {
        let any = builder.as_any_mut();
        match self {
            Reader::Int64 | Reader::Decimal(..) | Reader::Timestamp(_) => {
                any.downcast_mut::<Int64Builder>().expect("built above").append_option(row.get::<_, Option<i64>>(i))
            }
            Reader::Int32 => {
                any.downcast_mut::<Int32Builder>().expect("built above").append_option(row.get::<_, Option<i32>>(i))
            }
            Reader::Float64 => {
                any.downcast_mut::<Float64Builder>().expect("built above").append_option(row.get::<_, Option<f64>>(i))
            }
            Reader::Text => {
                any.downcast_mut::<StringBuilder>().expect("built above").append_option(row.get::<_, Option<&str>>(i))
            }
            Reader::Boolean => {
                any.downcast_mut::<BooleanBuilder>().expect("built above").append_option(row.get::<_, Option<bool>>(i))
            }
            Reader::Int16 => {
                any.downcast_mut::<Int16Builder>().expect("built above").append_option(row.get::<_, Option<i16>>(i))
            }
        }
    }

    fn finish(&self, mut builder: Box<dyn ArrayBuilder>) -> Result<ArrayRef, LakeError> {
        let array = builder.finish();
        Ok(match self {
            Reader::Decimal(p, s) => {
                let ints = array.as_any().downcast_ref::<arrow_array::Int64Array>().expect("built above");
                let mut b = Decimal128Builder::with_capacity(ints.len());
                for v in ints.iter() {
                    b.append_option(v.map(i128::from));
                }
                Arc::new(b.finish().with_precision_and_scale(*p, *s)?)
            }
            Reader::Timestamp(tz) => {
                let ints = array.as_any().downcast_ref::<arrow_array::Int64Array>().expect("built above");
                let mut b = TimestampMicrosecondBuilder::with_capacity(ints.len());
                for v in ints.iter() {
                    b.append_option(v);
                }
                Arc::new(b.finish().with_timezone_opt(tz.clone()))
            }
            _ => array,
        })
    }
}

/// Reads every row of `table` (quoted, qualified) through the contract, grouped by the day of
/// `layout`'s partition column. Every contract column must exist; values are cast to the
/// contract's types by PostgreSQL.
pub async fn read_days(
    client: &Client,
    layout: &PgLayout,
    table: &str,
    contract: &[ColumnDef],
) -> Result<BTreeMap<NaiveDate, RecordBatch>, LakeError> {
    let mut readers = Vec::with_capacity(contract.len());
    let mut fields = Vec::with_capacity(contract.len());
    let mut selects = vec![layout.day_expr()];
    for c in contract {
        let dt = arrow_type(&c.data_type).ok_or_else(|| {
            LakeError::Catalog(format!("contract type {} of {} is not readable", c.data_type, c.name))
        })?;
        let reader = Reader::for_type(&dt)
            .ok_or_else(|| LakeError::Catalog(format!("no PostgreSQL reader for {} ({})", c.name, c.data_type)))?;
        selects.push(reader.select(&c.name));
        readers.push(reader);
        fields.push(Field::new(&c.name, dt, true));
    }
    let schema = Arc::new(Schema::new(fields));
    let sql = format!("SELECT {} FROM {table}", selects.join(", "));
    let rows = client.query(&sql, &[]).await.map_err(|e| LakeError::Catalog(format!("reading {table}: {e}")))?;
    let mut builders: BTreeMap<NaiveDate, Vec<Box<dyn ArrayBuilder>>> = BTreeMap::new();
    for row in &rows {
        let day: NaiveDate = row.get(0);
        let day_builders = builders.entry(day).or_insert_with(|| readers.iter().map(Reader::builder).collect());
        for (i, (reader, builder)) in readers.iter().zip(day_builders.iter_mut()).enumerate() {
            reader.append(builder, row, i + 1);
        }
    }
    let mut out = BTreeMap::new();
    for (day, day_builders) in builders {
        let columns = readers.iter().zip(day_builders).map(|(r, b)| r.finish(b)).collect::<Result<Vec<_>, _>>()?;
        out.insert(day, RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok(out)
}
