//! A run you can watch: each scenario reports the phase it is in as it gets there, so a
//! terminal can show a live line per scenario and a log can show one line per step. The runner
//! only reports; how it is shown is the caller's (`lakechaos run` draws it on stderr).

use super::result::Status;
use std::sync::Arc;

/// Where a scenario is in the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Provision,
    Seed,
    /// The healer's first look and the harness's own: both must find the lake clean.
    SteadyState,
    Inject,
    /// Injected; waiting for the healer's first matching incident.
    Detect,
    /// Detected; waiting for the lake to equal golden again (or for the healer to report the
    /// damage unrepairable, where no source exists).
    Repair,
    /// The harness's final verification, every object read again.
    Verify,
    /// Putting back what the healer did not mend, from the journal.
    Revert,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Provision => "provision",
            Phase::Seed => "seed",
            Phase::SteadyState => "steady state",
            Phase::Inject => "inject",
            Phase::Detect => "detect",
            Phase::Repair => "repair",
            Phase::Verify => "verify",
            Phase::Revert => "revert",
        }
    }
}

/// What a scenario reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Scenario `index` (from 0) of `total` starts.
    Started {
        index: usize,
        total: usize,
    },
    Phase(Phase),
    /// It ended with `status` after `duration_ms`.
    Finished {
        status: Status,
        duration_ms: f64,
    },
}

/// A function told `(scenario name, progress)`.
pub type OnProgress = dyn Fn(&str, Progress) + Send + Sync;

/// Receives every scenario's progress; called from the runner's tasks, so it must be cheap.
#[derive(Clone)]
pub struct Watch(pub Arc<OnProgress>);

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// Reports `progress` of `scenario` to `watch`, if there is one.
pub(crate) fn report(watch: &Option<Watch>, scenario: &str, progress: Progress) {
    if let Some(w) = watch {
        (w.0)(scenario, progress);
    }
}
