//! Where the lake is and how to look at it: the options every lake command takes.

use lakechaos_lake::pg::PgLayout;
use lakechaos_lake::Lake;
use lakehealer::pg::dbt::DbtModels;
use lakehealer::pg::{PgHealer, PgHealerConfig};
use lakehealer::{Depth, HealerConfig, Mode};
use std::time::Duration;

use crate::output::{printer, Format};

/// Where the lake and its catalog are.
#[derive(clap::Args)]
pub struct Location {
    /// Lake root: a directory, s3://BUCKET/PREFIX (credentials and region the usual AWS way), or
    /// a PostgreSQL database (postgresql://USER@HOST:PORT/DB: the served table partitioned by day,
    /// healed from the same table in the `raw` schema).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX|postgresql://…")]
    pub lake: String,
    /// Table catalog: `file` (JSON documents under _catalog/ in the lake), `glue:DATABASE`, or
    /// `iceberg-sql:CATALOG.db` (Iceberg tables in the SQL catalog on SQLite; then `--table
    /// NAMESPACE.TABLE`).
    #[arg(long, value_name = "file|glue:DATABASE|iceberg-sql:CATALOG.db", default_value = "file")]
    pub catalog: String,
    /// Endpoint of an S3/Glue-compatible service (an emulator such as moto).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl Location {
    pub async fn open(&self) -> Result<Lake, lakechaos_lake::LakeError> {
        Lake::open_at(&self.lake, &self.catalog, self.endpoint_url.as_deref()).await
    }

    /// Whether `table` in this catalog is an Iceberg table: the catalog is an Iceberg catalog
    /// (`iceberg-sql:PATH`), or a Glue catalog and the table is named `DATABASE.TABLE`.
    pub fn iceberg(&self, table: &str) -> bool {
        lakechaos_lake::iceberg::IcebergCatalogKind::parse(&self.catalog).is_some()
            || (self.catalog.starts_with("glue:") && table.contains('.'))
    }

    /// [`Location::open`], refusing a lake whose catalog registers no table: a scan of it would
    /// say "0 findings" about nothing.
    pub async fn open_registered(&self) -> Result<Lake, lakehealer::cli::CliError> {
        let lake = self.open().await?;
        if lake.catalog.list_tables().await?.is_empty() {
            return Err(format!(
                "no table is registered in {}: register one with `lakehealer discover --lake {} --table NAME`",
                lake.catalog.describe(),
                lakechaos_lake::redact::url(&self.lake)
            )
            .into());
        }
        Ok(lake)
    }
}

#[derive(clap::Args)]
pub struct LakeArgs {
    #[command(flatten)]
    pub location: Location,
    /// Only this table (repeatable; default: every registered table).
    #[arg(long = "table", value_name = "NAME")]
    pub tables: Vec<String>,
    /// Deepest detection tier.
    #[arg(long, value_enum, default_value = "pages")]
    pub depth: Depth,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also publish incidents, repairs and resolutions to this SNS topic (JSON messages with an
    /// `event` attribute).
    #[arg(long, value_name = "ARN")]
    pub sns_topic: Option<String>,
    /// PostgreSQL: a dbt project whose models to rebuild for the repaired days (its profile reads
    /// the connection from LAKECHAOS_PG_* variables, which are set from --lake).
    #[arg(long, value_name = "DIR")]
    pub dbt_project: Option<std::path::PathBuf>,
    /// PostgreSQL: the dbt executable.
    #[arg(long, value_name = "PATH", default_value = "dbt")]
    pub dbt: std::path::PathBuf,
    /// PostgreSQL: the models to rebuild (`dbt run --select`), e.g. `source:served.orders+` for
    /// everything downstream of the served table. Incremental models among them should take a
    /// `days` variable (ISO dates) to rebuild only the repaired days.
    #[arg(long, value_name = "SELECTOR", requires = "dbt_project")]
    pub dbt_select: Option<String>,
    /// After repairs that change partitions or columns, start this Glue crawler (one already
    /// running is left to finish) and report its state.
    #[arg(long, value_name = "NAME")]
    pub start_crawler: Option<String>,
    /// Iceberg tables: when a data file has no source, commit a snapshot without it (its rows
    /// are reported as dropped; the file stays in storage). Without it such a file is reported
    /// unrepairable.
    #[arg(long)]
    pub allow_drop: bool,
    /// `heal`: print what would be repaired and how, and change nothing (Iceberg tables).
    #[arg(long)]
    pub dry_run: bool,
}

impl LakeArgs {
    /// Whether the table is an Iceberg table: the catalog is an Iceberg catalog
    /// (`iceberg-sql:PATH`), or a Glue catalog and `--table DATABASE.TABLE` names one.
    pub fn iceberg(&self) -> bool {
        match self.tables.as_slice() {
            [t] => self.location.iceberg(t),
            _ => lakechaos_lake::iceberg::IcebergCatalogKind::parse(&self.location.catalog).is_some(),
        }
    }

    /// The Iceberg healer of the one `--table NAMESPACE.TABLE`.
    pub async fn iceberg_healer(
        &self,
        mode: Mode,
        poll_every: Duration,
        sink: lakehealer::EventSink,
    ) -> Result<lakehealer::iceberg::IcebergHealer, lakehealer::cli::CliError> {
        let [table] = self.tables.as_slice() else {
            return Err("an Iceberg catalog is healed one --table NAMESPACE.TABLE at a time".into());
        };
        let lake = lakechaos_lake::Lake::open_at(
            &self.location.lake,
            &self.location.catalog,
            self.location.endpoint_url.as_deref(),
        )
        .await?;
        let config = lakehealer::iceberg::IcebergHealerConfig {
            mode,
            depth: self.depth,
            poll_every,
            allow_drop: self.allow_drop,
            ..Default::default()
        };
        let healer = lakehealer::iceberg::IcebergHealer::new(lake, table, config, sink)?;
        // A table the catalog does not have is a usage error, said before any pass.
        healer.table().pointer().await.map_err(|e| lakehealer::HealerError::Lake(e.into()))?;
        Ok(healer)
    }

    /// The PostgreSQL URL, when the lake is a PostgreSQL database.
    pub fn postgres(&self) -> Option<&str> {
        let lake = self.location.lake.as_str();
        (lake.starts_with("postgresql://") || lake.starts_with("postgres://")).then_some(lake)
    }

    /// A PostgreSQL healer for `url`: `--table` names the table (default `orders`).
    pub fn pg_healer(
        &self,
        url: &str,
        mode: Mode,
        poll_every: Duration,
        sink: lakehealer::EventSink,
    ) -> Result<PgHealer, lakehealer::cli::CliError> {
        let mut layout = PgLayout::default();
        match self.tables.as_slice() {
            [] => {}
            [one] => layout.table = one.clone(),
            _ => return Err("a PostgreSQL lake is healed one --table at a time".into()),
        }
        let dbt = match &self.dbt_project {
            None => None,
            Some(dir) => Some(DbtModels {
                select: self.dbt_select.clone().ok_or("--dbt-project needs --dbt-select: the models to rebuild")?,
                executable: self.dbt.clone(),
                project_dir: dir.clone(),
                profiles_dir: dir.clone(),
                target_path: std::env::temp_dir().join(format!("lakehealer-dbt-{}", std::process::id())),
                env: lakechaos_lake::pg::dbt_env(url)?,
            }),
        };
        Ok(PgHealer::new(url, layout, PgHealerConfig { mode, poll_every, dbt }, sink))
    }
}

impl LakeArgs {
    pub fn connection(&self) -> lakechaos_lake::AwsConnection {
        lakechaos_lake::AwsConnection { endpoint_url: self.location.endpoint_url.clone(), ..Default::default() }
    }

    /// The printer, plus the SNS publisher when asked for (await its task before exiting).
    pub async fn sink(&self) -> (lakehealer::EventSink, Option<tokio::task::JoinHandle<()>>) {
        let print = printer(self.format);
        match &self.sns_topic {
            None => (print, None),
            Some(arn) => {
                let topic = lakechaos_lake::Topic::connect(&self.connection(), arn).await;
                let (publish, task) = lakehealer::publish::sns_sink(topic);
                (lakehealer::publish::fanout(vec![print, publish]), Some(task))
            }
        }
    }
}

/// Waits for the SNS publisher (if any) to drain once the healer and its sink are gone.
pub async fn flush(task: Option<tokio::task::JoinHandle<()>>) {
    if let Some(task) = task {
        let _ = task.await;
    }
}

pub fn config(args: &LakeArgs, mode: Mode) -> HealerConfig {
    HealerConfig {
        mode,
        depth: args.depth,
        tables: args.tables.clone(),
        start_crawler: args.start_crawler.clone(),
        ..HealerConfig::default()
    }
}
