//! Whether damage is kept, judged on a real directory lake: quarantined, left in place, deleted.

use super::*;
use crate::method::Planned;
use bytes::Bytes;
use lakechaos_faults::{Change, FaultClass, FaultPlan};
use lakechaos_lake::LocalStore;

const KEY: &str = "orders/dt=2024-03-01/part-0.parquet";
const GOOD: &[u8] = b"PAR1 the original rows PAR1";
const BAD: &[u8] = b"PAR1 the damaged bytes";

fn truth(files: &[&str]) -> GroundTruth {
    GroundTruth {
        kind: FaultClass::CorruptParquet,
        mode: "truncate_tail".into(),
        table: "orders".into(),
        partitions: vec!["orders/dt=2024-03-01".into()],
        files: files.iter().map(|f| f.to_string()).collect(),
        columns: vec![],
        catalog: vec![],
        grants: vec![],
        rows_affected: 10,
        detail: String::new(),
    }
}

/// The plan of a fault that replaced `KEY`'s bytes with `BAD`, journaled.
fn planned(files: &[&str], changes: Vec<Change>) -> Planned {
    let plan = FaultPlan { changes, ground_truth: truth(files) };
    let journal = Journal::from_plan("s", 7, "lake", &plan);
    Planned { plan, journal, journal_at: "journal.json".into() }
}

fn damaged_in_place() -> Vec<Change> {
    vec![Change::Object {
        key: KEY.into(),
        before: Some(Bytes::from_static(GOOD)),
        after: Some(Bytes::from_static(BAD)),
    }]
}

fn store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    (dir, store)
}

#[tokio::test]
async fn damage_moved_to_quarantine_is_kept_and_named() {
    let (_dir, store) = store();
    store.put(KEY, Bytes::from_static(GOOD)).await.unwrap();
    let q = format!("_quarantine/20240301T000000Z/{KEY}");
    store.put(&q, Bytes::from_static(BAD)).await.unwrap();
    store.put(&format!("{q}.reason.json"), Bytes::from_static(BAD)).await.unwrap();
    let kept = kept_in_lake(&planned(&[KEY], damaged_in_place()), &store).await.unwrap();
    assert_eq!((kept.damaged, kept.kept), (1, 1));
    assert_eq!(kept.quarantined, [q], "the reason record is not the damage");
}

#[tokio::test]
async fn damage_left_in_place_is_kept_but_not_quarantined() {
    let (_dir, store) = store();
    store.put(KEY, Bytes::from_static(BAD)).await.unwrap();
    let kept = kept_in_lake(&planned(&[KEY], damaged_in_place()), &store).await.unwrap();
    assert_eq!((kept.damaged, kept.kept), (1, 1));
    assert!(kept.quarantined.is_empty());
}

#[tokio::test]
async fn damage_overwritten_without_a_copy_is_gone() {
    let (_dir, store) = store();
    store.put(KEY, Bytes::from_static(GOOD)).await.unwrap();
    // Elsewhere in quarantine, other bytes: not the damage.
    store.put("_quarantine/x/orders/other.parquet", Bytes::from_static(b"other")).await.unwrap();
    let kept = kept_in_lake(&planned(&[KEY], damaged_in_place()), &store).await.unwrap();
    assert_eq!((kept.damaged, kept.kept), (1, 0));
    assert!(kept.quarantined.is_empty());
}

#[tokio::test]
async fn damage_is_looked_for_at_the_files_the_truth_names_too() {
    let (_dir, store) = store();
    let moved = "orders/dt=2024-03-01/part-0-moved.parquet";
    store.put(moved, Bytes::from_static(BAD)).await.unwrap();
    let kept = kept_in_lake(&planned(&[moved], damaged_in_place()), &store).await.unwrap();
    assert_eq!((kept.damaged, kept.kept), (1, 1));
    let elsewhere = kept_in_lake(&planned(&[KEY], damaged_in_place()), &store).await.unwrap();
    assert_eq!(elsewhere.kept, 0, "a file the truth does not name is not searched");
}

#[tokio::test]
async fn damage_the_fault_created_is_looked_for_where_it_wrote_it() {
    let (_dir, store) = store();
    // A commit's new file: the truth names the table's files, the journal where it wrote.
    let created = "warehouse/orders/metadata/00002-new.metadata.json";
    store.put(created, Bytes::from_static(BAD)).await.unwrap();
    let commit = vec![Change::Object { key: created.into(), before: None, after: Some(Bytes::from_static(BAD)) }];
    let kept = kept_in_lake(&planned(&[KEY], commit), &store).await.unwrap();
    assert_eq!((kept.damaged, kept.kept), (1, 1));
}

#[tokio::test]
async fn a_fault_that_only_removed_wrote_no_damage_to_keep() {
    let (_dir, store) = store();
    let removal = vec![Change::Object { key: KEY.into(), before: Some(Bytes::from_static(GOOD)), after: None }];
    let kept = kept_in_lake(&planned(&[KEY], removal), &store).await.unwrap();
    assert_eq!((kept.damaged, kept.kept), (0, 0));
}

#[tokio::test]
async fn another_writers_bytes_are_copied_aside_before_a_revert() {
    let (_dir, store) = store();
    let plan = planned(&[KEY], damaged_in_place());
    for expected in [GOOD, BAD] {
        store.put(KEY, Bytes::from_static(expected)).await.unwrap();
        assert!(keep_unexpected_writes(&plan, &store, "s").await.unwrap().is_empty(), "the journal's own bytes");
    }
    store.put(KEY, Bytes::from_static(b"a pipeline wrote this")).await.unwrap();
    let kept = keep_unexpected_writes(&plan, &store, "s").await.unwrap();
    let aside = format!("_lakechaos/kept/s/{KEY}");
    assert_eq!(kept, [aside.clone()]);
    assert_eq!(store.get(&aside).await.unwrap(), Bytes::from_static(b"a pipeline wrote this"));
}

#[test]
fn digests_are_sha256_in_hex() {
    assert_eq!(hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
