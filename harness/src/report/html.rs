//! A self-contained HTML report: a summary, a chart of time to detect and to repair per
//! scenario against its SLO, a table of every scenario and each failure's details. Inline CSS
//! and SVG only, so it opens from a CI artifact without network.

use crate::run::result::{ScenarioResult, Status, SuiteReport};
use crate::scenario::ExpectedOutcome;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::path::Path;

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; font-size: 1.15rem; }
.meta { color: #5b6475; }
.tiles { display: flex; gap: .8rem; margin: 1rem 0; flex-wrap: wrap; }
.tile { border-radius: 6px; padding: .6rem 1rem; min-width: 7rem; background: #f2f4f8; }
.tile b { display: block; font-size: 1.6rem; }
.passed { color: #1a7f37; } .failed, .error { color: #cf222e; } .skipped { color: #8a6d00; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.over { color: #cf222e; font-weight: 600; }
.failure { border-left: 4px solid #cf222e; background: #fff5f5; padding: .6rem 1rem; margin: .8rem 0; }
.failure ul { margin: .3rem 0; } code { font-size: 12px; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2330; } .legend { color: #5b6475; font-size: 12px; }
"#;

/// Chart geometry: label column, bar area, row height.
const LABEL_W: f64 = 330.0;
const BAR_W: f64 = 560.0;
const ROW_H: f64 = 44.0;

fn ms(v: Option<f64>) -> String {
    v.map(|ms| format!("{ms:.0} ms")).unwrap_or_else(|| "—".into())
}

fn status_word(s: Status) -> &'static str {
    crate::metrics::outcome(s)
}

/// One bar (time to detect or repair) against its SLO mark, on the class's common scale; the
/// deadline itself is written in the right-hand column.
fn bar(y: f64, value: Option<f64>, slo_ms: f64, scale: f64, colour: &str, label: &str) -> Markup {
    let x_of = |v: f64| LABEL_W + (v / scale).min(1.0) * BAR_W;
    let over = value.is_some_and(|v| v > slo_ms);
    let fill = if over { "#cf222e" } else { colour };
    let px = |v: f64| format!("{v:.1}");
    html! {
        @if let Some(v) = value {
            rect x=(LABEL_W) y=(y) width=(px(x_of(v) - LABEL_W)) height="12" fill=(fill) rx="2" {}
            text x=(px(x_of(v) + 4.0)) y=(y + 10.5) { (label) " " (ms(Some(v))) @if over { " (over SLO)" } }
        } @else {
            text x=(LABEL_W + 4.0) y=(y + 10.5) fill="#8a8f99" { (label) ": not reached" }
        }
        line x1=(px(x_of(slo_ms))) x2=(px(x_of(slo_ms))) y1=(y - 2.0) y2=(y + 14.0)
            stroke="#1d2330" stroke-width="2" stroke-dasharray="3,2" {}
        text x=(LABEL_W + BAR_W + 12.0) y=(y + 10.5) fill="#5b6475" { "SLO " (ms(Some(slo_ms))) }
    }
}

/// The second bar of a row: the repair, or where no repair is possible the report of it.
fn second_bar(r: &ScenarioResult) -> (Option<f64>, &'static str) {
    match r.expected_outcome {
        ExpectedOutcome::Unrepairable => (r.time_to_unrepairable_ms, "unrepairable reported"),
        _ => (r.time_to_repair_ms, "repair"),
    }
}

/// The scenarios of one fault class on one common time scale (the largest SLO or time among
/// them), so their bars compare with each other and with every deadline.
fn chart(scenarios: &[&ScenarioResult]) -> Markup {
    let height = ROW_H * scenarios.len() as f64 + 10.0;
    let scale = scenarios
        .iter()
        .flat_map(|r| {
            [
                r.slo.detect_within.as_secs_f64() * 1000.0,
                r.slo.repair_within.as_secs_f64() * 1000.0,
                r.time_to_detect_ms.unwrap_or(0.0),
                second_bar(r).0.unwrap_or(0.0),
            ]
        })
        .fold(1.0, f64::max)
        * 1.1;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(LABEL_W + BAR_W + 130.0) height=(height) role="img"
            aria-label="time to detect and repair per scenario against its SLO" {
            @for (i, r) in scenarios.iter().enumerate() {
                @let y = i as f64 * ROW_H + 6.0;
                @let detect_slo = r.slo.detect_within.as_secs_f64() * 1000.0;
                @let repair_slo = r.slo.repair_within.as_secs_f64() * 1000.0;
                @let (second, second_label) = second_bar(r);
                @if i % 2 == 1 {
                    rect x="0" y=(y - 5.0) width=(LABEL_W + BAR_W + 130.0) height=(ROW_H) fill="#f6f8fa" {}
                }
                text x="0" y=(y + 17.0) { (r.name) }
                (bar(y, r.time_to_detect_ms, detect_slo, scale, "#3b6fd8", "detect"))
                (bar(y + 18.0, second, repair_slo, scale, "#1a7f37", second_label))
            }
        }
    }
}

fn scenario_row(r: &ScenarioResult) -> Markup {
    let detect_slo = r.slo.detect_within.as_secs_f64() * 1000.0;
    let repair_slo = r.slo.repair_within.as_secs_f64() * 1000.0;
    html! {
        tr {
            td class=(status_word(r.status)) { (status_word(r.status)) }
            td { (r.name) }
            td { (r.fault_class) "/" (r.fault_mode) }
            td.num class=[r.time_to_detect_ms.filter(|v| *v > detect_slo).map(|_| "over")] { (ms(r.time_to_detect_ms)) }
            td.num { (ms(Some(detect_slo))) }
            td.num class=[r.time_to_repair_ms.filter(|v| *v > repair_slo).map(|_| "over")] { (ms(r.time_to_repair_ms)) }
            td.num { (ms(Some(repair_slo))) }
            td.num class=[r.rows_lost_unexpected.filter(|n| *n > 0).map(|_| "over")] {
                (r.rows_lost_unexpected.map(|n| n.to_string()).unwrap_or_else(|| "—".into()))
            }
            td.num { (r.rows_lost_expected.map(|n| n.to_string()).unwrap_or_else(|| "—".into())) }
            td.num { (r.false_incidents.len()) }
            td.num class=[(!r.false_repairs.is_empty()).then_some("over")] { (r.false_repairs.len()) }
            td {
                (r.reason.clone().unwrap_or_default())
                @if r.expected_outcome == ExpectedOutcome::Unrepairable {
                    "expected unrepairable (no source to heal from); reported in " (ms(r.time_to_unrepairable_ms))
                }
            }
        }
    }
}

fn failure_details(r: &ScenarioResult) -> Markup {
    html! {
        div.failure id=(format!("failure-{}", r.name)) {
            strong { (r.name) } " — " span class=(status_word(r.status)) { (status_word(r.status)) }
            " · " (r.fault_class) "/" (r.fault_mode) " · seed " (r.seed)
            @if r.ran_alongside > 0 { " · ran alongside " (r.ran_alongside) " other scenario(s)" }
            " · " code { (r.source.display().to_string()) }
            @if !r.failures.is_empty() {
                ul { @for f in &r.failures { li { (f) } } }
            }
            @if let Some(reason) = &r.reason { p { "Reason: " (reason) } }
            @if let Some(truth) = &r.ground_truth { p { "Injected: " (truth.detail) } }
            @if !r.false_incidents.is_empty() {
                p { "False incidents:" }
                ul { @for f in &r.false_incidents { li { (f) } } }
            }
            @if !r.false_repairs.is_empty() {
                p { "False repairs (outside the fault's footprint):" }
                ul { @for f in &r.false_repairs { li { (f) } } }
            }
            @if let Some(probe) = &r.dbt_probe { p { "dbt probe: " (probe.describe()) } }
            @if let Some(journal) = &r.journal { p { "Journal: " code { (journal.display().to_string()) } } }
        }
    }
}

/// The per-class scores (and the run's) as a table.
fn class_table(scores: &crate::run::scores::Scores) -> Markup {
    use crate::run::scores::ratio;
    let d = |v: Option<crate::run::scores::Distribution>, f: fn(&crate::run::scores::Distribution) -> f64| ms(v.as_ref().map(f));
    html! {
        table {
            thead { tr {
                th { "fault class" } th { "scenarios" } th { "detect p50" } th { "p95" } th { "max" }
                th { "repair p50" } th { "p95" } th { "max" } th { "recall" } th { "false incidents" }
                th { "false repairs" } th { "rows lost" } th { "expected loss" }
            } }
            tbody {
                @for c in scores.classes.iter().chain(std::iter::once(&scores.run)) {
                    tr {
                        td { @if c.fault_class == "all" { strong { "all" } } @else { (c.fault_class) } }
                        td.num { (c.scenarios) }
                        td.num { (d(c.time_to_detect, |d| d.p50_ms)) }
                        td.num { (d(c.time_to_detect, |d| d.p95_ms)) }
                        td.num { (d(c.time_to_detect, |d| d.max_ms)) }
                        td.num { (d(c.time_to_repair, |d| d.p50_ms)) }
                        td.num { (d(c.time_to_repair, |d| d.p95_ms)) }
                        td.num { (d(c.time_to_repair, |d| d.max_ms)) }
                        td.num { (ratio(c.recall)) }
                        td.num { (c.false_incidents) }
                        td.num class=[(c.false_repairs > 0).then_some("over")] { (c.false_repairs) }
                        td.num class=[(c.rows_lost_unexpected > 0).then_some("over")] { (c.rows_lost_unexpected) }
                        td.num { (c.rows_lost_expected) }
                    }
                }
            }
        }
    }
}

fn suite_section(suite: &SuiteReport) -> Markup {
    let measured: Vec<&ScenarioResult> =
        suite.scenarios.iter().filter(|s| matches!(s.status, Status::Passed | Status::Failed)).collect();
    let broken: Vec<&ScenarioResult> =
        suite.scenarios.iter().filter(|s| matches!(s.status, Status::Failed | Status::Error)).collect();
    let scores = crate::run::scores::of_suite(suite);
    let mut classes: std::collections::BTreeMap<&str, Vec<&ScenarioResult>> = std::collections::BTreeMap::new();
    for r in &measured {
        classes.entry(r.fault_class.as_str()).or_default().push(r);
    }
    html! {
        section {
            h2 { "Target " (suite.target) }
            p.meta {
                "seed " (suite.seed) " · started " (suite.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                " · " (format!("{:.1}", suite.duration_ms / 1000.0)) " s"
                @if suite.no_heal { " · healer detect-only (--no-heal)" }
                @if suite.healer == crate::run::HealerChoice::External { " · external healer" }
                @if suite.jobs > 1 { " · " (suite.jobs) " scenarios at a time (their times include waiting for shared cores)" }
            }
            div.tiles {
                @for (label, status) in [("passed", Status::Passed), ("failed", Status::Failed), ("errors", Status::Error), ("skipped", Status::Skipped)] {
                    div.tile { b class=(status_word(status)) { (suite.count(status)) } (label) }
                }
                div.tile title="golden rows not served intact in scenarios expected to heal: loss nobody expected" {
                    b class=[(scores.run.rows_lost_unexpected > 0).then_some("failed")] { (scores.run.rows_lost_unexpected) } "rows lost"
                }
                div.tile title="rows lost in scenarios declared unrepairable: the fault destroyed what no source holds" {
                    b { (scores.run.rows_lost_expected) } "expected loss (unrepairable)"
                }
                div.tile title="injected damage locations with a matching incident / locations injected" {
                    b { (crate::run::scores::ratio(scores.run.recall)) } "recall"
                }
                div.tile title="repairs that touched objects outside the fault's footprint" {
                    b class=[(scores.run.false_repairs > 0).then_some("failed")] { (scores.run.false_repairs) } "false repairs"
                }
            }
            @if !measured.is_empty() {
                h2 { "Scores per fault class" }
                (class_table(&scores))
                h2 { "Time to detect and repair against each SLO" }
                p.legend { "Bars: blue detect, green repair, red beyond the SLO. Dashed mark: the SLO deadline. One time scale per fault class." }
                @for (class, rows) in &classes {
                    h3 { (class) }
                    (chart(rows))
                }
            }
            h2 { "Scenarios" }
            table {
                thead { tr {
                    th { "status" } th { "scenario" } th { "fault" } th { "detect" } th { "SLO" }
                    th { "repair" } th { "SLO" } th { "rows lost" } th { "expected loss" } th { "false incidents" }
                    th { "false repairs" } th { "note" }
                } }
                tbody { @for r in &suite.scenarios { (scenario_row(r)) } }
            }
            @if !broken.is_empty() {
                h2 { "Failures" }
                @for r in &broken { (failure_details(r)) }
            }
        }
    }
}

/// The report as one HTML document.
pub fn render(suites: &[SuiteReport]) -> String {
    let all_passed = suites.iter().all(SuiteReport::all_passed);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "lakechaos report" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "lakechaos report" }
                p.meta {
                    @if all_passed { span.passed { "Every scenario passed or was skipped." } }
                    @else { span.failed { "Some scenarios failed: see Failures." } }
                }
                @for suite in suites { (suite_section(suite)) }
            }
        }
    };
    page.into_string()
}

/// Writes the HTML report.
pub fn write(suites: &[SuiteReport], path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, render(suites))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages_are_escaped() {
        let mut r = ScenarioResult::example("a");
        // Loaded names are kebab-case; results built through the library API need not be.
        r.name = "<script>alert(1)</script>".into();
        r.status = Status::Failed;
        r.failures = vec!["repair: \"quoted\" & <b>bold</b>".into()];
        let suite = SuiteReport {
            target: "local".into(),
            seed: 7,
            no_heal: false,
            healer: crate::run::HealerChoice::Bundled,
            jobs: 1,
            started_at: chrono::Utc::now(),
            duration_ms: 10.0,
            scenarios: vec![r],
        };
        let html = render(&[suite]);
        assert!(!html.contains("<script>") && !html.contains("<b>bold"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("&amp; &lt;b&gt;bold&lt;/b&gt;"), "{html}");
    }
}
