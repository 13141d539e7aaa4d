//! Targets: where a scenario's lake lives, what it can do, and how it is provisioned.

use crate::provision::{LocalProcess, ProvisionError};
use crate::scenario::Capability;
use lakechaos_lake::{AwsConnection, GlueCatalog, Lake, S3Store};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A target a suite runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A local directory with the file catalog: embedded, needs no services.
    Local,
    /// S3 and Glue on a moto server over HTTP, started on a free loopback port for the run.
    Moto,
}

/// A lake provisioned for one scenario.
pub struct Provisioned {
    pub lake: Lake,
    /// Where the lake lives (a directory, or `s3://bucket`), as recorded in the journal.
    pub address: String,
}

/// What a target needs running for a whole suite (servers are stopped when it is dropped).
pub struct TargetEnv {
    target: Target,
    server: Option<LocalProcess>,
}

/// Why a target could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Lake(#[from] lakechaos_lake::LakeError),
}

impl Target {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::Local => "local",
            Target::Moto => "moto",
        }
    }

    /// What the target offers.
    pub fn capabilities(self) -> &'static [Capability] {
        match self {
            Target::Local | Target::Moto => &[Capability::ObjectStore, Capability::Catalog],
        }
    }

    /// The first capability in `needs` the target lacks, if any.
    pub fn missing(self, needs: &[Capability]) -> Option<Capability> {
        needs.iter().copied().find(|c| !self.capabilities().contains(c))
    }

    /// How often the healer reconciles on this target. Local lakes raise file-system events, so
    /// a slow reconcile suffices; S3 events are not wired yet, so the healer polls.
    pub fn reconcile_every(self) -> Duration {
        match self {
            Target::Local => Duration::from_secs(1),
            Target::Moto => Duration::from_millis(50),
        }
    }

    /// Starts what the target needs for a suite (nothing for `local`, a moto server for `moto`).
    pub fn start(self) -> Result<TargetEnv, TargetError> {
        let server = match self {
            Target::Local => None,
            Target::Moto => Some(LocalProcess::start_moto()?),
        };
        Ok(TargetEnv { target: self, server })
    }

    /// Opens an existing local lake by the address a journal recorded.
    pub fn open_local(address: &str) -> Result<Lake, lakechaos_lake::LakeError> {
        Lake::open_local(Path::new(address))
    }
}

/// A bucket or database name derived from a scenario name: lowercase, digits and `-` (or `_`),
/// at most 63 characters.
fn resource_name(scenario: &str, sep: char) -> String {
    let cleaned: String =
        scenario.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { sep }).collect();
    let name = format!("lakechaos{sep}{cleaned}");
    name.chars().take(63).collect::<String>().trim_end_matches(sep).to_string()
}

impl TargetEnv {
    /// The target.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The emulator endpoint, for targets that have one.
    pub fn endpoint(&self) -> Option<&str> {
        self.server.as_ref().map(|s| s.endpoint())
    }

    /// Provisions an empty lake for one scenario: a directory under `dir` for `local`; a bucket
    /// (versioned if `versioning`) and a Glue database named after the scenario for `moto`.
    pub async fn provision(&self, scenario: &str, dir: &Path, versioning: bool) -> Result<Provisioned, TargetError> {
        match (self.target, &self.server) {
            (Target::Local, _) => {
                let lake_dir: PathBuf = dir.join("lake");
                let lake = Lake::open_local(&lake_dir)?;
                let root = lake_dir.canonicalize().unwrap_or(lake_dir);
                Ok(Provisioned { lake, address: root.display().to_string() })
            }
            (Target::Moto, Some(server)) => {
                let conn = AwsConnection::emulator(server.endpoint());
                let bucket = resource_name(scenario, '-');
                let store = S3Store::connect(&conn, &bucket, "").await;
                store.ensure_bucket(versioning).await?;
                let url = format!("s3://{bucket}");
                let catalog = GlueCatalog::connect(&conn, &resource_name(scenario, '_'), &url).await;
                catalog.ensure_database().await?;
                Ok(Provisioned { lake: Lake { store: Arc::new(store), catalog: Arc::new(catalog) }, address: url })
            }
            (Target::Moto, None) => unreachable!("a moto environment always has its server"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_offer_object_store_and_catalog() {
        for t in [Target::Local, Target::Moto] {
            assert_eq!(t.missing(&[Capability::ObjectStore, Capability::Catalog]), None);
        }
        assert_eq!(Target::Local.name(), "local");
    }

    #[test]
    fn resource_names_are_valid_bucket_and_database_names() {
        assert_eq!(resource_name("corrupt-parquet-bad-magic", '-'), "lakechaos-corrupt-parquet-bad-magic");
        assert_eq!(resource_name("corrupt-parquet-bad-magic", '_'), "lakechaos_corrupt_parquet_bad_magic");
        assert!(resource_name(&"x".repeat(100), '-').len() <= 63);
    }
}
