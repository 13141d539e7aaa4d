//! The healer: scans, raises incidents once per damage, runs the playbook, reports events.

use crate::config::{HealerConfig, Mode};
use crate::inventory::Inventory;
use crate::detect::concurrent::{check_files, Limits};
use crate::detect::{self, list_table};
use crate::events::{EventSink, HealerEvent, Trigger};
use crate::finding::{Finding, FindingKind};
use crate::repair::{self, Outcome, RepairContext};
use crate::HealerError;
use chrono::Utc;
use lakechaos_lake::contract::ColumnDef;
use lakechaos_lake::{Lake, LakeError, ObjectMeta, TableDef};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What one scan saw.
#[derive(Clone, Debug, Default)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub files_checked: usize,
    /// Files whose footer had to be read (the cache skips unchanged files).
    pub footers_read: usize,
    /// Files whose pages were decoded.
    pub pages_decoded: usize,
    /// Bytes of the files whose contents were read (footer or pages).
    pub bytes_read: u64,
    pub duration: Duration,
}

/// What one pass (scan + repairs) did.
#[derive(Clone, Debug, Default)]
pub struct PassReport {
    pub scan: ScanReport,
    pub new_incidents: usize,
    pub repaired: usize,
    pub unrepairable: usize,
}

/// A file's last verdict, valid while its version token and the contract are unchanged.
#[derive(Clone, Debug)]
struct Verdict {
    table: String,
    version_token: String,
    contract: Vec<ColumnDef>,
    finding: Option<Finding>,
    /// The rows its footer declared (when the footer was read and passed).
    rows: Option<u64>,
}

#[derive(Clone, Debug)]
struct OpenIncident {
    id: String,
    table: String,
    /// Set when the playbook found no source; retried only when the finding changes.
    unrepairable_for: Option<String>,
}

#[derive(Default)]
struct State {
    verdicts: HashMap<String, Verdict>,
    open: HashMap<(FindingKind, String), OpenIncident>,
    next_id: u64,
}

/// The healer. One instance per lake; all methods may be called from any task.
pub struct Healer {
    lake: Lake,
    config: HealerConfig,
    sink: EventSink,
    state: Mutex<State>,
}

impl Healer {
    /// A healer for `lake` that reports every event to `sink`.
    pub fn new(lake: Lake, config: HealerConfig, sink: EventSink) -> Self {
        Healer { lake, config, sink, state: Mutex::new(State::default()) }
    }

    /// The lake this healer looks after.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// Settings.
    pub fn config(&self) -> &HealerConfig {
        &self.config
    }

    /// Hands `event` to the healer's sink (for the watch loop's own events).
    pub(crate) fn emit(&self, event: HealerEvent) {
        (self.sink)(event)
    }

    /// The tables a pass covers: `only` if given, else the configured ones, else every table.
    async fn tables(&self, only: Option<&[String]>) -> Result<Vec<TableDef>, HealerError> {
        let names = match only {
            Some(names) => names.to_vec(),
            None if self.config.tables.is_empty() => self.lake.catalog.list_tables().await?,
            None => self.config.tables.clone(),
        };
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            match self.lake.catalog.get_table(&name).await? {
                Some(t) => tables.push(t),
                None => return Err(HealerError::UnknownTable(name)),
            }
        }
        Ok(tables)
    }

    /// Detects damage in every table (no incidents, no repairs). Unchanged files are not read
    /// again: their last verdict stands.
    pub async fn scan(&self) -> Result<ScanReport, HealerError> {
        let started = Instant::now();
        let tables = self.tables(None).await?;
        self.scan_tables(&tables, started).await
    }

    /// [`Healer::scan`] over tables already read from the catalog.
    async fn scan_tables(&self, tables: &[TableDef], started: Instant) -> Result<ScanReport, HealerError> {
        let mut report = ScanReport::default();
        let mut state = self.state.lock().await;
        let mut live = std::collections::HashSet::new();
        for table in tables {
            report.findings.extend(detect::catalog_schema::detect(table));
            let listing = list_table(self.lake.store.as_ref(), table).await?;
            report.findings.extend(detect::partitions::detect(&listing));
            let mut inventory = Inventory::load(self.lake.store.as_ref(), &table.name).await?;
            let mut inventory_changed = false;
            // Files without a standing verdict are checked first, several at once.
            let stands = |meta: &ObjectMeta, v: &Verdict| v.version_token == meta.version_token && v.contract == table.columns;
            let pending: Vec<ObjectMeta> = listing
                .files()
                .filter(|m| !state.verdicts.get(&m.key).is_some_and(|v| stands(m, v)))
                .cloned()
                .collect();
            let limits = Limits { jobs: self.config.scan_jobs, bytes_in_flight: self.config.scan_bytes_in_flight };
            let mut checked = check_files(self.lake.store.clone(), table, pending, self.config.depth, limits).await;
            for meta in listing.files() {
                live.insert(meta.key.clone());
                report.files_checked += 1;
                let cached = state.verdicts.get(&meta.key).filter(|v| stands(meta, v));
                let finding = match cached {
                    Some(v) => {
                        // An inventory forgotten meanwhile learns unchanged clean files again.
                        if let (None, Some(rows)) = (&v.finding, v.rows) {
                            if !inventory.files.contains_key(&meta.key) {
                                inventory_changed |= inventory.learn(&meta.key, rows);
                            }
                        }
                        v.finding.clone()
                    }
                    None => {
                        let Some(check) = checked.remove(&meta.key) else { continue };
                        let check = match check {
                            Ok(c) => c,
                            // Moved or replaced while we looked: the next pass sees the new state.
                            Err(HealerError::Lake(LakeError::NotFound(_))) => continue,
                            Err(e) => return Err(e),
                        };
                        let mut check = check;
                        // A file that checks clean is held to the rows it had when last clean.
                        if let (None, Some(rows)) = (&check.finding, check.rows) {
                            match inventory.lost(&meta.key, rows) {
                                Some(known) => {
                                    check.finding =
                                        Some(detect::row_count::against_inventory(table, &meta.key, rows, known))
                                }
                                None => inventory_changed |= inventory.learn(&meta.key, rows),
                            }
                        }
                        report.footers_read += check.footer_read as usize;
                        report.pages_decoded += check.pages_decoded as usize;
                        if check.footer_read || check.pages_decoded {
                            report.bytes_read += meta.size;
                        }
                        state.verdicts.insert(
                            meta.key.clone(),
                            Verdict {
                                table: table.name.clone(),
                                version_token: meta.version_token.clone(),
                                contract: table.columns.clone(),
                                finding: check.finding.clone(),
                                rows: check.rows,
                            },
                        );
                        check.finding
                    }
                };
                report.findings.extend(finding);
            }
            let listed: std::collections::HashSet<String> = listing.files().map(|m| m.key.clone()).collect();
            inventory_changed |= inventory.keep_only(&listed);
            if inventory_changed {
                inventory.save(self.lake.store.as_ref()).await?;
            }
        }
        // Forget files that are gone from the scanned tables; other tables' verdicts stand.
        let scanned: std::collections::HashSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        state.verdicts.retain(|k, v| live.contains(k) || !scanned.contains(v.table.as_str()));
        report.duration = started.elapsed();
        Ok(report)
    }

    /// Scans, raises an incident for each new finding, closes incidents whose location is clean
    /// again, and (in heal mode) runs the playbook on every open incident.
    pub async fn pass(&self) -> Result<PassReport, HealerError> {
        self.pass_triggered(&Trigger::default()).await
    }

    /// [`Healer::pass`], recording in each new incident what made the healer look.
    pub async fn pass_triggered(&self, trigger: &Trigger) -> Result<PassReport, HealerError> {
        self.pass_over(None, trigger).await
    }

    /// A pass over the named tables only (an event names an object, and so its table):
    /// incidents elsewhere stay open and other tables' files are not read.
    pub async fn pass_tables(&self, tables: &[String], trigger: &Trigger) -> Result<PassReport, HealerError> {
        self.pass_over(Some(tables), trigger).await
    }

    async fn pass_over(&self, only: Option<&[String]>, trigger: &Trigger) -> Result<PassReport, HealerError> {
        let started = Instant::now();
        // One catalog read serves the scan and the repairs.
        let table_list = self.tables(only).await?;
        let scan = self.scan_tables(&table_list, started).await?;
        let mut report = PassReport::default();
        (self.sink)(HealerEvent::Scan {
            files_checked: scan.files_checked,
            footers_read: scan.footers_read,
            pages_decoded: scan.pages_decoded,
            bytes_read: scan.bytes_read,
            findings: scan.findings.len(),
            duration_ms: scan.duration.as_secs_f64() * 1000.0,
            event_lag_ms: trigger.lag_ms().map(|now| now - started.elapsed().as_secs_f64() * 1000.0),
            at: Utc::now(),
        });
        let tables: HashMap<String, TableDef> = table_list.into_iter().map(|t| (t.name.clone(), t)).collect();
        let mut state = self.state.lock().await;

        let current: std::collections::HashSet<(FindingKind, String)> =
            scan.findings.iter().map(|f| (f.kind, f.location.clone())).collect();
        let closed: Vec<(FindingKind, String)> = state
            .open
            .iter()
            .filter(|(k, inc)| !current.contains(*k) && tables.contains_key(&inc.table))
            .map(|(k, _)| k.clone())
            .collect();
        for key in closed {
            if let Some(inc) = state.open.remove(&key) {
                (self.sink)(HealerEvent::Resolved { incident: inc.id, location: key.1, at: Utc::now() });
            }
        }

        let mut catalog_repaired = false;
        // Partitions first: restoring a partition can make file findings in it moot.
        let mut findings = scan.findings.clone();
        findings.sort_by_key(|f| (f.kind != FindingKind::MissingPartition, f.location.clone()));
        for finding in &findings {
            let key = (finding.kind, finding.location.clone());
            if !state.open.contains_key(&key) {
                state.next_id += 1;
                let id = format!("inc-{}", state.next_id);
                (self.sink)(HealerEvent::incident(&id, finding, trigger));
                report.new_incidents += 1;
                state
                    .open
                    .insert(key.clone(), OpenIncident { id, table: finding.table.clone(), unrepairable_for: None });
            }
            if self.config.mode == Mode::DetectOnly {
                continue;
            }
            let incident = state.open.get(&key).cloned().expect("inserted above");
            if incident.unrepairable_for.as_deref() == Some(finding.message.as_str()) {
                continue;
            }
            let Some(table) = tables.get(&finding.table) else { continue };
            let judged = state.verdicts.get(&finding.location).map(|v| v.version_token.clone());
            let ctx = RepairContext {
                lake: &self.lake,
                table,
                quarantine_prefix: &self.config.quarantine_prefix,
                quarantine_store: self.config.quarantine_store.as_ref(),
                judged: judged.as_deref(),
            };
            let outcome = match repair_retrying(&ctx, finding).await {
                Ok(o) => o,
                // The object changed under us (another healer, a writer); the next pass decides
                // again on what is there then.
                Err(HealerError::Lake(LakeError::NotFound(_) | LakeError::Changed(_))) => {
                    state.verdicts.remove(&finding.location);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (steps, unrepairable) = match outcome {
                Outcome::Repaired(steps) => (steps, None),
                Outcome::Unrepairable { done, reason } => (done, Some(reason)),
            };
            for step in steps {
                (self.sink)(HealerEvent::Repair {
                    incident: incident.id.clone(),
                    action: step.action,
                    location: step.location,
                    source: step.source,
                    at: Utc::now(),
                });
            }
            match unrepairable {
                None => {
                    report.repaired += 1;
                    catalog_repaired |= matches!(finding.kind, FindingKind::MissingPartition | FindingKind::SchemaDrift);
                }
                Some(reason) => {
                    report.unrepairable += 1;
                    tracing::warn!(incident = %incident.id, location = %finding.location, %reason, "unrepairable");
                    (self.sink)(HealerEvent::Unrepairable {
                        incident: incident.id.clone(),
                        location: finding.location.clone(),
                        reason,
                        at: Utc::now(),
                    });
                    if let Some(open) = state.open.get_mut(&key) {
                        open.unrepairable_for = Some(finding.message.clone());
                    }
                }
            }
        }
        report.scan = scan;
        if let (true, Some(name)) = (catalog_repaired, &self.config.start_crawler) {
            // The repair stands whatever the crawler does; a crawler that cannot start is said.
            let state = match self.lake.catalog.start_crawler(name).await {
                Ok(state) => state,
                Err(e) => {
                    tracing::warn!(crawler = %name, error = %e, "could not start the crawler");
                    format!("not started: {e}")
                }
            };
            (self.sink)(HealerEvent::Crawler { name: name.clone(), state, at: Utc::now() });
        }
        Ok(report)
    }

    /// Passes until the lake is clean or nothing more can be done (at most `max_passes`).
    /// Returns the last pass. A pass that fails on the network is run again (its repairs are
    /// idempotent) a few times before the error is returned.
    pub async fn heal_until_settled(&self, max_passes: usize) -> Result<PassReport, HealerError> {
        let mut last = self.pass_retrying().await?;
        for _ in 1..max_passes {
            if last.scan.findings.is_empty() || (last.repaired == 0 && last.new_incidents == 0) {
                break;
            }
            last = self.pass_retrying().await?;
        }
        Ok(last)
    }

    async fn pass_retrying(&self) -> Result<PassReport, HealerError> {
        retrying("pass", || self.pass()).await
    }

    /// [`Healer::scan`], run again after a network failure a few times before giving up.
    pub async fn scan_retrying(&self) -> Result<ScanReport, HealerError> {
        retrying("scan", || self.scan()).await
    }
}

/// How often a step that failed on the network is run again before the pass gives up.
const TRANSIENT_RETRIES: u32 = 4;

/// Whether an error is the network's (a remote service or a connection), not the data's.
fn transient(e: &HealerError) -> bool {
    matches!(e, HealerError::Lake(LakeError::Remote { .. }))
}

/// Runs `f` again after a network failure, with backoff, a few times.
async fn retrying<T, Fut: std::future::Future<Output = Result<T, HealerError>>>(
    what: &str,
    mut f: impl FnMut() -> Fut,
) -> Result<T, HealerError> {
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if transient(&e) && attempt < TRANSIENT_RETRIES => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "{what} failed on the network; running it again");
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return other,
        }
    }
}

fn backoff(attempt: u32) -> std::time::Duration {
    std::time::Duration::from_millis(200 * 2u64.pow(attempt.min(5)))
}

/// Runs the playbook for `finding`, again after a network failure: every step is idempotent
/// (quarantine keyed by the damaged version, identity re-checked, restores write the same bytes),
/// so a step cut off halfway is finished, not doubled.
async fn repair_retrying(ctx: &RepairContext<'_>, finding: &crate::Finding) -> Result<Outcome, HealerError> {
    let mut attempt = 0;
    loop {
        match repair::run(ctx, finding).await {
            Err(e) if transient(&e) && attempt < TRANSIENT_RETRIES => {
                attempt += 1;
                tracing::warn!(error = %e, location = %finding.location, attempt, "repair step failed on the network; running it again");
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return other,
        }
    }
}
