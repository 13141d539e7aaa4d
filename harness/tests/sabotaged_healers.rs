//! Verdicts that can fail: healers that do almost the right thing, as test doubles standing in
//! for the healer (`--healer external`, so the harness injects and verifies and someone else
//! "heals"). Each one acts once the fault is in the lake, from the scenario's own journal: a
//! repair that drops one row, a repair of the wrong file, a repair that brings the files back
//! but leaves the catalog stale. Every scenario it touches must fail, with the failure that names
//! what went wrong, by the harness's own reading of the lake.

mod common;

use base64::Engine;
use lakechaos::run::HealerChoice;
use lakechaos::{run_scenario, RunOptions, Scenario, ScenarioResult, Status};
use lakechaos_faults::journal::JournalEntry;
use lakechaos_faults::Journal;
use lakechaos_lake::Lake;
use std::time::Duration;

type Sabotage = for<'a> fn(&'a Lake, &'a Journal) -> futures_like::BoxFuture<'a>;

/// A tiny boxed-future alias, so sabotages can be plain `fn`s.
mod futures_like {
    pub type BoxFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;
}

fn scenario(file: &str) -> Scenario {
    let mut s = lakechaos::load_paths(&[common::scenarios_dir().join(file)]).unwrap().remove(0);
    // Nobody will heal it: no need to wait long for that.
    s.slo.detect_within = Duration::from_millis(500);
    s.slo.repair_within = Duration::from_millis(1500);
    s
}

/// The objects the fault changed, with their bytes before it (decoded from the journal).
fn befores(journal: &Journal) -> Vec<(String, bytes::Bytes, Option<String>)> {
    journal
        .changes
        .iter()
        .filter_map(|c| match c {
            JournalEntry::Object { key, before: Some(b64), after_sha256, .. } => Some((
                key.clone(),
                bytes::Bytes::from(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()),
                after_sha256.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// Runs `file` with `sabotage` as its healer: the double waits for the journal and for the damage
/// to be in the lake, then acts once.
async fn run_with(file: &str, sabotage: Sabotage) -> ScenarioResult {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(file);
    let opts =
        RunOptions { healer: HealerChoice::External, settle: Duration::from_millis(20), ..RunOptions::default() };
    let lake_dir = dir.path().join("lake");
    let journal_path = dir.path().join("journal.json");
    let double = async {
        for _ in 0..500 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let Ok(journal) = Journal::read(&journal_path) else { continue };
            let Ok(lake) = Lake::open_local(&lake_dir) else { continue };
            // The damage is in: every object the fault writes or removes is as it left it.
            let mut injected = true;
            for (key, _, after) in befores(&journal) {
                let now = lake.store.get(&key).await.ok().map(|b| common::sha(&b));
                injected &= now == after;
            }
            if injected {
                sabotage(&lake, &journal).await;
                return true;
            }
        }
        false
    };
    let (result, acted) = tokio::join!(run_scenario(&s, &opts, dir.path()), double);
    assert!(acted, "{file}: the double never saw the fault in the lake");
    result
}

fn failures(r: &ScenarioResult) -> String {
    format!("{:?}: {}", r.status, r.failures.join(" | "))
}

/// Puts the damaged file back from its bytes before the fault, less its last row.
fn drop_one_row<'a>(lake: &'a Lake, journal: &'a Journal) -> futures_like::BoxFuture<'a> {
    Box::pin(async move {
        let (key, before, _) = befores(journal).remove(0);
        let (schema, mut batches) = lakechaos_lake::parquet_io::read_parquet(before).unwrap();
        let last = batches.pop().unwrap();
        batches.push(last.slice(0, last.num_rows() - 1));
        let props = parquet::file::properties::WriterProperties::builder().build();
        let bytes = lakechaos_lake::parquet_io::write_parquet(schema, &batches, props).unwrap();
        lake.store.put(&key, bytes).await.unwrap();
    })
}

/// Writes the damaged file's good bytes over another file of its partition, and leaves the
/// damaged one as it is.
fn repair_the_wrong_file<'a>(lake: &'a Lake, journal: &'a Journal) -> futures_like::BoxFuture<'a> {
    Box::pin(async move {
        let (key, before, _) = befores(journal).remove(0);
        let partition = key.rsplit_once('/').unwrap().0;
        let sibling = lake
            .store
            .list(&format!("{partition}/"))
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .find(|k| *k != key && k.ends_with(".parquet"))
            .expect("a partition of two files");
        lake.store.put(&sibling, before).await.unwrap();
    })
}

/// Brings back every file the fault removed, and leaves the catalog as the fault left it.
fn files_back_catalog_stale<'a>(lake: &'a Lake, journal: &'a Journal) -> futures_like::BoxFuture<'a> {
    Box::pin(async move {
        for (key, before, _) in befores(journal) {
            lake.store.put(&key, before).await.unwrap();
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_that_drops_one_row_fails_with_that_row_lost() {
    let r = run_with("corrupt-parquet-truncated-tail.yaml", drop_one_row).await;
    assert_eq!(r.status, Status::Failed, "{}", failures(&r));
    assert_eq!(r.rows_lost, Some(1), "{}", failures(&r));
    assert!(r.failures.iter().any(|f| f == "rows_lost: 1 rows lost, expected at most 0"), "{}", failures(&r));
    assert!(r.failures.iter().any(|f| f.starts_with("repair:") && f.contains("1 of")), "{}", failures(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_of_the_wrong_file_fails_with_the_damage_still_unreadable() {
    let r = run_with("corrupt-parquet-bad-magic.yaml", repair_the_wrong_file).await;
    assert_eq!(r.status, Status::Failed, "{}", failures(&r));
    let v = r.verification.as_ref().expect("verified");
    assert_eq!(v.unreadable_files.len(), 1, "the damaged file is still damaged: {}", failures(&r));
    assert!(r.failures.iter().any(|f| f.starts_with("repair:") && f.contains("unreadable")), "{}", failures(&r));
    assert!(r.rows_lost.unwrap() > 0, "{}", failures(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_that_leaves_the_catalog_stale_fails_with_the_partition_unserved() {
    let r = run_with("missing-partition-both.yaml", files_back_catalog_stale).await;
    assert_eq!(r.status, Status::Failed, "{}", failures(&r));
    // Every file is back, so what is still lost is lost to the catalog alone.
    let lake_rows = r.rows_lost.unwrap();
    assert!(lake_rows > 0, "{}", failures(&r));
    assert!(r.failures.iter().any(|f| f.starts_with("rows_lost:")), "{}", failures(&r));
    let truth = r.ground_truth.as_ref().unwrap();
    assert_eq!(lake_rows, truth.rows_affected, "exactly the unregistered partition's rows: {}", failures(&r));
}
