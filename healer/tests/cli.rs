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

#[test]
fn watch_refuses_a_metrics_address_it_cannot_listen_on() {
    let dir = seeded();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let o = lakehealer(&["watch", "--lake", dir.path().to_str().unwrap(), "--metrics-listen", &addr]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains(&format!("cannot listen on {addr}")), "{}", text(&o));
}

#[test]
fn watch_serves_its_metrics_and_stops_on_sigterm() {
    let dir = seeded();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lakehealer"))
        .args(["watch", "--lake", dir.path().to_str().unwrap(), "--metrics-listen", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Scrape until the first pass shows up, over plain HTTP/1.1.
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let got = std::net::TcpStream::connect(&addr).ok().and_then(|mut s| {
            use std::io::{Read, Write};
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
            let mut out = String::new();
            s.read_to_string(&mut out).ok()?;
            Some(out)
        });
        if let Some(text) =
            got.filter(|t| t.lines().any(|l| l.starts_with("lakehealer_passes_total ") && !l.ends_with(" 0")))
        {
            break text;
        }
        assert!(Instant::now() < deadline, "no pass counted at http://{addr}/metrics");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("text/plain; version=0.0.4"), "{body}");
    assert!(body.lines().any(|l| l.starts_with("lakehealer_scanned_objects_total ") && !l.ends_with(" 0")), "{body}");
    // SIGTERM is a clean stop (exit 0), as a container runtime sends it.
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_table_at_the_lake_root_is_registered_and_an_empty_catalog_is_refused() {
    let dir = seeded();
    let root = dir.path();
    let lake = root.to_str().unwrap();
    // Partitions directly under the lake root, as some writers leave them.
    for e in std::fs::read_dir(root.join("orders")).unwrap() {
        let p = e.unwrap().path();
        std::fs::rename(&p, root.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::remove_dir_all(root.join("_catalog")).unwrap();
    let o = lakehealer(&["scan", "--lake", lake]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no table is registered") && text(&o).contains("lakehealer discover"), "{}", text(&o));
    for location in [".", ""] {
        let o = lakehealer(&["discover", "--lake", lake, "--table", "rooted", "--location", location]);
        assert_eq!(o.status.code(), Some(0), "--location {location:?}: {}", text(&o));
        assert!(text(&o).contains("partitions: 3"), "{}", text(&o));
    }
    let o = lakehealer(&["scan", "--lake", lake]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 finding(s); 6 file(s) checked"), "{}", text(&o));
}

/// A valid `orders` file with the right schema and no rows.
fn empty_orders_file() -> bytes::Bytes {
    lakechaos_lake::parquet_io::write_parquet(
        lakechaos_fixtures::orders::schema(),
        &[],
        lakechaos_lake::parquet_io::writer_properties(100),
    )
    .unwrap()
}

#[test]
fn a_valid_file_with_its_rows_gone_is_found_and_restored() {
    let dir = seeded();
    let lake = dir.path().to_str().unwrap();
    // The right schema, valid Parquet, no rows: every other check passes.
    let key = dir.path().join("orders/dt=2024-03-02/part-1.parquet");
    let empty = empty_orders_file();
    std::fs::write(&key, &empty).unwrap();
    let o = lakehealer(&["scan", "--lake", lake]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("row_loss") && text(&o).contains("0 rows where its landing copy"), "{}", text(&o));
    let o = lakehealer(&["heal", "--lake", lake]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("restored orders/dt=2024-03-02/part-1.parquet"), "{}", text(&o));
    assert_eq!(lakehealer(&["scan", "--lake", lake]).status.code(), Some(0));
}

#[test]
fn rows_gone_without_a_landing_copy_are_found_by_the_inventory() {
    let dir = seeded();
    let lake = dir.path().to_str().unwrap();
    std::fs::remove_dir_all(dir.path().join("_landing")).unwrap();
    // A clean pass learns every file's rows.
    assert_eq!(lakehealer(&["scan", "--lake", lake]).status.code(), Some(0));
    let o = lakehealer(&["inventory", "--lake", lake, "--table", "orders"]);
    assert!(text(&o).contains("6 file(s), 1800 row(s)"), "{}", text(&o));
    let key = dir.path().join("orders/dt=2024-03-02/part-1.parquet");
    let empty = empty_orders_file();
    std::fs::write(&key, &empty).unwrap();
    let o = lakehealer(&["scan", "--lake", lake]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("row_loss") && text(&o).contains("0 rows where it held 300 when last judged clean"), "{}", text(&o));
    // No source holds the rows: unrepairable, said so, and the file is left as it is.
    let o = lakehealer(&["heal", "--lake", lake]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("UNREPAIRABLE") && text(&o).contains("no landing copy"), "{}", text(&o));
    assert_eq!(std::fs::read(&key).unwrap(), empty.to_vec());
    // Rows removed on purpose: forget, and the next clean pass learns the new count.
    let o = lakehealer(&["inventory", "--lake", lake, "--table", "orders", "--forget"]);
    assert!(text(&o).contains("inventory forgotten"), "{}", text(&o));
    assert_eq!(lakehealer(&["scan", "--lake", lake]).status.code(), Some(0));
    let o = lakehealer(&["inventory", "--lake", lake, "--table", "orders"]);
    assert!(text(&o).contains("6 file(s), 1500 row(s)"), "{}", text(&o));
}

#[test]
fn a_small_file_that_inflates_to_millions_of_rows_is_decoded_in_bounded_memory() {
    use arrow_array::{Int64Array, RecordBatch};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("big/dt=2024-01-01");
    std::fs::create_dir_all(&part).unwrap();
    // 60 M rows of one repeated value: under a megabyte on disk, 480 MB decoded at once (the
    // healer kept every batch before: 255 MiB peak at 30 M rows).
    let schema =
        Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new("id", arrow_schema::DataType::Int64, false)]));
    let file = std::fs::File::create(part.join("part-0.parquet")).unwrap();
    let props =
        parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(10_000_000)).build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
    for _ in 0..60 {
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![7i64; 1_000_000]))]).unwrap();
        writer.write(&batch).unwrap();
    }
    writer.close().unwrap();
    let size = std::fs::metadata(part.join("part-0.parquet")).unwrap().len();
    let lake = dir.path().to_str().unwrap();
    assert_eq!(lakehealer(&["discover", "--lake", lake, "--table", "big"]).status.code(), Some(0));
    let o = lakehealer(&["scan", "--lake", lake, "--depth", "pages"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("1 decoded"), "{}", text(&o));
    // The largest child this test process has waited for (kilobytes on Linux).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    let peak_mib = usage.ru_maxrss as u64 / 1024;
    eprintln!("a {size}-byte file of 60 M rows: pages decoded with a peak of {peak_mib} MiB");
    assert!(peak_mib < 128, "peak {peak_mib} MiB");
}

#[test]
fn rules_exports_the_contract_as_dqdl_with_the_inventoried_rows_as_a_floor() {
    let dir = seeded();
    let lake = dir.path().to_str().unwrap();
    let before = lakehealer(&["rules", "--lake", lake, "--table", "orders"]);
    assert_eq!(before.status.code(), Some(0), "{}", text(&before));
    let dqdl = String::from_utf8_lossy(&before.stdout).into_owned();
    assert!(dqdl.contains("Rules = [") && dqdl.contains("ColumnExists \"order_id\""), "{dqdl}");
    assert!(dqdl.contains("ColumnExists \"dt\"") && dqdl.contains("RowCount > 0"), "{dqdl}");
    // After a clean scan the inventory knows the rows: 3 days of 600.
    assert_eq!(lakehealer(&["scan", "--lake", lake]).status.code(), Some(0));
    let after = lakehealer(&["rules", "--lake", lake, "--table", "orders"]);
    assert!(String::from_utf8_lossy(&after.stdout).contains("RowCount >= 1800"), "{}", text(&after));
    // A ruleset needs a Glue catalog; an unknown table is named.
    let o = lakehealer(&["rules", "--lake", lake, "--table", "orders", "--create-ruleset", "r"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("needs a Glue catalog"), "{}", text(&o));
    let o = lakehealer(&["rules", "--lake", lake, "--table", "nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no table nope"), "{}", text(&o));
}
