//! The JSON report: every suite with every scenario's measurements.

use crate::run::result::{Status, SuiteReport};
use serde_json::json;
use std::path::Path;

/// The JSON document for a set of suites: each suite with its scores (per class and overall).
pub fn document(suites: &[SuiteReport]) -> serde_json::Value {
    let total = |s: Status| suites.iter().map(|r| r.count(s)).sum::<usize>();
    let suites: Vec<serde_json::Value> = suites
        .iter()
        .map(|suite| {
            let mut v = serde_json::to_value(suite).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("scores".into(), serde_json::to_value(crate::run::scores::of_suite(suite)).unwrap_or_default());
            }
            v
        })
        .collect();
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
