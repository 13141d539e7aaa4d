//! The PostgreSQL pieces the postgres target will stand on: the local-process provider starts a
//! throwaway PostgreSQL cluster (loopback, free port, temporary data directory) that a real
//! client can use, and removes it when stopped; `scripts/setup` installed dbt with its
//! PostgreSQL adapter, which must reach that cluster.

use lakechaos::targets::provision::{self, ProviderKind, Service};
use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throwaway_cluster_serves_sql_and_dbt_reaches_it() {
    let pg = provision::start(Service::Postgres, ProviderKind::LocalProcess).await.unwrap_or_else(|e| panic!("{e}"));
    let url = pg.endpoint().to_string();
    assert!(url.starts_with("postgresql://postgres@127.0.0.1:"), "{url}");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let version: String = client.query_one("show server_version", &[]).await.unwrap().get(0);
    assert!(version.starts_with("15") || version.parse::<f64>().is_ok_and(|v| v >= 15.0), "{version}");
    client
        .batch_execute(
            "create table t (dt date not null, n int) partition by range (dt);
             create table t_2024_03_01 partition of t for values from ('2024-03-01') to ('2024-03-02');
             insert into t values ('2024-03-01', 1), ('2024-03-01', 2);",
        )
        .await
        .unwrap();
    let n: i64 = client.query_one("select count(*) from t", &[]).await.unwrap().get(0);
    assert_eq!(n, 2);

    // dbt from the project's virtualenv connects to the same cluster.
    let dbt = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-dbt/bin/dbt");
    assert!(dbt.exists(), "{} is missing: run scripts/setup", dbt.display());
    let project = tempfile::tempdir().unwrap();
    let port = url.rsplit(':').next().unwrap().split('/').next().unwrap();
    std::fs::write(
        project.path().join("dbt_project.yml"),
        "name: probe\nversion: '1.0'\nprofile: probe\nconfig-version: 2\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("profiles.yml"),
        format!(
            "probe:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: 127.0.0.1\n      port: {port}\n      user: postgres\n      password: ''\n      dbname: postgres\n      schema: public\n      threads: 1\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(&dbt)
        .args(["--no-use-colors", "debug", "--project-dir"])
        .arg(project.path())
        .arg("--profiles-dir")
        .arg(project.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Connection test: [OK connection ok]"), "{text}");

    // Stopped by PID: it no longer answers.
    drop(client);
    drop(pg);
    assert!(
        tokio_postgres::connect(&url, tokio_postgres::NoTls).await.is_err(),
        "the cluster still answers after it was stopped"
    );
}
