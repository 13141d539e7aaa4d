//! Credential markers in every input a user gives (database URLs with a password in the userinfo
//! or the query, endpoints with `user:pass@`): none may appear in any output, log, report or
//! journal, whether the endpoint answers or not.

mod common;

use lakechaos::targets::provision::{self, ProviderKind, Service};
use std::path::Path;
use std::process::{Command, Output};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn scenario(name: &str) -> String {
    common::scenarios_dir().join(format!("{name}.yaml")).display().to_string()
}

/// Every file under `dir` that contains `marker`.
fn files_with(dir: &Path, marker: &str) -> Vec<String> {
    common::files_under(dir)
        .into_iter()
        .filter(|p| std::fs::read(p).is_ok_and(|b| String::from_utf8_lossy(&b).contains(marker)))
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn unreachable_endpoints_are_named_without_their_passwords() {
    let lakechaos = |env: &[(&str, &str)], args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lakechaos")).envs(env.iter().copied()).args(args).output().unwrap()
    };
    let cases: Vec<(&str, Output)> = vec![
        (
            "LAKECHAOS_POSTGRES_URL userinfo",
            lakechaos(
                &[("LAKECHAOS_POSTGRES_URL", "postgresql://u:MARKER-PG1@127.0.0.1:1/db")],
                &["run", &scenario("null-flood-customer-id"), "--target", "postgres", "--provider", "external"],
            ),
        ),
        (
            "LAKECHAOS_POSTGRES_URL query",
            lakechaos(
                &[("LAKECHAOS_POSTGRES_URL", "postgresql://u@127.0.0.1:1/db?password=MARKER-PG2")],
                &["run", &scenario("null-flood-customer-id"), "--target", "postgres", "--provider", "external"],
            ),
        ),
        (
            "--pushgateway",
            lakechaos(
                &[],
                &["run", &scenario("null-flood-customer-id"), "--pushgateway", "http://u:MARKER-PUSH@127.0.0.1:1"],
            ),
        ),
        (
            "--cloudwatch-endpoint",
            lakechaos(
                &[],
                &[
                    "run",
                    &scenario("null-flood-customer-id"),
                    "--cloudwatch",
                    "--cloudwatch-endpoint",
                    "http://u:MARKER-CW@127.0.0.1:1",
                ],
            ),
        ),
        (
            "revert --endpoint-url",
            lakechaos(
                &[],
                &["revert", "--journal", "s3://b/k.json", "--endpoint-url", "http://u:MARKER-S3@127.0.0.1:1"],
            ),
        ),
        (
            "verify --endpoint-url",
            lakechaos(&[], &["verify", "--lake", "s3://b/p", "--endpoint-url", "http://u:MARKER-V@127.0.0.1:1"]),
        ),
    ];
    let healer = Command::new(common::lakehealer_bin())
        .args(["scan", "--lake", "s3://b/p", "--catalog", "glue:db", "--endpoint-url", "http://u:MARKER-H@127.0.0.1:1"])
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    let pg_healer = Command::new(common::lakehealer_bin())
        .args(["scan", "--lake", "postgresql://u:MARKER-HPG@127.0.0.1:1/db"])
        .output()
        .unwrap();
    let mut markers = 0;
    for (what, out) in
        cases.iter().map(|(w, o)| (*w, o)).chain([("lakehealer scan s3", &healer), ("lakehealer scan pg", &pg_healer)])
    {
        let t = text(out);
        assert_eq!(out.status.code(), Some(2), "{what}: {t}");
        assert!(t.contains("127.0.0.1:1"), "{what}: the endpoint is named: {t}");
        assert!(!t.contains("MARKER"), "{what}: a secret was printed: {t}");
        markers += 1;
    }
    eprintln!("{markers} credential markers given to unreachable endpoints, 0 printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_run_with_a_password_keeps_it_out_of_journals_reports_and_logs() {
    let pg = provision::start(Service::Postgres, ProviderKind::LocalProcess).await.unwrap_or_else(|e| panic!("{e}"));
    // Trust authentication ignores the password, so the run works and every place it could leak
    // to can be read.
    let url = pg.endpoint().replace("postgresql://postgres@", "postgresql://postgres:MARKER-RUN@");
    let dir = tempfile::tempdir().unwrap();
    let (work, json, junit, html) =
        (dir.path().join("work"), dir.path().join("r.json"), dir.path().join("j.xml"), dir.path().join("r.html"));
    let out = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .env("LAKECHAOS_POSTGRES_URL", &url)
        .env("LAKECHAOS_LOG", "debug")
        .args(["run", &scenario("missing-partition-files"), "--target", "postgres", "--provider", "external"])
        .arg("--workdir")
        .arg(&work)
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        !t.contains("MARKER-RUN"),
        "printed or logged: {}",
        t.lines().filter(|l| l.contains("MARKER")).collect::<Vec<_>>().join("\n")
    );
    let leaked = files_with(dir.path(), "MARKER-RUN");
    assert!(leaked.is_empty(), "written to {leaked:?}");
    let journal = std::fs::read_to_string(work.join("missing-partition-files/journal.json")).unwrap();
    assert!(journal.contains("postgresql://postgres:***@127.0.0.1:"), "the journal names its database: {journal}");
}
