//! Provisioning: starting the services a target needs, behind one [`Provider`] trait.
//!
//! Three providers:
//! - [`LocalProcessProvider`]: starts the installed moto / LocalStack (host mode) on a free
//!   127.0.0.1 port and stops it by PID (`scripts/setup` installs them);
//! - `ContainersProvider`: starts their images with testcontainers when a Docker engine answers
//!   (cargo feature `containers`);
//! - [`ExternalProvider`]: endpoints that are already running (a Compose stack, a shared emulator),
//!   from `LAKECHAOS_MOTO_ENDPOINT` / `LAKECHAOS_LOCALSTACK_ENDPOINT`.
//!
//! [`ProviderKind::Auto`] picks external when its variable is set, else containers when a Docker
//! engine answers, else local processes.

#[cfg(feature = "containers")]
pub mod containers;
pub mod docker;
pub mod local_process;
pub mod postgres_process;
pub mod prometheus_process;

use async_trait::async_trait;
#[cfg(feature = "containers")]
pub use containers::ContainersProvider;
pub use local_process::{free_port, LocalProcess};
use std::time::Duration;

/// Why a server could not be provisioned.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{what} is not installed (looked for {looked}); run scripts/setup")]
    NotInstalled { what: &'static str, looked: String },
    #[error("{what} did not answer at {endpoint} within {waited:?}; its log ({log}) ends with:\n{tail}")]
    NotReady { what: &'static str, endpoint: String, waited: Duration, log: String, tail: String },
    #[error("{what}: {reason}")]
    NotConfigured { what: &'static str, reason: String },
    #[error("{what} at {endpoint} does not answer (nothing accepts connections there)")]
    Unreachable { what: &'static str, endpoint: String },
    #[error("containers: {0}")]
    NoEngine(String),
    #[error("{what} container: {message}")]
    Container { what: &'static str, message: String },
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// A service a target can need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// moto's server: S3, Glue, SQS, SNS, STS.
    Moto,
    /// LocalStack community: S3, SQS, SNS, STS; no Glue.
    LocalStack,
    /// PostgreSQL (a throwaway cluster, trust authentication).
    Postgres,
}

impl Service {
    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Service::Moto => "moto",
            Service::LocalStack => "localstack",
            Service::Postgres => "postgresql",
        }
    }

    /// The variable naming an already running endpoint for the external provider.
    pub fn endpoint_variable(self) -> &'static str {
        match self {
            Service::Moto => "LAKECHAOS_MOTO_ENDPOINT",
            Service::LocalStack => "LAKECHAOS_LOCALSTACK_ENDPOINT",
            Service::Postgres => "LAKECHAOS_POSTGRES_URL",
        }
    }
}

/// A started (or borrowed) service. Dropping it stops what the provider started.
pub trait Running: Send + Sync {
    /// `http://HOST:PORT`, or a `postgresql://` URL.
    fn endpoint(&self) -> &str;
    /// Which provider runs it, for reports.
    fn provider(&self) -> &'static str;
}

/// Starts services.
#[async_trait]
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;
    async fn start(&self, service: Service) -> Result<Box<dyn Running>, ProvisionError>;
}

/// Which provider to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderKind {
    /// External if its endpoint variable is set, else containers if a Docker engine answers,
    /// else local processes. Containers only for an image the engine already holds: it never
    /// pulls on its own.
    #[default]
    Auto,
    LocalProcess,
    Containers,
    External,
}

/// Starts `service` with the provider `kind` chooses.
pub async fn start(service: Service, kind: ProviderKind) -> Result<Box<dyn Running>, ProvisionError> {
    provider_for(service, kind).start(service).await
}

/// The provider `kind` stands for; for `Auto`, the first that applies, with the reason logged.
pub fn provider_for(service: Service, kind: ProviderKind) -> Box<dyn Provider> {
    match kind {
        ProviderKind::LocalProcess => Box::new(LocalProcessProvider),
        ProviderKind::Containers => containers_provider(),
        ProviderKind::External => Box::new(ExternalProvider),
        ProviderKind::Auto => {
            if std::env::var_os(service.endpoint_variable()).is_some() {
                tracing::info!(service = service.name(), "using the endpoint in {}", service.endpoint_variable());
                return Box::new(ExternalProvider);
            }
            match docker::engine_answers() {
                Ok(engine) if cfg!(feature = "containers") => match container_image(service) {
                    // Only an image the engine already holds: without a registry a pull fails,
                    // and the automatic choice must not pick what cannot start.
                    Some(image) if docker::image_present(&image) => {
                        tracing::info!(service = service.name(), %engine, %image, "a Docker engine answered and holds the image; using containers");
                        containers_provider()
                    }
                    image => {
                        tracing::info!(
                            service = service.name(),
                            %engine,
                            image = image.as_deref().unwrap_or("-"),
                            "a Docker engine answered without the image (nothing is pulled automatically); using local processes"
                        );
                        Box::new(LocalProcessProvider)
                    }
                },
                Ok(engine) => {
                    tracing::info!(
                        service = service.name(),
                        %engine,
                        "a Docker engine answered, but this build has no containers provider; using local processes"
                    );
                    Box::new(LocalProcessProvider)
                }
                Err(why) => {
                    tracing::info!(service = service.name(), "{why}; using local processes");
                    Box::new(LocalProcessProvider)
                }
            }
        }
    }
}

/// The image the containers provider would start for `service` (`name:tag`).
#[cfg(feature = "containers")]
fn container_image(service: Service) -> Option<String> {
    Some(ContainersProvider::from_env().image_of(service))
}

#[cfg(not(feature = "containers"))]
fn container_image(_service: Service) -> Option<String> {
    None
}

#[cfg(feature = "containers")]
fn containers_provider() -> Box<dyn Provider> {
    Box::new(ContainersProvider::from_env())
}

#[cfg(not(feature = "containers"))]
fn containers_provider() -> Box<dyn Provider> {
    Box::new(NoContainers)
}

/// Stands in for the containers provider in builds without it, and says how to get it.
#[cfg(not(feature = "containers"))]
struct NoContainers;

#[cfg(not(feature = "containers"))]
#[async_trait]
impl Provider for NoContainers {
    fn name(&self) -> &'static str {
        "containers"
    }

    async fn start(&self, service: Service) -> Result<Box<dyn Running>, ProvisionError> {
        Err(ProvisionError::NotConfigured {
            what: service.name(),
            reason: "this build has no containers provider: build with `--features containers`".into(),
        })
    }
}

/// Starts installed servers as local processes.
pub struct LocalProcessProvider;

#[async_trait]
impl Provider for LocalProcessProvider {
    fn name(&self) -> &'static str {
        "local-process"
    }

    async fn start(&self, service: Service) -> Result<Box<dyn Running>, ProvisionError> {
        let started = tokio::task::spawn_blocking(move || match service {
            Service::Moto => LocalProcess::start_moto(),
            Service::LocalStack => LocalProcess::start_localstack(),
            Service::Postgres => LocalProcess::start_postgres(),
        })
        .await
        .map_err(|e| ProvisionError::Io { what: service.name(), source: std::io::Error::other(e) })??;
        Ok(Box::new(started))
    }
}

impl Running for LocalProcess {
    fn endpoint(&self) -> &str {
        LocalProcess::endpoint(self)
    }
    fn provider(&self) -> &'static str {
        "local-process"
    }
}

/// Uses an endpoint that is already running; stops nothing.
pub struct ExternalProvider;

struct External(String);

impl Running for External {
    fn endpoint(&self) -> &str {
        &self.0
    }
    fn provider(&self) -> &'static str {
        "external"
    }
}

#[async_trait]
impl Provider for ExternalProvider {
    fn name(&self) -> &'static str {
        "external"
    }

    async fn start(&self, service: Service) -> Result<Box<dyn Running>, ProvisionError> {
        let var = service.endpoint_variable();
        let endpoint = std::env::var(var).map_err(|_| ProvisionError::NotConfigured {
            what: service.name(),
            reason: match service {
                Service::Postgres => format!("the external provider needs {var}=postgresql://USER@HOST:PORT/DB"),
                _ => format!("the external provider needs {var}=http://HOST:PORT"),
            },
        })?;
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let reachable = match service {
            Service::Postgres => local_process::accepts_tcp(&endpoint),
            _ => local_process::answers_url(&endpoint),
        };
        if !reachable {
            return Err(ProvisionError::Unreachable {
                what: service.name(),
                endpoint: lakechaos_lake::redact::url(&endpoint),
            });
        }
        Ok(Box::new(External(endpoint)))
    }
}
