//! The scan benchmark: the healer's full (pages) and footer scans of one lake, against DuckDB's
//! full decode of the same files (`sum(hash(column))` over every column), all in one
//! invocation, and the footer scan's cost per file on a lake of many small files.
//!
//! Scans run the `lakehealer` binary beside this one, as users run it, so wall time and peak
//! RSS are those of the real process; each figure is the best of `repeat` runs.

use lakechaos_fixtures::{seed_lake, OrdersSpec};
use lakechaos_lake::Lake;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Clone, Debug)]
pub struct ScanBenchOptions {
    /// Where generated lakes go (created; left for a look).
    pub workdir: PathBuf,
    /// Scan this lake (a directory with a registered table) instead of generating one.
    pub lake: Option<PathBuf>,
    /// The generated lake: days × rows per day, in `files_per_day` files a day.
    pub days: u32,
    pub rows_per_day: u32,
    pub files_per_day: u32,
    /// Files of the small-files lake for the footer cost per file (0: not measured).
    pub footer_files: u32,
    /// A Python with DuckDB (none: the reference is not measured).
    pub duckdb_python: Option<PathBuf>,
    pub repeat: usize,
}

/// The figures, each the best of its runs.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ScanFigures {
    pub files: usize,
    pub bytes: u64,
    pub pages_s: f64,
    pub pages_peak_mib: u64,
    pub footer_s: f64,
    pub duckdb_s: Option<f64>,
    pub footer_files: u32,
    pub footer_us_per_file: Option<f64>,
}

pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// Runs the benchmark.
pub async fn run(opts: &ScanBenchOptions) -> Result<ScanFigures, BenchError> {
    std::fs::create_dir_all(&opts.workdir)?;
    let lake_dir = match &opts.lake {
        Some(dir) => dir.clone(),
        None => {
            let dir = opts.workdir.join("big-lake");
            let spec = OrdersSpec {
                days: opts.days,
                rows_per_day: opts.rows_per_day,
                files_per_day: opts.files_per_day,
                rows_per_row_group: 100_000,
                landing: false,
                ..OrdersSpec::default()
            };
            generate(&dir, &spec).await?;
            dir
        }
    };
    let files = parquet_files(&lake_dir);
    let mut figures = ScanFigures {
        files: files.len(),
        bytes: files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum(),
        ..ScanFigures::default()
    };
    let (pages, peak) = best_scan(&lake_dir, "pages", opts.repeat)?;
    (figures.pages_s, figures.pages_peak_mib) = (pages.as_secs_f64(), peak);
    figures.footer_s = best_scan(&lake_dir, "footer", opts.repeat)?.0.as_secs_f64();
    if opts.footer_files > 0 {
        let dir = opts.workdir.join("small-files-lake");
        let days = opts.footer_files.div_ceil(100);
        let spec = OrdersSpec {
            days,
            rows_per_day: 100 * 10,
            files_per_day: 100,
            rows_per_row_group: 10,
            landing: false,
            ..OrdersSpec::default()
        };
        generate(&dir, &spec).await?;
        let took = best_scan(&dir, "footer", opts.repeat)?.0;
        figures.footer_files = days * 100;
        figures.footer_us_per_file = Some(took.as_secs_f64() * 1e6 / f64::from(figures.footer_files));
    }
    // DuckDB last: its memory is not the healer's peak.
    if let Some(python) = &opts.duckdb_python {
        let mut best: Option<f64> = None;
        for _ in 0..opts.repeat.max(1) {
            let s = duckdb_decode(python, &files)?;
            best = Some(best.map_or(s, |b| b.min(s)));
        }
        figures.duckdb_s = best;
    }
    Ok(figures)
}

/// Seeds the `orders` fixture into `dir` (skipped when a previous run left it there).
async fn generate(dir: &Path, spec: &OrdersSpec) -> Result<(), BenchError> {
    let marker = dir.join("_lakechaos_bench.json");
    let wanted = format!("{:?}", (spec.days, spec.rows_per_day, spec.files_per_day, spec.rows_per_row_group));
    if std::fs::read_to_string(&marker).is_ok_and(|s| s == wanted) {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let lake = Lake::open_local(dir)?;
    seed_lake(&lake, "orders", spec, 1).await?;
    std::fs::write(marker, wanted)?;
    Ok(())
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(['_', '.']));
            if hidden {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The `lakehealer` binary beside this one.
fn lakehealer() -> Result<PathBuf, BenchError> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name("lakehealer");
    if !path.exists() {
        return Err(format!("{} is missing: build it (cargo build --release -p lakehealer)", path.display()).into());
    }
    Ok(path)
}

/// The best wall time of `repeat` scans at `depth`, and the peak RSS of the largest.
fn best_scan(lake: &Path, depth: &str, repeat: usize) -> Result<(Duration, u64), BenchError> {
    let binary = lakehealer()?;
    let mut best = Duration::MAX;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let o = Command::new(&binary).args(["scan", "--depth", depth, "--lake"]).arg(lake).output()?;
        let took = started.elapsed();
        if !o.status.success() {
            return Err(format!(
                "lakehealer scan --depth {depth} of {} exited {:?}: {}",
                lake.display(),
                o.status.code(),
                String::from_utf8_lossy(&o.stderr)
            )
            .into());
        }
        best = best.min(took);
    }
    Ok((best, peak_child_rss_mib()))
}

/// The largest resident set of any child waited for so far.
fn peak_child_rss_mib() -> u64 {
    // SAFETY: getrusage fills the struct we pass; zeroed is a valid initial value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return 0;
    }
    usage.ru_maxrss as u64 / 1024
}

/// DuckDB's decode of every column of `files` on two threads, timed inside the process.
fn duckdb_decode(python: &Path, files: &[PathBuf]) -> Result<f64, BenchError> {
    let script = r#"
import json, sys, time
import duckdb
files = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET threads = 2")
started = time.perf_counter()
con.execute("SELECT sum(hash(COLUMNS(*))) FROM read_parquet(?)", [files]).fetchall()
print(time.perf_counter() - started)
"#;
    let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    serde_json::to_writer(child.stdin.take().expect("piped"), &list)?;
    let o = child.wait_with_output()?;
    if !o.status.success() {
        return Err(format!("DuckDB failed: {}", String::from_utf8_lossy(&o.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().parse()?)
}

/// The figures as text, with each ratio against its goal.
pub fn render(f: &ScanFigures) -> String {
    let mut out = format!("lake: {} files, {:.0} MB\n", f.files, f.bytes as f64 / 1e6);
    out += &format!("healer scan --depth pages   {:>8.3} s   peak RSS {} MiB (goal <= 400)\n", f.pages_s, f.pages_peak_mib);
    out += &format!(
        "healer scan --depth footer  {:>8.3} s   {:.3}x pages (goal <= 0.05)\n",
        f.footer_s,
        f.footer_s / f.pages_s
    );
    match f.duckdb_s {
        Some(d) => {
            out += &format!("DuckDB full decode (2 threads) {:>5.3} s\n", d);
            out += &format!("healer pages / DuckDB: {:.2}x wall (goal <= 0.5)\n", f.pages_s / d);
        }
        None => out += "DuckDB full decode: not measured (no --duckdb-python)\n",
    }
    if let Some(us) = f.footer_us_per_file {
        out += &format!("footer scan of {} small files: {:.1} us/file (goal <= 30)\n", f.footer_files, us);
    }
    out
}
