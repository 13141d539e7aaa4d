//! `lakechaos inject` and `lakechaos run` killed (SIGKILL) at random points, 100 times: after a
//! restart (the same command again, then `revert` for an inject) every lake must be whole, no
//! journal left open and no temporary file left anywhere.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const INJECT_KILLS: usize = 70;
const RUN_KILLS: usize = 30;

fn lakechaos(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakechaos"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn scenario(name: &str) -> String {
    common::scenarios_dir().join(format!("{name}.yaml")).display().to_string()
}

/// Runs `cmd` to the end, or kills it after `after`; whether it was killed.
fn run_or_kill(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    killed
}

fn timed(mut cmd: Command) -> Duration {
    let started = Instant::now();
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    started.elapsed()
}

#[test]
fn inject_and_run_killed_anywhere_leave_whole_lakes_after_a_restart() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut failures = Vec::new();
    let (mut killed, mut leftovers) = (0, 0);

    let inject_args = |lake: &str| vec!["inject".to_string(), scenario("null-flood-customer-id"), "--lake".into(), lake.into()];
    let probe = tempfile::tempdir().unwrap();
    let lake = probe.path().join("lake").display().to_string();
    let whole_inject = timed(lakechaos(&inject_args(&lake).iter().map(String::as_str).collect::<Vec<_>>()));
    for trial in 0..INJECT_KILLS {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let args = inject_args(lake.to_str().unwrap());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        killed += run_or_kill(lakechaos(&args), whole_inject.mul_f64(rng.random_range(0.0..1.0))) as usize;
        // Restart: the same inject again (a finished one refuses the lake, which is fine), then
        // revert its journal: the lake must be as seeded.
        let again = lakechaos(&args).output().unwrap();
        let finished_before = again.status.code() == Some(2) && text(&again).contains("is not empty");
        let journal = dir.path().join("lake.journal.json");
        let revert = lakechaos(&["revert", "--journal", journal.to_str().unwrap()]).output().unwrap();
        let mut problems = Vec::new();
        if !again.status.success() && !finished_before {
            problems.push(format!("restart exit {:?}: {}", again.status.code(), text(&again)));
        }
        if !revert.status.success() {
            problems.push(format!("revert exit {:?}: {}", revert.status.code(), text(&revert)));
        }
        let left = common::findings(&lake);
        if !left.is_empty() {
            problems.push(format!("{} finding(s) after revert: {}", left.len(), left[0].message));
        }
        let tmp = common::temporary_files(dir.path());
        leftovers += tmp.len();
        if !tmp.is_empty() || dir.path().join("lake.journal.json.intent").exists() {
            problems.push(format!("left behind: {tmp:?} (intent file: {})", dir.path().join("lake.journal.json.intent").exists()));
        }
        if !problems.is_empty() {
            failures.push(format!("inject trial {trial}: {}", problems.join("; ")));
        }
    }

    let name = "corrupt-parquet-truncated-tail";
    let run_args = |work: &str| vec!["run".to_string(), scenario(name), "--workdir".into(), work.into()];
    let probe = tempfile::tempdir().unwrap();
    let work = probe.path().display().to_string();
    let whole_run = timed(lakechaos(&run_args(&work).iter().map(String::as_str).collect::<Vec<_>>()));
    for trial in 0..RUN_KILLS {
        let dir = tempfile::tempdir().unwrap();
        let args = run_args(dir.path().to_str().unwrap());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        killed += run_or_kill(lakechaos(&args), whole_run.mul_f64(rng.random_range(0.0..1.0))) as usize;
        // Restart: the same run in the same work directory reverts what the killed one left
        // and runs the scenario to a pass.
        let again = lakechaos(&args).output().unwrap();
        let mut problems = Vec::new();
        if !again.status.success() {
            problems.push(format!("restart exit {:?}: {}", again.status.code(), text(&again)));
        }
        let lake = dir.path().join(name).join("lake");
        let left = common::findings(&lake);
        if !left.is_empty() {
            problems.push(format!("{} finding(s) after the restart: {}", left.len(), left[0].message));
        }
        if !dir.path().join(name).join("journal.closed").exists() {
            problems.push("the journal is still open".into());
        }
        let tmp = common::temporary_files(dir.path());
        leftovers += tmp.len();
        if !tmp.is_empty() {
            problems.push(format!("temporary files left: {tmp:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!("run trial {trial}: {}", problems.join("; ")));
        }
    }
    eprintln!(
        "{} kill trials (inject {:.0} ms, run {:.0} ms whole): {killed} killed mid-way, {} not whole after a restart, {leftovers} temporary files left",
        INJECT_KILLS + RUN_KILLS,
        whole_inject.as_secs_f64() * 1000.0,
        whole_run.as_secs_f64() * 1000.0,
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
