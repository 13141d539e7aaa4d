//! The chaos function: an invocation `{"scenario": NAME, "seed": 7, "run_id": "gd-1"}` (or
//! `{"scenarios": [A, B]}`, as the Terraform module's game-day schedule sends it) seeds each
//! scenario's fixture into a fresh game-day lake at `s3://BUCKET/PREFIX/<run-id>/<scenario>/`
//! (the file catalog inside it, so the lake is self-contained and the function needs no Glue
//! rights), writes the golden manifest (with its row hashes) and the journal under `_lakechaos/` there, and injects the
//! fault. The healer function heals what the lake's S3 events lead it to; `lakechaos` can verify
//! against the golden manifest and revert from the journal afterwards.
//!
//! The guard is the aws target's: the caller's account must be in `LAKECHAOS_ALLOW_ACCOUNTS`,
//! the bucket must exist, and every key written is under the prefix; nothing is written before
//! these checks pass.
//!
//! Environment: `LAKECHAOS_ALLOW_ACCOUNTS` (comma-separated), `LAKECHAOS_BUCKET`,
//! `LAKECHAOS_PREFIX`, `LAKECHAOS_SCENARIOS` (default: `scenarios/` beside the executable, as the
//! deploy command packs it).

use super::injection::{record_key, InjectionRecord, GOLDEN, INJECTION};
use crate::error::ScenarioError;
use crate::method::{self, LakeRecords, Method};
use crate::scenario::{load_paths, Scenario};
use crate::targets::aws_guard::{AwsGuardConfig, AwsRun, GuardError};
use lakechaos_faults::GroundTruth;
use lakechaos_lake::{AwsConnection, CatalogKind, Lake, LakeError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where, inside a game-day lake, the harness keeps its own records (hidden from the healer).
pub const RECORDS: &str = lakechaos_lake::layout::HARNESS_RECORDS_PREFIX;

/// The function's settings.
#[derive(Clone, Debug)]
pub struct ChaosConfig {
    pub guard: AwsGuardConfig,
    pub scenarios: PathBuf,
}

/// Why an injection did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("unknown scenario {name:?}; known: {}", known.join(", "))]
    UnknownScenario { name: String, known: Vec<String> },
    #[error("{0} already holds a lake: choose another run_id (nothing was written)")]
    Exists(String),
    #[error("an invocation names a scenario (\"scenario\": NAME) or several (\"scenarios\": [...])")]
    NoScenario,
    #[error("{failed}: {source} (already injected in this run: {})", if done.is_empty() { "none".to_string() } else { done.join(", ") })]
    Partial {
        done: Vec<String>,
        failed: String,
        #[source]
        source: Box<ChaosError>,
    },
    #[error("{lake}: {source}")]
    Store {
        lake: String,
        #[source]
        source: LakeError,
    },
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

const ENVIRONMENT: &str = "the function's environment (LAKECHAOS_*)";

impl ChaosConfig {
    /// From the function's environment.
    pub fn from_env() -> Result<ChaosConfig, ChaosError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let need = |name: &str| var(name).ok_or_else(|| ChaosError::Config(format!("{name} is not set")));
        let guard = AwsGuardConfig {
            allow_accounts: need("LAKECHAOS_ALLOW_ACCOUNTS")?.split(',').map(|a| a.trim().to_string()).collect(),
            bucket: need("LAKECHAOS_BUCKET")?,
            prefix: need("LAKECHAOS_PREFIX")?,
            region: None,
            profile: None,
            glue_database_prefix: "lakechaos_".into(),
            events_queue_url: None,
        }
        .checked(ENVIRONMENT)?;
        let scenarios = match var("LAKECHAOS_SCENARIOS") {
            Some(dir) => PathBuf::from(dir),
            None => std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|d| d.join("scenarios")))
                .unwrap_or_else(|| PathBuf::from("scenarios")),
        };
        Ok(ChaosConfig { guard, scenarios })
    }
}

/// An invocation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaosRequest {
    #[serde(default)]
    pub scenario: Option<String>,
    #[serde(default)]
    pub scenarios: Vec<String>,
    /// The run seed (fixture and fault streams derive from it and the scenario name).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Default: from the clock (`run-<UTC>`).
    #[serde(default)]
    pub run_id: Option<String>,
}

fn default_seed() -> u64 {
    7
}

impl ChaosRequest {
    /// The scenarios named, in order.
    pub fn names(&self) -> Result<Vec<String>, ChaosError> {
        let names: Vec<String> = self.scenario.iter().chain(&self.scenarios).cloned().collect();
        if names.is_empty() {
            return Err(ChaosError::NoScenario);
        }
        Ok(names)
    }
}

/// What one invocation injected: every scenario under one run id.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChaosRun {
    pub account: String,
    pub run_id: String,
    pub injected: Vec<ChaosResponse>,
}

/// What was injected into one lake, and where to look.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChaosResponse {
    pub scenario: String,
    pub seed: u64,
    /// `s3://bucket/prefix/<run>/<scenario>`.
    pub lake: String,
    /// `file`: the catalog is `_catalog/` inside the lake.
    pub catalog: String,
    /// Keys (in the bucket) of the golden manifest and the journal.
    pub golden: String,
    pub journal: String,
    pub rows: u64,
    pub ground_truth: GroundTruth,
    /// When the fault began to be applied, and when the scoring step judges the lake.
    pub injected_at: chrono::DateTime<chrono::Utc>,
    pub due_at: chrono::DateTime<chrono::Utc>,
}

/// Checks the scenarios and the guard, that every lake is new, then seeds, records and injects
/// each scenario in turn.
pub async fn inject(config: &ChaosConfig, conn: AwsConnection, request: &ChaosRequest) -> Result<ChaosRun, ChaosError> {
    let scenarios = find(config, &request.names()?)?;
    let run = AwsRun::check(config.guard.clone(), conn, request.run_id.clone(), ENVIRONMENT).await?;
    let mut lakes = Vec::with_capacity(scenarios.len());
    for scenario in &scenarios {
        let prefix = run.scenario_prefix(&scenario.name);
        let lake = Lake::open_s3(run.connection(), run.bucket(), &prefix, &CatalogKind::File).await;
        let url = format!("s3://{}/{prefix}", run.bucket());
        let existing = lake.store.list("").await.map_err(|source| ChaosError::Store { lake: url.clone(), source })?;
        if !existing.is_empty() {
            return Err(ChaosError::Exists(url));
        }
        lakes.push((prefix, lake));
    }
    let mut injected: Vec<ChaosResponse> = Vec::new();
    for (scenario, (prefix, lake)) in scenarios.iter().zip(lakes) {
        match inject_one(&run, scenario, request.seed, prefix, lake).await {
            Ok(done) => injected.push(done),
            Err(e) => {
                return Err(ChaosError::Partial {
                    done: injected.into_iter().map(|i| i.scenario).collect(),
                    failed: scenario.name.clone(),
                    source: Box::new(e),
                })
            }
        }
    }
    Ok(ChaosRun { account: run.account().to_string(), run_id: run.run_id().to_string(), injected })
}

/// Seeds, records and injects one scenario into the new lake at `prefix`, through the method
/// every injection uses; the injection record is written after the journal and before the
/// fault is applied.
async fn inject_one(
    run: &AwsRun,
    scenario: &Scenario,
    seed: u64,
    prefix: String,
    lake: Lake,
) -> Result<ChaosResponse, ChaosError> {
    let url = format!("s3://{}/{prefix}", run.bucket());
    let records = LakeRecords { store: lake.store.clone(), prefix: RECORDS.into() };
    let at = method::Target { lake: &lake, address: &url, catalog: "file" };
    let method = Method { scenario, seed };
    let seeded = method.seed(&lake, &records).await?;
    let planned = method.plan(&at, &seeded.table, &[], &records).await?;
    let scenario_text = std::fs::read_to_string(&scenario.source)
        .map_err(|e| ChaosError::Config(format!("{}: {e}", scenario.source.display())))?;
    let injected_at = chrono::Utc::now();
    let record = InjectionRecord {
        run_id: run.run_id().to_string(),
        scenario: scenario.name.clone(),
        seed,
        scenario_file: scenario.source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        scenario_text,
        injected_at,
        due_at: injected_at + chrono::Duration::from_std(scenario.deadline()).unwrap_or(chrono::Duration::MAX),
    };
    let key = format!("{RECORDS}/{INJECTION}");
    let json = serde_json::to_vec_pretty(&record).expect("a record serialises");
    lake.store.put(&key, json.into()).await.map_err(|source| ChaosError::Store { lake: url.clone(), source })?;
    method.apply(&lake, &planned).await?;
    tracing::info!(scenario = %scenario.name, lake = %url, "fault injected");
    Ok(ChaosResponse {
        scenario: scenario.name.clone(),
        seed,
        lake: url,
        catalog: "file".into(),
        golden: record_key(&prefix, GOLDEN),
        journal: format!("{prefix}/{}", planned.journal_at),
        rows: seeded.golden.total_rows(),
        ground_truth: planned.ground_truth().clone(),
        injected_at,
        due_at: record.due_at,
    })
}

/// The scenarios named, among those packed with the function (all must exist).
fn find(config: &ChaosConfig, names: &[String]) -> Result<Vec<Scenario>, ChaosError> {
    let scenarios = load_paths(std::slice::from_ref(&config.scenarios))
        .map_err(|errors| ChaosError::Config(errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")))?;
    let known: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    names
        .iter()
        .map(|name| {
            scenarios
                .iter()
                .find(|s| &s.name == name)
                .cloned()
                .ok_or_else(|| ChaosError::UnknownScenario { name: name.clone(), known: known.clone() })
                .and_then(|s| {
                    // Game-day lakes are Parquet lakes with the file catalog.
                    if s.needs.contains(&crate::scenario::Capability::Iceberg) {
                        Err(ChaosError::Config(format!(
                            "scenario {name} needs an Iceberg table; game days seed Parquet lakes"
                        )))
                    } else {
                        Ok(s)
                    }
                })
        })
        .collect()
}
