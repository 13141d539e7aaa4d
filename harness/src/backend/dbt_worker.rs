//! A resident dbt process for one scenario's probes (`dbt_worker.py`): the same dbt, project
//! and commands as the `dbt` executable, run through dbt's programmatic entry point in one
//! long-lived Python process, so each probe does not start Python and import dbt again (about
//! 1.3 s of the 1.8 s a `dbt build` of this project takes on a quiet 2-core machine).

use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const SCRIPT: &str = include_str!("dbt_worker.py");

/// Why the worker could not start or answer.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorkerError(pub String);

/// How a command ended, as the `dbt` command line would exit.
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    /// dbt's own error when it could not run the command at all.
    pub error: Option<String>,
}

#[derive(serde::Deserialize)]
struct Reply {
    #[serde(default)]
    ready: bool,
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    error: Option<String>,
}

/// The running worker. Dropping it kills the process.
#[derive(Debug)]
pub struct Worker {
    python: PathBuf,
    child: Child,
    stdin: ChildStdin,
    replies: Lines<BufReader<ChildStdout>>,
}

/// The Python beside a `dbt` executable (a virtualenv's `bin/`), if there is one.
pub fn python_beside(dbt: &Path) -> Option<PathBuf> {
    let python = dbt.parent()?.join("python");
    python.is_file().then_some(python)
}

impl Worker {
    /// Starts the worker with `python` and waits until dbt is imported.
    pub async fn start(python: &Path) -> Result<Worker, WorkerError> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(SCRIPT)
            .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| WorkerError(format!("{}: {e}", python.display())))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let mut worker = Worker { python: python.to_path_buf(), child, stdin, replies: BufReader::new(stdout).lines() };
        let ready = worker.reply().await?;
        if !ready.ready {
            return Err(WorkerError(format!("{}: the dbt worker did not start", python.display())));
        }
        Ok(worker)
    }

    /// Runs one dbt command (`args` as on the command line) with `env` added.
    pub async fn invoke(&mut self, args: &[String], env: &[(String, String)]) -> Result<Exit, WorkerError> {
        let request = serde_json::json!({
            "args": args,
            "env": env.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        });
        let line = format!("{request}\n");
        self.stdin.write_all(line.as_bytes()).await.map_err(|e| self.gone(e))?;
        self.stdin.flush().await.map_err(|e| self.gone(e))?;
        let reply = self.reply().await?;
        Ok(Exit { code: reply.exit, error: reply.error })
    }

    async fn reply(&mut self) -> Result<Reply, WorkerError> {
        match self.replies.next_line().await.map_err(|e| self.gone(e))? {
            Some(line) => serde_json::from_str(&line)
                .map_err(|e| WorkerError(format!("the dbt worker answered {line:?}: {e}"))),
            None => {
                let status = self.child.try_wait().ok().flatten();
                Err(WorkerError(format!(
                    "the dbt worker ({}) exited{}",
                    self.python.display(),
                    status.map(|s| format!(" with {s}")).unwrap_or_default()
                )))
            }
        }
    }

    fn gone(&self, e: std::io::Error) -> WorkerError {
        WorkerError(format!("the dbt worker ({}): {e}", self.python.display()))
    }
}
