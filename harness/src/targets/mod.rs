//! Targets: where a scenario's lake lives, what it can do, and how it is provisioned
//! ([`provision`]: emulators and PostgreSQL as local processes, containers or given endpoints;
//! [`aws_guard`]: the guarded real account).

pub mod aws_guard;
pub mod claim;
pub mod existing;
pub mod provision;

use crate::scenario::Capability;
use aws_guard::{AwsRun, GuardError};
use lakechaos_lake::notifications::{notify_bucket_to_queue, EventQueue};
use lakechaos_lake::{AwsConnection, CatalogKind, GlueCatalog, Lake};
use provision::{ProviderKind, ProvisionError, Running, Service};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A target a suite runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A local directory with the file catalog: embedded, needs no services.
    Local,
    /// S3, Glue, SQS and SNS on a moto server.
    Moto,
    /// S3, SQS and SNS on LocalStack (community has no Glue: catalog scenarios are skipped).
    Localstack,
    /// A real AWS account, guarded: allowed accounts only, everything under the run's prefix.
    Aws,
    /// PostgreSQL: a raw schema and a served table partitioned by day, with a dbt project as the
    /// steady-state probe (corrupt-Parquet scenarios are skipped).
    Postgres,
}

/// A lake provisioned for one scenario.
pub struct Provisioned {
    pub lake: Lake,
    /// Where the lake lives (a directory, or `s3://bucket[/prefix]`), as recorded in the journal.
    pub address: String,
    /// The catalog as `lakehealer --catalog` takes it (`file` or `glue:DATABASE`).
    pub catalog: String,
    /// The queue receiving the lake's S3 events, where the target delivers them.
    pub events: Option<EventQueue>,
}

/// What a target has running for a whole suite (services stop when it is dropped).
pub struct TargetEnv {
    target: Target,
    service: Option<Box<dyn Running>>,
    conn: Option<AwsConnection>,
    /// Capabilities the target lacks, each with the reason.
    lacking: Vec<(Capability, String)>,
    aws: Option<AwsRun>,
    events: EventRoute,
    /// Existing-table mode: the table every scenario breaks (nothing is provisioned).
    existing: Option<existing::ExistingTable>,
}

/// How to start a target.
#[derive(Clone, Debug, Default)]
pub struct TargetOptions {
    /// Which provider starts emulators.
    pub provider: ProviderKind,
    /// The `aws` target's guard configuration file.
    pub aws_config: Option<PathBuf>,
    /// The `aws` target's run id (default: from the clock).
    pub run_id: Option<String>,
    /// How a scenario bucket's S3 events reach the healer's queue on the emulators.
    pub events: EventRoute,
}

/// How S3 events reach the healer's queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum EventRoute {
    /// The bucket's event notifications, straight to the queue.
    #[default]
    S3,
    /// The bucket's events to EventBridge, and a rule from there to the queue (as the Terraform
    /// module routes them).
    Eventbridge,
}

/// Why a target could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Lake(#[from] lakechaos_lake::LakeError),
    #[error(transparent)]
    Guard(#[from] GuardError),
}

impl Target {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::Local => "local",
            Target::Moto => "moto",
            Target::Localstack => "localstack",
            Target::Aws => "aws",
            Target::Postgres => "postgres",
        }
    }

    /// Scenarios run at once unless `--jobs` says otherwise. Each scenario has its own lake,
    /// bucket or database, so they cannot see each other's damage. Locally every step is the
    /// machine's own CPU work and the suite takes seconds, so scenarios run one at a time and
    /// their times are their own; on services most of a scenario is waiting for the server,
    /// so several run at once (each result says how many ran alongside it). On PostgreSQL each
    /// scenario also runs dbt, which is CPU work of this machine: more scenarios than cores add
    /// nothing to the suite's speed and only make each one wait (on 2 cores, 3 at a time took
    /// as long as 2 and doubled TTR p95: 2.4–2.5 s against 1.2–1.4 s), so at most one per core.
    pub fn default_jobs(self) -> usize {
        match self {
            Target::Local => 1,
            Target::Moto | Target::Localstack | Target::Aws => 4,
            Target::Postgres => 3.min(cores()),
        }
    }

    fn service(self) -> Option<Service> {
        match self {
            Target::Moto => Some(Service::Moto),
            Target::Localstack => Some(Service::LocalStack),
            Target::Postgres => Some(Service::Postgres),
            Target::Local | Target::Aws => None,
        }
    }

    /// How often the healer reconciles on this target. Object changes arrive as events
    /// (file-system events locally, S3 notifications through SQS on the emulators), so the
    /// reconcile pass is only for what has no event; on the emulators that includes Glue
    /// catalog drift (and, on moto, deletes in versioned buckets, which it sends no event for),
    /// hence the shorter interval there. On AWS, without an events queue in the
    /// guard configuration, it is the only trigger.
    pub fn reconcile_every(self) -> Duration {
        match self {
            Target::Local => Duration::from_secs(1),
            // PostgreSQL sends no change events: the healer polls.
            Target::Moto | Target::Localstack | Target::Postgres => Duration::from_millis(100),
            Target::Aws => Duration::from_millis(500),
        }
    }

    /// Starts what the target needs for a suite: nothing for `local`; the emulator for `moto` and
    /// `localstack` (through the chosen provider); for `aws`, the guard: the configuration is
    /// loaded and the caller's account checked before anything else happens.
    pub async fn start(self, opts: &TargetOptions) -> Result<TargetEnv, TargetError> {
        let mut env = TargetEnv {
            target: self,
            service: None,
            conn: None,
            lacking: Vec::new(),
            aws: None,
            events: opts.events,
            existing: None,
        };
        if let Some(service) = self.service() {
            let running = provision::start(service, opts.provider).await?;
            if service != Service::Postgres {
                env.conn = Some(AwsConnection::emulator(running.endpoint()));
            }
            env.service = Some(running);
        }
        match self {
            Target::Localstack => {
                let conn = env.conn.clone().expect("set above");
                if let Err(reason) = GlueCatalog::probe(&conn).await {
                    env.lacking.push((Capability::Catalog, format!("no Glue on LocalStack: {reason}")));
                }
                env.lacking.push((
                    Capability::LakeFormation,
                    "LocalStack community has no Lake Formation (it answers HTTP 501)".into(),
                ));
            }
            Target::Aws => {
                let config = opts.aws_config.as_deref().ok_or(GuardError::NoConfig)?;
                let run = AwsRun::start(config, opts.run_id.clone()).await?;
                env.conn = Some(run.connection().clone());
                env.aws = Some(run);
                env.lacking.push((
                    Capability::LakeFormation,
                    "the aws target never changes Lake Formation grants in the staging account".into(),
                ));
            }
            Target::Local => env
                .lacking
                .push((Capability::LakeFormation, "a directory lake has no Lake Formation (run it on moto)".into())),
            Target::Moto | Target::Postgres => {}
        }
        if !matches!(self, Target::Local | Target::Moto) {
            env.lacking.push((Capability::Iceberg, ICEBERG_LOCAL_ONLY.into()));
        }
        if self == Target::Local {
            env.lacking.push((Capability::ObjectVersions, "a directory keeps no object versions".into()));
        }
        Ok(env)
    }
}

/// Why targets other than `local` and `moto` lack Iceberg for now.
pub const ICEBERG_LOCAL_ONLY: &str = "Iceberg scenarios run on the local target (the SQL catalog on SQLite) and on \
     moto (Glue); LocalStack community has no Glue, and the aws target has not run them yet";

/// A bucket, queue or database name derived from a scenario name: lowercase, digits and `-`
/// (or `_`), at most 63 characters.
pub(crate) fn resource_name(scenario: &str, sep: char) -> String {
    let name = format!("lakechaos{sep}{}", slug(scenario, sep));
    name.chars().take(63).collect::<String>().trim_end_matches(sep).to_string()
}

/// `url` with its database (the path) replaced by `database`.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map(|(b, q)| (b, format!("?{q}"))).unwrap_or((url, String::new()));
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[authority_start..].find('/').map(|i| authority_start + i).unwrap_or(base.len());
    format!("{}/{database}{query}", &base[..host_end])
}

/// A scenario name as lowercase letters, digits and `sep`.
pub(crate) fn slug(scenario: &str, sep: char) -> String {
    scenario.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { sep }).collect()
}

impl TargetEnv {
    /// The environment of existing-table mode: no service is started and nothing is
    /// provisioned; `aws` is the guard's run when the table is on real AWS.
    pub fn for_existing(table: existing::ExistingTable, aws: Option<AwsRun>) -> TargetEnv {
        let target = table.target();
        TargetEnv {
            target,
            service: None,
            conn: matches!(target, Target::Moto | Target::Aws).then(|| table.connection()),
            lacking: table.lacking(),
            aws,
            events: EventRoute::S3,
            existing: Some(table),
        }
    }

    /// The table existing-table mode breaks, in that mode.
    pub fn existing(&self) -> Option<&existing::ExistingTable> {
        self.existing.as_ref()
    }

    /// The target.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The emulator endpoint, for targets that have one.
    pub fn endpoint(&self) -> Option<&str> {
        self.service.as_ref().map(|s| s.endpoint())
    }

    /// Which provider started the emulator, if any.
    pub fn provider(&self) -> Option<&'static str> {
        self.service.as_ref().map(|s| s.provider())
    }

    /// How to reach the target's AWS APIs, for targets that have them.
    pub fn connection(&self) -> Option<&AwsConnection> {
        self.conn.as_ref()
    }

    /// The guarded AWS run, on the `aws` target.
    pub fn aws_run(&self) -> Option<&AwsRun> {
        self.aws.as_ref()
    }

    /// The first capability in `needs` the target lacks, with the reason.
    pub fn missing(&self, needs: &[Capability]) -> Option<(Capability, String)> {
        needs.iter().find_map(|need| self.lacking.iter().find(|(c, _)| c == need).cloned())
    }

    /// Provisions an empty database for one scenario on the `postgres` target (dropped first if a
    /// previous run left it) and returns its URL.
    pub async fn provision_database(&self, scenario: &str) -> Result<String, TargetError> {
        let base = self.endpoint().filter(|_| self.target == Target::Postgres).ok_or_else(|| {
            lakechaos_lake::LakeError::Catalog(format!("target {} has no PostgreSQL", self.target.name()))
        })?;
        let name = resource_name(scenario, '_');
        let admin = lakechaos_lake::pg::connect(base, "lakechaos").await?;
        for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
            admin.batch_execute(&sql).await.map_err(|e| lakechaos_lake::pg::sql_error(base, &sql, e))?;
        }
        Ok(with_database(base, &name))
    }

    /// Provisions an empty lake for one scenario:
    /// - `local`: a directory under `dir`;
    /// - `moto`, `localstack`: a bucket named after the scenario (versioned if `versioning`), its
    ///   S3 events delivered to an SQS queue, and a Glue database where the target has Glue, else
    ///   the table document kept in the bucket;
    /// - `aws`: the run's prefix in the configured bucket and a Glue database named after the run;
    ///   nothing outside them is created or changed.
    pub async fn provision(&self, scenario: &str, dir: &Path, versioning: bool) -> Result<Provisioned, TargetError> {
        if self.target == Target::Local {
            let lake_dir: PathBuf = dir.join("lake");
            let lake = Lake::open_local(&lake_dir)?;
            let root = lake_dir.canonicalize().unwrap_or(lake_dir);
            return Ok(Provisioned { lake, address: root.display().to_string(), catalog: "file".into(), events: None });
        }
        if let Some(run) = &self.aws {
            return Ok(run.provision(scenario).await?);
        }
        let conn = self.conn.as_ref().expect("emulator targets have a connection");
        let bucket = resource_name(scenario, '-');
        let catalog = if self.missing(&[Capability::Catalog]).is_none() {
            CatalogKind::Glue { database: resource_name(scenario, '_') }
        } else {
            CatalogKind::File
        };
        let lake = Lake::create_s3(conn, &bucket, "", &catalog, Some(versioning)).await?;
        let queue = EventQueue::create(conn, &format!("{}-events", resource_name(scenario, '-'))).await?;
        match self.events {
            EventRoute::S3 => notify_bucket_to_queue(conn, &bucket, &queue).await?,
            EventRoute::Eventbridge => {
                lakechaos_lake::eventbridge::route_bucket_through_eventbridge(conn, &bucket, &queue).await?
            }
        }
        Ok(Provisioned { lake, address: format!("s3://{bucket}"), catalog: catalog.name(), events: Some(queue) })
    }
}

/// The cores this process may use (1 when the platform cannot say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_are_valid_bucket_and_database_names() {
        assert_eq!(resource_name("corrupt-parquet-bad-magic", '-'), "lakechaos-corrupt-parquet-bad-magic");
        assert_eq!(resource_name("corrupt-parquet-bad-magic", '_'), "lakechaos_corrupt_parquet_bad_magic");
        assert!(resource_name(&"x".repeat(100), '-').len() <= 63);
    }

    #[test]
    fn database_urls_get_the_scenario_database() {
        assert_eq!(
            with_database("postgresql://postgres@127.0.0.1:5/postgres", "x"),
            "postgresql://postgres@127.0.0.1:5/x"
        );
        assert_eq!(with_database("postgresql://u:p@h:5", "x"), "postgresql://u:p@h:5/x");
        assert_eq!(with_database("postgres://h/db?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
    }

    #[test]
    fn emulators_reconcile_faster_than_the_local_lake() {
        assert!(Target::Moto.reconcile_every() < Target::Local.reconcile_every());
        assert_eq!(Target::Localstack.name(), "localstack");
    }

    #[test]
    fn postgres_runs_no_more_scenarios_at_once_than_there_are_cores() {
        assert!(Target::Postgres.default_jobs() <= cores().max(1));
        assert!((1..=3).contains(&Target::Postgres.default_jobs()));
        assert_eq!(Target::Local.default_jobs(), 1);
    }
}
