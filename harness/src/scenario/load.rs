//! Loading scenario files: YAML → [`ScenarioFile`] → validated [`Scenario`], with every error
//! naming file, line, column and what was expected.

use super::file::{Capability, ExpectedOutcome, ScenarioFile};
use super::{Expectations, Scenario, Slo};
use lakechaos_fixtures::OrdersSpec;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A scenario that cannot be loaded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file itself (unreadable).
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl LoadError {
    fn at(file: &Path, loc: Location, message: impl Into<String>) -> Self {
        LoadError { file: file.to_path_buf(), line: loc.line(), column: loc.column(), message: message.into() }
    }
}

/// A YAML parse error of `file` as file:line:col and what was expected.
pub fn yaml_error(file: &Path, e: serde_saphyr::Error) -> LoadError {
    let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
    let mut message = e.without_snippet().to_string();
    // The position is reported separately as file:line:col.
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    LoadError { file: file.to_path_buf(), line, column, message }
}

/// Parses and validates one scenario document.
pub fn parse_scenario(text: &str, file: &Path) -> Result<Scenario, LoadError> {
    let raw: ScenarioFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(file, e))?;
    resolve(raw, file)
}

fn duration(file: &Path, field: &str, s: &Spanned<String>) -> Result<Duration, LoadError> {
    humantime::parse_duration(s.value.trim()).map_err(|e| {
        LoadError::at(
            file,
            s.referenced,
            format!("{field}: expected a duration such as 250ms, 2s or 1m, got {:?} ({e})", s.value),
        )
    })
}

fn resolve(raw: ScenarioFile, file: &Path) -> Result<Scenario, LoadError> {
    let name = &raw.name.value;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(LoadError::at(
            file,
            raw.name.referenced,
            format!("name: expected kebab-case (a-z, 0-9, -), got {name:?}"),
        ));
    }
    let fx = &raw.fixture.value;
    if fx.dataset != "orders" {
        return Err(LoadError::at(
            file,
            raw.fixture.referenced,
            format!("fixture.dataset: expected one of [orders], got {:?}", fx.dataset),
        ));
    }
    let defaults = OrdersSpec::default();
    let spec = OrdersSpec {
        days: fx.days.unwrap_or(defaults.days),
        rows_per_day: fx.rows_per_day.unwrap_or(defaults.rows_per_day),
        files_per_day: fx.files_per_day.unwrap_or(defaults.files_per_day),
        rows_per_row_group: fx.rows_per_row_group.unwrap_or(defaults.rows_per_row_group),
        start_date: fx.start_date.unwrap_or(defaults.start_date),
        landing: fx.landing.unwrap_or(defaults.landing),
    };
    let bad_fixture = |m: String| LoadError::at(file, raw.fixture.referenced, format!("fixture: {m}"));
    if !(1..=366).contains(&spec.days) {
        return Err(bad_fixture(format!("days must be between 1 and 366, got {}", spec.days)));
    }
    if spec.rows_per_day == 0 || spec.rows_per_day > 5_000_000 {
        return Err(bad_fixture(format!("rows_per_day must be between 1 and 5000000, got {}", spec.rows_per_day)));
    }
    if spec.files_per_day == 0 || spec.files_per_day > spec.rows_per_day {
        return Err(bad_fixture(format!(
            "files_per_day must be between 1 and rows_per_day, got {}",
            spec.files_per_day
        )));
    }
    if spec.rows_per_row_group == 0 {
        return Err(bad_fixture("rows_per_row_group must be at least 1".into()));
    }
    let fault = &raw.fault.value;
    let bad_fault = |m: String| LoadError::at(file, raw.fault.referenced, format!("fault ({}): {m}", fault.class()));
    fault.validate().map_err(|e| bad_fault(e.to_string()))?;
    // Faults in the catalog itself touch no data: nothing to check against the fixture.
    if let Some((partitions, files)) = fault.footprint() {
        if partitions == 0 || partitions > spec.days {
            return Err(bad_fault(format!(
                "selects {partitions} partition(s); the fixture has {} (fixture.days)",
                spec.days
            )));
        }
        if let Some(files) = files.filter(|f| *f == 0 || *f > spec.files_per_day) {
            return Err(bad_fault(format!(
                "selects {files} file(s) per partition; the fixture has {} (fixture.files_per_day)",
                spec.files_per_day
            )));
        }
    }
    let slo = Slo {
        detect_within: duration(file, "slo.detect_within", &raw.slo.detect_within)?,
        repair_within: duration(file, "slo.repair_within", &raw.slo.repair_within)?,
    };
    if slo.detect_within > slo.repair_within {
        return Err(LoadError::at(
            file,
            raw.slo.detect_within.referenced,
            "slo.detect_within must not exceed slo.repair_within",
        ));
    }
    let expect = Expectations {
        outcome: raw.expect.outcome,
        rows_lost: match (raw.expect.rows_lost, raw.expect.outcome) {
            (Some(n), _) => Some(n),
            (None, ExpectedOutcome::Repaired) => Some(0),
            (None, ExpectedOutcome::Detected | ExpectedOutcome::Unrepairable) => None,
        },
        false_incidents: raw.expect.false_incidents.unwrap_or(0),
    };
    let mut needs = raw.needs;
    // A fault on grants needs Lake Formation whether or not the file says so.
    if fault.fault().needs_lake_formation() && !needs.contains(&Capability::LakeFormation) {
        needs.push(Capability::LakeFormation);
    }
    Ok(Scenario {
        name: raw.name.value,
        description: raw.description.unwrap_or_default(),
        tags: raw.tags,
        needs,
        dataset: fx.dataset.clone(),
        fixture: spec,
        versioning: fx.versioning.unwrap_or(true),
        fault: raw.fault.value,
        slo,
        expect,
        source: file.to_path_buf(),
    })
}

/// Reads one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    })?;
    parse_scenario(&text, path)
}

/// Files named by `paths`: files as given, directories searched recursively for `*.yaml` and
/// `*.yml`, in sorted order.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir).map_err(|e| LoadError {
                    file: dir.clone(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read directory: {e}"),
                })?;
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                        found.push(path);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(LoadError { file: p.clone(), line: 0, column: 0, message: "no such file or directory".into() });
        }
    }
    Ok(out)
}

/// Loads every scenario under `paths`. All errors are returned, not just the first; duplicate
/// names are errors.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let files = scenario_files(paths).map_err(|e| vec![e])?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for f in files {
        match load_file(&f) {
            Ok(s) => {
                if let Some(first) = seen.get(&s.name) {
                    errors.push(LoadError {
                        file: f.clone(),
                        line: 1,
                        column: 1,
                        message: format!("name {:?} is already used by {}", s.name, first.display()),
                    });
                } else {
                    seen.insert(s.name.clone(), f.clone());
                    scenarios.push(s);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "name: t-1
fixture: { dataset: orders, days: 2, rows_per_day: 100 }
fault:
  kind: corrupt_parquet
  mode: truncate_tail
  bytes: 64
slo: { detect_within: 2s, repair_within: 10s }
expect: { outcome: repaired }
";

    fn err(text: &str) -> LoadError {
        parse_scenario(text, Path::new("s.yaml")).unwrap_err()
    }

    #[test]
    fn good_scenario_resolves_defaults() {
        let s = parse_scenario(GOOD, Path::new("s.yaml")).unwrap();
        assert_eq!(s.fixture.days, 2);
        assert_eq!(s.fixture.files_per_day, 2);
        assert_eq!(s.slo.detect_within, Duration::from_secs(2));
        assert_eq!(s.expect.rows_lost, Some(0));
    }

    #[test]
    fn unknown_fault_kind_is_located() {
        let e = err(&GOOD.replace("kind: corrupt_parquet", "kind: melt_disk"));
        assert_eq!((e.line, e.file.display().to_string()), (4, "s.yaml".into()), "{e}");
        assert!(e.message.contains("melt_disk") && e.message.contains("corrupt_parquet"), "{e}");
    }

    #[test]
    fn unknown_field_is_located() {
        let e = err(&GOOD.replace("  bytes: 64", "  bytez: 64"));
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("bytez"), "{e}");
        let e = err(&format!("{GOOD}colour: red\n"));
        assert_eq!(e.line, 9, "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let e = err(&GOOD.replace("detect_within: 2s", "detect_within: soon"));
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("duration"), "{e}");
        let e = err(&GOOD.replace("mode: truncate_tail", "mode: zero_byte"));
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("bytes is only valid"), "{e}");
        let e = err(&GOOD.replace("name: t-1", "name: T 1"));
        assert_eq!((e.line, e.column), (1, 7), "{e}");
        let e = err(&GOOD.replace("mode: truncate_tail", "mode: 12"));
        assert_eq!(e.line, 5, "{e}");
        let e = err(&GOOD.replace("  bytes: 64", "  select: { partitions: 3 }"));
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("selects 3 partition(s); the fixture has 2"), "{e}");
    }
}
