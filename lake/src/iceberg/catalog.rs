//! Where an Iceberg table's current metadata file is recorded: the catalog's pointer. A commit
//! is one compare-and-swap of it, so two writers (or two healers) never both win.

use super::IcebergError;

/// A table's name in an Iceberg catalog: `NAMESPACE.TABLE` (a nested namespace keeps its dots:
/// `a.b.t` is table `t` in namespace `a.b`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableIdent {
    pub namespace: String,
    pub name: String,
}

impl TableIdent {
    /// Parses `NAMESPACE.TABLE`.
    pub fn parse(ident: &str) -> Result<TableIdent, IcebergError> {
        let bad = || {
            IcebergError::Unsupported(format!(
                "table {ident:?}: expected NAMESPACE.TABLE (letters, digits, _ and -; dots between namespace levels)"
            ))
        };
        let (namespace, name) = ident.rsplit_once('.').ok_or_else(bad)?;
        let part_ok = |s: &str| {
            !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !part_ok(name) || !namespace.split('.').all(part_ok) {
            return Err(bad());
        }
        Ok(TableIdent { namespace: namespace.to_string(), name: name.to_string() })
    }
}

impl std::fmt::Display for TableIdent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

/// A catalog of Iceberg tables, as far as lakechaos needs one: the pointer per table.
#[async_trait::async_trait]
pub trait PointerCatalog: Send + Sync + std::fmt::Debug {
    /// The catalog as `--catalog` names it (`iceberg-sql:PATH`, `glue:DB`).
    fn name(&self) -> String;

    /// The table's current metadata location; `None` when the table is not in the catalog.
    async fn pointer(&self, table: &TableIdent) -> Result<Option<String>, IcebergError>;

    /// Moves the pointer from `expected` to `new`; [`IcebergError::Changed`] (nothing written)
    /// when it no longer is `expected`.
    async fn swap(&self, table: &TableIdent, expected: &str, new: &str) -> Result<(), IcebergError>;

    /// Registers a new table at `metadata_location`; refused when the table exists.
    async fn create(&self, table: &TableIdent, metadata_location: &str) -> Result<(), IcebergError>;

    /// Removes the table from the catalog, if it is there; its files stay where they are.
    /// (Used to start a scenario's own table afresh, never on someone else's.)
    async fn unregister(&self, table: &TableIdent) -> Result<(), IcebergError>;

    /// Every table in the catalog.
    async fn tables(&self) -> Result<Vec<TableIdent>, IcebergError>;
}
