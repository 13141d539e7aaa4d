//! The healer for a PostgreSQL table: the served table, day-partitioned, against its source of
//! truth in the raw schema. Same incidents and events as the file healer; detection is a poll
//! (PostgreSQL sends no change events), every repair is one transaction, and downstream dbt
//! models are rebuilt for the repaired days.

pub mod dbt;
pub mod detect;
pub mod repair;

use crate::config::Mode;
use crate::events::{EventSink, HealerEvent, RepairAction, Trigger, TriggerKind};
use crate::finding::FindingKind;
use crate::HealerError;
use chrono::{NaiveDate, Utc};
use dbt::DbtModels;
use detect::PgFinding;
use lakechaos_lake::pg::{connect, sql_error, PgLayout};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_postgres::Client;

/// The `application_name` the healer's connections carry (visible in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "lakehealer";

/// PostgreSQL healer settings.
#[derive(Clone, Debug)]
pub struct PgHealerConfig {
    pub mode: Mode,
    /// `watch`: how often to look.
    pub poll_every: Duration,
    /// Downstream models to rebuild after repairs.
    pub dbt: Option<DbtModels>,
}

impl Default for PgHealerConfig {
    fn default() -> Self {
        PgHealerConfig { mode: Mode::Heal, poll_every: Duration::from_millis(100), dbt: None }
    }
}

/// What one pass did.
#[derive(Clone, Debug, Default)]
pub struct PgPassReport {
    pub findings: Vec<crate::Finding>,
    pub new_incidents: usize,
    pub repaired: usize,
    pub duration: Duration,
}

#[derive(Default)]
struct State {
    open: HashMap<(FindingKind, String), String>,
    next_id: u64,
}

/// The healer of one PostgreSQL database's table.
pub struct PgHealer {
    url: String,
    layout: PgLayout,
    config: PgHealerConfig,
    sink: EventSink,
    state: Mutex<State>,
    /// Kept between passes (a new backend starts with cold catalog caches); replaced when the
    /// server has closed it.
    client: Mutex<Option<Client>>,
}

impl PgHealer {
    pub fn new(url: impl Into<String>, layout: PgLayout, config: PgHealerConfig, sink: EventSink) -> Self {
        PgHealer {
            url: url.into(),
            layout,
            config,
            sink,
            state: Mutex::new(State::default()),
            client: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &PgHealerConfig {
        &self.config
    }

    /// The kept connection, or a new one if there is none or the server closed it.
    async fn client(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Client>, HealerError> {
        let mut slot = self.client.lock().await;
        if slot.as_ref().is_none_or(|c| c.is_closed()) {
            *slot = Some(connect(&self.url, APPLICATION_NAME).await?);
        }
        Ok(tokio::sync::MutexGuard::map(slot, |c| c.as_mut().expect("set above")))
    }

    /// Detection on the kept connection. A connection the server closed (a terminated backend,
    /// a restart) is often only noticed when it is next used, so detection, being read-only,
    /// is retried once on a fresh connection when the kept one turns out to be closed.
    async fn detect_on_live_connection(
        &self,
    ) -> Result<(tokio::sync::MappedMutexGuard<'_, Client>, detect::PgDetection), HealerError> {
        let client = self.client().await?;
        match detect::detect(&client, &self.layout).await {
            Ok(found) => return Ok((client, found)),
            Err(e) if !(connection_lost(&e) || client.is_closed()) => {
                return Err(sql_error(&self.url, "detecting", e).into())
            }
            Err(e) => tracing::info!(error = %e, "the kept connection was closed; connecting again"),
        }
        drop(client);
        *self.client.lock().await = None;
        let client = self.client().await?;
        let found = detect::detect(&client, &self.layout).await.map_err(|e| sql_error(&self.url, "detecting", e))?;
        Ok((client, found))
    }

    /// Detects only: no incidents, no repairs, no events.
    pub async fn scan(&self) -> Result<Vec<crate::Finding>, HealerError> {
        let (_client, found) = self.detect_on_live_connection().await?;
        Ok(found.findings.into_iter().map(|f| f.finding).collect())
    }

    /// One pass: detect, raise incidents once per damage, repair (in `Heal` mode), rebuild
    /// downstream models for what was repaired, and resolve incidents that check clean. A pass
    /// whose connection is lost fails; the next one connects again.
    pub async fn pass(&self, trigger: Trigger) -> Result<PgPassReport, HealerError> {
        let started = Instant::now();
        let (mut client, found) = self.detect_on_live_connection().await?;
        let mut report = PgPassReport::default();
        let mut state = self.state.lock().await;
        let mut to_repair: Vec<(String, PgFinding)> = Vec::new();
        for f in &found.findings {
            let key = (f.finding.kind, f.finding.location.clone());
            let id = match state.open.get(&key) {
                Some(id) => id.clone(),
                None => {
                    state.next_id += 1;
                    let id = format!("pg-{}", state.next_id);
                    state.open.insert(key, id.clone());
                    report.new_incidents += 1;
                    (self.sink)(HealerEvent::Incident {
                        id: id.clone(),
                        kind: f.finding.kind,
                        table: f.finding.table.clone(),
                        location: f.finding.location.clone(),
                        tier: f.finding.tier,
                        message: f.finding.message.clone(),
                        evidence: f.finding.evidence.clone(),
                        at: Utc::now(),
                        trigger: trigger.clone(),
                    });
                    id
                }
            };
            to_repair.push((id, f.clone()));
        }
        // Incidents whose damage is no longer found are resolved.
        let still: Vec<(FindingKind, String)> =
            found.findings.iter().map(|f| (f.finding.kind, f.finding.location.clone())).collect();
        let resolved: Vec<((FindingKind, String), String)> =
            state.open.iter().filter(|(k, _)| !still.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, id) in resolved {
            state.open.remove(&k);
            (self.sink)(HealerEvent::Resolved { incident: id, location: k.1, at: Utc::now() });
        }
        drop(state);

        let mut days: Vec<NaiveDate> = Vec::new();
        let mut whole_table = false;
        if self.config.mode == Mode::Heal {
            for (id, f) in &to_repair {
                let done = repair::run(&mut client, &self.layout, &f.repair)
                    .await
                    .map_err(|e| sql_error(&self.url, format!("repairing {}", f.finding.location), e))?;
                report.repaired += 1;
                match f.repair.day() {
                    Some(d) if !days.contains(&d) => days.push(d),
                    Some(_) => {}
                    None => whole_table = true,
                }
                tracing::info!(location = %f.finding.location, action = ?done.action, rows = done.rows, "repaired");
                (self.sink)(HealerEvent::Repair {
                    incident: id.clone(),
                    action: done.action,
                    location: f.finding.location.clone(),
                    source: done.source,
                    at: Utc::now(),
                });
            }
        }
        if report.repaired > 0 {
            if let Some(models) = &self.config.dbt {
                days.sort();
                let scope = (!whole_table).then_some(days.as_slice());
                let what = match scope {
                    Some(d) => format!("{} day(s)", d.len()),
                    None => "all days".into(),
                };
                let location = format!("dbt:{}", models.select);
                let incident = to_repair.last().map(|(id, _)| id.clone()).unwrap_or_default();
                match models.rematerialize(scope).await {
                    Ok(took) => (self.sink)(HealerEvent::Repair {
                        incident,
                        action: RepairAction::RematerializeModels,
                        location,
                        source: format!("dbt run, {what}, {} ms", took.as_millis()),
                        at: Utc::now(),
                    }),
                    Err(reason) => {
                        tracing::warn!(%reason, "re-materializing models failed");
                        (self.sink)(HealerEvent::Unrepairable { incident, location, reason: reason.0, at: Utc::now() })
                    }
                }
            }
        }
        report.findings = found.findings.into_iter().map(|f| f.finding).collect();
        report.duration = started.elapsed();
        (self.sink)(HealerEvent::Scan {
            files_checked: found.partitions_checked,
            footers_read: 0,
            pages_decoded: 0,
            // Rows are counted in the database; no object bytes cross the wire.
            bytes_read: 0,
            findings: report.findings.len(),
            duration_ms: report.duration.as_secs_f64() * 1000.0,
            event_lag_ms: None,
            at: Utc::now(),
        });
        Ok(report)
    }
}

/// Whether `e` means the session is gone: the socket closed, or the server ended it (SQLSTATE
/// class 57P: terminated by an administrator, a crash or a shutdown) — which arrives as a
/// server error before the driver marks the connection closed.
fn connection_lost(e: &tokio_postgres::Error) -> bool {
    e.is_closed() || e.code().is_some_and(|c| c.code().starts_with("57P"))
}

/// Polls until `stop` turns true: a first pass at once, then one every `poll_every`. A failed
/// pass (database unreachable, connection killed) is logged and retried on the next tick.
pub async fn watch(healer: Arc<PgHealer>, mut stop: tokio::sync::watch::Receiver<bool>) -> Result<(), HealerError> {
    let mut trigger = Trigger::of(TriggerKind::Scan);
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if let Err(e) = healer.pass(trigger.clone()).await {
            tracing::warn!(error = %e, "healer pass failed; retrying");
            (healer.sink)(HealerEvent::PassFailed { error: e.to_string(), at: Utc::now() });
        }
        trigger = Trigger::of(TriggerKind::Reconcile);
        tokio::select! {
            _ = tokio::time::sleep(healer.config.poll_every) => {}
            // A dropped sender means nobody can stop us any more: stop now.
            changed = stop.changed() => if changed.is_err() { return Ok(()) },
        }
    }
}
