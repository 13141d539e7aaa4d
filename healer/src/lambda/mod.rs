//! The healer as an AWS Lambda function (`lakehealer-lambda`, zipped as `bootstrap` for the
//! `provided.al2023` runtime). Each invocation names objects that changed; the function runs a
//! pass over the tables those objects belong to, repairs what it finds, publishes incidents and
//! repairs to SNS and its counts to CloudWatch (the module's alarms watch `Unrepairable` and
//! `PassFailures`), and answers an SQS batch with the messages to retry.
//!
//! The function is configured from its environment ([`FunctionConfig::from_env`]):
//! - `LAKEHEALER_LAKE` — the standing lake, `s3://BUCKET[/PREFIX]`;
//! - `LAKEHEALER_CATALOG` — `glue:DATABASE` (or `file`);
//! - `LAKEHEALER_QUARANTINE` — optional: `s3://BUCKET[/PREFIX]`, a bucket of its own for
//!   quarantined objects (each lake's under its root there); default `_quarantine/` in the lake;
//! - `LAKEHEALER_GAMEDAY_PREFIX` — optional: keys under `<prefix>/<run>/<scenario>/` in the same
//!   bucket are game-day lakes the chaos function seeded, each with the file catalog in it;
//! - `LAKEHEALER_SNS_TOPIC` — optional topic ARN;
//! - `LAKEHEALER_METRICS_NAMESPACE` — CloudWatch namespace (default `Lakehealer`; `off` disables);
//! - `LAKEHEALER_MODE` — `heal` (default) or `detect_only`;
//! - `LAKEHEALER_LF_POLICY` — optional: the Lake Formation grants the healer keeps in place
//!   (the policy as JSON, or a policy file's path; see [`crate::governance`]);
//! - `LAKEHEALER_START_CRAWLER` — optional: a Glue crawler started after a pass that repaired
//!   partitions or columns.
//!
//! A warm function keeps its healers between invocations, so unchanged files are not read again.

pub mod invocation;
mod metrics;

use crate::events::{EventSink, HealerEvent, Trigger, TriggerKind};
use crate::governance::Governance;
use crate::{Healer, HealerConfig, HealerError, Mode};
use aws_lambda_events::sqs::BatchItemFailure;
use invocation::Invocation;
use lakechaos_lake::cloudwatch::CloudWatch;
use lakechaos_lake::layout::{
    in_quarantine as under_quarantine, HARNESS_RECORDS_PREFIX, HEALER_STATE_PREFIX, QUARANTINE_PREFIX,
};
use lakechaos_lake::{AwsConnection, CatalogKind, Lake, ObjectEvent, S3Store, Topic};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::Mutex as AsyncMutex;

/// Why an object event leads to no lake (it is listed as ignored, with this reason).
#[derive(Debug)]
struct NotRouted(String);

/// The function's settings.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    pub lake: String,
    pub catalog: String,
    /// `s3://bucket[/prefix]` for quarantine; `None`: inside each lake.
    pub quarantine: Option<String>,
    pub gameday_prefix: Option<String>,
    pub sns_topic: Option<String>,
    /// `None`: no CloudWatch metrics.
    pub metrics_namespace: Option<String>,
    pub mode: Mode,
    /// The Lake Formation grants the healer keeps in place: inline JSON or a policy file path.
    pub lf_policy: Option<String>,
    /// A Glue crawler to start after repairs of partitions or columns.
    pub start_crawler: Option<String>,
    pub connection: AwsConnection,
}

impl FunctionConfig {
    /// From the function's environment (see the module documentation).
    pub fn from_env() -> Result<FunctionConfig, HealerError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let lake = var("LAKEHEALER_LAKE").ok_or_else(|| HealerError::Invalid("LAKEHEALER_LAKE is not set".into()))?;
        let mode = match var("LAKEHEALER_MODE").as_deref() {
            None | Some("heal") => Mode::Heal,
            Some("detect_only") => Mode::DetectOnly,
            Some(other) => {
                return Err(HealerError::Invalid(format!("LAKEHEALER_MODE={other:?}: expected heal or detect_only")))
            }
        };
        Ok(FunctionConfig {
            lake,
            catalog: var("LAKEHEALER_CATALOG").unwrap_or_else(|| "file".into()),
            quarantine: var("LAKEHEALER_QUARANTINE"),
            gameday_prefix: var("LAKEHEALER_GAMEDAY_PREFIX"),
            sns_topic: var("LAKEHEALER_SNS_TOPIC"),
            metrics_namespace: match var("LAKEHEALER_METRICS_NAMESPACE").as_deref() {
                Some("off") => None,
                Some(ns) => Some(ns.to_string()),
                None => Some(metrics::NAMESPACE.to_string()),
            },
            mode,
            lf_policy: var("LAKEHEALER_LF_POLICY"),
            start_crawler: var("LAKEHEALER_START_CRAWLER"),
            connection: AwsConnection::from_environment(None, None),
        })
    }
}

/// What one invocation did; also the SQS partial-batch answer (`batchItemFailures`).
#[derive(Debug, Default, Serialize)]
pub struct HealerResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
    /// Object events read from the invocation.
    pub objects: usize,
    /// Events about nothing this healer looks after, with why.
    pub ignored: Vec<Ignored>,
    pub passes: Vec<PassOutcome>,
    /// Incidents, repairs, unrepairable and resolved events, in order.
    pub events: Vec<HealerEvent>,
}

/// An object event the healer did not act on.
#[derive(Debug, Serialize)]
pub struct Ignored {
    pub bucket: String,
    pub key: String,
    pub why: String,
}

/// One pass over one lake.
#[derive(Debug, Default, Serialize)]
pub struct PassOutcome {
    /// `s3://bucket/prefix` of the lake.
    pub lake: String,
    /// The tables covered (empty: all of them).
    pub tables: Vec<String>,
    pub findings: usize,
    pub new_incidents: usize,
    pub repaired: usize,
    pub unrepairable: usize,
    pub error: Option<String>,
}

/// Where an object event leads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    /// The standing lake.
    Standing,
    /// A game-day lake rooted at this bucket prefix.
    GameDay(String),
}

/// The function: its healers and where it publishes.
pub struct HealerFunction {
    config: FunctionConfig,
    bucket: String,
    prefix: String,
    standing: Arc<Healer>,
    quarantine: Option<(Arc<S3Store>, String)>,
    game_days: AsyncMutex<HashMap<String, Arc<Healer>>>,
    /// This invocation's events, each with the lake (`s3://bucket/root`) whose pass raised it.
    collected: Arc<Mutex<Vec<(String, HealerEvent)>>>,
    topic: Option<Topic>,
    cloudwatch: Option<CloudWatch>,
    governance: Option<Governance>,
}

impl HealerFunction {
    /// Opens the standing lake and the publishing clients (once per cold start).
    pub async fn start(config: FunctionConfig) -> Result<HealerFunction, HealerError> {
        let (bucket, prefix) = S3Store::parse_url(&config.lake).ok_or_else(|| {
            HealerError::Invalid(format!("LAKEHEALER_LAKE={:?}: expected s3://BUCKET[/PREFIX]", config.lake))
        })?;
        let lake = Lake::open(&config.lake, &config.catalog, &config.connection).await?;
        let quarantine = match &config.quarantine {
            Some(url) => Some((
                Lake::open_store(&config.connection, url)
                    .await
                    .map_err(|e| HealerError::Invalid(format!("LAKEHEALER_QUARANTINE: {e}")))?,
                url.clone(),
            )),
            None => None,
        };
        let collected = Arc::new(Mutex::new(Vec::new()));
        let standing_root = if prefix.is_empty() { bucket.clone() } else { prefix.clone() };
        let standing = Arc::new(Healer::new(
            lake,
            healer_config(&config, &quarantine, &standing_root),
            collector(&collected, &config.lake),
        ));
        let topic = match &config.sns_topic {
            Some(arn) => Some(Topic::connect(&config.connection, arn).await),
            None => None,
        };
        let cloudwatch = match &config.metrics_namespace {
            Some(_) => Some(CloudWatch::connect(&config.connection).await),
            None => None,
        };
        let governance = match &config.lf_policy {
            Some(setting) => Some(Governance::from_setting(setting, &config.connection).await?),
            None => None,
        };
        Ok(HealerFunction {
            config,
            bucket,
            prefix,
            standing,
            quarantine,
            game_days: AsyncMutex::new(HashMap::new()),
            collected,
            topic,
            cloudwatch,
            governance,
        })
    }

    /// Handles one invocation. An error is returned only for a payload that is not an event
    /// (or, invoked directly, a pass that failed), so Lambda's retry and dead-letter queue take
    /// over; SQS messages whose pass failed are listed in `batchItemFailures` instead.
    pub async fn handle(&self, payload: serde_json::Value) -> Result<HealerResponse, HealerError> {
        let invocation = invocation::read(&payload)?;
        let mut response = HealerResponse::default();
        // Which lakes (and tables) each message leads to.
        let mut work: BTreeMap<Route, (Trigger, Vec<String>)> = BTreeMap::new();
        let mut messages_by_route: BTreeMap<Route, Vec<String>> = BTreeMap::new();
        let mut direct = false;
        let mut reconcile = false;
        let batches: Vec<(Option<String>, Vec<ObjectEvent>)> = match invocation {
            Invocation::Queue(records) => records.into_iter().map(|(id, ev)| (Some(id), ev)).collect(),
            Invocation::Direct(events) => {
                direct = true;
                vec![(None, events)]
            }
            Invocation::Reconcile => {
                reconcile = true;
                Vec::new()
            }
        };
        for (message, events) in batches {
            for event in events {
                response.objects += 1;
                let (route, key) = match self.route(&event) {
                    Ok(r) => r,
                    Err(NotRouted(why)) => {
                        response.ignored.push(Ignored { bucket: event.bucket, key: event.key, why });
                        continue;
                    }
                };
                let tables = match &route {
                    Route::Standing => match self.tables_holding(&key).await {
                        Ok(t) if t.is_empty() => {
                            response.ignored.push(Ignored {
                                bucket: event.bucket,
                                key: event.key,
                                why: "not in any table of the catalog".into(),
                            });
                            continue;
                        }
                        Ok(t) => t,
                        Err(e) => {
                            // The catalog did not answer: the pass below fails the same way.
                            tracing::warn!(error = %e, "reading the catalog");
                            Vec::new()
                        }
                    },
                    Route::GameDay(_) => Vec::new(),
                };
                let entry = work.entry(route.clone()).or_insert_with(|| {
                    let trigger = Trigger {
                        via: if event.via_eventbridge { TriggerKind::EventBridge } else { TriggerKind::S3Event },
                        key: Some(event.key.clone()),
                        event_time: Some(event.time.unwrap_or_else(chrono::Utc::now)),
                    };
                    (trigger, Vec::new())
                });
                for t in tables {
                    if !entry.1.contains(&t) {
                        entry.1.push(t);
                    }
                }
                if let Some(id) = &message {
                    messages_by_route.entry(route).or_default().push(id.clone());
                }
            }
        }

        let mut failures: Vec<String> = Vec::new();
        if reconcile {
            let outcome = self.run_pass(&self.standing, &[], &Trigger::of(TriggerKind::Reconcile)).await;
            failures.extend(outcome.error.clone());
            response.passes.push(outcome);
            // Game-day lakes too: damage that raised no event (a partition dropped from the
            // catalog, a lost notification) is found there on schedule as well.
            match self.game_day_roots().await {
                Ok(roots) => {
                    for root in roots {
                        let healer = self.game_day(&root).await;
                        let outcome = self.run_pass(&healer, &[], &Trigger::of(TriggerKind::Reconcile)).await;
                        failures.extend(outcome.error.clone());
                        response.passes.push(outcome);
                    }
                }
                Err(e) => failures.push(format!("listing the game-day lakes: {e}")),
            }
        }
        for (route, (trigger, tables)) in &work {
            let healer = match route {
                Route::Standing => self.standing.clone(),
                Route::GameDay(root) => self.game_day(root).await,
            };
            let outcome = self.run_pass(&healer, tables, trigger).await;
            if let Some(error) = &outcome.error {
                failures.push(error.clone());
                for id in messages_by_route.get(route).into_iter().flatten() {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id.clone();
                    response.batch_item_failures.push(failure);
                }
            }
            response.passes.push(outcome);
        }
        // Grants are checked on every invocation: a revoked grant raises no S3 event.
        if let Some(governance) = &self.governance {
            let outcome = match governance.pass(self.config.mode, &collector(&self.collected, "lakeformation")).await {
                Ok(r) => PassOutcome {
                    lake: "lakeformation".into(),
                    findings: r.findings,
                    new_incidents: r.new_incidents,
                    repaired: r.repaired,
                    unrepairable: r.unrepairable,
                    ..PassOutcome::default()
                },
                Err(e) => {
                    let error = format!("lakeformation: {e}");
                    (collector(&self.collected, "lakeformation"))(HealerEvent::PassFailed {
                        error: error.clone(),
                        at: chrono::Utc::now(),
                    });
                    PassOutcome { lake: "lakeformation".into(), error: Some(error), ..PassOutcome::default() }
                }
            };
            failures.extend(outcome.error.clone());
            response.passes.push(outcome);
        }

        let collected = std::mem::take(&mut *self.collected.lock().expect("collector lock"));
        response.events = collected.iter().map(|(_, event)| event.clone()).collect();
        self.publish(&collected, &response).await;
        if (direct || reconcile) && !failures.is_empty() {
            return Err(HealerError::Invalid(format!("pass failed: {}", failures.join("; "))));
        }
        Ok(response)
    }

    /// Which lake `event` is about and its key relative to that lake's root, or why it is about
    /// none.
    fn route(&self, event: &ObjectEvent) -> Result<(Route, String), NotRouted> {
        if event.bucket != self.bucket {
            return Err(NotRouted(format!("bucket {} is not the lake's ({})", event.bucket, self.bucket)));
        }
        // Quarantine inside a lake is not the lake's data (a quarantine bucket raises no events
        // here: it is another bucket).
        let in_quarantine = |rel: &str| self.quarantine.is_none() && under_quarantine(QUARANTINE_PREFIX, rel);
        // The healer's own state (its row inventory) is written by healers, not by the lake.
        let healer_state = |rel: &str| under_quarantine(HEALER_STATE_PREFIX, rel);
        if let Some(gameday) = &self.config.gameday_prefix {
            let gameday = gameday.trim_matches('/');
            if let Some(rest) = event.key.strip_prefix(&format!("{gameday}/")) {
                let mut parts = rest.splitn(3, '/');
                return match (parts.next(), parts.next(), parts.next()) {
                    (Some(run), Some(scenario), Some(rel)) if !run.is_empty() && !scenario.is_empty() => {
                        // lakechaos's records: a run's reports (`<run>/_reports/`), a lake's
                        // golden, journal and collected incidents (`_lakechaos/`).
                        if lakechaos_lake::layout::is_hidden(scenario) || under_quarantine(HARNESS_RECORDS_PREFIX, rel)
                        {
                            Err(NotRouted("lakechaos records".into()))
                        } else if in_quarantine(rel) {
                            Err(NotRouted("in quarantine".into()))
                        } else if healer_state(rel) {
                            Err(NotRouted("healer state".into()))
                        } else {
                            Ok((Route::GameDay(format!("{gameday}/{run}/{scenario}")), rel.to_string()))
                        }
                    }
                    _ => Err(NotRouted(format!(
                        "under {gameday}/ but not in a game-day lake ({gameday}/RUN/SCENARIO/...)"
                    ))),
                };
            }
        }
        let rel = if self.prefix.is_empty() {
            event.key.as_str()
        } else {
            match event.key.strip_prefix(&format!("{}/", self.prefix)) {
                Some(rel) => rel,
                None => return Err(NotRouted(format!("outside the lake's prefix {}/", self.prefix))),
            }
        };
        if in_quarantine(rel) {
            return Err(NotRouted("in quarantine".into()));
        }
        if healer_state(rel) {
            return Err(NotRouted("healer state".into()));
        }
        Ok((Route::Standing, rel.to_string()))
    }

    /// The tables of the standing lake whose data holds `key` (relative to the lake root).
    async fn tables_holding(&self, key: &str) -> Result<Vec<String>, HealerError> {
        let catalog = &self.standing.lake().catalog;
        let mut out = Vec::new();
        for name in catalog.list_tables().await? {
            if let Some(table) = catalog.get_table(&name).await? {
                let location = table.location.trim_end_matches('/');
                let landing = table.landing.as_deref().map(|p| p.trim_end_matches('/'));
                let under = |p: &str| p.is_empty() || key.starts_with(&format!("{p}/"));
                if under(location) || landing.is_some_and(under) {
                    out.push(name);
                }
            }
        }
        Ok(out)
    }

    /// The healer of the game-day lake at `root` (file catalog inside it), made on first use.
    /// Every game-day lake under the game-day prefix (`<prefix>/<run>/<scenario>`, each with its
    /// file catalog), for the scheduled reconcile.
    async fn game_day_roots(&self) -> Result<Vec<String>, HealerError> {
        let Some(prefix) = &self.config.gameday_prefix else { return Ok(Vec::new()) };
        let prefix = prefix.trim_matches('/');
        let bucket = S3Store::connect(&self.config.connection, &self.bucket, "").await;
        let mut roots = std::collections::BTreeSet::new();
        for obj in lakechaos_lake::ObjectStore::list(&bucket, &format!("{prefix}/")).await? {
            let rest = &obj.key[prefix.len() + 1..];
            let mut parts = rest.splitn(4, '/');
            if let (Some(run), Some(scenario), Some(next)) = (parts.next(), parts.next(), parts.next()) {
                if format!("{next}/") == lakechaos_lake::file_catalog::CATALOG_PREFIX {
                    roots.insert(format!("{prefix}/{run}/{scenario}"));
                }
            }
        }
        Ok(roots.into_iter().collect())
    }

    async fn game_day(&self, root: &str) -> Arc<Healer> {
        let mut lakes = self.game_days.lock().await;
        if let Some(h) = lakes.get(root) {
            return h.clone();
        }
        let lake = Lake::open_s3(&self.config.connection, &self.bucket, root, &CatalogKind::File).await;
        let config = healer_config(&self.config, &self.quarantine, root);
        let url = format!("s3://{}/{root}", self.bucket);
        let healer = Arc::new(Healer::new(lake, config, collector(&self.collected, &url)));
        lakes.insert(root.to_string(), healer.clone());
        healer
    }

    async fn run_pass(&self, healer: &Healer, tables: &[String], trigger: &Trigger) -> PassOutcome {
        let lake = healer.lake().store.describe();
        let result = if tables.is_empty() {
            healer.pass_triggered(trigger).await
        } else {
            healer.pass_tables(tables, trigger).await
        };
        match result {
            Ok(r) => PassOutcome {
                lake,
                tables: tables.to_vec(),
                findings: r.scan.findings.len(),
                new_incidents: r.new_incidents,
                repaired: r.repaired,
                unrepairable: r.unrepairable,
                error: None,
            },
            Err(e) => {
                tracing::warn!(error = %e, %lake, "pass failed");
                let error = format!("{lake}: {e}");
                (collector(&self.collected, &lake))(HealerEvent::PassFailed {
                    error: error.clone(),
                    at: chrono::Utc::now(),
                });
                PassOutcome { lake, tables: tables.to_vec(), error: Some(error), ..PassOutcome::default() }
            }
        }
    }

    /// SNS (every incident, repair, unrepairable and resolution, before the invocation ends:
    /// a frozen function publishes nothing) and CloudWatch. Each message names its lake (a
    /// `lake` field beside the event's own, and a `lake` message attribute for subscription
    /// filters): a game day's scoring step matches incidents to its lakes by it.
    async fn publish(&self, events: &[(String, HealerEvent)], response: &HealerResponse) {
        if let Some(topic) = &self.topic {
            for (lake, event) in events {
                let Some((subject, kind)) = crate::publish::subject_of(event) else { continue };
                let body = with_lake(event, lake);
                if let Err(e) = topic.publish(subject, &body, &[("event", kind), ("lake", lake)]).await {
                    tracing::warn!(error = %e, topic = topic.arn(), "publishing to SNS failed");
                }
            }
        }
        if let (Some(cloudwatch), Some(namespace)) = (&self.cloudwatch, &self.config.metrics_namespace) {
            if let Err(e) = cloudwatch.put(namespace, &metrics::data(response)).await {
                tracing::warn!(error = %e, %namespace, "publishing metrics to CloudWatch failed");
            }
        }
    }
}

/// A lake's healer settings; with a quarantine bucket, the lake's objects go under its `root`
/// there (the bucket name for a lake at a bucket's root), so every lake's quarantine is apart.
/// Logging for a function executable: CloudWatch Logs adds its own timestamps, and colours would
/// show as escape codes. `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .init();
}

fn healer_config(config: &FunctionConfig, quarantine: &Option<(Arc<S3Store>, String)>, root: &str) -> HealerConfig {
    let mut healer =
        HealerConfig { mode: config.mode, start_crawler: config.start_crawler.clone(), ..HealerConfig::default() };
    if let Some((store, url)) = quarantine {
        healer.quarantine_prefix = root.trim_matches('/').to_string();
        healer.quarantine_store = Some(crate::config::QuarantineStore { store: store.clone(), url: url.clone() });
    }
    healer
}

/// An event as published: its own JSON with the lake beside it (readers of [`HealerEvent`]
/// ignore the extra field).
fn with_lake(event: &HealerEvent, lake: &str) -> String {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.insert("lake".into(), lake.into());
    }
    value.to_string()
}

/// A sink keeping the events of `lake`'s passes for the invocation's answer, and logging them
/// as JSON lines.
fn collector(collected: &Arc<Mutex<Vec<(String, HealerEvent)>>>, lake: &str) -> EventSink {
    let collected = collected.clone();
    let lake = lake.to_string();
    Arc::new(move |event: HealerEvent| {
        if crate::publish::subject_of(&event).is_some() || matches!(event, HealerEvent::PassFailed { .. }) {
            tracing::info!(event = %serde_json::to_string(&event).unwrap_or_default(), "healer event");
        }
        if let Ok(mut v) = collected.lock() {
            v.push((lake.clone(), event));
        }
    })
}
