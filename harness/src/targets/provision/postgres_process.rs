//! A throwaway PostgreSQL cluster as a local process: `initdb` into a temporary directory (trust
//! authentication, loopback only), `postgres` on a free 127.0.0.1 port, stopped by PID and
//! removed afterwards. PostgreSQL refuses to run as root, so as root the cluster belongs to the
//! `postgres` system user.

use super::local_process::{find_binary, free_port, LocalProcess, Ready};
use super::ProvisionError;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The directory holding `initdb` and `postgres`: `$LAKECHAOS_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin`, else PATH.
fn pg_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LAKECHAOS_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).or_else(|| find_binary(&[], "initdb")?.parent().map(Path::to_path_buf))
}

/// The uid and gid of the `postgres` user, when this process is root.
fn run_as() -> Result<Option<(u32, u32)>, ProvisionError> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam with a valid C string; the result is read at once, before any other call.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(ProvisionError::NotConfigured {
            what: "postgresql",
            reason: "running as root, and there is no `postgres` user to run the cluster as".into(),
        });
    }
    // SAFETY: pw is non-null and points at a passwd record.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

impl LocalProcess {
    /// Starts a fresh PostgreSQL cluster; its endpoint is `postgresql://postgres@127.0.0.1:PORT/postgres`.
    pub fn start_postgres() -> Result<LocalProcess, ProvisionError> {
        let what = "postgresql";
        let io = |source| ProvisionError::Io { what, source };
        let bin = pg_bin_dir().ok_or_else(|| ProvisionError::NotInstalled {
            what,
            looked: "$LAKECHAOS_PG_BIN, /usr/lib/postgresql/*/bin and PATH".into(),
        })?;
        let owner = run_as()?;
        let state = tempfile::Builder::new().prefix("lakechaos-pg-").tempdir().map_err(io)?;
        let data = state.path().join("data");
        std::fs::create_dir(&data).map_err(io)?;
        if let Some((uid, gid)) = owner {
            for dir in [state.path(), data.as_path()] {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io)?;
            }
        }
        let as_owner = |cmd: &mut Command| {
            if let Some((uid, gid)) = owner {
                cmd.uid(uid).gid(gid);
            }
        };
        let mut initdb = Command::new(bin.join("initdb"));
        initdb.args(["-D", data.to_str().unwrap_or_default(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        as_owner(&mut initdb);
        let out = initdb.output().map_err(io)?;
        if !out.status.success() {
            return Err(ProvisionError::NotReady {
                what,
                endpoint: data.display().to_string(),
                waited: Duration::ZERO,
                log: "initdb".into(),
                tail: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let port = free_port().map_err(io)?;
        let mut server = Command::new(bin.join("postgres"));
        server.args(["-D", data.to_str().unwrap_or_default()]).args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-p",
            &port.to_string(),
            "-k",
            state.path().to_str().unwrap_or_default(),
            // A throwaway cluster: durability buys nothing and costs seconds.
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
        ]);
        as_owner(&mut server);
        let mut process =
            Self::spawn(what, server, port, Ready::LogLine("ready to accept connections"), Duration::from_secs(30))?;
        process.set_endpoint(format!("postgresql://postgres@127.0.0.1:{port}/postgres"));
        process.state = Some(state);
        Ok(process)
    }
}
