//! Servers started as local processes: bound to 127.0.0.1 on a free port, waited for until they
//! answer HTTP, stopped by PID with a bounded wait. Installs nothing at run time: the project's
//! `scripts/setup` installs them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ProvisionError;

/// How to tell that a started server is ready.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ready<'a> {
    /// It answers an HTTP GET on this path.
    Http(&'a str),
    /// Its log contains this line.
    LogLine(&'a str),
}

/// A server process this run started. Stopped (by PID) when dropped.
#[derive(Debug)]
pub struct LocalProcess {
    what: &'static str,
    child: Option<Child>,
    endpoint: String,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
    /// The server's own state directory, removed after it stops.
    pub(crate) state: Option<tempfile::TempDir>,
    /// How long it may take to stop after SIGTERM before it is killed.
    pub(crate) stop_grace: Duration,
}

/// A free TCP port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The first existing candidate, else the name looked up on PATH.
pub(crate) fn find_binary(candidates: &[PathBuf], name: &str) -> Option<PathBuf> {
    if let Some(p) = candidates.iter().find(|p| p.is_file()) {
        return Some(p.clone());
    }
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// Whether an HTTP server at `http://HOST:PORT[/...]` answers a GET on `/`.
pub(crate) fn answers_url(endpoint: &str) -> bool {
    let Some(authority) = endpoint.strip_prefix("http://").map(|r| r.split('/').next().unwrap_or(r)) else {
        return false;
    };
    use std::net::ToSocketAddrs;
    let Some(addr) = authority.to_socket_addrs().ok().and_then(|mut a| a.next()) else { return false };
    answers_http(addr, "/")
}

/// Whether something accepts TCP connections at the host and port of a URL
/// (`scheme://[user@]host:port/...`).
pub(crate) fn accepts_tcp(url: &str) -> bool {
    use std::net::ToSocketAddrs;
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let Some(addr) = host_port.to_socket_addrs().ok().and_then(|mut a| a.next()) else { return false };
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Whether an HTTP server answers a GET on `path` at `addr`.
fn answers_http(addr: std::net::SocketAddr, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// How long a server may take to stop after SIGTERM, unless it says otherwise.
const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(10);

/// `moto_server` without werkzeug's line per request.
const QUIET_MOTO: &str = "import logging, sys\n\
logging.getLogger('werkzeug').setLevel(logging.WARNING)\n\
from moto.server import main\n\
sys.exit(main(sys.argv[1:]))\n";

impl LocalProcess {
    /// Starts moto (`moto_server`) on a free loopback port. Looks in `$LAKECHAOS_MOTO_SERVER`,
    /// `.venv-moto/bin/moto_server`, then PATH.
    pub fn start_moto() -> Result<LocalProcess, ProvisionError> {
        let mut candidates = Vec::new();
        if let Some(p) = std::env::var_os("LAKECHAOS_MOTO_SERVER") {
            candidates.push(PathBuf::from(p));
        }
        candidates.push(PathBuf::from(".venv-moto/bin/moto_server"));
        candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-moto/bin/moto_server"));
        let bin = find_binary(&candidates, "moto_server").ok_or_else(|| ProvisionError::NotInstalled {
            what: "moto",
            looked: format!(
                "{} and PATH",
                candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        })?;
        let port = free_port().map_err(|source| ProvisionError::Io { what: "moto", source })?;
        let mut cmd = match bin.parent().map(|dir| dir.join("python")).filter(|p| p.is_file()) {
            // moto's server logs every request through werkzeug, which costs it about a tenth of
            // its time under a suite's load; with the Python of its own virtualenv it starts
            // with that log off (warnings and errors still show).
            Some(python) => {
                let mut cmd = Command::new(python);
                cmd.args(["-c", QUIET_MOTO]);
                cmd
            }
            None => Command::new(bin),
        };
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self::spawn("moto", cmd, port, Ready::Http("/moto-api/"), Duration::from_secs(30))
    }

    /// Starts LocalStack community in host mode (no Docker) on a free loopback port. Looks for
    /// the Python of `$LAKECHAOS_LOCALSTACK_VENV` or `.venv-localstack`. Its state lives in a
    /// temporary directory removed when it stops.
    pub fn start_localstack() -> Result<LocalProcess, ProvisionError> {
        let mut venvs = Vec::new();
        if let Some(p) = std::env::var_os("LAKECHAOS_LOCALSTACK_VENV") {
            venvs.push(PathBuf::from(p));
        }
        venvs.push(PathBuf::from(".venv-localstack"));
        venvs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-localstack"));
        let candidates: Vec<PathBuf> = venvs.iter().map(|v| v.join("bin/python")).collect();
        let python = candidates
            .iter()
            .find(|p| p.is_file() && p.parent().is_some_and(|bin| bin.join("localstack-supervisor").is_file()))
            .cloned()
            .ok_or_else(|| ProvisionError::NotInstalled {
                what: "localstack",
                looked: candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            })?;
        let io = |source| ProvisionError::Io { what: "localstack", source };
        let port = free_port().map_err(io)?;
        let state = tempfile::Builder::new().prefix("lakechaos-localstack-").tempdir().map_err(io)?;
        let mut cmd = Command::new(python);
        cmd.args(["-m", "localstack.runtime.main"])
            .env("OVERRIDE_IN_DOCKER", "0")
            // The default gateway server ignores the host and listens on every interface.
            .env("GATEWAY_SERVER", "hypercorn")
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("LOCALSTACK_HOST", format!("127.0.0.1:{port}"))
            .env("FILESYSTEM_ROOT", state.path())
            .env("DNS_ADDRESS", "0")
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("SQS_ENDPOINT_STRATEGY", "path")
            // Otherwise every SQS call also posts metrics to LocalStack's own CloudWatch over
            // HTTP, which took half its time under a suite's load; the metrics lakechaos
            // publishes itself (`--cloudwatch`) are not affected.
            .env("SQS_DISABLE_CLOUDWATCH_METRICS", "1");
        let mut server =
            Self::spawn("localstack", cmd, port, Ready::Http("/_localstack/health"), Duration::from_secs(90))?;
        server.state = Some(state);
        // Its gateway waits for clients' idle keep-alive connections before it exits (10 s and
        // more); its state is a temporary directory that goes with it, so waiting saves nothing.
        server.stop_grace = Duration::from_secs(1);
        Ok(server)
    }

    /// Spawns `cmd` in its own process group, logging to a temporary file, and waits until it is
    /// `ready` (or exits, or `wait` passes).
    pub(crate) fn spawn(
        what: &'static str,
        mut cmd: Command,
        port: u16,
        ready: Ready<'_>,
        wait: Duration,
    ) -> Result<LocalProcess, ProvisionError> {
        let io = |source| ProvisionError::Io { what, source };
        let log_dir = tempfile::Builder::new().prefix("lakechaos-server-").tempdir().map_err(io)?;
        let log = log_dir.path().join(format!("{what}.log"));
        let out = std::fs::File::create(&log).map_err(io)?;
        let err = out.try_clone().map_err(io)?;
        // Its own process group, so stopping it also stops any helpers it started.
        cmd.process_group(0);
        let child = cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn().map_err(io)?;
        let mut server = LocalProcess {
            what,
            child: Some(child),
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
            _log_dir: log_dir,
            state: None,
            stop_grace: DEFAULT_STOP_GRACE,
        };
        let started = Instant::now();
        while started.elapsed() < wait {
            let is_ready = match ready {
                Ready::Http(path) => answers_http(([127, 0, 0, 1], port).into(), path),
                Ready::LogLine(line) => std::fs::read_to_string(&server.log).is_ok_and(|t| t.contains(line)),
            };
            if is_ready {
                tracing::info!(server = what, endpoint = %server.endpoint, "ready after {:?}", started.elapsed());
                return Ok(server);
            }
            let exited = server.child.as_mut().and_then(|c| c.try_wait().ok().flatten()).is_some();
            if exited {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let tail = server.log_tail();
        let endpoint = server.endpoint.clone();
        let log = server.log.display().to_string();
        server.stop();
        Err(ProvisionError::NotReady { what, endpoint, waited: started.elapsed(), log, tail })
    }

    /// `http://127.0.0.1:PORT` (a `postgresql://` URL for PostgreSQL).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Replaces the endpoint (for servers not spoken to over HTTP).
    pub(crate) fn set_endpoint(&mut self, endpoint: String) {
        self.endpoint = endpoint;
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Stops the server and its process group: SIGTERM, up to 10 s for it to exit, then
    /// SIGKILL. Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let group = -(child.id() as libc::pid_t);
        // SAFETY: kill(2) on the process group of a child we spawned (its own group) and have
        // not reaped.
        unsafe {
            libc::kill(group, libc::SIGTERM);
        }
        let deadline = Instant::now() + self.stop_grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                // SAFETY: as above; helpers left in the group are not wanted either.
                unsafe {
                    libc::kill(group, libc::SIGKILL);
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.stop_grace >= DEFAULT_STOP_GRACE {
            tracing::warn!(server = self.what, "did not stop within {:?} of SIGTERM; killing", self.stop_grace);
        }
        // SAFETY: as above.
        unsafe {
            libc::kill(group, libc::SIGKILL);
        }
        let _ = child.wait();
    }
}

impl Drop for LocalProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
