//! PostgreSQL as a lake: a served table declaratively partitioned by day, a `raw` schema that is
//! its source of truth, and what the system catalog says about both.
//!
//! Faults, the healer and the harness all name PostgreSQL objects through [`PgLayout`], and every
//! connection is made by [`connect`], so the naming and the connection rules live in one place.

pub mod introspect;
pub mod load;
pub mod rows;
pub mod types;

pub use introspect::{ColumnDiff, DayStats, PgColumn, PgPartition};

use crate::LakeError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_postgres::{Client, NoTls};

/// Where a PostgreSQL lake keeps one table: the served (partitioned) table, its source of truth
/// in the raw schema, and the schema repairs move damaged data aside into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgLayout {
    /// Schema of the served, day-partitioned table readers query.
    pub served_schema: String,
    /// Schema of the landing copy (the source of truth).
    pub raw_schema: String,
    /// Table name, the same in both schemas.
    pub table: String,
    /// The timestamp column the served table is range-partitioned on, one partition per UTC day.
    pub partition_column: String,
    /// Where the healer keeps what it moves aside (never dropped).
    pub quarantine_schema: String,
}

impl Default for PgLayout {
    fn default() -> Self {
        PgLayout {
            served_schema: "public".into(),
            raw_schema: "raw".into(),
            table: "orders".into(),
            partition_column: "order_ts".into(),
            quarantine_schema: "lakechaos_quarantine".into(),
        }
    }
}

impl PgLayout {
    /// The served table, quoted for SQL.
    pub fn served(&self) -> String {
        format!("{}.{}", ident(&self.served_schema), ident(&self.table))
    }

    /// The raw (source of truth) table, quoted for SQL.
    pub fn raw(&self) -> String {
        format!("{}.{}", ident(&self.raw_schema), ident(&self.table))
    }

    /// The name of a day's partition (`orders_p20240301`), unquoted, in the served schema.
    pub fn partition_name(&self, day: NaiveDate) -> String {
        format!("{}_p{}", self.table, day.format("%Y%m%d"))
    }

    /// A day's partition, quoted for SQL.
    pub fn partition(&self, day: NaiveDate) -> String {
        format!("{}.{}", ident(&self.served_schema), ident(&self.partition_name(day)))
    }

    /// The partition bound of a day: `FOR VALUES FROM (...) TO (...)`, in UTC.
    pub fn bounds(&self, day: NaiveDate) -> String {
        let next = day.succ_opt().unwrap_or(day);
        format!("FOR VALUES FROM ('{day} 00:00:00+00') TO ('{next} 00:00:00+00')")
    }

    /// `CREATE TABLE` of a day's partition.
    pub fn create_partition(&self, day: NaiveDate) -> String {
        format!("CREATE TABLE {} PARTITION OF {} {}", self.partition(day), self.served(), self.bounds(day))
    }

    /// SQL expression of a row's day (its partition).
    pub fn day_expr(&self) -> String {
        format!("({} AT TIME ZONE 'UTC')::date", ident(&self.partition_column))
    }

    /// SQL condition selecting a day's rows by range on the partition column (so PostgreSQL
    /// prunes to the one partition), for rows aliased `alias`.
    pub fn day_range(&self, alias: &str, day: NaiveDate) -> String {
        let next = day.succ_opt().unwrap_or(day);
        let c = format!("{alias}.{}", ident(&self.partition_column));
        format!("{c} >= '{day} 00:00:00+00' AND {c} < '{next} 00:00:00+00'")
    }

    /// How a day's partition is named as a location in incidents and ground truth
    /// (`public.orders/dt=2024-03-01`), in the same `<table>/dt=<day>` shape as a file lake's.
    pub fn day_location(&self, day: NaiveDate) -> String {
        format!("{}.{}/dt={day}", self.served_schema, self.table)
    }

    /// The day of a location made by [`PgLayout::day_location`].
    pub fn day_of_location(&self, location: &str) -> Option<NaiveDate> {
        let rest = location.strip_prefix(&format!("{}.{}/dt=", self.served_schema, self.table))?;
        NaiveDate::parse_from_str(rest, "%Y-%m-%d").ok()
    }

    /// How the served table's definition is named as a location (`catalog:public.orders`): in
    /// PostgreSQL a table's columns live in the system catalog.
    pub fn table_location(&self) -> String {
        format!("catalog:{}.{}", self.served_schema, self.table)
    }
}

/// Quotes an identifier for SQL.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQL.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Connects to `url` (a `postgresql://` URL or key=value string), naming the connection
/// `application_name` in `pg_stat_activity`. The connection runs on its own task; when the
/// server ends it, the client's calls fail with an error instead of hanging.
pub async fn connect(url: &str, application_name: &str) -> Result<Client, LakeError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| remote(url, format!("bad URL: {e}")))?;
    config.application_name(application_name);
    config.connect_timeout(Duration::from_secs(5));
    let (client, connection) = config.connect(NoTls).await.map_err(|e| remote(url, format!("connect: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// The environment the dbt profile in `fixtures/dbt/profiles.yml` reads its connection from
/// (`LAKECHAOS_PG_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_DBNAME`), for the database at `url`.
pub fn dbt_env(url: &str) -> Result<Vec<(String, String)>, LakeError> {
    let config: tokio_postgres::Config = url.parse().map_err(|e| remote(url, format!("bad URL: {e}")))?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let password = config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default();
    Ok(vec![
        ("LAKECHAOS_PG_HOST".into(), host),
        ("LAKECHAOS_PG_PORT".into(), port.to_string()),
        ("LAKECHAOS_PG_USER".into(), config.get_user().unwrap_or("postgres").to_string()),
        ("LAKECHAOS_PG_PASSWORD".into(), password),
        ("LAKECHAOS_PG_DBNAME".into(), config.get_dbname().unwrap_or("postgres").to_string()),
    ])
}

/// A PostgreSQL error naming where and what, as a [`LakeError::Remote`].
pub fn sql_error(url: &str, what: impl std::fmt::Display, e: tokio_postgres::Error) -> LakeError {
    // The server's own message (with its detail) says more than the driver's summary.
    let message = match e.as_db_error() {
        Some(db) => format!("{what}: {}{}", db.message(), db.detail().map(|d| format!(" ({d})")).unwrap_or_default()),
        None => format!("{what}: {e}"),
    };
    remote(url, message)
}

fn remote(url: &str, message: String) -> LakeError {
    LakeError::Remote { service: "PostgreSQL", endpoint: redact(url), message }
}

/// The URL without its password, for messages and journals (see [`crate::redact`]).
pub fn redact(url: &str) -> String {
    crate::redact::url(url)
}

/// `url` with a password where it has none: `PGPASSWORD`, or the password of
/// `LAKECHAOS_POSTGRES_URL` when that names the same host, port and user. Journals keep URLs
/// without their secret; reverting one needs it back.
pub fn with_password(url: &str) -> String {
    let Ok(mut config) = url.parse::<tokio_postgres::Config>() else { return url.to_string() };
    if config.get_password().is_some() {
        return url.to_string();
    }
    let from_env = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()).or_else(|| {
        let given: tokio_postgres::Config = std::env::var("LAKECHAOS_POSTGRES_URL").ok()?.parse().ok()?;
        let same = given.get_hosts() == config.get_hosts()
            && given.get_ports() == config.get_ports()
            && given.get_user() == config.get_user();
        same.then(|| given.get_password().map(|p| String::from_utf8_lossy(p).into_owned())).flatten()
    });
    match from_env {
        Some(password) => {
            config.password(password);
            with_config_password(url, &config)
        }
        None => url.to_string(),
    }
}

/// `url` as a URL again with `config`'s password in its userinfo.
fn with_config_password(url: &str, config: &tokio_postgres::Config) -> String {
    let password = config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default();
    let encoded = percent_encode(&password);
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}:{encoded}{}", &url[..at], &url[at..]),
        _ => url.to_string(),
    }
}

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_locations_round_trip() {
        let l = PgLayout::default();
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(l.partition(day), "\"public\".\"orders_p20240301\"");
        assert_eq!(l.day_location(day), "public.orders/dt=2024-03-01");
        assert_eq!(l.day_of_location(&l.day_location(day)), Some(day));
        assert_eq!(l.bounds(day), "FOR VALUES FROM ('2024-03-01 00:00:00+00') TO ('2024-03-02 00:00:00+00')");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgresql://u:secret@h:5/db"), "postgresql://u:***@h:5/db");
        assert_eq!(redact("postgresql://u@h:5/db"), "postgresql://u@h:5/db");
    }
}
