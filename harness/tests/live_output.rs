//! A run you can watch: on a terminal (a pseudo-terminal here, from Python's `pty`) each running
//! scenario has a live line showing its phase; with `NO_COLOR` or `CI` set, or when output is a
//! pipe, the same run prints plain lines, one per phase, without an escape code.

mod common;

use std::process::Command;

/// Runs `lakechaos ARGS` on a 120x40 pseudo-terminal with `env` set; its exit code and
/// everything it wrote there (stdout and stderr share the terminal).
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    const PTY: &str = r#"
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
out = b""
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let mut cmd = Command::new("python3");
    cmd.args(["-c", PTY, env!("CARGO_BIN_EXE_lakechaos")]).args(args).current_dir(common::repo_root());
    cmd.env_remove("CI").env_remove("NO_COLOR").env("TERM", "xterm-256color");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("python3 runs");
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned())
}

const ARGS: [&str; 4] = ["run", "scenarios/null-flood-customer-id.yaml", "--target", "local"];

#[test]
fn a_terminal_shows_live_phases_and_plain_output_has_none_of_its_codes() {
    let (code, live) = on_terminal(&ARGS, &[]);
    assert_eq!(code, 0, "{live}");
    // indicatif redraws the line in place: escape codes, a spinner, the phases as they come.
    assert!(live.contains('\u{1b}'), "no escape codes on a terminal:\n{live}");
    assert!(["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"].iter().any(|s| live.contains(s)), "no spinner:\n{live}");
    assert!(live.contains("1/1 null-flood-customer-id"), "{live}");
    assert!(live.contains("PASS  null-flood-customer-id"), "{live}");
    assert!(!live.contains("] 1/1 null-flood-customer-id: seed"), "plain lines on a terminal:\n{live}");

    // NO_COLOR and CI each turn the display into plain lines, and no escape code is written.
    for env in [("NO_COLOR", "1"), ("CI", "true")] {
        let (code, plain) = on_terminal(&ARGS, &[env]);
        assert_eq!(code, 0, "{plain}");
        assert!(!plain.contains('\u{1b}'), "{env:?}: escape codes:\n{plain:?}");
        for phase in ["provision", "seed", "steady state", "inject", "detect", "repair", "verify"] {
            assert!(plain.contains(&format!("1/1 null-flood-customer-id: {phase}")), "{env:?}: no {phase}:\n{plain}");
        }
        assert!(plain.contains("null-flood-customer-id: PASS in"), "{plain}");
    }

    // A pipe: plain lines and no escape codes, with debug logging on as well.
    let o = Command::new(env!("CARGO_BIN_EXE_lakechaos"))
        .args(ARGS)
        .current_dir(common::repo_root())
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "debug")
        .env("LAKECHAOS_LOG", "debug")
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.stderr.contains(&0x1b) && !o.stdout.contains(&0x1b), "escape codes in a pipe:\n{err}");
    assert!(err.contains("1/1 null-flood-customer-id: steady state"), "{err}");
    assert!(err.lines().filter(|l| l.contains("null-flood-customer-id:")).count() >= 8, "{err}");
}
