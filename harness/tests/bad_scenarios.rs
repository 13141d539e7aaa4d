//! A generated corpus of bad scenario files, each given to `lakechaos validate` as a user would:
//! every one must be refused with exit 2 and `error: FILE:LINE:COL: message` (line ≥ 1), within
//! seconds (a FIFO or `/dev/zero` must not hang or eat memory), and `run` must seed nothing.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOOD: &str = "name: corpus-good
fixture: { dataset: orders, days: 2, rows_per_day: 100, files_per_day: 2, rows_per_row_group: 50, landing: true }
fault:
  kind: null_flood
  column: customer_id
  fraction: 0.5
  select: { partitions: 1, files: 1 }
slo: { detect_within: 2s, repair_within: 10s }
expect: { outcome: repaired, rows_lost: 0, false_incidents: 0 }
";

const DRIFT: &str = "name: corpus-drift
fixture: { dataset: orders, days: 2, rows_per_day: 100 }
fault:
  kind: schema_drift
  mode: rename_column
  column: amount
  new_name: amount_v2
slo: { detect_within: 2s, repair_within: 10s }
expect: { outcome: repaired }
";

const CORRUPT: &str = "name: corpus-corrupt
fixture: { dataset: orders, days: 2, rows_per_day: 100 }
fault:
  kind: corrupt_parquet
  mode: bit_flip_page
  bits: 8
slo: { detect_within: 2s, repair_within: 10s }
expect: { outcome: repaired }
";

const GRANT: &str = "name: corpus-grant
fixture: { dataset: orders, days: 2, rows_per_day: 100 }
fault:
  kind: permission_drift
  permissions: [ALTER]
slo: { detect_within: 2s, repair_within: 10s }
expect: { outcome: repaired }
";

/// (what it is, the file's bytes): each is one way a scenario can be wrong.
fn text_corpus() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut edit = |what: &str, base: &str, from: &str, to: &str| {
        assert!(base.contains(from), "{what}: {from:?} not in the base");
        out.push((what.to_string(), base.replacen(from, to, 1).into_bytes()));
    };
    // Quoted numbers and booleans.
    for (field, from, to) in [
        ("days", "days: 2", "days: \"2\""),
        ("rows_per_day", "rows_per_day: 100", "rows_per_day: '100'"),
        ("files_per_day", "files_per_day: 2", "files_per_day: \"2\""),
        ("rows_per_row_group", "rows_per_row_group: 50", "rows_per_row_group: \"50\""),
        ("landing", "landing: true", "landing: \"true\""),
        ("fraction", "fraction: 0.5", "fraction: \"0.6\""),
        ("select.partitions", "partitions: 1", "partitions: \"1\""),
        ("select.files", "files: 1 }", "files: \"1\" }"),
        ("rows_lost", "rows_lost: 0", "rows_lost: \"0\""),
        ("false_incidents", "false_incidents: 0", "false_incidents: '0'"),
    ] {
        edit(&format!("quoted {field}"), GOOD, from, to);
    }
    edit("quoted bits", CORRUPT, "bits: 8", "bits: \"8\"");
    // Durations outside 1 ms … 24 h, or not durations.
    for d in ["0s", "1ns", "999us", "25h", "100years", "100000000000years", "-1s", "soon", "\"\"", "1e9s"] {
        edit(&format!("detect_within {d}"), GOOD, "detect_within: 2s", &format!("detect_within: {d}"));
        edit(&format!("repair_within {d}"), GOOD, "repair_within: 10s", &format!("repair_within: {d}"));
    }
    edit("detect after repair", GOOD, "detect_within: 2s", "detect_within: 11s");
    // Sizes.
    for (what, to) in [
        ("huge fixture", "days: 366, rows_per_day: 5000000"),
        ("big fixture", "days: 100, rows_per_day: 4000000"),
        ("no days", "days: 0, rows_per_day: 100"),
        ("too many days", "days: 367, rows_per_day: 100"),
        ("no rows", "days: 2, rows_per_day: 0"),
        ("negative days", "days: -2, rows_per_day: 100"),
        ("float days", "days: 2.5, rows_per_day: 100"),
        ("overflowing rows", "days: 2, rows_per_day: 99999999999"),
    ] {
        edit(what, GOOD, "days: 2, rows_per_day: 100", to);
    }
    edit("no files per day", GOOD, "files_per_day: 2", "files_per_day: 0");
    edit("no rows per group", GOOD, "rows_per_row_group: 50", "rows_per_row_group: 0");
    edit("select more partitions than days", GOOD, "partitions: 1", "partitions: 3");
    edit("select no files", GOOD, "files: 1 }", "files: 0 }");
    // Columns off the contract, or not names at all.
    for c in ["nope", "\"../../etc\"", "\"<script>\"", "\"a\\nb\"", "\"\"", "\"1abc\"", "\"a b\"", "\"ünïcode\""] {
        edit(&format!("flood column {c}"), GOOD, "column: customer_id", &format!("column: {c}"));
        edit(&format!("drift column {c}"), DRIFT, "column: amount", &format!("column: {c}"));
    }
    edit("rename onto an existing column", DRIFT, "new_name: amount_v2", "new_name: order_id");
    edit("rename to a path", DRIFT, "new_name: amount_v2", "new_name: \"../x\"");
    edit(
        "add an existing column",
        DRIFT,
        "mode: rename_column\n  column: amount\n  new_name: amount_v2",
        "mode: add_column\n  column: order_id",
    );
    edit("new_name without rename", DRIFT, "mode: rename_column", "mode: drop_column");
    // Fault parameters.
    for (what, from, to) in [
        ("fraction 0", "fraction: 0.5", "fraction: 0"),
        ("fraction above 1", "fraction: 0.5", "fraction: 1.5"),
        ("fraction negative", "fraction: 0.5", "fraction: -0.5"),
        ("fraction nan", "fraction: 0.5", "fraction: .nan"),
        ("fraction bool", "fraction: 0.5", "fraction: true"),
        ("unknown fault field", "fraction: 0.5", "fraction: 0.5\n  colour: red"),
        ("unknown kind", "kind: null_flood", "kind: melt_disk"),
        ("kind not first", "  kind: null_flood\n  column: customer_id", "  column: customer_id\n  kind: null_flood"),
        ("no kind", "  kind: null_flood\n", ""),
    ] {
        edit(what, GOOD, from, to);
    }
    edit("bits 0", CORRUPT, "bits: 8", "bits: 0");
    edit("bits 65", CORRUPT, "bits: 8", "bits: 65");
    edit("bits on the wrong mode", CORRUPT, "mode: bit_flip_page", "mode: zero_byte");
    edit("no permissions", GRANT, "permissions: [ALTER]", "permissions: []");
    edit("lowercase permission", GRANT, "permissions: [ALTER]", "permissions: [alter]");
    edit("principal not an ARN", GRANT, "permissions: [ALTER]", "principal: admin");
    edit("empty principal", GRANT, "permissions: [ALTER]", "principal: \"\"");
    // Names.
    edit("300-character name", GOOD, "name: corpus-good", &format!("name: {}", "a".repeat(300)));
    edit("81-character name", GOOD, "name: corpus-good", &format!("name: {}", "a".repeat(81)));
    edit("uppercase name", GOOD, "name: corpus-good", "name: Corpus");
    edit("path name", GOOD, "name: corpus-good", "name: \"../../etc/passwd\"");
    edit("empty name", GOOD, "name: corpus-good", "name: \"\"");
    edit("newline name", GOOD, "name: corpus-good", "name: \"a\\nb\"");
    // Structure.
    for (what, from, to) in [
        ("unknown top-level key", "expect:", "colour: red\nexpect:"),
        ("unknown dataset", "dataset: orders", "dataset: customers"),
        ("unknown fixture key", "landing: true", "landing: true, colour: red"),
        ("unknown need", "name: corpus-good", "name: corpus-good\nneeds: [teleport]"),
        ("tags not a list", "name: corpus-good", "name: corpus-good\ntags: 5"),
        ("unknown outcome", "outcome: repaired", "outcome: vanished"),
        ("no fault", "fault:\n  kind: null_flood\n  column: customer_id\n  fraction: 0.5\n  select: { partitions: 1, files: 1 }\n", ""),
        ("no slo", "slo: { detect_within: 2s, repair_within: 10s }\n", ""),
        ("fault a list", "fault:\n", "fault: [1, 2]\nx:\n"),
        ("bad date", "landing: true", "landing: true, start_date: 2024-13-45"),
        ("bad indentation", "  fraction: 0.5", "    fraction: 0.5"),
        ("duplicate key", "expect:", "name: again\nexpect:"),
        ("tab indentation", "  fraction: 0.5", "\tfraction: 0.5"),
    ] {
        edit(what, GOOD, from, to);
    }
    for (what, bytes) in [
        ("empty file", b"".to_vec()),
        ("only a document marker", b"---\n".to_vec()),
        ("a list", b"- a\n- b\n".to_vec()),
        ("a scalar", b"hello\n".to_vec()),
        ("binary garbage", (0u8..=255).cycle().take(3000).collect()),
        ("an alias bomb", b"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n".to_vec()),
        ("deep nesting", format!("name: {}x{}\n", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
    ] {
        out.push((what.to_string(), bytes));
    }
    // Non-UTF-8 at various places.
    for at in [0usize, 10, 60, GOOD.len() - 2] {
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.insert(at, 0xff);
        out.push((format!("byte 0xff at {at}"), bytes));
    }
    let mut latin1 = GOOD.as_bytes().to_vec();
    latin1.extend(b"# caf\xe9\n");
    out.push(("latin-1 comment".into(), latin1));
    out
}

struct Refusal {
    line: u64,
    message: String,
}

/// Runs `lakechaos validate PATH` with a deadline; the refusal's location and message.
fn validate(path: &Path) -> Result<Refusal, String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .arg("validate")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lakechaos");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("still running after 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if out.status.code() != Some(2) {
        return Err(format!("exit {:?}: {stderr}{}", out.status.code(), String::from_utf8_lossy(&out.stdout)));
    }
    let prefix = format!("error: {}:", path.display());
    let first = stderr.lines().next().unwrap_or_default();
    let rest = first.strip_prefix(&prefix).ok_or_else(|| format!("no `{prefix}LINE:COL:` in {stderr:?}"))?;
    let mut parts = rest.splitn(3, ':');
    let line: u64 = parts.next().and_then(|l| l.parse().ok()).ok_or_else(|| format!("no line in {first:?}"))?;
    let column: u64 = parts.next().and_then(|c| c.parse().ok()).ok_or_else(|| format!("no column in {first:?}"))?;
    let message = parts.next().unwrap_or_default().trim().to_string();
    if line == 0 || column == 0 || message.len() < 8 {
        return Err(format!("location {line}:{column} or message {message:?} too thin in {first:?}"));
    }
    Ok(Refusal { line, message })
}

#[test]
fn every_bad_scenario_file_is_refused_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let mut tried = 0;
    let mut problems = Vec::new();
    for (i, (what, bytes)) in text_corpus().into_iter().enumerate() {
        let path = dir.path().join(format!("bad-{i:03}.yaml"));
        std::fs::write(&path, &bytes).unwrap();
        tried += 1;
        if let Err(p) = validate(&path) {
            problems.push(format!("{what}: {p}"));
        }
    }
    // The good bases themselves pass: the corpus is bad by its edits, not by its bases.
    for (i, good) in [GOOD, DRIFT, CORRUPT, GRANT].iter().enumerate() {
        let path = dir.path().join(format!("good-{i}.yaml"));
        std::fs::write(&path, good).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_lakechaos")).arg("validate").arg(&path).output().unwrap();
        assert!(out.status.success(), "{good}: {}", String::from_utf8_lossy(&out.stderr));
    }
    eprintln!("{tried} bad scenario files tried, {} refused with file:line:col", tried - problems.len());
    assert!(
        problems.is_empty(),
        "{} of {tried} not refused as they should be:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn messages_name_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, text: String, line: u64, wanted: &[&str]| {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let r = validate(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.line, line, "{name}: {}", r.message);
        for w in wanted {
            assert!(r.message.contains(w), "{name}: {:?} lacks {w:?}", r.message);
        }
    };
    check("quoted", GOOD.replace("days: 2", "days: \"2\""), 2, &["without quotes"]);
    check("tiny", GOOD.replace("detect_within: 2s", "detect_within: 0s"), 8, &["between 1ms and 1day"]);
    check(
        "huge",
        GOOD.replace("days: 2, rows_per_day: 100", "days: 366, rows_per_day: 5000000"),
        2,
        &["GiB", "--max-fixture-gib"],
    );
    check(
        "column",
        GOOD.replace("column: customer_id", "column: nope"),
        4,
        &["is not a column of the table", "customer_id"],
    );
    check("unsafe", GOOD.replace("column: customer_id", "column: \"../../etc\""), 4, &["expected a column name"]);
    check("long", GOOD.replace("name: corpus-good", &format!("name: {}", "a".repeat(300))), 1, &["at most 80"]);
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.insert(GOOD.find("fault:").unwrap() + 2, 0xfe);
    let path = dir.path().join("utf8.yaml");
    std::fs::write(&path, bytes).unwrap();
    let r = validate(&path).unwrap();
    assert_eq!(r.line, 3, "the first bad byte's line: {}", r.message);
    assert!(r.message.contains("UTF-8") && r.message.contains("0xfe"), "{}", r.message);
}

#[test]
fn files_that_are_not_scenario_files_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("fifo.yaml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let big = d.join("big.yaml");
    std::fs::write(&big, format!("{GOOD}#{}\n", "x".repeat(2 << 20))).unwrap();
    symlink("loop-b.yaml", d.join("loop-a.yaml")).unwrap();
    symlink("loop-a.yaml", d.join("loop-b.yaml")).unwrap();
    symlink("nowhere.yaml", d.join("dangling.yaml")).unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (fifo, "not a regular file"),
        (PathBuf::from("/dev/zero"), "not a regular file"),
        (PathBuf::from("/dev/urandom"), "not a regular file"),
        (big, "at most"),
        (d.join("loop-a.yaml"), "loop of symbolic links"),
        (d.join("dangling.yaml"), "symbolic link to nothing"),
        (d.join("absent.yaml"), "no such file"),
    ];
    for (path, wanted) in cases {
        let r = validate(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(r.message.contains(wanted), "{}: {:?} lacks {wanted:?}", path.display(), r.message);
    }
}

#[test]
fn a_directory_linking_to_itself_is_searched_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.yaml"), GOOD).unwrap();
    symlink(".", dir.path().join("self")).unwrap();
    symlink(dir.path(), dir.path().join("again")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lakechaos")).arg("validate").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 scenario(s) valid"));
}

#[test]
fn run_refuses_bad_scenarios_and_sns_without_aws_before_anything_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, GOOD.replace("column: customer_id", "column: nope")).unwrap();
    let work = dir.path().join("work");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_lakechaos")).args(args).arg("--workdir").arg(&work).output().unwrap()
    };
    let out = run(&["run", bad.to_str().unwrap(), "--target", "local"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!work.exists(), "nothing seeded");
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, GOOD).unwrap();
    let out = run(&["run", good.to_str().unwrap(), "--target", "local", "--sns-topic", "arn:aws:sns:us-east-1:1:t"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs an AWS target"));
    assert!(!work.join("corpus-good").exists(), "nothing seeded");
    // inject: a fault bound the seeded lake cannot meet fails at the scenario's fault and leaves
    // no lake behind.
    let cut = dir.path().join("cut.yaml");
    std::fs::write(&cut, CORRUPT.replace("mode: bit_flip_page\n  bits: 8", "mode: truncate_tail\n  bytes: 999999999"))
        .unwrap();
    let lake = dir.path().join("lake");
    let out = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .args(["inject", cut.to_str().unwrap(), "--lake", lake.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:4:3", cut.display())), "{stderr}");
    assert!(!lake.exists() && !dir.path().join("lake.journal.json").exists(), "{stderr}");
}
