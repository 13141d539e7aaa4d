//! The contents of decompressed pages, checked page by page where the decoder is lenient:
//! repetition and definition levels (every level within its column's maximum, as many levels as
//! the page holds values: the decoder reads a level above the maximum as "null" and goes on) and
//! dictionary pages (as many values as their header says, inside the page: the decoder keeps
//! the values it could read).

use super::compact::Outcome;
use parquet::basic::{Encoding, Type};
use parquet::column::page::Page;
use parquet::schema::types::ColumnDescriptor;

/// What a page check needs to know of its column.
pub struct Column {
    max_rep: i16,
    max_def: i16,
    physical: Type,
    /// The byte width of a fixed-length byte array.
    width: i32,
}

impl Column {
    pub fn of(descr: &ColumnDescriptor) -> Self {
        Column {
            max_rep: descr.max_rep_level(),
            max_def: descr.max_def_level(),
            physical: descr.physical_type(),
            width: descr.type_length(),
        }
    }
}

/// Checks one decompressed page of `column`.
pub fn check_page(page: &Page, column: &Column) -> Outcome<()> {
    let (max_rep, max_def) = (column.max_rep, column.max_def);
    match page {
        Page::DataPage { buf, num_values, def_level_encoding, rep_level_encoding, .. } => {
            let mut rest = &buf[..];
            for (what, max, encoding) in [("repetition", max_rep, rep_level_encoding), ("definition", max_def, def_level_encoding)] {
                if max == 0 {
                    continue;
                }
                if *encoding != Encoding::RLE {
                    return Ok(()); // the deprecated bit-packed levels: their width bounds them
                }
                let len = rest.get(..4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
                let levels = len.and_then(|n| rest.get(4..4 + n)).ok_or_else(|| format!("{what} levels run past the page"))?;
                check_rle(levels, max, *num_values as usize).map_err(|e| format!("{what} levels: {e}"))?;
                rest = &rest[4 + levels.len()..];
            }
            Ok(())
        }
        Page::DataPageV2 { buf, num_values, def_levels_byte_len, rep_levels_byte_len, .. } => {
            let (rep_len, def_len) = (*rep_levels_byte_len as usize, *def_levels_byte_len as usize);
            let rep = buf.get(..rep_len).ok_or("repetition levels run past the page")?;
            let def = buf.get(rep_len..rep_len + def_len).ok_or("definition levels run past the page")?;
            if max_rep > 0 {
                check_rle(rep, max_rep, *num_values as usize).map_err(|e| format!("repetition levels: {e}"))?;
            }
            if max_def > 0 {
                check_rle(def, max_def, *num_values as usize).map_err(|e| format!("definition levels: {e}"))?;
            }
            Ok(())
        }
        Page::DictionaryPage { buf, num_values, encoding, .. } => {
            if matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
                check_plain_values(buf, *num_values as usize, column).map_err(|e| format!("dictionary: {e}"))?;
            }
            Ok(())
        }
    }
}

/// PLAIN-encoded values: `count` of them must fit in `buf` (byte arrays are walked).
fn check_plain_values(buf: &[u8], count: usize, column: &Column) -> Outcome<()> {
    let fixed = match column.physical {
        Type::BOOLEAN => count.div_ceil(8),
        Type::INT32 | Type::FLOAT => count.saturating_mul(4),
        Type::INT64 | Type::DOUBLE => count.saturating_mul(8),
        Type::INT96 => count.saturating_mul(12),
        Type::FIXED_LEN_BYTE_ARRAY => count.saturating_mul(column.width.max(0) as usize),
        Type::BYTE_ARRAY => {
            let mut pos = 0usize;
            for i in 0..count {
                let len = buf.get(pos..pos + 4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
                let end = len.and_then(|n| pos.checked_add(4 + n)).filter(|e| *e <= buf.len());
                pos = end.ok_or_else(|| format!("value {i} of {count} runs past the page"))?;
            }
            return Ok(());
        }
    };
    if fixed > buf.len() {
        return Err(format!("{count} values need {fixed} bytes, the page has {}", buf.len()));
    }
    Ok(())
}

/// Walks an RLE/bit-packed hybrid run list of levels of width enough for `max`: the first
/// `count` levels must exist and none may exceed `max`.
fn check_rle(bytes: &[u8], max: i16, count: usize) -> Outcome<()> {
    let width = (16 - max.leading_zeros()) as usize;
    let max = max as u64;
    let (mut pos, mut seen) = (0usize, 0usize);
    while seen < count {
        let (header, used) = varint(&bytes[pos.min(bytes.len())..])
            .ok_or_else(|| format!("{seen} of {count} levels, then the runs end"))?;
        pos += used;
        if header & 1 == 0 {
            // A run of one value, stored in whole bytes.
            let run = (header >> 1) as usize;
            let value_len = width.div_ceil(8);
            let value = bytes.get(pos..pos + value_len).ok_or("a run's value runs past the levels")?;
            let value = value.iter().rev().fold(0u64, |v, b| v << 8 | u64::from(*b));
            if value > max && run > 0 {
                return Err(format!("level {value} above the maximum {max}"));
            }
            pos += value_len;
            seen = seen.saturating_add(run);
        } else {
            // Groups of eight bit-packed values, least significant bit first.
            let values = ((header >> 1) as usize).saturating_mul(8);
            let len = values.saturating_mul(width).div_ceil(8);
            let packed = bytes.get(pos..pos.saturating_add(len)).ok_or("bit-packed levels run past the page")?;
            for i in 0..values.min(count - seen) {
                let value = (0..width).fold(0u64, |v, b| {
                    let bit = i * width + b;
                    v | (u64::from(packed[bit / 8] >> (bit % 8) & 1) << b)
                });
                if value > max {
                    return Err(format!("level {value} above the maximum {max}"));
                }
            }
            pos += len;
            seen = seen.saturating_add(values);
        }
    }
    Ok(())
}

/// An unsigned LEB128 varint of at most 5 bytes, and its length.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().take(5).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::check_rle;

    #[test]
    fn runs_and_packed_groups_are_bounded_by_the_maximum() {
        // A run of 8 ones (header 8 << 1 = 16), max 1.
        check_rle(&[16, 1], 1, 8).unwrap();
        assert!(check_rle(&[16, 254], 1, 8).unwrap_err().contains("254"));
        // One bit-packed group of 8 two-bit values (header 1 << 1 | 1 = 3): 3 exceeds max 2.
        check_rle(&[3, 0b1001_0010, 0, 0b0010_0001, 0], 2, 8).unwrap();
        assert!(check_rle(&[3, 0b0000_0011, 0, 0, 0], 2, 8).is_err());
        // Fewer levels than values.
        assert!(check_rle(&[4, 1], 1, 8).unwrap_err().contains("2 of 8"));
        // A run count that overflows still ends.
        assert!(check_rle(&[0xff, 0xff, 0xff, 0xff, 0x0f], 1, 8).is_err());
    }
}
