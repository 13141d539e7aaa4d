//! Missing partition: a day's data never arrives, is deleted, or vanishes from the catalog.

use crate::select::{choose_partitions, files_of};
use crate::{Change, FaultClass, FaultContext, FaultError, FaultPlan, GroundTruth};
use lakechaos_lake::layout::partition_prefix;
use lakechaos_lake::parquet_io::footer_of;
use serde::{Deserialize, Serialize};

/// What goes missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingMode {
    /// The partition's data files are gone; the catalog still lists it.
    Files,
    /// The catalog entry is gone; the files are still there.
    Catalog,
    /// Both.
    Both,
}

/// `kind: missing_partition`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingPartition {
    /// `files`, `catalog` or `both`.
    pub mode: MissingMode,
    /// Number of partitions that go missing (default 1).
    #[serde(default = "one")]
    pub partitions: u32,
}

fn one() -> u32 {
    1
}

impl MissingPartition {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.partitions == 0 {
            return Err("partitions must be at least 1".into());
        }
        Ok(())
    }

    pub(crate) async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        let chosen = choose_partitions(ctx, self.partitions)?;
        let mut changes = Vec::new();
        let mut files = Vec::new();
        let mut rows = 0u64;
        for partition in &chosen {
            for obj in files_of(ctx, partition).await? {
                let data = ctx.lake.store.get(&obj.key).await?;
                rows += footer_of(&data).map(|f| f.metadata.file_metadata().num_rows().max(0) as u64).unwrap_or(0);
                files.push(obj.key.clone());
                if self.mode != MissingMode::Catalog {
                    changes.push(Change::Object { key: obj.key, before: Some(data), after: None });
                }
            }
        }
        if self.mode != MissingMode::Files {
            let mut after = ctx.table.clone();
            for p in &chosen {
                after.partitions.remove(p);
            }
            changes.push(Change::CatalogTable { before: Box::new(ctx.table.clone()), after: Box::new(after) });
        }
        let mode = crate::snake_name(&self.mode);
        Ok(FaultPlan {
            ground_truth: GroundTruth {
                kind: FaultClass::MissingPartition,
                detail: format!("{} of {} partition(s) gone: {}", mode, chosen.len(), chosen.join(", ")),
                mode,
                table: ctx.table.name.clone(),
                partitions: chosen.iter().map(|p| partition_prefix(&ctx.table.location, p)).collect(),
                files,
                columns: Vec::new(),
                catalog: Vec::new(),
                rows_affected: rows,
            },
            changes,
        })
    }
}
