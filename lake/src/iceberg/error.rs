//! What can go wrong with an Iceberg table, by layer: a healer reports a missing or corrupt file
//! as a finding (never a panic), and the layer says what a repair must restore.

use crate::LakeError;

/// The layers of an Iceberg table, from the catalog's pointer down to the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The table metadata file (`metadata/NNNNN-uuid.metadata.json`) the catalog points at.
    Metadata,
    /// A snapshot's manifest list (`snap-….avro`).
    ManifestList,
    /// A manifest (`….avro`) listed by the manifest list.
    Manifest,
    /// A data file (Parquet) listed by a manifest.
    DataFile,
}

impl Layer {
    /// The layer as findings name it.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Metadata => "metadata file",
            Layer::ManifestList => "manifest list",
            Layer::Manifest => "manifest",
            Layer::DataFile => "data file",
        }
    }
}

/// Errors of the Iceberg layer.
#[derive(Debug, thiserror::Error)]
pub enum IcebergError {
    /// A file the table's metadata references is not in storage.
    #[error("{} {location} is missing", layer.name())]
    Missing { layer: Layer, location: String },
    /// A file the table's metadata references does not parse.
    #[error("{} {location} is corrupt: {reason}", layer.name())]
    Corrupt { layer: Layer, location: String, reason: String },
    /// The table is not in the catalog.
    #[error("table {0} is not in the catalog")]
    NoSuchTable(String),
    /// The catalog's pointer moved since it was read (another writer committed): look again.
    #[error("table {table}: the catalog's pointer moved from {expected} (another commit): look again")]
    Changed { table: String, expected: String },
    /// A location outside the lake the table is opened on.
    #[error("location {location:?} is outside the lake {root}")]
    OutsideLake { location: String, root: String },
    /// The catalog itself failed (its database, its service).
    #[error("iceberg catalog {catalog}: {message}")]
    Catalog { catalog: String, message: String },
    /// A table the layer cannot write (a type or transform it does not know).
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Lake(#[from] LakeError),
}

impl IcebergError {
    /// The layer a missing or corrupt file belongs to.
    pub fn layer(&self) -> Option<Layer> {
        match self {
            IcebergError::Missing { layer, .. } | IcebergError::Corrupt { layer, .. } => Some(*layer),
            _ => None,
        }
    }

    /// The location of a missing or corrupt file.
    pub fn location(&self) -> Option<&str> {
        match self {
            IcebergError::Missing { location, .. } | IcebergError::Corrupt { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// Converts the iceberg crate's errors where they concern our own writing (never parsing,
/// which is [`IcebergError::Corrupt`] with its layer).
pub(crate) fn writing(what: &str, e: iceberg::Error) -> IcebergError {
    IcebergError::Unsupported(format!("{what}: {e}"))
}
