//! The guarded real-AWS target. A run refuses to start unless the caller's account (STS) is in
//! the configuration's `allow_accounts`; every S3 key it writes is under
//! `<prefix>/<run-id>/<scenario>/` in the configured bucket (the store is rooted there, so no key
//! can leave it), and the only other things it creates are Glue databases named after the run.
//! It never creates buckets and never changes bucket settings (versioning, notifications).
//!
//! A configuration file (YAML):
//! ```yaml
//! allow_accounts: ["123456789012"]   # the staging account(s); anything else → exit 2
//! bucket: acme-lakechaos-staging     # existing bucket, versioning on (else restores fall back
//!                                    # to the landing copy, and the run says so)
//! prefix: lakechaos/runs             # keys go under prefix/<run-id>/<scenario>/
//! region: eu-west-1                  # optional: else the usual AWS sources
//! profile: staging                   # optional
//! glue_database_prefix: lakechaos_   # optional
//! events_queue_url: https://sqs...   # optional: S3 events for the bucket (EventBridge rule)
//! ```

use super::{slug, Provisioned};
use lakechaos_lake::notifications::{caller_account, EventQueue};
use lakechaos_lake::{AwsConnection, CatalogKind, Lake, LakeError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The guard configuration.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AwsGuardConfig {
    pub allow_accounts: Vec<String>,
    pub bucket: String,
    pub prefix: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default = "default_database_prefix")]
    pub glue_database_prefix: String,
    #[serde(default)]
    pub events_queue_url: Option<String>,
}

fn default_database_prefix() -> String {
    "lakechaos_".into()
}

/// Why the guard refused.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(
        "the aws target needs a guard configuration: --aws-config FILE (see the README, section Real AWS, guarded)"
    )]
    NoConfig,
    #[error("{path}: {message}")]
    Config { path: String, message: String },
    #[error("cannot establish the caller's account: {0}")]
    Identity(LakeError),
    #[error(
        "account {account} is not in allow_accounts {allowed:?} of {path}; refusing to touch it (nothing was written)"
    )]
    AccountNotAllowed { account: String, allowed: Vec<String>, path: String },
    #[error("bucket {bucket}: {message} (nothing was written)")]
    Bucket { bucket: String, message: String },
    #[error(transparent)]
    Lake(#[from] LakeError),
}

/// A guarded run on AWS: the account was checked, the bucket exists.
pub struct AwsRun {
    config: AwsGuardConfig,
    conn: AwsConnection,
    account: String,
    run_id: String,
    versioning: bool,
}

impl AwsGuardConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<AwsGuardConfig, GuardError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| GuardError::Config { path: origin.clone(), message: e.to_string() })?;
        let config: AwsGuardConfig = serde_saphyr::from_str(&text)
            .map_err(|e| GuardError::Config { path: origin.clone(), message: e.to_string() })?;
        config.checked(&origin)
    }

    /// The configuration's own rules; `origin` (a file, or the environment) names it in errors.
    pub fn checked(self, origin: &str) -> Result<AwsGuardConfig, GuardError> {
        let err = |message: String| GuardError::Config { path: origin.to_string(), message };
        if self.allow_accounts.is_empty() {
            return Err(err("allow_accounts is empty: no account may be touched".into()));
        }
        if let Some(bad) = self.allow_accounts.iter().find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(err(format!("allow_accounts: {bad:?} is not a 12-digit account id")));
        }
        if self.prefix.trim_matches('/').is_empty() {
            return Err(err("prefix must not be empty: runs may not write at the bucket root".into()));
        }
        if self.prefix.split('/').any(|seg| seg == "..") {
            return Err(err(format!("prefix {:?} must not contain `..`", self.prefix)));
        }
        Ok(self)
    }
}

/// A run id from the clock: `run-20261129t003000z`.
pub fn default_run_id() -> String {
    chrono::Utc::now().format("run-%Y%m%dt%H%M%Sz").to_string()
}

impl AwsRun {
    /// Loads the configuration and checks the caller's account, then that the bucket exists and
    /// whether it keeps versions. Read-only: nothing is written before this returns `Ok`.
    pub async fn start(config_path: &Path, run_id: Option<String>) -> Result<AwsRun, GuardError> {
        let config = AwsGuardConfig::load(config_path)?;
        let conn = AwsConnection::from_environment(config.profile.clone(), config.region.clone());
        AwsRun::check(config, conn, run_id, &config_path.display().to_string()).await
    }

    /// [`AwsRun::start`] with a configuration already read (`origin` names where from) and a
    /// connection: the account, then the bucket, are checked before anything is written.
    pub async fn check(
        config: AwsGuardConfig,
        conn: AwsConnection,
        run_id: Option<String>,
        origin: &str,
    ) -> Result<AwsRun, GuardError> {
        let account = caller_account(&conn).await.map_err(GuardError::Identity)?;
        if !config.allow_accounts.contains(&account) {
            return Err(GuardError::AccountNotAllowed {
                account,
                allowed: config.allow_accounts.clone(),
                path: origin.to_string(),
            });
        }
        let versioning = Lake::bucket_store(&conn, &config.bucket)
            .await
            .versioning_enabled()
            .await
            .map_err(|e| GuardError::Bucket { bucket: config.bucket.clone(), message: e.to_string() })?;
        if !versioning {
            tracing::warn!(
                bucket = %config.bucket,
                "bucket versioning is off: restores will come from landing copies only"
            );
        }
        let run_id = run_id.unwrap_or_else(default_run_id);
        if run_id.is_empty() || !run_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(GuardError::Config {
                path: origin.to_string(),
                message: format!("run id {run_id:?}: use letters, digits and `-`"),
            });
        }
        Ok(AwsRun { config, conn, account, run_id, versioning })
    }

    pub fn connection(&self) -> &AwsConnection {
        &self.conn
    }

    /// The bucket every key goes to.
    pub fn bucket(&self) -> &str {
        &self.config.bucket
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Whether the bucket keeps object versions.
    pub fn versioning(&self) -> bool {
        self.versioning
    }

    /// `<prefix>/<run-id>`: everything the run writes is under it.
    pub fn run_prefix(&self) -> String {
        format!("{}/{}", self.config.prefix.trim_matches('/'), self.run_id)
    }

    /// `<prefix>/<run-id>/<scenario>`: one scenario's lake.
    pub fn scenario_prefix(&self, scenario: &str) -> String {
        format!("{}/{}", self.run_prefix(), slug(scenario, '-'))
    }

    /// The Glue database of one scenario.
    pub fn database(&self, scenario: &str) -> String {
        let run = self.run_id.to_ascii_lowercase().replace('-', "_");
        let name = format!("{}{run}_{}", self.config.glue_database_prefix, slug(scenario, '_'));
        name.chars().take(255).collect()
    }

    /// The lake of one scenario: the store rooted at its prefix, its own Glue database.
    pub async fn provision(&self, scenario: &str) -> Result<Provisioned, LakeError> {
        let prefix = self.scenario_prefix(scenario);
        let catalog = CatalogKind::Glue { database: self.database(scenario) };
        // The bucket is the configuration's own: never created or changed here.
        let lake = Lake::create_s3(&self.conn, &self.config.bucket, &prefix, &catalog, None).await?;
        let events = match &self.config.events_queue_url {
            Some(queue) => Some(EventQueue::connect(&self.conn, queue).await?),
            None => None,
        };
        Ok(Provisioned {
            lake,
            address: format!("s3://{}/{prefix}", self.config.bucket),
            catalog: catalog.name(),
            events,
        })
    }
}

/// What a run would create or touch, per scenario.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub account: String,
    pub run_id: String,
    pub bucket: String,
    /// Every key is under this prefix.
    pub run_prefix: String,
    pub bucket_versioning: bool,
    pub scenarios: Vec<ScenarioManifest>,
}

/// One scenario's footprint.
#[derive(Debug, Serialize)]
pub struct ScenarioManifest {
    pub scenario: String,
    pub prefix: String,
    pub glue_database: String,
    pub glue_tables: Vec<String>,
    /// The keys seeding writes (exact: the fixture is generated, into memory only, to list them).
    pub keys: Vec<String>,
    /// Where the healer may move damaged objects.
    pub quarantine_prefix: String,
}

/// The manifest of a run, written nowhere but returned: fixtures are generated into a temporary
/// local lake to list their exact keys.
pub async fn manifest(
    run: &AwsRun,
    scenarios: &[crate::scenario::Scenario],
    seed: u64,
) -> Result<Manifest, crate::error::ScenarioError> {
    use crate::error::{AtStage, Stage};
    let mut out = Vec::new();
    for scenario in scenarios {
        let tmp = tempfile::tempdir().at(Stage::Seed)?;
        let lake = Lake::open_local(tmp.path()).at(Stage::Seed)?;
        let seeded = lakechaos_fixtures::seed_lake(
            &lake,
            &scenario.dataset,
            &scenario.fixture,
            scenario.stream_seed(seed, "fixture"),
        )
        .await
        .map_err(|e| format!("{}: {e}", scenario.name))
        .at(Stage::Seed)?;
        let prefix = run.scenario_prefix(&scenario.name);
        let keys: Vec<String> = lake
            .store
            .list("")
            .await
            .at(Stage::Seed)?
            .into_iter()
            .filter(|o| !o.key.starts_with(lakechaos_lake::file_catalog::CATALOG_PREFIX))
            .map(|o| format!("{prefix}/{}", o.key))
            .collect();
        out.push(ScenarioManifest {
            scenario: scenario.name.clone(),
            glue_database: run.database(&scenario.name),
            glue_tables: vec![seeded.table.name.clone()],
            keys,
            quarantine_prefix: format!("{prefix}/{}/", lakechaos_lake::layout::QUARANTINE_PREFIX),
            prefix,
        });
    }
    Ok(Manifest {
        account: run.account.clone(),
        run_id: run.run_id.clone(),
        bucket: run.config.bucket.clone(),
        run_prefix: run.run_prefix(),
        bucket_versioning: run.versioning,
        scenarios: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<AwsGuardConfig, GuardError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aws.yaml");
        std::fs::write(&path, text).unwrap();
        AwsGuardConfig::load(&path)
    }

    #[test]
    fn a_complete_configuration_loads() {
        let c = load("allow_accounts: ['123456789012']\nbucket: b\nprefix: lakechaos/runs\n").unwrap();
        assert_eq!(c.glue_database_prefix, "lakechaos_");
        assert_eq!(c.allow_accounts, vec!["123456789012"]);
    }

    #[test]
    fn unsafe_configurations_are_refused() {
        let err = |t: &str| load(t).unwrap_err().to_string();
        assert!(err("allow_accounts: []\nbucket: b\nprefix: p\n").contains("allow_accounts is empty"));
        assert!(err("allow_accounts: ['12']\nbucket: b\nprefix: p\n").contains("12-digit"));
        assert!(err("allow_accounts: ['123456789012']\nbucket: b\nprefix: /\n").contains("bucket root"));
        assert!(err("allow_accounts: ['123456789012']\nbucket: b\nprefix: a/../b\n").contains(".."));
        assert!(err("allow_accounts: ['123456789012']\nbucket: b\nprefix: p\nbuckets: x\n").contains("buckets"));
    }
}
