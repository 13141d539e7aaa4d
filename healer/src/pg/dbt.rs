//! Re-materializing downstream dbt models after a repair, for the repaired days only.
//!
//! The project's incremental models take a `days` variable (a list of ISO dates) and rebuild
//! just those days (`delete+insert` on the day); without it they rebuild every day.

use chrono::NaiveDate;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Why a rebuild failed: dbt could not start, or exited with an error (its last lines).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbtError(pub String);

/// How to run dbt for the models downstream of the healed table.
#[derive(Clone, Debug)]
pub struct DbtModels {
    /// The `dbt` executable.
    pub executable: PathBuf,
    pub project_dir: PathBuf,
    pub profiles_dir: PathBuf,
    /// dbt's target and log directories (kept apart from anyone else's runs of the project).
    pub target_path: PathBuf,
    /// The `--select` of models to rebuild: everything downstream of the repaired table (e.g.
    /// `source:served.orders+`), or a staging table built from damaged rows would feed the marts
    /// again.
    pub select: String,
    /// Extra environment (the profile's connection settings).
    pub env: Vec<(String, String)>,
}

impl DbtModels {
    /// `dbt run --select <select> [--vars {days: [...]}]`; `None` days means all days.
    pub async fn rematerialize(&self, days: Option<&[NaiveDate]>) -> Result<Duration, DbtError> {
        let started = Instant::now();
        let mut cmd = tokio::process::Command::new(&self.executable);
        cmd.arg("--no-use-colors")
            .arg("run")
            .arg("--select")
            .arg(&self.select)
            .arg("--project-dir")
            .arg(&self.project_dir)
            .arg("--profiles-dir")
            .arg(&self.profiles_dir)
            .arg("--target-path")
            .arg(&self.target_path)
            .arg("--log-path")
            .arg(self.target_path.join("logs"))
            .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(days) = days {
            let list: Vec<String> = days.iter().map(|d| d.to_string()).collect();
            cmd.arg("--vars").arg(serde_json::json!({ "days": list }).to_string());
        }
        let out = cmd.output().await.map_err(|e| DbtError(format!("{}: {e}", self.executable.display())))?;
        if out.status.success() {
            Ok(started.elapsed())
        } else {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let tail: Vec<&str> = stdout.lines().rev().take(8).collect();
            Err(DbtError(format!(
                "dbt run --select {} exited with {}: {}",
                self.select,
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            )))
        }
    }
}
