//! The commands that act on one lake or on deployed functions: inject, revert, verify, deploy.

use crate::args::{DeployArgs, ScoreArgs};
use lakechaos::method::{self, FileRecords, Method};
use lakechaos::scenario::load::load_file;
use lakechaos::Stage;
use lakechaos_faults::AnyJournal;
use lakechaos_lake::{AwsConnection, Lake};
use lakehealer::cli::CliResult;
use std::path::{Path, PathBuf};

/// `inject`: seeds one scenario's fixture into a new directory lake and injects its fault,
/// through the same method as `run`; the journal is written before anything is damaged.
///
/// Seeding comes before the journal can exist (the fault is planned against the seeded lake), so
/// an *intent* file beside the journal (`<journal>.intent`) marks a lake this command is still
/// making: a lake left with one by a killed `inject` is removed by the next `inject` into it.
pub async fn inject(scenario: &Path, lake_dir: &Path, seed: u64, journal: Option<PathBuf>) -> CliResult {
    let scenario = load_file(scenario)?;
    let journal = journal.unwrap_or_else(|| PathBuf::from(format!("{}.journal.json", lake_dir.display())));
    let intent = PathBuf::from(format!("{}.intent", journal.display()));
    let not_empty = lake_dir.exists() && std::fs::read_dir(lake_dir).map(|mut d| d.next().is_some()).unwrap_or(true);
    if not_empty && intent.exists() && !journal.exists() {
        eprintln!("{} was left half-seeded by a killed inject (no journal); removing it", lake_dir.display());
        std::fs::remove_dir_all(lake_dir).map_err(|e| format!("removing {}: {e}", lake_dir.display()))?;
    } else if not_empty {
        // An inject killed after its journal was written but before it removed its intent:
        // the journal, not the intent, now says what happened to the lake.
        if journal.exists() {
            let _ = std::fs::remove_file(&intent);
        }
        return Err(format!("{} is not empty; inject seeds a fresh lake", lake_dir.display()).into());
    }
    std::fs::write(&intent, lake_dir.display().to_string()).map_err(|e| format!("{}: {e}", intent.display()))?;
    let lake = Lake::open_local(lake_dir)?;
    let address = lake_dir.canonicalize().unwrap_or_else(|_| lake_dir.to_path_buf()).display().to_string();
    let records = FileRecords { golden: None, journal: journal.clone() };
    let at = method::Target { lake: &lake, address: &address, catalog: "file" };
    let method = Method { scenario: &scenario, seed };
    let planned = match method.inject(&at, &records).await {
        Ok((_, planned)) => planned,
        // Nothing was damaged: the half-made lake is this command's own, and goes.
        Err(e) if matches!(e.stage, Stage::Seed | Stage::Fault | Stage::Journal) => {
            let _ = std::fs::remove_dir_all(lake_dir);
            let _ = std::fs::remove_file(&journal);
            let _ = std::fs::remove_file(&intent);
            return Err(format!("{e} (nothing was injected; {} was removed)", lake_dir.display()).into());
        }
        Err(e) => {
            let _ = std::fs::remove_file(&intent);
            return Err(format!("{e} (journal: {})", journal.display()).into());
        }
    };
    let _ = std::fs::remove_file(&intent);
    println!("injected {} into {address}", planned.ground_truth().detail);
    println!("ground truth: {}", serde_json::to_string(planned.ground_truth())?);
    println!("journal: {}", journal.display());
    Ok(0)
}

/// `revert`: undoes a fault from its journal (a file, or `s3://BUCKET/KEY`), whatever its lake.
pub async fn revert(journal: &Path, endpoint_url: Option<String>) -> CliResult {
    let conn = connection(endpoint_url);
    // An inject killed between writing this journal and removing its intent left the intent.
    let stale_intent = journal_path_on_disk(journal).map(|p| PathBuf::from(format!("{}.intent", p.display())));
    let journal = AnyJournal::read(&journal.to_string_lossy(), &conn).await?;
    let done = journal.revert(&conn).await?;
    if let Some(intent) = stale_intent {
        let _ = std::fs::remove_file(intent);
    }
    println!("reverted {} ({}) in {}: {done}", journal.scenario(), journal.ground_truth().detail, journal.place());
    Ok(0)
}

/// The journal's path when it is a local file (not `s3://…`).
fn journal_path_on_disk(journal: &Path) -> Option<&Path> {
    (!journal.to_string_lossy().starts_with("s3://") && journal.is_file()).then_some(journal)
}

/// `revert --all DIR`: every journal of an interrupted run.
pub async fn revert_all(dir: &Path, endpoint_url: Option<String>) -> CliResult {
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()).into());
    }
    let done = lakechaos::run::rollback::revert_open(dir, &connection(endpoint_url)).await;
    let mut failed = 0;
    for (journal, reverted) in &done {
        match reverted {
            Ok(report) => println!("reverted {}: {report}", journal.display()),
            Err(e) => {
                failed += 1;
                eprintln!("could not revert {}: {e}", journal.display());
            }
        }
    }
    println!("{} open journal(s) under {}, {} reverted", done.len(), dir.display(), done.len() - failed);
    if failed > 0 {
        return Err(format!("{failed} journal(s) could not be reverted").into());
    }
    Ok(0)
}

/// `verify`: the harness's own verdict on game-day lakes.
pub async fn verify(lake: &str, endpoint_url: Option<String>, format: &str) -> CliResult {
    let verdicts = lakechaos::ops::lambda::verify::verify_gamedays(&connection(endpoint_url), lake).await?;
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&verdicts)?),
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

/// One scoring pass from the command line (the chaos function's `{"score": {}}`).
pub async fn score(args: ScoreArgs) -> CliResult {
    use lakechaos::ops::lambda::score::{score, ScoreConfig, ScoreRequest};
    let guard = lakechaos::targets::aws_guard::AwsGuardConfig::load(&args.aws_config)?;
    let mut conn = AwsConnection::from_environment(guard.profile.clone(), guard.region.clone());
    if args.endpoint_url.is_some() {
        conn.endpoint_url = args.endpoint_url.clone();
    }
    let config = ScoreConfig {
        guard,
        ledger: args.incident_ledger,
        quarantine: args.quarantine,
        retention: chrono::Duration::days(args.retention_days),
        cloudwatch_namespace: args.cloudwatch_namespace,
        pushgateway: args.pushgateway,
    };
    let pass = score(&config, conn, &ScoreRequest { run_id: args.run_id }, chrono::Utc::now()).await?;
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&pass)?);
    } else {
        for run in &pass.scored {
            println!(
                "SCORED  {}: {} passed, {} failed, {} errors; reports {}",
                run.run_id,
                run.passed,
                run.failed,
                run.errors,
                run.reports.join(", ")
            );
        }
        for waiting in &pass.waiting {
            println!("WAITING {}: due {}", waiting.run_id, waiting.due_at.to_rfc3339());
        }
        for run_id in &pass.expired {
            println!("EXPIRED {run_id}: lakes deleted, reports kept");
        }
        for error in &pass.errors {
            println!("ERROR   {error}");
        }
    }
    let failed = pass.scored.iter().any(|r| r.failed + r.errors > 0) || !pass.errors.is_empty();
    Ok(if failed { 1 } else { 0 })
}

/// The usual AWS sources, with the endpoint given on the command line first.
fn connection(endpoint_url: Option<String>) -> AwsConnection {
    let mut conn = AwsConnection::from_environment(None, None);
    if endpoint_url.is_some() {
        conn.endpoint_url = endpoint_url;
    }
    conn
}

/// `deploy`: zips, then creates or updates both functions.
pub async fn deploy(args: DeployArgs) -> CliResult {
    use lakechaos::ops::lambda::deploy::{self as d, FunctionSpec};
    let bin_dir = match args.bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
            .ok_or("cannot tell where this executable is; give --bin-dir")?,
    };
    let architecture = args.architecture.unwrap_or_else(|| d::native_architecture().to_string());
    if !["x86_64", "arm64"].contains(&architecture.as_str()) {
        return Err(format!("--architecture {architecture:?}: expected x86_64 or arm64").into());
    }
    let healer_zip = d::function_zip(&bin_dir.join("lakehealer-lambda"), &[])?;
    let scenarios = d::scenario_files(&args.scenarios)?;
    let chaos_zip = d::function_zip(&bin_dir.join("lakechaos-chaos-lambda"), &scenarios)?;
    for (file, zip) in [("healer.zip", &healer_zip), ("chaos.zip", &chaos_zip)] {
        let path = args.out.join(file);
        let sha = d::write_zip(&path, zip)?;
        println!(
            "wrote {} ({} bytes, {} bytes unzipped, sha256 {sha})",
            path.display(),
            zip.len(),
            d::unzipped_size(zip)?
        );
    }
    if args.zip_only {
        return Ok(0);
    }
    let mut conn = AwsConnection::from_environment(None, None);
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
            code_bucket: args.code_bucket.clone(),
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
            code_bucket: args.code_bucket.clone(),
        },
    ];
    for spec in &specs {
        let done = d::deploy(&conn, spec).await?;
        println!(
            "{} {} ({}, runtime {}, handler {}, role {}, code sha256 {}, {} bytes{})",
            if done.created { "created" } else { "updated" },
            done.name,
            done.arn,
            d::RUNTIME,
            d::HANDLER,
            done.role,
            done.code_sha256,
            done.code_size,
            done.staged_at.as_deref().map(|at| format!(", staged at {at}")).unwrap_or_default()
        );
    }
    Ok(0)
}

/// `fixture describe`: the table's profile as YAML, with a header saying what it holds.
pub async fn describe(
    address: &str,
    table: &str,
    catalog: &str,
    endpoint_url: Option<&str>,
    out: Option<&Path>,
) -> CliResult {
    let lake = lakechaos_lake::Lake::open_at(address, catalog, endpoint_url).await?;
    let profile = lakechaos_fixtures::profile_table(&lake, table).await?;
    let yaml = serde_saphyr::to_string(&profile).map_err(|e| format!("writing the profile: {e}"))?;
    let text = format!(
        "# The profile of table {table} in {address}: its contract and column statistics (null shares,\n\
         # distinct counts, ranges, string lengths), no values. A scenario generates a table shaped\n\
         # like it with `fixture: {{profile: THIS_FILE, days: N, rows_per_day: M}}`.\n{yaml}"
    );
    match out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
            eprintln!(
                "profile of {table} ({} rows, {} columns) written to {}",
                profile.rows,
                profile.columns.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(0)
}
