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

use crate::aws_guard::{AwsGuardConfig, AwsRun, GuardError};
use crate::runner::stream_seed;
use crate::scenario::{load_paths, Scenario};
use bytes::Bytes;
use lakechaos_faults::{apply, FaultContext, GroundTruth, Journal};
use lakechaos_fixtures::seed_lake;
use lakechaos_lake::{AwsConnection, FileCatalog, Lake, ObjectStore, S3Store};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// Where, inside a game-day lake, the harness keeps its own records (hidden from the healer).
pub const RECORDS: &str = "_lakechaos";

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
    #[error("{stage}: {message}")]
    Failed { stage: &'static str, message: String },
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
}

/// Checks the scenarios and the guard, that every lake is new, then seeds, records and injects
/// each scenario in turn.
pub async fn inject(config: &ChaosConfig, conn: AwsConnection, request: &ChaosRequest) -> Result<ChaosRun, ChaosError> {
    let scenarios = find(config, &request.names()?)?;
    let run = AwsRun::check(config.guard.clone(), conn, request.run_id.clone(), ENVIRONMENT).await?;
    let mut lakes = Vec::with_capacity(scenarios.len());
    for scenario in &scenarios {
        let prefix = run.scenario_prefix(&scenario.name);
        let store = Arc::new(S3Store::connect(run.connection(), run.bucket(), &prefix).await);
        let existing =
            store.list("").await.map_err(|e| ChaosError::Failed { stage: "listing", message: e.to_string() })?;
        if !existing.is_empty() {
            return Err(ChaosError::Exists(format!("s3://{}/{prefix}", run.bucket())));
        }
        lakes.push((prefix, store));
    }
    let mut injected: Vec<ChaosResponse> = Vec::new();
    for (scenario, (prefix, store)) in scenarios.iter().zip(lakes) {
        match inject_one(&run, scenario, request.seed, prefix, store).await {
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

/// Seeds, records and injects one scenario into the new lake at `prefix`.
async fn inject_one(
    run: &AwsRun,
    scenario: &Scenario,
    seed: u64,
    prefix: String,
    store: Arc<S3Store>,
) -> Result<ChaosResponse, ChaosError> {
    let failed = |stage: &'static str| move |e: String| ChaosError::Failed { stage, message: e };
    let url = format!("s3://{}/{prefix}", run.bucket());
    let lake = Lake { catalog: Arc::new(FileCatalog::new(store.clone())), store };
    let seeded = seed_lake(&lake, &scenario.dataset, &scenario.fixture, stream_seed(seed, &scenario.name, "fixture"))
        .await
        .map_err(|e| failed("seed")(e.to_string()))?;
    let golden_key = format!("{RECORDS}/golden.json");
    let golden = serde_json::to_vec(&seeded.golden.record()).map_err(|e| failed("golden manifest")(e.to_string()))?;
    lake.store.put(&golden_key, Bytes::from(golden)).await.map_err(|e| failed("golden manifest")(e.to_string()))?;

    // Plan and journal before touching anything, as the runner does.
    let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, &scenario.name, "fault"));
    let plan = {
        let mut ctx = FaultContext { lake: &lake, table: &seeded.table, rng: &mut rng };
        scenario.fault.plan(&mut ctx).await.map_err(|e| failed("fault")(e.to_string()))?
    };
    let mut journal = Journal::from_plan(&scenario.name, seed, &url, &plan);
    journal.catalog = "file".into();
    let journal_key = format!("{RECORDS}/journal.json");
    let journal_json = serde_json::to_vec_pretty(&journal).map_err(|e| failed("journal")(e.to_string()))?;
    lake.store.put(&journal_key, Bytes::from(journal_json)).await.map_err(|e| failed("journal")(e.to_string()))?;
    apply(&lake, &plan).await.map_err(|e| failed("inject")(e.to_string()))?;
    tracing::info!(scenario = %scenario.name, lake = %url, "fault injected");

    Ok(ChaosResponse {
        scenario: scenario.name.clone(),
        seed,
        lake: url,
        catalog: "file".into(),
        golden: format!("{prefix}/{golden_key}"),
        journal: format!("{prefix}/{journal_key}"),
        rows: seeded.golden.total_rows(),
        ground_truth: plan.ground_truth.clone(),
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
        })
        .collect()
}
