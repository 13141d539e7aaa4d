//! What the chaos function records about an injection, in the game-day lake, just before the
//! fault is applied: when it began, when it is due to be judged, and the scenario as it was
//! (the scoring step judges against the SLO and expectations the fault was injected with, even
//! if the function has since been redeployed with other scenario files).

use chrono::{DateTime, Utc};
use lakechaos_lake::layout::HARNESS_RECORDS_PREFIX;
use serde::{Deserialize, Serialize};

/// `_lakechaos/injection.json` of a game-day lake.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InjectionRecord {
    pub run_id: String,
    pub scenario: String,
    pub seed: u64,
    /// The scenario file's name, for reports, and its text.
    pub scenario_file: String,
    pub scenario_text: String,
    /// Taken just before the fault was applied: TTD and TTR are measured from here.
    pub injected_at: DateTime<Utc>,
    /// `injected_at` plus the scenario's deadline: the lake is judged after this.
    pub due_at: DateTime<Utc>,
}

/// The key of a lake's records file `name` (`golden.json`, `journal.json`, `injection.json`),
/// given the lake's root in the bucket.
pub fn record_key(root: &str, name: &str) -> String {
    format!("{}/{HARNESS_RECORDS_PREFIX}/{name}", root.trim_end_matches('/'))
}

/// Where the scoring step keeps the healer incidents it collected for a lake.
pub fn incidents_prefix(root: &str) -> String {
    record_key(root, "incidents/")
}

/// The lake root of an injection record's key (`<root>/_lakechaos/injection.json`).
pub fn root_of_injection(key: &str) -> Option<&str> {
    key.strip_suffix(&format!("/{HARNESS_RECORDS_PREFIX}/{INJECTION}"))
}

pub const INJECTION: &str = "injection.json";
pub const GOLDEN: &str = "golden.json";
pub const JOURNAL: &str = "journal.json";
/// The scoring step's verdict on the lake, kept before it reverts anything.
pub const VERDICT: &str = "verdict.json";
