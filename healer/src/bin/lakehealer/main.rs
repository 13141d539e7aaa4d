//! `lakehealer`: detect and repair damage in a Parquet data lake or a PostgreSQL table.

mod args;
mod output;

use args::{config, flush, LakeArgs, Location};
use clap::{Parser, Subcommand};
use lakehealer::cli::{CliResult, Logging};
use lakehealer::events::{Trigger, TriggerKind};
use lakehealer::inventory::Inventory;
use lakehealer::publish::fanout;
use lakehealer::{Healer, HealerConfig, Mode};
use output::{metrics_endpoint, print_findings, printer, stop_on_signal, Format};
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

#[derive(Subcommand)]
enum Command {
    /// Register an existing table from its data (schema from footers, partitions from the
    /// layout); for an Iceberg table, declare its contract in its properties (the current
    /// schema, null allowances from the manifests' statistics).
    Discover {
        #[command(flatten)]
        at: Location,
        /// Table name to register (`NAMESPACE.TABLE` for an Iceberg table).
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
    /// Show the row inventory of a table (rows per file as last judged clean), or forget it
    /// after rows were removed on purpose: the next clean pass learns the counts again.
    Inventory {
        #[command(flatten)]
        at: Location,
        #[arg(long, value_name = "NAME")]
        table: String,
        /// Forget the table's inventory.
        #[arg(long)]
        forget: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// A table's contract as a Glue Data Quality ruleset (DQDL) on stdout: the columns, the
    /// completeness the contract bounds, the inventoried row count as a floor.
    Rules {
        #[command(flatten)]
        at: Location,
        #[arg(long, value_name = "NAME")]
        table: String,
        /// The rule language (Glue Data Quality's DQDL is the one there is).
        #[arg(long, value_name = "dqdl", default_value = "dqdl", value_parser = ["dqdl"])]
        format: String,
        /// Also create the ruleset under this name over the table in its Glue database (or
        /// update its rules); where the endpoint has no Glue Data Quality, say so and skip.
        #[arg(long, value_name = "NAME")]
        create_ruleset: Option<String>,
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
fn main() -> ExitCode {
    let cli = Cli::parse();
    lakehealer::cli::main(Logging { env_var: "LAKEHEALER_LOG", default_filter: "warn,aws_config=error" }, run(cli))
}

async fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Discover { at, table, format, .. } if at.iceberg(&table) => {
            let lake = at.open().await?;
            let iceberg = lake
                .iceberg_table(&table)
                .ok_or_else(|| format!("catalog {} holds no Iceberg tables", at.catalog))?
                .map_err(|e| e.to_string())?;
            let found = lakehealer::iceberg::discover::discover(&iceberg).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&found)?),
                Format::Text => {
                    let what = if found.committed { "declared" } else { "already declares" };
                    println!(
                        "Iceberg table {} {what} its contract: schema {} ({})",
                        found.table, found.contract_schema_id, found.metadata_location
                    );
                    println!("  live files measured: {}", found.files_measured);
                    for c in &found.columns {
                        println!(
                            "  column {:<16} {:<22} nullable={:<5} max_null_fraction={:.2}",
                            c.name, c.data_type, c.nullable, c.max_null_fraction
                        );
                    }
                    for c in &found.unmeasured {
                        println!("  column {c}: some live files have no null statistics for it");
                    }
                }
            }
            Ok(0)
        }
        Command::Discover { at, table, location, landing, format } => {
            let lake = at.open().await?;
            let found = lakehealer::discover::discover(&lake, &table, location.as_deref(), landing.as_deref()).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&found)?),
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
        Command::Scan(args) if args.iceberg() => {
            let healer =
                args.iceberg_healer(Mode::DetectOnly, Duration::from_secs(1), lakehealer::events::discard()).await?;
            let findings = healer.scan().await?;
            print_findings(args.format, &findings)?;
            Ok(if findings.is_empty() { 0 } else { 1 })
        }
        Command::Heal(args) if args.iceberg() && args.dry_run => {
            let healer =
                args.iceberg_healer(Mode::DetectOnly, Duration::from_secs(1), lakehealer::events::discard()).await?;
            let plan = healer.plan().await?;
            match args.format {
                Format::Json => {
                    let steps: Vec<_> =
                        plan.iter().map(|(f, repair)| serde_json::json!({ "finding": f, "repair": repair })).collect();
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({ "dry_run": true, "plan": steps }))?
                    );
                }
                Format::Text => {
                    for (f, repair) in &plan {
                        println!("{:<17} {}\n    would: {repair}", f.kind.as_str(), f.location);
                    }
                    println!("{} finding(s); dry run: nothing was changed", plan.len());
                }
            }
            Ok(if plan.is_empty() { 0 } else { 1 })
        }
        Command::Heal(args) if args.iceberg() => {
            let (sink, publisher) = args.sink().await;
            let healer = args.iceberg_healer(Mode::Heal, Duration::from_secs(1), sink).await?;
            // A repair can uncover more (a repointed table is read anew): pass until clean.
            for _ in 0..5 {
                if healer.pass(Trigger::of(TriggerKind::Scan)).await?.findings.is_empty() {
                    break;
                }
            }
            let left = healer.scan().await?;
            drop(healer);
            flush(publisher).await;
            if args.format == Format::Text {
                println!("{} finding(s) left", left.len());
            }
            Ok(if left.is_empty() { 0 } else { 1 })
        }
        Command::Watch { args, reconcile_every, detect_only, metrics_listen, .. } if args.iceberg() => {
            let mode = if detect_only { Mode::DetectOnly } else { Mode::Heal };
            let stop_rx = stop_on_signal();
            let metrics = metrics_endpoint(metrics_listen, stop_rx.clone()).await?;
            let sink = fanout(vec![printer(args.format), metrics]);
            let poll = reconcile_every.min(Duration::from_millis(500));
            let healer = Arc::new(args.iceberg_healer(mode, poll, sink).await?);
            lakehealer::iceberg::watch(healer, stop_rx).await?;
            Ok(0)
        }
        Command::Scan(args) if args.postgres().is_some() => {
            let url = args.postgres().expect("guarded");
            let healer =
                args.pg_healer(url, Mode::DetectOnly, Duration::from_secs(1), lakehealer::events::discard())?;
            let findings = healer.scan().await?;
            print_findings(args.format, &findings)?;
            Ok(if findings.is_empty() { 0 } else { 1 })
        }
        Command::Heal(args) if args.postgres().is_some() => {
            let url = args.postgres().expect("guarded");
            let healer = args.pg_healer(url, Mode::Heal, Duration::from_secs(1), printer(args.format))?;
            // Each pass repairs what it finds; a repair can uncover more (a column restored
            // makes the per-day checks possible), so pass until clean or five passes.
            for _ in 0..5 {
                if healer.pass(Trigger::of(TriggerKind::Scan)).await?.findings.is_empty() {
                    break;
                }
            }
            let left = healer.scan().await?;
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
            lakehealer::pg::watch(healer, stop_rx).await?;
            Ok(0)
        }
        Command::Scan(args) => {
            let lake = args.location.open_registered().await?;
            let healer = Healer::new(lake, config(&args, Mode::DetectOnly), lakehealer::events::discard());
            let report = healer.scan().await?;
            match args.format {
                Format::Json => {
                    let doc = serde_json::json!({
                        "findings": report.findings,
                        "files_checked": report.files_checked,
                        "footers_read": report.footers_read,
                        "pages_decoded": report.pages_decoded,
                        "duration_ms": report.duration.as_secs_f64() * 1000.0,
                    });
                    println!("{}", serde_json::to_string_pretty(&doc)?);
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
            let lake = args.location.open_registered().await?;
            let (sink, publisher) = args.sink().await;
            let healer = Healer::new(lake, config(&args, Mode::Heal), sink);
            healer.heal_until_settled(5).await?;
            let left = healer.scan_retrying().await?;
            drop(healer);
            flush(publisher).await;
            if args.format == Format::Text {
                println!("{} finding(s) left", left.findings.len());
            }
            Ok(if left.findings.is_empty() { 0 } else { 1 })
        }
        Command::Inventory { at, table, forget, format } => {
            let lake = at.open_registered().await?;
            if lake.catalog.get_table(&table).await?.is_none() {
                return Err(format!("no table {table} is registered in {}", lake.catalog.describe()).into());
            }
            if forget {
                let had = Inventory::forget(lake.store.as_ref(), &table).await?;
                println!("{}", if had { "inventory forgotten" } else { "no inventory to forget" });
                return Ok(0);
            }
            let inventory = Inventory::load(lake.store.as_ref(), &table).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&inventory)?),
                Format::Text => {
                    for (key, entry) in &inventory.files {
                        println!("{:>12}  {key}", entry.rows);
                    }
                    let total: u64 = inventory.files.values().map(|e| e.rows).sum();
                    println!("{} file(s), {total} row(s)", inventory.files.len());
                }
            }
            Ok(0)
        }
        Command::Rules { at, table, format: _, create_ruleset } => {
            let lake = at.open_registered().await?;
            let Some(def) = lake.catalog.get_table(&table).await? else {
                return Err(format!("no table {table} is registered in {}", lake.catalog.describe()).into());
            };
            let inventory = Inventory::load(lake.store.as_ref(), &table).await?;
            let rows: u64 = inventory.files.values().map(|e| e.rows).sum();
            let dqdl = lakehealer::dqdl::ruleset(&def, (!inventory.files.is_empty()).then_some(rows));
            print!("{dqdl}");
            let Some(name) = create_ruleset else { return Ok(0) };
            let Some(database) = at.catalog.strip_prefix("glue:") else {
                return Err("--create-ruleset needs a Glue catalog (--catalog glue:DATABASE)".into());
            };
            let conn = lakechaos_lake::AwsConnection { endpoint_url: at.endpoint_url.clone(), ..Default::default() };
            use lakechaos_lake::glue_quality::{put_ruleset, RulesetOutcome};
            match put_ruleset(&conn, &name, &dqdl, database, &table).await? {
                RulesetOutcome::Created => eprintln!("created data quality ruleset {name} over {database}.{table}"),
                RulesetOutcome::Updated => eprintln!("updated data quality ruleset {name} over {database}.{table}"),
                RulesetOutcome::Unsupported(why) => eprintln!("ruleset {name} skipped: {why}"),
            }
            Ok(0)
        }
        Command::Grants { policy, detect_only, endpoint_url, format } => {
            let conn = lakechaos_lake::AwsConnection { endpoint_url, ..Default::default() };
            let governance = lakehealer::governance::Governance::load(&policy, &conn).await?;
            let mode = if detect_only { Mode::DetectOnly } else { Mode::Heal };
            governance.pass(mode, &printer(format)).await?;
            let left = governance.check().await?;
            if format == Format::Text {
                println!("{} of {} grant(s) missing", left.len(), governance.policy().grants.len());
            }
            Ok(if left.is_empty() { 0 } else { 1 })
        }
        Command::Watch { args, reconcile_every, detect_only, events_queue, metrics_listen, lf_policy } => {
            let lake = args.location.open().await?;
            let mode = if detect_only { Mode::DetectOnly } else { Mode::Heal };
            let event_queue = match &events_queue {
                Some(url) => Some(lakechaos_lake::EventQueue::connect(&args.connection(), url).await?),
                None => None,
            };
            let cfg = HealerConfig { reconcile_every, event_queue, ..config(&args, mode) };
            let (sink, publisher) = args.sink().await;
            let stop_rx = stop_on_signal();
            let metrics = metrics_endpoint(metrics_listen, stop_rx.clone()).await?;
            let sink = fanout(vec![sink, metrics]);
            let grants = match &lf_policy {
                Some(path) => {
                    let governance = lakehealer::governance::Governance::load(path, &args.connection()).await?;
                    let (sink, stop) = (sink.clone(), stop_rx.clone());
                    Some(tokio::spawn(async move { governance.keep(mode, sink, reconcile_every, stop).await }))
                }
                None => None,
            };
            let healer = Arc::new(Healer::new(lake, cfg, sink));
            lakehealer::watch::watch(healer, stop_rx).await?;
            if let Some(task) = grants {
                let _ = task.await;
            }
            flush(publisher).await;
            Ok(0)
        }
    }
}
