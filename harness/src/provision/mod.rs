//! Provisioning: starting what a target needs. Without a Docker engine the local-process
//! provisioner starts installed servers on free loopback ports and stops them by PID.

pub mod local_process;

pub use local_process::{LocalProcess, ProvisionError};
