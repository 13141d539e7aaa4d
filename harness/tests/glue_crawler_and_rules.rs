//! Against moto's Glue: `lakehealer heal --start-crawler` starts the named crawler after it
//! re-registers a missing partition (and says so when the crawler cannot start, keeping the
//! repair), and `lakehealer rules --create-ruleset` reports Glue Data Quality as skipped where
//! the endpoint has none, after printing the ruleset.

mod common;

use lakechaos::targets::provision::LocalProcess;
use lakechaos_fixtures::{seed_lake, OrdersSpec};
use lakechaos_lake::{AwsConnection, CatalogKind, Lake};
use std::process::{Command, Output};

fn lakehealer(endpoint: &str, bucket: &str, database: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(common::lakehealer_bin());
    cmd.args(args)
        .args(["--lake", &format!("s3://{bucket}"), "--catalog", &format!("glue:{database}")])
        .args(["--endpoint-url", endpoint]);
    common::against_emulator(&mut cmd, endpoint).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repaired_partition_starts_the_crawler_and_rules_skip_a_missing_data_quality_service() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let (bucket, database) = ("crawled", "crawled_db");
    let lake = Lake::create_s3(&conn, bucket, "", &CatalogKind::Glue { database: database.into() }, Some(true))
        .await
        .unwrap();
    let spec = OrdersSpec { days: 3, rows_per_day: 300, files_per_day: 1, ..OrdersSpec::default() };
    let seeded = seed_lake(&lake, "orders", &spec, 5).await.unwrap();
    let glue = aws_sdk_glue::Client::new(&conn.sdk_config().await);
    glue.create_crawler()
        .name("orders-crawler")
        .role("arn:aws:iam::123456789012:role/crawler")
        .database_name(database)
        .targets(
            aws_sdk_glue::types::CrawlerTargets::builder()
                .s3_targets(aws_sdk_glue::types::S3Target::builder().path(format!("s3://{bucket}/orders/")).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let state = |g: aws_sdk_glue::Client| async move {
        g.get_crawler().name("orders-crawler").send().await.unwrap().crawler.unwrap().state.unwrap().as_str().to_string()
    };
    assert_eq!(state(glue.clone()).await, "READY");

    // A partition vanishes from the catalog; the healer registers it again and starts the crawler.
    let partition = seeded.table.partitions.iter().next().unwrap().clone();
    lake.catalog.remove_partitions("orders", std::slice::from_ref(&partition)).await.unwrap();
    let o = lakehealer(moto.endpoint(), bucket, database, &["heal", "--start-crawler", "orders-crawler"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("CRAWLER orders-crawler RUNNING"), "{}", text(&o));
    assert_eq!(state(glue.clone()).await, "RUNNING");
    assert!(lake.catalog.get_table("orders").await.unwrap().unwrap().partitions.contains(&partition));

    // Nothing repaired: the crawler is not started again (it would say so).
    let o = lakehealer(moto.endpoint(), bucket, database, &["heal", "--start-crawler", "orders-crawler"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("CRAWLER"), "{}", text(&o));

    // A crawler that does not exist: the repair stands, and the healer says why it did not start.
    lake.catalog.remove_partitions("orders", std::slice::from_ref(&partition)).await.unwrap();
    let o = lakehealer(moto.endpoint(), bucket, database, &["heal", "--start-crawler", "no-such-crawler"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("CRAWLER no-such-crawler not started"), "{}", text(&o));
    assert!(lake.catalog.get_table("orders").await.unwrap().unwrap().partitions.contains(&partition));

    // Rules: printed, and the ruleset skipped with the reason (moto has no Glue Data Quality).
    let o = lakehealer(moto.endpoint(), bucket, database, &["rules", "--table", "orders", "--create-ruleset", "orders-contract"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Rules = ["), "{}", text(&o));
    assert!(text(&o).contains("ruleset orders-contract skipped") && text(&o).contains("no Glue Data Quality"), "{}", text(&o));
}
