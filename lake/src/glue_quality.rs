//! Glue Data Quality rulesets: creating (or updating) one for a table of a Glue database.
//! Emulators mostly lack the service; that is an outcome of its own, not an error.

use crate::error::{LakeError, Result};
use crate::AwsConnection;
use aws_sdk_glue::error::ProvideErrorMetadata;

/// What happened to the ruleset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesetOutcome {
    Created,
    Updated,
    /// The endpoint has no Glue Data Quality; why.
    Unsupported(String),
}

/// Whether an error says the service or operation does not exist at this endpoint: an unknown
/// operation, HTTP 404/501, "not implemented", or a server error with no AWS error in it at all
/// (moto answers an operation it lacks with an HTML page and HTTP 500; AWS always names its
/// error).
fn unsupported(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> bool {
    let message = message.unwrap_or("").to_ascii_lowercase();
    matches!(code, Some("UnknownOperationException" | "InvalidAction" | "NotImplemented"))
        || matches!(status, Some(404 | 501))
        || (code.is_none() && message.is_empty() && status.is_some_and(|s| s >= 500))
        || message.contains("not yet implemented")
        || message.contains("not implemented")
        || message.contains("not been implemented")
}

/// Creates the ruleset `name` over `database.table`, or updates its rules if it exists.
pub async fn put_ruleset(conn: &AwsConnection, name: &str, dqdl: &str, database: &str, table: &str) -> Result<RulesetOutcome> {
    let client = aws_sdk_glue::Client::new(&conn.sdk_config().await);
    let endpoint = conn.endpoint_name();
    let target = aws_sdk_glue::types::DataQualityTargetTable::builder()
        .database_name(database)
        .table_name(table)
        .build()
        .map_err(|e| LakeError::Catalog(format!("ruleset {name}: {e}")))?;
    let created = client
        .create_data_quality_ruleset()
        .name(name)
        .ruleset(dqdl)
        .target_table(target)
        .description(format!("lakehealer contract of {database}.{table}"))
        .send()
        .await;
    let e = match created {
        Ok(_) => return Ok(RulesetOutcome::Created),
        Err(e) => e,
    };
    let status = e.raw_response().map(|r| r.status().as_u16());
    if unsupported(e.code(), e.message(), status) {
        return Ok(RulesetOutcome::Unsupported(format!(
            "{endpoint} has no Glue Data Quality ({})",
            e.message().or(e.code()).map(str::to_string).unwrap_or_else(|| format!(
                "CreateDataQualityRuleset answered HTTP {} without an AWS error",
                status.map(|s| s.to_string()).unwrap_or_else(|| "?".into())
            ))
        )));
    }
    if e.code() != Some("AlreadyExistsException") {
        return Err(crate::error::sdk_error("Glue", &endpoint, format!("create data quality ruleset {name}"), e));
    }
    client
        .update_data_quality_ruleset()
        .name(name)
        .ruleset(dqdl)
        .send()
        .await
        .map_err(|e| crate::error::sdk_error("Glue", &endpoint, format!("update data quality ruleset {name}"), e))?;
    Ok(RulesetOutcome::Updated)
}

#[cfg(test)]
mod tests {
    use super::unsupported;

    #[test]
    fn a_missing_service_is_told_from_a_real_error() {
        assert!(unsupported(None, Some("The create_data_quality_ruleset action has not been implemented"), Some(500)));
        assert!(unsupported(Some("UnknownOperationException"), None, Some(400)));
        assert!(unsupported(None, None, Some(501)));
        assert!(unsupported(None, None, Some(500)), "moto: an HTML 500 page, no error code");
        assert!(!unsupported(Some("InternalServiceException"), Some("try again"), Some(500)));
        assert!(!unsupported(Some("AccessDeniedException"), Some("not authorized"), Some(403)));
        assert!(!unsupported(Some("AlreadyExistsException"), Some("exists"), Some(400)));
    }
}
