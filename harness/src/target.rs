//! Targets: where a scenario's lake lives, what it can do, and how it is provisioned.

use crate::scenario::Capability;
use lakechaos_lake::Lake;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A target a suite runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A local directory with the file catalog: embedded, needs no services.
    Local,
}

/// A lake provisioned for one scenario.
pub struct Provisioned {
    pub lake: Lake,
    /// Where the lake lives (a directory for `local`), as recorded in the journal.
    pub address: String,
    pub root: PathBuf,
}

impl Target {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::Local => "local",
        }
    }

    /// What the target offers.
    pub fn capabilities(self) -> &'static [Capability] {
        match self {
            Target::Local => &[Capability::ObjectStore, Capability::Catalog],
        }
    }

    /// The first capability in `needs` the target lacks, if any.
    pub fn missing(self, needs: &[Capability]) -> Option<Capability> {
        needs.iter().copied().find(|c| !self.capabilities().contains(c))
    }

    /// Provisions an empty lake in `dir`.
    pub async fn provision(self, dir: &Path) -> Result<Provisioned, lakechaos_lake::LakeError> {
        match self {
            Target::Local => {
                let lake = Lake::open_local(dir)?;
                let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
                Ok(Provisioned { lake, address: root.display().to_string(), root })
            }
        }
    }

    /// Opens an existing lake by the address a journal recorded.
    pub fn open(self, address: &str) -> Result<Lake, lakechaos_lake::LakeError> {
        match self {
            Target::Local => Lake::open_local(Path::new(address)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_offers_object_store_and_catalog() {
        assert_eq!(Target::Local.missing(&[Capability::ObjectStore, Capability::Catalog]), None);
        assert_eq!(Target::Local.name(), "local");
    }
}
