//! S3 events through EventBridge, as the Terraform module routes them: the bucket sends its
//! events to EventBridge, and a rule matching the bucket's "Object Created" / "Object Deleted"
//! events delivers them to the healer's queue (the healer reads both formats).

use crate::error::{sdk_error, Result};
use crate::{AwsConnection, EventQueue};

/// The rule's name for `bucket`.
pub fn rule_name(bucket: &str) -> String {
    format!("lakechaos-{bucket}-objects").chars().take(64).collect()
}

/// The event pattern of the rule: this bucket's object events.
pub fn event_pattern(bucket: &str) -> String {
    serde_json::json!({
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {"bucket": {"name": [bucket]}},
    })
    .to_string()
}

/// Turns on EventBridge delivery for `bucket` and routes its object events to `queue` through a
/// rule on the default event bus.
pub async fn route_bucket_through_eventbridge(conn: &AwsConnection, bucket: &str, queue: &EventQueue) -> Result<()> {
    use aws_sdk_s3::types::{EventBridgeConfiguration, NotificationConfiguration};
    let sdk = conn.sdk_config().await;
    let endpoint = conn.endpoint_name();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk).force_path_style(conn.endpoint_url.is_some()).build(),
    );
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .event_bridge_configuration(EventBridgeConfiguration::builder().build())
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_error("S3", &endpoint, format!("send the events of bucket {bucket} to EventBridge"), e))?;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let rule = rule_name(bucket);
    events
        .put_rule()
        .name(&rule)
        .event_pattern(event_pattern(bucket))
        .description(format!("object events of s3://{bucket} to the healer's queue"))
        .send()
        .await
        .map_err(|e| sdk_error("EventBridge", &endpoint, format!("put rule {rule}"), e))?;
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("healer-queue")
        .arn(queue.arn())
        .build()
        .map_err(|e| crate::LakeError::Remote {
            service: "EventBridge",
            endpoint: endpoint.clone(),
            message: format!("target of rule {rule}: {e}"),
        })?;
    let put = events
        .put_targets()
        .rule(&rule)
        .targets(target)
        .send()
        .await
        .map_err(|e| sdk_error("EventBridge", &endpoint, format!("put the targets of rule {rule}"), e))?;
    if put.failed_entry_count() > 0 {
        return Err(crate::LakeError::Remote {
            service: "EventBridge",
            endpoint,
            message: format!("rule {rule}: the queue {} was not added as its target", queue.arn()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_matches_only_this_buckets_object_events() {
        let pattern: serde_json::Value = serde_json::from_str(&event_pattern("lake-a")).unwrap();
        assert_eq!(pattern["detail"]["bucket"]["name"][0], "lake-a");
        assert_eq!(pattern["source"][0], "aws.s3");
        assert!(rule_name(&"b".repeat(80)).len() <= 64);
    }
}
