//! Publishing healer events to an SNS topic, so on-call tooling hears of every incident and
//! repair. Publishing happens on its own task, in order, so a slow topic never slows healing.

use crate::events::{EventSink, HealerEvent};
use lakechaos_lake::Topic;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The subject and the `event` message attribute of an event worth publishing; `None` for
/// scan bookkeeping.
pub fn subject_of(event: &HealerEvent) -> Option<(&'static str, &'static str)> {
    match event {
        HealerEvent::Incident { .. } => Some(("lakehealer incident", "incident")),
        HealerEvent::Repair { .. } => Some(("lakehealer repair", "repair")),
        HealerEvent::Unrepairable { .. } => Some(("lakehealer unrepairable", "unrepairable")),
        HealerEvent::Resolved { .. } => Some(("lakehealer resolved", "resolved")),
        HealerEvent::Crawler { .. } => Some(("lakehealer crawler", "crawler")),
        HealerEvent::Scan { .. } | HealerEvent::PassFailed { .. } => None,
    }
}

/// A sink publishing incidents, repairs, unrepairable and resolved events to `topic` as JSON
/// (the event as [`HealerEvent`] serialises it), with an `event` message attribute for
/// subscription filters. The returned task ends once every clone of the sink is dropped and
/// the queue is drained: await it to be sure everything was published.
pub fn sns_sink(topic: Topic) -> (EventSink, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<HealerEvent>();
    let task = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let Some((subject, kind)) = subject_of(&event) else { continue };
            let body = match serde_json::to_string(&event) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot serialise event for SNS");
                    continue;
                }
            };
            if let Err(e) = topic.publish(subject, &body, &[("event", kind)]).await {
                tracing::warn!(error = %e, topic = topic.arn(), "publishing to SNS failed");
            }
        }
    });
    let sink: EventSink = Arc::new(move |event| {
        if subject_of(&event).is_some() {
            let _ = tx.send(event);
        }
    });
    (sink, task)
}

/// A sink that hands every event to each of `sinks` in turn.
pub fn fanout(sinks: Vec<EventSink>) -> EventSink {
    Arc::new(move |event: HealerEvent| {
        for sink in &sinks {
            sink(event.clone());
        }
    })
}
