//! lakechaos: breaks a data lakehouse on purpose and proves the bundled healer notices and mends
//! each break within an SLO, with nothing lost.
//!
//! The loop, top-down:
//! - [`scenario`]: what a user writes, validated;
//! - [`run`]: suites and the one step sequence every scenario goes through, observed and scored;
//! - [`backend`]: how each step is done on a storage (objects, PostgreSQL);
//! - [`method`]: seed → golden → plan → journal → apply, shared by `run`, `inject` and the chaos
//!   function;
//! - [`targets`]: where lakes live and how their services are started (provisioners, the AWS guard);
//! - [`report`] and [`metrics`]: what a run tells people, CI and dashboards.
//!
//! Around the loop, [`ops`]: game days, the Lambda functions and their deploy, benchmarks.
//!
//! Use it from a `cargo test` suite:
//!
//! ```no_run
//! # async fn t() {
//! let suite = lakechaos::run_paths(&["scenarios".into()], &lakechaos::RunOptions::default()).await.unwrap();
//! suite.assert_all_passed();
//! # }
//! ```

pub mod backend;
pub mod error;
pub mod method;
pub mod metrics;
pub mod ops;
pub mod report;
pub mod run;
pub mod scenario;
pub mod targets;

pub use error::{ScenarioError, Stage};
pub use run::result::{self as result, ScenarioResult, Status, SuiteReport};
pub use run::{run_scenario, run_suite, RunOptions};
pub use scenario::{load_paths, load_paths_with, LoadError, LoadOptions, Scenario};
pub use targets::{Target, TargetOptions};

use std::path::PathBuf;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Scenario files that do not load (each with file:line:col).
    #[error("{} scenario error(s):\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Load(Vec<LoadError>),
    #[error(transparent)]
    Run(#[from] run::RunError),
}

/// Loads every scenario under `paths` and runs them.
pub async fn run_paths(paths: &[PathBuf], opts: &RunOptions) -> Result<SuiteReport, Error> {
    let scenarios = load_paths(paths).map_err(Error::Load)?;
    Ok(run_suite(&scenarios, opts).await?)
}
