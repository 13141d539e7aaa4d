//! Checks of decoded values that a strict reader makes and the decoder does not: a decimal
//! must fit its declared precision (a flipped byte in its pages yields one that does not).

use super::compact::Outcome;
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

/// Checks every column of a decoded batch, nested ones included.
pub fn check_batch(batch: &RecordBatch) -> Outcome<()> {
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        check_array(column.as_ref()).map_err(|e| format!("column {}: {e}", field.name()))?;
    }
    Ok(())
}

fn check_array(array: &dyn Array) -> Outcome<()> {
    let fits = |r: Result<(), arrow_schema::ArrowError>| r.map_err(|e| e.to_string());
    match array.data_type() {
        DataType::Decimal32(p, _) => fits(array.as_primitive::<Decimal32Type>().validate_decimal_precision(*p)),
        DataType::Decimal64(p, _) => fits(array.as_primitive::<Decimal64Type>().validate_decimal_precision(*p)),
        DataType::Decimal128(p, _) => fits(array.as_primitive::<Decimal128Type>().validate_decimal_precision(*p)),
        DataType::Decimal256(p, _) => fits(array.as_primitive::<Decimal256Type>().validate_decimal_precision(*p)),
        DataType::List(_) => check_array(array.as_list::<i32>().values().as_ref()),
        DataType::LargeList(_) => check_array(array.as_list::<i64>().values().as_ref()),
        DataType::FixedSizeList(..) => check_array(array.as_fixed_size_list().values().as_ref()),
        DataType::Map(..) => check_array(array.as_map().entries()),
        DataType::Struct(_) => array.as_struct().columns().iter().try_for_each(|c| check_array(c.as_ref())),
        _ => Ok(()),
    }
}
