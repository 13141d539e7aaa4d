//! The `lakehealer` binary on a lake seeded by our own fixture.

mod common;

use common::{lakehealer, text};
use lakechaos_fixtures::{seed_lake, OrdersSpec};
use lakechaos_lake::Lake;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_local(dir.path()).unwrap();
    let spec =
        OrdersSpec { days: 3, rows_per_day: 600, files_per_day: 2, rows_per_row_group: 200, ..OrdersSpec::default() };
    tokio::runtime::Runtime::new().unwrap().block_on(seed_lake(&lake, "orders", &spec, 3)).unwrap();
    dir
}

#[test]
fn discover_rebuilds_the_contract_from_footers() {
    let dir = seeded();
    let registered = std::fs::read_to_string(dir.path().join("_catalog/orders.json")).unwrap();
    std::fs::remove_file(dir.path().join("_catalog/orders.json")).unwrap();
    let o = lakehealer(&["discover", "--lake", dir.path().to_str().unwrap(), "--table", "orders"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let original: serde_json::Value = serde_json::from_str(&registered).unwrap();
    let found: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("_catalog/orders.json")).unwrap()).unwrap();
    assert_eq!(found["partitions"], original["partitions"]);
    assert_eq!(found["landing"], "_landing/orders");
    let names = |v: &serde_json::Value| {
        v["columns"].as_array().unwrap().iter().map(|c| (c["name"].clone(), c["data_type"].clone())).collect::<Vec<_>>()
    };
    assert_eq!(names(&found), names(&original));
    let o = lakehealer(&["scan", "--lake", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn bad_input_exits_2_naming_it() {
    let o = lakehealer(&["scan", "--lake", "/nonexistent/lake"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("/nonexistent/lake"), "{}", text(&o));
    let dir = seeded();
    let o = lakehealer(&["scan", "--lake", dir.path().to_str().unwrap(), "--table", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("\"nope\""), "{}", text(&o));
}

#[test]
fn scan_reports_and_heal_repairs_with_quarantine() {
    let dir = seeded();
    let lake = dir.path().to_str().unwrap();
    let victim = dir.path().join("orders/dt=2024-03-02/part-1.parquet");
    let original = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &original[..original.len() / 2]).unwrap();
    let o = lakehealer(&["scan", "--lake", lake, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["findings"][0]["kind"], "corrupt_parquet");
    assert_eq!(doc["findings"][0]["table"], "orders");
    assert_eq!(doc["findings"][0]["location"], "orders/dt=2024-03-02/part-1.parquet");
    let o = lakehealer(&["heal", "--lake", lake]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("moved orders/dt=2024-03-02/part-1.parquet to _quarantine/"), "{}", text(&o));
    assert!(
        text(&o)
            .contains("restored orders/dt=2024-03-02/part-1.parquet from _landing/orders/dt=2024-03-02/part-1.parquet"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), original);
}

#[test]
fn watch_repairs_a_change_as_it_happens() {
    let dir = seeded();
    let lake = dir.path().to_str().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lakehealer"))
        .args(["watch", "--lake", &lake, "--format", "json", "--reconcile-every", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // First pass done: a scan event.
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["event"], "scan");
    let victim = dir.path().join("orders/dt=2024-03-01/part-0.parquet");
    let original = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    // The reconcile interval is 60 s, so a repair within the deadline came from the event.
    while Instant::now() < deadline {
        let line = lines.next().unwrap().unwrap();
        let e: serde_json::Value = serde_json::from_str(&line).unwrap();
        let done = e["event"] == "repair" && e["action"] == "restore_from_landing";
        seen.push(e);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(seen.iter().any(|e| e["event"] == "incident" && e["tier"] == "listing"), "{seen:?}");
    assert!(seen.iter().any(|e| e["event"] == "repair" && e["action"] == "restore_from_landing"), "{seen:?}");
    assert_eq!(std::fs::read(&victim).unwrap(), original);
}
