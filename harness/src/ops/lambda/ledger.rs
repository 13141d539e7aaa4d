//! The incident ledger: an SQS queue subscribed to the healer's incident topic (the Terraform
//! module makes it, filtered to game-day lakes). Each scoring pass moves what is waiting there
//! into the lake each message names (`_lakechaos/incidents/<digest>.json`) before deleting the
//! message, so incidents outlive the queue's retention, a message delivered twice is kept once,
//! and scoring a lake reads only the lake. Time to detect comes from the incident's own time,
//! so it does not matter how long after the healer published it a pass collects it.

use super::injection::incidents_prefix;
use bytes::Bytes;
use lakechaos_lake::{AwsConnection, EventQueue, LakeError, ObjectStore, QueuedMessage};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// At most this many receives per pass (ten messages each): a pass that finds more leaves the
/// rest for the next one rather than outlive the function's timeout.
const MAX_RECEIVES: usize = 200;

/// What one pass did with the ledger.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Collected {
    /// Incidents kept in their game-day lake.
    pub kept: usize,
    /// Messages about no game-day lake under the prefix, or not a healer's event: dropped.
    pub dropped: usize,
}

/// Moves the ledger's messages into the game-day lakes under `s3://bucket/prefix/`.
pub async fn collect(
    conn: &AwsConnection,
    queue_url: &str,
    whole: &dyn ObjectStore,
    bucket: &str,
    prefix: &str,
) -> Result<Collected, LakeError> {
    let queue = EventQueue::connect(conn, queue_url).await?;
    let mut done = Collected::default();
    for _ in 0..MAX_RECEIVES {
        let messages = queue.receive_messages(Duration::ZERO).await?;
        if messages.is_empty() {
            break;
        }
        for message in messages {
            match game_day_incident(&message, bucket, prefix) {
                Some((root, event)) => {
                    let key = format!("{}{}.json", incidents_prefix(&root), digest(&event));
                    whole.put(&key, Bytes::from(event)).await?;
                    done.kept += 1;
                }
                None => done.dropped += 1,
            }
            queue.delete_message(&message).await?;
        }
    }
    Ok(done)
}

/// The game-day lake root (`prefix/run/scenario`) a message is about, and the healer event it
/// carries (as JSON), if it is a healer event about such a lake: published raw, or inside
/// SNS's envelope.
pub fn game_day_incident(message: &QueuedMessage, bucket: &str, prefix: &str) -> Option<(String, String)> {
    let body: serde_json::Value = serde_json::from_str(&message.body).ok()?;
    let (event_text, envelope_lake) = match body.get("Message").and_then(|m| m.as_str()) {
        Some(inner) => {
            let lake = body.pointer("/MessageAttributes/lake/Value").and_then(|v| v.as_str()).map(String::from);
            (inner.to_string(), lake)
        }
        None => (message.body.clone(), None),
    };
    let event: serde_json::Value = serde_json::from_str(&event_text).ok()?;
    serde_json::from_value::<lakehealer::events::HealerEvent>(event.clone()).ok()?;
    let lake = event.get("lake").and_then(|l| l.as_str()).map(String::from).or(envelope_lake)?;
    let root = lake.strip_prefix(&format!("s3://{bucket}/"))?.trim_end_matches('/');
    let prefix = prefix.trim_matches('/');
    let rest = root.strip_prefix(&format!("{prefix}/"))?;
    let mut parts = rest.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(run), Some(scenario), None) if !run.is_empty() && !scenario.is_empty() => {
            Some((root.to_string(), event_text))
        }
        _ => None,
    }
}

/// A name for an event's record: the same event delivered twice is kept once.
fn digest(event: &str) -> String {
    Sha256::digest(event.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: String) -> QueuedMessage {
        QueuedMessage::for_test("m-1", &body)
    }

    const EVENT: &str =
        r#"{"event":"resolved","incident":"inc-1","location":"orders/dt=1","at":"2026-01-01T00:00:00Z""#;

    #[test]
    fn an_incident_is_routed_to_the_game_day_lake_it_names() {
        let raw = format!(r#"{EVENT},"lake":"s3://b/chaos/gd-1/null-flood"}}"#);
        let (root, event) = game_day_incident(&message(raw.clone()), "b", "chaos").unwrap();
        assert_eq!(root, "chaos/gd-1/null-flood");
        assert_eq!(event, raw);
        let inner = format!(r#"{EVENT}}}"#);
        let enveloped = serde_json::json!({
            "Type": "Notification",
            "Message": inner,
            "MessageAttributes": {"lake": {"Type": "String", "Value": "s3://b/chaos/gd-2/x/"}}
        });
        let (root, _) = game_day_incident(&message(enveloped.to_string()), "b", "chaos/").unwrap();
        assert_eq!(root, "chaos/gd-2/x");
    }

    #[test]
    fn messages_about_other_lakes_or_not_events_are_not_routed() {
        for lake in [
            "s3://b/lake",
            "s3://other/chaos/gd-1/x",
            "s3://b/chaos/gd-1",
            "s3://b/chaos/gd-1/x/y",
            "s3://b/chaosx/gd/x",
        ] {
            let body = format!(r#"{EVENT},"lake":"{lake}"}}"#);
            assert!(game_day_incident(&message(body), "b", "chaos").is_none(), "{lake}");
        }
        assert!(game_day_incident(&message(format!(r#"{EVENT}}}"#)), "b", "chaos").is_none(), "no lake named");
        let not_event = r#"{"hello":"world","lake":"s3://b/chaos/gd-1/x"}"#.to_string();
        assert!(game_day_incident(&message(not_event), "b", "chaos").is_none());
        assert!(game_day_incident(&message("not json".into()), "b", "chaos").is_none());
    }

    #[test]
    fn the_same_event_gets_the_same_name() {
        assert_eq!(digest(EVENT), digest(EVENT));
        assert_ne!(digest(EVENT), digest("{}"));
    }
}
