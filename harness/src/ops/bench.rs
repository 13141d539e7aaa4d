//! `lakechaos bench`: runs a suite repeatedly and reports time to detect and repair per fault
//! class (p50, p95) and the suite's wall time, each against its aim, in the same invocation.

use crate::run::result::{Status, SuiteReport};
use crate::run::{run_suite, RunError, RunOptions};
use crate::scenario::Scenario;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Aim for detecting listing- and footer-visible damage (p95).
pub const AIM_DETECT_MS: f64 = 250.0;
/// Aim for detecting page corruption, which needs decoding (p95).
pub const AIM_DETECT_PAGES_MS: f64 = 1000.0;
/// Aim for a single-file repair (p95).
pub const AIM_REPAIR_MS: f64 = 1000.0;
/// Aim for detecting damage to an Iceberg table's metadata, or a flood its manifests' column
/// statistics show, without opening a data file (p95).
pub const AIM_DETECT_ICEBERG_METADATA_MS: f64 = 100.0;
/// Aim for the whole default suite's wall time.
pub const AIM_SUITE_MS: f64 = 15_000.0;

/// Percentiles of one measurement.
#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    pub samples: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// Nearest-rank percentiles; `None` without samples.
pub fn percentiles(mut samples: Vec<f64>) -> Option<Percentiles> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    Some(Percentiles { samples: samples.len(), p50_ms: rank(0.50), p95_ms: rank(0.95) })
}

/// One fault class's figures.
#[derive(Clone, Debug, Serialize)]
pub struct ClassFigures {
    pub class: String,
    pub detect: Option<Percentiles>,
    pub repair: Option<Percentiles>,
    pub detect_aim_ms: f64,
    pub failures: usize,
}

/// Everything the benchmark measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub repeat: usize,
    pub classes: Vec<ClassFigures>,
    pub suite_wall: Percentiles,
    /// Matching detections per tier (listing/footer/pages).
    pub detections_by_tier: BTreeMap<String, usize>,
    /// File checks that decoded pages vs. that stopped at the footer.
    pub checks_decoding_pages: usize,
    pub checks_reading_footers: usize,
    pub not_passed: usize,
    /// Runs skipped because the target lacks a capability (not failures).
    pub skipped: usize,
    /// What triggered each first detection (`s3_event`, `fs_event`, `reconcile`, `scan`).
    pub detections_by_trigger: BTreeMap<String, usize>,
    /// Event-triggered detections: from the change's own event time to the incident.
    pub event_to_detect: Option<Percentiles>,
    /// PostgreSQL: wall time of each `dbt build` steady-state probe (before, after injection,
    /// after repair).
    pub dbt_build: Option<Percentiles>,
}

/// The class a result is reported under: page corruption separately, since it has its own aim;
/// on Iceberg tables, damage to the metadata tree and floods seen in the manifests' statistics
/// separately too (their own aim), and every other class marked as Iceberg.
fn class_of(class: &str, mode: &str, iceberg: bool) -> String {
    let plain = if mode == "bit_flip_page" { "corrupt_parquet (pages)".to_string() } else { class.to_string() };
    match (iceberg, class, mode) {
        (false, ..) => plain,
        (true, "iceberg_files", m) if m != "missing_data_file" => "iceberg metadata".into(),
        (true, "null_flood", _) => "iceberg statistics".into(),
        (true, ..) => format!("iceberg {plain}"),
    }
}

/// A class's detection aim.
fn detect_aim(class: &str) -> f64 {
    if class.contains("pages") {
        AIM_DETECT_PAGES_MS
    } else if class == "iceberg metadata" || class == "iceberg statistics" {
        AIM_DETECT_ICEBERG_METADATA_MS
    } else {
        AIM_DETECT_MS
    }
}

/// Runs the suite `repeat` times with seeds `seed`, `seed+1`, ...
pub async fn bench(
    scenarios: &[Scenario],
    opts: &RunOptions,
    repeat: usize,
) -> Result<(BenchReport, Vec<SuiteReport>), RunError> {
    let mut suites = Vec::with_capacity(repeat);
    for i in 0..repeat {
        let o = RunOptions { seed: opts.seed.wrapping_add(i as u64), ..opts.clone() };
        suites.push(run_suite(scenarios, &o).await?);
    }
    let mut detect: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut repair: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut tiers: BTreeMap<String, usize> = BTreeMap::new();
    let (mut pages, mut footers, mut not_passed, mut skipped) = (0, 0, 0, 0);
    let mut triggers: BTreeMap<String, usize> = BTreeMap::new();
    let mut from_event = Vec::new();
    let mut dbt_builds = Vec::new();
    let iceberg: std::collections::BTreeSet<&str> = scenarios
        .iter()
        .filter(|s| s.needs.contains(&crate::scenario::Capability::Iceberg))
        .map(|s| s.name.as_str())
        .collect();
    for s in &suites {
        for r in &s.scenarios {
            let class = class_of(&r.fault_class, &r.fault_mode, iceberg.contains(r.name.as_str()));
            detect.entry(class.clone()).or_default().extend(r.time_to_detect_ms);
            repair.entry(class.clone()).or_default().extend(r.time_to_repair_ms);
            if r.status == Status::Skipped {
                skipped += 1;
                continue;
            }
            if r.status != Status::Passed {
                not_passed += 1;
                *failures.entry(class.clone()).or_default() += 1;
            }
            if let Some(t) = &r.detection_tier {
                *tiers.entry(t.clone()).or_default() += 1;
            }
            if let Some(t) = &r.detected_via {
                *triggers.entry(t.clone()).or_default() += 1;
            }
            from_event.extend(r.event_to_detect_ms);
            if let Some(p) = &r.dbt_probe {
                dbt_builds.extend(
                    [&p.before, &p.after_injection, &p.after_repair].into_iter().flatten().map(|b| b.duration_ms),
                );
            }
            pages += r.pages_decoded;
            footers += r.footers_read;
        }
    }
    let classes = detect
        .keys()
        .map(|c| ClassFigures {
            class: c.clone(),
            detect: percentiles(detect[c].clone()),
            repair: percentiles(repair.get(c).cloned().unwrap_or_default()),
            detect_aim_ms: detect_aim(c),
            failures: failures.get(c).copied().unwrap_or(0),
        })
        .collect();
    let suite_wall = percentiles(suites.iter().map(|s| s.duration_ms).collect()).unwrap_or(Percentiles {
        samples: 0,
        p50_ms: 0.0,
        p95_ms: 0.0,
    });
    Ok((
        BenchReport {
            repeat,
            classes,
            suite_wall,
            detections_by_tier: tiers,
            checks_decoding_pages: pages,
            checks_reading_footers: footers,
            not_passed,
            skipped,
            detections_by_trigger: triggers,
            event_to_detect: percentiles(from_event),
            dbt_build: percentiles(dbt_builds),
        },
        suites,
    ))
}

/// The benchmark table, with each figure's ratio to its aim (≤ 1.00 meets the aim).
pub fn render(r: &BenchReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "lakechaos bench: {} run(s) of the suite", r.repeat);
    let _ = writeln!(
        out,
        "{:<26} {:>4} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>7}",
        "FAULT CLASS", "N", "TTD p50", "TTD p95", "TTD aim", "ratio", "TTR p50", "TTR p95", "TTR aim", "ratio"
    );
    for c in &r.classes {
        let (d50, d95, dr) = match &c.detect {
            Some(p) => (
                format!("{:.1}ms", p.p50_ms),
                format!("{:.1}ms", p.p95_ms),
                format!("{:.2}", p.p95_ms / c.detect_aim_ms),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let (r50, r95, rr) = match &c.repair {
            Some(p) => {
                (format!("{:.1}ms", p.p50_ms), format!("{:.1}ms", p.p95_ms), format!("{:.2}", p.p95_ms / AIM_REPAIR_MS))
            }
            None => ("-".into(), "-".into(), "-".into()),
        };
        let n = c.detect.as_ref().map(|p| p.samples).unwrap_or(0);
        let _ = writeln!(
            out,
            "{:<26} {:>4} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>7}",
            c.class,
            n,
            d50,
            d95,
            format!("{:.0}ms", c.detect_aim_ms),
            dr,
            r50,
            r95,
            format!("{AIM_REPAIR_MS:.0}ms"),
            rr
        );
    }
    let _ = writeln!(
        out,
        "suite wall time: p50 {:.2}s, p95 {:.2}s (aim {:.0}s, ratio {:.2})",
        r.suite_wall.p50_ms / 1000.0,
        r.suite_wall.p95_ms / 1000.0,
        AIM_SUITE_MS / 1000.0,
        r.suite_wall.p95_ms / AIM_SUITE_MS
    );
    let tiers: Vec<String> = r.detections_by_tier.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let _ = writeln!(out, "detections by tier: {}", tiers.join(", "));
    let triggers: Vec<String> = r.detections_by_trigger.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let _ = writeln!(out, "detections triggered by: {}", triggers.join(", "));
    if let Some(p) = &r.event_to_detect {
        let _ = writeln!(
            out,
            "event-triggered detections, from the event's own time: p50 {:.1}ms, p95 {:.1}ms (n={})",
            p.p50_ms, p.p95_ms, p.samples
        );
    }
    if let Some(p) = &r.dbt_build {
        let _ = writeln!(
            out,
            "dbt build (steady-state probe): p50 {:.0}ms, p95 {:.0}ms (n={})",
            p.p50_ms, p.p95_ms, p.samples
        );
    }
    let _ = writeln!(
        out,
        "file checks after injection: {} read only the footer, {} decoded pages",
        r.checks_reading_footers.saturating_sub(r.checks_decoding_pages),
        r.checks_decoding_pages
    );
    if r.skipped > 0 {
        let _ = writeln!(
            out,
            "{} scenario run(s) skipped: the target lacks a capability they need, or the fault has no meaning there",
            r.skipped
        );
    }
    if r.not_passed > 0 {
        let _ = writeln!(out, "WARNING: {} scenario run(s) did not pass; their timings are partial", r.not_passed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::percentiles;

    #[test]
    fn nearest_rank_percentiles() {
        let p = percentiles((1..=20).map(f64::from).collect()).unwrap();
        assert_eq!((p.p50_ms, p.p95_ms), (10.0, 19.0));
        let p = percentiles(vec![5.0]).unwrap();
        assert_eq!((p.p50_ms, p.p95_ms), (5.0, 5.0));
        assert!(percentiles(vec![]).is_none());
    }
}
