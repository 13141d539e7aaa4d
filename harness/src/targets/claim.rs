//! One run at a time on an existing table. Two runs breaking the same table at once would each
//! snapshot the other's damage as "the table as found" and revert to it. A run therefore claims
//! the table before its first scenario and releases it after its last; a second run is refused
//! (exit 2) while the claim holds.
//!
//! - PostgreSQL: a session advisory lock, held by a connection of its own; the server drops it
//!   when the run's process dies.
//! - Objects: a claim record `_lakechaos/claims/<table>.json` (run id, host, pid, a nonce),
//!   written after a check and read back (the nonce says whose it is). A record left by a run
//!   that was killed on this host (its pid is gone) is taken over; one from another host needs
//!   `lakechaos revert --all` of that run's work directory and the record removed.

use lakechaos_lake::layout::HARNESS_RECORDS_PREFIX;
use lakechaos_lake::{Lake, LakeError};
use serde::{Deserialize, Serialize};

/// Who holds a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub run: String,
    pub host: String,
    pub pid: u32,
    pub nonce: String,
    pub started_at: String,
}

/// A held claim; [`Claim::release`] gives it up.
pub enum Claim {
    Object { lake: Lake, key: String },
    Postgres { _client: tokio_postgres::Client },
}

/// Why a table could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("table {table} is being broken by another lakechaos run ({holder}); wait for it, or if it was killed, `lakechaos revert --all` its work directory and remove {key} (nothing was written)")]
    Busy { table: String, holder: String, key: String },
    #[error(transparent)]
    Lake(#[from] LakeError),
}

/// Where an object lake keeps the claim on `table`.
pub fn claim_key(table: &str) -> String {
    format!("{HARNESS_RECORDS_PREFIX}/claims/{table}.json")
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

/// Whether a claim record was left by a process of this host that is gone.
fn stale(record: &ClaimRecord) -> bool {
    // Signal 0 checks for existence; ESRCH: no such process.
    record.host == host()
        && unsafe { libc::kill(record.pid as libc::pid_t, 0) } != 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// The current holder of `table`'s claim in `lake`, unless none or a stale one.
pub async fn holder(lake: &Lake, table: &str) -> Result<Option<ClaimRecord>, ClaimError> {
    let key = claim_key(table);
    let Some(_) = lake.store.head(&key).await? else { return Ok(None) };
    let record: Option<ClaimRecord> = match lake.store.get(&key).await {
        Ok(bytes) => serde_json::from_slice(&bytes).ok(),
        Err(LakeError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(match record {
        Some(r) if stale(&r) => None,
        // An unreadable record is still someone's: refuse rather than guess.
        None => Some(ClaimRecord {
            run: "unknown (unreadable claim record)".into(),
            host: String::new(),
            pid: 0,
            nonce: String::new(),
            started_at: String::new(),
        }),
        other => other,
    })
}

/// The refusal naming `r` as the holder of `table`.
pub fn busy(table: &str, r: &ClaimRecord) -> ClaimError {
    ClaimError::Busy {
        table: table.to_string(),
        holder: format!("run {} on {} pid {}, since {}", r.run, r.host, r.pid, r.started_at),
        key: claim_key(table),
    }
}

/// Claims `table` of an object lake for run `run`.
pub async fn claim_objects(lake: &Lake, table: &str, run: &str) -> Result<Claim, ClaimError> {
    if let Some(r) = holder(lake, table).await? {
        return Err(busy(table, &r));
    }
    let nonce = format!("{:016x}", rand::random::<u64>());
    let record = ClaimRecord {
        run: run.to_string(),
        host: host(),
        pid: std::process::id(),
        nonce: nonce.clone(),
        started_at: chrono::Utc::now().to_rfc3339(),
    };
    let key = claim_key(table);
    lake.store.put(&key, serde_json::to_vec_pretty(&record).expect("serializable").into()).await?;
    // Of two runs that checked at once, the later write wins; the other backs off.
    let written: Option<ClaimRecord> = serde_json::from_slice(&lake.store.get(&key).await?).ok();
    match written {
        Some(w) if w.nonce == nonce => Ok(Claim::Object { lake: lake.clone(), key }),
        Some(w) => Err(busy(table, &w)),
        None => Err(busy(table, &record)),
    }
}

/// Claims a PostgreSQL table: a session advisory lock on its name.
pub async fn claim_postgres(url: &str, table: &str) -> Result<Claim, ClaimError> {
    let client = lakechaos_lake::pg::connect(url, "lakechaos-claim").await?;
    let name = format!("lakechaos:{table}");
    let sql = "SELECT pg_try_advisory_lock(hashtext($1))";
    let got: bool = client
        .query_one(sql, &[&name])
        .await
        .map_err(|e| lakechaos_lake::pg::sql_error(url, "claiming the table", e))?
        .get(0);
    if !got {
        return Err(ClaimError::Busy {
            table: table.to_string(),
            holder: "a session holding its advisory lock".into(),
            key: format!("pg_advisory_lock(hashtext('{name}'))"),
        });
    }
    Ok(Claim::Postgres { _client: client })
}

impl Claim {
    /// Gives the claim up (the record removed; the lock's connection closed).
    pub async fn release(self) {
        if let Claim::Object { lake, key } = self {
            if let Err(e) = lake.store.delete(&key).await {
                tracing::warn!(%key, error = %e, "could not remove the claim record");
            }
        }
    }
}
