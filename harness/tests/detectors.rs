//! Each detector finds its fault, at the tier it belongs to, and nothing else; a clean fixture
//! raises nothing.

mod common;

use lakechaos_faults::{apply, FaultContext};
use lakechaos_fixtures::seed_lake;
use lakechaos_lake::Lake;
use lakehealer::{Depth, Healer, HealerConfig, Mode, Tier};
use rand::SeedableRng;

fn healer(lake: &Lake, depth: Depth) -> Healer {
    Healer::new(
        lake.clone(),
        HealerConfig { mode: Mode::DetectOnly, depth, ..HealerConfig::default() },
        lakehealer::events::discard(),
    )
}

#[tokio::test]
async fn clean_fixture_raises_nothing_at_any_depth() {
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_local(dir.path()).unwrap();
        seed_lake(&lake, "orders", &common::small_spec(), seed).await.unwrap();
        for depth in [Depth::Listing, Depth::Footer, Depth::Pages] {
            let report = healer(&lake, depth).scan().await.unwrap();
            assert!(report.findings.is_empty(), "seed {seed}, {depth:?}: {:?}", report.findings);
            assert_eq!(report.files_checked, 6);
        }
    }
}

#[tokio::test]
async fn each_fault_is_found_by_its_detector_only() {
    for spec in common::every_mode() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open_local(dir.path()).unwrap();
        let seeded = seed_lake(&lake, "orders", &common::small_spec(), 9).await.unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let plan = spec
            .plan(&mut FaultContext { lake: &lake, table: &seeded.table, rng: &mut rng, grants: &[] })
            .await
            .unwrap();
        apply(&lake, &plan).await.unwrap();
        let truth = &plan.ground_truth;

        let report = healer(&lake, Depth::Pages).scan().await.unwrap();
        assert_eq!(report.findings.len(), truth.locations().len(), "{spec:?}: {:?}", report.findings);
        for f in &report.findings {
            assert_eq!(f.kind.as_str(), truth.kind.as_str(), "{spec:?}: {f:?}");
            assert!(truth.locations().contains(&f.location), "{spec:?}: {f:?} not in {:?}", truth.locations());
        }
        // The tier that must catch it: listing for missing data, empty objects and the catalog
        // entry itself, pages for page bit flips, footers for everything else.
        let expected_tier = match (truth.kind.as_str(), truth.mode.as_str()) {
            _ if !truth.catalog.is_empty() => Tier::Listing,
            ("missing_partition", _) | ("corrupt_parquet", "zero_byte") => Tier::Listing,
            ("corrupt_parquet", "bit_flip_page") => Tier::Pages,
            _ => Tier::Footer,
        };
        assert!(report.findings.iter().all(|f| f.tier == expected_tier), "{spec:?}: {:?}", report.findings);
        // Decoding pages is needed only for page corruption.
        if expected_tier != Tier::Pages {
            let shallow = healer(&lake, Depth::Footer).scan().await.unwrap();
            assert_eq!(shallow.findings.len(), report.findings.len(), "{spec:?} needs no page decoding");
            assert_eq!(shallow.pages_decoded, 0);
        } else {
            let shallow = healer(&lake, Depth::Footer).scan().await.unwrap();
            assert!(shallow.findings.is_empty(), "a page flip leaves footers intact");
        }
    }
}

#[tokio::test]
async fn unchanged_files_are_not_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_local(dir.path()).unwrap();
    seed_lake(&lake, "orders", &common::small_spec(), 1).await.unwrap();
    let h = healer(&lake, Depth::Pages);
    let first = h.scan().await.unwrap();
    assert_eq!((first.footers_read, first.pages_decoded), (6, 6));
    let second = h.scan().await.unwrap();
    assert_eq!((second.footers_read, second.pages_decoded), (0, 0), "verdicts of unchanged files are reused");
}
