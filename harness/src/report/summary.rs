//! The readable summary table printed after a run.

use crate::run::result::{Status, SuiteReport};
use std::fmt::Write;

fn ms(v: Option<f64>) -> String {
    v.map(|ms| format!("{ms:.0}ms")).unwrap_or_else(|| "-".into())
}

/// Renders a suite as a table plus failure details.
pub fn render(suite: &SuiteReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "lakechaos: target {} · seed {}{}{}",
        suite.target,
        suite.seed,
        match suite.healer {
            crate::run::HealerChoice::Bundled => "",
            crate::run::HealerChoice::None => " · healer detect-only (--no-heal)",
            crate::run::HealerChoice::External => " · external healer (lakechaos injects, verifies and times)",
        },
        if suite.jobs > 1 {
            format!(" · {} scenarios at a time (their times include waiting for shared cores)", suite.jobs)
        } else {
            String::new()
        }
    );
    // LOST is loss nobody expected; EXP-LOST the loss a scenario declared unrepairable expects
    // (its fault destroyed what no source holds). FALSE: false incidents / false repairs.
    let _ = writeln!(
        out,
        "{:<6} {:<44} {:<38} {:>8} {:>8} {:>8} {:>6} {:>8} {:>6}",
        "STATUS", "SCENARIO", "FAULT", "TTD", "TTR", "SLO-TTR", "LOST", "EXP-LOST", "FALSE"
    );
    for r in &suite.scenarios {
        let status = match r.status {
            Status::Passed => "PASS",
            Status::Failed => "FAIL",
            Status::Skipped => "SKIP",
            Status::Error => "ERROR",
        };
        let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<6} {:<44} {:<38} {:>8} {:>8} {:>8} {:>6} {:>8} {:>6}",
            status,
            r.name,
            format!("{}/{}", r.fault_class, r.fault_mode),
            ms(r.time_to_detect_ms),
            ms(r.time_to_repair_ms),
            format!("{}ms", r.slo.repair_within.as_millis()),
            count(r.rows_lost_unexpected),
            count(r.rows_lost_expected),
            format!("{}/{}", r.false_incidents.len(), r.false_repairs.len()),
        );
    }
    out.push('\n');
    out.push_str(&class_table(&crate::run::scores::of_suite(suite)));
    let probed: Vec<_> = suite.scenarios.iter().filter_map(|r| r.dbt_probe.as_ref().map(|p| (r, p))).collect();
    if !probed.is_empty() {
        let _ = writeln!(out, "\ndbt build (steady-state probe):");
        for (r, p) in probed {
            let _ = writeln!(out, "  {:<44} {}", r.name, p.describe());
        }
    }
    let kept: Vec<&String> = suite.scenarios.iter().flat_map(|r| &r.kept_for_inspection).collect();
    if !kept.is_empty() {
        let _ = writeln!(out, "\nthe healer's quarantined copies of the damage, kept in the lake for inspection:");
        for key in kept {
            let _ = writeln!(out, "  {key}");
        }
    }
    for r in &suite.scenarios {
        if !r.failures.is_empty() || r.reason.is_some() {
            let _ = writeln!(out, "\n{} ({}):", r.name, r.source.display());
            for f in &r.failures {
                let _ = writeln!(out, "  - {f}");
            }
            if let Some(reason) = &r.reason {
                let _ = writeln!(out, "  - {reason}");
            }
            for f in &r.false_incidents {
                let _ = writeln!(out, "  - false incident: {f}");
            }
            for f in &r.false_repairs {
                let _ = writeln!(out, "  - false repair: {f}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} passed, {} failed, {} skipped, {} errors in {:.1}s",
        suite.count(Status::Passed),
        suite.count(Status::Failed),
        suite.count(Status::Skipped),
        suite.count(Status::Error),
        suite.duration_ms / 1000.0
    );
    out
}

/// The per-class scores as a table (and the run's on the last line).
pub fn class_table(scores: &crate::run::scores::Scores) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<22} {:>3} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6} {:>5} {:>5} {:>6} {:>8}",
        "FAULT CLASS",
        "N",
        "TTD p50",
        "TTD p95",
        "TTD max",
        "TTR p50",
        "TTR p95",
        "TTR max",
        "RECALL",
        "F-INC",
        "F-REP",
        "LOST",
        "EXP-LOST"
    );
    for c in scores.classes.iter().chain(std::iter::once(&scores.run)) {
        let [n, d50, d95, dmax, r50, r95, rmax, recall, finc, frep, lost, exp] = c.cells();
        let _ = writeln!(
            out,
            "{:<22} {n:>3} {d50:>9} {d95:>9} {dmax:>9} {r50:>9} {r95:>9} {rmax:>9} {recall:>6} {finc:>5} {frep:>5} {lost:>6} {exp:>8}",
            c.fault_class
        );
    }
    out
}

impl SuiteReport {
    /// Panics with the summary table when a scenario failed or errored; for `cargo test` suites.
    pub fn assert_all_passed(&self) {
        assert!(self.all_passed(), "lakechaos suite failed:\n{}", render(self));
    }
}
