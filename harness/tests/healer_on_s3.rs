//! `lakehealer` on a user's own S3 lake with a Glue catalog: files written by pyarrow, uploaded to
//! a bucket on a real moto server, registered with `discover`, then scanned and healed through
//! `--lake s3://... --endpoint-url ... --catalog glue:...`.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_lake::notifications::notify_bucket_to_queue;
use lakechaos_lake::{AwsConnection, Catalog, EventQueue, GlueCatalog, ObjectStore, S3Store, Topic};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn writers_python() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-writers/bin/python");
    assert!(p.exists(), "{} is missing: run scripts/setup", p.display());
    p
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

struct Healer<'a> {
    endpoint: &'a str,
}

impl Healer<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(common::lakehealer_bin());
        cmd.args(args)
            .args([
                "--lake",
                "s3://user-lake/warehouse",
                "--catalog",
                "glue:analytics",
                "--endpoint-url",
                self.endpoint,
            ])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args).stdout(std::process::Stdio::piped()).spawn().unwrap()
    }

    fn scan(&self) -> (Option<i32>, serde_json::Value) {
        let o = self.run(&["scan", "--format", "json"]);
        (o.status.code(), serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o))))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_scan_and_heal_a_pyarrow_lake_on_s3_with_glue() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());

    // A lake written by pyarrow, uploaded as a user's pipeline would.
    let local = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../healer/tests/writers/write_lake.py");
    let o = Command::new(writers_python()).arg(script).arg(local.path()).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let store = S3Store::connect(&conn, "user-lake", "warehouse").await;
    store.ensure_bucket(true).await.unwrap();
    let mut uploaded = 0;
    let mut stack = vec![local.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let key = p.strip_prefix(local.path()).unwrap().to_str().unwrap().to_string();
                if key.starts_with("pa_orders") || key.starts_with("_landing/pa_orders") {
                    store.put(&key, std::fs::read(&p).unwrap().into()).await.unwrap();
                    uploaded += 1;
                }
            }
        }
    }
    assert_eq!(uploaded, 4 + 1 + 4, "data, _SUCCESS, landing");
    let glue = GlueCatalog::connect(&conn, "analytics", "s3://user-lake/warehouse").await;
    glue.ensure_database().await.unwrap();

    let healer = Healer { endpoint: moto.endpoint() };
    let o = healer.run(&["discover", "--table", "pa_orders", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let table = glue.get_table("pa_orders").await.unwrap().expect("registered in Glue");
    assert_eq!(table.partitions.len(), 2);
    assert_eq!(table.landing.as_deref(), Some("_landing/pa_orders"));
    let (code, doc) = healer.scan();
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["files_checked"], 4);

    // Damage: a truncated object, and a partition gone from Glue.
    let victim = "pa_orders/dt=2024-05-01/part-0.parquet";
    let original = store.get(victim).await.unwrap();
    store.put(victim, original.slice(..original.len() - 32)).await.unwrap();
    glue.remove_partitions("pa_orders", &["dt=2024-05-02".into()]).await.unwrap();
    let (code, doc) = healer.scan();
    assert_eq!(code, Some(1), "{doc}");
    let mut found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().into(), f["location"].as_str().unwrap().into()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![("corrupt_parquet".into(), victim.into()), ("missing_partition".into(), "pa_orders/dt=2024-05-02".into())],
        "{doc}"
    );

    let o = healer.run(&["heal"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(store.get(victim).await.unwrap(), original);
    assert!(glue.get_table("pa_orders").await.unwrap().unwrap().partitions.contains("dt=2024-05-02"));
    assert_eq!(store.list("_quarantine/").await.unwrap().len(), 2, "damaged object and reason record kept");
    assert_eq!(healer.scan().0, Some(0));

    // `watch` with S3 events through SQS and alerts to SNS: damage is noticed from the event
    // (the reconcile pass is a minute away), healed, and both reach the topic's subscriber.
    let events = EventQueue::create(&conn, "user-lake-events").await.unwrap();
    notify_bucket_to_queue(&conn, "user-lake", &events).await.unwrap();
    let topic = Topic::create(&conn, "lake-alerts").await.unwrap();
    let inbox = EventQueue::create(&conn, "alerts-inbox").await.unwrap();
    topic.subscribe_queue(&inbox).await.unwrap();
    let mut watcher = healer.spawn(&[
        "watch",
        "--format",
        "json",
        "--reconcile-every",
        "60s",
        "--events-queue",
        events.url(),
        "--sns-topic",
        topic.arn(),
    ]);
    let mut lines = std::io::BufReader::new(watcher.stdout.take().unwrap()).lines();
    std::thread::sleep(std::time::Duration::from_secs(2)); // its first pass
    events.drain().await.unwrap_or_default();
    store.put(victim, original.slice(..original.len() / 2)).await.unwrap();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        let done = event["event"] == "repair" && event["action"] != "quarantine";
        seen.push(event);
        if done {
            break;
        }
    }
    // SAFETY: signalling the child we spawned; it stops on SIGINT like on Ctrl-C.
    unsafe { libc::kill(watcher.id() as i32, libc::SIGINT) };
    assert!(watcher.wait().unwrap().success());
    let incident = seen.iter().find(|e| e["event"] == "incident").expect("an incident");
    assert_eq!(incident["location"], victim);
    assert_eq!(incident["trigger"]["via"], "s3_event", "{incident}");
    assert_eq!(store.get(victim).await.unwrap(), original);
    let mut published = Vec::new();
    for _ in 0..5 {
        published.extend(inbox.receive_raw(std::time::Duration::from_secs(1)).await.unwrap());
    }
    let published: Vec<serde_json::Value> = published.iter().map(|m| serde_json::from_str(m).unwrap()).collect();
    assert!(published.iter().any(|m| m["event"] == "incident" && m["location"] == victim), "{published:?}");
    assert!(published.iter().any(|m| m["event"] == "repair"), "{published:?}");

    // Rows gone with no landing copy to compare with: the row inventory (learned by the clean
    // passes above) says how many there were, and the newest earlier version holding them is
    // put back.
    let thinned = store.list("pa_orders/dt=2024-05-02/").await.unwrap()[0].key.clone();
    let full = store.get(&thinned).await.unwrap();
    store.delete(&format!("_landing/{thinned}")).await.unwrap();
    let (schema, _) = lakechaos_lake::parquet_io::read_parquet(full.clone()).unwrap();
    let empty = lakechaos_lake::parquet_io::write_parquet(schema, &[], lakechaos_lake::parquet_io::writer_properties(100))
        .unwrap();
    store.put(&thinned, empty).await.unwrap();
    let (code, doc) = healer.scan();
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(doc["findings"][0]["kind"], "row_loss", "{doc}");
    assert!(doc["findings"][0]["message"].as_str().unwrap().contains("when last judged clean"), "{doc}");
    let o = healer.run(&["heal"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(store.get(&thinned).await.unwrap(), full, "restored from the version that holds the rows");

    // An unreachable endpoint is named, with exit 2.
    let gone = Healer { endpoint: "http://127.0.0.1:9" };
    let o = gone.run(&["scan"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("http://127.0.0.1:9"), "{}", text(&o));
}
