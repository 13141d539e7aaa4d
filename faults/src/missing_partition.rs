//! Missing partition: a day's data never arrives, is deleted, or vanishes from the catalog.

use crate::pg::{PgFaultPlan, PgTable};
use crate::select::Selection;
use crate::select::{choose_partitions, files_of};
use crate::{Change, Fault, FaultClass, FaultContext, FaultError, FaultPlan, Footprint, GroundTruth, InvalidParameter};
use lakechaos_lake::layout::partition_prefix;
use lakechaos_lake::parquet_io::footer_of;
use rand_chacha::ChaCha8Rng;
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
    #[serde(default = "one", deserialize_with = "crate::strict::u32")]
    pub partitions: u32,
}

fn one() -> u32 {
    1
}

#[async_trait::async_trait]
impl Fault for MissingPartition {
    fn class(&self) -> FaultClass {
        FaultClass::MissingPartition
    }

    fn mode(&self) -> String {
        crate::snake_name(&self.mode)
    }

    fn footprint(&self) -> Option<Footprint> {
        Some((self.partitions, None))
    }

    fn validate(&self) -> Result<(), InvalidParameter> {
        if self.partitions == 0 {
            return Err(InvalidParameter::new("partitions must be at least 1"));
        }
        Ok(())
    }

    async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        if let Some(table) = crate::iceberg_commit::iceberg_of(ctx) {
            return self.plan_iceberg(ctx, table?).await;
        }
        self.plan_files(ctx).await
    }

    fn postgres_skip_reason(&self) -> Option<String> {
        None
    }

    fn plan_postgres(&self, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
        self.plan_sql(table, rng, tag)
    }

    fn examples(select: &Selection) -> Vec<MissingPartition> {
        [MissingMode::Files, MissingMode::Catalog, MissingMode::Both]
            .into_iter()
            .map(|mode| MissingPartition { mode, partitions: select.partitions })
            .collect()
    }
}

impl MissingPartition {
    async fn plan_files(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
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
                grants: Vec::new(),
                rows_affected: rows,
            },
            changes,
        })
    }
}

/// On an Iceberg table: a commit that deletes the partitions' files from the table (a
/// snapshot without them; the files stay in storage, as Iceberg leaves them until expiry).
/// Every mode means this: an Iceberg table has no partition registry apart from its files.
impl MissingPartition {
    async fn plan_iceberg(
        &self,
        ctx: &mut FaultContext<'_>,
        table: lakechaos_lake::iceberg::IcebergTable,
    ) -> Result<FaultPlan, FaultError> {
        use crate::iceberg_commit::{commit_changes, iceberg_err};
        let chosen = choose_partitions(ctx, self.partitions)?;
        let base = table.current().await.map_err(iceberg_err)?;
        let live = table.live_files(&base.metadata, None).await.map_err(iceberg_err)?;
        let gone: Vec<_> = live.iter().filter(|f| chosen.contains(&f.partition)).collect();
        let remove: std::collections::BTreeSet<String> = gone.iter().map(|f| f.location().to_string()).collect();
        let rows = gone.iter().map(|f| f.data_file.record_count()).sum();
        let files = gone.iter().filter_map(|f| table.key(f.location()).ok()).collect();
        let prepared = table.prepare_rewrite(&base, &remove, Vec::new()).await.map_err(iceberg_err)?;
        Ok(FaultPlan {
            changes: commit_changes(&table, prepared)?,
            ground_truth: GroundTruth {
                kind: FaultClass::MissingPartition,
                mode: crate::snake_name(&self.mode),
                table: ctx.table.name.clone(),
                partitions: chosen.iter().map(|p| partition_prefix(&ctx.table.location, p)).collect(),
                files,
                columns: Vec::new(),
                catalog: Vec::new(),
                grants: Vec::new(),
                rows_affected: rows,
                detail: format!("a snapshot deletes {} partition(s): {}", chosen.len(), chosen.join(", ")),
            },
        })
    }
}

/// On PostgreSQL: the day's rows deleted (`files`), its partition detached (`catalog`) or
/// dropped (`both`).
impl MissingPartition {
    fn plan_sql(&self, table: &PgTable, rng: &mut ChaCha8Rng, tag: &str) -> Result<PgFaultPlan, FaultError> {
        use crate::pg::{draw_days, in_days};
        let (mut p, journal) = crate::pg::start(self, table, tag);
        let l = &table.layout;
        let served = l.served();
        let days = draw_days(table, self.partitions, rng)?;
        p.count = format!("SELECT count(*) FROM {served} WHERE {}", in_days(l, &days));
        match self.mode {
            MissingMode::Files | MissingMode::Both => {
                p.snapshot
                    .push(format!("CREATE TABLE {journal} AS SELECT * FROM {served} WHERE {}", in_days(l, &days)));
                let refill = format!("INSERT INTO {served} SELECT * FROM {journal}");
                if self.mode == MissingMode::Files {
                    p.inject = vec![format!("DELETE FROM {served} WHERE {}", in_days(l, &days))];
                    p.revert = vec![refill];
                    p.ground_truth.detail = format!("rows of {} day(s) deleted", days.len());
                } else {
                    p.inject = days.iter().map(|d| format!("DROP TABLE {}", l.partition(*d))).collect();
                    p.revert = days.iter().map(|d| l.create_partition(*d)).collect();
                    p.revert.push(refill);
                    p.ground_truth.detail = format!("partition(s) of {} day(s) dropped", days.len());
                }
            }
            MissingMode::Catalog => {
                p.inject =
                    days.iter().map(|d| format!("ALTER TABLE {served} DETACH PARTITION {}", l.partition(*d))).collect();
                p.revert = days
                    .iter()
                    .map(|d| format!("ALTER TABLE {served} ATTACH PARTITION {} {}", l.partition(*d), l.bounds(*d)))
                    .collect();
                p.ground_truth.detail = format!("partition(s) of {} day(s) detached", days.len());
            }
        }
        p.ground_truth.partitions = days.iter().map(|d| l.day_location(*d)).collect();
        Ok(p)
    }
}
