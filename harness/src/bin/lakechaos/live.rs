//! What `lakechaos run` shows while it runs, on stderr (stdout keeps the summary table). On a
//! terminal, outside CI: a live line per running scenario (its phase and how long it has been
//! running), each finished one printed once. Elsewhere (a file, a pipe, `CI` set): one plain line
//! per phase, with the time since the run started. Never escape codes unless stderr is a
//! terminal and `NO_COLOR` is unset.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lakechaos::run::progress::{Progress, Watch};
use lakechaos::run::result::Status;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether stderr is a terminal a live display may draw on: not in CI, and not where colour
/// is refused (`NO_COLOR`: the spinner is drawn with escape codes).
fn live_terminal() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none_or(|v| v.is_empty())
        && lakehealer::cli::stderr_colour()
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Skipped => "SKIP",
        Status::Error => "ERROR",
    }
}

/// The watcher for this process's stderr.
pub fn watch() -> Watch {
    if live_terminal() {
        terminal()
    } else {
        plain()
    }
}

/// One line per event: `[  12.3s] 3/42 scenario: phase`.
fn plain() -> Watch {
    let started = Instant::now();
    let positions: Mutex<HashMap<String, (usize, usize)>> = Mutex::new(HashMap::new());
    Watch(Arc::new(move |scenario, progress| {
        let mut positions = positions.lock().expect("not poisoned");
        let what = match progress {
            Progress::Started { index, total } => {
                positions.insert(scenario.to_string(), (index + 1, total));
                "started".to_string()
            }
            Progress::Phase(p) => p.name().to_string(),
            Progress::Finished { status, duration_ms } => {
                format!("{} in {:.1}s", status_word(status), duration_ms / 1000.0)
            }
        };
        let at = positions.get(scenario).map(|(i, n)| format!("{i}/{n} ")).unwrap_or_default();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "[{:>7.1}s] {at}{scenario}: {what}", started.elapsed().as_secs_f64());
    }))
}

/// A spinner line per running scenario; finished ones are printed above the live lines.
fn terminal() -> Watch {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed:>4}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
    let bars: Mutex<HashMap<String, ProgressBar>> = Mutex::new(HashMap::new());
    Watch(Arc::new(move |scenario, progress| {
        let mut bars = bars.lock().expect("not poisoned");
        match progress {
            Progress::Started { index, total } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(format!("{}/{total} {scenario}", index + 1));
                bar.set_message("starting");
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(scenario.to_string(), bar);
            }
            Progress::Phase(p) => {
                if let Some(bar) = bars.get(scenario) {
                    bar.set_message(p.name());
                }
            }
            Progress::Finished { status, duration_ms } => {
                let line = format!("{:<5} {scenario} ({:.1}s)", status_word(status), duration_ms / 1000.0);
                match bars.remove(scenario) {
                    Some(bar) => {
                        bar.finish_and_clear();
                        multi.remove(&bar);
                        let _ = multi.println(line);
                    }
                    None => {
                        let _ = multi.println(line);
                    }
                }
            }
        }
    }))
}
