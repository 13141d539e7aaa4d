//! Whether a Docker engine answers: the automatic provider choice asks before trying containers.

use std::io::{Read, Write};
use std::time::Duration;

/// Where the Docker engine should be: `DOCKER_HOST` (unix:// or tcp://), else the default socket.
pub fn engine_address() -> String {
    std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "unix:///var/run/docker.sock".into())
}

/// Why no Docker engine can be used, naming the address tried.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct NoEngine(pub String);

/// Whether a Docker engine answers `GET /_ping` at [`engine_address`]: `Ok(address)` if it does,
/// else why not, naming the address.
pub fn engine_answers() -> Result<String, NoEngine> {
    let address = engine_address();
    let ping = |stream: &mut dyn ReadWrite| -> std::io::Result<bool> {
        stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    let answered = if let Some(path) = address.strip_prefix("unix://") {
        std::os::unix::net::UnixStream::connect(path).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            ping(&mut s)
        })
    } else if let Some(hostport) = address.strip_prefix("tcp://") {
        use std::net::ToSocketAddrs;
        hostport
            .to_socket_addrs()
            .and_then(|mut a| a.next().ok_or_else(|| std::io::Error::other("no address")))
            .and_then(|addr| std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)))
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                ping(&mut s)
            })
    } else {
        return Err(NoEngine(format!("DOCKER_HOST={address} is neither unix:// nor tcp://")));
    };
    match answered {
        Ok(true) => Ok(address),
        Ok(false) => Err(NoEngine(format!("no Docker engine answered at {address} (its /_ping did not return 200)"))),
        Err(e) => Err(NoEngine(format!("no Docker engine answered at {address}: {e}"))),
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}
