//! `lakechaos gameday --config FILE`: a scheduled run of a named suite against a target
//! (normally the guarded `aws` staging account) that stops when a scenario loses rows or misses
//! an SLO by more than a given factor, publishes its metrics, sends a summary to SNS and writes
//! JUnit, JSON and HTML reports.

use crate::metrics::publish::Destinations;
use crate::run::result::{ScenarioResult, Status, SuiteReport};
use crate::scenario::load::{yaml_error, LoadError};
use crate::targets::existing::{BlastRadius, ExistingTable};
use crate::targets::{Target, TargetOptions};
use lakechaos_lake::AwsConnection;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The game-day file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GamedayFile {
    name: String,
    /// Scenario files or directories, relative to the game-day file.
    suite: Vec<PathBuf>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default = "default_target")]
    target: String,
    #[serde(default = "default_seed")]
    seed: u64,
    /// The aws target's guard configuration, relative to the game-day file.
    aws_config: Option<PathBuf>,
    #[serde(default)]
    stop: StopFile,
    #[serde(default)]
    publish: PublishFile,
    /// Where the reports go, relative to the game-day file (default `reports/<name>`).
    reports: Option<PathBuf>,
    /// Who heals: `bundled` (default: the healer library inside lakechaos), `deployed` (the
    /// healer function deployed in the account, or any healer running elsewhere; also
    /// `external`), `none`.
    healer: Option<String>,
    /// With `healer: deployed`: the SNS topic the healer publishes incidents to (TTD).
    incident_topic: Option<String>,
    /// Existing tables the suite breaks (existing-table mode, one table after another, each
    /// put back as found); without any, the suite seeds its fixtures on `target`.
    #[serde(default)]
    tables: Vec<TableFile>,
}

/// One entry of `tables:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    /// A directory (relative to the game-day file), `s3://BUCKET/PREFIX` or `postgresql://…`.
    lake: String,
    table: String,
    /// `file` (default) or `glue:DATABASE`.
    #[serde(default)]
    catalog: Option<String>,
    /// An S3-compatible endpoint (an emulator); without one an s3:// lake is real AWS, behind
    /// the game day's `aws_config`.
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    max_partitions: Option<u32>,
    #[serde(default)]
    max_rows_fraction: Option<f64>,
    #[serde(default)]
    allow_unversioned: bool,
    /// The Lake Formation grants the table's healer keeps, relative to the game-day file
    /// (permission_drift scenarios need it).
    #[serde(default)]
    lf_policy: Option<PathBuf>,
}

fn default_target() -> String {
    "aws".into()
}

fn default_seed() -> u64 {
    7
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StopFile {
    /// Stop when a scenario loses more rows than it allows (default true).
    on_rows_lost: Option<bool>,
    /// Stop when a scenario's time to detect or repair exceeds this many times its SLO (or is
    /// never reached). Unset: SLO breaches do not stop the game day.
    slo_factor: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishFile {
    pushgateway: Option<String>,
    #[serde(default)]
    cloudwatch: bool,
    cloudwatch_namespace: Option<String>,
    /// SNS topic receiving the game day's summary.
    sns_topic: Option<String>,
    /// Endpoint of an AWS-compatible emulator for CloudWatch and SNS; default AWS.
    endpoint_url: Option<String>,
}

/// When a game day stops early.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StopCondition {
    pub on_rows_lost: bool,
    pub slo_factor: Option<f64>,
}

impl StopCondition {
    /// Why the game day must stop after `r`, if it must.
    pub fn check(&self, r: &ScenarioResult) -> Option<String> {
        if self.on_rows_lost {
            if let (Some(lost), Some(allowed)) = (r.rows_lost, r.rows_lost_allowed) {
                if lost > allowed {
                    return Some(format!("{lost} rows lost (allowed {allowed})"));
                }
            }
        }
        let factor = self.slo_factor?;
        if !matches!(r.status, Status::Passed | Status::Failed) {
            return None;
        }
        let phases = [
            ("detect", r.time_to_detect_ms, r.slo.detect_within),
            ("repair", r.time_to_repair_ms, r.slo.repair_within),
        ];
        for (phase, took, within) in phases {
            if !r.slo_breaches.iter().any(|p| p == phase) {
                continue;
            }
            let limit = within.as_secs_f64() * 1000.0 * factor;
            match took {
                None => return Some(format!("{phase} never reached (SLO {:.0} ms)", within.as_secs_f64() * 1000.0)),
                Some(ms) if ms > limit => {
                    return Some(format!(
                        "time to {phase} {ms:.0} ms is over {factor}× its SLO of {:.0} ms",
                        within.as_secs_f64() * 1000.0
                    ))
                }
                Some(_) => {}
            }
        }
        None
    }
}

/// A resolved game day.
#[derive(Debug)]
pub struct Gameday {
    pub name: String,
    pub suite: Vec<PathBuf>,
    pub tags: Vec<String>,
    pub target: Target,
    pub seed: u64,
    pub target_options: TargetOptions,
    pub stop: StopCondition,
    pub destinations: Destinations,
    pub sns_topic: Option<String>,
    /// How SNS (and CloudWatch) are reached.
    pub connection: AwsConnection,
    pub reports: PathBuf,
    /// Who heals, and where its incidents are published.
    pub healer: crate::run::HealerChoice,
    pub incident_topic: Option<String>,
    /// Existing tables to break instead of seeding fixtures.
    pub tables: Vec<ExistingTable>,
}

/// Why a game-day file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum GamedayError {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("{file}: {message}")]
    Invalid { file: PathBuf, message: String },
    #[error("{file}: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Gameday {
    /// Reads and checks a game-day file; relative paths are resolved against its folder.
    pub fn load(file: &Path) -> Result<Gameday, GamedayError> {
        let text = std::fs::read_to_string(file).map_err(|source| GamedayError::Read { file: file.into(), source })?;
        let raw: GamedayFile = serde_saphyr::from_str(&text).map_err(|e| yaml_error(file, e))?;
        let invalid = |message: String| GamedayError::Invalid { file: file.into(), message };
        let base = file.parent().unwrap_or(Path::new("."));
        if raw.name.is_empty() || !raw.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(invalid(format!("name: expected kebab-case (a-z, 0-9, -), got {:?}", raw.name)));
        }
        let target = <Target as clap::ValueEnum>::from_str(&raw.target, true).map_err(|_| {
            invalid(format!("target: expected aws, moto, localstack, local or postgres, got {:?}", raw.target))
        })?;
        if raw.suite.is_empty() {
            return Err(invalid("suite: name at least one scenario file or directory".into()));
        }
        if target == Target::Aws && raw.aws_config.is_none() && raw.tables.is_empty() {
            return Err(invalid("aws_config: the aws target needs its guard configuration".into()));
        }
        if let Some(f) = raw.stop.slo_factor {
            if !(f.is_finite() && f >= 1.0) {
                return Err(invalid(format!("stop.slo_factor: expected a number of at least 1, got {f}")));
            }
        }
        let healer = match raw.healer.as_deref() {
            None | Some("bundled") => crate::run::HealerChoice::Bundled,
            Some("deployed") | Some("external") => crate::run::HealerChoice::External,
            Some("none") => crate::run::HealerChoice::None,
            Some(other) => {
                return Err(invalid(format!("healer: expected bundled, deployed, external or none, got {other:?}")))
            }
        };
        if raw.incident_topic.is_some() && healer != crate::run::HealerChoice::External {
            return Err(invalid(
                "incident_topic: only a deployed (external) healer's incidents are read from a topic".into(),
            ));
        }
        let aws_config = raw.aws_config.map(|p| base.join(p));
        let mut tables = Vec::new();
        for (i, t) in raw.tables.iter().enumerate() {
            let at = |m: String| invalid(format!("tables[{i}]: {m}"));
            if t.lake.is_empty() || t.table.is_empty() {
                return Err(at("lake and table must not be empty".into()));
            }
            let fraction = t.max_rows_fraction.unwrap_or(BlastRadius::default().max_rows_fraction);
            if !(0.0..=1.0).contains(&fraction) {
                return Err(at(format!("max_rows_fraction: expected a fraction between 0 and 1, got {fraction}")));
            }
            let remote = t.lake.starts_with("s3://") || t.lake.contains("://");
            let table = ExistingTable {
                address: if remote { t.lake.clone() } else { base.join(&t.lake).display().to_string() },
                catalog: t.catalog.clone().unwrap_or_else(|| "file".into()),
                table: t.table.clone(),
                endpoint_url: t.endpoint_url.clone(),
                radius: BlastRadius {
                    max_partitions: t.max_partitions.unwrap_or(BlastRadius::default().max_partitions),
                    max_rows_fraction: fraction,
                },
                allow_unversioned: t.allow_unversioned,
                aws_config: aws_config.clone(),
                lf_policy: t.lf_policy.as_ref().map(|p| base.join(p)),
            };
            if table.target() == Target::Aws && aws_config.is_none() {
                return Err(at("an s3:// table without endpoint_url is on AWS: the game day needs aws_config".into()));
            }
            tables.push(table);
        }
        let connection = match &raw.publish.endpoint_url {
            Some(url) => AwsConnection::emulator(url),
            None => AwsConnection::from_environment(None, None),
        };
        let run_id = format!("{}-{}", raw.name, chrono::Utc::now().format("%Y%m%dt%H%M%Sz"));
        let destinations = Destinations {
            pushgateway: raw.publish.pushgateway.clone(),
            cloudwatch: raw.publish.cloudwatch.then(|| {
                let namespace = raw.publish.cloudwatch_namespace.clone();
                (connection.clone(), namespace.unwrap_or_else(|| crate::metrics::cloudwatch::NAMESPACE.into()))
            }),
            textfile: None,
            run_id: run_id.clone(),
        };
        Ok(Gameday {
            healer,
            incident_topic: raw.incident_topic,
            reports: base.join(raw.reports.unwrap_or_else(|| PathBuf::from("reports").join(&raw.name))),
            name: raw.name,
            suite: raw.suite.iter().map(|p| base.join(p)).collect(),
            tags: raw.tags,
            target,
            seed: raw.seed,
            tables,
            target_options: TargetOptions { aws_config, run_id: Some(run_id), ..TargetOptions::default() },
            stop: StopCondition {
                on_rows_lost: raw.stop.on_rows_lost.unwrap_or(true),
                slo_factor: raw.stop.slo_factor,
            },
            destinations,
            sns_topic: raw.publish.sns_topic,
            connection,
        })
    }

    /// The summary sent to SNS: a subject line and a JSON body.
    pub fn summary(&self, suite: &SuiteReport) -> (String, serde_json::Value) {
        let stopped = suite
            .scenarios
            .iter()
            .find_map(|s| s.reason.as_deref().filter(|r| r.starts_with("not run: the run stopped")));
        let subject = format!(
            "lakechaos game day {}: {} passed, {} failed, {} errors, {} skipped{}",
            self.name,
            suite.count(Status::Passed),
            suite.count(Status::Failed),
            suite.count(Status::Error),
            suite.count(Status::Skipped),
            if stopped.is_some() { " (stopped early)" } else { "" }
        );
        let body = serde_json::json!({
            "gameday": self.name,
            "target": suite.target,
            "run_id": self.destinations.run_id,
            "passed": suite.count(Status::Passed),
            "failed": suite.count(Status::Failed),
            "errors": suite.count(Status::Error),
            "skipped": suite.count(Status::Skipped),
            "stopped": stopped,
            "rows_lost": suite.scenarios.iter().filter_map(|s| s.rows_lost).sum::<u64>(),
            "failures": suite.scenarios.iter().filter(|s| !s.failures.is_empty())
                .map(|s| serde_json::json!({ "scenario": s.name, "failures": s.failures })).collect::<Vec<_>>(),
            "reports": self.reports.display().to_string(),
        });
        // SNS subjects: at most 100 printable ASCII characters.
        let subject: String = subject.chars().filter(|c| c.is_ascii() && !c.is_ascii_control()).take(100).collect();
        (subject, body)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_healer_under_test_is_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.yaml");
        let load = |extra: &str| {
            std::fs::write(&file, format!("name: g\nsuite: [scenarios]\ntarget: local\n{extra}")).unwrap();
            Gameday::load(&file)
        };
        assert_eq!(load("").unwrap().healer, crate::run::HealerChoice::Bundled);
        let deployed = load("healer: deployed\nincident_topic: arn:aws:sns:us-east-1:1:incidents\n").unwrap();
        assert_eq!(deployed.healer, crate::run::HealerChoice::External);
        assert_eq!(deployed.incident_topic.as_deref(), Some("arn:aws:sns:us-east-1:1:incidents"));
        assert!(load("healer: sideways\n").unwrap_err().to_string().contains("expected bundled, deployed"));
        let topic_without = load("incident_topic: arn:aws:sns:us-east-1:1:x\n").unwrap_err().to_string();
        assert!(topic_without.contains("only a deployed (external) healer"), "{topic_without}");
    }

    use super::*;

    #[test]
    fn the_stop_condition_names_rows_lost_and_slo_factor_breaches() {
        let stop = StopCondition { on_rows_lost: true, slo_factor: Some(2.0) };
        let mut r = ScenarioResult::example("a");
        assert_eq!(stop.check(&r), None);
        r.rows_lost = Some(5);
        assert_eq!(stop.check(&r).as_deref(), Some("5 rows lost (allowed 0)"));
        r.rows_lost = Some(0);
        r.time_to_detect_ms = Some(500.0); // SLO 300 ms: breached, but within 2×
        r.slo_breaches = vec!["detect".into()];
        assert_eq!(stop.check(&r), None);
        r.time_to_detect_ms = Some(700.0);
        assert!(stop.check(&r).unwrap().contains("time to detect 700 ms is over 2× its SLO of 300 ms"));
        r.time_to_detect_ms = None;
        assert!(stop.check(&r).unwrap().contains("detect never reached"));
        let lenient = StopCondition { on_rows_lost: false, slo_factor: None };
        r.rows_lost = Some(9);
        assert_eq!(lenient.check(&r), None);
    }
}
