//! The Iceberg healer killed at random points mid-repair, and two Iceberg healers on one table at
//! once. The table carries a dead commit (the catalog points at a cut-off metadata file) over
//! three damaged data files (each restorable from the landing copy): every table must end whole
//! (checked against golden by the harness's own reader), with every quarantined copy beside its
//! reason record, no healthy file quarantined and no damaged version quarantined twice.

mod common;

use lakechaos_faults::iceberg_files::{IcebergFiles, IcebergFilesMode};
use lakechaos_faults::{apply, Change, FaultContext, FaultSpec};
use lakechaos_fixtures::{seed_iceberg, GoldenManifest, IcebergVerifier, OrdersSpec};
use lakechaos_lake::iceberg::{IcebergTable, SqlCatalog};
use lakechaos_lake::Lake;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TABLE: &str = "shop.orders";

fn catalog(dir: &Path) -> String {
    format!("iceberg-sql:{}", dir.join("catalog.db").display())
}

async fn open(dir: &Path) -> (Lake, IcebergTable) {
    let lake = Lake::open(dir.join("lake").to_str().unwrap(), &catalog(dir), &Default::default()).await.unwrap();
    let table = lake.iceberg_table(TABLE).unwrap().unwrap();
    (lake, table)
}

/// Plans and applies `spec` on the table as it is now; the digests of what it wrote.
async fn break_with(lake: &Lake, table: &IcebergTable, spec: FaultSpec, rng: &mut ChaCha8Rng) -> HashSet<String> {
    let base = table.current().await.unwrap();
    let live = table.live_files(&base.metadata, None).await.unwrap();
    let def = table.table_def(&base.metadata, live.iter().map(|f| f.partition.clone()).collect()).unwrap();
    let plan = spec.plan(&mut FaultContext { lake, table: &def, rng, grants: &[] }).await.unwrap();
    apply(lake, &plan).await.unwrap();
    plan.changes
        .iter()
        .filter_map(|c| match c {
            Change::Object { after: Some(data), .. } => Some(common::sha(data)),
            _ => None,
        })
        .collect()
}

/// A seeded Iceberg table with three truncated data files (one per day) under a dead commit:
/// its golden manifest and the digests of every damaged version the faults wrote.
async fn damaged_table(dir: &Path, seed: u64) -> (GoldenManifest, HashSet<String>) {
    std::fs::create_dir_all(dir.join("lake")).unwrap();
    SqlCatalog::open(&dir.join("catalog.db"), true).unwrap();
    let (lake, table) = open(dir).await;
    let spec =
        OrdersSpec { days: 3, rows_per_day: 900, files_per_day: 2, rows_per_row_group: 300, ..OrdersSpec::default() };
    let seeded = seed_iceberg(&table, "warehouse/orders", &spec, seed).await.unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut damaged = break_with(&lake, &table, common::truncate_tail(100, 3, 1), &mut rng).await;
    let dead = FaultSpec::IcebergFiles(IcebergFiles { mode: IcebergFilesMode::CorruptMetadata });
    damaged.extend(break_with(&lake, &table, dead, &mut rng).await);
    (seeded.golden, damaged)
}

fn heal(dir: &Path) -> Child {
    Command::new(common::lakehealer_bin())
        .args(["heal", "--lake", dir.join("lake").to_str().unwrap(), "--catalog", &catalog(dir), "--table", TABLE])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Everything the table must satisfy after healing, or what it does not.
async fn check(dir: &Path, golden: &GoldenManifest, damaged: &HashSet<String>) -> Vec<String> {
    let (lake, table) = open(dir).await;
    let mut problems = Vec::new();
    let v = IcebergVerifier::new(golden.clone()).verify(&table).await.unwrap();
    if !v.healed {
        problems.push(format!("not whole: {}", v.describe()));
    }
    for p in common::temporary_files(&dir.join("lake")) {
        problems.push(format!("temporary file left: {}", p.display()));
    }
    // The dead commit's metadata file is never quarantined (it was never live data); the
    // damaged data files are, each once.
    problems.extend(common::quarantine_problems(&lake, damaged).await);
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iceberg_healer_killed_anywhere_mid_repair_converges_on_restart() {
    const TRIALS: u64 = 40;
    let mut rng = ChaCha8Rng::seed_from_u64(43);
    let timed = tempfile::tempdir().unwrap();
    damaged_table(timed.path(), 999).await;
    let started = std::time::Instant::now();
    let first = heal(timed.path()).wait_with_output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stdout));
    let whole = started.elapsed().as_millis().max(20) as u64;
    let mut failures = Vec::new();
    let mut killed_running = 0;
    for trial in 0..TRIALS {
        let dir = tempfile::tempdir().unwrap();
        let (golden, damaged) = damaged_table(dir.path(), trial).await;
        let mut healer = heal(dir.path());
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..whole))).await;
        killed_running += healer.try_wait().unwrap().is_none() as usize;
        let _ = healer.kill(); // SIGKILL
        let _ = healer.wait();
        let again = heal(dir.path()).wait_with_output().unwrap();
        let problems = check(dir.path(), &golden, &damaged).await;
        if !again.status.success() || !problems.is_empty() {
            failures.push(format!(
                "trial {trial}: restart exit {:?}: {}; {}",
                again.status.code(),
                String::from_utf8_lossy(&again.stdout),
                problems.join("; ")
            ));
        }
    }
    eprintln!(
        "a whole Iceberg heal takes {whole} ms; {TRIALS} kill trials, {killed_running} killed while running; {} tables not whole or untidy",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(killed_running >= TRIALS as usize / 2, "only {killed_running} kills landed while the healer ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_iceberg_healers_at_once_leave_the_table_whole_and_never_quarantine_a_healthy_file() {
    const TRIALS: u64 = 15;
    let mut failures = Vec::new();
    for trial in 0..TRIALS {
        let dir = tempfile::tempdir().unwrap();
        let (golden, damaged) = damaged_table(dir.path(), 100 + trial).await;
        let (a, b) = (heal(dir.path()), heal(dir.path()));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let mut problems = check(dir.path(), &golden, &damaged).await;
        let last = heal(dir.path()).wait_with_output().unwrap();
        if !last.status.success() {
            problems.push(format!("a last heal finds: {}", String::from_utf8_lossy(&last.stdout)));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "trial {trial}: A:\n{}\nB:\n{}\nexits {:?}/{:?}; {}",
                String::from_utf8_lossy(&a.stdout) + String::from_utf8_lossy(&a.stderr),
                String::from_utf8_lossy(&b.stdout) + String::from_utf8_lossy(&b.stderr),
                a.status.code(),
                b.status.code(),
                problems.join("; ")
            ));
        }
    }
    eprintln!("{TRIALS} trials of two concurrent Iceberg healers, {} not whole or untidy", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
