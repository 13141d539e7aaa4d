//! The healer of one Iceberg table: [`detect`] walks the table's tree in tiers, [`repair`]
//! mends what it found from named sources. Passes raise an incident once per damage, repair
//! (in `Heal` mode), and resolve incidents whose damage is no longer found, with the same
//! events as the file healer.

pub mod detect;
pub mod discover;
pub mod repair;

use crate::events::{HealerEvent, Trigger, TriggerKind};
use crate::finding::{Finding, FindingKind};
use crate::repair::Outcome;
use crate::{Depth, EventSink, HealerError, Mode};
use chrono::Utc;
use detect::Verdicts;
use lakechaos_lake::iceberg::IcebergTable;
use lakechaos_lake::{Lake, LakeError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Settings of the Iceberg healer.
#[derive(Clone, Debug)]
pub struct IcebergHealerConfig {
    pub mode: Mode,
    pub depth: Depth,
    /// Where damaged data files are kept before they are replaced.
    pub quarantine_prefix: String,
    /// `watch`: time between passes.
    pub poll_every: Duration,
    /// Commit a snapshot without data files no source holds (their rows are reported lost).
    pub allow_drop: bool,
}

impl Default for IcebergHealerConfig {
    fn default() -> Self {
        IcebergHealerConfig {
            mode: Mode::Heal,
            depth: Depth::Pages,
            quarantine_prefix: lakechaos_lake::layout::QUARANTINE_PREFIX.to_string(),
            poll_every: Duration::from_millis(25),
            allow_drop: false,
        }
    }
}

/// What one pass did.
#[derive(Clone, Debug, Default)]
pub struct IcebergPassReport {
    pub findings: Vec<Finding>,
    pub new_incidents: usize,
    pub repaired: usize,
    pub unrepairable: usize,
    /// Repairs given up because the table moved under the pass (judged again next pass).
    pub superseded: usize,
    pub duration: Duration,
}

#[derive(Default)]
struct State {
    open: BTreeMap<(FindingKind, String), String>,
    /// Incidents already reported unrepairable (said once, retried every pass).
    said_unrepairable: BTreeSet<String>,
    next_id: u64,
    verdicts: Verdicts,
}

/// The healer of one Iceberg table.
pub struct IcebergHealer {
    lake: Lake,
    table: IcebergTable,
    config: IcebergHealerConfig,
    sink: EventSink,
    state: Mutex<State>,
}

impl IcebergHealer {
    /// The healer of table `name` (`NAMESPACE.TABLE`) of a lake opened with an Iceberg catalog.
    pub fn new(lake: Lake, name: &str, config: IcebergHealerConfig, sink: EventSink) -> Result<Self, HealerError> {
        let table = lake
            .iceberg_table(name)
            .ok_or_else(|| HealerError::Invalid(format!("{name}: the lake was not opened with an Iceberg catalog")))?
            .map_err(|e| HealerError::Invalid(e.to_string()))?;
        Ok(IcebergHealer { lake, table, config, sink, state: Mutex::new(State::default()) })
    }

    pub fn table(&self) -> &IcebergTable {
        &self.table
    }

    /// What a heal pass would do now, changing nothing: each finding with its planned repair.
    pub async fn plan(&self) -> Result<Vec<(Finding, String)>, HealerError> {
        let mut state = self.state.lock().await;
        let found = detect::detect(&self.table, self.config.depth, &mut state.verdicts).await?;
        let def = self.def_of(&found);
        let repair = self.repairs(&found, def.as_ref());
        let mut out = Vec::new();
        for f in &found.findings {
            out.push((f.finding.clone(), repair.plan(f).await?));
        }
        Ok(out)
    }

    /// The playbook for what `found` judged.
    fn repairs<'a>(
        &'a self,
        found: &'a detect::Detection,
        def: Option<&'a lakechaos_lake::TableDef>,
    ) -> repair::IcebergRepair<'a> {
        repair::IcebergRepair {
            lake: &self.lake,
            table: &self.table,
            base: found.base.as_ref(),
            def,
            quarantine_prefix: &self.config.quarantine_prefix,
            allow_drop: self.config.allow_drop,
        }
    }

    /// The table as repairs see it: as detection read it, or, when a manifest could not be read,
    /// from the metadata alone (no partitions known), so a damaged copy can still be quarantined.
    fn def_of(&self, found: &detect::Detection) -> Option<lakechaos_lake::TableDef> {
        found.table.clone().or_else(|| {
            let base = found.base.as_ref()?;
            self.table.table_def(&base.metadata, Default::default()).ok()
        })
    }

    /// Detects only: no incidents, no repairs, no events.
    pub async fn scan(&self) -> Result<Vec<Finding>, HealerError> {
        let mut state = self.state.lock().await;
        let found = detect::detect(&self.table, self.config.depth, &mut state.verdicts).await?;
        Ok(found.findings.into_iter().map(|f| f.finding).collect())
    }

    /// One pass: detect, raise incidents once per damage, repair (in `Heal` mode), resolve
    /// incidents that check clean.
    pub async fn pass(&self, trigger: Trigger) -> Result<IcebergPassReport, HealerError> {
        let started = Instant::now();
        let mut state = self.state.lock().await;
        let found = detect::detect(&self.table, self.config.depth, &mut state.verdicts).await?;
        let mut report = IcebergPassReport::default();
        let mut ids = Vec::new();
        for f in &found.findings {
            let key = (f.finding.kind, f.finding.location.clone());
            let id = match state.open.get(&key) {
                Some(id) => id.clone(),
                None => {
                    state.next_id += 1;
                    let id = format!("ice-{}", state.next_id);
                    state.open.insert(key, id.clone());
                    report.new_incidents += 1;
                    (self.sink)(HealerEvent::incident(&id, &f.finding, &trigger));
                    id
                }
            };
            ids.push(id);
        }
        let still: Vec<(FindingKind, String)> =
            found.findings.iter().map(|f| (f.finding.kind, f.finding.location.clone())).collect();
        let resolved: Vec<((FindingKind, String), String)> =
            state.open.iter().filter(|(k, _)| !still.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, id) in resolved {
            state.open.remove(&k);
            state.said_unrepairable.remove(&id);
            (self.sink)(HealerEvent::Resolved { incident: id, location: k.1, at: Utc::now() });
        }

        if self.config.mode == Mode::Heal {
            let def = self.def_of(&found);
            let repair = self.repairs(&found, def.as_ref());
            for (f, id) in found.findings.iter().zip(&ids) {
                let outcome = match repair.run(f).await {
                    Ok(o) => o,
                    // The table moved under this pass (another healer, a writer committed, an
                    // object changed): everything it judged was judged on what is gone, so
                    // the next pass judges again on what is there then.
                    Err(HealerError::Lake(LakeError::NotFound(_) | LakeError::Changed(_))) => {
                        report.superseded += 1;
                        break;
                    }
                    Err(e) => return Err(e),
                };
                let (steps, unrepairable) = match outcome {
                    Outcome::Repaired(steps) => (steps, None),
                    Outcome::Unrepairable { done, reason } => (done, Some(reason)),
                };
                // A repair that commits moves the pointer: what else this pass judged was
                // judged on the old metadata, so the next pass judges it again.
                let committed = steps.iter().any(|s| {
                    use crate::events::RepairAction::*;
                    matches!(
                        s.action,
                        RepointMetadata | DropFiles | RevertSchema | RelistFiles | RollbackCommit | RevertCommit
                    )
                });
                for step in steps {
                    tracing::info!(location = %step.location, action = ?step.action, source = %step.source, "repaired");
                    (self.sink)(HealerEvent::Repair {
                        incident: id.clone(),
                        action: step.action,
                        location: step.location,
                        source: step.source,
                        at: Utc::now(),
                    });
                }
                match unrepairable {
                    None => report.repaired += 1,
                    Some(reason) => {
                        report.unrepairable += 1;
                        if state.said_unrepairable.insert(id.clone()) {
                            (self.sink)(HealerEvent::Unrepairable {
                                incident: id.clone(),
                                location: f.finding.location.clone(),
                                reason,
                                at: Utc::now(),
                            });
                        }
                    }
                }
                if committed {
                    break;
                }
            }
        }
        drop(state);
        report.findings = found.findings.into_iter().map(|f| f.finding).collect();
        report.duration = started.elapsed();
        (self.sink)(HealerEvent::Scan {
            files_checked: found.files_checked,
            footers_read: found.footers_read,
            pages_decoded: found.pages_decoded,
            bytes_read: found.bytes_read,
            findings: report.findings.len(),
            duration_ms: report.duration.as_secs_f64() * 1000.0,
            event_lag_ms: None,
            at: Utc::now(),
        });
        Ok(report)
    }
}

/// Passes until `stop` turns true: one at once, then one every `poll_every`. A failed pass (the
/// catalog unreachable, a concurrent commit) is reported and retried on the next tick.
pub async fn watch(
    healer: Arc<IcebergHealer>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), HealerError> {
    let mut trigger = Trigger::of(TriggerKind::Scan);
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if let Err(e) = healer.pass(trigger.clone()).await {
            tracing::warn!(error = %e, "iceberg healer pass failed; retrying");
            (healer.sink)(HealerEvent::PassFailed { error: e.to_string(), at: Utc::now() });
        }
        trigger = Trigger::of(TriggerKind::Reconcile);
        tokio::select! {
            _ = tokio::time::sleep(healer.config.poll_every) => {}
            changed = stop.changed() => if changed.is_err() { return Ok(()) },
        }
    }
}
