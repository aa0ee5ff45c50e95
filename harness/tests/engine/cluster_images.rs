//! `petset images`: listing the fixtures' images, and `PETSET_PRELOAD=1` loading the locally
//! present ones into kind/k3d through stand-in `docker`, `kind` and `k3d` executables.

use std::path::Path;
use std::process::{Command, Output};

use crate::cluster_support::{DOCKER_DOWN, StandIns};

/// A repository root with two fixture topics, one of them multi-document.
fn fixture_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let write = |path: &str, text: &str| {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("Cargo.toml", "[workspace]\n");
    write(
        "fixtures/web/web.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: nginx}\n---\n\
         apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  template:\n    \
         spec:\n      initContainers: [{name: init, image: 'busybox:1.36'}]\n      \
         containers: [{name: nginx, image: 'nginx:1.27'}]\n",
    );
    write(
        "fixtures/mysql/mysql.yml",
        "kind: StatefulSet\nspec:\n  template:\n    spec:\n      containers:\n      \
         - {name: mysql, image: 'mysql:8.4'}\n      - {name: xtrabackup, image: 'busybox:1.36'}\n",
    );
    write(
        "fixtures/clusters/kind.yaml",
        "kind: Cluster\nnodes: [{role: control-plane}]\n",
    );
    write("fixtures/README.md", "not yaml: [\n");
    root
}

/// Runs the `petset` binary with only `vars` (and the stand-ins' PATH) set.
fn petset(args: &[&str], path: &Path, vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_petset"))
        .args(args)
        .env_clear()
        .env("PATH", path)
        .envs(vars.iter().copied())
        .output()
        .expect("run petset")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn images_lists_every_container_image_once_in_order() {
    let root = fixture_root();
    let bin = StandIns::new();
    let root_arg = root.path().to_string_lossy().to_string();
    let out = petset(&["images", "--root", &root_arg], bin.dir(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "busybox:1.36\nmysql:8.4\nnginx:1.27\n");
    let out = petset(&["images", "--root", &root_arg, "--files"], bin.dir(), &[]);
    assert_eq!(
        text(&out.stdout),
        "busybox:1.36\tfixtures/mysql/mysql.yml, fixtures/web/web.yaml\n\
         mysql:8.4\tfixtures/mysql/mysql.yml\nnginx:1.27\tfixtures/web/web.yaml\n"
    );
    assert!(
        bin.calls().is_empty(),
        "listing runs no tools: {:?}",
        bin.calls()
    );
}

#[test]
fn a_broken_manifest_is_named() {
    let root = fixture_root();
    std::fs::write(root.path().join("fixtures/web/bad.yaml"), "a: [unclosed\n").expect("write");
    let bin = StandIns::new();
    let out = petset(
        &["images", "--root", &root.path().to_string_lossy()],
        bin.dir(),
        &[],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: failed to parse fixtures/web/bad.yaml as YAML: "),
        "{err}"
    );
}

#[test]
fn the_repository_fixtures_list_cleanly() {
    let bin = StandIns::new();
    let out = Command::new(env!("CARGO_BIN_EXE_petset"))
        .arg("images")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", bin.dir())
        .env_remove("PETSET_PRELOAD")
        .output()
        .expect("run petset");
    assert!(out.status.success(), "{}", text(&out.stderr));
    for line in text(&out.stdout).lines() {
        assert!(
            !line.ends_with(":latest") && line.contains(':'),
            "unpinned image {line}"
        );
    }
}

/// docker that has `nginx:1.27` and `busybox:1.36` locally but not `mysql:8.4`.
const DOCKER_WITH_TWO_IMAGES: &str = r#"case "$1 $2" in
'version --format') echo 28.2.2 ;;
'image inspect')
  case "$5" in
    nginx:1.27|busybox:1.36) echo sha256:0123 ;;
    *) echo "Error response from daemon: No such image: $5" >&2; exit 1 ;;
  esac ;;
esac"#;

#[test]
fn preload_loads_only_locally_present_images_into_kind() {
    let root = fixture_root();
    let bin = StandIns::new();
    bin.script("docker", DOCKER_WITH_TWO_IMAGES);
    bin.script("kind", "echo 'Image: \"nginx:1.27\" with ID \"sha256:0123\" not yet present on node \"petset-control-plane\", loading...' >&2");
    let out = petset(
        &["images", "--root", &root.path().to_string_lossy()],
        bin.dir(),
        &[("PETSET_PRELOAD", "1"), ("PETSET_CLUSTER", "kind")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "busybox:1.36\nmysql:8.4\nnginx:1.27\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("loaded into kind cluster `petset`: busybox:1.36, nginx:1.27"),
        "{err}"
    );
    assert!(
        err.contains("not present locally (the cluster pulls them): mysql:8.4"),
        "{err}"
    );
    assert_eq!(
        bin.calls().last().map(String::as_str),
        Some("kind load docker-image busybox:1.36 nginx:1.27 --name petset")
    );
}

#[test]
fn preload_imports_into_k3d() {
    let root = fixture_root();
    let bin = StandIns::new();
    bin.script("docker", DOCKER_WITH_TWO_IMAGES);
    bin.script(
        "k3d",
        "echo 'INFO[0000] Importing image(s) into cluster' >&2",
    );
    let out = petset(
        &["images", "--root", &root.path().to_string_lossy()],
        bin.dir(),
        &[("PETSET_PRELOAD", "1"), ("PETSET_CLUSTER", "k3d:dev")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        bin.calls().last().map(String::as_str),
        Some("k3d image import busybox:1.36 nginx:1.27 --cluster dev")
    );
}

#[test]
fn preload_needs_kind_or_k3d_and_a_running_engine() {
    let root = fixture_root();
    let root_arg = root.path().to_string_lossy().to_string();
    let bin = StandIns::new();
    bin.script("docker", DOCKER_DOWN);
    let out = petset(
        &["images", "--root", &root_arg],
        bin.dir(),
        &[("PETSET_PRELOAD", "1")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("set PETSET_CLUSTER=kind[:name] or k3d[:name]"),
        "{}",
        text(&out.stderr)
    );
    let out = petset(
        &["images", "--root", &root_arg],
        bin.dir(),
        &[("PETSET_PRELOAD", "1"), ("PETSET_CLUSTER", "kind")],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("failed to reach the Docker engine, which image preloading needs"),
        "{err}"
    );
    assert!(err.contains("Cannot connect to the Docker daemon"), "{err}");
}
