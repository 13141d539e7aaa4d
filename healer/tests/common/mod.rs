#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `lakehealer` binary.
pub fn lakehealer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lakehealer")).args(args).output().expect("run lakehealer")
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The Python with pyarrow and DuckDB that `scripts/setup` installs (or LAKECHAOS_WRITERS_PYTHON).
pub fn writers_python() -> PathBuf {
    if let Ok(p) = std::env::var("LAKECHAOS_WRITERS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-writers/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup to install pyarrow and DuckDB for the other-writer tests",
        p.display()
    );
    p
}
