//! Whether a Docker engine answers, and whether it holds an image: the automatic provider choice
//! asks both before trying containers.

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
    match get(&address, "/_ping") {
        Ok(true) => Ok(address),
        Ok(false) => Err(NoEngine(format!("no Docker engine answered at {address} (its /_ping did not return 200)"))),
        Err(e) => Err(NoEngine(format!("no Docker engine answered at {address}: {e}"))),
    }
}

/// Whether the engine holds image `name:tag` already (nothing is pulled to find out).
pub fn image_present(image: &str) -> bool {
    get(&engine_address(), &format!("/images/{image}/json")).unwrap_or(false)
}

/// `GET path` on the engine at `address`: whether it answered 200.
fn get(address: &str, path: &str) -> std::io::Result<bool> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n");
    let ask = |stream: &mut dyn ReadWrite| -> std::io::Result<bool> {
        stream.write_all(request.as_bytes())?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    if let Some(path) = address.strip_prefix("unix://") {
        std::os::unix::net::UnixStream::connect(path).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            ask(&mut s)
        })
    } else if let Some(hostport) = address.strip_prefix("tcp://") {
        use std::net::ToSocketAddrs;
        hostport
            .to_socket_addrs()
            .and_then(|mut a| a.next().ok_or_else(|| std::io::Error::other("no address")))
            .and_then(|addr| std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)))
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                ask(&mut s)
            })
    } else {
        Err(std::io::Error::other(format!("DOCKER_HOST={address} is neither unix:// nor tcp://")))
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}
