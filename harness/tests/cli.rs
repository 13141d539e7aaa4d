//! The `lakechaos` binary as users run it: exit codes, reports, determinism, revert.

mod common;

use common::findings;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn lakechaos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakechaos")).args(args).output().expect("run lakechaos")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn scenario(name: &str) -> String {
    common::scenarios_dir().join(format!("{name}.yaml")).display().to_string()
}

#[test]
fn run_writes_one_junit_testcase_per_scenario_and_exits_0() {
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("junit.xml");
    let json = out.path().join("run.json");
    let o = lakechaos(&[
        "run",
        &common::scenarios_dir().display().to_string(),
        "--target",
        "local",
        "--seed",
        "7",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let files = common::scenario_file_count();
    assert_eq!(xml.matches("<testcase ").count(), files, "{xml}");
    assert!(xml.contains(r#"<testsuite name="local""#));
    assert!(!xml.contains("<failure"));
    for p in ["seed", "time_to_detect_ms", "time_to_repair_ms", "rows_lost"] {
        assert_eq!(
            xml.matches(&format!(r#"<property name="{p}""#)).count(),
            files + usize::from(p == "seed"),
            "property {p}"
        );
    }
    // Scenarios on Lake Formation grants, and restores from object versions, are skipped on a
    // directory lake, with the reason.
    let needs_lf = lakechaos::load_paths(&[common::scenarios_dir()])
        .unwrap()
        .iter()
        .filter(|s| {
            use lakechaos::scenario::Capability::{LakeFormation, ObjectVersions};
            s.needs.contains(&LakeFormation) || s.needs.contains(&ObjectVersions)
        })
        .count();
    assert!(needs_lf >= 1);
    assert_eq!(xml.matches("<skipped").count(), needs_lf, "{xml}");
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["summary"]["passed"], files - needs_lf);
    assert!(text(&o).contains(&format!("{} passed, 0 failed, {needs_lf} skipped", files - needs_lf)), "{}", text(&o));
}

#[test]
fn no_heal_fails_every_repair_expectation_with_an_slo_breach() {
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("junit.xml");
    let o = lakechaos(&[
        "run",
        &common::scenarios_dir().display().to_string(),
        "--tag",
        "smoke",
        "--no-heal",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let cases = xml.matches("<testcase ").count();
    assert!(cases >= 4);
    assert_eq!(xml.matches("<failure").count(), cases, "{xml}");
    assert_eq!(
        xml.matches(r#"message="repair: lake not equal to golden within repair_within"#).count(),
        cases,
        "{xml}"
    );
    assert!(text(&o).contains("0 passed"));
}

#[test]
fn malformed_scenario_exits_2_with_location_and_injects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let good = std::fs::read_to_string(scenario("corrupt-parquet-truncated-tail")).unwrap();
    std::fs::write(&bad, good.replace("  bytes: 64", "  bytes: 64\n  bites: 3")).unwrap();
    let workdir = dir.path().join("work");
    let o = lakechaos(&["run", bad.to_str().unwrap(), "--workdir", workdir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let expected_prefix = format!("{}:10:3:", bad.display());
    assert!(text(&o).contains(&expected_prefix), "{}", text(&o));
    assert!(text(&o).contains("unknown field `bites`"), "{}", text(&o));
    assert!(!workdir.exists(), "nothing provisioned or injected");

    std::fs::write(&bad, good.replace("kind: corrupt_parquet", "kind: corrupt_parket")).unwrap();
    let o = lakechaos(&["validate", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains(&format!("{}:7:9:", bad.display())), "{}", text(&o));
    assert!(text(&o).contains("corrupt_parket"), "{}", text(&o));

    let o = lakechaos(&["validate", &common::scenarios_dir().display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = lakechaos(&["list", &common::scenarios_dir().display().to_string(), "--tag", "smoke"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(text(&o).lines().count(), 1 + 4, "header + the smoke subset: {}", text(&o));
    let o = lakechaos(&["run", &common::scenarios_dir().display().to_string(), "--tag", "no-such-tag"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

fn journals(workdir: &Path) -> Vec<serde_json::Value> {
    let mut names: Vec<_> = std::fs::read_dir(workdir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    names
        .into_iter()
        .map(|d| {
            let mut j: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(d.join("journal.json")).unwrap()).unwrap();
            j.as_object_mut().unwrap().remove("lake"); // where the lake lives, not what was done to it
            j
        })
        .collect()
}

#[test]
fn same_seed_injects_identical_faults_other_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, name: &str| {
        let w = dir.path().join(name);
        let o = lakechaos(&[
            "run",
            &common::scenarios_dir().display().to_string(),
            "--tag",
            "smoke",
            "--seed",
            seed,
            "--workdir",
            w.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        journals(&w)
    };
    let a = run("7", "a");
    let b = run("7", "b");
    let c = run("8", "c");
    assert_eq!(a.len(), 4);
    assert_eq!(a, b, "same seed, same journal content (before-states and after-hashes)");
    for (x, y) in a.iter().zip(&c) {
        assert_ne!(x["changes"], y["changes"], "another seed damages other bytes");
    }
}

#[test]
fn inject_then_revert_restores_a_clean_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let journal = dir.path().join("j.json");
    let o = lakechaos(&[
        "inject",
        &scenario("schema-drift-rename-column"),
        "--lake",
        lake.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let found = findings(&lake);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind.as_str(), "schema_drift");
    let o = lakechaos(&["revert", "--journal", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(findings(&lake), vec![]);
}

#[test]
fn a_killed_run_is_undone_by_revert() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    // Detect-only, so the damage stays in place while the run waits out its SLO.
    let mut child = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .args(["run", &scenario("corrupt-parquet-truncated-tail"), "--no-heal", "--workdir", work.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lake = work.join("corrupt-parquet-truncated-tail/lake");
    let journal = work.join("corrupt-parquet-truncated-tail/journal.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    // Wait until the fault is in the lake: the healer CLI sees damage.
    loop {
        assert!(Instant::now() < deadline, "fault never appeared");
        if journal.exists() && !findings(&lake).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let o = lakechaos(&["revert", "--journal", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("1 object(s) restored"), "{}", text(&o));
    assert_eq!(findings(&lake), vec![]);
}

#[test]
fn missing_paths_and_bad_journals_exit_2() {
    let o = lakechaos(&["run", "/nonexistent/scenarios"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("/nonexistent/scenarios"), "{}", text(&o));
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("j.json");
    std::fs::write(&j, "{}").unwrap();
    let o = lakechaos(&["revert", "--journal", j.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not a lakechaos journal"), "{}", text(&o));
}

/// The README's commands are `cargo run -p lakechaos -- …` and `cargo run -p lakehealer -- …`:
/// with the Lambda executables beside the CLIs, each package must name its CLI as the one
/// `cargo run` picks (read from `cargo metadata`, which builds nothing).
#[test]
fn cargo_run_of_each_package_picks_its_cli() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(common::repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (package, cli) in [("lakechaos", "lakechaos"), ("lakehealer", "lakehealer")] {
        let p = meta["packages"].as_array().unwrap().iter().find(|p| p["name"] == package).unwrap();
        let bins = p["targets"].as_array().unwrap().iter().filter(|t| t["kind"][0] == "bin").count();
        assert!(bins > 1, "{package} has {bins} binaries: this check guards the case of several");
        assert_eq!(p["default_run"], cli, "`cargo run -p {package}` must run {cli}");
    }
}

/// Starts `lakechaos run` of one scenario with the healer detect-only (so the lake stays broken
/// until the repair deadline), and waits until its fault is injected.
fn run_until_injected(work: &Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .args(["run", &scenario("corrupt-parquet-truncated-tail"), "--no-heal", "--workdir"])
        .arg(work)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = work.join("corrupt-parquet-truncated-tail/journal.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !journal.exists() {
        assert!(Instant::now() < deadline, "the run wrote no journal");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500)); // well past the injection
    child
}

#[test]
fn a_signal_or_a_kill_mid_scenario_leaves_no_fault_behind() {
    let lake_of = |w: &Path| w.join("corrupt-parquet-truncated-tail/lake");
    // SIGTERM: the run reverts from the journal before it exits.
    let work = tempfile::tempdir().unwrap();
    let mut child = run_until_injected(work.path());
    assert!(!findings(&lake_of(work.path())).is_empty(), "the fault is in place before the signal");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(findings(&lake_of(work.path())).is_empty(), "reverted on SIGTERM");
    assert!(work.path().join("corrupt-parquet-truncated-tail/journal.closed").exists());

    // SIGKILL: nothing runs, so `revert --all` (or the next run in the same directory) does it.
    let work = tempfile::tempdir().unwrap();
    let mut child = run_until_injected(work.path());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!findings(&lake_of(work.path())).is_empty(), "a killed run leaves its fault");
    let o = lakechaos(&["revert", "--all", work.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("1 open journal(s)") && text(&o).contains("1 reverted"), "{}", text(&o));
    assert!(findings(&lake_of(work.path())).is_empty(), "reverted by revert --all");
    let again = lakechaos(&["revert", "--all", work.path().to_str().unwrap()]);
    assert!(text(&again).contains("0 open journal(s)"), "closed journals are not reverted twice: {}", text(&again));

    let work = tempfile::tempdir().unwrap();
    let mut child = run_until_injected(work.path());
    child.kill().unwrap();
    child.wait().unwrap();
    let o = lakechaos(&["run", &scenario("null-flood-customer-id"), "--workdir", work.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("left by an interrupted run"), "{}", text(&o));
    assert!(findings(&lake_of(work.path())).is_empty(), "the next run in the directory reverted it first");
}

#[test]
fn an_inject_killed_before_its_journal_leaves_nothing_the_next_inject_trips_on() {
    let mut rng_state = 17u64;
    let mut next = || {
        rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (rng_state >> 33) % 200
    };
    let mut killed_early = 0;
    for _ in 0..12 {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let lake_arg = lake.to_str().unwrap().to_string();
        let args = ["inject", &scenario("null-flood-customer-id"), "--lake", lake_arg.as_str()];
        let mut child = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(next()));
        let _ = child.kill();
        let _ = child.wait();
        let journal = dir.path().join("lake.journal.json");
        let o = lakechaos(&args);
        if journal.exists() && o.status.code() == Some(2) {
            // The first one finished: its fault is journaled, and the lake is refused.
            assert!(text(&o).contains("is not empty"), "{}", text(&o));
            continue;
        }
        killed_early += 1;
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(!dir.path().join("lake.journal.json.intent").exists(), "the intent is gone once injected");
        assert!(!findings(&lake).is_empty(), "the second inject injected");
    }
    eprintln!("{killed_early} of 12 injects killed before they finished; every next inject succeeded");
}
