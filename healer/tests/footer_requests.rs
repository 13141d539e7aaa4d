//! Footer checks read each file once: one ranged read of its tail (on S3, one ranged GET), and
//! a second only when the footer is larger than the speculative tail. Counted by a store that
//! wraps the real local store and tallies the reads the healer asks of it.

use async_trait::async_trait;
use bytes::Bytes;
use lakechaos_fixtures::{seed_lake, OrdersSpec};
use lakechaos_lake::{Lake, ObjectMeta, ObjectStore, Result};
use lakehealer::config::Depth;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug)]
struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    gets: AtomicUsize,
    ranged_gets: AtomicUsize,
    heads: AtomicUsize,
}

#[async_trait]
impl ObjectStore for CountingStore {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        self.inner.list(prefix).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        self.heads.fetch_add(1, Ordering::SeqCst);
        self.inner.head(key).await
    }
    async fn get(&self, key: &str) -> Result<Bytes> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        self.ranged_gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get_range(key, range).await
    }
    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.inner.put(key, data).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_footer_check_is_one_ranged_read_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_local(dir.path()).unwrap();
    let spec = OrdersSpec { days: 3, rows_per_day: 300, files_per_day: 4, landing: false, ..OrdersSpec::default() };
    let seeded = seed_lake(&lake, "orders", &spec, 11).await.unwrap();
    let store = CountingStore {
        inner: lake.store.clone(),
        gets: AtomicUsize::new(0),
        ranged_gets: AtomicUsize::new(0),
        heads: AtomicUsize::new(0),
    };
    let listing = lakehealer::detect::list_table(&store, &seeded.table).await.unwrap();
    let files: Vec<ObjectMeta> = listing.files().cloned().collect();
    assert_eq!(files.len(), 12);
    for meta in &files {
        let check = lakehealer::detect::check_file(&store, &seeded.table, meta, Depth::Footer).await.unwrap();
        assert!(check.finding.is_none(), "{}: {:?}", meta.key, check.finding);
        assert!(check.footer_read);
    }
    assert_eq!(store.ranged_gets.load(Ordering::SeqCst), files.len(), "ranged reads for {} files", files.len());
    assert_eq!(store.gets.load(Ordering::SeqCst), 0, "whole-object reads at footer depth");
    assert_eq!(store.heads.load(Ordering::SeqCst), 0, "the listing's sizes serve; no HEAD per file");
}

#[tokio::test]
async fn a_footer_larger_than_the_speculative_tail_costs_one_more_read() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_local(dir.path()).unwrap();
    // Many small row groups make a footer larger than the speculative tail.
    let spec = OrdersSpec {
        days: 1,
        rows_per_day: 6000,
        files_per_day: 1,
        rows_per_row_group: 10,
        landing: false,
        ..OrdersSpec::default()
    };
    let seeded = seed_lake(&lake, "orders", &spec, 11).await.unwrap();
    let key = &seeded.files[0];
    let data = lake.store.get(key).await.unwrap();
    let footer_len = u32::from_le_bytes(data[data.len() - 8..data.len() - 4].try_into().unwrap()) as u64;
    assert!(
        footer_len > lakechaos_lake::parquet_io::SPECULATIVE_TAIL,
        "the footer ({footer_len} bytes) must outgrow the speculative tail for this test"
    );
    let store = CountingStore {
        inner: lake.store.clone(),
        gets: AtomicUsize::new(0),
        ranged_gets: AtomicUsize::new(0),
        heads: AtomicUsize::new(0),
    };
    let meta = ObjectMeta { key: key.clone(), size: data.len() as u64, version_token: String::new(), modified: None };
    let check = lakehealer::detect::check_file(&store, &seeded.table, &meta, Depth::Footer).await.unwrap();
    assert!(check.finding.is_none(), "{:?}", check.finding);
    assert_eq!(store.ranged_gets.load(Ordering::SeqCst), 2);
    assert_eq!(store.gets.load(Ordering::SeqCst), 0);
}
