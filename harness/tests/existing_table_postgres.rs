//! Existing-table mode on PostgreSQL: a `sales` table lakechaos did not create — `raw.sales`
//! (the source of truth) and `public.sales` range-partitioned by day on `sold_at` — is broken by
//! every fault class that has a meaning in SQL, and afterwards PostgreSQL itself (a digest of
//! every row, and the table's column definitions) says it is as it was. A fault beyond the
//! blast radius and a table whose served rows differ from raw are refused with exit 2 and
//! nothing written.

mod common;

use lakechaos::targets::{Target, TargetOptions};
use lakechaos_lake::pg::connect;
use std::process::{Command, Output};

const DAYS: i64 = 25;
const ROWS_PER_DAY: i64 = 400;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn lakechaos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakechaos")).args(args).current_dir(common::repo_root()).output().unwrap()
}

/// The table as a user's pipeline would have made it: plain SQL, no lakechaos.
fn schema_sql() -> String {
    let mut sql = vec![
        "CREATE SCHEMA raw".to_string(),
        "CREATE TABLE raw.sales (sale_id bigint PRIMARY KEY, customer text, amount numeric(12,2), \
         discount double precision, quantity integer, sold_at timestamp with time zone NOT NULL, returned boolean)"
            .into(),
        format!(
            "INSERT INTO raw.sales SELECT i, 'c' || (i % 97), (i % 5000) / 100.0, \
             CASE WHEN i % 9 = 0 THEN NULL ELSE (i % 30) / 100.0 END, 1 + i % 7, \
             timestamptz '2024-05-01 00:00:00+00' + (i / {ROWS_PER_DAY}) * interval '1 day' + (i % {ROWS_PER_DAY}) * interval '1 minute', \
             i % 17 = 0 FROM generate_series(0, {}) i",
            DAYS * ROWS_PER_DAY - 1
        ),
        "CREATE TABLE public.sales (LIKE raw.sales) PARTITION BY RANGE (sold_at)".into(),
    ];
    for d in 0..DAYS {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap() + chrono::Days::new(d as u64);
        let next = day + chrono::Days::new(1);
        sql.push(format!(
            "CREATE TABLE public.sales_p{} PARTITION OF public.sales FOR VALUES FROM ('{day} 00:00:00+00') TO ('{next} 00:00:00+00')",
            day.format("%Y%m%d")
        ));
    }
    sql.push("INSERT INTO public.sales SELECT * FROM raw.sales".into());
    sql.join(";\n")
}

/// PostgreSQL's own reading of the served table: row count, a digest of every row in key order,
/// and the column definitions.
async fn as_postgres_sees_it(url: &str) -> (i64, String, Vec<String>) {
    let client = connect(url, "test-reader").await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY sale_id), '')) FROM public.sales t",
            &[],
        )
        .await
        .unwrap();
    let columns = client
        .query(
            "SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = 'sales' ORDER BY ordinal_position",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (row.get(0), row.get(1), columns)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sql_fault_class_breaks_a_users_postgres_table_and_it_comes_back_as_it_was() {
    let env = Target::Postgres.start(&TargetOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let url = env.provision_database("existing-sales").await.unwrap();
    connect(&url, "test").await.unwrap().batch_execute(&schema_sql()).await.unwrap();
    let before = as_postgres_sees_it(&url).await;
    assert_eq!(before.0, DAYS * ROWS_PER_DAY);

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let o = lakechaos(&[
        "run",
        "scenarios-existing",
        "--lake",
        &url,
        "--table",
        "sales",
        "--json",
        report.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let scenarios = doc["suites"][0]["scenarios"].as_array().unwrap();
    let mut ran: Vec<&str> =
        scenarios.iter().filter(|s| s["status"] == "passed").map(|s| s["fault_class"].as_str().unwrap()).collect();
    ran.sort();
    ran.dedup();
    assert_eq!(ran, ["missing_partition", "null_flood", "schema_drift"], "{out}");
    for s in scenarios {
        match s["fault_class"].as_str().unwrap() {
            "corrupt_parquet" => assert_eq!(s["status"], "skipped", "no Parquet in PostgreSQL: {out}"),
            _ => assert!(s["status"] == "passed" || s["status"] == "skipped", "{}: {out}", s["name"]),
        }
    }
    assert_eq!(as_postgres_sees_it(&url).await, before, "{out}");

    // Another session holding the table (a second lakechaos run): refused, nothing written.
    let other = connect(&url, "another-run").await.unwrap();
    other.query_one("SELECT pg_advisory_lock(hashtext('lakechaos:sales'))", &[]).await.unwrap();
    let o = lakechaos(&["run", "scenarios-existing", "--lake", &url, "--table", "sales"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("table sales is being broken by another lakechaos run"), "{out}");
    drop(other);
    assert_eq!(as_postgres_sees_it(&url).await, before, "{out}");

    // Beyond the blast radius: refused, nothing written (no journal schema appears).
    let o =
        lakechaos(&["run", "scenarios-existing", "--lake", &url, "--table", "sales", "--max-rows-fraction", "0.01"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("above --max-rows-fraction 0.01") && out.contains("nothing was written"), "{out}");
    let client = connect(&url, "test").await.unwrap();
    client.batch_execute("DROP SCHEMA IF EXISTS lakechaos_journal CASCADE").await.unwrap();

    // A served table that differs from raw is dirty: refused before anything is planned.
    client.batch_execute("UPDATE public.sales SET customer = NULL WHERE sale_id % 3 = 0").await.unwrap();
    let dirty = as_postgres_sees_it(&url).await;
    let o = lakechaos(&["run", "scenarios-existing", "--lake", &url, "--table", "sales"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("is not clean"), "{out}");
    assert_eq!(as_postgres_sees_it(&url).await, dirty, "the dirty table was not touched");
    let journal =
        client.query_one("SELECT count(*) FROM pg_namespace WHERE nspname = 'lakechaos_journal'", &[]).await.unwrap();
    assert_eq!(journal.get::<_, i64>(0), 0, "no journal tables were written");
}
