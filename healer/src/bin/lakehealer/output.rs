//! What the healer prints and serves while it works: events as text or JSON lines, findings,
//! the `/metrics` endpoint, and the stop signal.

use clap::ValueEnum;
use lakehealer::events::{HealerEvent, RepairAction};
use lakehealer::metrics::HealerMetrics;
use std::sync::Arc;

/// How events and findings are printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub async fn metrics_endpoint(
    listen: Option<std::net::SocketAddr>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<lakehealer::EventSink, lakehealer::cli::CliError> {
    let Some(addr) = listen else { return Ok(lakehealer::events::discard()) };
    let metrics = Arc::new(HealerMetrics::new());
    let (bound, _task) = lakehealer::metrics::serve(addr, Arc::clone(&metrics), stop).await?;
    eprintln!("metrics: http://{bound}/metrics");
    Ok(metrics.sink())
}

/// A stop signal that turns true on Ctrl-C or SIGTERM (how a container or a test stops it).
pub fn stop_on_signal() -> tokio::sync::watch::Receiver<bool> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut t) => {
                    t.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        let _ = stop_tx.send(true);
    });
    stop_rx
}

pub fn printer(format: Format) -> lakehealer::EventSink {
    Arc::new(move |event: HealerEvent| match format {
        Format::Json => {
            if let Ok(line) = serde_json::to_string(&event) {
                println!("{line}");
            }
        }
        Format::Text => match event {
            HealerEvent::Incident { id, kind, location, tier, message, .. } => {
                println!("INCIDENT {id} {kind} at {location} ({tier:?} tier): {message}")
            }
            HealerEvent::Repair { incident, action, location, source, .. } => {
                let what = match action {
                    RepairAction::Quarantine => format!("moved {location} to {source}"),
                    RepairAction::RestoreFromLanding
                    | RepairAction::RestoreFromVersion
                    | RepairAction::RemoveDeleteMarker => {
                        format!("restored {location} from {source}")
                    }
                    RepairAction::RewriteToContract => {
                        format!("rewrote {location} to the contract (original kept at {source})")
                    }
                    RepairAction::CatalogResync => format!("registered {location} in the catalog ({source})"),
                    RepairAction::CatalogRedeclare => format!("rewrote the declared columns of {location} ({source})"),
                    RepairAction::RestoreColumns => format!("gave {location} the columns of {source}"),
                    RepairAction::AttachPartition => format!("attached {source} as {location}"),
                    RepairAction::RecreatePartition => format!("re-created {location} from {source}"),
                    RepairAction::RefillFromSource => format!("refilled {location} from {source}"),
                    RepairAction::RematerializeModels => format!("rebuilt {location} ({source})"),
                    RepairAction::Regrant => format!("granted {location} again ({source})"),
                    RepairAction::RepointMetadata => format!("pointed {location} at {source}"),
                    RepairAction::DropFiles => format!("committed {location} without {source}"),
                    RepairAction::RevertSchema => format!("made {source} current again in {location}"),
                    RepairAction::RelistFiles => format!("listed {location} again ({source})"),
                    RepairAction::RollbackCommit => format!("rolled {location} back ({source})"),
                    RepairAction::RevertCommit => format!("reverted a commit of {location} ({source})"),
                };
                println!("REPAIR   {incident} {what}");
            }
            HealerEvent::Unrepairable { incident, location, reason, .. } => {
                println!("UNREPAIRABLE {incident} {location}: {reason}")
            }
            HealerEvent::Resolved { incident, location, .. } => println!("RESOLVED {incident} {location}"),
            HealerEvent::Crawler { name, state, .. } => println!("CRAWLER {name} {state}"),
            HealerEvent::PassFailed { error, .. } => eprintln!("PASS FAILED (retrying): {error}"),
            HealerEvent::Scan { .. } => {}
        },
    })
}

/// Prints PostgreSQL findings (the file healer's scan prints its own report with file counts).
pub fn print_findings(format: Format, findings: &[lakehealer::Finding]) -> Result<(), serde_json::Error> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "findings": findings }))?),
        Format::Text => {
            for f in findings {
                println!("{:<17} {:<50} [{:?}] {}", f.kind.as_str(), f.location, f.tier, f.message);
            }
            println!("{} finding(s)", findings.len());
        }
    }
    Ok(())
}
