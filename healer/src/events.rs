//! Structured events: every incident and repair, for logs, SNS, dashboards and the harness.

use crate::finding::{Evidence, FindingKind, Tier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Something the healer did or saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HealerEvent {
    /// Damage was detected (once per damage, not once per scan).
    Incident {
        id: String,
        kind: FindingKind,
        table: String,
        location: String,
        tier: Tier,
        message: String,
        evidence: Evidence,
        at: DateTime<Utc>,
        /// What made the healer look: the pass that found this damage was run because of it.
        #[serde(default)]
        trigger: Trigger,
    },
    /// One repair action completed.
    Repair {
        incident: String,
        action: RepairAction,
        location: String,
        /// Where the data came from (a landing key, a quarantine key, the catalog).
        source: String,
        at: DateTime<Utc>,
    },
    /// The incident cannot be repaired from any source; it stays open.
    Unrepairable { incident: String, location: String, reason: String, at: DateTime<Utc> },
    /// A previously open incident's location checks clean again.
    Resolved { incident: String, location: String, at: DateTime<Utc> },
    /// After repairs that changed partitions or columns: the crawler started (`--start-crawler`)
    /// and its state, or why it did not start.
    Crawler { name: String, state: String, at: DateTime<Utc> },
    /// A pass over the lake finished.
    Scan {
        files_checked: usize,
        footers_read: usize,
        pages_decoded: usize,
        /// Bytes of the objects whose contents this pass read.
        #[serde(default)]
        bytes_read: u64,
        findings: usize,
        duration_ms: f64,
        /// For a pass triggered by a change event: from the event's time to the pass's start.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event_lag_ms: Option<f64>,
        at: DateTime<Utc>,
    },
    /// A pass failed (lake unreachable, a repair interrupted); the next trigger retries it.
    PassFailed { error: String, at: DateTime<Utc> },
}

impl HealerEvent {
    /// The incident `id` opened for `finding`, found by a pass run because of `trigger`.
    pub fn incident(id: &str, finding: &crate::finding::Finding, trigger: &Trigger) -> HealerEvent {
        HealerEvent::Incident {
            id: id.to_string(),
            kind: finding.kind,
            table: finding.table.clone(),
            location: finding.location.clone(),
            tier: finding.tier,
            message: finding.message.clone(),
            evidence: finding.evidence.clone(),
            at: Utc::now(),
            trigger: trigger.clone(),
        }
    }
}

/// Why the healer ran the pass that raised an incident.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub via: TriggerKind,
    /// The changed object that raised the event (first of a batch), if an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// When the change happened according to its event (S3's `eventTime`), if known: detection
    /// latency is measured from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<DateTime<Utc>>,
}

/// The kinds of [`Trigger`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A requested scan (`scan`, `heal`, the first pass of `watch`).
    #[default]
    Scan,
    /// A file-system event on a local lake.
    FsEvent,
    /// An S3 event notification received from SQS.
    S3Event,
    /// An S3 event routed through an EventBridge rule to SQS.
    EventBridge,
    /// The periodic reconcile pass, for what raises no event.
    Reconcile,
}

impl Trigger {
    /// A pass run for no event.
    pub fn of(via: TriggerKind) -> Self {
        Trigger { via, key: None, event_time: None }
    }

    /// From the change's event time to now, for passes run because of an event.
    pub fn lag_ms(&self) -> Option<f64> {
        self.event_time.map(|t| (Utc::now() - t).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0)
    }
}

/// What a repair did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairAction {
    /// Moved a bad object to quarantine with a reason record.
    Quarantine,
    /// Wrote back the newest clean earlier object version.
    RestoreFromVersion,
    /// Copied a good copy from the raw/landing zone.
    RestoreFromLanding,
    /// Removed the delete marker(s) hiding a clean object version (versioned buckets).
    RemoveDeleteMarker,
    /// Rewrote a file to the contract schema (original kept in quarantine).
    RewriteToContract,
    /// Registered partitions present in the data but missing from the catalog.
    CatalogResync,
    /// Rewrote the catalog's declared columns from the contract.
    CatalogRedeclare,
    /// Gave a database table back its source's columns: renamed back, re-added or retyped, with
    /// values refilled from the source (anything removed is copied to quarantine first).
    RestoreColumns,
    /// Re-attached a detached partition.
    AttachPartition,
    /// Re-created a dropped partition and refilled it from the source.
    RecreatePartition,
    /// Copied rows or values missing from a partition back from the source.
    RefillFromSource,
    /// Re-built downstream models (dbt) for the repaired days.
    RematerializeModels,
    /// Granted again the Lake Formation permissions of a declared grant.
    Regrant,
    /// Pointed an Iceberg table's catalog entry at an intact metadata file (the source).
    RepointMetadata,
    /// Committed an Iceberg snapshot without files that no source holds (`--allow-drop` only;
    /// the files stay in storage).
    DropFiles,
    /// Made an Iceberg table's contract schema current again with a schema commit.
    RevertSchema,
    /// Listed again, in a new Iceberg snapshot, data files a commit removed (still in storage).
    RelistFiles,
    /// Pointed an Iceberg table's branch back at the parent of its latest commit.
    RollbackCommit,
    /// Committed an Iceberg snapshot without exactly the files an earlier commit added.
    RevertCommit,
}

/// Where events go. Cheap to clone; called from the healer's task.
pub type EventSink = Arc<dyn Fn(HealerEvent) + Send + Sync>;

/// A sink that drops everything.
pub fn discard() -> EventSink {
    Arc::new(|_| {})
}
