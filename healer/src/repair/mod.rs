//! Repairs, one per action, and the playbook that picks them for a finding.
//!
//! Playbook:
//! Restores take the newest clean earlier object version where the store keeps versions, else
//! the landing-zone copy (see [`restore`]).
//!
//! - `corrupt_parquet` → keep a quarantine copy, then restore over it (the key is never missing);
//!   without a good source, move it to quarantine;
//! - `schema_drift` with only extra columns → rewrite to the contract (original quarantined);
//!   other drift → restore, or rewrite with lossless casts when only types changed and there is
//!   no source;
//! - `null_flood`, `row_loss` → restore;
//! - `missing_partition` → restore missing files, then re-register in the catalog;
//! - `schema_drift` in the catalog entry itself → declare the contract's columns again.
//!
//! Without a good source the incident is unrepairable: the healer says so and invents nothing.

pub mod catalog_resync;
pub mod quarantine;
pub mod restore;
pub mod rewrite_contract;

use crate::events::RepairAction;
use crate::finding::{Evidence, Finding, FindingKind};
use crate::HealerError;
use lakechaos_lake::{Lake, TableDef};

/// What a repair may use.
pub struct RepairContext<'a> {
    pub lake: &'a Lake,
    pub table: &'a TableDef,
    pub quarantine_prefix: &'a str,
    /// A store of its own for quarantine, if configured.
    pub quarantine_store: Option<&'a crate::config::QuarantineStore>,
    /// The version token of the object the finding is about, as the healer judged it: nothing
    /// is quarantined or replaced unless the object is still that version.
    pub judged: Option<&'a str>,
}

/// One completed step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub action: RepairAction,
    pub location: String,
    pub source: String,
}

/// The result of running the playbook for one finding.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every step needed was done.
    Repaired(Vec<Step>),
    /// No good source; the steps that were still worth doing (such as quarantining a file
    /// that breaks readers) are listed.
    Unrepairable { done: Vec<Step>, reason: String },
}

/// Runs the playbook for a finding.
pub async fn run(ctx: &RepairContext<'_>, finding: &Finding) -> Result<Outcome, HealerError> {
    match (&finding.kind, &finding.evidence) {
        (FindingKind::MissingPartition, Evidence::Partition { partition, registered, missing_files, has_data }) => {
            let mut steps = Vec::new();
            for file in missing_files {
                match restore::restore_missing(ctx, partition, file).await? {
                    Ok(step) => steps.push(step),
                    Err(reason) => return Ok(Outcome::Unrepairable { done: steps, reason: reason.0 }),
                }
            }
            let has_data_now = *has_data || !steps.is_empty();
            if !has_data_now {
                return Ok(Outcome::Unrepairable {
                    done: steps,
                    reason: format!("partition {} has no data and no landing copy to restore from", finding.location),
                });
            }
            if !registered {
                steps.push(catalog_resync::register(ctx, partition).await?);
            }
            Ok(Outcome::Repaired(steps))
        }
        (FindingKind::CorruptParquet, _) => match restore::restore_replacing(ctx, &finding.location, finding).await? {
            Ok(steps) => Ok(Outcome::Repaired(steps)),
            Err(reason) => {
                // Nothing to restore from: the damaged file still leaves the table, kept aside.
                let q = quarantine::quarantine(ctx, &finding.location, finding, quarantine::Then::Remove).await?;
                Ok(Outcome::Unrepairable { done: vec![q], reason: reason.0 })
            }
        },
        (FindingKind::SchemaDrift, Evidence::CatalogSchema { .. }) => {
            Ok(Outcome::Repaired(vec![catalog_resync::redeclare(ctx, &finding.location).await?]))
        }
        (FindingKind::SchemaDrift, Evidence::Schema { missing, retyped, .. })
            if missing.is_empty() && retyped.is_empty() =>
        {
            rewrite_contract::rewrite(ctx, &finding.location, finding).await
        }
        (FindingKind::SchemaDrift, Evidence::Schema { missing, .. }) => {
            match restore::restore_replacing(ctx, &finding.location, finding).await? {
                Ok(steps) => Ok(Outcome::Repaired(steps)),
                Err(reason) if missing.is_empty() => {
                    // Only types changed and no landing copy: a lossless cast back is still honest.
                    match rewrite_contract::rewrite(ctx, &finding.location, finding).await? {
                        Outcome::Repaired(steps) => Ok(Outcome::Repaired(steps)),
                        Outcome::Unrepairable { done, reason: cast_reason } => {
                            Ok(Outcome::Unrepairable { done, reason: format!("{reason}; {cast_reason}") })
                        }
                    }
                }
                Err(reason) => Ok(Outcome::Unrepairable { done: Vec::new(), reason: reason.0 }),
            }
        }
        (FindingKind::NullFlood, _) | (FindingKind::SchemaDrift, _) | (FindingKind::RowLoss, _) => {
            match restore::restore_replacing(ctx, &finding.location, finding).await? {
                Ok(steps) => Ok(Outcome::Repaired(steps)),
                Err(reason) => Ok(Outcome::Unrepairable { done: Vec::new(), reason: reason.0 }),
            }
        }
        (FindingKind::MissingPartition, _) => {
            Ok(Outcome::Unrepairable { done: Vec::new(), reason: "finding carries no partition evidence".into() })
        }
        // Grants are kept by `governance::Governance`, which owns the Lake Formation client.
        (FindingKind::MissingGrant, _) => Ok(Outcome::Unrepairable {
            done: Vec::new(),
            reason: "a missing grant is restored by the governance pass, not the lake playbook".into(),
        }),
        // Iceberg tables are mended by `iceberg::repair`, which reads the table's tree.
        (FindingKind::IcebergFiles, _) => Ok(Outcome::Unrepairable {
            done: Vec::new(),
            reason: "an Iceberg table's files are repaired by the Iceberg healer, not the lake playbook".into(),
        }),
    }
}
