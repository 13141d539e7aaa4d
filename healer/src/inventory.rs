//! The healer's row inventory: per table, the row count of every data file as last judged
//! clean, kept in the lake (`_lakehealer/inventory/<table>.json`) so that every healer process
//! (a restarted one, a concurrent function invocation) shares it. A file that later holds fewer
//! rows with nothing else wrong has silently lost rows, even where no landing copy exists to
//! compare with.
//!
//! The inventory learns from clean judgements only, so a damaged file never lowers its own
//! expectation. A table whose rows are removed on purpose is taught its new counts with
//! `lakehealer inventory --forget` (the next clean pass learns them again).

use crate::HealerError;
use lakechaos_lake::layout::inventory_key;
use lakechaos_lake::{LakeError, ObjectStore};
use std::collections::BTreeMap;

/// What the inventory knows of one file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    pub rows: u64,
}

/// A table's inventory.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inventory {
    pub table: String,
    pub files: BTreeMap<String, FileEntry>,
}

impl Inventory {
    /// Reads a table's inventory; an absent one is empty. One that does not parse (damaged, or
    /// from a future version) is set aside with a warning and learned again.
    pub async fn load(store: &dyn ObjectStore, table: &str) -> Result<Self, HealerError> {
        let key = inventory_key(table);
        let data = match store.get(&key).await {
            Ok(d) => d,
            Err(LakeError::NotFound(_)) => return Ok(Inventory { table: table.into(), ..Inventory::default() }),
            Err(e) => return Err(e.into()),
        };
        match serde_json::from_slice::<Inventory>(&data) {
            Ok(inv) if inv.table == table => Ok(inv),
            Ok(_) | Err(_) => {
                tracing::warn!(%key, "row inventory does not parse; learning it again");
                Ok(Inventory { table: table.into(), ..Inventory::default() })
            }
        }
    }

    /// Writes the inventory back.
    pub async fn save(&self, store: &dyn ObjectStore) -> Result<(), HealerError> {
        let body = serde_json::to_vec_pretty(self).map_err(|e| HealerError::Invalid(e.to_string()))?;
        store.put(&inventory_key(&self.table), body.into()).await?;
        Ok(())
    }

    /// Removes a table's inventory (its counts are learned again on the next clean pass).
    pub async fn forget(store: &dyn ObjectStore, table: &str) -> Result<bool, HealerError> {
        let key = inventory_key(table);
        if store.head(&key).await?.is_none() {
            return Ok(false);
        }
        store.delete(&key).await?;
        Ok(true)
    }

    /// The rows `key` held when last judged clean, if that is more than `rows`.
    pub fn lost(&self, key: &str, rows: u64) -> Option<u64> {
        self.files.get(key).map(|e| e.rows).filter(|known| *known > rows)
    }

    /// Records a clean judgement; whether anything changed.
    pub fn learn(&mut self, key: &str, rows: u64) -> bool {
        let entry = FileEntry { rows };
        if self.files.get(key) == Some(&entry) {
            return false;
        }
        self.files.insert(key.to_string(), entry);
        true
    }

    /// Drops files that are no longer listed; whether anything changed.
    pub fn keep_only(&mut self, live: &std::collections::HashSet<String>) -> bool {
        let before = self.files.len();
        self.files.retain(|k, _| live.contains(k));
        before != self.files.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fewer_rows_than_known_are_a_loss() {
        let mut inv = Inventory { table: "t".into(), ..Inventory::default() };
        assert_eq!(inv.lost("t/dt=1/a", 0), None, "an unknown file has lost nothing");
        assert!(inv.learn("t/dt=1/a", 3000));
        assert!(!inv.learn("t/dt=1/a", 3000));
        assert_eq!(inv.lost("t/dt=1/a", 0), Some(3000));
        assert_eq!(inv.lost("t/dt=1/a", 3000), None);
        assert_eq!(inv.lost("t/dt=1/a", 3500), None, "more rows is an append, not a loss");
        assert!(inv.keep_only(&Default::default()));
        assert!(inv.files.is_empty());
    }
}
