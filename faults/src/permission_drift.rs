//! Permission drift: a Lake Formation grant the lake relies on is revoked (a hand edit in the
//! console, an over-eager clean-up, a Terraform run from an old branch). The data stays whole;
//! what breaks is who may read or repair it. The grant must be one the lake's declared policy
//! names, so a healer keeping that policy can put it back.

use crate::select::Selection;
use crate::{Change, Fault, FaultClass, FaultContext, FaultError, FaultPlan, Footprint, GroundTruth, InvalidParameter};
use lakechaos_lake::{Grant, LfResource};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// `kind: permission_drift`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionDrift {
    /// The principal (role or user ARN) whose declared grant loses permissions (default: drawn
    /// among the declared grants' principals).
    #[serde(default)]
    pub principal: Option<String>,
    /// The permissions revoked, e.g. `[ALTER, INSERT]` (default: one drawn from what the grant
    /// holds). Only those the principal holds now are revoked, and journaled.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
}

#[async_trait::async_trait]
impl Fault for PermissionDrift {
    fn class(&self) -> FaultClass {
        FaultClass::PermissionDrift
    }

    fn mode(&self) -> String {
        "revoke".into()
    }

    fn footprint(&self) -> Option<Footprint> {
        None
    }

    fn validate(&self) -> Result<(), InvalidParameter> {
        match &self.permissions {
            Some(p) if p.is_empty() => Err(InvalidParameter::new("permissions must name at least one permission")),
            Some(p) if p.iter().any(|x| x.is_empty() || !x.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')) => {
                Err(InvalidParameter::new("permissions are Lake Formation names in capitals, e.g. [SELECT, ALTER]"))
            }
            Some(_) | None
                if self
                    .principal
                    .as_deref()
                    .is_some_and(|p| !p.starts_with("arn:") || p.len() > 2048 || p.chars().any(char::is_control)) =>
            {
                Err(InvalidParameter::new("principal: expected an IAM role or user ARN (arn:...)"))
            }
            _ => Ok(()),
        }
    }

    fn needs_lake_formation(&self) -> bool {
        true
    }

    fn postgres_skip_reason(&self) -> Option<String> {
        Some("Lake Formation grants have no meaning on PostgreSQL, whose own GRANTs are another system".into())
    }

    async fn plan(&self, ctx: &mut FaultContext<'_>) -> Result<FaultPlan, FaultError> {
        let lf = crate::governance(ctx.lake)?;
        let candidates: Vec<&Grant> =
            ctx.grants.iter().filter(|g| self.principal.as_ref().is_none_or(|p| &g.principal == p)).collect();
        if candidates.is_empty() {
            return Err(FaultError::NotApplicable(match &self.principal {
                Some(p) => format!("the lake's declared grant policy names no grant for {p}"),
                None => "the lake declares no grants to revoke".into(),
            }));
        }
        let declared = candidates[ctx.rng.random_range(0..candidates.len())];
        let held = lf.permissions(&declared.principal, &declared.resource).await?;
        let revocable: Vec<String> = declared.permissions.iter().filter(|p| held.contains(p)).cloned().collect();
        let revoke: Vec<String> = match &self.permissions {
            Some(wanted) => wanted.iter().filter(|p| revocable.contains(p)).cloned().collect(),
            None if revocable.is_empty() => Vec::new(),
            None => vec![revocable[ctx.rng.random_range(0..revocable.len())].clone()],
        };
        if revoke.is_empty() {
            return Err(FaultError::NotApplicable(format!(
                "nothing to revoke: {} holds none of the chosen permissions of {declared}",
                declared.principal
            )));
        }
        let table = match &declared.resource {
            LfResource::Table { name, .. } | LfResource::Database { name } => name.clone(),
            LfResource::DataLocation { arn } => arn.clone(),
        };
        let revoked = Grant { permissions: revoke, ..declared.clone() };
        Ok(FaultPlan {
            ground_truth: GroundTruth {
                kind: FaultClass::PermissionDrift,
                mode: self.mode(),
                table,
                partitions: Vec::new(),
                files: Vec::new(),
                columns: Vec::new(),
                catalog: Vec::new(),
                grants: vec![declared.location()],
                rows_affected: 0,
                detail: format!("revoked {revoked}"),
            },
            changes: vec![Change::Revoke { grant: revoked }],
        })
    }

    fn examples(_select: &Selection) -> Vec<PermissionDrift> {
        vec![PermissionDrift::default()]
    }
}
