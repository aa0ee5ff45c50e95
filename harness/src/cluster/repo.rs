//! Finding the repository root (the directory holding `fixtures/`), for cluster configs and
//! the fixture images.

use std::path::{Path, PathBuf};

/// The repository root: from `CARGO_MANIFEST_DIR` when cargo runs us, else the nearest
/// ancestor of the working directory holding `fixtures/` and a `Cargo.toml`, else the
/// checkout this binary was built from.
pub fn repo_root() -> Option<PathBuf> {
    let from_manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let from_cwd = std::env::current_dir().ok();
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    [from_manifest, from_cwd, Some(built_from)]
        .into_iter()
        .flatten()
        .find_map(|start| find_root_from(&start))
}

/// The nearest ancestor of `start` (itself included) that looks like the repository root.
pub fn find_root_from(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("fixtures").is_dir() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}
