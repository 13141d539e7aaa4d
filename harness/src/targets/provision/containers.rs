//! The testcontainers provider: moto and LocalStack from their images, when a Docker engine
//! answers. Without one it says so at once; the automatic choice then uses local processes.
//!
//! Current `localstack/localstack` images need an auth token: set `LOCALSTACK_AUTH_TOKEN` and it
//! is passed into the container.

use super::docker::engine_answers;
use super::{Provider, ProvisionError, Running, Service};
use async_trait::async_trait;
use std::time::Duration;
use testcontainers_modules::localstack::LocalStack;
use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::core::{ContainerPort, IntoContainerPort, WaitFor};
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{ContainerAsync, ContainerRequest, GenericImage, ImageExt};

/// moto's image and the port its server listens on inside the container.
pub const MOTO_IMAGE: (&str, &str) = ("motoserver/moto", "5.1.0");
pub const MOTO_PORT: u16 = 5000;
/// LocalStack's gateway port inside the container.
pub const LOCALSTACK_PORT: u16 = 4566;
/// PostgreSQL's port inside the container.
pub const POSTGRES_PORT: u16 = 5432;

/// Images and the auth token to use, from the environment (`LAKECHAOS_MOTO_IMAGE=name:tag`,
/// `LAKECHAOS_LOCALSTACK_IMAGE=name:tag`, `LAKECHAOS_POSTGRES_IMAGE=name:tag`,
/// `LOCALSTACK_AUTH_TOKEN`). `scripts/containers` builds such images without a registry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainersProvider {
    pub moto_image: Option<(String, String)>,
    pub localstack_image: Option<(String, String)>,
    pub localstack_auth_token: Option<String>,
    /// A PostgreSQL image that honours `POSTGRES_USER`/`POSTGRES_PASSWORD` and logs
    /// "database system is ready to accept connections" once it serves TCP.
    pub postgres_image: Option<(String, String)>,
}

fn image_from(var: &str) -> Option<(String, String)> {
    let value = std::env::var(var).ok()?;
    let (name, tag) = value.rsplit_once(':').unwrap_or((&value, "latest"));
    Some((name.to_string(), tag.to_string()))
}

impl ContainersProvider {
    pub fn from_env() -> Self {
        ContainersProvider {
            moto_image: image_from("LAKECHAOS_MOTO_IMAGE"),
            localstack_image: image_from("LAKECHAOS_LOCALSTACK_IMAGE"),
            localstack_auth_token: std::env::var("LOCALSTACK_AUTH_TOKEN").ok().filter(|t| !t.is_empty()),
            postgres_image: image_from("LAKECHAOS_POSTGRES_IMAGE"),
        }
    }

    /// The image (`name:tag`) this provider starts for `service`.
    pub fn image_of(&self, service: Service) -> String {
        let named = |image: &Option<(String, String)>, default: (&str, &str)| {
            let (name, tag) = image.clone().unwrap_or_else(|| (default.0.to_string(), default.1.to_string()));
            format!("{name}:{tag}")
        };
        match service {
            Service::Moto => named(&self.moto_image, MOTO_IMAGE),
            Service::LocalStack => named(&self.localstack_image, ("localstack/localstack", "4.5")),
            Service::Postgres => named(&self.postgres_image, ("postgres", "15-alpine")),
        }
    }

    /// The container request for a PostgreSQL image named by `LAKECHAOS_POSTGRES_IMAGE`: ready
    /// when it says so once (it starts no temporary server, unlike the official image).
    pub fn postgres_image_request(&self, (name, tag): &(String, String)) -> ContainerRequest<GenericImage> {
        GenericImage::new(name.clone(), tag.clone())
            .with_exposed_port(POSTGRES_PORT.tcp())
            .with_wait_for(WaitFor::message_on_stderr("database system is ready to accept connections"))
            .with_env_var("POSTGRES_USER", "postgres")
            .with_env_var("POSTGRES_PASSWORD", "postgres")
            .with_startup_timeout(Duration::from_secs(120))
    }

    /// The container request for moto.
    pub fn moto_request(&self) -> ContainerRequest<GenericImage> {
        let (name, tag) =
            self.moto_image.clone().unwrap_or_else(|| (MOTO_IMAGE.0.to_string(), MOTO_IMAGE.1.to_string()));
        GenericImage::new(name, tag)
            .with_exposed_port(MOTO_PORT.tcp())
            .with_wait_for(WaitFor::message_on_stderr("Running on"))
            .with_env_var("MOTO_PORT", MOTO_PORT.to_string())
            .with_startup_timeout(Duration::from_secs(120))
    }

    /// The container request for PostgreSQL 15 (user and password `postgres`).
    pub fn postgres_request(&self) -> ContainerRequest<Postgres> {
        Postgres::default().with_tag("15-alpine").with_startup_timeout(Duration::from_secs(120))
    }

    /// The container request for LocalStack, with the auth token passed through when set.
    pub fn localstack_request(&self) -> ContainerRequest<LocalStack> {
        let mut request = LocalStack::default()
            .with_env_var("SERVICES", "s3,sqs,sns,sts,glue")
            // Each SQS call would also post metrics to LocalStack's own CloudWatch.
            .with_env_var("SQS_DISABLE_CLOUDWATCH_METRICS", "1");
        if let Some((name, tag)) = &self.localstack_image {
            request = request.with_name(name.clone()).with_tag(tag.clone());
        }
        if let Some(token) = &self.localstack_auth_token {
            request = request.with_env_var("LOCALSTACK_AUTH_TOKEN", token.clone());
        }
        request.with_startup_timeout(Duration::from_secs(180))
    }
}

/// A running container; removed when dropped.
struct Container<I: testcontainers_modules::testcontainers::Image> {
    _container: ContainerAsync<I>,
    endpoint: String,
}

impl<I: testcontainers_modules::testcontainers::Image> Running for Container<I> {
    fn endpoint(&self) -> &str {
        &self.endpoint
    }
    fn provider(&self) -> &'static str {
        "containers"
    }
}

async fn endpoint_of<I: testcontainers_modules::testcontainers::Image>(
    what: &'static str,
    container: &ContainerAsync<I>,
    port: ContainerPort,
) -> Result<String, ProvisionError> {
    let err = |e: testcontainers_modules::testcontainers::TestcontainersError| ProvisionError::Container {
        what,
        message: e.to_string(),
    };
    let host = container.get_host().await.map_err(err)?;
    let port = container.get_host_port_ipv4(port).await.map_err(err)?;
    Ok(format!("http://{host}:{port}"))
}

#[async_trait]
impl Provider for ContainersProvider {
    fn name(&self) -> &'static str {
        "containers"
    }

    async fn start(&self, service: Service) -> Result<Box<dyn Running>, ProvisionError> {
        engine_answers().map_err(|e| ProvisionError::NoEngine(e.0))?;
        let what = service.name();
        let err = |e: testcontainers_modules::testcontainers::TestcontainersError| ProvisionError::Container {
            what,
            message: e.to_string(),
        };
        match service {
            Service::Moto => {
                let container = self.moto_request().start().await.map_err(err)?;
                let endpoint = endpoint_of(what, &container, MOTO_PORT.tcp()).await?;
                Ok(Box::new(Container { _container: container, endpoint }))
            }
            Service::LocalStack => {
                let container = self.localstack_request().start().await.map_err(err)?;
                let endpoint = endpoint_of(what, &container, LOCALSTACK_PORT.tcp()).await?;
                Ok(Box::new(Container { _container: container, endpoint }))
            }
            Service::Postgres => {
                let url = |http: String| {
                    format!("postgresql://postgres:postgres@{}/postgres", http.trim_start_matches("http://"))
                };
                if let Some(image) = &self.postgres_image {
                    let container = self.postgres_image_request(image).start().await.map_err(err)?;
                    let endpoint = url(endpoint_of(what, &container, POSTGRES_PORT.tcp()).await?);
                    return Ok(Box::new(Container { _container: container, endpoint }));
                }
                let container = self.postgres_request().start().await.map_err(err)?;
                let endpoint = url(endpoint_of(what, &container, POSTGRES_PORT.tcp()).await?);
                Ok(Box::new(Container { _container: container, endpoint }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testcontainers_modules::testcontainers::Image;

    fn env_of<I: Image>(request: &ContainerRequest<I>, name: &str) -> Option<String> {
        request.env_vars().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    #[test]
    fn moto_request_names_the_pinned_image_and_port() {
        let request = ContainersProvider::default().moto_request();
        assert_eq!(request.image().name(), "motoserver/moto");
        assert_eq!(request.image().tag(), "5.1.0");
        assert_eq!(request.image().expose_ports(), &[MOTO_PORT.tcp()]);
        assert_eq!(request.startup_timeout(), Some(Duration::from_secs(120)));
    }

    #[test]
    fn postgres_request_pins_version_15() {
        let request = ContainersProvider::default().postgres_request();
        assert_eq!(request.descriptor(), "postgres:15-alpine");
        assert_eq!(env_of(&request, "POSTGRES_USER").as_deref(), Some("postgres"));
    }

    #[test]
    fn image_overrides_apply() {
        let provider = ContainersProvider {
            moto_image: Some(("registry.local/moto".into(), "5.2.1".into())),
            localstack_image: Some(("registry.local/localstack".into(), "4.9".into())),
            localstack_auth_token: None,
            postgres_image: Some(("local/pg".into(), "15".into())),
        };
        let pg = provider.postgres_image_request(provider.postgres_image.as_ref().unwrap());
        assert_eq!(pg.descriptor(), "local/pg:15");
        assert_eq!(env_of(&pg, "POSTGRES_PASSWORD").as_deref(), Some("postgres"));
        assert_eq!(provider.moto_request().image().name(), "registry.local/moto");
        assert_eq!(provider.moto_request().image().tag(), "5.2.1");
        assert_eq!(provider.localstack_request().descriptor(), "registry.local/localstack:4.9");
    }

    #[test]
    fn localstack_auth_token_is_passed_through_only_when_set() {
        let without = ContainersProvider::default().localstack_request();
        assert_eq!(env_of(&without, "LOCALSTACK_AUTH_TOKEN"), None);
        assert_eq!(env_of(&without, "SERVICES").as_deref(), Some("s3,sqs,sns,sts,glue"));
        let with = ContainersProvider { localstack_auth_token: Some("ls-123".into()), ..Default::default() }
            .localstack_request();
        assert_eq!(env_of(&with, "LOCALSTACK_AUTH_TOKEN").as_deref(), Some("ls-123"));
        assert_eq!(with.descriptor(), "localstack/localstack:4.5");
    }

    #[test]
    fn a_missing_engine_is_reported_with_its_address() {
        // A socket path that cannot exist: the probe must say so, naming it.
        let err = {
            let _guard = EnvGuard::set("DOCKER_HOST", "unix:///nonexistent/lakechaos/docker.sock");
            super::super::docker::engine_answers().unwrap_err().0
        };
        assert!(err.contains("unix:///nonexistent/lakechaos/docker.sock"), "{err}");
        assert!(err.starts_with("no Docker engine answered"), "{err}");
    }

    #[tokio::test]
    async fn without_an_engine_start_fails_at_once_and_auto_falls_back() {
        let _guard = EnvGuard::set("DOCKER_HOST", "unix:///nonexistent/lakechaos/docker.sock");
        let started = std::time::Instant::now();
        let err = match ContainersProvider::default().start(Service::Moto).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("no engine, yet a container started"),
        };
        assert!(err.contains("no Docker engine answered"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let auto = super::super::provider_for(Service::Moto, super::super::ProviderKind::Auto);
        assert_eq!(auto.name(), "local-process");
    }

    /// Sets a variable for one test and restores it. Tests touching DOCKER_HOST share a lock.
    struct EnvGuard {
        name: &'static str,
        old: Option<std::ffi::OsString>,
        _lock: std::sync::MutexGuard<'static, ()>,
    }

    static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    impl EnvGuard {
        fn set(name: &'static str, value: &str) -> Self {
            let lock = ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
            let old = std::env::var_os(name);
            // Tests that touch this variable hold ENV_LOCK; nothing else reads it.
            std::env::set_var(name, value);
            EnvGuard { name, old, _lock: lock }
        }
    }

    impl Drop for EnvGuard {
        fn drop(&mut self) {
            match &self.old {
                Some(v) => std::env::set_var(self.name, v),
                None => std::env::remove_var(self.name),
            }
        }
    }
}
