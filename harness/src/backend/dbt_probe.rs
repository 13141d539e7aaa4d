//! The steady-state probe of PostgreSQL scenarios: a real `dbt build` (models and tests) of the
//! project in `fixtures/dbt/`, judged by dbt's own `target/run_results.json`. It must pass before
//! injection, fail after it (evidence the fault was real to a consumer), and pass after repair.

use super::dbt_worker::{python_beside, Worker, WorkerError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Mutex;

/// Why dbt could not be found or run, or left no results to judge.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProbeError(pub String);

impl From<&str> for ProbeError {
    fn from(s: &str) -> Self {
        ProbeError(s.to_string())
    }
}

impl From<String> for ProbeError {
    fn from(s: String) -> Self {
        ProbeError(s)
    }
}

impl From<WorkerError> for ProbeError {
    fn from(e: WorkerError) -> Self {
        ProbeError(e.0)
    }
}

impl From<lakechaos_lake::LakeError> for ProbeError {
    fn from(e: lakechaos_lake::LakeError) -> Self {
        ProbeError(e.to_string())
    }
}

/// Where dbt and the project are, and the resident worker the probes go through once started
/// ([`Dbt::start_worker`]); without one each command runs the `dbt` executable.
#[derive(Clone, Debug)]
pub struct Dbt {
    pub executable: PathBuf,
    pub project_dir: PathBuf,
    worker: Option<Arc<Mutex<Worker>>>,
}

/// One `dbt build`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// dbt exited 0 and every node succeeded or passed.
    pub passed: bool,
    pub duration_ms: f64,
    /// Nodes dbt ran (models and tests).
    pub nodes: usize,
    /// Nodes that failed or errored: `unique_id: status (message)`.
    pub failing: Vec<String>,
    /// Nodes dbt skipped because something upstream of them failed.
    pub skipped: usize,
}

/// The probe at the three points of a scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeTimeline {
    pub before: Option<ProbeResult>,
    pub after_injection: Option<ProbeResult>,
    /// After the marts were rebuilt from the damaged table: `dbt test` of the marts against `raw`
    /// (fails where the damage reaches the marts: null floods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marts_after_injection: Option<ProbeResult>,
    /// After the healer stopped and before anything rebuilds the marts again: `dbt test` of the
    /// marts against `raw`, so only the healer's own re-materialization can make it pass (the
    /// evidence build left the marts built from damaged rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marts_after_healing: Option<ProbeResult>,
    pub after_repair: Option<ProbeResult>,
}

impl ProbeTimeline {
    /// One line for people: `before passed · after injection failed (3) · after repair passed`.
    pub fn describe(&self) -> String {
        let one = |name: &str, p: &Option<ProbeResult>| match p {
            None => format!("{name} not run"),
            Some(p) if p.passed => format!("{name} passed ({:.1} s)", p.duration_ms / 1000.0),
            Some(p) => format!("{name} failed: {} failing node(s) ({:.1} s)", p.failing.len(), p.duration_ms / 1000.0),
        };
        let mut parts = vec![one("before", &self.before), one("after injection", &self.after_injection)];
        if self.marts_after_injection.is_some() {
            parts.push(one("marts after injection", &self.marts_after_injection));
        }
        if self.marts_after_healing.is_some() {
            parts.push(one("marts after healing", &self.marts_after_healing));
        }
        parts.push(one("after repair", &self.after_repair));
        parts.join(" · ")
    }
}

#[derive(Deserialize)]
struct RunResults {
    results: Vec<NodeResult>,
}

#[derive(Deserialize)]
struct NodeResult {
    unique_id: String,
    status: String,
    #[serde(default)]
    message: Option<String>,
}

impl Dbt {
    /// `$LAKECHAOS_DBT` and `$LAKECHAOS_DBT_PROJECT` when set; otherwise `.venv-dbt/bin/dbt` (as
    /// `scripts/setup` installs it) and `fixtures/dbt/` in the current directory or one above it.
    pub fn locate() -> Result<Dbt, ProbeError> {
        let roots: Vec<PathBuf> =
            std::env::current_dir().map(|d| d.ancestors().map(Path::to_path_buf).collect()).unwrap_or_default();
        let find = |var: &str, relative: &str| -> Option<PathBuf> {
            if let Some(v) = std::env::var_os(var) {
                return Some(PathBuf::from(v));
            }
            roots.iter().map(|r| r.join(relative)).find(|p| p.exists())
        };
        let executable = find("LAKECHAOS_DBT", ".venv-dbt/bin/dbt")
            .ok_or("dbt not found: run scripts/setup (it installs .venv-dbt) or set LAKECHAOS_DBT")?;
        let project_dir = find("LAKECHAOS_DBT_PROJECT", "fixtures/dbt/dbt_project.yml")
            .map(|p| if p.ends_with("dbt_project.yml") { p.parent().map(Path::to_path_buf).unwrap_or(p) } else { p })
            .ok_or("dbt project not found: run from the repository or set LAKECHAOS_DBT_PROJECT")?;
        Ok(Dbt { executable, project_dir, worker: None })
    }

    /// Starts the resident worker with the Python beside the dbt executable. Where there is
    /// none (a `dbt` that is not in a virtualenv), commands keep running the executable.
    pub async fn start_worker(mut self) -> Result<Dbt, ProbeError> {
        if let Some(python) = python_beside(&self.executable) {
            self.worker = Some(Arc::new(Mutex::new(Worker::start(&python).await?)));
        }
        Ok(self)
    }

    /// Runs `dbt build` against the database at `url`, with dbt's target and logs in `work`.
    pub async fn build(&self, url: &str, work: &Path) -> Result<ProbeResult, ProbeError> {
        self.invoke(&["build"], url, work).await
    }

    /// Runs `dbt run --select <select>` (models only, no tests).
    pub async fn run(&self, select: &str, url: &str, work: &Path) -> Result<ProbeResult, ProbeError> {
        self.invoke(&["run", "--select", select], url, work).await
    }

    /// Runs `dbt test --select <select>` (tests only: nothing is rebuilt).
    pub async fn test(&self, select: &str, url: &str, work: &Path) -> Result<ProbeResult, ProbeError> {
        self.invoke(&["test", "--select", select], url, work).await
    }

    async fn invoke(&self, command: &[&str], url: &str, work: &Path) -> Result<ProbeResult, ProbeError> {
        let started = Instant::now();
        let results = work.join("run_results.json");
        let _ = std::fs::remove_file(&results);
        let env = lakechaos_lake::pg::dbt_env(url)?;
        let mut args: Vec<String> = vec!["--no-use-colors".into()];
        args.extend(command.iter().map(|c| c.to_string()));
        for (flag, path) in [
            ("--project-dir", self.project_dir.clone()),
            ("--profiles-dir", self.project_dir.clone()),
            ("--target-path", work.to_path_buf()),
            ("--log-path", work.join("logs")),
        ] {
            args.push(flag.into());
            args.push(path.display().to_string());
        }
        let (success, said) = match &self.worker {
            Some(worker) => {
                let exit = worker.lock().await.invoke(&args, &env).await?;
                (exit.code == 0, format!("exit code {}: {}", exit.code, exit.error.unwrap_or_default()))
            }
            None => {
                let out = tokio::process::Command::new(&self.executable)
                    .args(&args)
                    .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
                    .envs(env)
                    .stdin(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .output()
                    .await
                    .map_err(|e| ProbeError(format!("{}: {e}", self.executable.display())))?;
                let stdout = String::from_utf8_lossy(&out.stdout);
                let tail: Vec<&str> = stdout.lines().rev().take(10).collect();
                (out.status.success(), format!("{}: {}", out.status, tail.into_iter().rev().collect::<Vec<_>>().join(" | ")))
            }
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let text = std::fs::read(&results).map_err(|e| {
            ProbeError(format!("dbt {} wrote no {} ({e}); it exited with {said}", command.join(" "), results.display()))
        })?;
        let parsed: RunResults =
            serde_json::from_slice(&text).map_err(|e| ProbeError(format!("{}: {e}", results.display())))?;
        let failing: Vec<String> = parsed
            .results
            .iter()
            .filter(|r| !matches!(r.status.as_str(), "success" | "pass" | "skipped"))
            .map(|r| {
                let message = r.message.as_deref().unwrap_or("").lines().next().unwrap_or("");
                format!("{}: {} ({message})", r.unique_id, r.status)
            })
            .collect();
        let skipped = parsed.results.iter().filter(|r| r.status == "skipped").count();
        Ok(ProbeResult {
            passed: success && failing.is_empty() && skipped == 0,
            duration_ms,
            nodes: parsed.results.len(),
            failing,
            skipped,
        })
    }

    /// The downstream models (`select`) the healer rebuilds after repairs, through the same
    /// project.
    pub fn models(&self, url: &str, work: &Path, select: &str) -> Result<lakehealer::pg::dbt::DbtModels, ProbeError> {
        Ok(lakehealer::pg::dbt::DbtModels {
            executable: self.executable.clone(),
            project_dir: self.project_dir.clone(),
            profiles_dir: self.project_dir.clone(),
            target_path: work.to_path_buf(),
            select: select.into(),
            env: lakechaos_lake::pg::dbt_env(url)?,
        })
    }
}
