//! Checking many files at once: a scan's files are independent, and decoding runs on tokio's
//! blocking pool, so checking several at a time uses every core (and overlaps I/O waits on S3).
//! Memory stays bounded: a pages-tier check holds its whole file, so concurrent checks share a
//! budget of bytes in flight (a file larger than the budget is checked alone).

use crate::config::Depth;
use crate::detect::{check_file, FileCheck};
use crate::HealerError;
use futures_util::stream::{self, StreamExt};
use lakechaos_lake::{ObjectMeta, ObjectStore, TableDef};
use std::collections::HashMap;
use tokio::sync::Semaphore;

/// How many files at once, and how many bytes of them in memory at once.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub jobs: usize,
    pub bytes_in_flight: u64,
}

/// Checks every file of `files`, at most `limits.jobs` at a time; the result of each by key.
pub async fn check_files(
    store: &dyn ObjectStore,
    table: &TableDef,
    files: Vec<ObjectMeta>,
    depth: Depth,
    limits: Limits,
) -> HashMap<String, Result<FileCheck, HealerError>> {
    const MIB: u64 = 1 << 20;
    let budget_mib = (limits.bytes_in_flight / MIB).clamp(1, u64::from(u32::MAX >> 3)) as u32;
    let budget = Semaphore::new(budget_mib as usize);
    let budget = &budget;
    stream::iter(files)
        .map(|meta| async move {
            // Only the pages tier holds whole files; footer reads are a few kilobytes.
            let _held = if depth >= Depth::Pages {
                let want = (meta.size / MIB).clamp(1, u64::from(budget_mib)) as u32;
                Some(budget.acquire_many(want).await.expect("the budget is never closed"))
            } else {
                None
            };
            let checked = check_file(store, table, &meta, depth).await;
            (meta.key, checked)
        })
        .buffer_unordered(limits.jobs.max(1))
        .collect()
        .await
}
