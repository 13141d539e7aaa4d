//! Which partitions and files a fault damages, drawn from the run's seed.

use crate::{FaultContext, FaultError};
use lakechaos_lake::layout::{parse_data_key, partition_prefix};
use lakechaos_lake::ObjectMeta;
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

/// How much of the table a fault touches. The partitions and files themselves are drawn from the
/// run's seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Number of partitions to damage (default 1).
    #[serde(default = "one", deserialize_with = "crate::strict::u32")]
    pub partitions: u32,
    /// Number of data files to damage in each chosen partition (default 1).
    #[serde(default = "one", deserialize_with = "crate::strict::u32")]
    pub files: u32,
}

fn one() -> u32 {
    1
}

impl Default for Selection {
    fn default() -> Self {
        Selection { partitions: 1, files: 1 }
    }
}

/// A chosen data file.
#[derive(Clone, Debug)]
pub struct ChosenFile {
    /// Partition path relative to the table (`dt=2024-01-01`).
    pub partition: String,
    pub meta: ObjectMeta,
}

/// Draws `n` distinct registered partitions, in sorted order.
pub fn choose_partitions(ctx: &mut FaultContext<'_>, n: u32) -> Result<Vec<String>, FaultError> {
    let all: Vec<&String> = ctx.table.partitions.iter().collect();
    if n == 0 || n as usize > all.len() {
        return Err(FaultError::NotApplicable(format!(
            "asked for {n} partition(s) of {}, which has {}",
            ctx.table.name,
            all.len()
        )));
    }
    let mut idx = sample(ctx.rng, all.len(), n as usize).into_vec();
    idx.sort_unstable();
    Ok(idx.into_iter().map(|i| all[i].clone()).collect())
}

/// The data files of one partition, sorted by key. On an Iceberg table these are the files its
/// current snapshot serves: a file of an older snapshot, or one no commit references, breaks no
/// reader.
pub async fn files_of(ctx: &FaultContext<'_>, partition: &str) -> Result<Vec<ObjectMeta>, FaultError> {
    if let Some(table) = crate::iceberg_commit::iceberg_of(ctx) {
        return live_files_of(&table?, partition).await;
    }
    let prefix = format!("{}/", partition_prefix(&ctx.table.location, partition));
    let depth = ctx.table.partition_keys.len();
    Ok(ctx
        .lake
        .store
        .list(&prefix)
        .await?
        .into_iter()
        .filter(|o| parse_data_key(&ctx.table.location, depth, &o.key).is_some_and(|(p, _)| p == partition))
        .collect())
}

/// The live data files of one partition of an Iceberg table's current snapshot.
async fn live_files_of(
    table: &lakechaos_lake::iceberg::IcebergTable,
    partition: &str,
) -> Result<Vec<ObjectMeta>, FaultError> {
    let lost = |e: lakechaos_lake::iceberg::IcebergError| FaultError::Lake(e.into());
    let base = table.current().await.map_err(lost)?;
    let mut out = Vec::new();
    for f in table.live_files(&base.metadata, None).await.map_err(lost)? {
        if f.partition != partition {
            continue;
        }
        let key = table.key(f.location()).map_err(lost)?;
        // A live file already gone is not there to damage (missing_data_file finds those).
        if let Some(meta) = table.store.head(&key).await? {
            out.push(meta);
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Draws files per the selection: `partitions` partitions, `files` files in each.
pub async fn choose_files(ctx: &mut FaultContext<'_>, sel: &Selection) -> Result<Vec<ChosenFile>, FaultError> {
    let partitions = choose_partitions(ctx, sel.partitions)?;
    let mut out = Vec::new();
    for partition in partitions {
        let files = files_of(ctx, &partition).await?;
        if sel.files == 0 || sel.files as usize > files.len() {
            return Err(FaultError::NotApplicable(format!(
                "asked for {} file(s) in {partition}, which has {}",
                sel.files,
                files.len()
            )));
        }
        let mut idx = sample(ctx.rng, files.len(), sel.files as usize).into_vec();
        idx.sort_unstable();
        for i in idx {
            out.push(ChosenFile { partition: partition.clone(), meta: files[i].clone() });
        }
    }
    Ok(out)
}
