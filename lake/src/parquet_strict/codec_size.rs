//! The decompressed size a compressed page records in its own stream, where its codec records
//! one, against the size its header declares. Snappy is the case that matters: the decoder
//! sizes its output from the header and pads, so a page header whose size was changed still
//! decodes, into trailing zeros, where a strict reader refuses it.

use super::compact::Outcome;
use parquet::basic::Compression;

/// Checks that `body`, compressed with `codec`, inflates to `declared` bytes (where the stream
/// says); codecs whose streams do not say are checked by their decoder.
pub fn check(codec: Compression, body: &[u8], declared: usize) -> Outcome<()> {
    let recorded = match codec {
        Compression::SNAPPY => Some(snap::raw::decompress_len(body).map_err(|e| format!("snappy: {e}"))?),
        Compression::ZSTD(_) => zstd::zstd_safe::get_frame_content_size(body).ok().flatten().map(|n| n as usize),
        _ => None,
    };
    match recorded {
        Some(n) if n != declared => Err(format!("inflates to {n} bytes, its header says {declared}")),
        _ => Ok(()),
    }
}
