//! kind and k3d clusters: reuse a running one by name, else create it from
//! `fixtures/clusters/`, and delete it at the end only if petset created it.

use std::path::Path;
use std::time::Duration;

use kube::config::Kubeconfig;

use super::error::ClusterError;
use super::handle::Provider;
use super::tools::{CommandOutput, ToolRunner};

/// The two Docker-based local cluster tools, which differ only in their command lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tool {
    Kind,
    K3d,
}

/// The outcome of [`ensure`]: whether the cluster was created, and every command run.
pub(crate) struct Ensured {
    pub created: bool,
    pub kubeconfig: Kubeconfig,
    pub commands: Vec<CommandOutput>,
}

impl Tool {
    pub(crate) fn program(self) -> &'static str {
        match self {
            Tool::Kind => "kind",
            Tool::K3d => "k3d",
        }
    }

    /// The context name the tool writes into kubeconfigs.
    pub(crate) fn context(self, name: &str) -> String {
        format!("{}-{name}", self.program())
    }

    /// The cluster config under `fixtures/clusters/`.
    pub(crate) fn config_file(self) -> &'static str {
        match self {
            Tool::Kind => "kind.yaml",
            Tool::K3d => "k3d.yaml",
        }
    }

    pub(crate) fn provider(self, name: &str) -> Provider {
        match self {
            Tool::Kind => Provider::Kind { name: name.into() },
            Tool::K3d => Provider::K3d { name: name.into() },
        }
    }

    fn list_args(self) -> &'static [&'static str] {
        match self {
            Tool::Kind => &["get", "clusters"],
            Tool::K3d => &["cluster", "list", "-o", "json"],
        }
    }

    /// Cluster names from the list command's stdout.
    fn parse_list(self, stdout: &str) -> Result<Vec<String>, String> {
        match self {
            // One name per line; "No kind clusters found." goes to stderr.
            Tool::Kind => Ok(stdout
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()),
            Tool::K3d => {
                let text = stdout.trim();
                if text.is_empty() {
                    return Ok(Vec::new());
                }
                let clusters: Vec<serde_json::Value> =
                    serde_json::from_str(text).map_err(|e| e.to_string())?;
                Ok(clusters
                    .iter()
                    .filter_map(|c| c.get("name").and_then(|n| n.as_str()))
                    .map(str::to_string)
                    .collect())
            }
        }
    }

    fn create_args<'a>(self, name: &'a str, config: &'a str) -> Vec<&'a str> {
        match self {
            Tool::Kind => vec![
                "create", "cluster", "--name", name, "--config", config, "--wait", "180s",
            ],
            Tool::K3d => vec!["cluster", "create", name, "--config", config, "--wait"],
        }
    }

    fn kubeconfig_args(self, name: &str) -> Vec<&str> {
        match self {
            Tool::Kind => vec!["get", "kubeconfig", "--name", name],
            Tool::K3d => vec!["kubeconfig", "get", name],
        }
    }

    fn delete_args(self, name: &str) -> Vec<&str> {
        match self {
            Tool::Kind => vec!["delete", "cluster", "--name", name],
            Tool::K3d => vec!["cluster", "delete", name],
        }
    }
}

/// The names of the tool's running clusters.
pub(crate) async fn list(
    tool: Tool,
    runner: &ToolRunner,
    deadline: Duration,
) -> Result<(Vec<String>, CommandOutput), ClusterError> {
    let action = format!("list {} clusters", tool.program());
    let output = runner
        .run(tool.program(), tool.list_args(), deadline)
        .await
        .and_then(CommandOutput::into_result)
        .map_err(|e| ClusterError::command(&action, e))?;
    let names =
        tool.parse_list(&output.stdout)
            .map_err(|detail| ClusterError::UnexpectedOutput {
                command: output.command.clone(),
                detail,
            })?;
    Ok((names, output))
}

/// Reuses the cluster `name` if it runs, else (when `may_create`) creates it from
/// `clusters_dir`'s config; then reads its kubeconfig.
pub(crate) async fn ensure(
    tool: Tool,
    runner: &ToolRunner,
    name: &str,
    clusters_dir: &Path,
    (quick, create_deadline): (Duration, Duration),
    may_create: bool,
) -> Result<Ensured, ClusterError> {
    let program = tool.program();
    let (names, listed) = list(tool, runner, quick).await?;
    let mut commands = vec![listed];
    let created = !names.iter().any(|n| n == name);
    if created {
        let config = clusters_dir.join(tool.config_file());
        let config = config.to_string_lossy();
        if !may_create {
            return Err(ClusterError::WillNotCreate {
                what: format!("{program} cluster `{name}`"),
                hint: format!(
                    "create it first: {program} {}",
                    tool.create_args(name, &config).join(" ")
                ),
            });
        }
        let action = format!("create {program} cluster `{name}` from {config}");
        match runner
            .run(program, &tool.create_args(name, &config), create_deadline)
            .await
            .and_then(CommandOutput::into_result)
        {
            Ok(output) => commands.push(output),
            Err(err) => {
                // A create stopped at its deadline leaves half a cluster behind; kind and k3d
                // clean up after their own failures, but not after being killed.
                if matches!(err, super::tools::RunError::TimedOut { .. }) {
                    let _ = runner.run(program, &tool.delete_args(name), quick).await;
                }
                return Err(ClusterError::command(action, err));
            }
        }
    }
    let action = format!("read the kubeconfig of {program} cluster `{name}`");
    let output = runner
        .run(program, &tool.kubeconfig_args(name), quick)
        .await
        .and_then(CommandOutput::into_result)
        .map_err(|e| ClusterError::command(&action, e))?;
    let kubeconfig =
        Kubeconfig::from_yaml(&output.stdout).map_err(|source| ClusterError::Kubeconfig {
            origin: format!("`{}`", output.command),
            source: Box::new(source),
        })?;
    commands.push(output);
    Ok(Ensured {
        created,
        kubeconfig,
        commands,
    })
}

/// Deletes the cluster `name`.
pub(crate) async fn delete(
    tool: Tool,
    runner: &ToolRunner,
    name: &str,
    deadline: Duration,
) -> Result<CommandOutput, ClusterError> {
    let action = format!("delete {} cluster `{name}`", tool.program());
    runner
        .run(tool.program(), &tool.delete_args(name), deadline)
        .await
        .and_then(CommandOutput::into_result)
        .map_err(|e| ClusterError::command(action, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_outputs_parse() {
        assert_eq!(
            Tool::Kind.parse_list("petset\nother\n"),
            Ok(vec!["petset".to_string(), "other".to_string()])
        );
        assert_eq!(Tool::Kind.parse_list(""), Ok(vec![]));
        assert_eq!(
            Tool::K3d.parse_list(r#"[{"name":"petset","serversRunning":1},{"name":"x"}]"#),
            Ok(vec!["petset".to_string(), "x".to_string()])
        );
        assert_eq!(Tool::K3d.parse_list("[]"), Ok(vec![]));
        assert!(Tool::K3d.parse_list("not json").is_err());
    }
}
