//! Corrupt Parquet: damage at the byte level, as interrupted uploads, bad disks and buggy
//! writers leave it.

use crate::select::{choose_files, Selection};
use crate::{Change, Fault, FaultClass, FaultContext, FaultError, FaultPlan, Footprint, GroundTruth, InvalidParameter};
use bytes::Bytes;
use lakechaos_lake::parquet_io::{footer_of, read_parquet};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How the bytes are damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorruptMode {
    /// The last `bytes` bytes are cut off (an interrupted upload).
    TruncateTail,
    /// The `PAR1` magic at the head or the tail is overwritten.
    BadMagic,
    /// The 4-byte footer length points outside the file.
    CorruptFooterLength,
    /// `bits` bits flip inside one data page; the footer stays intact, so only decoding the
    /// pages finds it.
    BitFlipPage,
    /// The object is replaced by an empty one.
    ZeroByte,
}

/// Which magic `bad_magic` overwrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MagicEnd {
    Head,
    Tail,
}

/// `kind: corrupt_parquet`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorruptParquet {
    /// `truncate_tail`, `bad_magic`, `corrupt_footer_length`, `bit_flip_page` or `zero_byte`.
    pub mode: CorruptMode,
    /// `truncate_tail` only: bytes cut from the end (default 64).
    #[serde(default, deserialize_with = "crate::strict::opt_u64")]
    pub bytes: Option<u64>,
    /// `bit_flip_page` only: bits flipped (default 8).
    #[serde(default, deserialize_with = "crate::strict::opt_u32")]
    pub bits: Option<u32>,
    /// `bad_magic` only: `head` or `tail` (default `tail`).
    #[serde(default)]
    pub at: Option<MagicEnd>,
    /// Which files are damaged.
    #[serde(default)]
    pub select: Selection,
}

/// Attempts at a page bit flip before giving up: a flip that lands in value bytes of an
/// unchecksummed page can decode silently, which no reader could ever notice, so such draws are
/// discarded and drawn again (deterministically, from the same seed).
const MAX_FLIP_ATTEMPTS: u32 = 64;

#[async_trait::async_trait]
impl Fault for CorruptParquet {
    fn class(&self) -> FaultClass {
        FaultClass::CorruptParquet
    }

    fn mode(&self) -> String {
        crate::snake_name(&self.mode)
    }

    fn footprint(&self) -> Option<Footprint> {
        Some((self.select.partitions, Some(self.select.files)))
    }

    fn validate(&self) -> Result<(), InvalidParameter> {
        self.check()
    }

    async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        self.plan_files(ctx).await
    }

    fn postgres_skip_reason(&self) -> Option<String> {
        Some(
            "corrupt Parquet has no meaning on PostgreSQL: rows live in pages PostgreSQL writes and checksums \
             itself, not in files an upload can cut short"
                .into(),
        )
    }

    fn examples(select: &Selection) -> Vec<CorruptParquet> {
        [
            (CorruptMode::TruncateTail, None),
            (CorruptMode::BadMagic, Some(MagicEnd::Tail)),
            (CorruptMode::BadMagic, Some(MagicEnd::Head)),
            (CorruptMode::CorruptFooterLength, None),
            (CorruptMode::BitFlipPage, None),
            (CorruptMode::ZeroByte, None),
        ]
        .into_iter()
        .map(|(mode, at)| CorruptParquet { mode, bytes: None, bits: None, at, select: select.clone() })
        .collect()
    }
}

impl CorruptParquet {
    fn check(&self) -> Result<(), InvalidParameter> {
        if self.bytes.is_some() && self.mode != CorruptMode::TruncateTail {
            return Err(InvalidParameter::new("bytes is only valid with mode: truncate_tail"));
        }
        if self.bits.is_some() && self.mode != CorruptMode::BitFlipPage {
            return Err(InvalidParameter::new("bits is only valid with mode: bit_flip_page"));
        }
        if self.at.is_some() && self.mode != CorruptMode::BadMagic {
            return Err(InvalidParameter::new("at is only valid with mode: bad_magic"));
        }
        if self.bytes == Some(0) {
            return Err(InvalidParameter::new("bytes must be at least 1"));
        }
        if matches!(self.bits, Some(0) | Some(65..)) {
            return Err(InvalidParameter::new("bits must be between 1 and 64"));
        }
        Ok(())
    }

    async fn plan_files(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        let files = choose_files(ctx, &self.select).await?;
        let mut changes = Vec::new();
        let mut rows = 0u64;
        let mut detail = String::new();
        for f in &files {
            let before = ctx.lake.store.get(&f.meta.key).await?;
            let footer = footer_of(&before)
                .map_err(|p| FaultError::NotApplicable(format!("{} is already unreadable: {p}", f.meta.key)))?;
            rows += footer.metadata.file_metadata().num_rows().max(0) as u64;
            let (after, what) = self.damage(&before, ctx)?;
            detail = what;
            changes.push(Change::Object { key: f.meta.key.clone(), before: Some(before), after: Some(after) });
        }
        let ground_truth = GroundTruth::for_files(
            ctx.table,
            FaultClass::CorruptParquet,
            crate::snake_name(&self.mode),
            &files,
            Vec::new(),
            rows,
            detail,
        );
        Ok(FaultPlan { changes, ground_truth })
    }

    fn damage(&self, data: &Bytes, ctx: &mut FaultContext<'_>) -> Result<(Bytes, String), FaultError> {
        let size = data.len();
        match self.mode {
            CorruptMode::ZeroByte => Ok((Bytes::new(), format!("replaced {size} bytes by an empty object"))),
            CorruptMode::TruncateTail => {
                let cut = self.bytes.unwrap_or(64) as usize;
                if cut >= size {
                    return Err(FaultError::NotApplicable(format!("cannot cut {cut} bytes from a {size}-byte file")));
                }
                Ok((data.slice(..size - cut), format!("cut the last {cut} of {size} bytes")))
            }
            CorruptMode::BadMagic => {
                let mut out = data.to_vec();
                let at = self.at.unwrap_or(MagicEnd::Tail);
                let start = match at {
                    MagicEnd::Head => 0,
                    MagicEnd::Tail => size - 4,
                };
                // Random bytes that are never the magic itself.
                for (i, b) in out[start..start + 4].iter_mut().enumerate() {
                    *b = b"PAR1"[i] ^ ctx.rng.random_range(1..=255u8);
                }
                Ok((
                    Bytes::from(out),
                    format!("overwrote the {} magic", if at == MagicEnd::Head { "leading" } else { "trailing" }),
                ))
            }
            CorruptMode::CorruptFooterLength => {
                let mut out = data.to_vec();
                let bogus = (size as u32).saturating_add(ctx.rng.random_range(1..1_000_000u32));
                out[size - 8..size - 4].copy_from_slice(&bogus.to_le_bytes());
                Ok((Bytes::from(out), format!("set the footer length to {bogus} in a {size}-byte file")))
            }
            CorruptMode::BitFlipPage => self.flip_page_bits(data, ctx),
        }
    }

    fn flip_page_bits(&self, data: &Bytes, ctx: &mut FaultContext<'_>) -> Result<(Bytes, String), FaultError> {
        let footer = footer_of(data).map_err(|p| FaultError::NotApplicable(p.to_string()))?;
        let meta = &footer.metadata;
        let bits = self.bits.unwrap_or(8);
        // Data pages of every column chunk: from the first data page to the chunk's end
        // (dictionary pages sit before the first data page and are left alone).
        let mut chunks = Vec::new();
        for (rg_idx, rg) in meta.row_groups().iter().enumerate() {
            for (col_idx, col) in rg.columns().iter().enumerate() {
                let start = col.data_page_offset().max(0) as usize;
                let chunk_start = col.dictionary_page_offset().unwrap_or(col.data_page_offset()).max(0) as usize;
                let end = chunk_start + col.compressed_size().max(0) as usize;
                if end > start + 16 && end <= data.len() {
                    chunks.push((rg_idx, col_idx, col.column_path().string(), start, end));
                }
            }
        }
        if chunks.is_empty() {
            return Err(FaultError::NotApplicable("no data pages to corrupt".into()));
        }
        for _ in 0..MAX_FLIP_ATTEMPTS {
            let (rg, _col, name, start, end) = chunks[ctx.rng.random_range(0..chunks.len())].clone();
            let mut out = data.to_vec();
            let mut offsets = Vec::new();
            for _ in 0..bits {
                let off = ctx.rng.random_range(start..end);
                out[off] ^= 1 << ctx.rng.random_range(0..8u32);
                offsets.push(off);
            }
            let out = Bytes::from(out);
            let footer_intact = footer_of(&out).is_ok();
            if footer_intact && read_parquet(out.clone()).is_err() {
                offsets.sort_unstable();
                return Ok((
                    out,
                    format!("flipped {bits} bit(s) in column {name}, row group {rg}, at offsets {offsets:?}"),
                ));
            }
        }
        Err(FaultError::NotApplicable(format!("no detectable page corruption found in {MAX_FLIP_ATTEMPTS} draws")))
    }
}
