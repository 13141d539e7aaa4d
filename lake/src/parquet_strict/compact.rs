//! A bounded reader of Thrift's compact protocol, the encoding of Parquet footers and page
//! headers. It exists because the general Thrift readers trust what they read: they allocate a
//! binary's declared length before checking it against the input (a flipped length byte asks for
//! gigabytes) and decode a field as whatever its id says, whatever its wire type. This one
//! borrows from the input, never allocates from a declared size, and reports wire types so the
//! caller can insist on them.

/// A wire type of the compact protocol (booleans carry their value in the type of a field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Double,
    Binary,
    List,
    Set,
    Map,
    Struct,
}

impl Wire {
    fn from_nibble(n: u8) -> Option<Self> {
        Some(match n {
            1 | 2 => Wire::Bool,
            3 => Wire::I8,
            4 => Wire::I16,
            5 => Wire::I32,
            6 => Wire::I64,
            7 => Wire::Double,
            8 => Wire::Binary,
            9 => Wire::List,
            10 => Wire::Set,
            11 => Wire::Map,
            12 => Wire::Struct,
            _ => return None,
        })
    }
}

/// A field header: its id and wire type, and for a boolean field its value (carried in the type).
#[derive(Clone, Copy, Debug)]
pub struct FieldHeader {
    pub id: i16,
    pub wire: Wire,
    pub bool_value: bool,
}

/// Nesting deeper than this is not a Parquet structure (the deepest is about six).
const MAX_DEPTH: usize = 32;

/// A cursor over compact-protocol bytes.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

pub type Outcome<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn byte(&mut self) -> Outcome<u8> {
        let b = *self.data.get(self.pos).ok_or_else(|| format!("ends early at byte {}", self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Outcome<&'a [u8]> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(format!("needs {n} bytes at byte {} but {left} are left", self.pos));
        }
        let slice = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(slice)
    }

    /// An unsigned varint of at most `bits` bits, in its shortest-but-valid length.
    fn varint(&mut self, bits: u32) -> Outcome<u64> {
        let start = self.pos;
        let max_bytes = bits.div_ceil(7);
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if bits < 64 && value >> bits != 0 {
                    return Err(format!("a {bits}-bit integer at byte {start} overflows"));
                }
                return Ok(value);
            }
        }
        Err(format!("a {bits}-bit integer at byte {start} runs past {max_bytes} bytes"))
    }

    fn zigzag(&mut self, bits: u32) -> Outcome<i64> {
        let v = self.varint(bits)?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    pub fn i32(&mut self) -> Outcome<i32> {
        Ok(self.zigzag(32)? as i32)
    }

    pub fn i64(&mut self) -> Outcome<i64> {
        self.zigzag(64)
    }

    /// A binary or string, borrowed.
    pub fn binary(&mut self) -> Outcome<&'a [u8]> {
        let len = self.varint(32)?;
        self.take(len)
    }

    /// The next field header of a struct, or `None` at its end. `last_id` is the previous
    /// field's id (ids are written as deltas from it).
    pub fn field(&mut self, last_id: i16) -> Outcome<Option<FieldHeader>> {
        let at = self.pos;
        let b = self.byte()?;
        if b == 0 {
            return Ok(None);
        }
        let wire = Wire::from_nibble(b & 0x0f).ok_or_else(|| format!("unknown field type {} at byte {at}", b & 0x0f))?;
        let delta = (b >> 4) as i16;
        let id = if delta == 0 { self.zigzag(16)? as i16 } else { last_id.wrapping_add(delta) };
        Ok(Some(FieldHeader { id, wire, bool_value: b & 0x0f == 1 }))
    }

    /// A list or set header: element type and count. The count is checked against the bytes
    /// left (every element takes at least one), so no caller loops on a forged size.
    pub fn list(&mut self) -> Outcome<(Wire, u64)> {
        let at = self.pos;
        let b = self.byte()?;
        let elem =
            Wire::from_nibble(b & 0x0f).ok_or_else(|| format!("unknown element type {} at byte {at}", b & 0x0f))?;
        let size = if b >> 4 == 15 { self.varint(32)? } else { u64::from(b >> 4) };
        let left = (self.data.len() - self.pos) as u64;
        if size > left {
            return Err(format!("a list at byte {at} declares {size} elements but {left} bytes are left"));
        }
        Ok((elem, size))
    }

    /// A boolean list element (one byte).
    pub fn bool_element(&mut self) -> Outcome<bool> {
        let at = self.pos;
        match self.byte()? {
            1 => Ok(true),
            0 | 2 => Ok(false),
            b => Err(format!("a boolean at byte {at} is {b}")),
        }
    }

    /// Skips one value of a wire type (unknown fields are skipped, as the format allows).
    pub fn skip(&mut self, wire: Wire, depth: usize) -> Outcome<()> {
        if depth > MAX_DEPTH {
            return Err(format!("nesting deeper than {MAX_DEPTH} at byte {}", self.pos));
        }
        match wire {
            Wire::Bool => {
                self.bool_element()?;
            }
            Wire::I8 => {
                self.byte()?;
            }
            Wire::I16 => {
                self.zigzag(16)?;
            }
            Wire::I32 => {
                self.i32()?;
            }
            Wire::I64 => {
                self.i64()?;
            }
            Wire::Double => {
                self.take(8)?;
            }
            Wire::Binary => {
                self.binary()?;
            }
            Wire::List | Wire::Set => {
                let (elem, n) = self.list()?;
                for _ in 0..n {
                    self.skip(elem, depth + 1)?;
                }
            }
            Wire::Map => {
                let n = self.varint(32)?;
                if n > 0 {
                    let kinds = self.byte()?;
                    let key = Wire::from_nibble(kinds >> 4).ok_or("unknown map key type")?;
                    let value = Wire::from_nibble(kinds & 0x0f).ok_or("unknown map value type")?;
                    for _ in 0..n {
                        self.skip(key, depth + 1)?;
                        self.skip(value, depth + 1)?;
                    }
                }
            }
            Wire::Struct => {
                let mut last = 0;
                while let Some(f) = self.field(last)? {
                    if f.wire != Wire::Bool {
                        self.skip(f.wire, depth + 1)?;
                    }
                    last = f.id;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_bounded() {
        // 1 as zigzag i32 is 2.
        assert_eq!(Reader::new(&[2]).i32().unwrap(), 1);
        assert_eq!(Reader::new(&[3]).i32().unwrap(), -2);
        // Six continuation bytes cannot be an i32.
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).i32().is_err());
        // Five bytes whose top bits overflow 32 bits.
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x7f]).i32().is_err());
        assert!(Reader::new(&[0x80]).i32().is_err(), "ends early");
    }

    #[test]
    fn forged_sizes_never_allocate_or_loop() {
        // A binary that claims 2^31 bytes in a 6-byte input.
        let err = Reader::new(&[0x80, 0x80, 0x80, 0x80, 0x08, 0x00]).binary().unwrap_err();
        assert!(err.contains("bytes are left") || err.contains("needs"), "{err}");
        // A list of 2^31 i64s.
        let err = Reader::new(&[0xf6, 0x80, 0x80, 0x80, 0x80, 0x08]).list().unwrap_err();
        assert!(err.contains("declares"), "{err}");
    }

    #[test]
    fn fields_follow_deltas() {
        // field 1 i32 = 1, field 3 (delta 2) i64 = 0, stop.
        let bytes = [0x15, 0x02, 0x26, 0x00, 0x00];
        let mut r = Reader::new(&bytes);
        let f = r.field(0).unwrap().unwrap();
        assert_eq!((f.id, f.wire), (1, Wire::I32));
        r.i32().unwrap();
        let f = r.field(1).unwrap().unwrap();
        assert_eq!((f.id, f.wire), (3, Wire::I64));
        r.i64().unwrap();
        assert!(r.field(3).unwrap().is_none());
        assert_eq!(r.position(), bytes.len());
    }
}
