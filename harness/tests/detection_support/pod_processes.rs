//! Processes standing in for a pod's containers: an init container's command run to its end
//! within a deadline, and a long-running sidecar that ends with its pod, or with the test process
//! however that ends. Each runs in its own process group so nothing it starts is left behind.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, ChildStdin, Command};

/// What a finished command printed.
#[derive(Debug)]
pub struct Finished {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The last lines of its output, for an error message.
    pub fn tail(&self) -> String {
        let text = format!("{}{}", self.stdout, self.stderr);
        let lines: Vec<&str> = text.lines().rev().take(12).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

/// Kills a process group when dropped, unless the group has already ended.
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(group) = self.0 {
            kill_group(group);
        }
    }
}

fn kill_group(group: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
}

/// Runs `command` to its end; past `deadline`, or when the caller stops waiting, the command and
/// everything it started are killed.
pub async fn run_to_end(
    command: &[String],
    env: &[(String, String)],
    deadline: Duration,
) -> Result<Finished, String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| "an empty command".to_string())?;
    let child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("failed to run `{}`: {e}", command.join(" ")))?;
    let guard = GroupGuard(child.id());
    match tokio::time::timeout(deadline, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            // The group's leader is gone; anything it left running in the group goes too.
            drop(guard);
            Ok(Finished {
                success: out.status.success(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
        Ok(Err(e)) => Err(format!("failed to wait for `{}`: {e}", command.join(" "))),
        Err(_) => {
            drop(guard);
            Err(format!(
                "`{}` did not finish within {deadline:?}",
                command.join(" ")
            ))
        }
    }
}

/// Runs the command in the background and stops its whole process group (`kill 0`: the wrapper
/// leads it) once its stdin closes: the [`Sidecar`] is dropped or the test process dies. The
/// command's exit status goes to `$PETSET_LOG.exit`.
const LIFELINE: &str = r#"("$@" </dev/null >>"$PETSET_LOG" 2>&1; echo "$?" >"$PETSET_LOG.exit") &
trap '' TERM
cat >/dev/null
kill -s TERM 0 2>/dev/null
sleep 0.3
kill -s KILL 0 2>/dev/null
"#;

/// A long-running container command.
pub struct Sidecar {
    _child: Child,
    lifeline: Option<ChildStdin>,
    log: PathBuf,
}

impl Sidecar {
    pub fn start(
        command: &[String],
        env: &[(String, String)],
        log: PathBuf,
    ) -> Result<Sidecar, String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(LIFELINE)
            .arg("petset-sidecar")
            .args(command)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PETSET_LOG", &log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("failed to start `{}`: {e}", command.join(" ")))?;
        let lifeline = child.stdin.take();
        Ok(Sidecar {
            _child: child,
            lifeline,
            log,
        })
    }

    /// The last lines it printed.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(12).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Its exit status, once it has ended (a sidecar should not).
    pub fn exited(&self) -> Option<String> {
        let mut path = self.log.clone().into_os_string();
        path.push(".exit");
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// Waits until something listens on the loopback `port` (the sidecar's server is up), the
    /// sidecar ends, or `deadline` passes. A process's listening socket has no event to wait
    /// for from outside it, so this looks at the kernel's socket table every 20 ms.
    pub async fn wait_listening(&self, port: u16, deadline: Duration) -> Result<(), String> {
        let until = Instant::now() + deadline;
        loop {
            if listening(port) {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(format!("exited ({status}):\n{}", self.log_tail()));
            }
            if Instant::now() >= until {
                return Err(format!(
                    "was not listening on port {port} within {deadline:?}:\n{}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        // Closing the pipe is the stop signal; the wrapper takes its group down.
        drop(self.lifeline.take());
    }
}

/// Whether a socket listens on the IPv4 `port` (state 0A in `/proc/net/tcp`).
fn listening(port: u16) -> bool {
    let wanted = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .map(|table| {
            table.lines().skip(1).any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(1).is_some_and(|local| local.ends_with(&wanted))
                    && fields.get(3) == Some(&"0A")
            })
        })
        .unwrap_or(false)
}
