//! Lake Formation grants: the permissions a principal holds on a database, a table or a data
//! location, read, granted and revoked through aws-sdk-lakeformation. The healer keeps a
//! declared set of grants in place with it; the governance fault revokes one.

use crate::error::{sdk_error, LakeError, Result};
use crate::AwsConnection;
use aws_sdk_lakeformation::types::{
    DataLakePrincipal, DataLocationResource, DatabaseResource, Permission, Resource, TableResource,
};
use serde::{Deserialize, Serialize};

/// What a grant is on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LfResource {
    Database { name: String },
    Table { database: String, name: String },
    DataLocation { arn: String },
}

impl std::fmt::Display for LfResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LfResource::Database { name } => write!(f, "database {name}"),
            LfResource::Table { database, name } => write!(f, "table {database}.{name}"),
            LfResource::DataLocation { arn } => write!(f, "data location {arn}"),
        }
    }
}

/// One grant: permissions of a principal (an IAM role or user ARN) on a resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub principal: String,
    pub resource: LfResource,
    /// `SELECT`, `DESCRIBE`, `ALTER`, `INSERT`, `DELETE`, `CREATE_TABLE`, `DATA_LOCATION_ACCESS`, ...
    pub permissions: Vec<String>,
}

impl Grant {
    /// Where damage to this grant is located in incidents and ground truth:
    /// `lakeformation/<resource>/<principal>`.
    pub fn location(&self) -> String {
        format!("lakeformation/{}/{}", self.resource, self.principal)
    }
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {} for {}", self.permissions.join(","), self.resource, self.principal)
    }
}

/// A Lake Formation client.
#[derive(Clone, Debug)]
pub struct LakeFormation {
    client: aws_sdk_lakeformation::Client,
    endpoint: String,
}

fn principal(arn: &str) -> DataLakePrincipal {
    DataLakePrincipal::builder().data_lake_principal_identifier(arn).build()
}

fn resource(r: &LfResource) -> Result<Resource> {
    let invalid = |e: aws_sdk_lakeformation::error::BuildError| LakeError::Catalog(format!("{r}: {e}"));
    Ok(match r {
        LfResource::Database { name } => {
            Resource::builder().database(DatabaseResource::builder().name(name).build().map_err(invalid)?).build()
        }
        LfResource::Table { database, name } => Resource::builder()
            .table(TableResource::builder().database_name(database).name(name).build().map_err(invalid)?)
            .build(),
        LfResource::DataLocation { arn } => Resource::builder()
            .data_location(DataLocationResource::builder().resource_arn(arn).build().map_err(invalid)?)
            .build(),
    })
}

/// Whether a listed resource is `wanted` (the filter is also applied here: an emulator may
/// return more than asked).
fn same_resource(listed: Option<&Resource>, wanted: &LfResource) -> bool {
    let Some(listed) = listed else { return false };
    match wanted {
        LfResource::Database { name } => listed.database.as_ref().is_some_and(|d| &d.name == name),
        LfResource::Table { database, name } => listed
            .table
            .as_ref()
            .is_some_and(|t| &t.database_name == database && t.name.as_deref() == Some(name.as_str())),
        LfResource::DataLocation { arn } => listed.data_location.as_ref().is_some_and(|d| &d.resource_arn == arn),
    }
}

impl LakeFormation {
    pub async fn connect(conn: &AwsConnection) -> LakeFormation {
        LakeFormation {
            client: aws_sdk_lakeformation::Client::new(&conn.sdk_config().await),
            endpoint: conn.endpoint_name(),
        }
    }

    /// The permissions `principal` holds on `on`, sorted.
    pub async fn permissions(&self, principal_arn: &str, on: &LfResource) -> Result<Vec<String>> {
        let mut held = std::collections::BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_permissions()
                .principal(principal(principal_arn))
                .resource(resource(on)?)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| sdk_error("Lake Formation", &self.endpoint, format!("list permissions on {on}"), e))?;
            for p in page.principal_resource_permissions() {
                let who = p.principal.as_ref().and_then(|x| x.data_lake_principal_identifier.as_deref());
                if who == Some(principal_arn) && same_resource(p.resource.as_ref(), on) {
                    held.extend(p.permissions().iter().map(|x| x.as_str().to_string()));
                }
            }
            token = page.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(held.into_iter().collect());
            }
        }
    }

    /// Grants `permissions` on `on` to `principal`.
    pub async fn grant(&self, principal_arn: &str, on: &LfResource, permissions: &[String]) -> Result<()> {
        self.client
            .grant_permissions()
            .principal(principal(principal_arn))
            .resource(resource(on)?)
            .set_permissions(Some(permissions.iter().map(|p| Permission::from(p.as_str())).collect()))
            .send()
            .await
            .map_err(|e| sdk_error("Lake Formation", &self.endpoint, format!("grant {permissions:?} on {on}"), e))?;
        Ok(())
    }

    /// Revokes `permissions` on `on` from `principal`.
    pub async fn revoke(&self, principal_arn: &str, on: &LfResource, permissions: &[String]) -> Result<()> {
        self.client
            .revoke_permissions()
            .principal(principal(principal_arn))
            .resource(resource(on)?)
            .set_permissions(Some(permissions.iter().map(|p| Permission::from(p.as_str())).collect()))
            .send()
            .await
            .map_err(|e| sdk_error("Lake Formation", &self.endpoint, format!("revoke {permissions:?} on {on}"), e))?;
        Ok(())
    }

    /// What of `grant` is missing, sorted (empty: all held).
    pub async fn missing(&self, grant: &Grant) -> Result<Vec<String>> {
        let held = self.permissions(&grant.principal, &grant.resource).await?;
        let mut missing: Vec<String> = grant.permissions.iter().filter(|p| !held.contains(p)).cloned().collect();
        missing.sort();
        missing.dedup();
        Ok(missing)
    }
}
