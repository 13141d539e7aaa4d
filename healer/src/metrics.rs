//! The healer's Prometheus metrics, fed from its event stream (so the file healer and the
//! PostgreSQL healer count the same way), and the `/metrics` endpoint `lakehealer watch` serves.
//!
//! Every metric lives in the [`HealerMetrics`] registry, not the process-global one: a test or
//! the harness can run several healers in one process and gather exactly one of them.

use crate::events::{EventSink, HealerEvent, RepairAction};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use prometheus::{Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use std::net::SocketAddr;
use std::sync::Arc;

/// Scan and lag buckets (seconds): a pass over a small lake takes milliseconds, one over a
/// large S3 lake seconds; the detection SLOs this tool tests sit at 0.25 s and 1 s.
const SECONDS_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The healer's metrics.
pub struct HealerMetrics {
    registry: Registry,
    incidents: IntCounterVec,
    repairs: IntCounterVec,
    passes: IntCounter,
    pass_failures: IntCounter,
    scanned_objects: IntCounter,
    scanned_bytes: IntCounter,
    scan_duration: Histogram,
    event_lag: Histogram,
    last_pass: IntGauge,
}

fn counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("valid metric name");
    registry.register(Box::new(c.clone())).expect("registered once");
    c
}

fn histogram(registry: &Registry, name: &str, help: &str) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(SECONDS_BUCKETS.to_vec())).expect("valid");
    registry.register(Box::new(h.clone())).expect("registered once");
    h
}

impl std::fmt::Debug for HealerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealerMetrics").field("passes", &self.passes.get()).finish_non_exhaustive()
    }
}

impl Default for HealerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl HealerMetrics {
    /// Fresh metrics in their own registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let incidents = IntCounterVec::new(
            Opts::new("lakehealer_incidents_total", "Incidents raised (once per damage), by kind of damage."),
            &["kind"],
        )
        .expect("valid");
        registry.register(Box::new(incidents.clone())).expect("registered once");
        let repairs = IntCounterVec::new(
            Opts::new(
                "lakehealer_repairs_total",
                "Repair actions by action and result (succeeded; unrepairable: no source could mend it).",
            ),
            &["action", "result"],
        )
        .expect("valid");
        registry.register(Box::new(repairs.clone())).expect("registered once");
        let last_pass = IntGauge::new(
            "lakehealer_last_pass_timestamp_seconds",
            "Unix time the last completed pass over the lake ended (a stalled healer stops moving it).",
        )
        .expect("valid");
        registry.register(Box::new(last_pass.clone())).expect("registered once");
        HealerMetrics {
            incidents,
            repairs,
            passes: counter(&registry, "lakehealer_passes_total", "Passes over the lake (scan, then repairs)."),
            pass_failures: counter(
                &registry,
                "lakehealer_pass_failures_total",
                "Passes that failed (lake or catalog unreachable, a repair interrupted); retried on the next trigger.",
            ),
            scanned_objects: counter(
                &registry,
                "lakehealer_scanned_objects_total",
                "Objects (files, or partitions on PostgreSQL) checked by passes, including those whose last verdict stood.",
            ),
            scanned_bytes: counter(
                &registry,
                "lakehealer_scanned_bytes_total",
                "Bytes of the objects whose contents a pass read (unchanged objects are not read again).",
            ),
            scan_duration: histogram(&registry, "lakehealer_scan_duration_seconds", "Duration of a pass's scan."),
            event_lag: histogram(
                &registry,
                "lakehealer_event_queue_lag_seconds",
                "From a change's event time (S3 eventTime, file-system notification) to the pass it triggered.",
            ),
            last_pass,
            registry,
        }
    }

    /// The registry holding these metrics (gather it, or serve it).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts one event.
    pub fn record(&self, event: &HealerEvent) {
        match event {
            HealerEvent::Incident { kind, .. } => self.incidents.with_label_values(&[kind.as_str()]).inc(),
            HealerEvent::Repair { action, .. } => self.repairs.with_label_values(&[action.as_str(), "succeeded"]).inc(),
            HealerEvent::Unrepairable { .. } => self.repairs.with_label_values(&["none", "unrepairable"]).inc(),
            HealerEvent::Resolved { .. } | HealerEvent::Crawler { .. } => {}
            HealerEvent::Scan { files_checked, bytes_read, duration_ms, event_lag_ms, at, .. } => {
                self.passes.inc();
                self.scanned_objects.inc_by(*files_checked as u64);
                self.scanned_bytes.inc_by(*bytes_read);
                self.scan_duration.observe(duration_ms / 1000.0);
                if let Some(lag) = event_lag_ms {
                    self.event_lag.observe(lag.max(0.0) / 1000.0);
                }
                self.last_pass.set(at.timestamp());
            }
            HealerEvent::PassFailed { .. } => self.pass_failures.inc(),
        }
    }

    /// A sink counting every event it is given (combine it with others through
    /// [`crate::publish::fanout`]).
    pub fn sink(self: &Arc<Self>) -> EventSink {
        let me = Arc::clone(self);
        Arc::new(move |event: HealerEvent| me.record(&event))
    }

    /// The metrics in Prometheus' text exposition format.
    pub fn encode(&self) -> String {
        encode(&self.registry.gather())
    }
}

/// Families in Prometheus' text exposition format (0.0.4).
pub fn encode(families: &[prometheus::proto::MetricFamily]) -> String {
    let mut buf = Vec::new();
    TextEncoder::new().encode(families, &mut buf).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("the text format is UTF-8")
}

impl RepairAction {
    /// The action's name in events and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            RepairAction::Quarantine => "quarantine",
            RepairAction::RestoreFromVersion => "restore_from_version",
            RepairAction::RestoreFromLanding => "restore_from_landing",
            RepairAction::RemoveDeleteMarker => "remove_delete_marker",
            RepairAction::RewriteToContract => "rewrite_to_contract",
            RepairAction::CatalogResync => "catalog_resync",
            RepairAction::CatalogRedeclare => "catalog_redeclare",
            RepairAction::RestoreColumns => "restore_columns",
            RepairAction::AttachPartition => "attach_partition",
            RepairAction::RecreatePartition => "recreate_partition",
            RepairAction::RefillFromSource => "refill_from_source",
            RepairAction::RematerializeModels => "rematerialize_models",
            RepairAction::Regrant => "regrant",
            RepairAction::RepointMetadata => "repoint_metadata",
            RepairAction::DropFiles => "drop_files",
            RepairAction::RevertSchema => "revert_schema",
            RepairAction::RelistFiles => "relist_files",
            RepairAction::RollbackCommit => "rollback_commit",
            RepairAction::RevertCommit => "revert_commit",
        }
    }
}

/// Serves `GET /metrics` on `addr` until `shutdown` turns true. Binds before returning, so a
/// bad or busy address is an error here; returns the bound address (port 0 picks a free one).
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<HealerMetrics>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = shutdown.changed() => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics endpoint: accept failed");
                        continue;
                    }
                },
            };
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let metrics = Arc::clone(&metrics);
                    async move { Ok::<_, std::convert::Infallible>(respond(&req, &metrics)) }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                    tracing::debug!(error = %e, "metrics endpoint: connection ended");
                }
            });
        }
    });
    Ok((bound, task))
}

fn respond(req: &Request<hyper::body::Incoming>, metrics: &HealerMetrics) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&hyper::Method::GET, "/metrics") => (StatusCode::OK, prometheus::TEXT_FORMAT, metrics.encode()),
        (&hyper::Method::GET, _) => (StatusCode::NOT_FOUND, "text/plain", "only /metrics is served here\n".into()),
        _ => (StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n".into()),
    };
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, FindingKind, Tier};
    use chrono::Utc;

    fn scan(lag: Option<f64>) -> HealerEvent {
        HealerEvent::Scan {
            files_checked: 4,
            footers_read: 1,
            pages_decoded: 0,
            bytes_read: 1000,
            findings: 0,
            duration_ms: 12.0,
            event_lag_ms: lag,
            at: Utc::now(),
        }
    }

    #[test]
    fn events_become_counts() {
        let m = HealerMetrics::new();
        m.record(&scan(None));
        m.record(&scan(Some(40.0)));
        m.record(&HealerEvent::Incident {
            id: "inc-1".into(),
            kind: FindingKind::CorruptParquet,
            table: "orders".into(),
            location: "x".into(),
            tier: Tier::Footer,
            message: String::new(),
            evidence: Evidence::Unreadable { reason: "bad magic".into() },
            at: Utc::now(),
            trigger: Default::default(),
        });
        m.record(&HealerEvent::Repair {
            incident: "inc-1".into(),
            action: RepairAction::Quarantine,
            location: "x".into(),
            source: "q".into(),
            at: Utc::now(),
        });
        m.record(&HealerEvent::PassFailed { error: "boom".into(), at: Utc::now() });
        let text = m.encode();
        for line in [
            "lakehealer_passes_total 2",
            "lakehealer_scanned_objects_total 8",
            "lakehealer_scanned_bytes_total 2000",
            "lakehealer_incidents_total{kind=\"corrupt_parquet\"} 1",
            "lakehealer_repairs_total{action=\"quarantine\",result=\"succeeded\"} 1",
            "lakehealer_pass_failures_total 1",
            "lakehealer_scan_duration_seconds_count 2",
            "lakehealer_event_queue_lag_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
        }
    }
}
