//! Asking whether a Docker engine answers (kind, k3d and the embedded k3s all need one).

use std::time::Duration;

use super::tools::{CommandOutput, RunError, ToolRunner};

/// The engine's version, or a one-line reason it is not usable, plus what `docker` printed.
pub(crate) async fn engine_version(
    runner: &ToolRunner,
    deadline: Duration,
) -> (Result<String, String>, Option<CommandOutput>) {
    match runner
        .run(
            "docker",
            &["version", "--format", "{{.Server.Version}}"],
            deadline,
        )
        .await
    {
        Ok(output) if output.success() && !output.stdout.trim().is_empty() => {
            (Ok(output.stdout.trim().to_string()), Some(output))
        }
        Ok(output) => {
            let said = first_line(&output.stderr)
                .or_else(|| first_line(&output.stdout))
                .unwrap_or("no server version reported");
            (
                Err(format!("`{}` failed: {said}", output.command)),
                Some(output),
            )
        }
        Err(RunError::TimedOut { deadline, output }) => (
            Err(format!(
                "`{}` got no answer within {}",
                output.command,
                super::tools::seconds(deadline)
            )),
            Some(*output),
        ),
        Err(other) => (Err(other.to_string()), None),
    }
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}
