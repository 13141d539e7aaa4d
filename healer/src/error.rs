/// Errors that stop the healer (storage or catalog unreachable, bad arguments). Damaged data is
/// never an error: it is a finding.
#[derive(Debug, thiserror::Error)]
pub enum HealerError {
    #[error(transparent)]
    Lake(#[from] lakechaos_lake::LakeError),
    #[error("table {0:?} is not registered in the catalog")]
    UnknownTable(String),
    #[error("{0}")]
    Invalid(String),
    #[error("file-system watch: {0}")]
    Watch(String),
}
