//! Change notifications and alerts on AWS: an SQS queue that receives a bucket's S3 event
//! notifications (directly, or through EventBridge), and an SNS topic the healer publishes its
//! incidents and repairs to. Both work the same against AWS, moto and LocalStack.

use crate::error::sdk_error;
use crate::s3_store::AwsConnection;
use crate::Result;
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::time::Duration;

/// One object change reported by S3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectEvent {
    pub bucket: String,
    /// The full object key (URL-decoded).
    pub key: String,
    /// `ObjectCreated:Put`, `ObjectRemoved:DeleteMarkerCreated`, `Object Created`, ...
    pub name: String,
    /// When S3 says the change happened.
    pub time: Option<DateTime<Utc>>,
    /// Whether it came through EventBridge (else as an S3 event notification).
    pub via_eventbridge: bool,
}

/// A message received and not yet deleted.
#[derive(Clone, Debug)]
pub struct QueuedMessage {
    pub id: String,
    pub body: String,
    receipt: String,
}

impl QueuedMessage {
    /// A message as a queue would hand it over, for tests of what reads messages.
    pub fn for_test(id: &str, body: &str) -> QueuedMessage {
        QueuedMessage { id: id.into(), body: body.into(), receipt: String::new() }
    }
}

/// An SQS queue carrying S3 event notifications.
#[derive(Clone, Debug)]
pub struct EventQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    arn: String,
    endpoint: String,
}

impl EventQueue {
    /// Creates the queue (idempotent) with a policy that lets S3, EventBridge and SNS deliver to it.
    pub async fn create(conn: &AwsConnection, name: &str) -> Result<EventQueue> {
        let client = aws_sdk_sqs::Client::new(&conn.sdk_config().await);
        let endpoint = conn.endpoint_name();
        let url = client
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("SQS", &endpoint, format!("create queue {name}"), e))?
            .queue_url
            .unwrap_or_default();
        let queue = Self::with_url(client, url, endpoint).await?;
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "lakechaos-s3-events",
                "Effect": "Allow",
                "Principal": {"Service": ["s3.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com"]},
                "Action": "sqs:SendMessage",
                "Resource": queue.arn,
            }]
        });
        queue
            .client
            .set_queue_attributes()
            .queue_url(&queue.url)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .map_err(|e| sdk_error("SQS", &queue.endpoint, format!("set policy of {}", queue.url), e))?;
        Ok(queue)
    }

    /// An existing queue, by URL.
    pub async fn connect(conn: &AwsConnection, url: &str) -> Result<EventQueue> {
        let client = aws_sdk_sqs::Client::new(&conn.sdk_config().await);
        Self::with_url(client, url.to_string(), conn.endpoint_name()).await
    }

    async fn with_url(client: aws_sdk_sqs::Client, url: String, endpoint: String) -> Result<EventQueue> {
        let attrs = client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| sdk_error("SQS", &endpoint, format!("get attributes of {url}"), e))?;
        let arn = attrs.attributes().and_then(|a| a.get(&QueueAttributeName::QueueArn)).cloned().unwrap_or_default();
        Ok(EventQueue { client, url, arn, endpoint })
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The queue ARN (what S3 notifications and SNS subscriptions name).
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// Raw message bodies, waiting up to `wait` (long polling) for the first; each message
    /// returned is deleted from the queue.
    pub async fn receive_raw(&self, wait: Duration) -> Result<Vec<String>> {
        let mut bodies = Vec::new();
        for message in self.receive_messages(wait).await? {
            self.delete_message(&message).await?;
            bodies.push(message.body);
        }
        Ok(bodies)
    }

    /// Messages waiting now (up to ten, long-polling up to `wait` for the first), left on the
    /// queue: a reader that must keep what a message says before letting it go deletes each
    /// with [`EventQueue::delete_message`] once kept (unkept, it comes back after the queue's
    /// visibility timeout).
    pub async fn receive_messages(&self, wait: Duration) -> Result<Vec<QueuedMessage>> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .send()
            .await
            .map_err(|e| sdk_error("SQS", &self.endpoint, format!("receive from {}", self.url), e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(QueuedMessage {
                    id: m.message_id()?.to_string(),
                    body: m.body().unwrap_or_default().to_string(),
                    receipt: m.receipt_handle()?.to_string(),
                })
            })
            .collect())
    }

    /// Deletes a message received with [`EventQueue::receive_messages`].
    pub async fn delete_message(&self, message: &QueuedMessage) -> Result<()> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt)
            .send()
            .await
            .map_err(|e| sdk_error("SQS", &self.endpoint, format!("delete from {}", self.url), e))?;
        Ok(())
    }

    /// Deletes the queue.
    pub async fn delete(&self) -> Result<()> {
        self.client
            .delete_queue()
            .queue_url(&self.url)
            .send()
            .await
            .map_err(|e| sdk_error("SQS", &self.endpoint, format!("delete queue {}", self.url), e))?;
        Ok(())
    }

    /// Receives and drops whatever is queued now; returns how many messages that was.
    pub async fn drain(&self) -> Result<usize> {
        let mut dropped = 0;
        loop {
            let batch = self.receive_raw(Duration::ZERO).await?;
            if batch.is_empty() {
                return Ok(dropped);
            }
            dropped += batch.len();
        }
    }

    /// Object events, waiting up to `wait` for the first message. Messages that are not S3
    /// events (such as the test event S3 sends when notifications are configured) are dropped.
    pub async fn receive(&self, wait: Duration) -> Result<Vec<ObjectEvent>> {
        Ok(self.receive_raw(wait).await?.iter().flat_map(|b| parse_s3_events(b)).collect())
    }
}

/// Turns on S3 event notifications (created and removed objects) from `bucket` to `queue`.
pub async fn notify_bucket_to_queue(conn: &AwsConnection, bucket: &str, queue: &EventQueue) -> Result<()> {
    use aws_sdk_s3::types::{Event, NotificationConfiguration, QueueConfiguration};
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conn.sdk_config().await)
            .force_path_style(conn.endpoint_url.is_some())
            .build(),
    );
    let endpoint = conn.endpoint_name();
    let queue_config = QueueConfiguration::builder()
        .id("lakechaos-healer")
        .queue_arn(queue.arn())
        .events(Event::from("s3:ObjectCreated:*"))
        .events(Event::from("s3:ObjectRemoved:*"))
        .build()
        .map_err(|e| crate::LakeError::Remote {
            service: "S3",
            endpoint: endpoint.clone(),
            message: format!("notification configuration: {e}"),
        })?;
    client
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue_config).build())
        .send()
        .await
        .map_err(|e| sdk_error("S3", &endpoint, format!("configure notifications of bucket {bucket}"), e))?;
    Ok(())
}

#[derive(Deserialize)]
struct S3Notification {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
}

#[derive(Deserialize)]
struct S3Record {
    #[serde(rename = "eventName")]
    event_name: String,
    #[serde(rename = "eventTime")]
    event_time: Option<String>,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Named,
    object: Keyed,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Keyed {
    key: String,
}

#[derive(Deserialize)]
struct EventBridgeEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
    time: Option<String>,
    detail: EventBridgeDetail,
}

#[derive(Deserialize)]
struct EventBridgeDetail {
    bucket: Named,
    object: Keyed,
}

/// Parses an SQS message body holding S3 events: the S3 notification format (keys are
/// URL-encoded, `+` for space) or the EventBridge format (keys as they are). Anything else
/// yields nothing.
pub fn parse_s3_events(body: &str) -> Vec<ObjectEvent> {
    if let Ok(n) = serde_json::from_str::<S3Notification>(body) {
        if !n.records.is_empty() {
            return n
                .records
                .into_iter()
                .map(|r| ObjectEvent {
                    bucket: r.s3.bucket.name,
                    key: decode_key(&r.s3.object.key),
                    name: r.event_name,
                    time: r.event_time.as_deref().and_then(parse_time),
                    via_eventbridge: false,
                })
                .collect();
        }
    }
    match serde_json::from_str::<EventBridgeEvent>(body) {
        Ok(e) => vec![ObjectEvent {
            bucket: e.detail.bucket.name,
            key: e.detail.object.key,
            name: e.detail_type,
            time: e.time.as_deref().and_then(parse_time),
            via_eventbridge: true,
        }],
        Err(_) => Vec::new(),
    }
}

/// An event time: RFC 3339, or without a zone (moto writes `2026-11-29T00:30:04.182659`), read
/// as UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
}

fn decode_key(key: &str) -> String {
    let plus_as_space = key.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space).decode_utf8_lossy().into_owned()
}

/// An SNS topic.
#[derive(Clone, Debug)]
pub struct Topic {
    client: aws_sdk_sns::Client,
    arn: String,
    endpoint: String,
}

impl Topic {
    /// Creates the topic (idempotent).
    pub async fn create(conn: &AwsConnection, name: &str) -> Result<Topic> {
        let client = aws_sdk_sns::Client::new(&conn.sdk_config().await);
        let endpoint = conn.endpoint_name();
        let arn = client
            .create_topic()
            .name(name)
            .send()
            .await
            .map_err(|e| sdk_error("SNS", &endpoint, format!("create topic {name}"), e))?
            .topic_arn
            .unwrap_or_default();
        Ok(Topic { client, arn, endpoint })
    }

    /// An existing topic, by ARN.
    pub async fn connect(conn: &AwsConnection, arn: &str) -> Topic {
        Topic {
            client: aws_sdk_sns::Client::new(&conn.sdk_config().await),
            arn: arn.into(),
            endpoint: conn.endpoint_name(),
        }
    }

    /// The topic ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// Checks that the topic exists and answers (`GetTopicAttributes`), before anything relies
    /// on publishing to it.
    pub async fn check(&self) -> Result<()> {
        self.client
            .get_topic_attributes()
            .topic_arn(&self.arn)
            .send()
            .await
            .map_err(|e| sdk_error("SNS", &self.endpoint, format!("topic {}", self.arn), e))?;
        Ok(())
    }

    /// Publishes `message` with a subject and one string message attribute per `attributes` entry.
    pub async fn publish(&self, subject: &str, message: &str, attributes: &[(&str, &str)]) -> Result<()> {
        use aws_sdk_sns::types::MessageAttributeValue;
        let mut request = self.client.publish().topic_arn(&self.arn).subject(subject).message(message);
        for (name, value) in attributes {
            let value =
                MessageAttributeValue::builder().data_type("String").string_value(*value).build().map_err(|e| {
                    crate::LakeError::Remote { service: "SNS", endpoint: self.endpoint.clone(), message: e.to_string() }
                })?;
            request = request.message_attributes(*name, value);
        }
        request.send().await.map_err(|e| sdk_error("SNS", &self.endpoint, format!("publish to {}", self.arn), e))?;
        Ok(())
    }

    /// Subscribes `queue` with raw message delivery (the queue receives the message as published);
    /// returns the subscription's ARN.
    pub async fn subscribe_queue(&self, queue: &EventQueue) -> Result<String> {
        let out = self
            .client
            .subscribe()
            .topic_arn(&self.arn)
            .protocol("sqs")
            .endpoint(queue.arn())
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .map_err(|e| sdk_error("SNS", &self.endpoint, format!("subscribe {} to {}", queue.arn(), self.arn), e))?;
        Ok(out.subscription_arn.unwrap_or_default())
    }

    /// Removes a subscription made by [`Topic::subscribe_queue`].
    pub async fn unsubscribe(&self, subscription_arn: &str) -> Result<()> {
        self.client
            .unsubscribe()
            .subscription_arn(subscription_arn)
            .send()
            .await
            .map_err(|e| sdk_error("SNS", &self.endpoint, format!("unsubscribe {subscription_arn}"), e))?;
        Ok(())
    }
}

/// The AWS account the caller's credentials belong to (STS `GetCallerIdentity`).
pub async fn caller_account(conn: &AwsConnection) -> Result<String> {
    let client = aws_sdk_sts::Client::new(&conn.sdk_config().await);
    let endpoint = conn.endpoint_name();
    let out =
        client.get_caller_identity().send().await.map_err(|e| sdk_error("STS", &endpoint, "get caller identity", e))?;
    Ok(out.account.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_notifications_with_encoded_keys() {
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
            "eventTime":"2026-11-29T00:00:01.250Z","s3":{"bucket":{"name":"lake"},
            "object":{"key":"orders/dt%3D2026-01-01/part+0.parquet","size":10}}}]}"#;
        let events = parse_s3_events(body);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].key, "orders/dt=2026-01-01/part 0.parquet");
        assert_eq!(events[0].bucket, "lake");
        assert_eq!(events[0].name, "ObjectCreated:Put");
        assert!(events[0].time.is_some());
    }

    #[test]
    fn reads_zoneless_event_times_as_utc() {
        let body = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventTime": "2026-11-29T00:30:04.182659",
            "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "bucket1"}, "object": {"key": "a%2Fdt%3D1%2Fx.parquet"}}}]}"#;
        let events = parse_s3_events(body);
        assert_eq!(events[0].key, "a/dt=1/x.parquet");
        assert_eq!(events[0].time.unwrap().to_rfc3339(), "2026-11-29T00:30:04.182659+00:00");
    }

    #[test]
    fn parses_eventbridge_events() {
        let body = r#"{"version":"0","detail-type":"Object Deleted","source":"aws.s3","time":"2026-11-29T00:00:01Z",
            "detail":{"bucket":{"name":"lake"},"object":{"key":"orders/dt=2026-01-01/a.parquet"}}}"#;
        let events = parse_s3_events(body);
        assert_eq!(events[0].key, "orders/dt=2026-01-01/a.parquet");
        assert_eq!(events[0].name, "Object Deleted");
    }

    #[test]
    fn ignores_test_events_and_garbage() {
        assert!(parse_s3_events(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"lake"}"#).is_empty());
        assert!(parse_s3_events("not json").is_empty());
    }
}
