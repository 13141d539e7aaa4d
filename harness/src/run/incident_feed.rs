//! The incidents of a healer the harness does not run (`--healer external`), as it publishes
//! them to SNS: a temporary queue subscribed to the topic for one scenario, its messages fed into
//! the same channel as the bundled healer's events. The subscription and the queue are removed
//! when the scenario is done.

use lakechaos_lake::{AwsConnection, EventQueue, Topic};
use lakehealer::events::HealerEvent;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// A running subscription.
pub(crate) struct IncidentFeed {
    topic: Topic,
    queue: EventQueue,
    subscription: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl IncidentFeed {
    /// Subscribes a queue named after the scenario to `topic_arn` and forwards every healer
    /// event published there into `tx`.
    pub(crate) async fn start(
        conn: &AwsConnection,
        topic_arn: &str,
        queue_name: &str,
        tx: mpsc::UnboundedSender<(Instant, HealerEvent)>,
    ) -> Result<IncidentFeed, lakechaos_lake::LakeError> {
        let topic = Topic::connect(conn, topic_arn).await;
        topic.check().await?;
        let queue = EventQueue::create(conn, queue_name).await?;
        queue.drain().await?;
        let subscription = topic.subscribe_queue(&queue).await?;
        let (stop, mut stopped) = watch::channel(false);
        let poller = EventQueue::connect(conn, queue.url()).await?;
        let task = tokio::spawn(async move {
            while !*stopped.borrow() {
                let bodies = tokio::select! {
                    bodies = poller.receive_raw(Duration::from_secs(1)) => bodies,
                    _ = stopped.changed() => break,
                };
                match bodies {
                    Ok(bodies) => {
                        for body in bodies {
                            // Messages that are not a healer's events are someone else's.
                            if let Some(event) = parse_event(&body) {
                                let _ = tx.send((Instant::now(), event));
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "receiving the healer's incidents failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        Ok(IncidentFeed { topic, queue, subscription, stop, task })
    }

    /// Stops forwarding, then removes the subscription and the queue.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        if let Err(e) = self.topic.unsubscribe(&self.subscription).await {
            tracing::warn!(error = %e, "could not remove the incident subscription");
        }
        if let Err(e) = self.queue.delete().await {
            tracing::warn!(error = %e, "could not delete the incident queue");
        }
    }
}

/// A healer event from a message body: as published (raw delivery), or inside SNS's envelope.
fn parse_event(body: &str) -> Option<HealerEvent> {
    if let Ok(event) = serde_json::from_str::<HealerEvent>(body) {
        return Some(event);
    }
    let envelope: serde_json::Value = serde_json::from_str(body).ok()?;
    serde_json::from_str(envelope.get("Message")?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_event;

    #[test]
    fn events_are_read_raw_or_from_the_envelope() {
        let raw = r#"{"event":"resolved","incident":"inc-1","location":"orders/dt=1","at":"2026-01-01T00:00:00Z"}"#;
        let parsed = parse_event(raw);
        assert!(parsed.is_some());
        let enveloped = serde_json::json!({"Type": "Notification", "Message": raw}).to_string();
        assert_eq!(parse_event(&enveloped), parsed);
        assert_eq!(parse_event("{\"Records\": []}"), None);
        assert_eq!(parse_event("not json"), None);
    }
}
