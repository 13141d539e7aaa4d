//! A Markdown step summary for CI (`--markdown FILE`; `$GITHUB_STEP_SUMMARY` is such a file):
//! the counts, the per-class scores, and each failed scenario with its broken expectations.

use crate::run::result::{Status, SuiteReport};
use crate::run::scores;
use std::fmt::Write;
use std::path::Path;

/// The summary of a set of suites.
pub fn render(suites: &[SuiteReport]) -> String {
    let mut out = String::new();
    for suite in suites {
        let s = scores::of_suite(suite);
        let icon = if suite.all_passed() { "✅" } else { "❌" };
        let _ = writeln!(out, "## {icon} lakechaos on `{}` (seed {})\n", suite.target, suite.seed);
        let _ = writeln!(
            out,
            "{} passed, {} failed, {} skipped, {} errors in {:.1} s; healer: {}\n",
            suite.count(Status::Passed),
            suite.count(Status::Failed),
            suite.count(Status::Skipped),
            suite.count(Status::Error),
            suite.duration_ms / 1000.0,
            suite.healer.name()
        );
        let _ = writeln!(
            out,
            "| fault class | scenarios | TTD p50 | TTD p95 | TTD max | TTR p50 | TTR p95 | TTR max | recall | false incidents | false repairs | rows lost (unexpected) | rows lost (expected) |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for c in s.classes.iter().chain(std::iter::once(&s.run)) {
            let name = if c.fault_class == "all" { "**all**".to_string() } else { format!("`{}`", c.fault_class) };
            let _ = writeln!(out, "| {name} | {} |", c.cells().join(" | "));
        }
        let failed: Vec<_> =
            suite.scenarios.iter().filter(|r| matches!(r.status, Status::Failed | Status::Error)).collect();
        if !failed.is_empty() {
            let _ = writeln!(out, "\n### Failures\n");
            for r in failed {
                let _ = writeln!(out, "- **{}** (`{}`)", r.name, r.source.display());
                for f in r.failures.iter().chain(r.reason.iter()) {
                    let _ = writeln!(out, "  - {}", f.replace('\n', " "));
                }
                if let Some(j) = &r.journal {
                    let _ = writeln!(out, "  - journal: `{}`", j.display());
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Appends the summary to `path` (a step summary collects every step's), creating it if needed.
pub fn write(suites: &[SuiteReport], path: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(render(suites).as_bytes())
}
