//! Governance: the Lake Formation grants the healer relies on (and that engines need to read
//! the lake), declared in a policy file and kept in place. A grant whose permissions are no
//! longer all held raises a `missing_grant` incident; in heal mode the missing permissions are
//! granted again from the policy, then checked. The healer only adds what the policy declares:
//! it never revokes anything, declared or not.
//!
//! The policy (YAML):
//! ```yaml
//! grants:
//!   - principal: arn:aws:iam::123456789012:role/lakehouse-staging-healer
//!     resource: { table: { database: lakehouse_staging_lake, name: orders } }
//!     permissions: [SELECT, DESCRIBE, ALTER, INSERT, DELETE]
//!   - principal: arn:aws:iam::123456789012:role/analysts
//!     resource: { database: { name: lakehouse_staging_lake } }
//!     permissions: [DESCRIBE]
//! ```

use crate::events::{EventSink, HealerEvent, RepairAction, Trigger, TriggerKind};
use crate::finding::{Evidence, Finding, FindingKind, Tier};
use crate::{HealerError, Mode};
use chrono::Utc;
use lakechaos_lake::{AwsConnection, Grant, LakeFormation, LfResource};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tokio::sync::Mutex;

/// The declared grants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub grants: Vec<Grant>,
}

impl Policy {
    /// Reads a policy file; errors name the file, line and column.
    pub fn load(path: &Path) -> Result<Policy, HealerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| HealerError::Invalid(format!("policy {}: {e}", path.display())))?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// A policy from YAML or JSON text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, HealerError> {
        let policy: Policy =
            serde_saphyr::from_str(text).map_err(|e| HealerError::Invalid(format!("policy {origin}: {e}")))?;
        if let Some(g) = policy.grants.iter().find(|g| g.permissions.is_empty() || g.principal.is_empty()) {
            return Err(HealerError::Invalid(format!(
                "policy {origin}: the grant on {} needs a principal and at least one permission",
                g.resource
            )));
        }
        Ok(policy)
    }
}

/// What one governance pass did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GovernanceReport {
    pub findings: usize,
    pub new_incidents: usize,
    pub repaired: usize,
    pub unrepairable: usize,
}

/// Keeps a policy's grants in place.
pub struct Governance {
    lf: LakeFormation,
    policy: Policy,
    /// Named as the source of every re-grant (the policy file).
    source: String,
    open: Mutex<(HashMap<String, String>, u64)>,
}

/// Where a grant's incident is: its resource and principal (see [`Grant::location`]).
pub fn location_of(grant: &Grant) -> String {
    grant.location()
}

fn table_of(resource: &LfResource) -> String {
    match resource {
        LfResource::Table { name, .. } => name.clone(),
        LfResource::Database { name } => name.clone(),
        LfResource::DataLocation { arn } => arn.clone(),
    }
}

impl Governance {
    pub fn new(lf: LakeFormation, policy: Policy, source: impl Into<String>) -> Governance {
        Governance { lf, policy, source: source.into(), open: Mutex::new((HashMap::new(), 0)) }
    }

    /// Loads the policy at `path`; Lake Formation through `conn`.
    pub async fn load(path: &Path, conn: &AwsConnection) -> Result<Governance, HealerError> {
        let policy = Policy::load(path)?;
        Ok(Governance::new(LakeFormation::connect(conn).await, policy, format!("policy {}", path.display())))
    }

    /// From a setting that is either the policy itself (JSON, as Terraform renders it into the
    /// function's environment) or the path of a policy file.
    pub async fn from_setting(setting: &str, conn: &AwsConnection) -> Result<Governance, HealerError> {
        if setting.trim_start().starts_with('{') {
            let policy = Policy::parse(setting, "LAKEHEALER_LF_POLICY")?;
            return Ok(Governance::new(LakeFormation::connect(conn).await, policy, "the declared grant policy"));
        }
        Governance::load(Path::new(setting), conn).await
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// One finding per declared grant whose permissions are not all held.
    pub async fn check(&self) -> Result<Vec<Finding>, HealerError> {
        let mut out = Vec::new();
        for grant in &self.policy.grants {
            let missing = self.lf.missing(grant).await?;
            if missing.is_empty() {
                continue;
            }
            out.push(Finding {
                kind: FindingKind::MissingGrant,
                table: table_of(&grant.resource),
                location: location_of(grant),
                tier: Tier::Listing,
                message: format!("{} lacks {} on {}", grant.principal, missing.join(","), grant.resource),
                evidence: Evidence::Grant {
                    principal: grant.principal.clone(),
                    resource: grant.resource.to_string(),
                    missing,
                },
            });
        }
        Ok(out)
    }

    /// Checks every grant, raises an incident per missing one (once), re-grants in heal mode
    /// and checks again, and resolves incidents whose grant is whole.
    pub async fn pass(&self, mode: Mode, sink: &EventSink) -> Result<GovernanceReport, HealerError> {
        let findings = self.check().await?;
        let mut report = GovernanceReport { findings: findings.len(), ..Default::default() };
        let mut open = self.open.lock().await;
        let mut regranted = std::collections::HashSet::new();
        for finding in &findings {
            let id = match open.0.get(&finding.location) {
                Some(id) => id.clone(),
                None => {
                    open.1 += 1;
                    let id = format!("grant-{}", open.1);
                    sink(HealerEvent::incident(&id, finding, &Trigger::of(TriggerKind::Reconcile)));
                    report.new_incidents += 1;
                    open.0.insert(finding.location.clone(), id.clone());
                    id
                }
            };
            if mode == Mode::DetectOnly {
                continue;
            }
            let Some(grant) = self.policy.grants.iter().find(|g| location_of(g) == finding.location) else { continue };
            let Evidence::Grant { missing, .. } = &finding.evidence else { continue };
            let outcome = match self.lf.grant(&grant.principal, &grant.resource, missing).await {
                Ok(()) => self.lf.missing(grant).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(still) if still.is_empty() => {
                    sink(HealerEvent::Repair {
                        incident: id.clone(),
                        action: RepairAction::Regrant,
                        location: finding.location.clone(),
                        source: self.source.clone(),
                        at: Utc::now(),
                    });
                    report.repaired += 1;
                    regranted.insert(finding.location.clone());
                }
                Ok(still) => {
                    report.unrepairable += 1;
                    sink(HealerEvent::Unrepairable {
                        incident: id.clone(),
                        location: finding.location.clone(),
                        reason: format!("granted, but {} still not held", still.join(",")),
                        at: Utc::now(),
                    });
                }
                Err(reason) => {
                    report.unrepairable += 1;
                    sink(HealerEvent::Unrepairable {
                        incident: id.clone(),
                        location: finding.location.clone(),
                        reason,
                        at: Utc::now(),
                    });
                }
            }
        }
        // Resolve what is whole now: not found missing by this pass's check, or re-granted.
        let whole: Vec<String> = open
            .0
            .keys()
            .filter(|loc| regranted.contains(*loc) || !findings.iter().any(|f| &f.location == *loc))
            .cloned()
            .collect();
        for location in whole {
            if let Some(id) = open.0.remove(&location) {
                sink(HealerEvent::Resolved { incident: id, location, at: Utc::now() });
            }
        }
        Ok(report)
    }

    /// Passes every `every` until `shutdown` turns true (`lakehealer watch --lf-policy`). A
    /// failed pass is reported as `PassFailed` and retried on the next tick.
    pub async fn keep(
        &self,
        mode: Mode,
        sink: EventSink,
        every: std::time::Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.pass(mode, &sink).await {
                tracing::warn!(error = %e, "grant pass failed; retrying on the next tick");
                sink(HealerEvent::PassFailed { error: format!("lakeformation: {e}"), at: Utc::now() });
            }
        }
    }
}
