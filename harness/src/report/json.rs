//! The JSON report: every suite with every scenario's measurements.

use crate::run::result::{Status, SuiteReport};
use serde_json::json;
use std::path::Path;

/// The JSON document for a set of suites.
pub fn document(suites: &[SuiteReport]) -> serde_json::Value {
    let total = |s: Status| suites.iter().map(|r| r.count(s)).sum::<usize>();
    json!({
        "tool": "lakechaos",
        "version": env!("CARGO_PKG_VERSION"),
        "summary": {
            "passed": total(Status::Passed),
            "failed": total(Status::Failed),
            "skipped": total(Status::Skipped),
            "errors": total(Status::Error),
        },
        "suites": suites,
    })
}

/// Writes the JSON report.
pub fn write(suites: &[SuiteReport], path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&document(suites)).map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}
