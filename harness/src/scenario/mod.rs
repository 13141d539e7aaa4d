//! Scenarios: the YAML a user writes ([`file`]), the validated form the runner uses
//! ([`Scenario`]), and the loader that turns one into the other with located errors ([`load`]).

pub mod file;
pub mod load;
pub mod write;

use lakechaos_faults::FaultSpec;
use lakechaos_fixtures::{OrdersSpec, TableProfile};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

pub use file::{Capability, ExpectedOutcome};
pub use load::{load_paths, load_paths_with, LoadError, LoadOptions};

/// A validated scenario: defaults applied, durations parsed, fault parameters checked.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    /// Unique name (kebab-case).
    pub name: String,
    /// What the scenario simulates, for people.
    pub description: String,
    /// Tags for selecting subsets (`smoke`, fault families).
    pub tags: Vec<String>,
    /// Capabilities a target must offer.
    pub needs: Vec<Capability>,
    /// Dataset to seed.
    pub dataset: String,
    /// Size of the seeded dataset.
    pub fixture: OrdersSpec,
    /// A fixture shaped like a real table (`fixture: {profile: …}` or `{like: …}`) instead of
    /// the `orders` dataset.
    pub like: Option<Like>,
    /// Whether the lake's storage keeps object versions (where the target supports them).
    pub versioning: bool,
    /// The fault to inject.
    pub fault: FaultSpec,
    /// Service-level objectives for detection and repair.
    pub slo: Slo,
    /// What must hold at the end.
    pub expect: Expectations,
    /// File the scenario came from.
    pub source: PathBuf,
    /// Line and column of the scenario's `fault:` (errors found while planning it point here).
    #[serde(skip)]
    pub fault_at: (u64, u64),
    /// Line and column of the scenario's `fixture:`, when it has one; a scenario without one
    /// runs only in existing-table mode.
    #[serde(skip)]
    pub fixture_at: Option<(u64, u64)>,
}

impl Scenario {
    /// The seed of one of the scenario's random streams (`fixture`, `fault`): the same run
    /// seed gives the same fixture and byte-identical faults.
    pub fn stream_seed(&self, run_seed: u64, stream: &str) -> u64 {
        stream_seed(run_seed, &self.name, stream)
    }

    /// `file:line:col` of the scenario's fault, to point errors found while planning it there.
    pub fn fault_location(&self) -> String {
        format!("{}:{}:{}", self.source.display(), self.fault_at.0, self.fault_at.1)
    }

    /// `file:line:col` of the scenario's fixture (or of the file, when it has none).
    pub fn fixture_location(&self) -> String {
        let (line, column) = self.fixture_at.unwrap_or((1, 1));
        format!("{}:{line}:{column}", self.source.display())
    }

    /// How long after injection the expectation is judged: `repair_within` for a repair or an
    /// unrepairable verdict, `detect_within` for detection alone.
    pub fn deadline(&self) -> Duration {
        match self.expect.outcome {
            ExpectedOutcome::Repaired | ExpectedOutcome::Unrepairable => self.slo.repair_within,
            ExpectedOutcome::Detected => self.slo.detect_within,
        }
    }
}

/// Where a fixture shaped like a real table comes from.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Like {
    /// A profile, read with the scenario.
    Profile(TableProfile),
    /// A table profiled when the fixture is seeded: its lake (file catalog) and name.
    Table { lake: String, table: String },
}

/// The seed of one of a scenario's random streams, by the scenario's name.
pub fn stream_seed(run_seed: u64, scenario: &str, stream: &str) -> u64 {
    use lakechaos_fixtures::derive_seed;
    derive_seed(derive_seed(run_seed, scenario), stream)
}

/// Detection and repair deadlines, measured from the start of injection.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    #[serde(with = "duration_ms")]
    pub detect_within: Duration,
    #[serde(with = "duration_ms")]
    pub repair_within: Duration,
}

/// Resolved expectations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Expectations {
    pub outcome: ExpectedOutcome,
    /// Highest acceptable rows lost; `None` means not checked (detect-only expectations).
    pub rows_lost: Option<u64>,
    /// Highest acceptable number of incidents that match no ground truth.
    pub false_incidents: u64,
}

pub(crate) mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Duration::try_from_secs_f64(ms / 1000.0).map_err(serde::de::Error::custom)
    }
}
