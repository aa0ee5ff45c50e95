//! Choosing the cluster a run uses, from what the user asked for (`PETSET_CLUSTER`) and what
//! this machine has.

use std::fmt;

use super::error::ClusterError;
use super::guard::{ALLOW_CONTEXT_VAR, GuardError, K3S_CONTEXT, check_context};
use super::handle::{Cluster, Owned, Provider};
use super::images::{PreloadTarget, fixture_images, preload};
use super::kubeconfig::{self, ContextTarget};
use super::local::{self, Tool};
use super::settings::{ClusterChoice, Settings};
use super::tools::{CommandOutput, RunError, ToolRunner};

/// The result of selection: a cluster, or a reason there is none (cluster trials are then
/// ignored with that reason, never failed or passed).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // made once per run; boxing would only burden callers
pub enum Selection {
    Connected(Cluster),
    Unavailable(Unavailable),
}

/// Why no cluster is available, and how to get one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unavailable {
    /// What was tried and why each did not give a cluster, one line each.
    pub tried: Vec<String>,
    /// The kubeconfig context the safety guard refused, if there was one.
    pub refused: Option<GuardError>,
}

impl Unavailable {
    /// The full message: what was tried, the three ways to get a cluster, the variables.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// One line, for an ignored trial: naming the refused context, when one was refused, so
    /// that the reports say why the cluster at hand was not used.
    pub fn short(&self) -> String {
        const WAYS: &str = "set PETSET_CLUSTER=kind, k3d or k3s, or start Docker";
        match &self.refused {
            None => format!("no Kubernetes cluster ({WAYS})"),
            Some(refused) => format!(
                "no Kubernetes cluster: the safety guard refused context `{context}` (server \
                 {server}) as it does not look like a local test cluster (kind-*, k3d-*, \
                 {K3S_CONTEXT}); to use it set {ALLOW_CONTEXT_VAR}={context}, or {WAYS}",
                context = refused.context,
                server = refused.server,
            ),
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "no Kubernetes cluster to run against:")?;
        for line in &self.tried {
            writeln!(f, "  - {line}")?;
        }
        write!(
            f,
            "To get one, any of:\n  \
             - a kind cluster: install kind and set PETSET_CLUSTER=kind (petset reuses the kind \
             cluster `petset`, or creates it from fixtures/clusters/kind.yaml)\n  \
             - a k3d cluster: install k3d and set PETSET_CLUSTER=k3d (reuses or creates `petset` \
             from fixtures/clusters/k3d.yaml)\n  \
             - a Docker engine: petset then starts an embedded k3s container itself \
             (PETSET_CLUSTER=k3s; petset built with `--features k3s`)\n\
             Also: PETSET_CLUSTER=current or PETSET_CONTEXT=<name> uses a kubeconfig context \
             (KUBECONFIG is honoured); PETSET_ALLOW_CONTEXT=<name> lets a context that is not a \
             local test cluster through; PETSET_KEEP_CLUSTER=1 keeps a cluster petset created; \
             PETSET_PRELOAD=1 loads locally present fixture images into kind/k3d."
        )
    }
}

/// Selects a cluster as this process's environment asks (`PETSET_*`, `KUBECONFIG`, `PATH`).
pub async fn select() -> Result<Selection, ClusterError> {
    let settings = Settings::from_env()?;
    connect(&settings, &ToolRunner::from_env()).await
}

/// Selects a cluster as `settings` ask, running kind/k3d/docker through `runner`.
///
/// `Err` means the user asked for something specific that could not be delivered (a context
/// that is unreachable or refused by the safety guard, a kind cluster that failed to start):
/// the run should fail with that message. When nothing was asked for and nothing is there,
/// the answer is [`Selection::Unavailable`].
pub async fn connect(settings: &Settings, runner: &ToolRunner) -> Result<Selection, ClusterError> {
    match &settings.choice {
        ClusterChoice::Auto => auto(settings, runner).await,
        ClusterChoice::Current => current(settings).await.map(Selection::Connected),
        ClusterChoice::Kind { name } => local_cluster(Tool::Kind, name, settings, runner)
            .await
            .map(Selection::Connected),
        ClusterChoice::K3d { name } => local_cluster(Tool::K3d, name, settings, runner)
            .await
            .map(Selection::Connected),
        ClusterChoice::K3s if !settings.may_create => Err(ClusterError::WillNotCreate {
            what: "a cluster for PETSET_CLUSTER=k3s, which starts a k3s container per run".into(),
            hint: "create a kind cluster first (kind create cluster --name petset --config \
                   fixtures/clusters/kind.yaml) and set PETSET_CLUSTER=kind:petset"
                .into(),
        }),
        ClusterChoice::Emulated => Err(ClusterError::EmulatedOutsideRun),
        ClusterChoice::K3s => {
            let mut commands = Vec::new();
            require_docker("the embedded k3s", settings, runner, &mut commands).await?;
            k3s(settings, commands).await.map(Selection::Connected)
        }
    }
}

async fn auto(settings: &Settings, runner: &ToolRunner) -> Result<Selection, ClusterError> {
    let mut tried = Vec::new();
    let mut refused = None;
    match kubeconfig::load(settings) {
        Ok(None) => tried.push(format!(
            "no kubeconfig ({} does not exist)",
            kubeconfig::origin(settings)
        )),
        Err(err) => tried.push(flatten(&err)),
        Ok(Some(config)) => match kubeconfig::target(&config, settings.context.as_deref()) {
            Err(err) => tried.push(flatten(&err)),
            Ok(target) => {
                match check_context(
                    &target.context,
                    &target.server,
                    settings.allow_context.as_deref(),
                ) {
                    Err(refusal) => {
                        tried.push(refusal.to_string());
                        refused = Some(refusal);
                    }
                    Ok(()) => match context_cluster(config, target, settings).await {
                        Ok(cluster) => return Ok(Selection::Connected(cluster)),
                        Err(err) => tried.push(flatten(&err)),
                    },
                }
            }
        },
    }
    if !settings.may_create {
        tried.push(
            "no k3s container: under cargo-nextest petset only connects to a cluster that \
             already exists; create one first (kind create cluster --name petset --config \
             fixtures/clusters/kind.yaml) and set PETSET_CLUSTER=kind:petset"
                .to_string(),
        );
        return Ok(Selection::Unavailable(Unavailable { tried, refused }));
    }
    let (engine, output) = super::docker::engine_version(runner, settings.connect_deadline).await;
    match engine {
        Ok(_) if cfg!(feature = "k3s") => {
            let commands = output.into_iter().collect();
            return k3s(settings, commands).await.map(Selection::Connected);
        }
        Ok(version) => tried.push(format!(
            "a Docker engine ({version}) answers, but petset was built without the `k3s` \
             feature (`--features k3s`)"
        )),
        Err(reason) => tried.push(format!("no Docker engine for the embedded k3s: {reason}")),
    }
    Ok(Selection::Unavailable(Unavailable { tried, refused }))
}

/// The kubeconfig's current context (or `PETSET_CONTEXT`), guarded and reachable.
async fn current(settings: &Settings) -> Result<Cluster, ClusterError> {
    let config = kubeconfig::load(settings)?.ok_or_else(|| ClusterError::NoKubeconfig {
        origin: format!("{} does not exist", kubeconfig::origin(settings)),
    })?;
    let target = kubeconfig::target(&config, settings.context.as_deref())?;
    check_context(
        &target.context,
        &target.server,
        settings.allow_context.as_deref(),
    )?;
    context_cluster(config, target, settings).await
}

async fn context_cluster(
    config: kube::config::Kubeconfig,
    target: ContextTarget,
    settings: &Settings,
) -> Result<Cluster, ClusterError> {
    let (client, config, version) =
        kubeconfig::connect(config, &target, settings.connect_deadline).await?;
    Ok(Cluster {
        client,
        config,
        context: target.context,
        server_url: target.server,
        version,
        provider: Provider::Context,
        created: false,
        keep: settings.keep,
        owned: Owned::Nothing,
        commands: Vec::new(),
    })
}

/// The Docker engine's version, or [`ClusterError::DockerDown`] saying what `needs` it.
pub async fn require_engine(
    needs: &str,
    settings: &Settings,
    runner: &ToolRunner,
) -> Result<String, ClusterError> {
    require_docker(needs, settings, runner, &mut Vec::new()).await
}

async fn require_docker(
    needs: &str,
    settings: &Settings,
    runner: &ToolRunner,
    commands: &mut Vec<CommandOutput>,
) -> Result<String, ClusterError> {
    let (engine, output) = super::docker::engine_version(runner, settings.command_deadline).await;
    commands.extend(output);
    engine.map_err(|detail| ClusterError::DockerDown {
        needs: needs.to_string(),
        detail,
    })
}

async fn local_cluster(
    tool: Tool,
    name: &str,
    settings: &Settings,
    runner: &ToolRunner,
) -> Result<Cluster, ClusterError> {
    let root = settings
        .repo_root
        .as_deref()
        .ok_or(ClusterError::NoRepoRoot)?;
    let mut commands = Vec::new();
    let needs = format!("{} (PETSET_CLUSTER={})", tool.program(), settings.choice);
    // Fail on a missing tool before blaming Docker: the tool's message says how to install it.
    if runner.locate(tool.program()).is_none() {
        return Err(ClusterError::command(
            format!("run {}", tool.program()),
            RunError::not_found(tool.program()),
        ));
    }
    require_docker(&needs, settings, runner, &mut commands).await?;
    let ensured = local::ensure(
        tool,
        runner,
        name,
        &root.join("fixtures").join("clusters"),
        (settings.command_deadline, settings.create_deadline),
        settings.may_create,
    )
    .await?;
    commands.extend(ensured.commands);
    // From here on a cluster petset created must not leak if the rest fails.
    let owned = Owned::Local {
        tool,
        name: name.to_string(),
        runner: runner.clone(),
        deadline: settings
            .command_deadline
            .max(std::time::Duration::from_secs(120)),
    };
    let finish = async {
        let target = kubeconfig::target(&ensured.kubeconfig, Some(&tool.context(name)))?;
        check_context(
            &target.context,
            &target.server,
            settings.allow_context.as_deref(),
        )?;
        // A cluster that was just created can take a moment to serve; give it the quick
        // command deadline rather than the 3 s meant for existing contexts.
        let (client, config, version) = kubeconfig::connect(
            ensured.kubeconfig.clone(),
            &target,
            settings.command_deadline,
        )
        .await?;
        if settings.preload {
            let images: Vec<String> = fixture_images(root)
                .map_err(|e| ClusterError::Preload(Box::new(e)))?
                .into_iter()
                .map(|i| i.image)
                .collect();
            let preload_target = match tool {
                Tool::Kind => PreloadTarget::Kind { name: name.into() },
                Tool::K3d => PreloadTarget::K3d { name: name.into() },
            };
            let report = preload(runner, &preload_target, &images, settings.create_deadline)
                .await
                .map_err(|e| ClusterError::Preload(Box::new(e)))?;
            commands.extend(report.commands);
        }
        Ok::<_, ClusterError>((target, (client, config), version))
    };
    match finish.await {
        Ok((target, (client, config), version)) => Ok(Cluster {
            client,
            config,
            context: target.context,
            server_url: target.server,
            version,
            provider: tool.provider(name),
            created: ensured.created,
            keep: settings.keep,
            owned,
            commands,
        }),
        Err(err) => {
            if ensured.created && !settings.keep {
                let _ = local::delete(tool, runner, name, settings.command_deadline).await;
            }
            Err(err)
        }
    }
}

#[cfg(feature = "k3s")]
async fn k3s(settings: &Settings, commands: Vec<CommandOutput>) -> Result<Cluster, ClusterError> {
    super::k3s::start(settings, commands).await
}

#[cfg(not(feature = "k3s"))]
async fn k3s(_settings: &Settings, _commands: Vec<CommandOutput>) -> Result<Cluster, ClusterError> {
    Err(ClusterError::K3sDisabled)
}

/// A cluster error as one line (causes joined), for the list of things tried.
fn flatten(err: &ClusterError) -> String {
    super::error::chain(err)
}
