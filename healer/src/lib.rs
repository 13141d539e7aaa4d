//! lakehealer: notices damage in a Parquet data lake and mends it.
//!
//! Detection is tiered so that cost grows with the number of files, not bytes:
//! 1. **listing** — partitions registered vs present vs expected from the landing zone, empty
//!    objects ([`detect::partitions`], [`detect::empty_object`]);
//! 2. **footer** — magic bytes and footer length, schema against the contract, null counts from
//!    column statistics ([`detect::footer_integrity`], [`detect::schema_contract`],
//!    [`detect::null_stats`]);
//! 3. **pages** — every page decoded (and CRC-checked where present) ([`detect::page_decode`]).
//!
//! A file stops at the first tier that finds something. Repairs never invent data and never
//! delete: bad files go to `_quarantine/` with a reason record and data comes back from a named
//! source (the landing zone), or the healer reports the incident as unrepairable.
//!
//! The healer knows nothing about how damage was caused; it sees only the lake.

pub mod cli;
pub mod config;
pub mod detect;
pub mod discover;
pub mod dqdl;
mod error;
pub mod events;
pub mod finding;
pub mod governance;
pub mod iceberg;
mod healer;
pub mod inventory;
pub mod lambda;
pub mod metrics;
pub mod pg;
pub mod publish;
pub mod repair;
pub mod watch;

pub use config::{Depth, HealerConfig, Mode};
pub use error::HealerError;
pub use events::{EventSink, HealerEvent};
pub use finding::{Finding, FindingKind, Tier};
pub use healer::{Healer, PassReport, ScanReport};
