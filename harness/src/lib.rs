//! lakechaos: breaks a data lakehouse on purpose and proves the bundled healer notices and mends
//! each break within an SLO, with nothing lost.
//!
//! Use it from a `cargo test` suite:
//!
//! ```no_run
//! # async fn t() {
//! let suite = lakechaos::run_paths(&["scenarios".into()], &lakechaos::RunOptions::default()).await.unwrap();
//! suite.assert_all_passed();
//! # }
//! ```

pub mod aws_guard;
pub mod bench;
pub mod dbt_probe;
pub mod gameday;
pub mod governance;
pub mod lambda;
pub mod metrics;
pub mod pg_runner;
pub mod provision;
pub mod report;
pub mod result;
pub mod runner;
pub mod scenario;
pub mod scoring;
pub mod target;

pub use result::{ScenarioResult, Status, SuiteReport};
pub use runner::{run_scenario, run_suite, RunOptions};
pub use scenario::{load_paths, LoadError, Scenario};
pub use target::{Target, TargetOptions};

use std::path::PathBuf;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Scenario files that do not load (each with file:line:col).
    #[error("{} scenario error(s):\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Load(Vec<LoadError>),
    #[error(transparent)]
    Run(#[from] runner::RunError),
}

/// Loads every scenario under `paths` and runs them.
pub async fn run_paths(paths: &[PathBuf], opts: &RunOptions) -> Result<SuiteReport, Error> {
    let scenarios = load_paths(paths).map_err(Error::Load)?;
    Ok(run_suite(&scenarios, opts).await?)
}
