//! Rollback, in Chaos Toolkit's word: a scenario's journal is *closed* once its lake is whole
//! again (healed, or reverted from the journal), by a `journal.closed` marker beside it. A journal
//! without one belongs to a scenario that was interrupted (a signal, a SIGKILL, an error after
//! injection): [`revert_open`] puts those lakes back, as `lakechaos revert --all DIR` does and as
//! `lakechaos run` does on SIGINT/SIGTERM and before it reuses a work directory.

use lakechaos_faults::journal::RevertReport;
use lakechaos_faults::{AnyJournal, FaultError};
use lakechaos_lake::AwsConnection;
use std::path::{Path, PathBuf};

/// The marker that closes a journal.
const CLOSED: &str = "journal.closed";

/// Marks the journal in scenario directory `dir` closed.
pub fn close(dir: &Path) {
    if dir.join("journal.json").exists() {
        if let Err(e) = std::fs::write(dir.join(CLOSED), b"") {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot mark the journal closed");
        }
    }
}

/// Journals under `workdir` (`<workdir>/<scenario>/journal.json`) that are not closed.
pub fn open_journals(workdir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(workdir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|d| d.join("journal.json").is_file() && !d.join(CLOSED).exists())
        .map(|d| d.join("journal.json"))
        .collect();
    out.sort();
    out
}

/// Reverts every open journal under `workdir` and closes those that reverted.
pub async fn revert_open(workdir: &Path, conn: &AwsConnection) -> Vec<(PathBuf, Result<RevertReport, FaultError>)> {
    let mut done = Vec::new();
    for path in open_journals(workdir) {
        let reverted = match AnyJournal::read(&path.to_string_lossy(), conn).await {
            Ok(journal) => journal.revert(conn).await,
            Err(e) => Err(e),
        };
        if reverted.is_ok() {
            close(path.parent().unwrap_or(workdir));
        }
        done.push((path, reverted));
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unclosed_journals_are_open() {
        let dir = tempfile::tempdir().unwrap();
        for (name, closed) in [("a", false), ("b", true), ("c", false)] {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("journal.json"), "{}").unwrap();
            if closed {
                close(&d);
            }
        }
        std::fs::create_dir_all(dir.path().join("no-journal")).unwrap();
        let open: Vec<String> = open_journals(dir.path())
            .iter()
            .map(|p| p.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(open, ["a", "c"]);
    }
}
