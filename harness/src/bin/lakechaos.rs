//! `lakechaos`: run chaos scenarios against a lakehouse and its healer.
//!
//! Exit codes: 0 every scenario passed (or was skipped), 1 a scenario failed, 2 bad input or
//! environment (nothing is injected then).

use clap::{Parser, Subcommand};
use lakechaos::aws_guard::{self, AwsRun, GuardError};
use lakechaos::provision::ProviderKind;
use lakechaos::report;
use lakechaos::runner::{stream_seed, RunOptions};
use lakechaos::scenario::load::load_file;
use lakechaos::scenario::{load_paths, Scenario};
use lakechaos::target::{Target, TargetOptions};
use lakechaos_faults::{apply, FaultContext, Journal};
use rand::SeedableRng;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "lakechaos",
    version,
    about = "Breaks a data lakehouse on purpose and proves the healer mends it within an SLO, with nothing lost."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Selection {
    /// Scenario files or directories (searched for *.yaml / *.yml).
    #[arg(value_name = "PATHS", default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Only scenarios with this tag (repeatable: any of them).
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Check scenario files; report every error with file:line:col.
    Validate {
        #[command(flatten)]
        select: Selection,
    },
    /// List scenarios.
    List {
        #[command(flatten)]
        select: Selection,
    },
    /// Run scenarios against a target.
    Run {
        #[command(flatten)]
        select: Selection,
        #[command(flatten)]
        run: RunArgs,
        /// Write JUnit XML here.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write the JSON report here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write a self-contained HTML report here (summary, time-to-detect/repair chart
        /// against each SLO, failure details; opens without network).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        #[command(flatten)]
        publish: PublishArgs,
    },
    /// Run the suite repeatedly; print time to detect / repair per fault class (p50, p95) and
    /// the suite's wall time against their aims.
    Bench {
        #[command(flatten)]
        select: Selection,
        #[command(flatten)]
        run: RunArgs,
        /// How many times to run the suite (seeds SEED, SEED+1, ...).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// Write the figures as JSON here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Seed one scenario's fixture into a directory and inject its fault, leaving the lake
    /// broken (for demos and for trying `lakehealer`). Undo with `revert`.
    Inject {
        /// The scenario file.
        scenario: PathBuf,
        /// Lake directory (must be empty or absent).
        #[arg(long, value_name = "DIR")]
        lake: PathBuf,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Where to write the journal (default: <lake>.journal.json).
        #[arg(long, value_name = "FILE")]
        journal: Option<PathBuf>,
    },
    /// Run a game day from its file: a named suite against a target (normally the guarded aws
    /// staging account), stopping early on rows lost or an SLO missed by more than a factor;
    /// metrics published, a summary sent to SNS, JUnit/JSON/HTML reports written.
    Gameday {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Zip the healer and chaos functions for Lambda (runtime provided.al2023, the executable
    /// as `bootstrap`; the chaos zip carries the scenario files) and create or update
    /// `<name>-healer` and `<name>-chaos` with them.
    Deploy(DeployArgs),
    /// Check game-day lakes the chaos function seeded against the golden records it left in
    /// them (rows lost, unexpected rows, unreadable or non-conforming files, catalog drift);
    /// exit 1 if any is not whole.
    Verify {
        /// `s3://BUCKET/PREFIX`: one game-day lake, a run (`PREFIX/<run-id>`) or every run.
        #[arg(long, value_name = "s3://BUCKET/PREFIX")]
        lake: String,
        /// S3 endpoint (an emulator); otherwise AWS_ENDPOINT_URL or AWS itself.
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        /// `text` (a line per lake) or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Undo a fault from its journal (after a killed run, or after `inject`; a game-day lake's
    /// from `s3://BUCKET/.../_lakechaos/journal.json`); PostgreSQL journals carry their database
    /// URL and the SQL that reverts them.
    Revert {
        #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
        journal: PathBuf,
        /// Endpoint of the S3/Glue service holding an s3:// lake (an emulator); otherwise the
        /// usual AWS sources.
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
    },
}

#[derive(clap::Args, Clone)]
struct DeployArgs {
    /// Function name prefix: the functions are `<name>-healer` and `<name>-chaos`.
    #[arg(long)]
    name: String,
    /// Role of the healer function (needed to create it; an update keeps the current role).
    #[arg(long, value_name = "ARN")]
    healer_role: Option<String>,
    /// Role of the chaos function (needed to create it).
    #[arg(long, value_name = "ARN")]
    chaos_role: Option<String>,
    /// Where `lakehealer-lambda` and `lakechaos-chaos-lambda` were built (default: beside this
    /// executable, e.g. target/release).
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Scenario files packed with the chaos function.
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    scenarios: PathBuf,
    /// Where the zips are written (healer.zip, chaos.zip).
    #[arg(long, value_name = "DIR", default_value = "target/lambda")]
    out: PathBuf,
    /// `x86_64` or `arm64` (default: this machine's; the binaries must be built for it).
    #[arg(long)]
    architecture: Option<String>,
    /// An environment variable of the healer function (repeatable), e.g.
    /// LAKEHEALER_LAKE=s3://bucket. Given any, they replace the function's environment; given
    /// none, an update keeps it (as Terraform set it).
    #[arg(long = "healer-env", value_name = "KEY=VALUE", value_parser = key_value)]
    healer_env: Vec<(String, String)>,
    /// An environment variable of the chaos function (repeatable).
    #[arg(long = "chaos-env", value_name = "KEY=VALUE", value_parser = key_value)]
    chaos_env: Vec<(String, String)>,
    /// Only write the zips (for Terraform's healer_zip / chaos_zip).
    #[arg(long)]
    zip_only: bool,
    /// Lambda endpoint (an emulator); otherwise AWS_ENDPOINT_URL or AWS itself.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{text:?}: expected KEY=VALUE")),
    }
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    /// Where the lake lives.
    #[arg(long, value_enum, default_value = "local")]
    target: Target,
    /// Run seed: the same seed injects byte-identical faults.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Run the healer detect-only (every repair expectation then fails: proves checks can fail).
    #[arg(long)]
    no_heal: bool,
    /// Keep lakes, golden manifests and journals in this directory (default: a temporary
    /// directory, printed at start and removed at the end).
    #[arg(long, value_name = "DIR")]
    workdir: Option<PathBuf>,
    /// Who starts emulators: auto = an endpoint from LAKECHAOS_<SERVICE>_ENDPOINT, else
    /// containers when a Docker engine answers, else local processes.
    #[arg(long, value_enum, default_value = "auto")]
    provider: ProviderKind,
    /// The aws target's guard configuration (allowed accounts, bucket, prefix).
    #[arg(long, value_name = "FILE")]
    aws_config: Option<PathBuf>,
    /// The run id: groups the pushed metrics, and on the aws target keys go under
    /// <prefix>/<run-id>/ (default: from the clock).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// aws target: check the account, print the manifest of what the run would create or touch,
    /// and exit without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Publish the healer's incidents and repairs to this SNS topic on the target.
    #[arg(long, value_name = "ARN")]
    sns_topic: Option<String>,
}

/// Where to publish the run's metrics.
#[derive(clap::Args, Clone)]
struct PublishArgs {
    /// Push the run's metrics (and the healer's) to this Prometheus pushgateway at the end,
    /// grouped by job=lakechaos, run_id and target.
    #[arg(long, value_name = "URL")]
    pushgateway: Option<String>,
    /// Also publish the figures to CloudWatch (PutMetricData; the usual AWS credentials).
    #[arg(long)]
    cloudwatch: bool,
    /// CloudWatch-compatible endpoint (an emulator); default: AWS.
    #[arg(long, value_name = "URL", requires = "cloudwatch")]
    cloudwatch_endpoint: Option<String>,
    /// Also write the run's metrics (Prometheus text format) to this file.
    #[arg(long, value_name = "FILE")]
    metrics_file: Option<PathBuf>,
    /// CloudWatch namespace.
    #[arg(long, value_name = "NAME", default_value = lakechaos::metrics::cloudwatch::NAMESPACE)]
    cloudwatch_namespace: String,
}

impl PublishArgs {
    fn destinations(&self, run_id: Option<&str>) -> lakechaos::metrics::publish::Destinations {
        let cloudwatch = self.cloudwatch.then(|| {
            let conn = match &self.cloudwatch_endpoint {
                Some(url) => lakechaos_lake::AwsConnection::emulator(url),
                None => lakechaos_lake::AwsConnection::from_environment(None, None),
            };
            (conn, self.cloudwatch_namespace.clone())
        });
        lakechaos::metrics::publish::Destinations {
            pushgateway: self.pushgateway.clone(),
            cloudwatch,
            textfile: self.metrics_file.clone(),
            run_id: run_id.map(String::from).unwrap_or_else(aws_guard::default_run_id),
        }
    }
}

impl RunArgs {
    /// Run options, and the temporary work directory when none was given. Its path is printed
    /// so that a killed run can be reverted from the journals inside it.
    fn options(&self) -> Result<(RunOptions, Option<tempfile::TempDir>), String> {
        let (workdir, temp) = match &self.workdir {
            Some(dir) => (dir.clone(), None),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("lakechaos-")
                    .tempdir()
                    .map_err(|e| format!("error: temporary directory: {e}"))?;
                (tmp.path().to_path_buf(), Some(tmp))
            }
        };
        eprintln!("work directory: {} (journals for `lakechaos revert` in <scenario>/journal.json)", workdir.display());
        let opts = RunOptions {
            target: self.target,
            seed: self.seed,
            no_heal: self.no_heal,
            keep_workdir: self.workdir.is_some(),
            workdir: Some(workdir),
            target_options: TargetOptions {
                provider: self.provider,
                aws_config: self.aws_config.clone(),
                run_id: self.run_id.clone(),
            },
            sns_topic: self.sns_topic.clone(),
            ..RunOptions::default()
        };
        Ok((opts, temp))
    }
}

fn main() -> ExitCode {
    lakechaos_lake::parquet_io::quiet_decoder_panics();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAKECHAOS_LOG")
                .unwrap_or_else(|_| "warn,lakehealer=error,aws_config=error".into()),
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
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// Reverts `journal` in `lake` and says what was put back.
async fn revert_journal(journal: &Journal, lake: &lakechaos_lake::Lake) -> Result<u8, String> {
    let done = journal.revert(lake).await.map_err(|e| format!("error: {e}"))?;
    println!(
        "reverted {} ({}) in {}: {} object(s) restored, {} removed, {} catalog entr(ies) restored",
        journal.scenario,
        journal.ground_truth.detail,
        journal.lake,
        done.objects_restored,
        done.objects_removed,
        done.catalog_entries_restored
    );
    Ok(0)
}

/// `deploy`: zips, then creates or updates both functions.
async fn deploy(args: DeployArgs) -> Result<u8, String> {
    use lakechaos::lambda::deploy::{self as d, FunctionSpec};
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
            .ok_or("error: cannot tell where this executable is; give --bin-dir")?,
    };
    let architecture = args.architecture.unwrap_or_else(|| d::native_architecture().to_string());
    if !["x86_64", "arm64"].contains(&architecture.as_str()) {
        return Err(format!("error: --architecture {architecture:?}: expected x86_64 or arm64"));
    }
    let healer_zip = d::function_zip(&bin_dir.join("lakehealer-lambda"), &[]).map_err(|e| format!("error: {e}"))?;
    let scenarios = d::scenario_files(&args.scenarios).map_err(|e| format!("error: {e}"))?;
    let chaos_zip =
        d::function_zip(&bin_dir.join("lakechaos-chaos-lambda"), &scenarios).map_err(|e| format!("error: {e}"))?;
    for (file, zip) in [("healer.zip", &healer_zip), ("chaos.zip", &chaos_zip)] {
        let path = args.out.join(file);
        let sha = d::write_zip(&path, zip).map_err(|e| format!("error: {e}"))?;
        println!("wrote {} ({} bytes, sha256 {sha})", path.display(), zip.len());
    }
    if args.zip_only {
        return Ok(0);
    }
    let mut conn = lakechaos_lake::AwsConnection::from_environment(None, None);
    if let Some(url) = args.endpoint_url {
        conn.endpoint_url = Some(url);
    }
    let specs = [
        FunctionSpec {
            name: format!("{}-healer", args.name),
            description: "lakehealer: detects and repairs the object behind each S3 event".into(),
            role: args.healer_role,
            zip: healer_zip,
            architecture: architecture.clone(),
            environment: (!args.healer_env.is_empty()).then(|| args.healer_env.into_iter().collect()),
            timeout_seconds: 60,
            memory_mb: 1024,
        },
        FunctionSpec {
            name: format!("{}-chaos", args.name),
            description: "lakechaos: injects a named scenario's fault, behind the aws target's guard".into(),
            role: args.chaos_role,
            zip: chaos_zip,
            architecture,
            environment: (!args.chaos_env.is_empty()).then(|| args.chaos_env.into_iter().collect()),
            timeout_seconds: 300,
            memory_mb: 1024,
        },
    ];
    for spec in &specs {
        let done = d::deploy(&conn, spec).await.map_err(|e| format!("error: {e}"))?;
        println!(
            "{} {} ({}, runtime {}, handler {}, role {}, code sha256 {}, {} bytes)",
            if done.created { "created" } else { "updated" },
            done.name,
            done.arn,
            d::RUNTIME,
            d::HANDLER,
            done.role,
            done.code_sha256,
            done.code_size
        );
    }
    Ok(0)
}

/// `gameday --config FILE`.
async fn gameday(config: &std::path::Path) -> Result<u8, String> {
    let day = lakechaos::gameday::Gameday::load(config).map_err(|e| format!("error: {e}"))?;
    let scenarios = select(&Selection { paths: day.suite.clone(), tags: day.tags.clone() })?;
    // Everything the game day reports to must answer before anything is injected.
    day.destinations.check().await.map_err(|e| format!("error: {e}; nothing was run"))?;
    let topic = match &day.sns_topic {
        Some(arn) => {
            let topic = lakechaos_lake::Topic::connect(&day.connection, arn).await;
            topic.check().await.map_err(|e| format!("error: {e}; nothing was run"))?;
            Some(topic)
        }
        None => None,
    };
    let healer_metrics = Arc::new(lakehealer::metrics::HealerMetrics::new());
    let opts = RunOptions {
        target: day.target,
        seed: day.seed,
        target_options: day.target_options.clone(),
        healer_metrics: Some(Arc::clone(&healer_metrics)),
        ..RunOptions::default()
    };
    eprintln!("game day {}: {} scenario(s) on {}", day.name, scenarios.len(), day.target.name());
    let suite = lakechaos::runner::run_suite_until(&scenarios, &opts, |r| day.stop.check(r))
        .await
        .map_err(|e| format!("error: {e}"))?;
    print!("{}", report::summary::render(&suite));
    let suites = [suite];
    let (junit, json, html) =
        (day.reports.join("junit.xml"), day.reports.join("report.json"), day.reports.join("report.html"));
    report::junit::write(&suites, &junit).map_err(|e| writing(&junit, e))?;
    report::json::write(&suites, &json).map_err(|e| writing(&json, e))?;
    report::html::write(&suites, &html).map_err(|e| writing(&html, e))?;
    eprintln!("reports: {}", day.reports.display());
    if day.destinations.any() {
        day.destinations
            .publish(&suites[0], Some(&healer_metrics))
            .await
            .map_err(|e| format!("error: publishing metrics: {e}"))?;
    }
    if let Some(topic) = topic {
        let (subject, body) = day.summary(&suites[0]);
        topic
            .publish(&subject, &body.to_string(), &[("event", "gameday")])
            .await
            .map_err(|e| format!("error: sending the summary: {e}"))?;
        eprintln!("summary sent to {}", topic.arn());
    }
    Ok(if suites[0].all_passed() { 0 } else { 1 })
}

fn writing(path: &std::path::Path, e: std::io::Error) -> String {
    format!("error: writing {}: {e}", path.display())
}

/// `run --dry-run`: the guard's checks, then the manifest on stdout; nothing is written.
async fn dry_run(run: &RunArgs, scenarios: &[Scenario]) -> Result<u8, String> {
    if run.target != Target::Aws {
        return Err("error: --dry-run applies to --target aws".into());
    }
    let config = run.aws_config.as_deref().ok_or_else(|| format!("error: {}", GuardError::NoConfig))?;
    let aws = AwsRun::start(config, run.run_id.clone()).await.map_err(|e| format!("error: {e}"))?;
    let manifest = aws_guard::manifest(&aws, scenarios, run.seed).await.map_err(|e| format!("error: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?);
    let keys: usize = manifest.scenarios.iter().map(|s| s.keys.len()).sum();
    eprintln!(
        "dry run: account {} allowed; {} scenario(s) would write {keys} key(s) under s3://{}/{}/ and create {} Glue database(s); nothing was written",
        manifest.account,
        manifest.scenarios.len(),
        manifest.bucket,
        manifest.run_prefix,
        manifest.scenarios.len()
    );
    Ok(0)
}

/// Loads and filters scenarios; every load error is reported.
fn select(sel: &Selection) -> Result<Vec<Scenario>, String> {
    let scenarios = load_paths(&sel.paths).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("error: {e}")).collect();
        format!("{}\n{} scenario error(s); nothing was run", lines.join("\n"), errors.len())
    })?;
    let chosen: Vec<Scenario> =
        scenarios.into_iter().filter(|s| sel.tags.is_empty() || s.tags.iter().any(|t| sel.tags.contains(t))).collect();
    if chosen.is_empty() {
        return Err(format!("error: no scenarios selected under {:?} with tags {:?}", sel.paths, sel.tags));
    }
    Ok(chosen)
}

async fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Validate { select: sel } => {
            let scenarios = select(&sel)?;
            println!("{} scenario(s) valid", scenarios.len());
            Ok(0)
        }
        Command::List { select: sel } => {
            let scenarios = select(&sel)?;
            println!("{:<44} {:<38} {:>9} {:>9}  TAGS", "SCENARIO", "FAULT", "DETECT", "REPAIR");
            for s in &scenarios {
                println!(
                    "{:<44} {:<38} {:>9} {:>9}  {}",
                    s.name,
                    format!("{}/{}", s.fault.class(), s.fault.mode()),
                    humantime::format_duration(s.slo.detect_within).to_string(),
                    humantime::format_duration(s.slo.repair_within).to_string(),
                    s.tags.join(",")
                );
            }
            Ok(0)
        }
        Command::Run { select: sel, run, junit, json, html, publish } => {
            let scenarios = select(&sel)?;
            if run.dry_run {
                return dry_run(&run, &scenarios).await;
            }
            // Metric destinations must answer before anything is injected.
            let destinations = publish.destinations(run.run_id.as_deref());
            destinations.check().await.map_err(|e| format!("error: {e}; nothing was run"))?;
            let (mut opts, _temp) = run.options()?;
            let healer_metrics = Arc::new(lakehealer::metrics::HealerMetrics::new());
            opts.healer_metrics = Some(Arc::clone(&healer_metrics));
            let suite = lakechaos::run_suite(&scenarios, &opts).await.map_err(|e| format!("error: {e}"))?;
            print!("{}", report::summary::render(&suite));
            let suites = [suite];
            if let Some(path) = junit {
                report::junit::write(&suites, &path).map_err(|e| writing(&path, e))?;
            }
            if let Some(path) = json {
                report::json::write(&suites, &path).map_err(|e| writing(&path, e))?;
            }
            if let Some(path) = html {
                report::html::write(&suites, &path).map_err(|e| writing(&path, e))?;
                eprintln!("html report: {}", path.display());
            }
            if destinations.any() {
                let done = destinations
                    .publish(&suites[0], Some(&healer_metrics))
                    .await
                    .map_err(|e| format!("error: publishing metrics: {e}"))?;
                if let Some(url) = done.pushed_to {
                    eprintln!("metrics pushed to {url}");
                }
                if let Some(n) = done.cloudwatch_data {
                    eprintln!("{n} CloudWatch data point(s) sent to namespace {}", publish.cloudwatch_namespace);
                }
            }
            Ok(if suites[0].all_passed() { 0 } else { 1 })
        }
        Command::Bench { select: sel, run, repeat, json } => {
            let scenarios = select(&sel)?;
            if repeat == 0 {
                return Err("error: --repeat must be at least 1".into());
            }
            let (opts, _temp) = run.options()?;
            let (figures, _) =
                lakechaos::bench::bench(&scenarios, &opts, repeat).await.map_err(|e| format!("error: {e}"))?;
            print!("{}", lakechaos::bench::render(&figures));
            if let Some(path) = json {
                let text = serde_json::to_string_pretty(&figures).map_err(|e| e.to_string())?;
                std::fs::write(&path, text).map_err(|e| format!("error: writing {}: {e}", path.display()))?;
            }
            Ok(if figures.not_passed == 0 { 0 } else { 1 })
        }
        Command::Inject { scenario, lake, seed, journal } => {
            let scenario = load_file(&scenario).map_err(|e| format!("error: {e}"))?;
            if lake.exists() && std::fs::read_dir(&lake).map(|mut d| d.next().is_some()).unwrap_or(true) {
                return Err(format!("error: {} is not empty; inject seeds a fresh lake", lake.display()));
            }
            let provisioned = {
                let opened = Target::open_local(&lake.display().to_string()).map_err(|e| format!("error: {e}"))?;
                let address = lake.canonicalize().unwrap_or_else(|_| lake.clone()).display().to_string();
                lakechaos::target::Provisioned { lake: opened, address, catalog: "file".into(), events: None }
            };
            let seeded = lakechaos_fixtures::seed_lake(
                &provisioned.lake,
                &scenario.dataset,
                &scenario.fixture,
                stream_seed(seed, &scenario.name, "fixture"),
            )
            .await
            .map_err(|e| format!("error: seed: {e}"))?;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(stream_seed(seed, &scenario.name, "fault"));
            let plan = {
                let mut ctx = FaultContext { lake: &provisioned.lake, table: &seeded.table, rng: &mut rng };
                scenario.fault.plan(&mut ctx).await.map_err(|e| format!("error: {e}"))?
            };
            let journal_path = journal.unwrap_or_else(|| PathBuf::from(format!("{}.journal.json", lake.display())));
            Journal::from_plan(&scenario.name, seed, &provisioned.address, &plan)
                .write(&journal_path)
                .map_err(|e| format!("error: {e}"))?;
            apply(&provisioned.lake, &plan).await.map_err(|e| format!("error: inject: {e}"))?;
            println!("injected {} into {}", plan.ground_truth.detail, provisioned.address);
            println!("ground truth: {}", serde_json::to_string(&plan.ground_truth).map_err(|e| e.to_string())?);
            println!("journal: {}", journal_path.display());
            Ok(0)
        }
        Command::Gameday { config } => gameday(&config).await,
        Command::Deploy(args) => deploy(args).await,
        Command::Verify { lake, endpoint_url, format } => {
            let mut conn = lakechaos_lake::AwsConnection::from_environment(None, None);
            if let Some(url) = endpoint_url {
                conn.endpoint_url = Some(url);
            }
            let verdicts =
                lakechaos::lambda::verify::verify_gamedays(&conn, &lake).await.map_err(|e| format!("error: {e}"))?;
            match format.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&verdicts).map_err(|e| e.to_string())?),
                _ => {
                    for v in &verdicts {
                        let f = &v.verification;
                        println!(
                            "{} {} ({}): rows lost {}, unexpected {}, unreadable {}, non-conforming {}{}{}",
                            if f.healed { "WHOLE  " } else { "DAMAGED" },
                            v.scenario,
                            v.lake,
                            f.rows_lost,
                            f.rows_unexpected,
                            f.unreadable_files.len(),
                            f.nonconforming_files.len(),
                            if f.contract_changed { ", contract changed" } else { "" },
                            f.declared_drift.as_deref().map(|d| format!(", declared drift: {d}")).unwrap_or_default(),
                        );
                    }
                }
            }
            Ok(if verdicts.iter().all(|v| v.verification.healed) { 0 } else { 1 })
        }
        Command::Revert { journal, endpoint_url } if journal.to_string_lossy().starts_with("s3://") => {
            // A game-day lake's journal, where the chaos function left it.
            let url = journal.to_string_lossy().into_owned();
            let (bucket, key) = lakechaos_lake::S3Store::parse_url(&url)
                .filter(|(_, key)| !key.is_empty())
                .ok_or_else(|| format!("error: {url:?} is not an S3 object address (s3://BUCKET/KEY)"))?;
            let mut conn = lakechaos_lake::AwsConnection::from_environment(None, None);
            if endpoint_url.is_some() {
                conn.endpoint_url = endpoint_url.clone();
            }
            let bytes =
                lakechaos_lake::ObjectStore::get(&lakechaos_lake::S3Store::connect(&conn, &bucket, "").await, &key)
                    .await
                    .map_err(|e| format!("error: {url}: {e}"))?;
            let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| format!("error: {url}: {e}"))?;
            let lake = lakehealer::address::open_with(&journal.lake, &journal.catalog, &conn)
                .await
                .map_err(|e| format!("error: {e}"))?;
            revert_journal(&journal, &lake).await
        }
        Command::Revert { journal, endpoint_url } => {
            // A PostgreSQL journal names its database and holds the SQL that undoes the fault.
            if let Ok(pg) = lakechaos_faults::pg::PgJournal::read(&journal) {
                let mut client =
                    lakechaos_lake::pg::connect(&pg.database, "lakechaos").await.map_err(|e| format!("error: {e}"))?;
                lakechaos_faults::pg::revert(&mut client, &pg.database, &pg.plan)
                    .await
                    .map_err(|e| format!("error: {e}"))?;
                println!(
                    "reverted {} ({}) in {}: {} statement(s)",
                    pg.scenario,
                    pg.plan.ground_truth.detail,
                    lakechaos_lake::pg::redact(&pg.database),
                    pg.plan.revert.len()
                );
                return Ok(0);
            }
            let journal = Journal::read(&journal).map_err(|e| format!("error: {e}"))?;
            if !journal.lake.starts_with("s3://") && !std::path::Path::new(&journal.lake).is_dir() {
                return Err(format!("error: the journaled lake {} does not exist", journal.lake));
            }
            let lake = lakehealer::address::open(&journal.lake, &journal.catalog, endpoint_url.as_deref())
                .await
                .map_err(|e| format!("error: {e}"))?;
            revert_journal(&journal, &lake).await
        }
    }
}
