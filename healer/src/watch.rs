//! `watch`: heal continuously. Changes are noticed from events (file-system events on a local
//! lake, S3 event notifications from an SQS queue on S3) so detection does not wait for a poll;
//! a periodic reconcile pass catches what raises no event (a partition that never arrived,
//! catalog drift).

use crate::events::{Trigger, TriggerKind};
use crate::{Healer, HealerError};
use chrono::Utc;
use lakechaos_lake::EventQueue;
use notify::{RecursiveMode, Watcher};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Gathering window after the first event: a fault or an upload often touches several objects
/// at once, and one pass should see them together.
const DEBOUNCE: Duration = Duration::from_millis(3);

/// Runs passes until `shutdown` turns true: at start, on every relevant change, and every
/// `reconcile_every`. Pass errors are logged and retried on the next trigger.
pub async fn watch(healer: Arc<Healer>, mut shutdown: watch::Receiver<bool>) -> Result<(), HealerError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Trigger>();
    let quarantine = healer.config().quarantine_prefix.clone();
    let _watcher = match healer.lake().store.local_root() {
        Some(root) => Some(watch_dir(root, &quarantine, tx.clone())?),
        None => None,
    };
    let feed = healer.config().event_queue.clone().map(|queue| {
        let stop = shutdown.clone();
        tokio::spawn(follow_queue(queue, quarantine.clone(), tx.clone(), stop))
    });
    drop(tx);
    let mut reconcile = tokio::time::interval(healer.config().reconcile_every);
    reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    reconcile.tick().await; // the first tick is immediate: the first pass below covers it
    let mut trigger = Trigger::of(TriggerKind::Scan);
    loop {
        if let Err(e) = healer.pass_triggered(&trigger).await {
            tracing::warn!(error = %e, "pass failed; retrying on the next change");
            healer.emit(crate::events::HealerEvent::PassFailed { error: e.to_string(), at: Utc::now() });
        }
        tokio::select! {
            biased;
            // A dropped sender (its owner gone) is a shutdown too, not a change to loop on.
            changed = shutdown.changed() => if changed.is_err() { return Ok(()) },
            Some(first) = rx.recv() => {
                tokio::time::sleep(DEBOUNCE).await;
                while rx.try_recv().is_ok() {}
                trigger = first;
            }
            _ = reconcile.tick() => trigger = Trigger::of(TriggerKind::Reconcile),
        }
        if *shutdown.borrow() {
            if let Some(feed) = feed {
                feed.abort();
            }
            return Ok(());
        }
    }
}

/// Long-polls `queue` and forwards each S3 event outside quarantine as a trigger. Receive errors
/// are logged and retried after a pause: the reconcile pass still covers the lake meanwhile.
async fn follow_queue(
    queue: EventQueue,
    quarantine_prefix: String,
    tx: mpsc::UnboundedSender<Trigger>,
    mut shutdown: watch::Receiver<bool>,
) {
    let quarantine = format!("{}/", quarantine_prefix.trim_end_matches('/'));
    loop {
        let received = tokio::select! {
            _ = shutdown.changed() => return,
            r = queue.receive(Duration::from_secs(1)) => r,
        };
        match received {
            Ok(events) => {
                for event in events {
                    // Keys are full bucket keys; quarantine may sit under a lake prefix.
                    if event.key.starts_with(&quarantine) || event.key.contains(&format!("/{quarantine}")) {
                        continue;
                    }
                    tracing::debug!(key = %event.key, name = %event.name, "s3 event");
                    let trigger = Trigger {
                        via: if event.via_eventbridge { TriggerKind::EventBridge } else { TriggerKind::S3Event },
                        key: Some(event.key),
                        event_time: Some(event.time.unwrap_or_else(Utc::now)),
                    };
                    if tx.send(trigger).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, queue = queue.url(), "receiving S3 events failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Subscribes to file-system events under `root`, forwarding paths that may be lake data or
/// catalog (not quarantine, not in-flight temporary files).
fn watch_dir(
    root: &Path,
    quarantine_prefix: &str,
    tx: mpsc::UnboundedSender<Trigger>,
) -> Result<notify::RecommendedWatcher, HealerError> {
    let root_dir = root.to_path_buf();
    let quarantine = root.join(quarantine_prefix);
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        for path in event.paths {
            let in_flight = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".lakechaos-tmp-"));
            if !in_flight && !path.starts_with(&quarantine) {
                let key = path.strip_prefix(&root_dir).unwrap_or(&path).display().to_string();
                let _ = tx.send(Trigger { via: TriggerKind::FsEvent, key: Some(key), event_time: Some(Utc::now()) });
            }
        }
    })
    .map_err(|e| HealerError::Watch(e.to_string()))?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .map_err(|e| HealerError::Watch(format!("{}: {e}", root.display())))?;
    Ok(watcher)
}
