//! Running a command in a pod's container through the API's exec, collecting its output and exit
//! code the way `kubectl exec` reports them.

use crate::api::describe_kube_error;
use crate::net::subprotocol_refusal;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::Api;
use kube::api::AttachParams;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Output kept per stream; a command printing more is cut (and says so).
const OUTPUT_LIMIT: u64 = 1 << 20;

/// What a command did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CommandOutput {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` when the command did not run to an end we know of.
    pub exit_code: Option<i32>,
    /// Why the command could not run or its end is unknown (no pod, no container, exec refused).
    pub failure: Option<String>,
}

impl CommandOutput {
    pub(crate) fn failed(reason: String) -> Self {
        Self {
            failure: Some(reason),
            ..Self::default()
        }
    }

    /// Output and exit code as report text.
    pub fn render(&self) -> String {
        let mut text = match (&self.failure, self.exit_code) {
            (Some(failure), _) => format!("the command did not run: {failure}\n"),
            (None, Some(code)) => format!("exit code: {code}\n"),
            (None, None) => "exit code: unknown\n".to_owned(),
        };
        for (name, output) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if output.is_empty() {
                text.push_str(&format!("{name}: (empty)\n"));
            } else {
                text.push_str(&format!("{name}:\n"));
                for line in output.lines() {
                    text.push_str("  ");
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
        text
    }
}

/// Runs `command` in `pod` (in `container`, or the pod's default one) and waits for it to end,
/// but not past `deadline`.
pub(crate) async fn run_in_pod(
    pods: &Api<Pod>,
    pod: &str,
    container: Option<&str>,
    command: Vec<String>,
    deadline: Instant,
) -> CommandOutput {
    match tokio::time::timeout_at(deadline, run(pods, pod, container, command, None)).await {
        Ok(output) => output,
        Err(_) => CommandOutput::failed(format!(
            "no end of the command in pod {pod} before the deadline"
        )),
    }
}

/// Runs `command` in `pod` with `stdin` fed to it, and waits for it to end. Stdin is left open
/// until then, so `command` must know from what it reads where its input ends: a server that
/// answers exec with `v4.channel.k8s.io` (the kubelet; API servers before 1.30) has no signal
/// for the end of stdin, and kube-rs can only close the whole session instead, which loses the
/// command's output and status. The caller bounds the wait (the SQL client path has its own
/// deadline per attempt).
pub(crate) async fn run_with_stdin(
    pods: &Api<Pod>,
    pod: &str,
    container: Option<&str>,
    command: Vec<String>,
    stdin: Vec<u8>,
) -> CommandOutput {
    run(pods, pod, container, command, Some(stdin)).await
}

async fn run(
    pods: &Api<Pod>,
    pod: &str,
    container: Option<&str>,
    command: Vec<String>,
    stdin: Option<Vec<u8>>,
) -> CommandOutput {
    let mut params = AttachParams::default()
        .stdin(stdin.is_some())
        .stdout(true)
        .stderr(true);
    if let Some(container) = container {
        params = params.container(container);
    }
    let mut process = match pods.exec(pod, command, &params).await {
        Ok(process) => process,
        Err(kube::Error::Api(status)) if status.code == 404 => {
            return CommandOutput::failed(format!("pod {pod} not found ({})", status.message));
        }
        Err(error) => {
            let why =
                subprotocol_refusal("exec", &error).unwrap_or_else(|| describe_kube_error(&error));
            return CommandOutput::failed(format!("failed to exec in pod {pod}: {why}"));
        }
    };
    let (Some(stdout), Some(stderr), Some(status)) =
        (process.stdout(), process.stderr(), process.take_status())
    else {
        return CommandOutput::failed(format!(
            "the exec session in pod {pod} offered no stdout, stderr or status"
        ));
    };
    let mut writer = process.stdin();
    let feed = async {
        if let (Some(bytes), Some(writer)) = (stdin, writer.as_mut()) {
            // A command that exits without reading its input closes the stream; that is its
            // choice, and its status says how it ended.
            let _ = writer.write_all(&bytes).await;
            let _ = writer.flush().await;
        }
    };
    let (_, stdout, stderr, status) = tokio::join!(
        feed,
        read_all(stdout, OUTPUT_LIMIT),
        read_all(stderr, OUTPUT_LIMIT),
        status
    );
    // Only now, with the command ended: under v4, ending stdin would have ended the session.
    drop(writer);
    let _ = process.join().await;
    let mut output = CommandOutput {
        stdout,
        stderr,
        ..CommandOutput::default()
    };
    match status {
        Some(status) if status.status.as_deref() == Some("Success") => output.exit_code = Some(0),
        Some(status) => match exit_code(&status) {
            Some(code) => output.exit_code = Some(code),
            None => {
                output.failure = Some(format!(
                    "exec in pod {pod} failed: {}",
                    status.message.as_deref().unwrap_or("no reason given")
                ));
            }
        },
        None => {
            output.failure = Some(format!(
                "the exec session in pod {pod} ended without a status"
            ));
        }
    }
    output
}

/// Reads `stream` to its end, keeping the first `limit` bytes and counting the rest.
pub(crate) async fn read_all(stream: impl tokio::io::AsyncRead + Unpin, limit: u64) -> String {
    let mut bytes = Vec::new();
    let mut limited = stream.take(limit);
    // A stream cut mid-way leaves what arrived; the status says how the command ended.
    let _ = limited.read_to_end(&mut bytes).await;
    let mut rest = limited.into_inner();
    let mut sink = [0u8; 8192];
    let mut dropped = 0usize;
    while let Ok(n) = rest.read(&mut sink).await {
        if n == 0 {
            break;
        }
        dropped += n;
    }
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n... ({dropped} more bytes not kept)"));
    }
    text
}

/// A non-zero exit arrives as a `Status` with reason `NonZeroExitCode` and a cause
/// `{reason: ExitCode, message: "<n>"}`.
pub(crate) fn exit_code(status: &Status) -> Option<i32> {
    status
        .details
        .as_ref()?
        .causes
        .as_ref()?
        .iter()
        .find(|cause| cause.reason.as_deref() == Some("ExitCode"))
        .and_then(|cause| cause.message.as_deref())
        .and_then(|message| message.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    #[test]
    fn exit_code_comes_from_the_status_causes() {
        let status = Status {
            status: Some("Failure".into()),
            reason: Some("NonZeroExitCode".into()),
            details: Some(StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some("3".into()),
                    ..StatusCause::default()
                }]),
                ..StatusDetails::default()
            }),
            ..Status::default()
        };
        assert_eq!(exit_code(&status), Some(3));
        assert_eq!(exit_code(&Status::default()), None);
    }

    #[test]
    fn render_shows_streams_and_exit_code() {
        let output = CommandOutput {
            stdout: "a\nb\n".into(),
            exit_code: Some(2),
            ..CommandOutput::default()
        };
        assert_eq!(
            output.render(),
            "exit code: 2\nstdout:\n  a\n  b\nstderr: (empty)\n"
        );
        let failed = CommandOutput::failed("no such pod".into());
        assert!(
            failed
                .render()
                .starts_with("the command did not run: no such pod")
        );
    }
}
