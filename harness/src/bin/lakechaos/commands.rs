//! The commands that run scenarios: validate, list, run, bench and gameday.

use crate::args::{PublishArgs, RunArgs, Selection};
use lakechaos::report;
use lakechaos::run::kept_journals;
use lakechaos::run::{run_suite_until, RunOptions};
use lakechaos::scenario::{load_paths_with, Scenario};
use lakechaos::targets::aws_guard::{self, AwsRun, GuardError};
use lakechaos::targets::Target;
use lakechaos::SuiteReport;
use lakehealer::cli::{CliError, CliResult};
use lakehealer::metrics::HealerMetrics;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::lake_commands::{deploy, describe, inject, revert, revert_all, score, verify};

/// Where `run` writes its reports.
pub struct Reports {
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
}

impl Reports {
    /// The directory the reports go to (the first report's), `reports` when none is written.
    pub fn dir(&self) -> PathBuf {
        [&self.json, &self.junit, &self.html, &self.markdown]
            .into_iter()
            .flatten()
            .next()
            .and_then(|p| p.parent().filter(|d| !d.as_os_str().is_empty()).map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("reports"))
    }
}

/// Loads and filters scenarios; every load error is reported.
pub fn select(sel: &Selection) -> Result<Vec<Scenario>, CliError> {
    let scenarios = load_paths_with(&sel.paths, &sel.limits()).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        format!("{}\n{} scenario error(s); nothing was run", lines.join("\nerror: "), errors.len())
    })?;
    let chosen: Vec<Scenario> =
        scenarios.into_iter().filter(|s| sel.tags.is_empty() || s.tags.iter().any(|t| sel.tags.contains(t))).collect();
    if chosen.is_empty() {
        return Err(format!("no scenarios selected under {:?} with tags {:?}", sel.paths, sel.tags).into());
    }
    Ok(chosen)
}

pub fn validate(sel: &Selection) -> CliResult {
    let scenarios = select(sel)?;
    println!("{} scenario(s) valid", scenarios.len());
    Ok(0)
}

pub fn list(sel: &Selection) -> CliResult {
    let scenarios = select(sel)?;
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

fn writing(path: &Path, e: std::io::Error) -> CliError {
    format!("writing {}: {e}", path.display()).into()
}

/// Writes the reports asked for.
fn write_reports(suites: &[SuiteReport], reports: &Reports) -> Result<(), CliError> {
    if let Some(path) = &reports.junit {
        report::junit::write(suites, path).map_err(|e| writing(path, e))?;
    }
    if let Some(path) = &reports.json {
        report::json::write(suites, path).map_err(|e| writing(path, e))?;
    }
    if let Some(path) = &reports.html {
        report::html::write(suites, path).map_err(|e| writing(path, e))?;
        eprintln!("html report: {}", path.display());
    }
    if let Some(path) = &reports.markdown {
        report::markdown::write(suites, path).map_err(|e| writing(path, e))?;
    }
    Ok(())
}

pub async fn run(sel: &Selection, run: &RunArgs, reports: Reports, publish: &PublishArgs) -> CliResult {
    let scenarios = select(sel)?;
    let existing = run.existing_table();
    match &existing {
        // Existing-table mode: every check that can refuse is made before anything is written.
        Some(table) => {
            let manifest = existing_preflight(&scenarios, table, run.seed, run.existing.ignore_fixture).await?;
            if run.dry_run {
                println!("{}", serde_json::to_string_pretty(&manifest)?);
                return Ok(0);
            }
        }
        None => refuse_fixtureless(&scenarios)?,
    }
    if run.dry_run {
        return dry_run(run, &scenarios).await;
    }
    // Metric destinations must answer before anything is injected.
    let destinations = publish.destinations(run.run_id.as_deref());
    destinations.check().await.map_err(|e| format!("{e}; nothing was run"))?;
    let (mut opts, _temp) = run.options()?;
    let workdir = opts.workdir.clone().expect("options set a work directory");
    let conn = existing
        .as_ref()
        .map_or_else(|| lakechaos_lake::AwsConnection::from_environment(None, None), |t| t.connection());
    // A work directory reused after a killed run: its interrupted scenarios are put back first.
    for (journal, reverted) in lakechaos::run::rollback::revert_open(&workdir, &conn).await {
        match reverted {
            Ok(report) => eprintln!("reverted {} left by an interrupted run: {report}", journal.display()),
            Err(e) => {
                return Err(
                    format!("{} was left by an interrupted run and does not revert: {e}", journal.display()).into()
                )
            }
        }
    }
    let healer_metrics = Arc::new(HealerMetrics::new());
    opts.healer_metrics = Some(Arc::clone(&healer_metrics));
    opts.progress = Some(crate::live::watch());
    if _temp.is_some() {
        let into = kept_journals::keep_dir(&reports.dir(), chrono::Utc::now());
        opts.keep_journals_in = Some(std::path::absolute(&into).unwrap_or(into));
    }
    let suite = tokio::select! {
        suite = lakechaos::run_suite(&scenarios, &opts) => suite?,
        signal = interrupted() => {
            // The scenario in flight stops here; its journal is open, so it is put back.
            let interrupted = lakechaos::run::rollback::revert_open(&workdir, &conn).await;
            for (journal, reverted) in &interrupted {
                match reverted {
                    Ok(report) => eprintln!("{signal}: reverted {}: {report}", journal.display()),
                    Err(e) => eprintln!("{signal}: could not revert {}: {e}", journal.display()),
                }
            }
            // A kept work directory stays for `lakechaos revert --all`; a temporary one goes,
            // so the interrupted scenarios' journals are copied out first.
            if let Some(into) = &opts.keep_journals_in {
                for (journal, _) in &interrupted {
                    match kept_journals::keep(journal, into) {
                        Ok(copy) => eprintln!("{signal}: journal kept: {}", copy.display()),
                        Err(e) => eprintln!("{signal}: could not keep {}: {e}", journal.display()),
                    }
                }
            }
            return Err(format!("{signal}: the run stopped; nothing was left injected").into());
        }
    };
    let kept = suite.scenarios.iter().filter(|r| r.journal.is_some()).count();
    if let (Some(into), true) = (&opts.keep_journals_in, kept > 0 && _temp.is_some()) {
        eprintln!("journals of the {kept} scenario(s) that did not pass kept in {}", into.display());
    }
    print!("{}", report::summary::render(&suite));
    let suites = [suite];
    write_reports(&suites, &reports)?;
    if destinations.any() {
        let done = destinations
            .publish(&suites[0], Some(&healer_metrics))
            .await
            .map_err(|e| format!("publishing metrics: {e}"))?;
        if let Some(url) = done.pushed_to {
            eprintln!("metrics pushed to {url}");
        }
        if let Some(n) = done.cloudwatch_data {
            eprintln!("{n} CloudWatch data point(s) sent to namespace {}", publish.cloudwatch_namespace);
        }
    }
    Ok(if suites[0].all_passed() { 0 } else { 1 })
}

pub async fn bench(sel: &Selection, run: &RunArgs, repeat: usize, json: Option<PathBuf>) -> CliResult {
    let scenarios = select(sel)?;
    if run.existing_table().is_some() {
        return Err("bench seeds its own lakes; existing-table mode is `lakechaos run --lake … --table …`".into());
    }
    refuse_fixtureless(&scenarios)?;
    if repeat == 0 {
        return Err("--repeat must be at least 1".into());
    }
    let (mut opts, _temp) = run.options()?;
    // The benchmark measures each scenario alone unless asked otherwise.
    opts.jobs = run.jobs.map(usize::from).unwrap_or(1);
    let (figures, _) = lakechaos::ops::bench::bench(&scenarios, &opts, repeat).await?;
    print!("{}", lakechaos::ops::bench::render(&figures));
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&figures)?).map_err(|e| writing(&path, e))?;
    }
    Ok(if figures.not_passed == 0 { 0 } else { 1 })
}

/// Scenarios without a fixture belong to existing-table mode.
pub fn refuse_fixtureless(scenarios: &[Scenario]) -> Result<(), CliError> {
    let refused = lakechaos::ops::existing::fixture_mismatches(scenarios, false, false);
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}
nothing was run",
            refused.join("\nerror: ")
        )
        .into())
    }
}

async fn existing_preflight(
    scenarios: &[Scenario],
    table: &lakechaos::targets::existing::ExistingTable,
    seed: u64,
    ignore_fixture: bool,
) -> Result<lakechaos::ops::existing::Manifest, CliError> {
    lakechaos::ops::existing::preflight(scenarios, table, seed, ignore_fixture)
        .await
        .map_err(|e| format!("{e}\nnothing was run; nothing was written").into())
}

/// `run --dry-run`: the guard's checks, then the manifest on stdout; nothing is written.
async fn dry_run(run: &RunArgs, scenarios: &[Scenario]) -> CliResult {
    if run.target != Target::Aws {
        return Err("--dry-run applies to --target aws".into());
    }
    let config = run.aws_config.as_deref().ok_or(GuardError::NoConfig)?;
    let aws = AwsRun::start(config, run.run_id.clone()).await?;
    let manifest = aws_guard::manifest(&aws, scenarios, run.seed).await?;
    println!("{}", serde_json::to_string_pretty(&manifest)?);
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

/// `gameday --config FILE`.
pub async fn gameday(config: &Path) -> CliResult {
    let day = lakechaos::ops::gameday::Gameday::load(config)?;
    let scenarios = select(&Selection { paths: day.suite.clone(), tags: day.tags.clone(), max_fixture_gib: 4 })?;
    if day.tables.is_empty() {
        refuse_fixtureless(&scenarios)?;
    }
    // Every table is checked, and every fault planned against it, before anything is written.
    for table in &day.tables {
        existing_preflight(&scenarios, table, day.seed, false).await?;
    }
    // Everything the game day reports to must answer before anything is injected.
    day.destinations.check().await.map_err(|e| format!("{e}; nothing was run"))?;
    let topic = match &day.sns_topic {
        Some(arn) => {
            let topic = lakechaos_lake::Topic::connect(&day.connection, arn).await;
            topic.check().await.map_err(|e| format!("{e}; nothing was run"))?;
            Some(topic)
        }
        None => None,
    };
    let healer_metrics = Arc::new(HealerMetrics::new());
    let opts = RunOptions {
        target: day.target,
        seed: day.seed,
        target_options: day.target_options.clone(),
        healer_metrics: Some(Arc::clone(&healer_metrics)),
        healer: day.healer,
        incident_topic: day.incident_topic.clone(),
        progress: Some(crate::live::watch()),
        ..RunOptions::default()
    };
    let on = match day.tables.as_slice() {
        [] => day.target.name().to_string(),
        tables => tables
            .iter()
            .map(|t| format!("{} in {}", t.table, lakechaos_lake::redact::text(&t.address)))
            .collect::<Vec<_>>()
            .join(", "),
    };
    eprintln!(
        "game day {}: {} scenario(s) on {}, healer {}",
        day.name,
        scenarios.len(),
        on,
        if day.healer == lakechaos::run::HealerChoice::External { "deployed" } else { day.healer.name() }
    );
    let suite = if day.tables.is_empty() {
        run_suite_until(&scenarios, &opts, |r| day.stop.check(r)).await?
    } else {
        on_tables(&day, &scenarios, &opts).await?
    };
    print!("{}", report::summary::render(&suite));
    let suites = [suite];
    let reports = Reports {
        junit: Some(day.reports.join("junit.xml")),
        json: Some(day.reports.join("report.json")),
        html: Some(day.reports.join("report.html")),
        markdown: Some(day.reports.join("summary.md")),
    };
    // The summary appends (a CI step summary collects every step's); a game day's is its own.
    let _ = std::fs::remove_file(day.reports.join("summary.md"));
    write_reports(&suites, &reports)?;
    eprintln!("reports: {}", day.reports.display());
    if day.destinations.any() {
        day.destinations
            .publish(&suites[0], Some(&healer_metrics))
            .await
            .map_err(|e| format!("publishing metrics: {e}"))?;
    }
    if let Some(topic) = topic {
        let (subject, body) = day.summary(&suites[0]);
        topic
            .publish(&subject, &body.to_string(), &[("event", "gameday")])
            .await
            .map_err(|e| format!("sending the summary: {e}"))?;
        eprintln!("summary sent to {}", topic.arn());
    }
    Ok(if suites[0].all_passed() { 0 } else { 1 })
}

/// A game day's suite on each of its existing tables in turn, as one report whose results are
/// named `<table>:<scenario>`. A stop on one table leaves the later tables' scenarios skipped.
async fn on_tables(
    day: &lakechaos::ops::gameday::Gameday,
    scenarios: &[Scenario],
    base: &RunOptions,
) -> Result<SuiteReport, CliError> {
    let stopped: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let mut combined: Option<SuiteReport> = None;
    for table in &day.tables {
        let opts = RunOptions { target: table.target(), existing: Some(table.clone()), ..base.clone() };
        let already_stopped = stopped.borrow().clone();
        let mut suite = match already_stopped {
            Some(why) => SuiteReport {
                scenarios: scenarios
                    .iter()
                    .map(|s| lakechaos::ScenarioResult {
                        status: lakechaos::Status::Skipped,
                        reason: Some(why.clone()),
                        ..lakechaos::ScenarioResult::blank(s, table.target().name(), day.seed)
                    })
                    .collect(),
                duration_ms: 0.0,
                ..combined.clone().expect("a stop comes after a table ran")
            },
            None => {
                run_suite_until(scenarios, &opts, |r| {
                    let why = day.stop.check(r);
                    if let Some(why) = &why {
                        *stopped.borrow_mut() = Some(format!("not run: the game day stopped after {}: {why}", r.name));
                    }
                    why
                })
                .await?
            }
        };
        for r in &mut suite.scenarios {
            r.name = format!("{}:{}", table.table, r.name);
        }
        combined = Some(match combined {
            None => suite,
            Some(mut all) => {
                if all.target != suite.target {
                    all.target = "mixed".into();
                }
                all.duration_ms += suite.duration_ms;
                all.scenarios.extend(suite.scenarios);
                all
            }
        });
    }
    Ok(combined.expect("a game day with tables has at least one"))
}

/// Waits for SIGINT or SIGTERM; names it.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "interrupted (SIGINT)",
        _ = term.recv() => "terminated (SIGTERM)",
    }
}
