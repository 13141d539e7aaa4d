//! The options shared by several commands.

use lakechaos::run::RunOptions;
use lakechaos::targets::aws_guard;
use lakechaos::targets::provision::ProviderKind;
use lakechaos::targets::{Target, TargetOptions};
use lakehealer::cli::CliError;
use std::path::PathBuf;

#[derive(clap::Args, Clone)]
pub struct Selection {
    /// Scenario files or directories (searched for *.yaml / *.yml).
    #[arg(value_name = "PATHS", default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Only scenarios with this tag (repeatable: any of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Refuse fixtures estimated larger than this many GiB (landing copy included).
    #[arg(long, value_name = "GIB", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_fixture_gib: u64,
}

impl Selection {
    /// The scenario limits these options set.
    pub fn limits(&self) -> lakechaos::LoadOptions {
        lakechaos::LoadOptions { max_fixture_bytes: self.max_fixture_gib << 30 }
    }
}

/// `lakechaos score`: the chaos function's scoring step, run from anywhere with the aws
/// target's guard file.
#[derive(clap::Args, Clone)]
pub struct ScoreArgs {
    /// The aws target's guard configuration (allowed accounts, bucket, game-day prefix).
    #[arg(long, value_name = "FILE")]
    pub aws_config: PathBuf,
    /// Score only this run (default: every run past its due time, not yet scored).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// The queue subscribed to the healer's incident topic (TTD); without it detection is
    /// reported as not observed.
    #[arg(long, value_name = "URL")]
    pub incident_ledger: Option<String>,
    /// The healer's quarantine bucket (`s3://BUCKET[/PREFIX]`); default `_quarantine/` in each lake.
    #[arg(long, value_name = "s3://BUCKET")]
    pub quarantine: Option<String>,
    /// Game-day lakes older than this are deleted (their reports stay).
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..))]
    pub retention_days: i64,
    /// CloudWatch namespace of the run metrics.
    #[arg(long, value_name = "NS")]
    pub cloudwatch_namespace: Option<String>,
    /// Pushgateway base URL for the run metrics.
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
    /// An AWS-compatible endpoint (an emulator); otherwise AWS_ENDPOINT_URL or AWS itself.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// `text` (a line per run) or `json` (the whole pass).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(clap::Args, Clone)]
pub struct DeployArgs {
    /// Function name prefix: the functions are `<name>-healer` and `<name>-chaos`.
    #[arg(long)]
    pub name: String,
    /// Role of the healer function (needed to create it; an update keeps the current role).
    #[arg(long, value_name = "ARN")]
    pub healer_role: Option<String>,
    /// Role of the chaos function (needed to create it).
    #[arg(long, value_name = "ARN")]
    pub chaos_role: Option<String>,
    /// Where `lakehealer-lambda` and `lakechaos-chaos-lambda` were built (default: beside this
    /// executable, e.g. target/release).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Scenario files packed with the chaos function.
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Where the zips are written (healer.zip, chaos.zip).
    #[arg(long, value_name = "DIR", default_value = "target/lambda")]
    pub out: PathBuf,
    /// `x86_64` or `arm64` (default: this machine's; the binaries must be built for it).
    #[arg(long)]
    pub architecture: Option<String>,
    /// An environment variable of the healer function (repeatable), e.g.
    /// LAKEHEALER_LAKE=s3://bucket. Given any, they replace the function's environment; given
    /// none, an update keeps it (as Terraform set it).
    #[arg(long = "healer-env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub healer_env: Vec<(String, String)>,
    /// An environment variable of the chaos function (repeatable).
    #[arg(long = "chaos-env", value_name = "KEY=VALUE", value_parser = key_value)]
    pub chaos_env: Vec<(String, String)>,
    /// Only write the zips (for Terraform's healer_zip / chaos_zip).
    #[arg(long)]
    pub zip_only: bool,
    /// Stage the zips in this S3 bucket (under lakechaos-deploy/<function>/) and point the
    /// functions at them; needed for a zip over Lambda's 50 MiB direct-upload limit.
    #[arg(long, value_name = "BUCKET")]
    pub code_bucket: Option<String>,
    /// Lambda endpoint (an emulator); otherwise AWS_ENDPOINT_URL or AWS itself.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// A `--*-env` value that is not `KEY=VALUE`.
#[derive(Debug, thiserror::Error)]
#[error("{0:?}: expected KEY=VALUE")]
pub struct NotKeyValue(String);

pub fn key_value(text: &str) -> Result<(String, String), NotKeyValue> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(NotKeyValue(text.to_string())),
    }
}

#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// Where the lake lives.
    #[arg(long, value_enum, default_value = "local")]
    pub target: Target,
    /// Run seed: the same seed injects byte-identical faults.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Who heals: bundled (the healer library, in this process), external (someone else: a
    /// deployed healer function, a `lakehealer watch` elsewhere; lakechaos injects, verifies
    /// and times the repair against golden), none (the bundled healer detect-only: every repair
    /// expectation then fails).
    #[arg(long, value_name = "bundled|external|none", default_value = "bundled", conflicts_with = "no_heal")]
    pub healer: lakechaos::run::HealerChoice,
    /// The same as `--healer none`.
    #[arg(long)]
    pub no_heal: bool,
    /// How each scenario bucket's S3 events reach the healer's queue on moto and LocalStack:
    /// s3 (event notifications) or eventbridge (through an EventBridge rule, as the Terraform
    /// module routes them); results say which in `detected_via`.
    #[arg(long, value_enum, default_value = "s3")]
    pub events: lakechaos::targets::EventRoute,
    /// With `--healer external`: the SNS topic the healer publishes its incidents to. A
    /// temporary queue is subscribed for each scenario (and removed after it), and incidents are
    /// matched to the damage for TTD; without it detection is reported as not observed.
    #[arg(long, value_name = "ARN", requires = "healer")]
    pub incident_topic: Option<String>,
    /// Keep lakes, golden manifests and journals in this directory (default: a temporary
    /// directory, printed at start and removed at the end).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Who starts emulators: auto = an endpoint from LAKECHAOS_<SERVICE>_ENDPOINT, else
    /// containers when a Docker engine answers, else local processes.
    #[arg(long, value_enum, default_value = "auto")]
    pub provider: ProviderKind,
    /// The aws target's guard configuration (allowed accounts, bucket, prefix).
    #[arg(long, value_name = "FILE")]
    pub aws_config: Option<PathBuf>,
    /// The run id: groups the pushed metrics, and on the aws target keys go under
    /// <prefix>/<run-id>/ (default: from the clock).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// aws target: check the account, print the manifest of what the run would create or touch,
    /// and exit without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Publish the healer's incidents and repairs to this SNS topic on the target.
    #[arg(long, value_name = "ARN")]
    pub sns_topic: Option<String>,
    /// Scenarios run at once, each in its own lake (1: one after another, each with the
    /// machine to itself; more shortens the suite, and each scenario's times then include
    /// waiting for cores the others use). Default: 1 on local, 3 on postgres, 4 elsewhere.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    #[command(flatten)]
    pub existing: ExistingArgs,
}

/// Existing-table mode: break a table that already exists instead of seeding a fixture.
#[derive(clap::Args, Clone)]
pub struct ExistingArgs {
    /// The lake holding the table: a directory or s3://BUCKET/PREFIX (with --table).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX", requires = "table")]
    pub lake: Option<String>,
    /// The registered table to break (`lakehealer discover` registers one).
    #[arg(long, value_name = "NAME", requires = "lake")]
    pub table: Option<String>,
    /// The lake's catalog: file or glue:DATABASE.
    #[arg(long, value_name = "file|glue:DB", default_value = "file", requires = "lake")]
    pub catalog: String,
    /// An S3-compatible endpoint (an emulator); without it an s3:// lake is real AWS, behind
    /// the aws target's guard (--aws-config).
    #[arg(long, value_name = "URL", requires = "lake")]
    pub endpoint_url: Option<String>,
    /// The most partitions one fault may touch.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "lake")]
    pub max_partitions: u32,
    /// The largest share of the table's rows one fault may make wrong, unreadable or invisible.
    #[arg(long, value_name = "F", default_value_t = 0.05, value_parser = fraction, requires = "lake")]
    pub max_rows_fraction: f64,
    /// Break a table in a bucket that keeps no object versions (the journal is then the only
    /// way back).
    #[arg(long, requires = "lake")]
    pub allow_unversioned: bool,
    /// Run scenarios that declare a fixture against the table anyway, with their fault alone.
    #[arg(long, requires = "lake")]
    pub ignore_fixture: bool,
    /// The Lake Formation grants the table's healer keeps (the `lakehealer grants --policy`
    /// file): permission_drift scenarios may then revoke one of them (and the revert grants it
    /// back); without it, no grant is touched and they are skipped.
    #[arg(long, value_name = "FILE", requires = "lake")]
    pub lf_policy: Option<PathBuf>,
}

/// A share in [0, 1].
fn fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{text:?}: expected a fraction between 0 and 1")),
    }
}

impl RunArgs {
    /// The table existing-table mode breaks, when `--lake` is given.
    pub fn existing_table(&self) -> Option<lakechaos::targets::existing::ExistingTable> {
        let e = &self.existing;
        Some(lakechaos::targets::existing::ExistingTable {
            address: e.lake.clone()?,
            catalog: e.catalog.clone(),
            table: e.table.clone()?,
            endpoint_url: e.endpoint_url.clone(),
            radius: lakechaos::targets::existing::BlastRadius {
                max_partitions: e.max_partitions,
                max_rows_fraction: e.max_rows_fraction,
            },
            allow_unversioned: e.allow_unversioned,
            aws_config: self.aws_config.clone(),
            lf_policy: e.lf_policy.clone(),
        })
    }
}

/// Where to publish the run's metrics.
#[derive(clap::Args, Clone)]
pub struct PublishArgs {
    /// Push the run's metrics (and the healer's) to this Prometheus pushgateway at the end,
    /// grouped by job=lakechaos, run_id and target.
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
    /// Also publish the figures to CloudWatch (PutMetricData; the usual AWS credentials).
    #[arg(long)]
    pub cloudwatch: bool,
    /// CloudWatch-compatible endpoint (an emulator); default: AWS.
    #[arg(long, value_name = "URL", requires = "cloudwatch")]
    pub cloudwatch_endpoint: Option<String>,
    /// Also write the run's metrics (Prometheus text format) to this file.
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
    /// CloudWatch namespace.
    #[arg(long, value_name = "NAME", default_value = lakechaos::metrics::cloudwatch::NAMESPACE)]
    pub cloudwatch_namespace: String,
}

impl PublishArgs {
    pub fn destinations(&self, run_id: Option<&str>) -> lakechaos::metrics::publish::Destinations {
        let cloudwatch = self.cloudwatch.then(|| {
            let conn = match &self.cloudwatch_endpoint {
                Some(url) => lakechaos_lake::AwsConnection::emulator(url),
                None => lakechaos_lake::AwsConnection::from_environment(None, None),
            };
            (conn, self.cloudwatch_namespace.clone())
        });
        lakechaos::metrics::publish::Destinations {
            pushgateway: self.pushgateway.clone(),
            cloudwatch,
            textfile: self.metrics_file.clone(),
            run_id: run_id.map(String::from).unwrap_or_else(aws_guard::default_run_id),
        }
    }
}

impl RunArgs {
    /// Run options, and the temporary work directory when none was given. Its path is printed
    /// so that a killed run can be reverted from the journals inside it.
    pub fn options(&self) -> Result<(RunOptions, Option<tempfile::TempDir>), CliError> {
        let (workdir, temp) = match &self.workdir {
            Some(dir) => (dir.clone(), None),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("lakechaos-")
                    .tempdir()
                    .map_err(|e| format!("temporary directory: {e}"))?;
                (tmp.path().to_path_buf(), Some(tmp))
            }
        };
        eprintln!("work directory: {} (journals for `lakechaos revert` in <scenario>/journal.json)", workdir.display());
        let existing = self.existing_table();
        let opts = RunOptions {
            target: existing.as_ref().map_or(self.target, |t| t.target()),
            seed: self.seed,
            healer: if self.no_heal { lakechaos::run::HealerChoice::None } else { self.healer },
            incident_topic: self.incident_topic.clone(),
            keep_workdir: self.workdir.is_some(),
            workdir: Some(workdir),
            target_options: TargetOptions {
                provider: self.provider,
                aws_config: self.aws_config.clone(),
                run_id: self.run_id.clone(),
                events: self.events,
            },
            sns_topic: self.sns_topic.clone(),
            jobs: self.jobs.map(usize::from).unwrap_or_else(|| self.target.default_jobs()),
            existing,
            ..RunOptions::default()
        };
        Ok((opts, temp))
    }
}
