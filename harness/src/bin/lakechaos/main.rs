//! `lakechaos`: run chaos scenarios against a lakehouse and its healer.
//!
//! Exit codes: 0 every scenario passed (or was skipped), 1 a scenario failed, 2 bad input or
//! environment (nothing is injected then).

mod args;
mod commands;
mod lake_commands;
mod live;

use args::{DeployArgs, PublishArgs, RunArgs, ScoreArgs, Selection};
use clap::{Parser, Subcommand};
use lakehealer::cli::{CliResult, Logging};
use std::path::PathBuf;
use std::process::ExitCode;

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

#[derive(Subcommand)]
enum FixtureCommand {
    /// Profile a registered table (contract, null shares, distinct counts, ranges; no values)
    /// as a reviewable YAML file a scenario's `fixture: {profile: FILE}` generates alike.
    Describe {
        /// The table's lake: a directory or s3://BUCKET/PREFIX.
        #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
        lake: String,
        #[arg(long, value_name = "NAME")]
        table: String,
        /// The lake's catalog: file or glue:DATABASE.
        #[arg(long, default_value = "file")]
        catalog: String,
        /// An S3-compatible endpoint (an emulator).
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        /// Write the profile here (default: standard output). Name it `*.profile.yaml` to keep
        /// it beside scenarios.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
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
        /// Append a Markdown step summary here (counts, scores per fault class, failures); CI
        /// systems show it, e.g. `--markdown "$GITHUB_STEP_SUMMARY"`.
        #[arg(long, value_name = "FILE")]
        markdown: Option<PathBuf>,
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
    /// Scan benchmark: the healer's pages and footer scans of a generated 12 M-row lake (or
    /// --lake) against DuckDB's full decode of the same files, and the footer scan's cost per
    /// file on a lake of many small files; prints each figure with its ratio and goal.
    BenchScan {
        /// Where the generated lakes go (kept, and reused by the next run).
        #[arg(long, value_name = "DIR", default_value = "reports/bench-scan")]
        workdir: PathBuf,
        /// Scan this lake (a directory with a registered table) instead.
        #[arg(long, value_name = "DIR")]
        lake: Option<PathBuf>,
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, default_value_t = 400_000)]
        rows_per_day: u32,
        #[arg(long, default_value_t = 2)]
        files_per_day: u32,
        /// Files of the small-files lake (0: skip the per-file footer cost).
        #[arg(long, default_value_t = 10_000)]
        footer_files: u32,
        /// A Python with DuckDB, for the reference decode.
        #[arg(long, value_name = "PYTHON", default_value = ".venv-writers/bin/python")]
        duckdb_python: PathBuf,
        /// Runs of each measurement (the best counts).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Write the figures as JSON here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Fixtures shaped like your tables.
    Fixture {
        #[command(subcommand)]
        command: FixtureCommand,
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
    /// Score the game days the chaos function injected whose deadline has passed, as its
    /// scheduled scoring step does: verify against golden, TTD from the incident ledger, TTR,
    /// revert what is still broken, publish metrics, write reports under `<run>/_reports/`,
    /// delete lakes past the retention. Exit 1 if a run scored now failed.
    Score(ScoreArgs),
    /// Undo a fault from its journal (after a killed run, or after `inject`; a game-day lake's
    /// from `s3://BUCKET/.../_lakechaos/journal.json`); PostgreSQL journals carry their database
    /// URL and the SQL that reverts them.
    Revert {
        #[arg(long, value_name = "FILE|s3://BUCKET/KEY", required_unless_present = "all", conflicts_with = "all")]
        journal: Option<PathBuf>,
        /// Revert every journal in a run's work directory that was not closed (its scenario was
        /// interrupted), e.g. after a killed `lakechaos run --workdir DIR`.
        #[arg(long, value_name = "DIR")]
        all: Option<PathBuf>,
        /// Endpoint of the S3/Glue service holding an s3:// lake (an emulator); otherwise the
        /// usual AWS sources.
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logging = Logging { env_var: "LAKECHAOS_LOG", default_filter: "warn,lakehealer=error,aws_config=error" };
    lakehealer::cli::main(logging, run(cli))
}

async fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Validate { select } => commands::validate(&select),
        Command::List { select } => commands::list(&select),
        Command::Run { select, run, junit, json, html, markdown, publish } => {
            commands::run(&select, &run, commands::Reports { junit, json, html, markdown }, &publish).await
        }
        Command::Bench { select, run, repeat, json } => commands::bench(&select, &run, repeat, json).await,
        Command::BenchScan {
            workdir,
            lake,
            days,
            rows_per_day,
            files_per_day,
            footer_files,
            duckdb_python,
            repeat,
            json,
        } => {
            let duckdb_python = duckdb_python.exists().then_some(duckdb_python);
            let opts = lakechaos::ops::scan_bench::ScanBenchOptions {
                workdir,
                lake,
                days,
                rows_per_day,
                files_per_day,
                footer_files,
                duckdb_python,
                repeat,
            };
            let figures = lakechaos::ops::scan_bench::run(&opts).await.map_err(|e| e.to_string())?;
            print!("{}", lakechaos::ops::scan_bench::render(&figures));
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&figures)?)?;
            }
            Ok(0)
        }
        Command::Fixture { command: FixtureCommand::Describe { lake, table, catalog, endpoint_url, out } } => {
            commands::describe(&lake, &table, &catalog, endpoint_url.as_deref(), out.as_deref()).await
        }
        Command::Inject { scenario, lake, seed, journal } => commands::inject(&scenario, &lake, seed, journal).await,
        Command::Gameday { config } => commands::gameday(&config).await,
        Command::Deploy(args) => commands::deploy(args).await,
        Command::Verify { lake, endpoint_url, format } => commands::verify(&lake, endpoint_url, &format).await,
        Command::Score(args) => commands::score(args).await,
        Command::Revert { journal: Some(journal), endpoint_url, .. } => commands::revert(&journal, endpoint_url).await,
        Command::Revert { all: Some(dir), endpoint_url, .. } => commands::revert_all(&dir, endpoint_url).await,
        Command::Revert { .. } => Err("give --journal FILE or --all DIR".into()),
    }
}
