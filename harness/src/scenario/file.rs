//! A scenario as written in YAML. Every field's doc comment is the format reference; unknown
//! fields are rejected everywhere.

use chrono::NaiveDate;
use lakechaos_faults::{strict, FaultSpec};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

/// The top level of a scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Unique name, kebab-case (`corrupt-parquet-truncated-tail`).
    pub name: Spanned<String>,
    /// What the scenario simulates.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags for selecting subsets with `--tag` (`smoke`, fault families).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Capabilities the target must offer: `object-store`, `catalog`. A target without them
    /// reports the scenario skipped.
    #[serde(default)]
    pub needs: Vec<Capability>,
    /// The dataset seeded before the fault. Left out, the scenario is for existing-table mode
    /// (`lakechaos run --lake … --table …`): it breaks a table that already exists.
    #[serde(default)]
    pub fixture: Option<Spanned<FixtureFile>>,
    /// The fault; `kind` selects the family, the other fields are the family's parameters.
    pub fault: Spanned<FaultSpec>,
    /// Deadlines, measured from the start of injection.
    pub slo: SloFile,
    /// What must hold at the end.
    pub expect: ExpectFile,
}

/// What a target can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Object storage with listing by prefix.
    ObjectStore,
    /// A catalog service registering tables and partitions (Glue on AWS and moto; the file
    /// catalog stands in for it on the local target). Without it (LocalStack community) the
    /// lake keeps its table document in the bucket, and scenarios that damage the catalog
    /// itself cannot run.
    Catalog,
    /// Lake Formation grants on the catalog's tables (moto; not LocalStack community, not a
    /// directory lake). Scenarios whose fault acts on grants need it.
    LakeFormation,
    /// Apache Iceberg tables: the scenario's fixture is an Iceberg table (the SQL catalog on
    /// SQLite on the local target, Glue on moto).
    Iceberg,
    /// Storage that keeps earlier object versions (versioned S3 buckets; not a directory).
    ObjectVersions,
}

impl Capability {
    /// The name as scenarios write it.
    pub fn name(self) -> &'static str {
        match self {
            Capability::ObjectStore => "object-store",
            Capability::Catalog => "catalog",
            Capability::LakeFormation => "lake-formation",
            Capability::Iceberg => "iceberg",
            Capability::ObjectVersions => "object-versions",
        }
    }
}

/// `fixture:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureFile {
    /// Dataset generator: `orders` (left out with `profile` or `like`).
    #[serde(default)]
    pub dataset: Option<String>,
    /// A table profile written by `lakechaos fixture describe` (a path relative to the scenario
    /// file): the fixture is generated shaped like the profiled table.
    #[serde(default)]
    pub profile: Option<Spanned<String>>,
    /// A table to profile at every run and generate alike: `DIR/TABLE` or
    /// `s3://BUCKET/PREFIX/TABLE` (file catalog), or a profile file (`*.yaml`).
    #[serde(default)]
    pub like: Option<Spanned<String>>,
    /// Daily partitions (default 7).
    #[serde(default, deserialize_with = "strict::opt_u32")]
    pub days: Option<u32>,
    /// Rows per day (default 10000).
    #[serde(default, deserialize_with = "strict::opt_u32")]
    pub rows_per_day: Option<u32>,
    /// Data files per partition (default 2).
    #[serde(default, deserialize_with = "strict::opt_u32")]
    pub files_per_day: Option<u32>,
    /// Rows per Parquet row group (default 4000).
    #[serde(default, deserialize_with = "strict::opt_u32")]
    pub rows_per_row_group: Option<u32>,
    /// First day (default 2024-03-01).
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Write a raw/landing copy, the healer's source of truth (default true). Without it damage
    /// can be detected but not repaired.
    #[serde(default, deserialize_with = "strict::opt_bool")]
    pub landing: Option<bool>,
    /// Keep object versions where the target's storage can (a versioned S3 bucket; default true).
    /// Without versions and without landing, damage cannot be repaired.
    #[serde(default, deserialize_with = "strict::opt_bool")]
    pub versioning: Option<bool>,
}

/// `slo:` durations such as `250ms`, `2s`, `1m`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloFile {
    /// Time from injection to the first incident matching the damage.
    pub detect_within: Spanned<String>,
    /// Time from injection until the harness's own check against golden passes.
    pub repair_within: Spanned<String>,
}

/// What a scenario expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedOutcome {
    /// Detected within `detect_within` and verified equal to golden within `repair_within`.
    Repaired,
    /// Detected within `detect_within`; the lake is not expected to heal.
    Detected,
    /// Detected within `detect_within`, and every damaged location reported `unrepairable`
    /// within `repair_within` (no good source exists), with the damaged data kept.
    Unrepairable,
}

/// `expect:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFile {
    /// `repaired`, `detected` or `unrepairable`.
    pub outcome: ExpectedOutcome,
    /// Highest acceptable rows lost (default 0 for `repaired`, unchecked otherwise).
    #[serde(default, deserialize_with = "strict::opt_u64")]
    pub rows_lost: Option<u64>,
    /// Highest acceptable incidents that match no injected damage (default 0).
    #[serde(default, deserialize_with = "strict::opt_u64")]
    pub false_incidents: Option<u64>,
}
