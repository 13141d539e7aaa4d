//! The healer behind a network that fails: a TCP proxy on loopback in front of a real moto server
//! resets connections, answers `503 SlowDown`, or stalls, on a given share of the connections the
//! healer opens. `lakehealer heal` must still heal the lake in one invocation, `lakehealer watch`
//! must keep going and heal damage made while it runs, the healer function must heal in one
//! invocation, and nothing may be left half-done (the harness checks the lake against golden
//! through moto directly).

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_faults::{apply, FaultContext};
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{seed_lake, GoldenManifest, OrdersSpec};
use lakechaos_lake::{AwsConnection, CatalogKind, Lake};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy did with the connections it accepted.
#[derive(Default, Debug)]
struct Tally {
    forwarded: usize,
    reset: usize,
    slow_down: usize,
    stalled: usize,
}

/// Starts the proxy in front of `upstream` (host:port); `rate` of the connections fail. Good
/// connections are closed after a short while, so faults keep landing on new requests.
async fn fault_proxy(upstream: String, rate: f64, seed: u64) -> (String, Arc<Mutex<Tally>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let rng = Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed)));
    let t = tally.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (draw, life): (f64, u64) = {
                let mut r = rng.lock().unwrap();
                (r.random(), r.random_range(50..300))
            };
            let upstream = upstream.clone();
            let tally = t.clone();
            tokio::spawn(async move {
                if draw < rate / 3.0 {
                    tally.lock().unwrap().reset += 1;
                    // RST on close: SO_LINGER 0 (the socket is closed at once, nothing blocks).
                    let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                } else if draw < rate * 0.95 {
                    tally.lock().unwrap().slow_down += 1;
                    let mut head = [0u8; 4096];
                    let _ = tokio::time::timeout(Duration::from_secs(1), client.read(&mut head)).await;
                    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                    let answer = format!(
                        "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = client.write_all(answer.as_bytes()).await;
                } else if draw < rate {
                    tally.lock().unwrap().stalled += 1;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                } else {
                    tally.lock().unwrap().forwarded += 1;
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::time::timeout(
                            Duration::from_millis(life),
                            tokio::io::copy_bidirectional(&mut client, &mut server),
                        )
                        .await;
                    }
                }
            });
        }
    });
    (addr, tally)
}

/// A seeded lake in `bucket` (Glue database `database`), and the damage to make in it: two
/// truncated files, each restorable from an earlier version.
async fn lake_and_damage(
    conn: &AwsConnection,
    bucket: &str,
    database: &str,
    seed: u64,
) -> (Lake, GoldenManifest, lakechaos_faults::FaultPlan) {
    let catalog = CatalogKind::Glue { database: database.to_string() };
    let lake = Lake::create_s3(conn, bucket, "", &catalog, Some(true)).await.unwrap();
    let spec =
        OrdersSpec { days: 2, rows_per_day: 600, files_per_day: 2, rows_per_row_group: 150, ..OrdersSpec::default() };
    let seeded = seed_lake(&lake, "orders", &spec, seed).await.unwrap();
    let fault = common::truncate_tail(64, 2, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let plan =
        fault.plan(&mut FaultContext { lake: &lake, table: &seeded.table, rng: &mut rng, grants: &[] }).await.unwrap();
    (lake, seeded.golden, plan)
}

fn lakehealer_via(proxy: &str, bucket: &str, database: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(common::lakehealer_bin());
    cmd.args(args)
        .args(["--lake", &format!("s3://{bucket}"), "--catalog", &format!("glue:{database}")])
        .args(["--endpoint-url", proxy])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heal_heals_in_one_invocation_through_a_failing_network() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let upstream = moto.endpoint().trim_start_matches("http://").to_string();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    // The default retry mode (standard); adaptive measured 84 s against 15 s at a 0.5 rate.
    for (trial, (rate, mode)) in [(0.3, "standard"), (0.5, "standard")].into_iter().enumerate() {
        let (bucket, database) = (format!("flaky-{trial}"), format!("flaky_{trial}"));
        let (lake, golden, plan) = lake_and_damage(&conn, &bucket, &database, trial as u64).await;
        apply(&lake, &plan).await.unwrap();

        let (proxy, tally) = fault_proxy(upstream.clone(), rate, 7 + trial as u64).await;
        let started = Instant::now();
        let mut cmd = lakehealer_via(&proxy, &bucket, &database, &["heal"]);
        cmd.env("AWS_RETRY_MODE", mode);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
        let took = started.elapsed();
        let verdict = Verifier::new(golden).verify(&lake).await.unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let line = format!(
            "fault rate {rate}, {mode} retries: exit {:?} in {:.1} s, {:?}, whole {}",
            out.status.code(),
            took.as_secs_f64(),
            tally.lock().unwrap(),
            verdict.healed
        );
        if !out.status.success() || !verdict.healed {
            failures.push(format!("{line}\n{text}\n{verdict:?}"));
        }
        // One line per error: never the SDK's debug dump.
        if let Some(long) = text.lines().find(|l| l.len() > 1000) {
            failures.push(format!("an output line of {} characters: {}…", long.len(), &long[..200]));
        }
        report.push(line);
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_keeps_going_and_heals_through_a_failing_network() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let upstream = moto.endpoint().trim_start_matches("http://").to_string();
    let (bucket, database) = ("flaky-watch", "flaky_watch");
    let (lake, golden, plan) = lake_and_damage(&conn, bucket, database, 21).await;
    let (proxy, tally) = fault_proxy(upstream, 0.5, 23).await;
    let mut watcher = lakehealer_via(&proxy, bucket, database, &["watch", "--reconcile-every", "1s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await; // its first passes, through the faults
    apply(&lake, &plan).await.unwrap();
    let started = Instant::now();
    let mut healed = false;
    while started.elapsed() < Duration::from_secs(120) && !healed {
        tokio::time::sleep(Duration::from_secs(1)).await;
        healed = Verifier::new(golden.clone()).verify(&lake).await.unwrap().healed;
        assert!(watcher.try_wait().unwrap().is_none(), "watch exited on network faults");
    }
    let took = started.elapsed();
    // SAFETY: signalling the child we spawned; it stops on SIGINT like on Ctrl-C.
    unsafe { libc::kill(watcher.id() as i32, libc::SIGINT) };
    let out = watcher.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("watch at a 0.5 fault rate: healed {healed} {:.1} s after the damage, {:?}", took.as_secs_f64(), tally.lock().unwrap());
    assert!(healed, "not healed within 120 s:\n{text}");
    assert!(out.status.success(), "watch did not stop cleanly: {:?}\n{text}", out.status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_healer_function_heals_in_one_invocation_through_a_failing_network() {
    use lakehealer::lambda::{FunctionConfig, HealerFunction};
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let upstream = moto.endpoint().trim_start_matches("http://").to_string();
    let (bucket, database) = ("flaky-function", "flaky_function");
    let (lake, golden, plan) = lake_and_damage(&conn, bucket, database, 31).await;
    apply(&lake, &plan).await.unwrap();
    let (proxy, tally) = fault_proxy(upstream, 0.5, 37).await;
    let config = FunctionConfig {
        lake: format!("s3://{bucket}"),
        catalog: format!("glue:{database}"),
        quarantine: None,
        gameday_prefix: None,
        sns_topic: None,
        metrics_namespace: None,
        mode: lakehealer::Mode::Heal,
        lf_policy: None,
        start_crawler: None,
        connection: AwsConnection::emulator(&proxy),
    };
    let started = Instant::now();
    let function = HealerFunction::start(config).await.unwrap();
    let scheduled: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_root().join("harness/tests/events/scheduled-event.json")).unwrap(),
    )
    .unwrap();
    let response = function.handle(scheduled).await.unwrap();
    let verdict = Verifier::new(golden).verify(&lake).await.unwrap();
    eprintln!(
        "the healer function at a 0.5 fault rate: whole {} after one invocation of {:.1} s, {:?}",
        verdict.healed,
        started.elapsed().as_secs_f64(),
        tally.lock().unwrap()
    );
    assert!(verdict.healed, "{response:?}\n{verdict:?}");
}
