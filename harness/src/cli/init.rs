//! `petset init [DIR]`: writes a starter suite (one scenario, one fixture, a catalogue with one
//! id, the scenario schema for editors) that `petset lint` accepts and that passes on
//! `PETSET_CLUSTER=emulated` as on a real cluster.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the suite (default: the current directory). Existing files are never
    /// overwritten.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The files of the starter suite, relative to its directory.
const FILES: [(&str, &str); 4] = [
    ("catalogue.yaml", include_str!("starter/catalogue.yaml")),
    ("fixtures/web.yaml", include_str!("starter/web.yaml")),
    (
        "scenarios/web/scale.yaml",
        include_str!("starter/scale.yaml"),
    ),
    ("reports/.gitignore", "*\n!.gitignore\n"),
];

/// The schema the scenario's modeline points at.
const SCHEMA_FILE: &str = "scenario.schema.json";

/// Runs `petset init`.
pub fn run(args: Args) -> ExitCode {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    match init(&dir) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            println!(
                "\nnext: petset lint {dir}\n      PETSET_CLUSTER=emulated petset test {dir}   \
                 (no cluster needed: petset's emulation)\n      petset test {dir}   \
                 (against your cluster; see PETSET_CLUSTER)",
                dir = dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Writes the starter suite into `dir`; refuses before writing anything if a file is there.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let schema = serde_json::to_string_pretty(&petset::scenario::schema::schema())
        .map_err(|e| format!("failed to render the scenario schema: {e}"))?;
    let mut files: Vec<(PathBuf, String)> = FILES
        .iter()
        .map(|(path, text)| (dir.join(path), text.to_string()))
        .collect();
    files.push((dir.join(SCHEMA_FILE), schema + "\n"));
    if let Some((existing, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(format!(
            "failed to write the starter suite: {} already exists (petset init never \
             overwrites; choose an empty directory: petset init DIR)",
            existing.display()
        ));
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("failed to create {}: {e}", parent.display()))?;
        }
        std::fs::write(path, text)
            .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}
