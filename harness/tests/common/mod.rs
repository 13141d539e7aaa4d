//! Helpers shared by the harness's integration tests.
#![allow(dead_code)]

use lakechaos_faults::null_flood::NullFlood;
use lakechaos_faults::select::Selection;
use lakechaos_faults::FaultSpec;
use lakechaos_fixtures::OrdersSpec;
use std::path::PathBuf;

/// The repository's `scenarios/` folder.
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// A fixture small enough for many cases, with several row groups per file.
pub fn small_spec() -> OrdersSpec {
    OrdersSpec { days: 3, rows_per_day: 400, files_per_day: 2, rows_per_row_group: 100, ..OrdersSpec::default() }
}

/// One fault per mode, plus a flood of a nullable column (told from its normal nulls).
pub fn every_mode() -> Vec<FaultSpec> {
    let mut specs = FaultSpec::examples(&Selection::default());
    specs.push(FaultSpec::NullFlood(NullFlood {
        column: Some("coupon_code".into()),
        fraction: 0.6,
        select: Selection::default(),
    }));
    specs
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A tool the project's `scripts/setup` installs: `repo_root()/<relative>` if there, else the
/// name on PATH. Panics naming what to run when it is missing: a missing tool is a failed
/// test, never a silent pass.
pub fn setup_tool(relative: &str, name: &str) -> PathBuf {
    let local = repo_root().join(relative);
    if local.is_file() {
        return local;
    }
    on_path(name)
}

/// `name` on PATH; panics naming scripts/setup when it is not there.
pub fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.is_file()))
        .unwrap_or_else(|| panic!("{name} is not installed (not on PATH); run scripts/setup"))
}

/// The `lakehealer` binary, next to `lakechaos` (built first when `cargo test -p lakechaos`
/// alone has not built it).
pub fn lakehealer_bin() -> PathBuf {
    workspace_bin("lakehealer", "lakehealer")
}

/// A binary of another workspace package, built into this test's target directory if absent
/// (cargo builds only this package's binaries for its tests).
pub fn workspace_bin(package: &str, bin: &str) -> PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_lakechaos")).with_file_name(bin);
    if !path.exists() {
        let built = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", package, "--bin", bin])
            .status()
            .unwrap();
        assert!(built.success() && path.exists(), "{} could not be built", path.display());
    }
    path
}

/// Runs `lakechaos` from the repository root against an AWS emulator standing in for AWS
/// (`AWS_ENDPOINT_URL`, its dummy credentials, no profile).
pub fn lakechaos_against(endpoint: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .args(args)
        .current_dir(repo_root())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}
