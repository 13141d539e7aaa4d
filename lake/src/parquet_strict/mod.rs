//! Strict validation of a Parquet file's Thrift structures: the footer and every page header.
//!
//! Decoders are lenient on purpose (they read a field by its id whatever its wire type, skip
//! what they do not know, and default what is missing), so a flipped byte can turn a field into
//! another type and the file still "decodes" — into zeros that a stricter reader then refuses.
//! A healer must be at least as strict as the strictest mainstream reader: here every known
//! field must carry the wire type the format gives it, required fields must be present and
//! appear once, enums must hold known values, and the page headers of every column chunk must
//! tile it exactly and hold the values its footer promises.

mod arrow_hint;
mod checked_reader;
mod codec_size;
mod compact;
mod page_content;
mod structs;
mod values;

pub use arrow_hint::check as check_arrow_hint;
pub use checked_reader::CheckedRowGroups;
pub use values::check_batch;

use compact::{Outcome, Reader, Wire};
use parquet::basic::Compression;
use parquet::file::metadata::ParquetMetaData;
use structs::{FieldDef, Kind, StructDef};

/// Checks a footer's metadata block (the bytes between the data and the 8-byte tail).
pub fn check_footer(meta_bytes: &[u8]) -> Outcome<()> {
    let mut r = Reader::new(meta_bytes);
    let top = read_struct(&mut r, &structs::FILE_META_DATA, 0, false)?;
    // Bytes after the metadata are only legitimate as the signature of a signed plaintext
    // footer, which an encrypted file (field 8) carries.
    let left = meta_bytes.len() - r.position();
    if left > 0 && !top.has(8) {
        return Err(format!("{left} byte(s) follow the footer's metadata"));
    }
    Ok(())
}

/// Walks the page headers of every column chunk of `data` (the whole file) as `metadata`
/// describes it: each header strict, the pages exactly filling the chunk, a dictionary page only
/// first, and the data pages holding the chunk's value count.
pub fn check_pages(data: &[u8], metadata: &ParquetMetaData) -> Outcome<()> {
    for (g, rg) in metadata.row_groups().iter().enumerate() {
        for cc in rg.columns() {
            if cc.file_path().is_some() {
                continue; // its pages are in another file
            }
            let data_page = cc.data_page_offset();
            let dictionary = cc.dictionary_page_offset().filter(|o| *o > 0);
            let start = dictionary.filter(|d| *d < data_page).unwrap_or(data_page);
            let (Ok(start), Ok(size)) = (usize::try_from(start), usize::try_from(cc.compressed_size())) else {
                return Err(format!("row group {g}: column chunk at a negative offset or size"));
            };
            let Some(chunk) = start.checked_add(size).and_then(|end| data.get(start..end)) else {
                return Err(format!("row group {g}: column chunk at byte {start} runs past the file"));
            };
            let in_chunk = |e: String| format!("row group {g}, column {}: {e}", cc.column_path().string());
            let first_data_page = check_chunk(chunk, start, cc.compression(), cc.num_values()).map_err(in_chunk)?;
            // The data page offset names the first data page; writers that leave out the
            // dictionary page offset point it at the dictionary page, the chunk's start.
            let named_start = dictionary.is_none() && data_page as usize == start;
            if first_data_page.is_some_and(|p| p as i64 != data_page) && !named_start {
                return Err(in_chunk(format!(
                    "its data page offset is {data_page}, its first data page is at byte {}",
                    first_data_page.unwrap_or_default()
                )));
            }
        }
    }
    Ok(())
}

/// Walks one column chunk's pages; returns the offset of its first data page.
fn check_chunk(chunk: &[u8], offset: usize, codec: Compression, num_values: i64) -> Outcome<Option<usize>> {
    let mut pos = 0;
    let mut first_data_page = None;
    let mut values: i64 = 0;
    let mut pages = 0;
    while pos < chunk.len() {
        let at = offset + pos;
        let mut r = Reader::new(&chunk[pos..]);
        let header = read_struct(&mut r, &structs::PAGE_HEADER, 0, true).map_err(|e| format!("page at byte {at}: {e}"))?;
        let (page_type, raw_size, size) = (header.int(1), header.int(2), header.int(3));
        if size < 0 || raw_size < 0 {
            return Err(format!("page at byte {at} has a negative size"));
        }
        let body = pos + r.position();
        let Some(next) = body.checked_add(size as usize).filter(|n| *n <= chunk.len()) else {
            return Err(format!("page at byte {at} ({size} bytes) runs past its column chunk"));
        };
        // Bytes before the compressed part (a v2 page's levels) and whether it is compressed.
        let (mut levels_len, mut compressed) = (0, true);
        let page_values = match page_type {
            0 => {
                let h = header.child(5).ok_or_else(|| format!("data page at byte {at} has no data page header"))?;
                h.int(1)
            }
            2 => {
                if pages > 0 {
                    return Err(format!("dictionary page at byte {at} is not the chunk's first page"));
                }
                let h = header.child(7).ok_or_else(|| format!("dictionary page at byte {at} has no header"))?;
                if h.int(1) < 0 {
                    return Err(format!("dictionary page at byte {at} holds {} values", h.int(1)));
                }
                0
            }
            3 => {
                let h = header.child(8).ok_or_else(|| format!("v2 data page at byte {at} has no header"))?;
                let (n, nulls, rows) = (h.int(1), h.int(2), h.int(3));
                let levels = h.int(5).checked_add(h.int(6)).unwrap_or(-1);
                if nulls < 0 || rows < 0 || nulls > n || levels < 0 || levels > size {
                    return Err(format!(
                        "v2 data page at byte {at}: {n} values, {nulls} nulls, {rows} rows, {levels} level bytes of {size}"
                    ));
                }
                (levels_len, compressed) = (levels, h.int_or(7, 1) == 1);
                n
            }
            _ => 0, // index pages hold no values
        };
        if page_values < 0 {
            return Err(format!("page at byte {at} holds {page_values} values"));
        }
        if codec == Compression::UNCOMPRESSED && page_type != 3 && raw_size != size {
            return Err(format!("uncompressed page at byte {at} is {size} bytes but says {raw_size}"));
        }
        if compressed && raw_size > levels_len {
            let body = &chunk[body + levels_len as usize..next];
            codec_size::check(codec, body, (raw_size - levels_len) as usize).map_err(|e| format!("page at byte {at}: {e}"))?;
        }
        if matches!(page_type, 0 | 3) {
            first_data_page.get_or_insert(at);
        }
        values = values.saturating_add(page_values);
        pages += 1;
        pos = next;
    }
    if values != num_values {
        return Err(format!("its pages hold {values} values, its footer says {num_values}"));
    }
    Ok(first_data_page)
}

/// What was read of a struct: which known fields were present, and (when collected) its integer
/// fields and nested structs.
#[derive(Debug, Default)]
struct Node {
    present: u32,
    ints: Vec<(i16, i64)>,
    children: Vec<(i16, Node)>,
    def: Option<&'static StructDef>,
}

impl Node {
    fn has(&self, id: i16) -> bool {
        self.def.and_then(|d| d.fields.iter().position(|f| f.id == id)).is_some_and(|i| self.present & (1 << i) != 0)
    }

    /// An integer (or boolean) field (0 when absent: only asked of required fields, checked
    /// present; [`Node::int_or`] for optional ones).
    fn int(&self, id: i16) -> i64 {
        self.int_or(id, 0)
    }

    fn int_or(&self, id: i16, default: i64) -> i64 {
        self.ints.iter().find(|(i, _)| *i == id).map(|(_, v)| *v).unwrap_or(default)
    }

    fn child(&self, id: i16) -> Option<&Node> {
        self.children.iter().find(|(i, _)| *i == id).map(|(_, n)| n)
    }
}

fn expected_wire(kind: &Kind) -> Wire {
    match kind {
        Kind::Bool => Wire::Bool,
        Kind::I8 => Wire::I8,
        Kind::I16 => Wire::I16,
        Kind::I32 | Kind::Enum(..) => Wire::I32,
        Kind::I64 => Wire::I64,
        Kind::Double => Wire::Double,
        Kind::Binary => Wire::Binary,
        Kind::Struct(_) => Wire::Struct,
        Kind::List(_) => Wire::List,
    }
}

fn read_struct(r: &mut Reader, def: &'static StructDef, depth: usize, collect: bool) -> Outcome<Node> {
    let mut node = Node { def: Some(def), ..Node::default() };
    let mut last = 0;
    while let Some(f) = r.field(last)? {
        last = f.id;
        let Some(index) = def.fields.iter().position(|d| d.id == f.id) else {
            if f.wire != Wire::Bool {
                r.skip(f.wire, depth + 1)?;
            }
            continue;
        };
        let field = &def.fields[index];
        if node.present & (1 << index) != 0 {
            return Err(format!("{}.{} appears twice", def.name, field.name));
        }
        node.present |= 1 << index;
        if f.wire != expected_wire(&field.kind) {
            return Err(format!("{}.{} is encoded as {:?}, the format says {}", def.name, field.name, f.wire, field.kind.describe()));
        }
        if f.wire == Wire::Bool {
            if collect {
                node.ints.push((f.id, i64::from(f.bool_value)));
            }
            continue;
        }
        read_value(r, def, field, &field.kind, depth, collect, &mut node)?;
    }
    if let Some(missing) = def.fields.iter().enumerate().find(|(i, f)| f.required && node.present & (1 << i) == 0) {
        return Err(format!("{} lacks its required field {}", def.name, missing.1.name));
    }
    Ok(node)
}

fn read_value(
    r: &mut Reader,
    owner: &StructDef,
    field: &FieldDef,
    kind: &Kind,
    depth: usize,
    collect: bool,
    node: &mut Node,
) -> Outcome<()> {
    let value = match kind {
        Kind::Bool => i64::from(r.bool_element()?),
        Kind::I8 | Kind::I16 | Kind::Double | Kind::Binary => {
            r.skip(expected_wire(kind), depth)?;
            return Ok(());
        }
        Kind::I32 => i64::from(r.i32()?),
        Kind::Enum(name, max) => {
            let v = r.i32()?;
            if !(0..=*max).contains(&v) {
                return Err(format!("{}.{} = {v} is not a known {name}", owner.name, field.name));
            }
            i64::from(v)
        }
        Kind::I64 => r.i64()?,
        Kind::Struct(def) => {
            let child = read_struct(r, def, depth + 1, collect)?;
            if collect {
                node.children.push((field.id, child));
            }
            return Ok(());
        }
        Kind::List(elem) => {
            let (wire, n) = r.list()?;
            if wire != expected_wire(elem) {
                return Err(format!("{}.{} lists {wire:?} elements, the format says {}", owner.name, field.name, elem.describe()));
            }
            for _ in 0..n {
                // Elements are not collected: only footers hold lists, and they are decoded again.
                read_value(r, owner, field, elem, depth + 1, false, node)?;
            }
            return Ok(());
        }
    };
    if collect {
        node.ints.push((field.id, value));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
