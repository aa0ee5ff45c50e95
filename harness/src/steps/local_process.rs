//! Running a program on the machine running petset, in a process group of its own, and ending
//! that whole group when the program ends or its deadline passes, so nothing it started
//! outlives the step.

use crate::net::pod_exec::{CommandOutput, read_all};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;
use tokio::time::Instant;

/// Output kept per stream of a local program; a program printing more is cut (and says so).
const OUTPUT_LIMIT: u64 = 64 * 1024;
/// How long the output of a killed group may take to drain: a descendant that left the group
/// (`setsid`) can hold the pipes open, and must not hold the step.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How long after its deadline [`run_local`] may take to end the group and collect the output;
/// a caller bounding it gives it this much more, so the program's own report wins.
pub(crate) const WIND_DOWN: Duration = Duration::from_secs(3);
/// The variables of petset's own environment a program is given: enough to find programs and
/// their configuration (helm's and kubectl's caches), nothing about other clusters.
const INHERITED_ENV: [&str; 8] = [
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR", "TERM",
];

/// A program to run: its arguments, the folder it runs in and its environment (on top of the
/// few variables it inherits).
#[derive(Debug)]
pub(crate) struct LocalCommand<'a> {
    pub args: &'a [String],
    pub dir: &'a Path,
    pub env: BTreeMap<String, String>,
}

/// Runs `command` until it ends or `deadline` passes, then kills its process group.
pub(crate) async fn run_local(command: &LocalCommand<'_>, deadline: Instant) -> CommandOutput {
    let Some((program, args)) = command.args.split_first() else {
        return CommandOutput::failed("no program to run".to_owned());
    };
    let mut process = Command::new(program);
    process
        .args(args)
        .current_dir(command.dir)
        .env_clear()
        .envs(
            INHERITED_ENV
                .iter()
                .filter_map(|name| Some((*name, std::env::var_os(name)?))),
        )
        .envs(&command.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    process.process_group(0);
    let mut child = match process.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return CommandOutput::failed(format!(
                "the program `{program}` was not found (looked in {} and the suite's folder {})",
                std::env::var("PATH")
                    .map_or_else(|_| "no PATH".to_owned(), |p| format!("PATH={p}")),
                command.dir.display()
            ));
        }
        Err(error) => {
            return CommandOutput::failed(format!("failed to start `{program}`: {error}"));
        }
    };
    // Ends the group however this function ends, dropped by a caller's deadline included.
    let group = GroupGuard(child.id());
    let stdout = child
        .stdout
        .take()
        .map(|out| tokio::spawn(read_all(out, OUTPUT_LIMIT)));
    let stderr = child
        .stderr
        .take()
        .map(|err| tokio::spawn(read_all(err, OUTPUT_LIMIT)));
    let status = tokio::time::timeout_at(deadline, child.wait()).await;
    // Whatever the program left running in its group ends with it.
    group.kill();
    let mut output = CommandOutput {
        stdout: drained(stdout).await,
        stderr: drained(stderr).await,
        ..CommandOutput::default()
    };
    match status {
        Ok(Ok(status)) => match status.code() {
            Some(code) => output.exit_code = Some(code),
            None => output.failure = Some(format!("`{program}` was ended by a signal ({status})")),
        },
        Ok(Err(error)) => output.failure = Some(format!("failed to wait for `{program}`: {error}")),
        Err(_) => {
            // Reap the killed leader so no zombie is left.
            let _ = child.kill().await;
            output.failure = Some(format!(
                "`{program}` did not end before its deadline; its process group was killed"
            ));
        }
    }
    output
}

/// What a reading task collected, or a note when the pipe stayed open past the grace period.
async fn drained(reader: Option<tokio::task::JoinHandle<String>>) -> String {
    let Some(mut reader) = reader else {
        return String::new();
    };
    match tokio::time::timeout(DRAIN_GRACE, &mut reader).await {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => "(the output could not be read)".to_owned(),
        Err(_) => {
            reader.abort();
            "(the output stayed open after the program ended: a process outside its group holds it)"
                .to_owned()
        }
    }
}

/// The process group a program leads, killed when this is dropped.
struct GroupGuard(Option<u32>);

impl GroupGuard {
    #[cfg(unix)]
    fn kill(&self) {
        use rustix::process::{Pid, Signal, kill_process_group};
        let pid = self
            .0
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw);
        if let Some(pid) = pid {
            // ESRCH: the group has ended already, which is the point.
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }

    #[cfg(not(unix))]
    fn kill(&self) {}
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}
