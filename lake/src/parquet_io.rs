//! Parquet read/write helpers shared by the fixtures, the faults and the healer.

use crate::storage::ObjectStore;
use crate::{LakeError, Result};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader};
use parquet::arrow::{parquet_to_arrow_field_levels, ProjectionMask};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use std::sync::Arc;

/// The four magic bytes at both ends of every Parquet file.
pub const MAGIC: &[u8; 4] = b"PAR1";
/// Length of the footer tail: 4-byte metadata length + magic.
pub const TAIL_LEN: u64 = 8;

/// Writer settings of lakechaos' own files: Snappy (the most common codec in lakes),
/// dictionary encoding on, row groups of `max_row_group_rows` rows so that files have several
/// row groups and pages. Fixed `created_by` keeps files byte-identical across builds.
pub fn writer_properties(max_row_group_rows: usize) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(max_row_group_rows.max(1)))
        .set_data_page_row_count_limit(2048)
        .set_created_by("lakechaos".to_string())
        .build()
}

/// Encodes batches as one Parquet file.
pub fn write_parquet(schema: SchemaRef, batches: &[RecordBatch], props: WriterProperties) -> Result<Bytes> {
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, schema, Some(props))?;
    for b in batches {
        writer.write(b)?;
    }
    writer.close()?;
    Ok(Bytes::from(buf))
}

/// Decodes a whole Parquet file: every page of every column is read and decompressed (and its
/// CRC checked where the writer stored one).
///
/// Some corrupt pages make the decoder panic instead of returning an error (seen with flipped
/// bits in definition levels); corrupt input is this product's daily bread, so a panic while
/// decoding is caught and returned as an error.
pub fn read_parquet(data: Bytes) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut batches = Vec::new();
    let schema = decode_each(data, |b| {
        batches.push(b);
        Ok(())
    })?;
    Ok((schema, batches))
}

/// Decodes every page like [`read_parquet`], handing each batch (8192 rows at most) to `each`
/// instead of keeping them: memory stays one batch however many rows a small file inflates to.
/// `each` may stop the decode with an error (a ceiling on rows, say).
pub fn decode_each(data: Bytes, mut each: impl FnMut(RecordBatch) -> Result<()>) -> Result<SchemaRef> {
    let decode = || -> Result<SchemaRef> {
        // The decoder trusts page headers as it trusts footers; check both strictly first.
        let invalid = |e: String| LakeError::Parquet(parquet::errors::ParquetError::General(e));
        let footer = footer_of(&data).map_err(|p| invalid(p.to_string()))?;
        crate::parquet_strict::check_pages(&data, &footer.metadata).map_err(|e| invalid(format!("page headers: {e}")))?;
        // The decoder reads through page readers that check every decompressed page.
        let levels = parquet_to_arrow_field_levels(
            footer.metadata.file_metadata().schema_descr(),
            ProjectionMask::all(),
            Some(footer.schema.fields()),
        )?;
        let row_groups = crate::parquet_strict::CheckedRowGroups::new(data, footer.metadata.clone());
        let schema = footer.schema.clone();
        for batch in ParquetRecordBatchReader::try_new_with_row_groups(&levels, &row_groups, 8192, None)? {
            let batch = batch?;
            crate::parquet_strict::check_batch(&batch).map_err(invalid)?;
            each(batch)?;
        }
        Ok(schema)
    };
    DECODING.with(|d| d.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    DECODING.with(|d| d.set(false));
    outcome.unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        Err(LakeError::Parquet(parquet::errors::ParquetError::General(format!(
            "decoder failed on corrupt data: {msg}"
        ))))
    })
}

thread_local! {
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs a panic hook that stays silent for decoder panics [`read_parquet`] catches (they are
/// findings, not crashes) and defers to the previous hook for everything else. For binaries.
pub fn quiet_decoder_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !DECODING.with(|d| d.get()) {
            previous(info);
        }
    }));
}

/// Why a footer could not be read. Each is evidence of a corrupt file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FooterProblem {
    #[error("empty object (0 bytes)")]
    Empty,
    #[error("{size} bytes is too small to be a Parquet file (minimum 12)")]
    TooSmall { size: u64 },
    #[error("trailing magic is {found:?}, expected \"PAR1\" (truncated or overwritten tail)")]
    BadTailMagic { found: String },
    #[error("leading magic is {found:?}, expected \"PAR1\"")]
    BadHeadMagic { found: String },
    #[error("footer length {length} does not fit in a {size}-byte file")]
    FooterLengthOutOfRange { length: u64, size: u64 },
    #[error("footer does not decode: {0}")]
    Undecodable(String),
    /// The footer's Thrift encoding breaks the format (a field of the wrong type, a required
    /// field missing, an unknown enum value), even where a lenient decoder would read it.
    #[error("footer is malformed: {0}")]
    Malformed(String),
    #[error("footer schema has no Arrow equivalent: {0}")]
    UnreadableSchema(String),
    /// The footer decodes but contradicts itself or the file (value counts, offsets, sizes): a
    /// reader would fail on the pages it describes, even where the decoder lets it pass.
    #[error("footer is inconsistent: {0}")]
    Inconsistent(String),
}

/// A decoded footer: the file's metadata and the Arrow schema readers would see.
#[derive(Debug, Clone)]
pub struct Footer {
    pub metadata: Arc<ParquetMetaData>,
    pub schema: SchemaRef,
}

/// How much of a file's end the footer read asks for at once: enough for the footers of most
/// files (metadata of a few hundred columns and row groups), so one ranged read usually serves.
pub const SPECULATIVE_TAIL: u64 = 64 << 10;

/// Reads only the footer of a Parquet object: one ranged read of its last
/// [`SPECULATIVE_TAIL`] bytes, and a second only for a larger footer. The leading magic is
/// checked here when that read covers the whole file, else by the pages tier (which reads it
/// all). The outer error is a storage failure; the inner one is what is wrong with the file.
pub async fn read_footer(
    store: &dyn ObjectStore,
    key: &str,
    size: u64,
) -> Result<std::result::Result<Footer, FooterProblem>> {
    if size == 0 {
        return Ok(Err(FooterProblem::Empty));
    }
    if size < 2 * MAGIC.len() as u64 + 4 {
        return Ok(Err(FooterProblem::TooSmall { size }));
    }
    let want = size.min(SPECULATIVE_TAIL);
    let block = store.get_range(key, size - want..size).await?;
    if block.len() as u64 != want {
        return Err(LakeError::NotFound(format!("{key} (changed while it was read)")));
    }
    let tail: [u8; 8] = block[block.len() - 8..].try_into().expect("8 bytes");
    if &tail[4..] != MAGIC {
        return Ok(Err(FooterProblem::BadTailMagic { found: String::from_utf8_lossy(&tail[4..]).into_owned() }));
    }
    let footer_tail = match FooterTail::try_new(&tail) {
        Ok(t) => t,
        Err(e) => return Ok(Err(FooterProblem::Undecodable(e.to_string()))),
    };
    let length = footer_tail.metadata_length() as u64;
    if length + TAIL_LEN + MAGIC.len() as u64 > size {
        return Ok(Err(FooterProblem::FooterLengthOutOfRange { length, size }));
    }
    if want == size && &block[..MAGIC.len()] != MAGIC {
        return Ok(Err(FooterProblem::BadHeadMagic { found: String::from_utf8_lossy(&block[..MAGIC.len()]).into_owned() }));
    }
    let data_end = size - TAIL_LEN - length;
    let meta_bytes = if length + TAIL_LEN <= want {
        block.slice((want - TAIL_LEN - length) as usize..(want - TAIL_LEN) as usize)
    } else {
        store.get_range(key, data_end..size - TAIL_LEN).await?
    };
    Ok(decode_footer(&meta_bytes, data_end))
}

/// Decodes a metadata block (without its 8-byte tail) that starts at byte `data_end` of its file
/// into a [`Footer`], and checks it against itself and the file.
pub fn decode_footer(meta_bytes: &[u8], data_end: u64) -> std::result::Result<Footer, FooterProblem> {
    crate::parquet_strict::check_footer(meta_bytes).map_err(FooterProblem::Malformed)?;
    let metadata =
        ParquetMetaDataReader::decode_metadata(meta_bytes).map_err(|e| FooterProblem::Undecodable(e.to_string()))?;
    check_structure(&metadata, data_end).map_err(FooterProblem::Inconsistent)?;
    crate::parquet_strict::check_arrow_hint(&metadata).map_err(FooterProblem::Malformed)?;
    let metadata = Arc::new(metadata);
    let reader_meta = ArrowReaderMetadata::try_new(metadata.clone(), ArrowReaderOptions::new())
        .map_err(|e| FooterProblem::UnreadableSchema(e.to_string()))?;
    Ok(Footer { metadata, schema: reader_meta.schema().clone() })
}

/// The footer of a file already in memory.
pub fn footer_of(data: &[u8]) -> std::result::Result<Footer, FooterProblem> {
    let size = data.len() as u64;
    if size < 12 {
        return Err(FooterProblem::TooSmall { size });
    }
    let tail: [u8; 8] = data[data.len() - 8..].try_into().expect("slice of 8");
    if &tail[4..] != MAGIC {
        return Err(FooterProblem::BadTailMagic { found: String::from_utf8_lossy(&tail[4..]).into_owned() });
    }
    let length = u32::from_le_bytes(tail[..4].try_into().expect("slice of 4")) as u64;
    if length + 12 > size {
        return Err(FooterProblem::FooterLengthOutOfRange { length, size });
    }
    if &data[..MAGIC.len()] != MAGIC {
        return Err(FooterProblem::BadHeadMagic { found: String::from_utf8_lossy(&data[..MAGIC.len()]).into_owned() });
    }
    decode_footer(&data[(size - 8 - length) as usize..(size - 8) as usize], size - 8 - length)
}

/// What every reader assumes of a footer, checked rather than trusted (a flipped byte can make a
/// field decode as another type, and a lenient decoder then reads zeros): row counts add up, a
/// flat column holds one value per row, and every column chunk lies between the leading magic and
/// the footer (`data_end`).
fn check_structure(metadata: &ParquetMetaData, data_end: u64) -> std::result::Result<(), String> {
    let mut total: i64 = 0;
    for (i, rg) in metadata.row_groups().iter().enumerate() {
        if rg.num_rows() < 0 {
            return Err(format!("row group {i} has {} rows", rg.num_rows()));
        }
        total = total.saturating_add(rg.num_rows());
        for cc in rg.columns() {
            if cc.file_path().is_some() {
                continue; // stored in another file
            }
            let path = cc.column_path().string();
            if cc.column_descr().max_rep_level() == 0 && cc.num_values() != rg.num_rows() {
                return Err(format!(
                    "row group {i}: column {path} holds {} values for {} rows",
                    cc.num_values(),
                    rg.num_rows()
                ));
            }
            // Readers start a chunk at its data page offset, or at its dictionary page where
            // that lies before; both must be inside the data.
            let data_page = cc.data_page_offset();
            let dictionary = cc.dictionary_page_offset().filter(|o| *o > 0);
            for (what, offset) in [("data page", Some(data_page)), ("dictionary page", dictionary)] {
                if let Some(offset) = offset.filter(|o| *o < MAGIC.len() as i64 || *o as u64 >= data_end) {
                    return Err(format!("row group {i}: column {path} puts its {what} at byte {offset}, outside the data"));
                }
            }
            let start = dictionary.filter(|d| *d < data_page).unwrap_or(data_page);
            let size = cc.compressed_size();
            let end = start.checked_add(size);
            if start < MAGIC.len() as i64 || size < 0 || end.is_none_or(|e| e as u64 > data_end) {
                return Err(format!(
                    "row group {i}: column {path} spans bytes {start}..{} of a file whose data ends at {data_end}",
                    end.map(|e| e.to_string()).unwrap_or_else(|| "overflow".into())
                ));
            }
            if rg.num_rows() > 0 && size == 0 {
                return Err(format!("row group {i}: column {path} has no bytes for {} rows", rg.num_rows()));
            }
        }
    }
    let declared = metadata.file_metadata().num_rows();
    if total != declared {
        return Err(format!("the row groups hold {total} rows, the file says {declared}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalStore;
    use arrow_array::{Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    fn sample() -> Bytes {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            ],
        )
        .unwrap();
        write_parquet(schema, &[batch], writer_properties(2)).unwrap()
    }

    #[tokio::test]
    async fn footer_reads_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let data = sample();
        store.put("f.parquet", data.clone()).await.unwrap();
        let footer = read_footer(&store, "f.parquet", data.len() as u64).await.unwrap().unwrap();
        assert_eq!(footer.metadata.file_metadata().num_rows(), 3);
        assert_eq!(footer.metadata.num_row_groups(), 2);

        let truncated = data.slice(..data.len() - 5);
        store.put("t.parquet", truncated.clone()).await.unwrap();
        let problem = read_footer(&store, "t.parquet", truncated.len() as u64).await.unwrap().unwrap_err();
        assert!(matches!(problem, FooterProblem::BadTailMagic { .. }), "{problem}");
        assert!(footer_of(&truncated).is_err());

        // Both the ranged and the in-memory reader refuse a file whose leading magic is gone.
        let mut bad_head = data.to_vec();
        bad_head[..4].copy_from_slice(b"XXXX");
        store.put("h.parquet", Bytes::from(bad_head.clone())).await.unwrap();
        let problem = read_footer(&store, "h.parquet", bad_head.len() as u64).await.unwrap().unwrap_err();
        assert!(matches!(problem, FooterProblem::BadHeadMagic { .. }), "{problem}");
        assert!(matches!(footer_of(&bad_head), Err(FooterProblem::BadHeadMagic { .. })));

        let (schema, batches) = read_parquet(data).unwrap();
        assert_eq!(schema.fields().len(), 2);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    }
}
