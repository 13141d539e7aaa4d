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
use std::sync::Arc;
use tokio::sync::Semaphore;

/// How many files at once, and how many bytes of them in memory at once.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub jobs: usize,
    pub bytes_in_flight: u64,
}

/// Checks every file of `files`, at most `limits.jobs` at a time; the result of each by key.
/// Each check is a task of its own, so footer checks (a local read and a decode of a few
/// kilobytes, done in the task) also spread over the runtime's threads.
pub async fn check_files(
    store: Arc<dyn ObjectStore>,
    table: &TableDef,
    files: Vec<ObjectMeta>,
    depth: Depth,
    limits: Limits,
) -> HashMap<String, Result<FileCheck, HealerError>> {
    const MIB: u64 = 1 << 20;
    // Permits are MiB, as many as both the semaphore and `acquire_many_owned` (a u32) can count.
    let most = (Semaphore::MAX_PERMITS as u64).min(u64::from(u32::MAX));
    let budget_mib = (limits.bytes_in_flight / MIB).clamp(1, most) as u32;
    let budget = Arc::new(Semaphore::new(budget_mib as usize));
    let table = Arc::new(table.clone());
    stream::iter(files)
        .map(|meta| {
            let (store, table, budget) = (store.clone(), table.clone(), budget.clone());
            let key = meta.key.clone();
            let task = tokio::spawn(async move {
                // Only the pages tier holds whole files; footer reads are a few kilobytes.
                let _held = if depth >= Depth::Pages {
                    let want = (meta.size / MIB).clamp(1, u64::from(budget_mib)) as u32;
                    Some(budget.acquire_many_owned(want).await.expect("the budget is never closed"))
                } else {
                    None
                };
                check_file(store.as_ref(), &table, &meta, depth).await
            });
            async move {
                let checked = match task.await {
                    Ok(checked) => checked,
                    // A panic while checking one file is that file's error, not the scan's end.
                    Err(e) => Err(HealerError::Invalid(format!("{key}: the check stopped: {e}"))),
                };
                (key, checked)
            }
        })
        .buffer_unordered(limits.jobs.max(1))
        .collect()
        .await
}
