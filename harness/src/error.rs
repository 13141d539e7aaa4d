//! Why a scenario could not reach its verdict: the step of the loop it stopped at, and what went
//! wrong there. Reports show both (`seed: …`, `inject: …`), so a reader knows at once whether
//! the lake was touched.

use serde::{Deserialize, Serialize};

/// Any error, from any layer, kept with its source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A step of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Creating the scenario's lake, bucket, database or work directory.
    Provision,
    /// Writing the fixture and recording golden.
    Seed,
    /// Before injection: the healer must find nothing and the lake must equal golden.
    SteadyState,
    /// Planning the fault (nothing changed yet).
    Fault,
    /// Writing the journal.
    Journal,
    /// Applying the fault.
    Inject,
    /// Running the healer under test.
    Heal,
    /// The harness's own verification against golden.
    Verify,
    /// Undoing the fault from the journal.
    Revert,
    /// A consumer's probe (dbt).
    Probe,
}

impl Stage {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Provision => "provision",
            Stage::Seed => "seed",
            Stage::SteadyState => "steady state",
            Stage::Fault => "fault",
            Stage::Journal => "journal",
            Stage::Inject => "inject",
            Stage::Heal => "heal",
            Stage::Verify => "verify",
            Stage::Revert => "revert",
            Stage::Probe => "probe",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A scenario stopped at `stage`.
#[derive(Debug, thiserror::Error)]
#[error("{stage}: {source}")]
pub struct ScenarioError {
    pub stage: Stage,
    #[source]
    pub source: BoxError,
}

impl ScenarioError {
    pub fn new(stage: Stage, source: impl Into<BoxError>) -> ScenarioError {
        ScenarioError { stage, source: source.into() }
    }
}

/// Attaches the stage to any error: `seed_lake(..).await.at(Stage::Seed)?`.
pub trait AtStage<T> {
    fn at(self, stage: Stage) -> Result<T, ScenarioError>;
}

impl<T, E: Into<BoxError>> AtStage<T> for Result<T, E> {
    fn at(self, stage: Stage) -> Result<T, ScenarioError> {
        self.map_err(|e| ScenarioError::new(stage, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_leads_the_message() {
        let e: Result<(), _> = Err::<(), _>("no space left").at(Stage::Seed);
        assert_eq!(e.unwrap_err().to_string(), "seed: no space left");
        assert_eq!(ScenarioError::new(Stage::SteadyState, "x").to_string(), "steady state: x");
    }
}
