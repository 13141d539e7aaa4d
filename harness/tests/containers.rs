//! Containers, started for real: the testcontainers provider runs the moto and PostgreSQL
//! suites against containers it starts (images from `LAKECHAOS_*_IMAGE`, which
//! `scripts/containers start` builds without a registry) and leaves none behind; the Compose
//! stack comes up, a suite runs against it through `LAKECHAOS_MOTO_ENDPOINT` pushing to its
//! pushgateway, its healer heals a broken lake, and its Prometheus scrapes the healer.
//!
//! Without a Docker engine (or its images) these tests print "skipped:" with the reason and stop,
//! unless `LAKECHAOS_CONTAINERS_REQUIRED` is set (`scripts/test-all` sets it once
//! `scripts/containers start` succeeded): then a missing engine or image fails them.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The two tests each run whole suites: one at a time, so neither's times include the other's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("the docker client runs")
}

/// The image `var` names: the variable's value, else what `scripts/containers env` says.
fn image_named(var: &str) -> Option<String> {
    if let Ok(v) = std::env::var(var) {
        return Some(v);
    }
    let o = Command::new(common::repo_root().join("scripts/containers")).arg("env").output().ok()?;
    String::from_utf8_lossy(&o.stdout).lines().find_map(|l| l.strip_prefix(&format!("{var}=")).map(String::from))
}

/// The image `var` names, when an engine answers and holds it; `None` (with the reason printed)
/// when these tests cannot run here.
fn image(var: &str) -> Option<String> {
    let required = std::env::var_os("LAKECHAOS_CONTAINERS_REQUIRED").is_some();
    let why = match image_named(var).ok_or(()) {
        Err(()) => format!("{var} is not set and scripts/containers env does not name it"),
        Ok(image) => match Command::new("docker").args(["image", "inspect", &image]).output() {
            Ok(o) if o.status.success() => return Some(image),
            Ok(o) => format!("the engine has no image {image}: {}", text(&o).trim()),
            Err(e) => format!("no docker client: {e}"),
        },
    };
    assert!(!required, "LAKECHAOS_CONTAINERS_REQUIRED is set but {why}");
    eprintln!("skipped: {why}; run scripts/containers start");
    None
}

/// Container ids (running or not) created from `image`.
fn containers_of(image: &str) -> Vec<String> {
    let o = docker(&["ps", "-aq", "--filter", &format!("ancestor={image}")]);
    String::from_utf8_lossy(&o.stdout).split_whitespace().map(String::from).collect()
}

/// Runs `lakechaos run scenarios --target TARGET --provider containers` with `env`; checks the
/// suite passed and that no container of `image` is left afterwards.
fn suite_in_containers(target: &str, image: &str, var: &str) {
    let before = containers_of(image);
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let report = tempfile::NamedTempFile::new().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(common::repo_root())
        .env(var, image)
        .env_remove("LAKECHAOS_MOTO_ENDPOINT")
        .args(["run", "scenarios", "--target", target, "--provider", "containers", "--json"])
        .arg(report.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    let scenarios = doc["suites"][0]["scenarios"].as_array().unwrap();
    let passed = scenarios.iter().filter(|s| s["status"] == "passed").count();
    assert!(passed >= 10, "{passed} scenarios passed on {target} in containers: {}", text(&o));
    // The run started containers of the image (the engine's own record), and every one of them
    // is gone with it.
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let events = |event: &str| {
        let o = docker(&[
            "events",
            "--since",
            &since,
            "--until",
            &until.to_string(),
            "--filter",
            &format!("image={image}"),
            "--filter",
            &format!("event={event}"),
            "--format",
            "{{.ID}}",
        ]);
        String::from_utf8_lossy(&o.stdout).split_whitespace().map(String::from).collect::<Vec<_>>()
    };
    let started = events("start");
    assert!(!started.is_empty(), "no container of {image} was started by the {target} run");
    let left: Vec<String> = containers_of(image).into_iter().filter(|c| !before.contains(c)).collect();
    assert!(left.is_empty(), "containers of {image} left behind: {left:?}");
    eprintln!("{target}: {} container(s) of {image} started and removed", started.len());
}

#[test]
fn the_testcontainers_provider_runs_the_moto_and_postgres_suites_and_leaves_no_container() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (Some(moto), Some(postgres)) = (image("LAKECHAOS_MOTO_IMAGE"), image("LAKECHAOS_POSTGRES_IMAGE")) else {
        return;
    };
    suite_in_containers("moto", &moto, "LAKECHAOS_MOTO_IMAGE");
    suite_in_containers("postgres", &postgres, "LAKECHAOS_POSTGRES_IMAGE");
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for(what: &str, within: Duration, ready: impl FnMut() -> Option<String>) -> String {
    wait_until(within, ready).unwrap_or_else(|| panic!("{what} within {within:?}"))
}

/// `ready`'s first answer within `within`, polled every half second.
fn wait_until(within: Duration, mut ready: impl FnMut() -> Option<String>) -> Option<String> {
    let until = Instant::now() + within;
    loop {
        if let Some(v) = ready() {
            return Some(v);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn http_get(url: &str) -> Option<String> {
    let o = Command::new("curl").args(["-sf", "--max-time", "5", url]).output().ok()?;
    o.status.success().then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The stack, brought down (volumes too) however the test ends.
struct Stack<'a> {
    project: String,
    env: Vec<(String, String)>,
    compose_file: &'a Path,
}

impl Stack<'_> {
    fn compose(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("docker-compose");
        cmd.args(["-f", self.compose_file.to_str().unwrap(), "-p", &self.project]).args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().expect("docker-compose runs")
    }
}

impl Drop for Stack<'_> {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-v", "--remove-orphans"]);
    }
}

#[test]
fn the_compose_stack_comes_up_runs_a_suite_heals_and_is_scraped() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let images: Vec<Option<String>> = [
        "LAKECHAOS_MOTO_IMAGE",
        "LAKECHAOS_POSTGRES_IMAGE",
        "LAKECHAOS_PROMETHEUS_IMAGE",
        "LAKECHAOS_PUSHGATEWAY_IMAGE",
    ]
    .into_iter()
    .map(image)
    .collect();
    if images.iter().any(Option::is_none) {
        return;
    }
    // The healer image: this build's lakehealer on the Debian base.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(common::lakehealer_bin(), ctx.path().join("lakehealer")).unwrap();
    std::fs::copy(common::repo_root().join("compose/images/healer-prebuilt.Dockerfile"), ctx.path().join("Dockerfile"))
        .unwrap();
    let healer_image = format!("local/lakechaos-healer:test-{}", std::process::id());
    let built = docker(&["build", "-q", "-t", &healer_image, ctx.path().to_str().unwrap()]);
    assert!(built.status.success(), "{}", text(&built));

    // A lake broken before the healer starts: its first pass must find the damage and mend it.
    let work = tempfile::tempdir().unwrap();
    let lake = work.path().join("lake");
    let broken = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(common::repo_root())
        .args(["inject", "scenarios/corrupt-parquet-truncated-tail.yaml", "--lake", lake.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(broken.status.success(), "{}", text(&broken));
    let scan = |lake: &Path| {
        Command::new(common::lakehealer_bin()).args(["scan", "--lake", lake.to_str().unwrap()]).output().unwrap()
    };
    assert_eq!(scan(&lake).status.code(), Some(1), "the lake is broken before the stack starts");

    let ports: Vec<(&str, u16)> =
        ["MOTO", "PG", "PUSHGATEWAY", "PROMETHEUS", "HEALER"].into_iter().map(|p| (p, free_port())).collect();
    let port = |name: &str| ports.iter().find(|(n, _)| *n == name).unwrap().1;
    let mut env: Vec<(String, String)> =
        ports.iter().map(|(n, p)| (format!("LAKECHAOS_{n}_PORT"), p.to_string())).collect();
    for (var, image) in [
        "LAKECHAOS_MOTO_IMAGE",
        "LAKECHAOS_POSTGRES_IMAGE",
        "LAKECHAOS_PROMETHEUS_IMAGE",
        "LAKECHAOS_PUSHGATEWAY_IMAGE",
    ]
    .iter()
    .zip(&images)
    {
        env.push((var.to_string(), image.clone().unwrap()));
    }
    env.push(("LAKECHAOS_HEALER_IMAGE".into(), healer_image.clone()));
    env.push(("LAKECHAOS_LAKE_DIR".into(), lake.display().to_string()));
    let compose_file = common::repo_root().join("compose/docker-compose.yml");
    let stack = Stack { project: format!("lakechaostest{}", std::process::id()), env, compose_file: &compose_file };
    let up = stack.compose(&["up", "-d", "--no-build"]);
    assert!(up.status.success(), "{}", text(&up));
    // Every service with a package source is up; Grafana and LocalStack sit behind profiles.
    let ps = text(&stack.compose(&["ps", "--services", "--filter", "status=running"]));
    for service in ["postgres", "moto", "pushgateway", "prometheus", "healer"] {
        assert!(ps.lines().any(|l| l.trim() == service), "{service} is not running: {ps}");
    }
    assert!(!ps.contains("grafana") && !ps.contains("localstack"), "{ps}");

    // The healer heals the lake it was given.
    let within = Duration::from_secs(90);
    if wait_until(within, || (scan(&lake).status.code() == Some(0)).then(String::new)).is_none() {
        panic!(
            "the healer in the stack did not mend the lake within {within:?}\nscan: {}\nhealer's log: {}",
            text(&scan(&lake)),
            text(&stack.compose(&["logs", "--no-color", "--tail", "40", "healer"]))
        );
    }

    // A suite against the stack's moto, its metrics pushed to the stack's pushgateway. Two
    // scenarios at a time, as the moto suite runs: this test is about the stack, and four at once
    // next to five containers on two cores pushed Iceberg detection past its 1 s SLO.
    let moto = format!("http://127.0.0.1:{}", port("MOTO"));
    wait_for("moto answers", Duration::from_secs(60), || http_get(&format!("{moto}/moto-api/")));
    let pushgateway = format!("http://127.0.0.1:{}", port("PUSHGATEWAY"));
    let run = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .current_dir(common::repo_root())
        .env("LAKECHAOS_MOTO_ENDPOINT", &moto)
        .args([
            "run",
            "scenarios",
            "--target",
            "moto",
            "--run-id",
            "compose-test",
            "--jobs",
            "2",
            "--pushgateway",
            &pushgateway,
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(text(&run).contains("metrics pushed to"), "{}", text(&run));

    // Prometheus scrapes the healer (and the pushgateway holds the run's figures).
    let prometheus = format!("http://127.0.0.1:{}", port("PROMETHEUS"));
    let up_healer = wait_for("Prometheus scrapes the healer", Duration::from_secs(90), || {
        let body = http_get(&format!("{prometheus}/api/v1/query?query=up%7Bjob%3D%22lakehealer%22%7D"))?;
        let doc: serde_json::Value = serde_json::from_str(&body).ok()?;
        let v = doc["data"]["result"][0]["value"][1].as_str()?.to_string();
        (v == "1").then_some(v)
    });
    assert_eq!(up_healer, "1");
    let repairs = wait_for("the healer's repairs in Prometheus", Duration::from_secs(60), || {
        let body = http_get(&format!("{prometheus}/api/v1/query?query=sum(lakehealer_repairs_total)"))?;
        let doc: serde_json::Value = serde_json::from_str(&body).ok()?;
        let v: f64 = doc["data"]["result"][0]["value"][1].as_str()?.parse().ok()?;
        (v >= 1.0).then(|| v.to_string())
    });
    assert!(repairs.parse::<f64>().unwrap() >= 1.0);
    let pushed = http_get(&format!("{pushgateway}/metrics")).unwrap_or_default();
    assert!(pushed.contains("lakechaos_class_recall_ratio") && pushed.contains("compose-test"), "the run's metrics");

    drop(stack);
    let left = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project=lakechaostest{}", std::process::id()),
    ]);
    assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty(), "the stack's containers are gone");
    let _ = docker(&["image", "rm", "-f", &healer_image]);
}
