//! Hostile Iceberg trees: every file of a seeded table's tree (metadata, manifest list,
//! manifests) damaged at random places and in random ways. The healer must never panic or fail
//! its pass on them, and whenever the harness's own verification says a reader no longer gets
//! the table's rows, the healer must have a finding. (Damage that only changes the contract the
//! metadata states is counted, not asserted: the healer has no other record of the contract.)

use lakechaos_fixtures::{seed_iceberg, IcebergVerifier, OrdersSpec};
use lakechaos_lake::iceberg::{IcebergTable, LakeRoot, SqlCatalog, TableIdent};
use lakechaos_lake::LocalStore;
use lakehealer::Depth;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

/// One way to damage bytes, drawn from the rng.
fn damage(bytes: &[u8], rng: &mut rand_chacha::ChaCha8Rng) -> Vec<u8> {
    let mut v = bytes.to_vec();
    let at = rng.random_range(0..v.len().max(1));
    match rng.random_range(0..5) {
        0 => v[at] ^= 1 << rng.random_range(0..8),
        1 => v.truncate(at),
        2 => v[at] = rng.random(),
        3 => {
            let garbage: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
            v.splice(at..at, garbage);
        }
        _ => {
            // A huge length or count where a varint is read: all continuation bits set.
            let end = (at + 9).min(v.len());
            for b in &mut v[at..end] {
                *b = 0xff;
            }
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_tree_files_never_panic_the_healer_and_unreadable_tables_are_always_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("lake")).unwrap();
    let table = IcebergTable {
        root: LakeRoot::dir(store.root()),
        store: Arc::new(store),
        catalog: Arc::new(SqlCatalog::open(&dir.path().join("catalog.db"), true).unwrap()),
        ident: TableIdent::parse("hostile.orders").unwrap(),
    };
    let spec =
        OrdersSpec { days: 3, rows_per_day: 300, files_per_day: 2, rows_per_row_group: 100, ..OrdersSpec::default() };
    let seeded = seed_iceberg(&table, "warehouse/orders", &spec, 3).await.unwrap();
    let mut verifier = IcebergVerifier::new(seeded.golden.clone());

    // The tree's files: the current metadata, its manifest list and its manifests.
    let base = table.current().await.unwrap();
    let mut tree = vec![table.key(&base.location).unwrap()];
    let snapshot = base.metadata.current_snapshot().unwrap();
    tree.push(table.key(snapshot.manifest_list()).unwrap());
    for mf in table.manifest_list(&base.metadata, snapshot).await.unwrap().entries() {
        tree.push(table.key(&mf.manifest_path).unwrap());
    }

    // `LAKECHAOS_HOSTILE_SEED` draws another corpus.
    let seed = std::env::var("LAKECHAOS_HOSTILE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(18);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut tried, mut unreadable, mut found, mut contract_only) = (0, 0, 0, 0);
    for key in &tree {
        let original = table.store.get(key).await.unwrap();
        for _ in 0..200 {
            let damaged = damage(&original, &mut rng);
            table.store.put(key, damaged.into()).await.unwrap();
            tried += 1;
            let mut verdicts = Default::default();
            let detection = lakehealer::iceberg::detect::detect(&table, Depth::Pages, &mut verdicts)
                .await
                .unwrap_or_else(|e| panic!("{key}: the pass failed instead of reporting: {e}"));
            verifier.forget();
            let v = verifier.verify(&table).await.unwrap();
            let rows_wrong = v.rows_lost > 0 || v.rows_unexpected > 0 || !v.unreadable_files.is_empty();
            if rows_wrong {
                unreadable += 1;
                assert!(
                    !detection.findings.is_empty(),
                    "{key}: readers lose rows ({}) and the healer finds nothing",
                    v.describe()
                );
            } else if !v.healed {
                // The metadata's own bytes changed the contract (a column's name in the only
                // schema, a null allowance) consistently: the healer takes the contract from the
                // metadata, so it cannot tell (a known limit).
                contract_only += 1;
            }
            found += usize::from(!detection.findings.is_empty());
        }
        table.store.put(key, original).await.unwrap();
    }
    eprintln!(
        "{tried} damaged tree files: {unreadable} broke the table's rows for readers, the healer found {found}; \
         {contract_only} changed only the contract the metadata states"
    );
    assert!(unreadable > tried / 2, "the damage is too mild to test anything ({unreadable} of {tried})");
}
