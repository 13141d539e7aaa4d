//! Loading scenario files: YAML → [`ScenarioFile`] → validated [`Scenario`], with every error
//! naming file, line, column and what was expected.

use super::file::{Capability, ExpectedOutcome, FixtureFile, ScenarioFile};
use super::{Expectations, Like, Scenario, Slo};
use lakechaos_fixtures::OrdersSpec;
use serde_saphyr::{Location, Spanned};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Limits on what a scenario may ask for, checked before anything is seeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// The largest fixture a scenario may seed, as estimated from its size (landing copy
    /// included). Default 4 GiB; `--max-fixture-gib` raises it.
    pub max_fixture_bytes: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { max_fixture_bytes: 4 << 30 }
    }
}

/// Bytes a fixture row takes in Parquet, with margin (the `orders` files measure ~46 B/row).
const FIXTURE_BYTES_PER_ROW: u64 = 100;

/// The shortest and longest SLO deadlines a scenario may set.
pub const SLO_BOUNDS: (Duration, Duration) = (Duration::from_millis(1), Duration::from_secs(24 * 3600));

/// The longest scenario name (it names work directories, buckets and databases).
pub const MAX_NAME: usize = 80;

/// The largest scenario file read.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A scenario that cannot be loaded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based (1:1 when the problem is the file itself: unreadable, not a regular file).
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl LoadError {
    fn at(file: &Path, loc: Location, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line: loc.line().max(1),
            column: loc.column().max(1),
            message: message.into(),
        }
    }

    /// A problem with the file as a whole, reported at 1:1.
    fn file(file: &Path, message: impl Into<String>) -> Self {
        LoadError { file: file.to_path_buf(), line: 1, column: 1, message: message.into() }
    }
}

/// A YAML parse error of `file` as file:line:col and what was expected.
pub fn yaml_error(file: &Path, e: serde_saphyr::Error) -> LoadError {
    let (line, column) = e.location().map(|l| (l.line().max(1), l.column().max(1))).unwrap_or((1, 1));
    let mut message = e.without_snippet().to_string();
    // The position is reported separately as file:line:col.
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    LoadError { file: file.to_path_buf(), line, column, message }
}

/// Parses and validates one scenario document.
pub fn parse_scenario(text: &str, file: &Path) -> Result<Scenario, LoadError> {
    parse_scenario_with(text, file, &LoadOptions::default())
}

/// [`parse_scenario`] with limits.
pub fn parse_scenario_with(text: &str, file: &Path, opts: &LoadOptions) -> Result<Scenario, LoadError> {
    let raw: ScenarioFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(file, e))?;
    resolve(raw, file, opts)
}

fn duration(file: &Path, field: &str, s: &Spanned<String>) -> Result<Duration, LoadError> {
    let at = |m: String| LoadError::at(file, s.referenced, format!("{field}: {m}"));
    let d = humantime::parse_duration(s.value.trim())
        .map_err(|e| at(format!("expected a duration such as 250ms, 2s or 1m, got {:?} ({e})", s.value)))?;
    let (low, high) = SLO_BOUNDS;
    if d < low || d > high {
        return Err(at(format!(
            "expected a duration between {} and {}, got {:?}",
            humantime::format_duration(low),
            humantime::format_duration(high),
            s.value
        )));
    }
    Ok(d)
}

fn resolve(raw: ScenarioFile, file: &Path, opts: &LoadOptions) -> Result<Scenario, LoadError> {
    let name = &raw.name.value;
    if name.len() > MAX_NAME {
        return Err(LoadError::at(
            file,
            raw.name.referenced,
            format!("name: expected at most {MAX_NAME} characters, got {}", name.len()),
        ));
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(LoadError::at(
            file,
            raw.name.referenced,
            format!("name: expected kebab-case (a-z, 0-9, -), got {name:?}"),
        ));
    }
    let fixture_at = raw.fixture.as_ref().map(|f| (f.referenced.line().max(1), f.referenced.column().max(1)));
    let (dataset, spec, versioning, like) = match &raw.fixture {
        Some(fixture) => {
            let spec = fixture_spec(file, fixture, opts)?;
            let (dataset, like) = fixture_source(file, fixture)?;
            if let Some(Like::Profile(profile)) = &like {
                // A profile says how wide its rows are; a hostile one must not exhaust memory.
                let rows = spec.days as u64 * spec.rows_per_day as u64;
                let estimate = rows * profile.row_bytes() * if spec.landing { 2 } else { 1 };
                if estimate > opts.max_fixture_bytes {
                    return Err(LoadError::at(
                        file,
                        fixture.referenced,
                        format!(
                            "fixture: {rows} rows of {} bytes (the profile's widest) would take about {} GiB, above \
                             the limit of {} GiB (raise it with --max-fixture-gib)",
                            profile.row_bytes(),
                            estimate.div_ceil(1 << 30),
                            opts.max_fixture_bytes >> 30
                        ),
                    ));
                }
            }
            (dataset, spec, fixture.value.versioning.unwrap_or(true), like)
        }
        // Existing-table mode: the table decides what there is; checked against it before injection.
        None => (String::new(), OrdersSpec::default(), true, None),
    };
    let fault = &raw.fault.value;
    let bad_fault = |m: String| LoadError::at(file, raw.fault.referenced, format!("fault ({}): {m}", fault.class()));
    fault.validate().map_err(|e| bad_fault(e.to_string()))?;
    let contract = match &like {
        None => Some(lakechaos_fixtures::orders::contract()),
        Some(Like::Profile(profile)) => Some(profile.contract()),
        // Profiled when seeded: the fault's columns are checked when it is planned.
        Some(Like::Table { .. }) => None,
    };
    if raw.fixture.is_some() {
        check_against_fixture(fault, &spec, contract.as_deref()).map_err(bad_fault)?;
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
    // So does a fault on an Iceberg table's tree need an Iceberg table.
    if fault.fault().needs_iceberg() && !needs.contains(&Capability::Iceberg) {
        needs.push(Capability::Iceberg);
    }
    Ok(Scenario {
        name: raw.name.value,
        description: raw.description.unwrap_or_default(),
        tags: raw.tags,
        needs,
        fault_at: (raw.fault.referenced.line().max(1), raw.fault.referenced.column().max(1)),
        fixture_at,
        dataset,
        fixture: spec,
        like,
        versioning,
        fault: raw.fault.value,
        slo,
        expect,
        source: file.to_path_buf(),
    })
}

/// The fixture's size, with defaults applied and limits checked.
fn fixture_spec(file: &Path, fixture: &Spanned<FixtureFile>, opts: &LoadOptions) -> Result<OrdersSpec, LoadError> {
    let fx = &fixture.value;
    let defaults = OrdersSpec::default();
    let spec = OrdersSpec {
        days: fx.days.unwrap_or(defaults.days),
        rows_per_day: fx.rows_per_day.unwrap_or(defaults.rows_per_day),
        files_per_day: fx.files_per_day.unwrap_or(defaults.files_per_day),
        rows_per_row_group: fx.rows_per_row_group.unwrap_or(defaults.rows_per_row_group),
        start_date: fx.start_date.unwrap_or(defaults.start_date),
        landing: fx.landing.unwrap_or(defaults.landing),
    };
    let bad_fixture = |m: String| LoadError::at(file, fixture.referenced, format!("fixture: {m}"));
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
    let rows = spec.days as u64 * spec.rows_per_day as u64;
    let estimate = rows * FIXTURE_BYTES_PER_ROW * if spec.landing { 2 } else { 1 };
    if estimate > opts.max_fixture_bytes {
        return Err(bad_fixture(format!(
            "{rows} rows would take about {} GiB (landing copy included), above the limit of {} GiB \
             (raise it with --max-fixture-gib)",
            estimate.div_ceil(1 << 30),
            opts.max_fixture_bytes >> 30
        )));
    }
    Ok(spec)
}

/// What the fixture generates: `orders`, a profile (read now, relative to the scenario file),
/// or a table profiled when seeded. Exactly one of `dataset`, `profile` and `like`.
fn fixture_source(file: &Path, fixture: &Spanned<FixtureFile>) -> Result<(String, Option<Like>), LoadError> {
    let fx = &fixture.value;
    let at = |loc: Location, m: String| LoadError::at(file, loc, m);
    match (&fx.dataset, &fx.profile, &fx.like) {
        (Some(d), None, None) if d == "orders" => Ok((d.clone(), None)),
        (Some(d), None, None) => {
            Err(at(fixture.referenced, format!("fixture.dataset: expected one of [orders], got {d:?}")))
        }
        (None, Some(p), None) => {
            let profile = read_profile(file, p)?;
            Ok((profile.table.clone(), Some(Like::Profile(profile))))
        }
        (None, None, Some(l)) if l.value.ends_with(".yaml") || l.value.ends_with(".yml") => {
            let profile = read_profile(file, l)?;
            Ok((profile.table.clone(), Some(Like::Profile(profile))))
        }
        (None, None, Some(l)) => {
            let address = if l.value.starts_with("s3://") || Path::new(&l.value).is_absolute() {
                l.value.trim_end_matches('/').to_string()
            } else {
                file.parent().unwrap_or(Path::new(".")).join(&l.value).display().to_string()
            };
            match address.rsplit_once('/') {
                Some((lake, table))
                    if !lake.is_empty() && !table.is_empty() && !lake.ends_with(':') && lake != "s3:/" =>
                {
                    Ok((table.to_string(), Some(Like::Table { lake: lake.to_string(), table: table.to_string() })))
                }
                _ => Err(at(
                    l.referenced,
                    format!("fixture.like: expected DIR/TABLE or s3://BUCKET/PREFIX/TABLE, got {:?}", l.value),
                )),
            }
        }
        (None, None, None) => Err(at(fixture.referenced, "fixture: expected one of dataset, profile or like".into())),
        _ => Err(at(fixture.referenced, "fixture: dataset, profile and like exclude each other".into())),
    }
}

/// A profile file named by a scenario, relative to it; errors point at the profile's own line
/// and column.
fn read_profile(file: &Path, path: &Spanned<String>) -> Result<lakechaos_fixtures::TableProfile, LoadError> {
    let resolved = file.parent().unwrap_or(Path::new(".")).join(&path.value);
    let text = read_text(&resolved)
        .map_err(|e| LoadError::at(file, path.referenced, format!("fixture profile {}: {}", resolved.display(), e)))?;
    let profile: lakechaos_fixtures::TableProfile = serde_saphyr::from_str(&text).map_err(|e| {
        let e = yaml_error(&resolved, e);
        LoadError::at(file, path.referenced, format!("fixture profile {e}"))
    })?;
    profile
        .check()
        .map_err(|m| LoadError::at(file, path.referenced, format!("fixture profile {}: {m}", resolved.display())))?;
    Ok(profile)
}

/// Checks a fault against the fixture it will break: the dataset's contract is known before
/// anything is seeded, and so are its partitions and files.
fn check_against_fixture(
    fault: &lakechaos_faults::FaultSpec,
    spec: &OrdersSpec,
    contract: Option<&[lakechaos_lake::ColumnDef]>,
) -> Result<(), String> {
    if let Some(contract) = contract {
        fault.fault().check_contract(contract).map_err(|e| e.to_string())?;
    }
    // Faults in the catalog itself touch no data: nothing to check against the fixture.
    if let Some((partitions, files)) = fault.footprint() {
        if partitions == 0 || partitions > spec.days {
            return Err(format!("selects {partitions} partition(s); the fixture has {} (fixture.days)", spec.days));
        }
        if let Some(files) = files.filter(|f| *f == 0 || *f > spec.files_per_day) {
            return Err(format!(
                "selects {files} file(s) per partition; the fixture has {} (fixture.files_per_day)",
                spec.files_per_day
            ));
        }
    }
    Ok(())
}

/// Reads one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    load_file_with(path, &LoadOptions::default())
}

/// Reads one scenario file: a regular file (after links) of at most [`MAX_FILE_BYTES`], UTF-8.
/// A FIFO, a device or a directory is refused without reading it.
pub fn load_file_with(path: &Path, opts: &LoadOptions) -> Result<Scenario, LoadError> {
    let text = read_text(path)?;
    parse_scenario_with(&text, path, opts)
}

fn read_text(path: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| LoadError::file(path, cannot_open(&e)))?;
    if !meta.is_file() {
        return Err(LoadError::file(path, "not a regular file (a scenario is a YAML file)"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::file(
            path,
            format!("{} bytes; a scenario file is at most {MAX_FILE_BYTES}", meta.len()),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| LoadError::file(path, cannot_open(&e)))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::file(
            path,
            format!("more than {MAX_FILE_BYTES} bytes; a scenario file is at most that"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let line_start = good.iter().rposition(|b| *b == b'\n').map(|i| i + 1).unwrap_or(0);
        let column = String::from_utf8_lossy(&good[line_start..]).chars().count() as u64 + 1;
        LoadError {
            file: path.to_path_buf(),
            line,
            column,
            message: format!("expected UTF-8 text, found the byte 0x{:02x}", e.as_bytes()[good.len()]),
        }
    })
}

/// Why a path cannot be opened, in words (a symbolic-link loop named as such).
fn cannot_open(e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(libc::ELOOP) {
        "a loop of symbolic links".into()
    } else {
        format!("cannot read: {e}")
    }
}

/// Files named by `paths`: files as given, directories searched recursively for `*.yaml` and
/// `*.yml`, in sorted order. Links to directories are not followed inside a search (a link to
/// `.` would repeat everything); links to files are.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if std::fs::symlink_metadata(p).is_err() => {
                LoadError::file(p, "no such file or directory")
            }
            std::io::ErrorKind::NotFound => LoadError::file(p, "a symbolic link to nothing"),
            _ => LoadError::file(p, cannot_open(&e)),
        })?;
        if !meta.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut stack = vec![p.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            let entries =
                std::fs::read_dir(&dir).map_err(|e| LoadError::file(&dir, format!("cannot read directory: {e}")))?;
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() {
                    stack.push(path);
                } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                    && !is_profile(&path)
                    && (!kind.is_symlink() || !path.is_dir())
                {
                    found.push(path);
                }
            }
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Whether a file is a table profile (`*.profile.yaml`), kept beside the scenarios that use it.
fn is_profile(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".profile.yaml") || n.ends_with(".profile.yml"))
}

/// Loads every scenario under `paths`. All errors are returned, not just the first; duplicate
/// names are errors.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<LoadError>> {
    load_paths_with(paths, &LoadOptions::default())
}

/// [`load_paths`] with limits.
pub fn load_paths_with(paths: &[PathBuf], opts: &LoadOptions) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let files = scenario_files(paths).map_err(|e| vec![e])?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for f in files {
        match load_file_with(&f, opts) {
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
    fn profiles_are_read_beside_the_scenario_and_held_to_the_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let profile = "table: t\npartitions: 1\nfiles: 1\nrows: 10\ncolumns:\n  - { name: note, type: string, nullable: true, max_null_fraction: 0.2, null_share: 0.1, distinct: 5, min_length: 1, max_length: 4000 }\n";
        std::fs::write(dir.path().join("t.profile.yaml"), profile).unwrap();
        let scenario = |fixture: &str| {
            format!("name: p\nfixture: {fixture}\nfault: {{ kind: null_flood, column: {{ type: string }}, fraction: 0.5 }}\nslo: {{ detect_within: 1s, repair_within: 2s }}\nexpect: {{ outcome: repaired }}\n")
        };
        let file = dir.path().join("s.yaml");
        let s = parse_scenario(&scenario("{ profile: t.profile.yaml, days: 2, rows_per_day: 100 }"), &file).unwrap();
        assert!(matches!(&s.like, Some(Like::Profile(p)) if p.table == "t"), "{:?}", s.like);
        assert_eq!(s.dataset, "t");
        // Wide rows: within the orders estimate, beyond the profile's.
        let e = parse_scenario(&scenario("{ profile: t.profile.yaml, days: 366, rows_per_day: 50000 }"), &file)
            .unwrap_err();
        assert!(e.message.contains("the profile's widest"), "{e}");
        // A column the profile lacks, and a profile that is not one, are located.
        let e = parse_scenario(&scenario("{ profile: t.profile.yaml }").replace("{ type: string }", "amount"), &file)
            .unwrap_err();
        assert!(e.message.contains("\"amount\" is not a column of the table"), "{e}");
        std::fs::write(dir.path().join("bad.profile.yaml"), "table: t\ncolour: red\n").unwrap();
        let e = parse_scenario(&scenario("{ profile: bad.profile.yaml }"), &file).unwrap_err();
        assert!(e.message.contains("bad.profile.yaml:2:1") && e.message.contains("colour"), "{e}");
        let e = parse_scenario(&scenario("{ dataset: orders, profile: t.profile.yaml }"), &file).unwrap_err();
        assert!(e.message.contains("exclude each other"), "{e}");
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
