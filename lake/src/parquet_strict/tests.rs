use super::*;
use crate::parquet_io::{write_parquet, writer_properties};
use arrow_array::{Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::file::metadata::ParquetMetaDataReader;
use std::sync::Arc;

fn sample(rows: i64) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("s", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(0..rows)),
            Arc::new(StringArray::from_iter((0..rows).map(|i| (i % 3 != 0).then(|| format!("v{}", i % 7))))),
        ],
    )
    .unwrap();
    write_parquet(schema, &[batch], writer_properties(40)).unwrap().to_vec()
}

fn footer_range(data: &[u8]) -> std::ops::Range<usize> {
    let len = data.len();
    let footer_len = u32::from_le_bytes(data[len - 8..len - 4].try_into().unwrap()) as usize;
    len - 8 - footer_len..len - 8
}

fn check_file(data: &[u8]) -> Outcome<()> {
    let range = footer_range(data);
    check_footer(&data[range.clone()])?;
    let metadata = ParquetMetaDataReader::decode_metadata(&data[range]).map_err(|e| e.to_string())?;
    check_pages(data, &metadata)
}

#[test]
fn a_clean_file_passes() {
    check_file(&sample(100)).unwrap();
    check_file(&sample(0)).unwrap();
}

#[test]
fn a_field_of_another_type_is_refused_though_the_decoder_takes_it() {
    let mut data = sample(100);
    let range = footer_range(&data);
    // FileMetaData opens with field 1 (version) as an i32: header byte 0x15. As an i64 (0x16)
    // the lenient decoder still reads it.
    assert_eq!(data[range.start], 0x15);
    data[range.start] = 0x16;
    assert!(ParquetMetaDataReader::decode_metadata(&data[range.clone()]).is_ok());
    let err = check_footer(&data[range]).unwrap_err();
    assert!(err.contains("FileMetaData.version is encoded as I64, the format says i32"), "{err}");
}

#[test]
fn a_missing_required_field_and_trailing_bytes_are_refused() {
    // version = 1 and nothing else.
    let err = check_footer(&[0x15, 0x02, 0x00]).unwrap_err();
    assert!(err.contains("lacks its required field schema"), "{err}");
    let data = sample(10);
    let range = footer_range(&data);
    let mut longer = data[range].to_vec();
    longer.push(0);
    let err = check_footer(&longer).unwrap_err();
    assert!(err.contains("follow the footer"), "{err}");
}

#[test]
fn pages_must_tile_their_chunk_and_hold_its_values() {
    let data = sample(100);
    let range = footer_range(&data);
    let metadata = ParquetMetaDataReader::decode_metadata(&data[range]).unwrap();
    // Cut the first chunk's bytes off the file: its pages run past it.
    let cc = &metadata.row_groups()[0].columns()[0];
    let start = cc.dictionary_page_offset().filter(|o| *o > 0).unwrap_or(cc.data_page_offset()) as usize;
    let err = check_pages(&data[..start + 3], &metadata).unwrap_err();
    assert!(err.contains("row group 0"), "{err}");
}

/// Every single-byte change of the footer and the first pages is judged without a panic, and
/// quickly; and nothing the lenient decoder refuses is passed as strict.
#[test]
fn every_single_byte_variant_is_judged_without_panic() {
    let data = sample(200);
    let range = footer_range(&data);
    let positions: Vec<usize> = range.clone().chain(4..200.min(range.start)).collect();
    let mut refused = 0;
    for &pos in &positions {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut v = data.clone();
            v[pos] ^= mask;
            let strict = check_file(&v);
            let lenient = ParquetMetaDataReader::decode_metadata(&v[range.clone()]);
            if lenient.is_err() {
                assert!(strict.is_err(), "byte {pos} ^ {mask:#x}: the decoder refuses it, the strict check passes");
            }
            refused += strict.is_err() as usize;
        }
    }
    assert!(refused > positions.len(), "only {refused} of {} variants refused", positions.len() * 3);
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Any bytes as a footer: judged, never a panic, never a hang.
        #[test]
        fn any_footer_bytes_are_judged(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = check_footer(&bytes);
        }

        /// A real file with up to 8 bytes overwritten anywhere: the whole strict pipeline
        /// (footer, page headers, decompressed pages, decoded values) returns a verdict.
        #[test]
        fn a_file_with_random_damage_is_judged(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
            let mut data = sample(120);
            for (at, byte) in edits {
                let i = at.index(data.len());
                data[i] = byte;
            }
            let _ = crate::parquet_io::read_parquet(bytes::Bytes::from(data));
        }
    }
}
