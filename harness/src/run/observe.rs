//! Watching the healer under test: its events as the runner records them, from injection until
//! the scenario's expectation holds or its deadline passes. Repair is judged by the backend's
//! own verification against golden, never by the healer's word.

use super::scoring;
use crate::backend::{Backend, HealerUnderTest};
use crate::error::{ScenarioError, Stage};
use crate::scenario::{ExpectedOutcome, Scenario};
use lakechaos_faults::GroundTruth;
use lakehealer::events::HealerEvent;
use lakehealer::HealerError;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Healer events as the runner receives them, stamped on arrival.
pub(crate) type Events = mpsc::UnboundedReceiver<(Instant, HealerEvent)>;

/// Healer events as the runner sees them.
#[derive(Default)]
pub(crate) struct Observation {
    pub time_to_detect: Option<Duration>,
    pub time_to_repair: Option<Duration>,
    pub detection_tier: Option<String>,
    pub detected_via: Option<String>,
    pub event_to_detect: Option<Duration>,
    pub detected_locations: BTreeSet<String>,
    pub unrepairable_locations: BTreeSet<String>,
    /// When the last ground-truth location was reported unrepairable.
    pub time_to_unrepairable: Option<Duration>,
    pub incidents: usize,
    pub false_incidents: Vec<String>,
    pub repairs: usize,
    /// Repairs outside the fault's footprint: `action at location from source`.
    pub false_repairs: Vec<String>,
    pub pages_decoded: usize,
    pub footers_read: usize,
}

impl Observation {
    /// Records `event`, which arrived `elapsed` after injection began.
    pub(crate) fn record(&mut self, elapsed: Duration, event: HealerEvent, truth: &GroundTruth) {
        match event {
            HealerEvent::Incident { kind, location, tier, message, trigger, at: raised, .. } => {
                self.incidents += 1;
                if scoring::matches(truth, kind.as_str(), &location) {
                    if self.time_to_detect.is_none() {
                        self.time_to_detect = Some(elapsed);
                        self.detection_tier = Some(format!("{tier:?}").to_lowercase());
                        self.detected_via =
                            serde_json::to_value(trigger.via).ok().and_then(|v| v.as_str().map(String::from));
                        self.event_to_detect = trigger.event_time.and_then(|t| (raised - t).to_std().ok());
                    }
                    self.detected_locations.insert(location);
                } else if !scoring::about_damage(truth, &location) {
                    self.false_incidents.push(format!("{kind} at {location}: {message}"));
                }
            }
            HealerEvent::Repair { action, location, source, .. } => {
                self.repairs += 1;
                if !scoring::within_footprint(truth, &location) {
                    self.false_repairs.push(format!("{action:?} at {location} from {source}"));
                }
            }
            HealerEvent::Scan { pages_decoded, footers_read, .. } => {
                self.pages_decoded += pages_decoded;
                self.footers_read += footers_read;
            }
            HealerEvent::Unrepairable { location, .. } => {
                if truth.locations().contains(&location) && self.unrepairable_locations.insert(location) {
                    self.time_to_unrepairable = Some(elapsed);
                }
            }
            HealerEvent::Resolved { .. } | HealerEvent::PassFailed { .. } | HealerEvent::Crawler { .. } => {}
        }
    }

    /// Records every event already waiting.
    pub(crate) fn drain(&mut self, rx: &mut Events, t0: Instant, truth: &GroundTruth) {
        while let Ok((at, event)) = rx.try_recv() {
            self.record(at.saturating_duration_since(t0), event, truth);
        }
    }
}

/// Waits for the healer's first completed pass (before injection: it must be clean).
pub(crate) async fn first_pass(rx: &mut Events) -> Result<(), ScenarioError> {
    let ready_deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(ready_deadline.into(), rx.recv()).await {
            Ok(Some((_, HealerEvent::Scan { .. }))) => return Ok(()),
            Ok(Some(_)) => continue,
            _ => return Err(ScenarioError::new(Stage::Heal, "the healer did not complete its first pass within 30 s")),
        }
    }
}

/// Records healer events from injection (`t0`) until the scenario's expectation is met or its
/// deadline passes: for `repaired`, until the backend finds the lake equal to golden.
pub(crate) async fn observe(
    rx: &mut Events,
    t0: Instant,
    scenario: &Scenario,
    truth: &GroundTruth,
    backend: &mut dyn Backend,
    on_detected: &(dyn Fn() + Sync),
) -> Result<Observation, ScenarioError> {
    let mut obs = Observation::default();
    let deadline = t0 + scenario.deadline();
    let every = backend.verify_every();
    let mut last_check: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let repairs_before = obs.repairs;
        if let Ok(Some((at, event))) = tokio::time::timeout((deadline - now).min(every), rx.recv()).await {
            let undetected = obs.time_to_detect.is_none();
            obs.record(at.saturating_duration_since(t0), event, truth);
            obs.drain(rx, t0, truth);
            if undetected && obs.time_to_detect.is_some() {
                on_detected();
            }
        }
        let due = obs.repairs > repairs_before || last_check.is_none_or(|t| t.elapsed() >= every);
        match scenario.expect.outcome {
            ExpectedOutcome::Repaired if !due => {}
            ExpectedOutcome::Repaired => {
                last_check = Some(Instant::now());
                if backend.verify().await?.healed {
                    obs.time_to_repair = Some(Instant::now() - t0);
                    break;
                }
            }
            ExpectedOutcome::Detected if obs.detected_locations.len() == truth.locations().len() => break,
            ExpectedOutcome::Unrepairable if obs.unrepairable_locations.len() == truth.locations().len() => break,
            ExpectedOutcome::Detected | ExpectedOutcome::Unrepairable => {}
        }
    }
    Ok(obs)
}

/// A healer running in the background, and how to stop it.
pub(crate) struct Running {
    pub healer: std::sync::Arc<dyn HealerUnderTest>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<Result<(), HealerError>>>,
}

/// A scenario that stops early (an error, a dropped run) stops its healer too, rather than
/// leaving it healing a lake the run is about to revert.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Running {
    pub(crate) fn start(healer: std::sync::Arc<dyn HealerUnderTest>) -> Running {
        let (stop, stop_rx) = watch::channel(false);
        let task = healer.clone().start(stop_rx);
        Running { healer, stop, task: Some(task) }
    }

    /// Waits `settle` (late incidents still count against the healer), then stops it.
    pub(crate) async fn stop(mut self, settle: Duration) -> Result<(), ScenarioError> {
        tokio::time::sleep(settle).await;
        let _ = self.stop.send(true);
        let Some(task) = self.task.take() else { return Ok(()) };
        match tokio::time::timeout(Duration::from_secs(30), task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => {
                tracing::warn!(error = %e, "healer stopped with an error");
                Ok(())
            }
            Ok(Err(e)) => Err(ScenarioError::new(Stage::Heal, format!("the healer task panicked: {e}"))),
            Err(_) => Err(ScenarioError::new(Stage::Heal, "the healer did not stop within 30 s")),
        }
    }
}

#[cfg(test)]
#[path = "observe_tests.rs"]
mod tests;
