//! What both command-line programs (`lakehealer`, `lakechaos`) share around their own commands:
//! decoder panics kept quiet (corrupt pages are findings), logs to stderr filtered by an
//! environment variable, the async runtime, and the exit codes: the command's own (0 all well,
//! 1 a check failed), or 2 with `error: …` for bad input or an environment that does not answer.

use std::future::Future;
use std::process::ExitCode;

/// An error for people, from any layer: printed as `error: {it}`; the program exits with 2.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// A command's result: its exit code, or an error.
pub type CliResult = Result<u8, CliError>;

/// A program's logging: the variable that filters it and the filter without it.
pub struct Logging {
    pub env_var: &'static str,
    pub default_filter: &'static str,
}

/// Whether stderr may carry colour codes: a terminal, and `NO_COLOR` unset or empty (output
/// to a file or a pipe gets plain text).
pub fn stderr_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Sets up logging and the runtime, runs `command`, and turns its result into the exit code.
pub fn main(logging: Logging, command: impl Future<Output = CliResult>) -> ExitCode {
    lakechaos_lake::parquet_io::quiet_decoder_panics();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env(logging.env_var)
                .unwrap_or_else(|_| logging.default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(stderr_colour())
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Whatever layer the error came from, no URL in it keeps its password.
            eprintln!("error: {}", lakechaos_lake::redact::text(&e.to_string()));
            ExitCode::from(2)
        }
    }
}
