//! The healer on Parquet written by other writers (pyarrow, DuckDB), not only ours: discover
//! registers the tables, a clean lake scans clean, damage is found and, where a landing copy
//! exists, repaired.

mod common;

use common::{lakehealer, text, writers_python};
use std::process::Command;

fn write_lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/write_lake.py");
    let o = Command::new(writers_python()).arg(script).arg(dir.path()).output().unwrap();
    assert!(o.status.success(), "writer script failed: {}", text(&o));
    dir
}

fn scan_json(lake: &str) -> (Option<i32>, serde_json::Value) {
    let o = lakehealer(&["scan", "--lake", lake, "--format", "json"]);
    (o.status.code(), serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o))))
}

#[test]
fn pyarrow_and_duckdb_tables_are_discovered_and_scan_clean() {
    let dir = write_lake();
    let lake = dir.path().to_str().unwrap();
    for table in ["pa_orders", "duck_orders"] {
        let o = lakehealer(&["discover", "--lake", lake, "--table", table, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let t = &found["table"];
        assert_eq!(t["partition_keys"], serde_json::json!(["dt"]), "{table}");
        assert_eq!(t["partitions"].as_array().unwrap().len(), 2, "{table}");
        let cols: Vec<&str> = t["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(cols, ["id", "price", "note"], "{table}: partition column excluded from the contract");
        assert_eq!(t["columns"][0]["data_type"], "int64");
        assert_eq!(t["columns"][2]["data_type"], "string");
    }
    let (code, doc) = scan_json(lake);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["files_checked"], 4 + 2, "{doc}");
}

#[test]
fn damage_in_foreign_files_is_found_and_healed_from_landing() {
    let dir = write_lake();
    let lake = dir.path().to_str().unwrap();
    for table in ["pa_orders", "duck_orders"] {
        assert_eq!(lakehealer(&["discover", "--lake", lake, "--table", table]).status.code(), Some(0));
    }
    // Truncate a pyarrow file (it has a landing copy) and a DuckDB file (no landing copy).
    let pa_file = dir.path().join("pa_orders/dt=2024-05-01/part-0.parquet");
    let data = std::fs::read(&pa_file).unwrap();
    std::fs::write(&pa_file, &data[..data.len() - 100]).unwrap();
    let duck_dir = dir.path().join("duck_orders/dt=2024-06-02");
    let duck_file = std::fs::read_dir(&duck_dir).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&duck_file, b"").unwrap();
    // Drop a partition's files of the pyarrow table.
    std::fs::remove_dir_all(dir.path().join("pa_orders/dt=2024-05-02")).unwrap();

    let (code, doc) = scan_json(lake);
    assert_eq!(code, Some(1));
    let mut kinds: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["location"].as_str().unwrap().to_string()))
        .collect();
    kinds.sort();
    let duck_key = format!("duck_orders/dt=2024-06-02/{}", duck_file.file_name().unwrap().to_str().unwrap());
    assert_eq!(
        kinds,
        vec![
            ("corrupt_parquet".to_string(), duck_key.clone()),
            ("corrupt_parquet".to_string(), "pa_orders/dt=2024-05-01/part-0.parquet".to_string()),
            ("missing_partition".to_string(), "pa_orders/dt=2024-05-02".to_string()),
        ],
        "{doc}"
    );
    for f in doc["findings"].as_array().unwrap() {
        assert!(f["table"].is_string());
    }

    // Heal: the pyarrow table comes back from landing; the DuckDB file has no source, so it is
    // quarantined and reported unrepairable (exit 1), never deleted.
    let o = lakehealer(&["heal", "--lake", lake, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let events: Vec<serde_json::Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.iter().any(|e| e["event"] == "unrepairable" && e["location"] == duck_key.as_str()), "{events:?}");
    assert!(events.iter().any(|e| e["event"] == "repair" && e["action"] == "restore_from_landing"), "{events:?}");
    assert_eq!(std::fs::read(&pa_file).unwrap(), data, "restored byte for byte from landing");
    assert!(
        dir.path().join("pa_orders/dt=2024-05-02/part-0.parquet").exists()
            || dir.path().join("pa_orders/dt=2024-05-02").read_dir().unwrap().count() > 0
    );
    let quarantined: Vec<_> = walk(&dir.path().join("_quarantine"));
    assert!(quarantined.iter().any(|p| p.ends_with(duck_file.file_name().unwrap())), "{quarantined:?}");
    assert!(quarantined.iter().any(|p| p.to_str().unwrap().ends_with(".reason.json")));

    let (code, doc) = scan_json(lake);
    assert_eq!(code, Some(1), "the DuckDB file's rows are still missing: {doc}");
    let left: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["table"].as_str().unwrap()).collect();
    assert_eq!(left, ["duck_orders"], "{doc}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn spark_tables_are_discovered_and_page_crcs_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writers/write_spark.py");
    let o = Command::new(writers_python()).arg(script).arg(dir.path()).output().unwrap();
    assert!(o.status.success(), "Spark writer failed (needs Java 17 and pyspark from scripts/setup): {}", text(&o));
    let lake = dir.path().to_str().unwrap();
    let o = lakehealer(&["discover", "--lake", lake, "--table", "sp_orders", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let types: Vec<&str> =
        found["table"]["columns"].as_array().unwrap().iter().map(|c| c["data_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["int64", "float64", "string", "timestamp[ns]"], "Spark's INT96 timestamps read as nanoseconds");
    let (code, doc) = scan_json(lake);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["files_checked"], 4, "_SUCCESS and .crc files are not data: {doc}");

    // One flipped bit near the end of a column chunk's pages: the footer is intact, so only the
    // page tier can see it, through the page CRC Spark writes.
    let part = std::fs::read_dir(dir.path().join("sp_orders/dt=2024-07-01"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    let mut data = std::fs::read(&part).unwrap();
    let footer = lakechaos_lake::parquet_io::footer_of(&data).unwrap();
    let chunk = footer.metadata.row_group(0).column(1);
    let at = (chunk.data_page_offset() + chunk.compressed_size() - 10) as usize;
    data[at] ^= 0x10;
    std::fs::write(&part, &data).unwrap();
    let (code, doc) = scan_json(lake);
    assert_eq!(code, Some(1), "{doc}");
    let f = &doc["findings"][0];
    assert_eq!((f["kind"].as_str(), f["tier"].as_str()), (Some("corrupt_parquet"), Some("pages")), "{doc}");
    assert!(f["message"].as_str().unwrap().contains("CRC"), "{doc}");
}

/// pyarrow types an optional column with no values in a file as `Null`: such files agree with
/// the nullable contract column (discover keeps them, scans find nothing, nothing is "healed").
#[test]
fn a_column_pyarrow_types_null_in_some_files_is_compatible() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import sys, os
import pyarrow as pa, pyarrow.parquet as pq
root = sys.argv[1]
for day, files in (("2024-07-01", 3), ("2024-07-02", 3)):
    d = os.path.join(root, "sparse", f"dt={day}")
    os.makedirs(d, exist_ok=True)
    for i in range(files):
        n = 500
        note = pa.nulls(n) if i == 2 else pa.array([None if j % 4 == 0 else f"x{j}" for j in range(n)], pa.string())
        pq.write_table(pa.table({"id": pa.array(range(n), pa.int64()), "note": note}), os.path.join(d, f"part-{i}.parquet"))
"#;
    let o = Command::new(writers_python()).arg("-c").arg(script).arg(dir.path()).output().unwrap();
    assert!(o.status.success(), "writer failed: {}", text(&o));
    let lake = dir.path().to_str().unwrap();
    let o = lakehealer(&["discover", "--lake", lake, "--table", "sparse", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(found["skipped"], serde_json::json!([]), "files typing the column Null are not skipped: {found}");
    assert_eq!(found["table"]["columns"][1]["data_type"], "string");
    let (code, doc) = scan_json(lake);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["files_checked"], 6, "{doc}");
    let healed = lakehealer(&["heal", "--lake", lake]);
    assert_eq!(healed.status.code(), Some(0), "{}", text(&healed));
    assert!(!dir.path().join("_quarantine").exists(), "nothing was quarantined: {}", text(&healed));
}
