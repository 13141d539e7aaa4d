//! The S3 store against a real moto server over HTTP, started by the local-process provisioner:
//! the `ObjectStore` contract, object versions, and the healer mending a lake kept in S3.

mod common;

use bytes::Bytes;
use lakechaos::targets::provision::LocalProcess;
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::seed_lake;
use lakechaos_lake::{AwsConnection, FileCatalog, Lake, LakeError, ObjectStore, S3Store};
use lakehealer::{Healer, HealerConfig};
use std::sync::Arc;

fn moto() -> LocalProcess {
    LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_keeps_the_object_store_contract() {
    let moto = moto();
    let store = S3Store::connect(&AwsConnection::emulator(moto.endpoint()), "lc-contract", "lake/v1").await;
    store.ensure_bucket(true).await.unwrap();
    assert_eq!(store.describe(), "s3://lc-contract/lake/v1");

    store.put("t/dt=2024-01-01/part-0.parquet", Bytes::from_static(b"abc")).await.unwrap();
    store.put("t/dt=2024-01-02/part-0.parquet", Bytes::from_static(b"defg")).await.unwrap();
    store.put("other/x", Bytes::from_static(b"z")).await.unwrap();
    let listed = store.list("t/dt=2024-01-0").await.unwrap();
    assert_eq!(
        listed.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(),
        ["t/dt=2024-01-01/part-0.parquet", "t/dt=2024-01-02/part-0.parquet"]
    );
    assert_eq!(listed[1].size, 4);
    assert_eq!(store.get_range("t/dt=2024-01-02/part-0.parquet", 1..3).await.unwrap(), "ef");
    assert_eq!(store.head("t/dt=2024-01-02/part-0.parquet").await.unwrap().unwrap().size, 4);
    assert_eq!(store.head("t/missing").await.unwrap(), None);
    assert!(matches!(store.get("t/missing").await, Err(LakeError::NotFound(_))));

    store.copy("t/dt=2024-01-02/part-0.parquet", "t/copy").await.unwrap();
    assert_eq!(store.get("t/copy").await.unwrap(), "defg");
    // Copy onto the same key (a version restore) is accepted with REPLACE.
    store.copy("t/copy", "t/copy").await.unwrap();

    // Versions: every put is kept; a delete leaves a marker; the old bytes stay readable.
    store.put("t/copy", Bytes::from_static(b"new")).await.unwrap();
    store.delete("t/copy").await.unwrap();
    let versions = store.list_versions("t/copy").await.unwrap();
    assert_eq!(versions.iter().filter(|v| v.is_delete_marker).count(), 1, "{versions:?}");
    let kept: Vec<_> = versions.iter().filter(|v| !v.is_delete_marker).collect();
    assert_eq!(kept.len(), 3, "{versions:?}");
    let mut contents = Vec::new();
    for v in kept {
        contents.push(store.get_version("t/copy", &v.version_id).await.unwrap());
    }
    assert!(contents.contains(&Bytes::from_static(b"defg")) && contents.contains(&Bytes::from_static(b"new")));
    assert_eq!(store.head("t/copy").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_is_named_in_the_error() {
    let port = lakechaos::targets::provision::local_process::free_port().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let store = S3Store::connect(&AwsConnection::emulator(&endpoint), "b", "").await;
    let err = store.list("").await.unwrap_err().to_string();
    assert!(err.contains(&endpoint) && err.contains("S3"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_healer_mends_a_lake_kept_in_s3() {
    let moto = moto();
    let store = Arc::new(S3Store::connect(&AwsConnection::emulator(moto.endpoint()), "lc-lake", "").await);
    store.ensure_bucket(true).await.unwrap();
    let lake = Lake::new(store.clone(), Arc::new(FileCatalog::new(store.clone())));
    let seeded = seed_lake(&lake, "orders", &common::small_spec(), 5).await.unwrap();
    let mut verifier = Verifier::new(seeded.golden.clone());
    assert!(verifier.verify(&lake).await.unwrap().healed);
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let healer = Healer::new(lake.clone(), HealerConfig::default(), Arc::new(move |e| sink.lock().unwrap().push(e)));
    assert!(healer.scan().await.unwrap().findings.is_empty());

    let victim = &seeded.files[1];
    let data = lake.store.get(victim).await.unwrap();
    lake.store.put(victim, data.slice(..data.len() - 64)).await.unwrap();
    let report = healer.scan().await.unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].location, *victim);

    healer.heal_until_settled(3).await.unwrap();
    let v = verifier.verify(&lake).await.unwrap();
    assert!(v.healed, "{v:?}");
    assert_eq!(lake.store.get(victim).await.unwrap(), data);
    let quarantined = lake.store.list("_quarantine/").await.unwrap();
    assert_eq!(quarantined.len(), 2, "the damaged file and its reason record: {quarantined:?}");
    // A versioned bucket restores from the object's own clean earlier version, not from landing.
    let restores: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            lakehealer::HealerEvent::Repair { action, source, .. }
                if *action != lakehealer::events::RepairAction::Quarantine =>
            {
                Some((*action, source.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(restores.len(), 1, "{restores:?}");
    assert_eq!(restores[0].0, lakehealer::events::RepairAction::RestoreFromVersion, "{restores:?}");
    assert!(restores[0].1.starts_with(&format!("{victim} version ")), "{restores:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glue_catalog_keeps_the_catalog_contract() {
    use lakechaos_lake::{Catalog, GlueCatalog};
    let moto = moto();
    let conn = AwsConnection::emulator(moto.endpoint());
    let catalog = GlueCatalog::connect(&conn, "lc_db", "s3://lc-glue").await;
    catalog.ensure_database().await.unwrap();
    catalog.ensure_database().await.unwrap();
    assert_eq!(catalog.list_tables().await.unwrap(), Vec::<String>::new());
    assert_eq!(catalog.get_table("orders").await.unwrap(), None);

    let mut table = lakechaos_lake::TableDef {
        name: "orders".into(),
        location: "orders".into(),
        partition_keys: vec!["dt".into()],
        columns: lakechaos_fixtures::orders::contract(),
        partitions: ["dt=2024-03-01", "dt=2024-03-02"].iter().map(|s| s.to_string()).collect(),
        landing: Some("_landing/orders".into()),
        declared: None,
    };
    catalog.put_table(&table).await.unwrap();
    assert_eq!(catalog.get_table("orders").await.unwrap().as_ref(), Some(&table), "round trip through Glue");
    assert_eq!(catalog.list_tables().await.unwrap(), vec!["orders".to_string()]);

    catalog.remove_partitions("orders", &["dt=2024-03-01".into()]).await.unwrap();
    catalog.add_partitions("orders", &["dt=2024-03-03".into(), "dt=2024-03-02".into()]).await.unwrap();
    let got = catalog.get_table("orders").await.unwrap().unwrap();
    assert_eq!(got.partitions.iter().map(String::as_str).collect::<Vec<_>>(), ["dt=2024-03-02", "dt=2024-03-03"]);

    // put_table replaces the contract and reconciles partitions.
    table.columns.pop();
    table.partitions = ["dt=2024-03-09".to_string()].into_iter().collect();
    catalog.put_table(&table).await.unwrap();
    assert_eq!(catalog.get_table("orders").await.unwrap(), Some(table));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glue_errors_name_the_endpoint() {
    use lakechaos_lake::{Catalog, GlueCatalog};
    let port = lakechaos::targets::provision::local_process::free_port().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let catalog = GlueCatalog::connect(&AwsConnection::emulator(&endpoint), "db", "s3://b").await;
    let err = catalog.list_tables().await.unwrap_err().to_string();
    assert!(err.contains(&endpoint) && err.contains("Glue"), "{err}");
}
