//! The runner's watch over the healer, with events and a backend scripted in-process: which
//! events count as detection, repair, false alarms and false repairs, and when the watch stops.

use super::*;
use crate::backend::{HealerSettings, Planned, Seeded};
use crate::scenario::load::parse_scenario;
use chrono::Utc;
use lakechaos_faults::FaultClass;
use lakechaos_fixtures::Verification;
use lakehealer::events::{RepairAction, Trigger, TriggerKind};
use lakehealer::finding::{Evidence, FindingKind, Tier};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const FILE: &str = "orders/dt=2024-03-01/part-0.parquet";
const PARTITION: &str = "orders/dt=2024-03-01";

fn truth() -> GroundTruth {
    GroundTruth {
        kind: FaultClass::CorruptParquet,
        mode: "truncate_tail".into(),
        table: "orders".into(),
        partitions: vec![PARTITION.into()],
        files: vec![FILE.into()],
        columns: vec![],
        catalog: vec![],
        grants: vec![],
        rows_affected: 10,
        detail: String::new(),
    }
}

fn incident(kind: FindingKind, location: &str, tier: Tier, trigger: Trigger) -> HealerEvent {
    HealerEvent::Incident {
        id: "i-1".into(),
        kind,
        table: "orders".into(),
        location: location.into(),
        tier,
        message: "bad".into(),
        evidence: Evidence::Unreadable { reason: "cut".into() },
        at: Utc::now(),
        trigger,
    }
}

fn repair(location: &str) -> HealerEvent {
    HealerEvent::Repair {
        incident: "i-1".into(),
        action: RepairAction::RestoreFromLanding,
        location: location.into(),
        source: "landing/x".into(),
        at: Utc::now(),
    }
}

fn scan(footers_read: usize, pages_decoded: usize) -> HealerEvent {
    HealerEvent::Scan {
        files_checked: 1,
        footers_read,
        pages_decoded,
        bytes_read: 0,
        findings: 0,
        duration_ms: 1.0,
        event_lag_ms: None,
        at: Utc::now(),
    }
}

fn unrepairable(location: &str) -> HealerEvent {
    HealerEvent::Unrepairable {
        incident: "i-1".into(),
        location: location.into(),
        reason: "no source".into(),
        at: Utc::now(),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn the_first_matching_incident_times_detection_and_says_how_it_was_found() {
    let t = truth();
    let mut obs = Observation::default();
    let event_time = Utc::now() - chrono::Duration::milliseconds(250);
    let trigger = Trigger { via: TriggerKind::S3Event, key: Some(FILE.into()), event_time: Some(event_time) };
    obs.record(ms(40), incident(FindingKind::CorruptParquet, FILE, Tier::Footer, trigger), &t);
    obs.record(ms(90), incident(FindingKind::CorruptParquet, FILE, Tier::Pages, Trigger::of(TriggerKind::Scan)), &t);
    assert_eq!(obs.incidents, 2);
    assert_eq!(obs.time_to_detect, Some(ms(40)), "the first match, not the last");
    assert_eq!(obs.detection_tier.as_deref(), Some("footer"));
    assert_eq!(obs.detected_via.as_deref(), Some("s3_event"));
    let lag = obs.event_to_detect.expect("an event time gives a latency");
    assert!(lag >= ms(250) && lag < ms(5000), "{lag:?}");
    assert_eq!(obs.detected_locations.iter().collect::<Vec<_>>(), [FILE]);
    assert!(obs.false_incidents.is_empty());
}

#[test]
fn incidents_elsewhere_are_false_unless_about_the_damaged_partition() {
    let t = truth();
    let mut obs = Observation::default();
    let scan_trigger = Trigger::of(TriggerKind::Scan);
    // The wrong kind at the damaged file, and a healthy file: both false.
    obs.record(ms(5), incident(FindingKind::NullFlood, FILE, Tier::Footer, scan_trigger.clone()), &t);
    obs.record(
        ms(6),
        incident(FindingKind::CorruptParquet, "orders/dt=2024-03-02/a.parquet", Tier::Footer, scan_trigger.clone()),
        &t,
    );
    // The damaged partition, left empty: a consequence of the damage, not a false alarm.
    obs.record(ms(7), incident(FindingKind::MissingPartition, PARTITION, Tier::Listing, scan_trigger), &t);
    assert_eq!(obs.incidents, 3);
    assert_eq!(obs.time_to_detect, None);
    assert!(obs.detected_locations.is_empty());
    assert_eq!(
        obs.false_incidents,
        [format!("null_flood at {FILE}: bad"), "corrupt_parquet at orders/dt=2024-03-02/a.parquet: bad".to_string()]
    );
}

#[test]
fn repairs_are_counted_and_those_outside_the_footprint_named() {
    let t = truth();
    let mut obs = Observation::default();
    obs.record(ms(1), repair(FILE), &t);
    obs.record(ms(2), repair("orders/dt=2024-03-01/part-1.parquet"), &t);
    assert_eq!((obs.repairs, obs.false_repairs.len()), (2, 0), "inside the damaged partition");
    obs.record(ms(3), repair("orders/dt=2024-03-02/part-0.parquet"), &t);
    assert_eq!(obs.repairs, 3);
    assert_eq!(obs.false_repairs, ["RestoreFromLanding at orders/dt=2024-03-02/part-0.parquet from landing/x"]);
}

#[test]
fn scan_work_adds_up_over_passes() {
    let t = truth();
    let mut obs = Observation::default();
    obs.record(ms(1), scan(2, 3), &t);
    obs.record(ms(2), scan(4, 5), &t);
    assert_eq!((obs.footers_read, obs.pages_decoded), (6, 8));
}

#[test]
fn unrepairable_counts_damaged_locations_once_and_ignores_others() {
    let t = truth();
    let mut obs = Observation::default();
    obs.record(ms(10), unrepairable("orders/dt=2024-03-02/other.parquet"), &t);
    assert!(obs.unrepairable_locations.is_empty());
    assert_eq!(obs.time_to_unrepairable, None);
    obs.record(ms(20), unrepairable(FILE), &t);
    obs.record(ms(30), unrepairable(FILE), &t);
    assert_eq!(obs.unrepairable_locations.iter().collect::<Vec<_>>(), [FILE]);
    assert_eq!(obs.time_to_unrepairable, Some(ms(20)), "a repeat does not move the time");
    // Events that carry nothing the verdict uses change nothing.
    obs.record(ms(40), HealerEvent::PassFailed { error: "x".into(), at: Utc::now() }, &t);
    obs.record(ms(40), HealerEvent::Resolved { incident: "i".into(), location: FILE.into(), at: Utc::now() }, &t);
    assert_eq!((obs.incidents, obs.repairs), (0, 0));
}

#[test]
fn drain_records_every_waiting_event_timed_from_injection() {
    let t = truth();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t0 = Instant::now();
    tx.send((t0 + ms(30), incident(FindingKind::CorruptParquet, FILE, Tier::Footer, Trigger::default()))).unwrap();
    tx.send((t0 + ms(50), repair(FILE))).unwrap();
    let mut obs = Observation::default();
    obs.drain(&mut rx, t0, &t);
    assert_eq!(obs.time_to_detect, Some(ms(30)));
    assert_eq!(obs.repairs, 1);
    assert!(rx.try_recv().is_err(), "nothing left waiting");
}

#[tokio::test]
async fn the_first_pass_is_a_completed_scan() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send((Instant::now(), repair(FILE))).unwrap();
    tx.send((Instant::now(), scan(0, 0))).unwrap();
    tx.send((Instant::now(), repair(FILE))).unwrap();
    first_pass(&mut rx).await.unwrap();
    assert!(matches!(rx.try_recv(), Ok((_, HealerEvent::Repair { .. }))), "stops at the scan");
    // A pass that takes a while is waited for.
    tokio::spawn(async move {
        tokio::time::sleep(ms(50)).await;
        tx.send((Instant::now(), scan(0, 0))).unwrap();
    });
    first_pass(&mut rx).await.unwrap();
    let e = first_pass(&mut rx).await.unwrap_err();
    assert!(e.to_string().contains("did not complete its first pass"), "{e}");
}

/// A backend whose lake is healed once `heals_after` verifications have been asked for, and
/// which asks to be verified every `every` while the runner waits.
struct Scripted {
    verifications: Arc<AtomicUsize>,
    heals_after: usize,
    every: Duration,
}

#[async_trait::async_trait]
impl Backend for Scripted {
    async fn provision(&mut self) -> Result<(), ScenarioError> {
        unreachable!()
    }
    async fn seed(&mut self) -> Result<Seeded, ScenarioError> {
        unreachable!()
    }
    async fn healer(&mut self, _: HealerSettings) -> Result<std::sync::Arc<dyn HealerUnderTest>, ScenarioError> {
        unreachable!()
    }
    async fn verify(&mut self) -> Result<Verification, ScenarioError> {
        let n = self.verifications.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Verification { healed: n >= self.heals_after, ..Verification::default() })
    }
    fn verify_every(&self) -> Duration {
        self.every
    }
    async fn plan(&mut self) -> Result<Planned, ScenarioError> {
        unreachable!()
    }
    async fn inject(&mut self) -> Result<(), ScenarioError> {
        unreachable!()
    }
    async fn revert(&mut self) -> Result<(), ScenarioError> {
        unreachable!()
    }
}

fn scenario(outcome: &str) -> Scenario {
    parse_scenario(
        &format!(
            "name: s\nfixture: {{dataset: orders}}\nfault: {{kind: corrupt_parquet, mode: truncate_tail}}\n\
             slo: {{detect_within: 400ms, repair_within: 600ms}}\nexpect: {{outcome: {outcome}}}\n"
        ),
        Path::new("s.yaml"),
    )
    .unwrap()
}

fn scripted(heals_after: usize) -> (Scripted, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    (Scripted { verifications: n.clone(), heals_after, every: ms(5) }, n)
}

#[tokio::test]
async fn a_repair_is_timed_when_the_backend_finds_the_lake_healed() {
    let t = truth();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t0 = Instant::now();
    tx.send((t0 + ms(10), incident(FindingKind::CorruptParquet, FILE, Tier::Footer, Trigger::default()))).unwrap();
    // The repair arrives on its own, after the watch has taken the incident.
    tokio::spawn(async move {
        tokio::time::sleep(ms(30)).await;
        tx.send((t0 + ms(20), repair(FILE))).unwrap();
    });
    let (mut backend, verifications) = scripted(20);
    let detected = AtomicUsize::new(0);
    let on_detected = || {
        detected.fetch_add(1, Ordering::SeqCst);
    };
    let obs = observe(&mut rx, t0, &scenario("repaired"), &t, &mut backend, &on_detected).await.unwrap();
    assert_eq!(detected.load(Ordering::SeqCst), 1, "told once, when detection happened");
    assert_eq!(obs.time_to_detect, Some(ms(10)));
    let ttr = obs.time_to_repair.expect("healed on the twentieth verification");
    assert!(ttr < ms(600), "stops as soon as healed: {ttr:?}");
    assert_eq!(verifications.load(Ordering::SeqCst), 20, "no verification after the lake was healed");
}

#[tokio::test]
async fn a_repair_event_is_verified_at_once_and_other_events_wait_their_turn() {
    let t = truth();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t0 = Instant::now();
    // Verification every second: only the first look and the repair are verified in time.
    let n = Arc::new(AtomicUsize::new(0));
    let mut backend = Scripted { verifications: n.clone(), heals_after: 2, every: Duration::from_secs(1) };
    tokio::spawn(async move {
        tx.send((Instant::now(), incident(FindingKind::CorruptParquet, FILE, Tier::Footer, Trigger::default())))
            .unwrap();
        tokio::time::sleep(ms(30)).await;
        tx.send((Instant::now(), scan(1, 1))).unwrap();
        tokio::time::sleep(ms(50)).await;
        tx.send((Instant::now(), repair(FILE))).unwrap();
    });
    let obs = observe(&mut rx, t0, &scenario("repaired"), &t, &mut backend, &|| {}).await.unwrap();
    let ttr = obs.time_to_repair.expect("healed when the repair was verified");
    assert!(ttr >= ms(80) && ttr < ms(600), "verified on the repair, not on the scan before it: {ttr:?}");
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unhealed_lake_is_watched_until_the_deadline() {
    let t = truth();
    let (_tx, mut rx) = mpsc::unbounded_channel();
    let (mut backend, verifications) = scripted(usize::MAX);
    let t0 = Instant::now();
    let obs = observe(&mut rx, t0, &scenario("repaired"), &t, &mut backend, &|| {}).await.unwrap();
    assert_eq!(obs.time_to_repair, None);
    assert!(t0.elapsed() >= ms(600), "watched to repair_within: {:?}", t0.elapsed());
    assert!(verifications.load(Ordering::SeqCst) >= 10, "re-verified every few ms while waiting");
}

#[tokio::test]
async fn detect_only_stops_once_every_location_is_detected() {
    let t = truth();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t0 = Instant::now();
    tx.send((t0, incident(FindingKind::CorruptParquet, FILE, Tier::Footer, Trigger::default()))).unwrap();
    let (mut backend, verifications) = scripted(1);
    let obs = observe(&mut rx, t0, &scenario("detected"), &t, &mut backend, &|| {}).await.unwrap();
    assert!(t0.elapsed() < ms(300), "{:?}", t0.elapsed());
    assert_eq!(obs.time_to_repair, None, "nothing to repair is judged");
    assert_eq!(verifications.load(Ordering::SeqCst), 0, "detection is not judged from the lake");
}

#[tokio::test]
async fn unrepairable_stops_once_every_location_is_reported() {
    let t = truth();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t0 = Instant::now();
    tx.send((t0, unrepairable(FILE))).unwrap();
    let (mut backend, _) = scripted(1);
    let obs = observe(&mut rx, t0, &scenario("unrepairable"), &t, &mut backend, &|| {}).await.unwrap();
    assert!(t0.elapsed() < ms(300), "{:?}", t0.elapsed());
    assert_eq!(obs.time_to_unrepairable, Some(Duration::ZERO));
    assert_eq!(obs.time_to_repair, None);
}

#[tokio::test]
async fn unrepairable_waits_for_every_damaged_location() {
    let two = GroundTruth { files: vec![FILE.into(), "orders/dt=2024-03-01/part-1.parquet".into()], ..truth() };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t0 = Instant::now();
    tokio::spawn(async move {
        tx.send((t0, unrepairable(FILE))).unwrap();
        tokio::time::sleep(ms(50)).await;
        tx.send((t0 + ms(50), unrepairable("orders/dt=2024-03-01/part-1.parquet"))).unwrap();
    });
    let (mut backend, _) = scripted(1);
    let obs = observe(&mut rx, t0, &scenario("unrepairable"), &two, &mut backend, &|| {}).await.unwrap();
    assert_eq!(obs.unrepairable_locations.len(), 2);
    assert_eq!(obs.time_to_unrepairable, Some(ms(50)), "timed when the last location was reported");
}

#[tokio::test]
async fn without_events_detect_only_waits_out_detect_within() {
    let t = truth();
    let (_tx, mut rx) = mpsc::unbounded_channel();
    let (mut backend, _) = scripted(1);
    let t0 = Instant::now();
    observe(&mut rx, t0, &scenario("detected"), &t, &mut backend, &|| {}).await.unwrap();
    let waited = t0.elapsed();
    assert!(waited >= ms(400) && waited < ms(600), "the detect deadline, not the repair one: {waited:?}");
}

/// A healer that runs until stopped, then ends as told.
struct Ends(fn() -> Result<(), HealerError>);

#[async_trait::async_trait]
impl HealerUnderTest for Ends {
    async fn findings(&self) -> Result<Vec<String>, HealerError> {
        Ok(Vec::new())
    }
    fn start(self: std::sync::Arc<Self>, mut stop: watch::Receiver<bool>) -> JoinHandle<Result<(), HealerError>> {
        tokio::spawn(async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
            (self.0)()
        })
    }
}

#[tokio::test]
async fn a_stopped_healer_ends_and_a_panicking_one_is_an_error() {
    let fine = Running::start(std::sync::Arc::new(Ends(|| Ok(()))));
    fine.stop(ms(1)).await.unwrap();
    let erring = Running::start(std::sync::Arc::new(Ends(|| Err(HealerError::Invalid("x".into())))));
    erring.stop(ms(1)).await.expect("an error on the way out is logged, not a verdict");
    let panicking = Running::start(std::sync::Arc::new(Ends(|| panic!("boom"))));
    let e = panicking.stop(ms(1)).await.unwrap_err();
    assert!(e.to_string().contains("panicked"), "{e}");
}

#[tokio::test]
async fn a_dropped_run_stops_its_healer() {
    let stopped = Arc::new(AtomicUsize::new(0));
    struct Counts(Arc<AtomicUsize>);
    #[async_trait::async_trait]
    impl HealerUnderTest for Counts {
        async fn findings(&self) -> Result<Vec<String>, HealerError> {
            Ok(Vec::new())
        }
        fn start(self: std::sync::Arc<Self>, mut stop: watch::Receiver<bool>) -> JoinHandle<Result<(), HealerError>> {
            let counter = self.0.clone();
            // Outlives an abort of the healer's own task: only the stop signal reaches it.
            tokio::spawn(async move {
                // Told to stop, not merely left without a sender.
                if stop.wait_for(|s| *s).await.is_ok() {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            });
            tokio::spawn(std::future::pending())
        }
    }
    let running = Running::start(std::sync::Arc::new(Counts(stopped.clone())));
    drop(running);
    tokio::time::timeout(Duration::from_secs(5), async {
        while stopped.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("dropping the run sends stop");
}
