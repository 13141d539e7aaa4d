//! The healer Lambda handler (`lakehealer::lambda`) called with event samples in the shapes AWS
//! delivers (`tests/events/`) and with the bodies a real moto bucket sends to its queue, against
//! a lake on moto (S3 with versions, Glue catalog): it repairs the object an event names, ignores
//! what is not its lake's, answers SQS with the messages to retry when a pass fails, and reports
//! to SNS and CloudWatch.

mod common;

use aws_sdk_cloudwatch::types::Statistic;
use lakechaos::scenario::load::load_file;
use lakechaos::targets::provision::LocalProcess;
use lakechaos_faults::{apply, FaultContext};
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{seed_lake, SeededTable};
use lakechaos_lake::{AwsConnection, EventQueue, GlueCatalog, Lake, ObjectStore, S3Store, Topic};
use lakehealer::events::HealerEvent;
use lakehealer::lambda::{FunctionConfig, HealerFunction, HealerResponse};
use lakehealer::{FindingKind, Mode};
use rand::SeedableRng;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BUCKET: &str = "curated-zone";

/// A sample from `tests/events/` with the placeholders filled in.
fn sample(name: &str, key: &str) -> Value {
    let text = std::fs::read_to_string(common::repo_root().join("harness/tests/events").join(name)).unwrap();
    let encoded = key.replace('=', "%3D");
    serde_json::from_str(
        &text.replace("URL_ENCODED_KEY", &encoded).replace("BUCKET", BUCKET).replace("\"KEY\"", &format!("{key:?}")),
    )
    .unwrap()
}

/// An SQS batch as Lambda's event source mapping delivers it: one record per body.
fn sqs_batch(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut record = sample("sqs-record.json", "");
            record["messageId"] = json!(format!("msg-{i}"));
            record["body"] = json!(body);
            record
        })
        .collect();
    json!({ "Records": records })
}

struct StandingLake {
    lake: Lake,
    seeded: SeededTable,
}

/// The standing lake: `s3://curated-zone/lake` with the Glue database `lake_db`, seeded with the
/// scenario's fixture.
async fn standing_lake(conn: &AwsConnection, scenario: &str) -> (StandingLake, lakechaos::Scenario) {
    S3Store::connect(conn, BUCKET, "").await.ensure_bucket(true).await.unwrap();
    let store = Arc::new(S3Store::connect(conn, BUCKET, "lake").await);
    let glue = GlueCatalog::connect(conn, "lake_db", &format!("s3://{BUCKET}/lake")).await;
    glue.ensure_database().await.unwrap();
    let lake = Lake::new(store, Arc::new(glue));
    let scenario = load_file(&common::scenarios_dir().join(format!("{scenario}.yaml"))).unwrap();
    let seeded = seed_lake(&lake, &scenario.dataset, &scenario.fixture, 7).await.unwrap();
    (StandingLake { lake, seeded }, scenario)
}

/// Plans and applies the scenario's fault; returns the damaged file keys (relative to the lake).
async fn inject(s: &StandingLake, scenario: &lakechaos::Scenario) -> Vec<String> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let plan = {
        let mut ctx = FaultContext { lake: &s.lake, table: &s.seeded.table, rng: &mut rng, grants: &[] };
        scenario.fault.plan(&mut ctx).await.unwrap()
    };
    apply(&s.lake, &plan).await.unwrap();
    plan.ground_truth.files.clone()
}

fn config(conn: &AwsConnection, catalog: &str) -> FunctionConfig {
    FunctionConfig {
        lake: format!("s3://{BUCKET}/lake"),
        catalog: catalog.into(),
        quarantine: None,
        gameday_prefix: Some("chaos".into()),
        sns_topic: None,
        metrics_namespace: Some("Lakehealer".into()),
        mode: Mode::Heal,
        lf_policy: None,
        start_crawler: None,
        connection: conn.clone(),
    }
}

fn incidents(r: &HealerResponse) -> Vec<(FindingKind, String)> {
    r.events
        .iter()
        .filter_map(|e| match e {
            HealerEvent::Incident { kind, location, .. } => Some((*kind, location.clone())),
            _ => None,
        })
        .collect()
}

async fn healed(s: &StandingLake) -> bool {
    Verifier::new(s.seeded.golden.clone()).verify(&s.lake).await.unwrap().healed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqs_batch_of_eventbridge_events_leads_to_the_repair_of_that_object() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let (standing, scenario) = standing_lake(&conn, "corrupt-parquet-truncated-tail").await;
    let topic = Topic::create(&conn, "lake-incidents").await.unwrap();
    let inbox = EventQueue::create(&conn, "oncall").await.unwrap();
    topic.subscribe_queue(&inbox).await.unwrap();

    // Quarantine goes to a bucket of its own, as the Terraform module sets it up.
    let quarantine = S3Store::connect(&conn, "quarantine-zone", "").await;
    quarantine.ensure_bucket(true).await.unwrap();
    let function = HealerFunction::start(FunctionConfig {
        sns_topic: Some(topic.arn().into()),
        quarantine: Some("s3://quarantine-zone".into()),
        ..config(&conn, "glue:lake_db")
    })
    .await
    .unwrap();
    let damaged = inject(&standing, &scenario).await;
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    assert!(!healed(&standing).await, "the fault must show before the healer runs");

    // The module's path: EventBridge "Object Created" → SQS → this function; S3's test event
    // rides along in the same batch and names no object.
    let created = sample("eventbridge-object-created.json", &format!("lake/{}", damaged[0]));
    let test_event = sample("s3-test-event.json", "");
    let response = function.handle(sqs_batch(&[created.to_string(), test_event.to_string()])).await.unwrap();

    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(response.objects, 1, "{response:?}");
    assert_eq!(response.passes.len(), 1, "{response:?}");
    assert_eq!(response.passes[0].tables, ["orders"], "the pass covers the object's table only");
    assert_eq!(incidents(&response), [(FindingKind::CorruptParquet, damaged[0].clone())], "{response:?}");
    assert!(response.passes[0].repaired >= 1, "{response:?}");
    assert!(healed(&standing).await, "the lake matches golden again after the invocation");

    // The damaged object is kept, with its reason, in the quarantine bucket under the lake's root.
    let quarantined = quarantine.list("lake/").await.unwrap();
    let names: Vec<&str> = quarantined.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().any(|k| k.ends_with(&damaged[0])) && names.iter().any(|k| k.ends_with(".reason.json")),
        "{names:?}"
    );
    let step = response.events.iter().find_map(|e| match e {
        HealerEvent::Repair { action: lakehealer::events::RepairAction::Quarantine, source, .. } => {
            Some(source.clone())
        }
        _ => None,
    });
    assert!(step.unwrap().starts_with("s3://quarantine-zone/lake/"), "the repair names the quarantine bucket");
    assert!(standing.lake.store.list("_quarantine/").await.unwrap().is_empty(), "nothing quarantined inside the lake");

    // The answer serialises as Lambda's partial-batch response.
    let answer = serde_json::to_value(&response).unwrap();
    assert_eq!(answer["batchItemFailures"], json!([]));

    // SNS: the incident was published before the invocation returned.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut kinds = Vec::new();
    while !kinds.iter().any(|k: &String| k == "incident") {
        assert!(Instant::now() < deadline, "no incident reached the subscribed queue: {kinds:?}");
        for m in inbox.receive_raw(Duration::from_secs(1)).await.unwrap() {
            let v: Value = serde_json::from_str(&m).unwrap();
            kinds.push(v["event"].as_str().unwrap_or_default().to_string());
        }
    }

    // CloudWatch: the counts the module's alarms watch.
    let cw = aws_sdk_cloudwatch::Client::new(&conn.sdk_config().await);
    let now = aws_sdk_cloudwatch::primitives::DateTime::from_secs(chrono::Utc::now().timestamp());
    let sum = |name: &'static str| {
        let cw = cw.clone();
        async move {
            let out = cw
                .get_metric_statistics()
                .namespace("Lakehealer")
                .metric_name(name)
                .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(now.secs() - 600))
                .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(now.secs() + 600))
                .period(60)
                .statistics(Statistic::Sum)
                .send()
                .await
                .unwrap();
            out.datapoints().iter().filter_map(|d| d.sum).sum::<f64>()
        }
    };
    assert_eq!(sum("Incidents").await, 1.0);
    assert!(sum("Repairs").await >= 1.0);
    assert_eq!(sum("Unrepairable").await, 0.0);
    assert_eq!(sum("PassFailures").await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_s3_and_eventbridge_events_and_the_bodies_moto_sends_are_all_understood() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let (standing, scenario) = standing_lake(&conn, "null-flood-customer-id").await;
    let function = HealerFunction::start(config(&conn, "glue:lake_db")).await.unwrap();
    let queue = common::bucket_with_events(&conn, BUCKET).await;

    // A direct S3 notification (its key URL-encoded, as S3 sends it).
    let damaged = inject(&standing, &scenario).await;
    assert!(!damaged.is_empty());
    let direct = function.handle(sample("s3-notification.json", &format!("lake/{}", damaged[0]))).await.unwrap();
    assert_eq!(direct.objects, 1, "{direct:?}");
    assert!(direct.ignored.is_empty(), "the URL-encoded key must be decoded: {direct:?}");
    assert!(incidents(&direct).iter().any(|(k, l)| *k == FindingKind::NullFlood && l == &damaged[0]), "{direct:?}");
    assert!(healed(&standing).await, "{direct:?}");

    // The bodies the bucket really sent to its queue meanwhile (the fault's writes and the
    // repair's), as one SQS batch: understood, routed to the table, nothing left to do.
    let bodies = queue.receive_raw(Duration::from_secs(2)).await.unwrap();
    assert!(!bodies.is_empty(), "moto delivered the fault's S3 events");
    let replay = function.handle(sqs_batch(&bodies)).await.unwrap();
    assert!(replay.objects >= 1 && replay.batch_item_failures.is_empty(), "{replay:?}");
    assert!(
        replay.ignored.iter().all(|i| i.why == "in quarantine" || i.why == "healer state"),
        "only the quarantined copies and the healer's inventory are ignored: {replay:?}"
    );
    assert_eq!(replay.passes.len(), 1, "one pass per lake, however many objects: {replay:?}");
    assert_eq!(replay.passes[0].tables, ["orders"], "{replay:?}");
    assert!(incidents(&replay).is_empty(), "a healed lake raises nothing: {replay:?}");

    // An EventBridge "Object Deleted" (moto sends no removal events itself): the file comes back.
    standing.lake.store.delete(&standing.seeded.files[0]).await.unwrap();
    let deleted = function
        .handle(sample("eventbridge-object-deleted.json", &format!("lake/{}", standing.seeded.files[0])))
        .await
        .unwrap();
    assert!(incidents(&deleted).iter().any(|(k, _)| *k == FindingKind::MissingPartition), "{deleted:?}");
    assert!(healed(&standing).await, "{deleted:?}");

    // A scheduled invocation reconciles the whole lake.
    let scheduled = function.handle(sample("scheduled-event.json", "")).await.unwrap();
    assert_eq!(scheduled.passes.len(), 1);
    assert!(scheduled.passes[0].tables.is_empty() && scheduled.passes[0].error.is_none(), "{scheduled:?}");

    // What is not this lake's is ignored, each with its reason.
    let elsewhere = sample("eventbridge-object-created.json", "lake/orders/dt=2024-03-01/x.parquet")
        .to_string()
        .replace(BUCKET, "someone-elses-bucket");
    let batch = sqs_batch(&[
        elsewhere,
        sample("eventbridge-object-created.json", "lake/_quarantine/20261129T000000Z/orders/x.parquet").to_string(),
        sample("eventbridge-object-created.json", "lake/exports/daily.csv").to_string(),
        sample("eventbridge-object-created.json", "outside/the/lake.parquet").to_string(),
    ]);
    let ignored = function.handle(batch).await.unwrap();
    let whys: Vec<&str> = ignored.ignored.iter().map(|i| i.why.as_str()).collect();
    assert_eq!(whys.len(), 4, "{ignored:?}");
    assert!(whys[0].contains("someone-elses-bucket"), "{whys:?}");
    assert_eq!(whys[1], "in quarantine");
    assert_eq!(whys[2], "not in any table of the catalog");
    assert!(whys[3].contains("outside the lake's prefix"), "{whys:?}");
    assert!(ignored.passes.is_empty(), "{ignored:?}");

    // Not an event at all: an error naming what was expected.
    let err = function.handle(json!({"hello": "world"})).await.unwrap_err().to_string();
    assert!(err.contains("expected an SQS batch"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_pass_returns_its_messages_for_retry_and_counts_a_pass_failure() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    S3Store::connect(&conn, BUCKET, "").await.ensure_bucket(true).await.unwrap();
    // The catalog is a Glue database that does not exist: every pass fails.
    let function = HealerFunction::start(config(&conn, "glue:no_such_db")).await.unwrap();
    let key = "lake/orders/dt=2024-03-01/part-0.parquet";
    let batch = sqs_batch(&[
        sample("eventbridge-object-created.json", key).to_string(),
        sample("eventbridge-object-created.json", "chaos/run-1/null-flood/orders/dt=2024-03-01/part-0.parquet")
            .to_string(),
    ]);
    let response = function.handle(batch).await.unwrap();
    let retry: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    // The first message's pass failed on the catalog; the game-day lake of the second has an
    // (empty) file catalog, so its pass succeeds and its message is not retried.
    assert_eq!(retry, ["msg-0"], "{response:?}");
    assert!(response.events.iter().any(|e| matches!(e, HealerEvent::PassFailed { .. })), "{response:?}");

    // Invoked directly, a failed pass is the invocation's error (Lambda retries, then the DLQ).
    let err = function.handle(sample("scheduled-event.json", "")).await.unwrap_err().to_string();
    assert!(err.contains("pass failed") && err.contains("no_such_db"), "{err}");
}
