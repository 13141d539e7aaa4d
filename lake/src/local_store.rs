//! A directory as object storage: the embedded `local` target.

use crate::storage::{ObjectMeta, ObjectStore};
use crate::{LakeError, Result};
use async_trait::async_trait;
use bytes::Bytes;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Marker in the names of in-flight writes; listings skip such files.
const TMP_MARKER: &str = ".lakechaos-tmp-";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Removes the stale temporary files directly in `dir`.
fn sweep_dir(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if is_stale_temporary(&path) && std::fs::remove_file(&path).is_ok() {
            tracing::info!(path = %path.display(), "removed a temporary file its killed writer left");
        }
    }
}

/// Whether `path` is an in-flight temporary file (`.lakechaos-tmp-<pid>-<n>`) whose writer
/// process no longer exists. Another live process's, or this one's, is never stale.
fn is_stale_temporary(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let Some(rest) = name.split(TMP_MARKER).nth(1) else { return false };
    let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else { return false };
    if pid <= 0 || pid as u32 == std::process::id() {
        return false;
    }
    // Signal 0 only asks whether the process exists.
    // SAFETY: kill(2) with signal 0 sends nothing and touches no memory.
    let alive =
        unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    !alive
}

/// Object storage in a local directory. Writes go to a hidden temporary file that is renamed into
/// place, so readers (and file-system watchers) never see half-written objects. A temporary file
/// whose writer process is gone (killed mid-write) is removed when a listing meets it: every
/// healer pass and every verification lists, so such leftovers do not outlive the next look.
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// Opens (and creates if needed) a directory as a store.
    pub fn open(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(|e| LakeError::io(root.display(), e))?;
        let root = root.canonicalize().map_err(|e| LakeError::io(root.display(), e))?;
        Ok(LocalStore { root })
    }

    /// The directory behind the store.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps a key to its path, refusing keys that would escape the root.
    fn path_of(&self, key: &str) -> Result<PathBuf> {
        if key.is_empty() || key.starts_with('/') {
            return Err(LakeError::InvalidKey { key: key.into(), reason: "must be a non-empty relative path" });
        }
        if key.split('/').any(|part| part == ".." || part == "." || part.is_empty()) {
            return Err(LakeError::InvalidKey {
                key: key.into(),
                reason: "must not contain empty, '.' or '..' segments",
            });
        }
        Ok(self.root.join(key))
    }

    /// Maps a path under the root back to its key (`None` for paths outside the root or for
    /// in-flight temporary files).
    pub fn key_of(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let key = rel.to_str()?.replace(std::path::MAIN_SEPARATOR, "/");
        if key.is_empty() || key.contains(TMP_MARKER) {
            return None;
        }
        Some(key)
    }

    fn meta_of(key: String, md: &std::fs::Metadata) -> ObjectMeta {
        let since_epoch = md.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let mtime = since_epoch.map(|d| d.as_nanos()).unwrap_or(0);
        let modified = since_epoch.and_then(|d| chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos()));
        ObjectMeta { key, size: md.len(), version_token: format!("{}-{}", md.len(), mtime), modified }
    }

    fn list_blocking(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        // Walk from the deepest directory the prefix names, then filter by the full prefix.
        let dir_part = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        let start = if dir_part.is_empty() { self.root.clone() } else { self.path_of(dir_part)? };
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(LakeError::io(dir.display(), e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| LakeError::io(dir.display(), e))?;
                let path = entry.path();
                let md = match std::fs::symlink_metadata(&path) {
                    Ok(md) => md,
                    // Vanished between read_dir and stat: a concurrent move. Not an error.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(LakeError::io(path.display(), e)),
                };
                if md.is_dir() {
                    stack.push(path);
                } else if md.is_file() {
                    if is_stale_temporary(&path) {
                        match std::fs::remove_file(&path) {
                            Ok(()) => {
                                tracing::info!(path = %path.display(), "removed a temporary file its killed writer left")
                            }
                            Err(e) => tracing::debug!(path = %path.display(), error = %e, "stale temporary file"),
                        }
                        continue;
                    }
                    if let Some(key) = self.key_of(&path) {
                        if key.starts_with(prefix) {
                            out.push(Self::meta_of(key, &md));
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Runs `f` holding an exclusive lock on the directory of `key` (a `flock` on the directory
    /// itself, so no lock file is ever left behind): conditional writes by cooperating processes
    /// are then one step, as S3 makes them with `If-Match`.
    fn with_dir_lock<T>(&self, key: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let path = self.path_of(key)?;
        let dir = path.parent().unwrap_or(&self.root);
        let handle = match std::fs::File::open(dir) {
            Ok(h) => h,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(LakeError::NotFound(key.to_string())),
            Err(e) => return Err(LakeError::io(dir.display(), e)),
        };
        // SAFETY: flock on a descriptor this function owns; the lock goes with `handle`.
        if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&handle), libc::LOCK_EX) } != 0 {
            return Err(LakeError::io(dir.display(), std::io::Error::last_os_error()));
        }
        let out = f();
        drop(handle);
        out
    }

    /// `Ok` if `key` is still the version `expected`.
    fn check_blocking(&self, key: &str, expected: &str) -> Result<()> {
        let path = self.path_of(key)?;
        match std::fs::metadata(&path) {
            Ok(md) if md.is_file() && Self::meta_of(key.to_string(), &md).version_token == expected => Ok(()),
            Ok(md) if md.is_file() => Err(LakeError::Changed(key.to_string())),
            Ok(_) => Err(LakeError::NotFound(key.to_string())),
            Err(e) => Err(not_found_or_io(key, &path, e)),
        }
    }

    fn put_blocking(&self, key: &str, data: &[u8]) -> Result<()> {
        let path = self.path_of(key)?;
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| LakeError::io(dir.display(), e))?;
        // A write after a killed one (a restarted repair, quarantine or seed) clears what the
        // killed writer left in the same directory.
        sweep_dir(&dir);
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!("{}{}-{}", TMP_MARKER, std::process::id(), n));
        std::fs::write(&tmp, data).map_err(|e| LakeError::io(tmp.display(), e))?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            LakeError::io(path.display(), e)
        })
    }

    fn get_range_blocking(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        let path = self.path_of(key)?;
        let f = std::fs::File::open(&path).map_err(|e| not_found_or_io(key, &path, e))?;
        let size = f.metadata().map_err(|e| LakeError::io(path.display(), e))?.len();
        let start = range.start.min(size);
        let end = range.end.min(size).max(start);
        let mut buf = vec![0u8; (end - start) as usize];
        std::os::unix::fs::FileExt::read_exact_at(&f, &mut buf, start).map_err(|e| LakeError::io(path.display(), e))?;
        Ok(Bytes::from(buf))
    }
}

fn not_found_or_io(key: &str, path: &Path, e: std::io::Error) -> LakeError {
    if e.kind() == std::io::ErrorKind::NotFound {
        LakeError::NotFound(key.to_string())
    } else {
        LakeError::io(path.display(), e)
    }
}

/// The largest ranged read done on the calling thread.
const INLINE_READ_MAX: u64 = 256 << 10;

/// Runs blocking file-system work off the async executor.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|join| Err(LakeError::io("<blocking task>", std::io::Error::other(join.to_string()))))
}

#[async_trait]
impl ObjectStore for LocalStore {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let me = LocalStore { root: self.root.clone() };
        let prefix = prefix.to_string();
        blocking(move || me.list_blocking(&prefix)).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(md) if md.is_file() => Ok(Some(Self::meta_of(key.to_string(), &md))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LakeError::io(path.display(), e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        let path = self.path_of(key)?;
        tokio::fs::read(&path).await.map(Bytes::from).map_err(|e| not_found_or_io(key, &path, e))
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        // A small read (a footer) from the page cache takes less than handing it to the
        // blocking pool and back; only larger ones go there.
        if range.end.saturating_sub(range.start) <= INLINE_READ_MAX {
            return self.get_range_blocking(key, range);
        }
        let me = LocalStore { root: self.root.clone() };
        let key = key.to_string();
        blocking(move || me.get_range_blocking(&key, range)).await
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let me = LocalStore { root: self.root.clone() };
        let key = key.to_string();
        blocking(move || me.put_blocking(&key, &data)).await
    }

    async fn put_if_version(&self, key: &str, data: Bytes, expected: &str) -> Result<()> {
        let me = LocalStore { root: self.root.clone() };
        let (key, expected) = (key.to_string(), expected.to_string());
        blocking(move || {
            me.with_dir_lock(&key, || {
                me.check_blocking(&key, &expected)?;
                me.put_blocking(&key, &data)
            })
        })
        .await
    }

    async fn delete_if_version(&self, key: &str, expected: &str) -> Result<()> {
        let me = LocalStore { root: self.root.clone() };
        let (owned, expected) = (key.to_string(), expected.to_string());
        blocking(move || {
            me.with_dir_lock(&owned, || {
                me.check_blocking(&owned, &expected)?;
                let path = me.path_of(&owned)?;
                std::fs::remove_file(&path).map_err(|e| not_found_or_io(&owned, &path, e))
            })
        })
        .await?;
        self.delete(key).await // the file is gone: this only prunes emptied directories
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LakeError::io(path.display(), e)),
        }
        // Remove directories left empty, as S3 has no directories to leave behind. Stops at the
        // first non-empty one (remove_dir refuses those).
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == self.root || std::fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    fn local_root(&self) -> Option<&Path> {
        Some(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_list_delete_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.put("t/dt=2024-01-01/part-0.parquet", Bytes::from_static(b"abc")).await.unwrap();
        store.put("t/dt=2024-01-02/part-0.parquet", Bytes::from_static(b"defg")).await.unwrap();
        let listed = store.list("t/dt=2024-01-0").await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].size, 4);
        assert_eq!(store.get_range("t/dt=2024-01-02/part-0.parquet", 1..100).await.unwrap(), "efg");
        store.delete("t/dt=2024-01-01/part-0.parquet").await.unwrap();
        assert!(!dir.path().join("t/dt=2024-01-01").exists(), "empty partition directory is removed");
        assert!(matches!(store.get("t/dt=2024-01-01/part-0.parquet").await, Err(LakeError::NotFound(_))));
    }

    #[tokio::test]
    async fn a_listing_removes_temporaries_of_dead_writers_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.put("t/dt=2024-01-01/part-0.parquet", Bytes::from_static(b"abc")).await.unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let part = dir.path().join("t/dt=2024-01-01");
        let stale = part.join(format!("{TMP_MARKER}{dead}-7"));
        let mine = part.join(format!("{TMP_MARKER}{}-8", std::process::id()));
        let live = part.join(format!("{TMP_MARKER}1-9")); // init never ends
        for p in [&stale, &mine, &live] {
            std::fs::write(p, b"half").unwrap();
        }
        let listed = store.list("t/").await.unwrap();
        assert_eq!(listed.len(), 1, "temporaries are never listed");
        assert!(!stale.exists(), "a killed writer's leftover is swept");
        assert!(mine.exists() && live.exists(), "in-flight writes of live processes stay");
    }

    #[tokio::test]
    async fn rejects_escaping_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert!(store.put("../x", Bytes::new()).await.is_err());
        assert!(store.put("/abs", Bytes::new()).await.is_err());
    }
}
