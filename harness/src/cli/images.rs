//! `petset images`: lists every container image the fixtures use, so they can be pulled ahead
//! of time; with `PETSET_PRELOAD=1` loads the locally present ones into the kind or k3d
//! cluster `PETSET_CLUSTER` names, so runs can be offline.

use std::path::PathBuf;
use std::process::ExitCode;

use petset::cluster::{
    ClusterChoice, FixtureImage, PreloadTarget, Settings, ToolRunner, fixture_images, preload,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The suite directory holding `fixtures/` (default: found from the working directory).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The same as DIR (kept for scripts that pass it by name).
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    pub root: Option<PathBuf>,
    /// Also show which fixture files use each image.
    #[arg(long)]
    pub files: bool,
}

/// Runs `petset images`.
pub fn run(args: Args) -> ExitCode {
    match images(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn images(args: Args) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let root = match args.dir.or(args.root) {
        Some(root) => root,
        None => settings.repo_root.clone().ok_or(
            "failed to find the repository root (a directory holding fixtures/ and Cargo.toml); \
             run from the petset checkout or pass --root",
        )?,
    };
    let found = fixture_images(&root).map_err(|e| petset::cluster::chain(&e))?;
    for FixtureImage { image, files } in &found {
        if args.files {
            let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            println!("{image}\t{}", files.join(", "));
        } else {
            println!("{image}");
        }
    }
    if settings.preload {
        let images: Vec<String> = found.into_iter().map(|i| i.image).collect();
        load(&settings, &images)?;
    }
    Ok(())
}

/// Loads `images` into the kind or k3d cluster `PETSET_CLUSTER` names; reports to stderr so
/// stdout stays a plain image list.
fn load(settings: &Settings, images: &[String]) -> Result<(), String> {
    let target = match &settings.choice {
        ClusterChoice::Kind { name } => PreloadTarget::Kind { name: name.clone() },
        ClusterChoice::K3d { name } => PreloadTarget::K3d { name: name.clone() },
        other => {
            return Err(format!(
                "PETSET_PRELOAD=1 loads images into a kind or k3d cluster, but PETSET_CLUSTER \
                 is {other}; set PETSET_CLUSTER=kind[:name] or k3d[:name]"
            ));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("failed to start the async runtime: {e}"))?;
    let runner = ToolRunner::from_env();
    runtime.block_on(async {
        petset::cluster::require_engine("image preloading", settings, &runner)
            .await
            .map_err(|e| e.describe())?;
        let report = preload(&runner, &target, images, settings.create_deadline)
            .await
            .map_err(|e| petset::cluster::chain(&e))?;
        let into = match &target {
            PreloadTarget::Kind { name } => format!("kind cluster `{name}`"),
            PreloadTarget::K3d { name } => format!("k3d cluster `{name}`"),
        };
        eprintln!("loaded into {into}: {}", list_or_none(&report.loaded));
        eprintln!(
            "not present locally (the cluster pulls them): {}",
            list_or_none(&report.missing)
        );
        Ok(())
    })
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
