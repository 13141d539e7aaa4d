//! The scheduled game-day loop closed, on moto: the chaos function (its built bootstrap under a
//! loopback Runtime API) injects; the healer function, deployed the module's way (its own
//! bootstrap, fed the bucket's real events, publishing incidents to SNS, quarantining into
//! its own bucket), heals; and the chaos function's scoring step, invoked as the schedule
//! invokes it, scores each run once it is due — from the harness's own verification against
//! golden and the incidents the ledger queue collected — publishes CloudWatch metrics, writes
//! the reports to S3, reverts a lake nobody healed and deletes an expired one.

mod common;
#[path = "common/runtime_api.rs"]
#[allow(dead_code)]
mod runtime_api;

use lakechaos::ops::lambda::verify::verify_gamedays;
use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::{AwsConnection, EventQueue, ObjectStore, S3Store, Topic};
use runtime_api::{bootstrap, response, Running, RuntimeApi};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const BUCKET: &str = "gameday-curated";
const QUARANTINE: &str = "gameday-quarantine";
const DETECT_WITHIN_S: u64 = 20;
const REPAIR_WITHIN_S: u64 = 25;

/// Two of the packed scenarios, smaller and with deadlines a test can wait for.
fn scenarios(dir: &Path) {
    for name in ["corrupt-parquet-bad-magic", "null-flood-customer-id"] {
        let text = std::fs::read_to_string(common::scenarios_dir().join(format!("{name}.yaml"))).unwrap();
        let text = text
            .replace(
                "slo: { detect_within: 1s, repair_within: 3s }",
                &format!("slo: {{ detect_within: {DETECT_WITHIN_S}s, repair_within: {REPAIR_WITHIN_S}s }}"),
            )
            .replace("rows_per_day: 10000", "rows_per_day: 2000");
        assert!(text.contains(&format!("repair_within: {REPAIR_WITHIN_S}s")), "{name}: the SLO line moved");
        std::fs::write(dir.join(format!("{name}.yaml")), text).unwrap();
    }
}

struct Function {
    api: RuntimeApi,
    _process: Running,
}

impl Function {
    async fn call(&mut self, event: Value) -> Value {
        self.api.invoke(event);
        response(self.api.answer(Duration::from_secs(180)).await.1)
    }
}

async fn keys(conn: &AwsConnection, prefix: &str) -> Vec<String> {
    S3Store::connect(conn, BUCKET, "").await.list(prefix).await.unwrap().into_iter().map(|o| o.key).collect()
}

fn run<'a>(pass: &'a Value, run_id: &str) -> &'a Value {
    pass["scored"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == run_id)
        .unwrap_or_else(|| panic!("{run_id} not scored: {pass}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scoring_step_scores_reverts_reports_and_expires_game_days() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let events = common::bucket_with_events(&conn, BUCKET).await;
    S3Store::connect(&conn, QUARANTINE, "").await.ensure_bucket(true).await.unwrap();
    let topic = Topic::create(&conn, "incidents").await.unwrap();
    let ledger = EventQueue::create(&conn, "gameday-incident-ledger").await.unwrap();
    topic.subscribe_queue(&ledger).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    scenarios(dir.path());

    let chaos_api = RuntimeApi::start().await;
    let chaos_process = Running(bootstrap(
        Path::new(env!("CARGO_BIN_EXE_lakechaos-chaos-lambda")),
        &chaos_api,
        moto.endpoint(),
        &[
            ("LAKECHAOS_ALLOW_ACCOUNTS", "123456789012"),
            ("LAKECHAOS_BUCKET", BUCKET),
            ("LAKECHAOS_PREFIX", "chaos"),
            ("LAKECHAOS_SCENARIOS", dir.path().to_str().unwrap()),
            ("LAKECHAOS_INCIDENT_LEDGER", ledger.url()),
            ("LAKECHAOS_QUARANTINE", &format!("s3://{QUARANTINE}")),
            ("LAKECHAOS_METRICS_NAMESPACE", "Lakechaos"),
        ],
        Stdio::inherit(),
    ));
    let mut chaos = Function { api: chaos_api, _process: chaos_process };
    let healer_api = RuntimeApi::start().await;
    let healer_process = Running(bootstrap(
        &common::workspace_bin("lakehealer", "lakehealer-lambda"),
        &healer_api,
        moto.endpoint(),
        &[
            ("LAKEHEALER_LAKE", &format!("s3://{BUCKET}/lake")),
            ("LAKEHEALER_CATALOG", "file"),
            ("LAKEHEALER_GAMEDAY_PREFIX", "chaos"),
            ("LAKEHEALER_QUARANTINE", &format!("s3://{QUARANTINE}")),
            ("LAKEHEALER_SNS_TOPIC", topic.arn()),
        ],
        Stdio::inherit(),
    ));
    let mut healer = Function { api: healer_api, _process: healer_process };

    // A game day the deployed healer heals, fed the bucket's real events.
    let t0 = Instant::now();
    let injected = chaos
        .call(json!({ "scenarios": ["corrupt-parquet-bad-magic", "null-flood-customer-id"], "run_id": "gd-healed" }))
        .await;
    assert_eq!(injected["injected"].as_array().map(Vec::len), Some(2), "{injected}");
    let healed_url = format!("s3://{BUCKET}/chaos/gd-healed");

    // Not due yet: the scoring step waits, and writes nothing.
    let early = chaos.call(json!({ "score": {} })).await;
    assert_eq!(early["scored"], json!([]), "{early}");
    assert_eq!(early["waiting"][0]["run_id"], "gd-healed", "{early}");
    assert!(keys(&conn, "chaos/gd-healed/_reports/").await.is_empty());

    let mut whole_after = None;
    while t0.elapsed() < Duration::from_secs(REPAIR_WITHIN_S - 5) {
        let bodies = common::queued_bodies(&events).await;
        if !bodies.is_empty() {
            let answer = healer.call(common::sqs_batch(&bodies)).await;
            assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
        }
        let verdicts = verify_gamedays(&conn, &healed_url).await.unwrap();
        if verdicts.iter().all(|v| v.verification.healed) {
            whole_after = Some(t0.elapsed());
            break;
        }
    }
    let whole_after = whole_after.expect("the healer function healed the game day within its SLO");

    // A game day nobody heals (its events are dropped), and one injected eight days ago.
    for run_id in ["gd-unhealed", "gd-old"] {
        let answer = chaos.call(json!({ "scenario": "null-flood-customer-id", "run_id": run_id })).await;
        assert!(answer["injected"][0]["lake"].is_string(), "{answer}");
    }
    events.drain().await.unwrap();
    let whole = S3Store::connect(&conn, BUCKET, "").await;
    let record_key = "chaos/gd-old/null-flood-customer-id/_lakechaos/injection.json";
    let mut record: Value = serde_json::from_slice(&whole.get(record_key).await.unwrap()).unwrap();
    let eight_days_ago = chrono::Utc::now() - chrono::Duration::days(8);
    record["injected_at"] = json!(eight_days_ago);
    record["due_at"] = json!(eight_days_ago + chrono::Duration::seconds(REPAIR_WITHIN_S as i64));
    whole.put(record_key, serde_json::to_vec(&record).unwrap().into()).await.unwrap();

    // The schedule's next pass, once the last deadline has passed.
    tokio::time::sleep(Duration::from_secs(REPAIR_WITHIN_S + 2).saturating_sub(t0.elapsed())).await;
    let unhealed_due: chrono::DateTime<chrono::Utc> = serde_json::from_value(
        serde_json::from_slice::<Value>(
            &whole.get("chaos/gd-unhealed/null-flood-customer-id/_lakechaos/injection.json").await.unwrap(),
        )
        .unwrap()["due_at"]
            .clone(),
    )
    .unwrap();
    let wait = (unhealed_due - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1);
    tokio::time::sleep(wait).await;
    let pass = chaos.call(json!({ "score": {} })).await;
    eprintln!("scoring pass: {pass:#}");
    assert!(pass["errors"].as_array().unwrap().is_empty(), "{pass}");
    assert!(pass["collected"]["kept"].as_u64().unwrap() >= 2, "the healer's incidents reached the ledger: {pass}");

    // Healed: passed, detection and repair timed, repair no later than the harness saw it.
    let healed = run(&pass, "gd-healed");
    assert_eq!((healed["passed"].as_u64(), healed["failed"].as_u64()), (Some(2), Some(0)), "{healed}");
    for scenario in healed["scenarios"].as_array().unwrap() {
        let ttd = scenario["time_to_detect_ms"].as_f64().unwrap_or_else(|| panic!("no TTD: {scenario}"));
        let ttr = scenario["time_to_repair_ms"].as_f64().unwrap_or_else(|| panic!("no TTR: {scenario}"));
        assert!(ttd <= (DETECT_WITHIN_S * 1000) as f64, "{scenario}");
        // Object times are whole seconds on S3: a second of slack.
        assert!(ttr <= whole_after.as_millis() as f64 + 1000.0, "TTR {ttr} ms, whole by {whole_after:?}: {scenario}");
        assert_eq!(scenario["reverted"], false, "{scenario}");
    }

    // Unhealed: the SLO breach fails it, the journal reverts it, the lake is whole again.
    let unhealed = run(&pass, "gd-unhealed");
    assert_eq!(unhealed["failed"], 1, "{unhealed}");
    let scenario = &unhealed["scenarios"][0];
    assert_eq!(scenario["reverted"], true, "{scenario}");
    let failures = scenario["failures"].to_string();
    assert!(failures.contains("repair: lake not equal to golden"), "{failures}");
    assert!(failures.contains("detect: no matching incident"), "{failures}");
    let after = verify_gamedays(&conn, &format!("s3://{BUCKET}/chaos/gd-unhealed")).await.unwrap();
    assert!(after[0].verification.healed, "reverted to golden: {:?}", after[0].verification);

    // Expired: scored, then its lake deleted; its reports stay.
    assert_eq!(run(&pass, "gd-old")["failed"], 1, "{pass}");
    assert_eq!(pass["expired"], json!(["gd-old"]), "{pass}");
    let left = keys(&conn, "chaos/gd-old/").await;
    assert!(!left.is_empty() && left.iter().all(|k| k.starts_with("chaos/gd-old/_reports/")), "{left:?}");
    assert!(!keys(&conn, "chaos/gd-healed/corrupt-parquet-bad-magic/").await.is_empty(), "a recent lake stays");

    // The reports, in S3 under the run.
    let junit = String::from_utf8(whole.get("chaos/gd-healed/_reports/junit.xml").await.unwrap().to_vec()).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 2, "{junit}");
    assert!(!junit.contains("<failure"), "{junit}");
    let junit = String::from_utf8(whole.get("chaos/gd-unhealed/_reports/junit.xml").await.unwrap().to_vec()).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    let report: Value =
        serde_json::from_slice(&whole.get("chaos/gd-healed/_reports/report.json").await.unwrap()).unwrap();
    assert_eq!(report["summary"]["passed"], 2, "{report}");
    assert_eq!(report["suites"][0]["healer"], "external", "{report}");
    let html = whole.get("chaos/gd-healed/_reports/report.html").await.unwrap();
    assert!(String::from_utf8_lossy(&html).contains("null-flood-customer-id"));

    // The metrics, under `lakechaos run`'s names.
    let cw = aws_sdk_cloudwatch::Client::new(&conn.sdk_config().await);
    let listed = cw.list_metrics().namespace("Lakechaos").send().await.unwrap();
    let names: std::collections::BTreeSet<&str> = listed.metrics().iter().filter_map(|m| m.metric_name()).collect();
    for name in ["Scenarios", "TimeToDetect", "TimeToRepair", "SloBreaches", "RowsLost", "RunDuration"] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    assert!(healed["cloudwatch_data"].as_u64().unwrap() > 0, "{healed}");

    // A run is scored once: the next pass has nothing to do.
    let again = chaos.call(json!({ "score": {} })).await;
    assert_eq!(
        (again["scored"].clone(), again["waiting"].clone(), again["expired"].clone()),
        (json!([]), json!([]), json!([])),
        "{again}"
    );

    // A pass stopped after it reverted a lake but before it reported: the next pass keeps the
    // verdict it recorded, rather than judging the reverted lake repaired.
    whole.delete("chaos/gd-unhealed/_reports/report.json").await.unwrap();
    let redo = chaos.call(json!({ "score": {} })).await;
    let rescored = run(&redo, "gd-unhealed");
    assert_eq!((rescored["passed"].as_u64(), rescored["failed"].as_u64()), (Some(0), Some(1)), "{redo}");
    assert_eq!(rescored["scenarios"][0]["reverted"], true, "{redo}");
    assert_eq!(redo["scored"].as_array().unwrap().len(), 1, "{redo}");

    // The same step from the command line, behind the same guard.
    let guard = dir.path().join("aws.yaml");
    std::fs::write(&guard, format!("allow_accounts: ['123456789012']\nbucket: {BUCKET}\nprefix: chaos\n")).unwrap();
    let endpoint = moto.endpoint();
    let cli = |args: &[&str]| {
        let mut all = vec!["score", "--endpoint-url", endpoint, "--aws-config", guard.to_str().unwrap()];
        all.extend_from_slice(args);
        common::lakechaos_against(endpoint, &all)
    };
    let out = cli(&["--format", "json", "--incident-ledger", ledger.url()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let pass: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((pass["scored"].clone(), pass["errors"].clone()), (json!([]), json!([])), "{pass}");
    std::fs::write(&guard, format!("allow_accounts: ['999999999999']\nbucket: {BUCKET}\nprefix: chaos\n")).unwrap();
    let refused = cli(&[]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(said.contains("123456789012") && said.contains("999999999999"), "the refused account is named: {said}");
}
