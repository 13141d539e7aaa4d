//! The PostgreSQL healer's repairs are transactions: killing its connection in the middle of a
//! repair leaves the table exactly as it was before the repair began, and the next pass
//! completes it. Also `lakehealer scan | heal --lake postgresql://…` on the same kind of damage.

mod common;

use lakechaos::{Target, TargetOptions};
use lakechaos_faults::pg::{self as pg_faults, PgTable};
use lakechaos_faults::schema_drift::{DriftMode, DriftScope, SchemaDrift};
use lakechaos_faults::select::Selection;
use lakechaos_faults::FaultSpec;
use lakechaos_fixtures::{seed_postgres, OrdersSpec, PgVerifier};
use lakechaos_lake::pg::{connect, introspect, PgLayout};
use lakehealer::events::{HealerEvent, Trigger, TriggerKind};
use lakehealer::pg::{PgHealer, PgHealerConfig};
use rand::SeedableRng;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn drop_column(column: &str) -> FaultSpec {
    FaultSpec::SchemaDrift(SchemaDrift {
        mode: DriftMode::DropColumn,
        column: Some(column.into()),
        new_name: None,
        new_type: None,
        select: Selection::default(),
        scope: DriftScope::Files,
    })
}

/// A seeded database with `fault` injected: (url, verifier, before-repair verification).
async fn damaged(env: &lakechaos::targets::TargetEnv, name: &str, fault: &FaultSpec) -> (String, PgVerifier) {
    let url = env.provision_database(name).await.unwrap();
    let layout = PgLayout::default();
    let mut client = connect(&url, "test").await.unwrap();
    let spec = OrdersSpec { days: 3, rows_per_day: 3000, ..OrdersSpec::default() };
    let seeded = seed_postgres(&client, &url, &layout, "orders", &spec, 11).await.unwrap();
    let table = PgTable {
        layout: layout.clone(),
        days: seeded.days,
        key: seeded.key,
        contract: seeded.golden.contract.clone(),
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut plan = pg_faults::plan(fault, &table, &mut rng, "t").unwrap();
    pg_faults::record(&mut client, &url, &mut plan).await.unwrap();
    pg_faults::inject(&mut client, &url, &plan).await.unwrap();
    (url, PgVerifier::new(seeded.golden, layout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_killed_between_passes_is_replaced_without_a_failed_pass() {
    let env = Target::Postgres.start(&TargetOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let (url, _verifier) = damaged(&env, "idle-kill", &drop_column("amount")).await;
    let observer = connect(&url, "test-observer").await.unwrap();
    let healer =
        PgHealer::new(url.clone(), PgLayout::default(), PgHealerConfig::default(), lakehealer::events::discard());
    assert_eq!(healer.scan().await.unwrap().len(), 1, "the healer's connection is up and sees the drift");
    for _ in 0..5 {
        // Terminate the healer's idle backend, then use the healer at once: the driver may not
        // have noticed the close yet, and the pass must still succeed.
        let killed: i64 = observer
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'lakehealer'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(killed, 1);
        let found = healer.scan().await.unwrap_or_else(|e| panic!("a scan after the kill failed: {e}"));
        assert_eq!(found.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_killed_midway_leaves_the_table_as_it_was_and_the_next_pass_completes() {
    let env = Target::Postgres.start(&TargetOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let (url, verifier) = damaged(&env, "interrupted-repair", &drop_column("customer_id")).await;
    let layout = PgLayout::default();
    let observer = connect(&url, "test-observer").await.unwrap();
    let columns_before = introspect::columns(&observer, "public", "orders").await.unwrap();
    assert!(!columns_before.iter().any(|c| c.name == "customer_id"));
    let damaged_state = verifier.verify(&observer).await.unwrap();
    assert!(!damaged_state.healed && damaged_state.rows_lost == 9000, "{damaged_state:?}");

    // Hold the source table so the repair blocks after its first statements (the column is
    // re-added, then its values are copied from raw.orders), then kill the healer's connection.
    let mut locker = connect(&url, "test-locker").await.unwrap();
    let lock = locker.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE raw.orders IN ACCESS EXCLUSIVE MODE").await.unwrap();

    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let sink: lakehealer::EventSink = Arc::new(move |e| seen.lock().unwrap().push(e));
    let healer = Arc::new(PgHealer::new(url.clone(), layout.clone(), PgHealerConfig::default(), sink));
    let first = tokio::spawn({
        let healer = healer.clone();
        async move { healer.pass(Trigger::of(TriggerKind::Scan)).await }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let (pid, query) = loop {
        let row = observer
            .query_opt(
                "SELECT pid, query FROM pg_stat_activity WHERE application_name = 'lakehealer' AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            break (row.get::<_, i32>(0), row.get::<_, String>(1));
        }
        assert!(Instant::now() < deadline, "the healer's repair never reached the locked source table");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(query.starts_with("UPDATE"), "blocked in {query}");
    let killed: bool = observer.query_one("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap().get(0);
    assert!(killed);
    let outcome = tokio::time::timeout(Duration::from_secs(20), first).await.expect("pass returns").unwrap();
    let err = outcome.expect_err("a pass whose connection was killed must fail");
    assert!(err.to_string().contains("repairing catalog:public.orders"), "{err}");
    lock.rollback().await.unwrap();

    // Exactly as before the repair: no column re-added, no quarantine schema, same verdict.
    assert_eq!(introspect::columns(&observer, "public", "orders").await.unwrap(), columns_before);
    assert!(introspect::relation(&observer, "public", "orders").await.unwrap().is_some());
    let quarantine: i64 = observer
        .query_one("SELECT count(*) FROM pg_namespace WHERE nspname = 'lakechaos_quarantine'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(quarantine, 0, "the interrupted repair's CREATE SCHEMA survived");
    assert_eq!(verifier.verify(&observer).await.unwrap(), damaged_state);
    {
        let events = events.lock().unwrap();
        assert!(events.iter().any(|e| matches!(e, HealerEvent::Incident { .. })));
        assert!(!events.iter().any(|e| matches!(e, HealerEvent::Repair { .. })), "{events:?}");
    }

    // The next pass completes the repair, and the harness's check agrees.
    let second = healer.pass(Trigger::of(TriggerKind::Reconcile)).await.unwrap();
    assert_eq!(second.repaired, 1);
    let healed = verifier.verify(&observer).await.unwrap();
    assert!(healed.healed && healed.rows_lost == 0, "{healed:?}");
    assert!(healer.scan().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lakehealer_scans_and_heals_a_postgres_lake() {
    let env = Target::Postgres.start(&TargetOptions::default()).await.unwrap_or_else(|e| panic!("{e}"));
    let (url, verifier) = damaged(&env, "cli-heal", &drop_column("amount")).await;
    let bin = common::lakehealer_bin();
    let bin = bin.as_path();
    let scan = std::process::Command::new(bin).args(["scan", "--lake", &url]).output().unwrap();
    let out = String::from_utf8_lossy(&scan.stdout);
    assert_eq!(scan.status.code(), Some(1), "{out}");
    assert!(
        out.contains("schema_drift") && out.contains("catalog:public.orders") && out.contains("missing amount"),
        "{out}"
    );
    let heal = std::process::Command::new(bin).args(["heal", "--lake", &url]).output().unwrap();
    let out = String::from_utf8_lossy(&heal.stdout);
    assert_eq!(heal.status.code(), Some(0), "{out}\n{}", String::from_utf8_lossy(&heal.stderr));
    assert!(out.contains("REPAIR") && out.contains("0 finding(s) left"), "{out}");
    let client = connect(&url, "test").await.unwrap();
    assert!(verifier.verify(&client).await.unwrap().healed);

    // An unreachable database is named, with exit 2.
    let bad = std::process::Command::new(bin)
        .args(["scan", "--lake", "postgresql://postgres@127.0.0.1:1/x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("127.0.0.1:1"), "{}", String::from_utf8_lossy(&bad.stderr));
}
