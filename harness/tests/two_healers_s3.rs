//! Two healers at once on one damaged lake in a versioned bucket on a real moto server (the
//! shape of concurrent function invocations): conditional writes (`If-Match` on the version
//! judged) let exactly one of them restore each damaged file; neither quarantines a healthy one.

mod common;

use lakechaos::targets::provision::local_process::LocalProcess;
use lakechaos_faults::{apply, Change, FaultContext};
use lakechaos_fixtures::manifest::Verifier;
use lakechaos_fixtures::{seed_lake, OrdersSpec};
use lakechaos_lake::{AwsConnection, CatalogKind, Lake};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::process::{Command, Output};

const TRIALS: u64 = 25;
const DAMAGED_FILES: usize = 6;

fn heal(endpoint: &str, lake: &str) -> std::process::Child {
    Command::new(common::lakehealer_bin())
        .args(["heal", "--lake", lake, "--endpoint-url", endpoint, "--format", "json"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The restores (not quarantines) a healer's JSON event stream reports.
fn restores(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "repair" && e["action"].as_str().is_some_and(|a| a.starts_with("restore")))
        .map(|e| e["location"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_healers_on_s3_restore_each_damage_once_and_never_quarantine_a_healthy_file() {
    let moto = LocalProcess::start_moto().unwrap_or_else(|e| panic!("cannot start moto: {e}"));
    let conn = AwsConnection::emulator(moto.endpoint());
    let spec =
        OrdersSpec { days: 3, rows_per_day: 600, files_per_day: 2, rows_per_row_group: 300, ..OrdersSpec::default() };
    let mut failures = Vec::new();
    let mut doubled = 0;
    for trial in 0..TRIALS {
        let prefix = format!("t{trial}");
        let lake = Lake::create_s3(&conn, "races", &prefix, &CatalogKind::File, Some(true)).await.unwrap();
        let seeded = seed_lake(&lake, "orders", &spec, 200 + trial).await.unwrap();
        let fault = common::truncate_tail(100, 3, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(trial);
        let plan = fault
            .plan(&mut FaultContext { lake: &lake, table: &seeded.table, rng: &mut rng, grants: &[] })
            .await
            .unwrap();
        let damaged: HashSet<String> = plan
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Object { after: Some(data), .. } => Some(common::sha(data)),
                _ => None,
            })
            .collect();
        assert_eq!(damaged.len(), DAMAGED_FILES);
        apply(&lake, &plan).await.unwrap();

        let address = format!("s3://races/{prefix}");
        let (a, b) = (heal(moto.endpoint(), &address), heal(moto.endpoint(), &address));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let mut problems = Vec::new();
        if !Verifier::new(seeded.golden.clone()).verify(&lake).await.unwrap().healed {
            problems.push("lake not whole".to_string());
        }
        problems.extend(common::quarantine_problems(&lake, &damaged).await);
        let mut restored = restores(&a);
        restored.extend(restores(&b));
        if restored.len() != DAMAGED_FILES {
            doubled += restored.len().saturating_sub(DAMAGED_FILES);
            problems.push(format!("{} restores of {DAMAGED_FILES} damaged files: {restored:?}", restored.len()));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "trial {trial}: exits {:?}/{:?}; {}\nA: {}\nB: {}",
                a.status.code(),
                b.status.code(),
                problems.join("; "),
                String::from_utf8_lossy(&a.stderr),
                String::from_utf8_lossy(&b.stderr)
            ));
        }
    }
    eprintln!(
        "{TRIALS} trials of two concurrent healers on S3: {} failed, {doubled} restores doubled",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
