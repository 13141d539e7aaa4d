//! `watch`: heal continuously. Changes are noticed from events (file-system events on a local
//! lake, as S3 event notifications will be elsewhere) so detection does not wait for a poll; a
//! periodic reconcile pass catches what raises no event.

use crate::{Healer, HealerError};
use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Gathering window after the first event: a fault or an upload often touches several objects
/// at once, and one pass should see them together.
const DEBOUNCE: Duration = Duration::from_millis(3);

/// Runs passes until `shutdown` turns true: at start, on every relevant change, and every
/// `reconcile_every`. Pass errors are logged and retried on the next trigger.
pub async fn watch(healer: Arc<Healer>, mut shutdown: watch::Receiver<bool>) -> Result<(), HealerError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let _watcher = match healer.lake().store.local_root() {
        Some(root) => Some(watch_dir(root, &healer.config().quarantine_prefix, tx)?),
        None => None,
    };
    let mut reconcile = tokio::time::interval(healer.config().reconcile_every);
    reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if let Err(e) = healer.pass().await {
            tracing::warn!(error = %e, "pass failed; retrying on the next change");
        }
        tokio::select! {
            biased;
            _ = shutdown.changed() => {}
            Some(_) = rx.recv() => {
                tokio::time::sleep(DEBOUNCE).await;
                while rx.try_recv().is_ok() {}
            }
            _ = reconcile.tick() => {}
        }
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}

/// Subscribes to file-system events under `root`, forwarding paths that may be lake data or
/// catalog (not quarantine, not in-flight temporary files).
fn watch_dir(
    root: &Path,
    quarantine_prefix: &str,
    tx: mpsc::UnboundedSender<PathBuf>,
) -> Result<notify::RecommendedWatcher, HealerError> {
    let quarantine = root.join(quarantine_prefix);
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        for path in event.paths {
            let in_flight = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains(".lakechaos-tmp-"));
            if !in_flight && !path.starts_with(&quarantine) {
                let _ = tx.send(path);
            }
        }
    })
    .map_err(|e| HealerError::Watch(e.to_string()))?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .map_err(|e| HealerError::Watch(format!("{}: {e}", root.display())))?;
    Ok(watcher)
}
