//! Journals that outlive a temporary work directory. A run without `--workdir` works in a
//! temporary directory that goes with the run; the journals of scenarios that failed, errored or
//! were interrupted are what a user needs next (to see what was injected, to revert by hand), so
//! they are copied to a directory that stays, and the reports name the copies. Passing
//! scenarios' journals are closed and not advertised.

use super::result::{ScenarioResult, Status};
use std::path::{Path, PathBuf};

/// Where a run started at `started_at` keeps journals, beside its reports: `<reports
/// dir>/journals/<start time>/`.
pub fn keep_dir(reports_dir: &Path, started_at: chrono::DateTime<chrono::Utc>) -> PathBuf {
    reports_dir.join("journals").join(started_at.format("%Y%m%dT%H%M%S%.3fZ").to_string())
}

/// Copies `journal` (`<workdir>/<scenario>/journal.json`) to `<into>/<scenario>/journal.json`.
pub fn keep(journal: &Path, into: &Path) -> std::io::Result<PathBuf> {
    let scenario = journal.parent().and_then(|d| d.file_name()).map(PathBuf::from).unwrap_or_default();
    let dir = into.join(scenario);
    std::fs::create_dir_all(&dir)?;
    let kept = dir.join("journal.json");
    std::fs::copy(journal, &kept)?;
    Ok(kept)
}

/// Before a scenario's work directory `dir` is removed (a run without a kept work directory):
/// a scenario that did not pass gets its journal copied to `into` and its result pointed at
/// the copy; a passing or skipped one's journal (about to vanish) is no longer named.
pub fn keep_if_unpassed(result: &mut ScenarioResult, into: Option<&Path>) {
    let Some(journal) = result.journal.take() else { return };
    let (Some(into), Status::Failed | Status::Error) = (into, result.status) else { return };
    match keep(&journal, into) {
        Ok(copy) => result.journal = Some(copy),
        Err(e) => tracing::warn!(journal = %journal.display(), error = %e, "could not keep the journal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::result::ScenarioResult;

    #[test]
    fn only_journals_of_scenarios_that_did_not_pass_are_kept_and_named() {
        let work = tempfile::tempdir().unwrap();
        let keep_in = tempfile::tempdir().unwrap();
        let mut results = Vec::new();
        for (name, status) in [("ok", Status::Passed), ("bad", Status::Failed), ("broke", Status::Error)] {
            std::fs::create_dir_all(work.path().join(name)).unwrap();
            std::fs::write(work.path().join(name).join("journal.json"), name).unwrap();
            let mut r = ScenarioResult::example(name);
            r.status = status;
            r.journal = Some(work.path().join(name).join("journal.json"));
            keep_if_unpassed(&mut r, Some(keep_in.path()));
            results.push(r);
        }
        drop(work);
        assert_eq!(results[0].journal, None);
        for r in &results[1..] {
            let j = r.journal.as_ref().unwrap();
            assert!(j.starts_with(keep_in.path()));
            assert_eq!(std::fs::read_to_string(j).unwrap(), r.name, "the copy outlives the work directory");
        }
    }
}
