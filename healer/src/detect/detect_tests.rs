//! The file tiers on Parquet written here: null floods counted from statistics over several row
//! groups, from the pages when a writer kept no statistics, columns typed `Null`, and the memory
//! budget that bounds how many whole files the pages tier holds at once.

use super::concurrent::{check_files, Limits};
use super::{check_bytes, check_file, null_stats, test_table};
use crate::config::Depth;
use crate::finding::{Evidence, FindingKind, Tier};
use arrow_array::{ArrayRef, Int64Array, NullArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use lakechaos_lake::{ObjectMeta, ObjectStore, TableDef};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::sync::Arc;

/// The contract: `id int64`, `s string`, each allowing 10 % nulls.
fn table() -> TableDef {
    test_table("t", &[("id", "int64"), ("s", "string")])
}

/// A file of `rows` rows in row groups of `group` rows, whose `s` is null in its first
/// `nulls` rows; with or without column statistics.
fn file(rows: usize, nulls: usize, group: usize, statistics: bool) -> Bytes {
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows as i64));
    let s: ArrayRef = Arc::new(StringArray::from_iter((0..rows).map(|i| (i >= nulls).then(|| format!("v{i}")))));
    write(vec![("id", ids, false), ("s", s, true)], group, statistics)
}

fn write(columns: Vec<(&str, ArrayRef, bool)>, group: usize, statistics: bool) -> Bytes {
    let schema = Arc::new(Schema::new(
        columns.iter().map(|(n, a, nullable)| Field::new(*n, a.data_type().clone(), *nullable)).collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a, _)| a).collect()).unwrap();
    let level = if statistics { EnabledStatistics::Chunk } else { EnabledStatistics::None };
    let props =
        WriterProperties::builder().set_max_row_group_row_count(Some(group)).set_statistics_enabled(level).build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    Bytes::from(out)
}

fn null_stats_of(data: &Bytes) -> null_stats::NullStats {
    let footer = lakechaos_lake::parquet_io::footer_of(data).unwrap();
    null_stats::detect(&table(), "t/f.parquet", &footer.metadata, &footer.schema)
}

/// The flooded columns a finding names, with their null and row counts.
fn flooded(evidence: &Evidence) -> Vec<(String, u64, u64)> {
    match evidence {
        Evidence::Nulls { columns } => columns.iter().map(|(c, n, r, _)| (c.clone(), *n, *r)).collect(),
        other => panic!("not a null-flood finding: {other:?}"),
    }
}

#[test]
fn null_counts_are_summed_over_every_row_group() {
    // 120 nulls in 300 rows, spread over three row groups of 100 (100, 20, 0).
    let stats = null_stats_of(&file(300, 120, 100, true));
    assert!(stats.complete);
    let f = stats.finding.expect("40 % nulls against a 10 % allowance is a flood");
    assert_eq!((f.kind, f.tier), (FindingKind::NullFlood, Tier::Footer));
    assert_eq!(flooded(&f.evidence), vec![("s".to_string(), 120, 300)]);
}

#[test]
fn a_clean_file_has_no_finding_and_complete_statistics() {
    let stats = null_stats_of(&file(300, 3, 100, true));
    assert!(stats.finding.is_none());
    assert!(stats.complete);
}

#[test]
fn without_statistics_the_footer_cannot_judge_and_says_so() {
    let stats = null_stats_of(&file(300, 300, 100, false));
    assert!(stats.finding.is_none(), "no null counts to judge by");
    assert!(!stats.complete, "the pages tier must count the nulls itself");
}

#[test]
fn a_column_typed_null_is_not_judged_but_the_others_are() {
    let schema = Schema::new(vec![Field::new("s", DataType::Null, true), Field::new("id", DataType::Int64, false)]);
    assert!(null_stats::typed_null(&schema, "s"));
    assert!(!null_stats::typed_null(&schema, "id"));
    assert!(!null_stats::typed_null(&schema, "absent"));

    // `s` has no values by type: 100 % nulls, and no flood.
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..200));
    let empty: ArrayRef = Arc::new(NullArray::new(200));
    let stats = null_stats_of(&write(vec![("id", ids, true), ("s", empty.clone(), true)], 100, true));
    assert!(stats.finding.is_none(), "{:?}", stats.finding.map(|f| f.message));

    // A column of the contract that is typed and flooded beside it still is judged.
    let ids: ArrayRef = Arc::new(Int64Array::from_iter((0..200).map(|i| (i % 2 == 0).then_some(i))));
    let stats = null_stats_of(&write(vec![("id", ids, true), ("s", empty, true)], 100, true));
    let f = stats.finding.expect("half of id is null");
    assert_eq!(flooded(&f.evidence), vec![("id".to_string(), 100, 200)]);
}

#[tokio::test]
async fn check_bytes_finds_a_flood_in_the_statistics_or_else_in_the_pages() {
    let with = check_bytes(&table(), "t/a.parquet", file(300, 150, 100, true)).await.unwrap();
    assert_eq!(with.map(|f| (f.kind, f.tier)), Some((FindingKind::NullFlood, Tier::Footer)));

    let without = check_bytes(&table(), "t/b.parquet", file(300, 150, 100, false)).await.unwrap();
    let f = without.expect("the pages tier counts the nulls the statistics lack");
    assert_eq!((f.kind, f.tier), (FindingKind::NullFlood, Tier::Pages));
    assert_eq!(flooded(&f.evidence), vec![("s".to_string(), 150, 300)]);

    for statistics in [true, false] {
        let clean = check_bytes(&table(), "t/c.parquet", file(300, 2, 100, statistics)).await.unwrap();
        assert!(clean.is_none(), "statistics {statistics}: {:?}", clean.map(|f| f.message));
    }
}

#[tokio::test]
async fn check_file_counts_nulls_in_the_pages_only_where_statistics_lack_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = lakechaos_lake::LocalStore::open(dir.path()).unwrap();
    for (key, data) in
        [("t/dt=1/a.parquet", file(300, 150, 100, false)), ("t/dt=1/b.parquet", file(300, 2, 100, false))]
    {
        store.put(key, data).await.unwrap();
    }
    let a = store.head("t/dt=1/a.parquet").await.unwrap().unwrap();
    let flooded_file = check_file(&store, &table(), &a, Depth::Pages).await.unwrap();
    assert!(flooded_file.pages_decoded);
    assert_eq!(flooded_file.finding.map(|f| (f.kind, f.tier)), Some((FindingKind::NullFlood, Tier::Pages)));
    let b = store.head("t/dt=1/b.parquet").await.unwrap().unwrap();
    let clean = check_file(&store, &table(), &b, Depth::Pages).await.unwrap();
    assert!(clean.finding.is_none(), "{:?}", clean.finding.map(|f| f.message));
    assert_eq!(clean.rows, Some(300));
}

/// A store that records how many whole-object reads (the pages tier's) are in flight at once;
/// each takes long enough that reads allowed to overlap do.
#[derive(Debug)]
struct InFlight {
    inner: lakechaos_lake::LocalStore,
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl ObjectStore for InFlight {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn list(&self, prefix: &str) -> lakechaos_lake::Result<Vec<ObjectMeta>> {
        self.inner.list(prefix).await
    }
    async fn head(&self, key: &str) -> lakechaos_lake::Result<Option<ObjectMeta>> {
        self.inner.head(key).await
    }
    async fn get(&self, key: &str) -> lakechaos_lake::Result<Bytes> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        self.now.fetch_sub(1, SeqCst);
        self.inner.get(key).await
    }
    async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> lakechaos_lake::Result<Bytes> {
        self.inner.get_range(key, range).await
    }
    async fn put(&self, key: &str, data: Bytes) -> lakechaos_lake::Result<()> {
        self.inner.put(key, data).await
    }
    async fn delete(&self, key: &str) -> lakechaos_lake::Result<()> {
        self.inner.delete(key).await
    }
}

/// A clean file of between 1 and 2 MiB: rows of incompressible text, so its size is its data.
fn file_of_one_mib_and_more(seed: u64) -> Bytes {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let rows = 1200;
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows as i64));
    let s: ArrayRef = Arc::new(StringArray::from_iter_values(
        (0..rows).map(|_| (0..1000).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect::<String>()),
    ));
    write(vec![("id", ids, false), ("s", s, true)], rows, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_tier_holds_no_more_whole_files_than_the_budget_allows() {
    const MIB: u64 = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(InFlight {
        inner: lakechaos_lake::LocalStore::open(dir.path()).unwrap(),
        now: Default::default(),
        most: Default::default(),
    });
    for i in 0..6 {
        store.put(&format!("t/dt=1/part-{i}.parquet"), file_of_one_mib_and_more(i)).await.unwrap();
    }
    let files = store.list("t/").await.unwrap();
    assert!(files.iter().all(|m| (MIB + 1..2 * MIB).contains(&m.size)), "{:?}", files.iter().map(|m| m.size));

    // Six jobs, a budget of two MiB: each file takes one MiB of it, so two are read at once.
    let two = Limits { jobs: 6, bytes_in_flight: 2 * MIB };
    let checked = check_files(store.clone(), &table(), files.clone(), Depth::Pages, two).await;
    assert_eq!(checked.len(), 6);
    for (key, c) in &checked {
        let c = c.as_ref().unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(c.pages_decoded && c.finding.is_none(), "{key}: {:?}", c.finding);
    }
    assert_eq!(store.most.load(std::sync::atomic::Ordering::SeqCst), 2, "whole files in memory at once");

    // A budget smaller than one file: each is checked alone.
    store.most.store(0, std::sync::atomic::Ordering::SeqCst);
    let small = Limits { jobs: 6, bytes_in_flight: MIB / 2 };
    let checked = check_files(store.clone(), &table(), files.clone(), Depth::Pages, small).await;
    assert!(checked.values().all(|c| c.as_ref().is_ok_and(|c| c.finding.is_none())));
    assert_eq!(store.most.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A budget beyond what a semaphore can count is as good as none, not a panic.
    store.most.store(0, std::sync::atomic::Ordering::SeqCst);
    let unbounded = Limits { jobs: 6, bytes_in_flight: u64::MAX };
    let checked = check_files(store.clone(), &table(), files.clone(), Depth::Pages, unbounded).await;
    assert!(checked.values().all(|c| c.as_ref().is_ok_and(|c| c.finding.is_none())));
    assert!(store.most.load(std::sync::atomic::Ordering::SeqCst) > 2);

    // Footer checks read no whole file, so the budget does not hold them back.
    store.most.store(0, std::sync::atomic::Ordering::SeqCst);
    let checked = check_files(store.clone(), &table(), files, Depth::Footer, two).await;
    assert!(checked.values().all(|c| c.as_ref().is_ok_and(|c| c.footer_read && !c.pages_decoded)));
    assert_eq!(store.most.load(std::sync::atomic::Ordering::SeqCst), 0);
}
