//! Prometheus and its pushgateway as local processes (Debian's `prometheus` and
//! `prometheus-pushgateway` packages, installed by `scripts/setup`), for tests that check what a
//! run publishes against the real servers.

use super::local_process::{find_binary, free_port, LocalProcess, Ready};
use super::ProvisionError;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What Prometheus scrapes: a job name and `HOST:PORT` addresses (scraped at `/metrics`).
#[derive(Clone, Debug)]
pub struct ScrapeJob {
    pub job: String,
    pub targets: Vec<String>,
    /// Keep the labels the target exposes (`job`, `instance`): what a pushgateway needs.
    pub honor_labels: bool,
}

fn binary(what: &'static str, variable: &str, name: &str) -> Result<PathBuf, ProvisionError> {
    let mut candidates: Vec<PathBuf> = std::env::var_os(variable).map(PathBuf::from).into_iter().collect();
    candidates.push(Path::new("/usr/bin").join(name));
    find_binary(&candidates, name)
        .ok_or_else(|| ProvisionError::NotInstalled { what, looked: format!("${variable}, /usr/bin/{name} and PATH") })
}

/// The Prometheus configuration: a 1 s scrape and rule-evaluation interval (tests poll for
/// values; production configs live in `compose/prometheus/`).
pub fn config_yaml(jobs: &[ScrapeJob], rule_files: &[PathBuf]) -> String {
    let mut out = String::from("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n");
    if !rule_files.is_empty() {
        out.push_str("rule_files:\n");
        for f in rule_files {
            out.push_str(&format!("  - {}\n", serde_json::Value::String(f.display().to_string())));
        }
    }
    out.push_str("scrape_configs:\n");
    for j in jobs {
        out.push_str(&format!("  - job_name: {}\n", serde_json::Value::String(j.job.clone())));
        out.push_str(&format!("    honor_labels: {}\n", j.honor_labels));
        let targets: Vec<String> = j.targets.iter().map(|t| serde_json::Value::String(t.clone()).to_string()).collect();
        out.push_str(&format!("    static_configs:\n      - targets: [{}]\n", targets.join(", ")));
    }
    out
}

impl LocalProcess {
    /// Starts a pushgateway on a free loopback port (`$LAKECHAOS_PUSHGATEWAY`, else
    /// `prometheus-pushgateway` on PATH).
    pub fn start_pushgateway() -> Result<LocalProcess, ProvisionError> {
        let what = "pushgateway";
        let bin = binary(what, "LAKECHAOS_PUSHGATEWAY", "prometheus-pushgateway")?;
        let port = free_port().map_err(|source| ProvisionError::Io { what, source })?;
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"));
        Self::spawn(what, cmd, port, Ready::Http("/-/ready"), Duration::from_secs(20))
    }

    /// Starts Prometheus on a free loopback port scraping `jobs` and evaluating `rule_files`;
    /// its configuration and storage live in a temporary directory removed when it stops.
    pub fn start_prometheus(jobs: &[ScrapeJob], rule_files: &[PathBuf]) -> Result<LocalProcess, ProvisionError> {
        let what = "prometheus";
        let io = |source| ProvisionError::Io { what, source };
        let bin = binary(what, "LAKECHAOS_PROMETHEUS", "prometheus")?;
        let state = tempfile::Builder::new().prefix("lakechaos-prometheus-").tempdir().map_err(io)?;
        let config = state.path().join("prometheus.yml");
        std::fs::write(&config, config_yaml(jobs, rule_files)).map_err(io)?;
        let port = free_port().map_err(io)?;
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", state.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        let mut server = Self::spawn(what, cmd, port, Ready::Http("/-/ready"), Duration::from_secs(30))?;
        server.state = Some(state);
        Ok(server)
    }
}
