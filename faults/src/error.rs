/// Errors while planning, journaling, injecting or reverting a fault. Nothing is injected when
/// planning fails.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error(transparent)]
    Lake(#[from] lakechaos_lake::LakeError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("cannot inject: {0}")]
    NotApplicable(String),
    #[error("journal {path}: {reason}")]
    Journal { path: String, reason: String },
}
