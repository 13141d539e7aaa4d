//! The governance fault: a Lake Formation grant the healer (or an engine) relies on is revoked.
//! What was actually revoked is returned so the fault can be reverted exactly; the harness checks
//! the grant itself afterwards rather than trusting the healer.

use lakechaos_lake::{Grant, LakeError, LakeFormation};

/// Revokes those of `grant`'s permissions the principal holds now; returns what was revoked.
/// Refuses (and changes nothing) when none of them is held: the fault would do nothing.
pub async fn revoke(lf: &LakeFormation, grant: &Grant) -> Result<Grant, LakeError> {
    let held = lf.permissions(&grant.principal, &grant.resource).await?;
    let revoked: Vec<String> = grant.permissions.iter().filter(|p| held.contains(p)).cloned().collect();
    if revoked.is_empty() {
        return Err(LakeError::Catalog(format!("nothing to revoke: {} holds none of {grant}", grant.principal)));
    }
    lf.revoke(&grant.principal, &grant.resource, &revoked).await?;
    Ok(Grant { permissions: revoked, ..grant.clone() })
}

/// Grants back what [`revoke`] took.
pub async fn revert(lf: &LakeFormation, revoked: &Grant) -> Result<(), LakeError> {
    lf.grant(&revoked.principal, &revoked.resource, &revoked.permissions).await
}
