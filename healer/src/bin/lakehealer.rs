//! `lakehealer`: detect and repair damage in a Parquet data lake or a PostgreSQL table.

use clap::{Parser, Subcommand, ValueEnum};
use lakechaos_lake::pg::PgLayout;
use lakechaos_lake::Lake;
use lakehealer::events::{HealerEvent, RepairAction, Trigger, TriggerKind};
use lakehealer::metrics::HealerMetrics;
use lakehealer::pg::dbt::DbtModels;
use lakehealer::pg::{PgHealer, PgHealerConfig};
use lakehealer::publish::fanout;
use lakehealer::{Depth, Healer, HealerConfig, Mode};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "lakehealer",
    version,
    about = "Detects and repairs damage in a Parquet data lake: quarantine, restore from a named source, catalog re-sync."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Where the lake and its catalog are.
#[derive(clap::Args)]
struct Location {
    /// Lake root: a directory, s3://BUCKET/PREFIX (credentials and region the usual AWS way), or
    /// a PostgreSQL database (postgresql://USER@HOST:PORT/DB: the served table partitioned by day,
    /// healed from the same table in the `raw` schema).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX|postgresql://…")]
    lake: String,
    /// Table catalog: `file` (JSON documents under _catalog/ in the lake) or `glue:DATABASE`.
    #[arg(long, value_name = "file|glue:DATABASE", default_value = "file")]
    catalog: String,
    /// Endpoint of an S3/Glue-compatible service (an emulator such as moto).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

impl Location {
    async fn open(&self) -> Result<Lake, String> {
        lakehealer::address::open(&self.lake, &self.catalog, self.endpoint_url.as_deref())
            .await
            .map_err(|e| e.to_string())
    }
}

#[derive(clap::Args)]
struct LakeArgs {
    #[command(flatten)]
    location: Location,
    /// Only this table (repeatable; default: every registered table).
    #[arg(long = "table", value_name = "NAME")]
    tables: Vec<String>,
    /// Deepest detection tier.
    #[arg(long, value_enum, default_value = "pages")]
    depth: Depth,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also publish incidents, repairs and resolutions to this SNS topic (JSON messages with an
    /// `event` attribute).
    #[arg(long, value_name = "ARN")]
    sns_topic: Option<String>,
    /// PostgreSQL: a dbt project whose models to rebuild for the repaired days (its profile reads
    /// the connection from LAKECHAOS_PG_* variables, which are set from --lake).
    #[arg(long, value_name = "DIR")]
    dbt_project: Option<std::path::PathBuf>,
    /// PostgreSQL: the dbt executable.
    #[arg(long, value_name = "PATH", default_value = "dbt")]
    dbt: std::path::PathBuf,
    /// PostgreSQL: the models to rebuild (`dbt run --select`), e.g. `source:served.orders+` for
    /// everything downstream of the served table. Incremental models among them should take a
    /// `days` variable (ISO dates) to rebuild only the repaired days.
    #[arg(long, value_name = "SELECTOR", requires = "dbt_project")]
    dbt_select: Option<String>,
}

impl LakeArgs {
    /// The PostgreSQL URL, when the lake is a PostgreSQL database.
    fn postgres(&self) -> Option<&str> {
        let lake = self.location.lake.as_str();
        (lake.starts_with("postgresql://") || lake.starts_with("postgres://")).then_some(lake)
    }

    /// A PostgreSQL healer for `url`: `--table` names the table (default `orders`).
    fn pg_healer(
        &self,
        url: &str,
        mode: Mode,
        poll_every: Duration,
        sink: lakehealer::EventSink,
    ) -> Result<PgHealer, String> {
        let mut layout = PgLayout::default();
        match self.tables.as_slice() {
            [] => {}
            [one] => layout.table = one.clone(),
            _ => return Err("a PostgreSQL lake is healed one --table at a time".into()),
        }
        let dbt = match &self.dbt_project {
            None => None,
            Some(dir) => Some(DbtModels {
                select: self.dbt_select.clone().ok_or("--dbt-project needs --dbt-select: the models to rebuild")?,
                executable: self.dbt.clone(),
                project_dir: dir.clone(),
                profiles_dir: dir.clone(),
                target_path: std::env::temp_dir().join(format!("lakehealer-dbt-{}", std::process::id())),
                env: lakechaos_lake::pg::dbt_env(url).map_err(|e| e.to_string())?,
            }),
        };
        Ok(PgHealer::new(url, layout, PgHealerConfig { mode, poll_every, dbt }, sink))
    }
}

impl LakeArgs {
    fn connection(&self) -> lakechaos_lake::AwsConnection {
        lakechaos_lake::AwsConnection { endpoint_url: self.location.endpoint_url.clone(), ..Default::default() }
    }

    /// The printer, plus the SNS publisher when asked for (await its task before exiting).
    async fn sink(&self) -> (lakehealer::EventSink, Option<tokio::task::JoinHandle<()>>) {
        let print = printer(self.format);
        match &self.sns_topic {
            None => (print, None),
            Some(arn) => {
                let topic = lakechaos_lake::Topic::connect(&self.connection(), arn).await;
                let (publish, task) = lakehealer::publish::sns_sink(topic);
                (lakehealer::publish::fanout(vec![print, publish]), Some(task))
            }
        }
    }
}

/// Waits for the SNS publisher (if any) to drain once the healer and its sink are gone.
async fn flush(task: Option<tokio::task::JoinHandle<()>>) {
    if let Some(task) = task {
        let _ = task.await;
    }
}

#[derive(Subcommand)]
enum Command {
    /// Register an existing table from its data (schema from footers, partitions from the layout).
    Discover {
        #[command(flatten)]
        at: Location,
        /// Table name to register.
        #[arg(long, value_name = "NAME")]
        table: String,
        /// Key prefix of the table's data (default: the table name).
        #[arg(long, value_name = "PREFIX")]
        location: Option<String>,
        /// Key prefix of the raw/landing copy (default: `_landing/<table>` if present).
        #[arg(long, value_name = "PREFIX")]
        landing: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Report damage; exit 1 if there is any.
    Scan(LakeArgs),
    /// Detect and repair; exit 1 if anything is left unrepaired.
    Heal(LakeArgs),
    /// Keep detecting and repairing until interrupted.
    Watch {
        #[command(flatten)]
        args: LakeArgs,
        /// Full reconcile pass interval (changes are picked up from events at once).
        #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
        reconcile_every: Duration,
        /// Report only; change nothing.
        #[arg(long)]
        detect_only: bool,
        /// SQS queue receiving the lake bucket's S3 event notifications: each event triggers a
        /// check at once.
        #[arg(long, value_name = "URL")]
        events_queue: Option<String>,
        /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; port 0 picks a
        /// free one, printed at start).
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
        /// Also keep the Lake Formation grants of this policy in place, checked every
        /// --reconcile-every (see `grants`).
        #[arg(long, value_name = "FILE")]
        lf_policy: Option<std::path::PathBuf>,
    },
    /// Keep the Lake Formation grants of a policy file in place: report each missing grant and
    /// (unless --detect-only) grant it again; exit 1 if any is still missing. Never revokes.
    Grants {
        /// The policy (YAML): `grants:` with principal, resource and permissions each.
        #[arg(long, value_name = "FILE")]
        policy: std::path::PathBuf,
        /// Report only; grant nothing.
        #[arg(long)]
        detect_only: bool,
        /// Endpoint of a Lake Formation-compatible service (an emulator such as moto).
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

/// Starts the `/metrics` endpoint when asked, and returns the sink that feeds it (or a no-op).
async fn metrics_endpoint(
    listen: Option<std::net::SocketAddr>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<lakehealer::EventSink, String> {
    let Some(addr) = listen else { return Ok(lakehealer::events::discard()) };
    let metrics = Arc::new(HealerMetrics::new());
    let (bound, _task) =
        lakehealer::metrics::serve(addr, Arc::clone(&metrics), stop).await.map_err(|e| e.to_string())?;
    eprintln!("metrics: http://{bound}/metrics");
    Ok(metrics.sink())
}

/// A stop signal that turns true on Ctrl-C or SIGTERM (how a container or a test stops it).
fn stop_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut t) => {
                    t.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        let _ = stop_tx.send(true);
    });
    stop_rx
}

fn main() -> ExitCode {
    lakechaos_lake::parquet_io::quiet_decoder_panics();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAKEHEALER_LOG")
                .unwrap_or_else(|_| "warn,aws_config=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn config(args: &LakeArgs, mode: Mode) -> HealerConfig {
    HealerConfig { mode, depth: args.depth, tables: args.tables.clone(), ..HealerConfig::default() }
}

fn printer(format: Format) -> lakehealer::EventSink {
    Arc::new(move |event: HealerEvent| match format {
        Format::Json => {
            if let Ok(line) = serde_json::to_string(&event) {
                println!("{line}");
            }
        }
        Format::Text => match event {
            HealerEvent::Incident { id, kind, location, tier, message, .. } => {
                println!("INCIDENT {id} {kind} at {location} ({tier:?} tier): {message}")
            }
            HealerEvent::Repair { incident, action, location, source, .. } => {
                let what = match action {
                    RepairAction::Quarantine => format!("moved {location} to {source}"),
                    RepairAction::RestoreFromLanding
                    | RepairAction::RestoreFromVersion
                    | RepairAction::RemoveDeleteMarker => {
                        format!("restored {location} from {source}")
                    }
                    RepairAction::RewriteToContract => {
                        format!("rewrote {location} to the contract (original kept at {source})")
                    }
                    RepairAction::CatalogResync => format!("registered {location} in the catalog ({source})"),
                    RepairAction::CatalogRedeclare => format!("rewrote the declared columns of {location} ({source})"),
                    RepairAction::RestoreColumns => format!("gave {location} the columns of {source}"),
                    RepairAction::AttachPartition => format!("attached {source} as {location}"),
                    RepairAction::RecreatePartition => format!("re-created {location} from {source}"),
                    RepairAction::RefillFromSource => format!("refilled {location} from {source}"),
                    RepairAction::RematerializeModels => format!("rebuilt {location} ({source})"),
                    RepairAction::Regrant => format!("granted {location} again ({source})"),
                };
                println!("REPAIR   {incident} {what}");
            }
            HealerEvent::Unrepairable { incident, location, reason, .. } => {
                println!("UNREPAIRABLE {incident} {location}: {reason}")
            }
            HealerEvent::Resolved { incident, location, .. } => println!("RESOLVED {incident} {location}"),
            HealerEvent::PassFailed { error, .. } => eprintln!("PASS FAILED (retrying): {error}"),
            HealerEvent::Scan { .. } => {}
        },
    })
}

/// Prints PostgreSQL findings (the file healer's scan prints its own report with file counts).
fn print_findings(format: Format, findings: &[lakehealer::Finding]) -> Result<(), String> {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "findings": findings })).map_err(|e| e.to_string())?
        ),
        Format::Text => {
            for f in findings {
                println!("{:<17} {:<50} [{:?}] {}", f.kind.as_str(), f.location, f.tier, f.message);
            }
            println!("{} finding(s)", findings.len());
        }
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Discover { at, table, location, landing, format } => {
            let lake = at.open().await?;
            let found = lakehealer::discover::discover(&lake, &table, location.as_deref(), landing.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&found).map_err(|e| e.to_string())?),
                Format::Text => {
                    println!(
                        "registered table {} at {} in {}",
                        found.table.name,
                        found.table.location,
                        lake.catalog.describe()
                    );
                    println!(
                        "  partitions: {} (keys: {})",
                        found.table.partitions.len(),
                        found.table.partition_keys.join(", ")
                    );
                    println!("  landing:    {}", found.table.landing.as_deref().unwrap_or("(none)"));
                    println!("  files read: {}", found.files_read);
                    for c in &found.table.columns {
                        println!(
                            "  column {:<16} {:<22} nullable={:<5} max_null_fraction={:.2}",
                            c.name, c.data_type, c.nullable, c.max_null_fraction
                        );
                    }
                    for (what, why) in &found.skipped {
                        println!("  skipped {what}: {why}");
                    }
                }
            }
            Ok(0)
        }
        Command::Scan(args) if args.postgres().is_some() => {
            let url = args.postgres().expect("guarded");
            let healer =
                args.pg_healer(url, Mode::DetectOnly, Duration::from_secs(1), lakehealer::events::discard())?;
            let findings = healer.scan().await.map_err(|e| e.to_string())?;
            print_findings(args.format, &findings)?;
            Ok(if findings.is_empty() { 0 } else { 1 })
        }
        Command::Heal(args) if args.postgres().is_some() => {
            let url = args.postgres().expect("guarded");
            let healer = args.pg_healer(url, Mode::Heal, Duration::from_secs(1), printer(args.format))?;
            // Each pass repairs what it finds; a repair can uncover more (a column restored
            // makes the per-day checks possible), so pass until clean or five passes.
            for _ in 0..5 {
                if healer.pass(Trigger::of(TriggerKind::Scan)).await.map_err(|e| e.to_string())?.findings.is_empty() {
                    break;
                }
            }
            let left = healer.scan().await.map_err(|e| e.to_string())?;
            if args.format == Format::Text {
                println!("{} finding(s) left", left.len());
            }
            Ok(if left.is_empty() { 0 } else { 1 })
        }
        Command::Watch { args, reconcile_every, detect_only, metrics_listen, .. } if args.postgres().is_some() => {
            let url = args.postgres().expect("guarded");
            let mode = if detect_only { Mode::DetectOnly } else { Mode::Heal };
            let stop_rx = stop_on_signal();
            let metrics = metrics_endpoint(metrics_listen, stop_rx.clone()).await?;
            let sink = fanout(vec![printer(args.format), metrics]);
            let healer = Arc::new(args.pg_healer(url, mode, reconcile_every, sink)?);
            lakehealer::pg::watch(healer, stop_rx).await.map_err(|e| e.to_string())?;
            Ok(0)
        }
        Command::Scan(args) => {
            let lake = args.location.open().await?;
            let healer = Healer::new(lake, config(&args, Mode::DetectOnly), lakehealer::events::discard());
            let report = healer.scan().await.map_err(|e| e.to_string())?;
            match args.format {
                Format::Json => {
                    let doc = serde_json::json!({
                        "findings": report.findings,
                        "files_checked": report.files_checked,
                        "footers_read": report.footers_read,
                        "pages_decoded": report.pages_decoded,
                        "duration_ms": report.duration.as_secs_f64() * 1000.0,
                    });
                    println!("{}", serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?);
                }
                Format::Text => {
                    for f in &report.findings {
                        println!("{:<17} {:<50} [{:?}] {}", f.kind.as_str(), f.location, f.tier, f.message);
                    }
                    println!(
                        "{} finding(s); {} file(s) checked, {} footer(s) read, {} decoded, in {:.1} ms",
                        report.findings.len(),
                        report.files_checked,
                        report.footers_read,
                        report.pages_decoded,
                        report.duration.as_secs_f64() * 1000.0
                    );
                }
            }
            Ok(if report.findings.is_empty() { 0 } else { 1 })
        }
        Command::Heal(args) => {
            let lake = args.location.open().await?;
            let (sink, publisher) = args.sink().await;
            let healer = Healer::new(lake, config(&args, Mode::Heal), sink);
            healer.heal_until_settled(5).await.map_err(|e| e.to_string())?;
            let left = healer.scan().await.map_err(|e| e.to_string())?;
            drop(healer);
            flush(publisher).await;
            if args.format == Format::Text {
                println!("{} finding(s) left", left.findings.len());
            }
            Ok(if left.findings.is_empty() { 0 } else { 1 })
        }
        Command::Grants { policy, detect_only, endpoint_url, format } => {
            let conn = lakechaos_lake::AwsConnection { endpoint_url, ..Default::default() };
            let governance =
                lakehealer::governance::Governance::load(&policy, &conn).await.map_err(|e| e.to_string())?;
            let mode = if detect_only { Mode::DetectOnly } else { Mode::Heal };
            governance.pass(mode, &printer(format)).await.map_err(|e| e.to_string())?;
            let left = governance.check().await.map_err(|e| e.to_string())?;
            if format == Format::Text {
                println!("{} of {} grant(s) missing", left.len(), governance.policy().grants.len());
            }
            Ok(if left.is_empty() { 0 } else { 1 })
        }
        Command::Watch { args, reconcile_every, detect_only, events_queue, metrics_listen, lf_policy } => {
            let lake = args.location.open().await?;
            let mode = if detect_only { Mode::DetectOnly } else { Mode::Heal };
            let event_queue = match &events_queue {
                Some(url) => Some(
                    lakechaos_lake::EventQueue::connect(&args.connection(), url).await.map_err(|e| e.to_string())?,
                ),
                None => None,
            };
            let cfg = HealerConfig { reconcile_every, event_queue, ..config(&args, mode) };
            let (sink, publisher) = args.sink().await;
            let stop_rx = stop_on_signal();
            let metrics = metrics_endpoint(metrics_listen, stop_rx.clone()).await?;
            let sink = fanout(vec![sink, metrics]);
            let grants = match &lf_policy {
                Some(path) => {
                    let governance = lakehealer::governance::Governance::load(path, &args.connection())
                        .await
                        .map_err(|e| e.to_string())?;
                    let (sink, stop) = (sink.clone(), stop_rx.clone());
                    Some(tokio::spawn(async move { governance.keep(mode, sink, reconcile_every, stop).await }))
                }
                None => None,
            };
            let healer = Arc::new(Healer::new(lake, cfg, sink));
            lakehealer::watch::watch(healer, stop_rx).await.map_err(|e| e.to_string())?;
            if let Some(task) = grants {
                let _ = task.await;
            }
            flush(publisher).await;
            Ok(0)
        }
    }
}
