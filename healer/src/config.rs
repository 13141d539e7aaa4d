//! How the healer behaves.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Whether the healer repairs what it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Detect and repair.
    Heal,
    /// Detect and report only; change nothing.
    DetectOnly,
}

/// The deepest detection tier to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Depth {
    /// Listings and catalog only.
    Listing,
    /// Plus footers: magic, schema, statistics.
    Footer,
    /// Plus decoding every page (default).
    Pages,
}

/// A store of its own for quarantined objects (another bucket, with its own retention), instead of
/// the quarantine prefix inside the lake.
#[derive(Clone)]
pub struct QuarantineStore {
    pub store: std::sync::Arc<dyn lakechaos_lake::ObjectStore>,
    /// How repairs name it (`s3://bucket[/prefix]`).
    pub url: String,
}

impl std::fmt::Debug for QuarantineStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// Healer settings.
#[derive(Clone, Debug)]
pub struct HealerConfig {
    pub mode: Mode,
    pub depth: Depth,
    /// Prefix under which quarantined objects and their reason records go.
    pub quarantine_prefix: String,
    /// Quarantine into this store (under `quarantine_prefix`) rather than the lake's own.
    pub quarantine_store: Option<QuarantineStore>,
    /// `watch`: full reconcile pass interval, for what raises no event.
    pub reconcile_every: Duration,
    /// Only these tables (all registered tables when empty).
    pub tables: Vec<String>,
    /// `watch`: an SQS queue receiving the lake bucket's S3 event notifications. Each event
    /// triggers a pass at once (unchanged objects are not read again, so a pass after an event
    /// reads only what changed).
    pub event_queue: Option<lakechaos_lake::EventQueue>,
    /// How many files a scan checks at once (decoding runs on the blocking pool, so pages
    /// tiers use every core); default: the machine's cores, at least 4 (footer reads wait on
    /// I/O more than they compute).
    pub scan_jobs: usize,
    /// The most file bytes a scan holds in memory at once across concurrent checks (a single
    /// larger file is still checked, alone).
    pub scan_bytes_in_flight: u64,
    /// A Glue crawler to start after a pass that repaired partitions or columns, so what
    /// crawls the table (and what reads its crawl) sees the repaired table.
    pub start_crawler: Option<String>,
}

/// The default number of files a scan checks at once.
pub fn default_scan_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(4)
}

impl Default for HealerConfig {
    fn default() -> Self {
        HealerConfig {
            mode: Mode::Heal,
            depth: Depth::Pages,
            quarantine_prefix: lakechaos_lake::layout::QUARANTINE_PREFIX.into(),
            quarantine_store: None,
            reconcile_every: Duration::from_secs(1),
            tables: Vec::new(),
            event_queue: None,
            scan_jobs: default_scan_jobs(),
            scan_bytes_in_flight: 512 << 20,
            start_crawler: None,
        }
    }
}
