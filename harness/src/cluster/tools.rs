//! Runs the command-line tools petset drives (kind, k3d, docker) with a deadline, keeping their
//! output for reports.
//!
//! Programs are looked up on an explicit `PATH` held by the [`ToolRunner`], never on the process's
//! own, so tests can put stand-in executables first without touching global state.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// How long to keep reading a killed program's pipes: a grandchild (kind's own `docker`
/// calls, say) may hold them open after the program itself is gone.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Runs programs found on its own `PATH`, with extra environment variables, under a deadline.
#[derive(Clone, Debug)]
pub struct ToolRunner {
    path: OsString,
    envs: Vec<(OsString, OsString)>,
}

/// What a finished (or stopped) program printed and how it ended.
#[derive(Clone, Debug)]
pub struct CommandOutput {
    /// The command line as a shell user would type it.
    pub command: String,
    /// The exit code; `None` when the program was killed (by the deadline or a signal).
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Why a program could not be run to completion.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("`{program}` not found on PATH; {hint}")]
    NotFound { program: String, hint: String },
    #[error("failed to start `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to wait for `{command}`")]
    Wait {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` did not finish within {} and was stopped{}", .output.command, seconds(*.deadline), .output.transcript())]
    TimedOut {
        deadline: Duration,
        output: Box<CommandOutput>,
    },
    #[error("`{}` failed ({}){}", .output.command, .output.status(), .output.transcript())]
    Failed { output: Box<CommandOutput> },
}

impl RunError {
    /// The error for a program that is not on the runner's `PATH`, with an install hint.
    pub(crate) fn not_found(program: &str) -> Self {
        RunError::NotFound {
            program: program.to_string(),
            hint: install_hint(program),
        }
    }

    /// The captured output, when the program ran at all.
    pub fn output(&self) -> Option<&CommandOutput> {
        match self {
            RunError::TimedOut { output, .. } | RunError::Failed { output } => Some(output),
            _ => None,
        }
    }
}

impl ToolRunner {
    /// A runner using this process's `PATH`.
    pub fn from_env() -> Self {
        ToolRunner::with_path(std::env::var_os("PATH").unwrap_or_default())
    }

    /// A runner that finds programs on `path` (a `PATH`-style list) and hands it to them.
    pub fn with_path(path: impl Into<OsString>) -> Self {
        ToolRunner {
            path: path.into(),
            envs: Vec::new(),
        }
    }

    /// Sets an environment variable for every program this runner starts.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// The `PATH` this runner searches.
    pub fn path(&self) -> &OsStr {
        &self.path
    }

    /// Finds `program` on this runner's `PATH` (or takes it as given when it names a path).
    pub fn locate(&self, program: &str) -> Option<PathBuf> {
        if program.contains(std::path::MAIN_SEPARATOR) {
            let path = PathBuf::from(program);
            return is_executable(&path).then_some(path);
        }
        std::env::split_paths(&self.path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
    }

    /// Runs `program args...` to completion or until `deadline`, whichever comes first.
    ///
    /// A non-zero exit is not an error here (callers often need to read it); use
    /// [`CommandOutput::into_result`] to turn it into one.
    pub async fn run(
        &self,
        program: &str,
        args: &[&str],
        deadline: Duration,
    ) -> Result<CommandOutput, RunError> {
        let command = render_command(program, args);
        let resolved = self
            .locate(program)
            .ok_or_else(|| RunError::not_found(program))?;
        let mut cmd = Command::new(&resolved);
        cmd.args(args)
            .env("PATH", &self.path)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
            command: command.clone(),
            source,
        })?;

        let stdout = Captured::default();
        let stderr = Captured::default();
        let mut out_task = tokio::spawn(pump(child.stdout.take(), stdout.clone()));
        let mut err_task = tokio::spawn(pump(child.stderr.take(), stderr.clone()));

        let status = match tokio::time::timeout(deadline, child.wait()).await {
            Ok(Ok(status)) => Some(status),
            Ok(Err(source)) => return Err(RunError::Wait { command, source }),
            Err(_elapsed) => {
                // The program overran: stop it, then reap it so no zombie is left behind.
                let _ = child.start_kill();
                let _ = tokio::time::timeout(DRAIN_GRACE, child.wait()).await;
                None
            }
        };
        let drained = tokio::time::timeout(DRAIN_GRACE, async {
            let _ = (&mut out_task).await;
            let _ = (&mut err_task).await;
        })
        .await;
        if drained.is_err() {
            out_task.abort();
            err_task.abort();
        }

        let output = CommandOutput {
            command,
            exit_code: status.and_then(|s| s.code()),
            stdout: stdout.text(),
            stderr: stderr.text(),
            elapsed: started.elapsed(),
        };
        match status {
            Some(_) => Ok(output),
            None => Err(RunError::TimedOut {
                deadline,
                output: Box::new(output),
            }),
        }
    }
}

impl CommandOutput {
    /// Whether the program exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// `Ok(self)` on a zero exit, otherwise [`RunError::Failed`] carrying the output.
    pub fn into_result(self) -> Result<CommandOutput, RunError> {
        if self.success() {
            Ok(self)
        } else {
            Err(RunError::Failed {
                output: Box::new(self),
            })
        }
    }

    /// "exit code 1" or "killed".
    pub fn status(&self) -> String {
        match self.exit_code {
            Some(code) => format!("exit code {code}"),
            None => "killed".to_string(),
        }
    }

    /// The captured output, indented under headings, for error messages and reports.
    pub fn transcript(&self) -> String {
        let mut text = String::new();
        for (label, body) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let body = body.trim_end();
            if body.is_empty() {
                continue;
            }
            text.push_str(&format!("\n  {label}:"));
            for line in body.lines() {
                text.push_str("\n    ");
                text.push_str(line);
            }
        }
        text
    }
}

impl fmt::Display for CommandOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {} ({}, {:.1}s){}",
            self.command,
            self.status(),
            self.elapsed.as_secs_f64(),
            self.transcript()
        )
    }
}

/// Output collected as it arrives, so a program stopped at its deadline still shows what it
/// printed until then.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn push(&self, bytes: &[u8]) {
        let mut buf = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        buf.extend_from_slice(bytes);
    }

    fn text(&self) -> String {
        let buf = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }
}

async fn pump(pipe: Option<impl AsyncRead + Unpin>, into: Captured) {
    let Some(mut pipe) = pipe else { return };
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => into.push(&chunk[..n]),
        }
    }
}

/// "3s" for whole seconds, "0.5s" otherwise: deadlines read as they were set.
pub(crate) fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn render_command(program: &str, args: &[&str]) -> String {
    let mut line = program.to_string();
    for arg in args {
        line.push(' ');
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
            line.push_str(&format!("'{}'", arg.replace('\'', r"'\''")));
        } else {
            line.push_str(arg);
        }
    }
    line
}

fn install_hint(program: &str) -> String {
    match program {
        "kind" => "install it from https://kind.sigs.k8s.io/docs/user/quick-start/#installation \
                   or choose another cluster with PETSET_CLUSTER=k3d, k3s or current"
            .to_string(),
        "k3d" => "install it from https://k3d.io/#installation \
                  or choose another cluster with PETSET_CLUSTER=kind, k3s or current"
            .to_string(),
        "docker" => "install Docker Engine (https://docs.docker.com/engine/install/) \
                     or use an existing cluster with PETSET_CLUSTER=current"
            .to_string(),
        _ => "install it or put it on PATH".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_only_what_needs_it() {
        assert_eq!(
            render_command("kind", &["create", "cluster", "--name", "a b", "it's"]),
            r"kind create cluster --name 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn transcript_indents_both_streams_and_skips_empty_ones() {
        let output = CommandOutput {
            command: "kind get clusters".into(),
            exit_code: Some(1),
            stdout: String::new(),
            stderr: "ERROR: boom\nmore\n".into(),
            elapsed: Duration::from_millis(5),
        };
        assert_eq!(
            output.transcript(),
            "\n  stderr:\n    ERROR: boom\n    more"
        );
        assert!(!output.success());
        assert!(output.into_result().is_err());
    }
}
#[cfg(test)]
mod seconds_tests {
    #[test]
    fn seconds_read_as_set() {
        assert_eq!(
            super::seconds(std::time::Duration::from_millis(500)),
            "0.5s"
        );
        assert_eq!(super::seconds(std::time::Duration::from_secs(3)), "3s");
    }
}
