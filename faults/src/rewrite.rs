//! Decode-transform-encode of one data file, keeping the original's row-group size.

use crate::FaultError;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use lakechaos_lake::parquet_io::{footer_of, read_parquet, write_parquet, writer_properties};

/// A decoded data file.
pub struct Decoded {
    pub batch: RecordBatch,
    /// Rows per row group in the original, reused when writing the damaged copy.
    pub row_group_rows: usize,
}

/// Decodes a healthy file into one batch. Faults damage healthy files only.
pub fn decode(key: &str, data: &Bytes) -> Result<Decoded, FaultError> {
    let footer =
        footer_of(data).map_err(|p| FaultError::NotApplicable(format!("{key} is not readable Parquet: {p}")))?;
    let row_group_rows = footer.metadata.row_groups().iter().map(|rg| rg.num_rows()).max().unwrap_or(1).max(1) as usize;
    let (schema, batches) = read_parquet(data.clone())?;
    let batch = arrow_select_concat(&schema, &batches)?;
    Ok(Decoded { batch, row_group_rows })
}

fn arrow_select_concat(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch, FaultError> {
    Ok(arrow_select::concat::concat_batches(schema, batches)?)
}

/// Encodes a batch with the file's original row-group size.
pub fn encode(batch: &RecordBatch, row_group_rows: usize) -> Result<Bytes, FaultError> {
    Ok(write_parquet(batch.schema(), std::slice::from_ref(batch), writer_properties(row_group_rows))?)
}
