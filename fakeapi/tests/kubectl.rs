//! The fake checked with `kubectl`, an independent client: get, get -o yaml, apply
//! --server-side (and its conflicts), scale, graceful delete and its waits, and get -w.

// Test setup and assertions may panic freely.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use petset_fakeapi::FakeApiServer;
use serde_json::json;

/// A fake plus a kubeconfig file for it, removed on drop.
struct Env {
    server: FakeApiServer,
    dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// kubectl from PATH; its absence fails the test, since CI must run these checks.
fn kubectl_path() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "kubectl is not on PATH: install kubectl (the CI image has it) to run these checks"
            )
        })
}

async fn env() -> Env {
    let server = FakeApiServer::start().await.unwrap();
    let dir = std::env::temp_dir().join(format!(
        "petset-fakeapi-kubectl-{}-{}",
        std::process::id(),
        server.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    server.write_kubeconfig(dir.join("kubeconfig")).unwrap();
    Env { server, dir }
}

impl Env {
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(kubectl_path());
        cmd.args(args)
            .env("KUBECONFIG", self.dir.join("kubeconfig"))
            .env("HOME", &self.dir)
            .env("KUBECACHEDIR", self.dir.join("cache"))
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Output {
        tokio::time::timeout(Duration::from_secs(30), self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} timed out"))
            .unwrap()
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}

const STS: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  serviceName: web
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
          name: web
";

#[tokio::test]
async fn get_lists_and_prints_yaml() {
    let e = env().await;
    e.server
        .create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "default", "labels": {"app": "web"}}, "data": {"mode": "fast"}}))
        .unwrap();
    let table = e.ok(&["get", "configmaps"]).await;
    assert!(table.lines().next().unwrap().starts_with("NAME"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("settings ")), "{table}");
    let ns = e.ok(&["get", "ns", "-o", "name"]).await;
    assert!(ns.lines().any(|l| l == "namespace/default"), "{ns}");
    let selected = e.ok(&["get", "cm", "-l", "app=web", "-o", "name"]).await;
    assert_eq!(selected.trim(), "configmap/settings");
    let none = e.ok(&["get", "cm", "-l", "app=db", "-o", "name"]).await;
    assert_eq!(none.trim(), "");

    let yaml = e.ok(&["get", "cm", "settings", "-o", "yaml"]).await;
    assert!(
        yaml.contains("kind: ConfigMap") && yaml.contains("mode: fast") && yaml.contains("uid: "),
        "{yaml}"
    );
    let out = e.run(&["get", "cm", "missing"]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NotFound"),
        "{out:?}"
    );
}

#[tokio::test]
async fn apply_server_side_scale_and_delete() {
    let e = env().await;
    let file = e.write("sts.yaml", STS);
    let out = e.ok(&["apply", "--server-side", "-f", &file]).await;
    assert!(
        out.contains("statefulset.apps/web serverside-applied"),
        "{out}"
    );
    let sts = e
        .server
        .get("apps/v1", "sts", Some("default"), "web")
        .unwrap();
    assert_eq!(sts["metadata"]["managedFields"][0]["manager"], "kubectl");
    assert_eq!(
        sts["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );

    // Re-applying a changed manifest updates the object in place.
    e.write("sts.yaml", &STS.replace("nginx:1.27", "nginx:1.28"));
    e.ok(&["apply", "--server-side", "-f", &file]).await;
    let sts = e
        .server
        .get("apps/v1", "sts", Some("default"), "web")
        .unwrap();
    assert_eq!(
        sts["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    assert_eq!(sts["metadata"]["generation"], 2);

    let out = e.ok(&["scale", "statefulset", "web", "--replicas=3"]).await;
    assert!(out.contains("scaled"), "{out}");
    let replicas = e
        .ok(&["get", "sts", "web", "-o", "jsonpath={.spec.replicas}"])
        .await;
    assert_eq!(replicas, "3");

    let out = e.ok(&["delete", "sts", "web"]).await;
    assert!(out.contains("deleted"), "{out}");
    assert!(
        e.server
            .get("apps/v1", "sts", Some("default"), "web")
            .is_none()
    );
    assert_eq!(e.ok(&["get", "sts", "-o", "name"]).await.trim(), "");
}

#[tokio::test]
async fn get_watch_prints_changes_as_they_happen() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let e = env().await;
    e.server.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "default"}})).unwrap();
    let mut child = e
        .command(&[
            "get",
            "pods",
            "-w",
            "-o",
            "custom-columns=NAME:.metadata.name,PHASE:.status.phase",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("kubectl get -w printed nothing in time")
            .unwrap()
            .expect("kubectl get -w ended")
    };
    assert_eq!(
        next_line().await.split_whitespace().collect::<Vec<_>>(),
        ["NAME", "PHASE"]
    );
    assert_eq!(
        next_line().await.split_whitespace().collect::<Vec<_>>(),
        ["web-0", "Pending"]
    );
    e.server
        .set_pod_ready("default", "web-0", true, Some("10.0.0.1"))
        .unwrap();
    assert_eq!(
        next_line().await.split_whitespace().collect::<Vec<_>>(),
        ["web-0", "Running"]
    );
    e.server.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "default"}})).unwrap();
    assert_eq!(
        next_line().await.split_whitespace().collect::<Vec<_>>(),
        ["web-1", "Pending"]
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn exec_runs_the_registered_handler() {
    let e = env().await;
    e.server
        .create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0", "namespace": "default"},
            "spec": {"containers": [{"name": "mysql", "image": "mysql:8.4"}]}}))
        .unwrap();
    e.server.on_exec("default", "db-0", None, |req| async move {
        petset_fakeapi::ExecOutput::stdout(format!("ran {}\n", req.command.join(" ")))
            .with_exit_code(if req.command[0] == "false" { 1 } else { 0 })
    });
    let out = e.ok(&["exec", "db-0", "--", "hostname", "-f"]).await;
    assert_eq!(out, "ran hostname -f\n");
    let out = e.run(&["exec", "db-0", "--", "false"]).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // kubectl offers websockets with v5 only. A 1.29 server refuses that (no translator, and
    // its kubelet has no v5), and kubectl falls back to SPDY as it would against a real one;
    // the fake does not speak SPDY and says so.
    e.server.set_stream_minor_version(29);
    let out = e.run(&["exec", "db-0", "--", "hostname"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("does not emulate SPDY/3.1 streaming"),
        "{out:?}"
    );
}

/// `kubectl apply` of `file` as a server-side dry run with strict field validation.
const STRICT_DRY_RUN: &[&str] = &[
    "apply",
    "--server-side",
    "--dry-run=server",
    "--validate=strict",
    "-f",
];

/// The strict dry run of `file`, which the server must refuse: its stderr.
async fn refused_dry_run(e: &Env, file: &str) -> String {
    let args: Vec<&str> = STRICT_DRY_RUN.iter().copied().chain([file]).collect();
    let out = e.run(&args).await;
    assert!(!out.status.success(), "the dry run of {file} was accepted");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn server_dry_run_with_strict_validation_refuses_and_stores_nothing() {
    let e = env().await;
    let clean = e.write("clean.yaml", STS);
    let args: Vec<&str> = STRICT_DRY_RUN
        .iter()
        .copied()
        .chain([clean.as_str()])
        .collect();
    let out = e.ok(&args).await;
    assert!(out.contains("serverside-applied (server dry run)"), "{out}");
    let none = e.ok(&["get", "sts", "-o", "name"]).await;
    assert_eq!(none.trim(), "", "a dry run stored the set");

    let unknown = e.write("unknown.yaml", &STS.replace("replicas: 1", "replicass: 1"));
    let stderr = refused_dry_run(&e, &unknown).await;
    assert!(
        stderr.contains(".spec.replicass: field not declared in schema"),
        "{stderr}"
    );

    let policy = STS.replace("replicas: 1", "replicas: 1\n  podManagementPolicy: Paralel");
    let bad_value = e.write("value.yaml", &policy);
    let stderr = refused_dry_run(&e, &bad_value).await;
    assert!(
        stderr.contains(
            "spec.podManagementPolicy: Unsupported value: \"Paralel\": supported values: \
             \"OrderedReady\", \"Parallel\""
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn apply_without_force_conflicts_with_another_manager() {
    let e = env().await;
    let file = e.write("sts.yaml", STS);
    e.ok(&["apply", "--server-side", "-f", &file]).await;
    e.ok(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ])
    .await;
    let out = e.run(&["apply", "--server-side", "-f", &file]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "Apply failed with 1 conflict: conflict with \"kubectl-patch\" using apps/v1: .spec.replicas"
        ),
        "{stderr}"
    );
    e.ok(&["apply", "--server-side", "--force-conflicts", "-f", &file])
        .await;
    let replicas = e
        .ok(&["get", "sts", "web", "-o", "jsonpath={.spec.replicas}"])
        .await;
    assert_eq!(replicas, "1");
}

#[tokio::test]
async fn delete_shows_grace_periods_and_protection_and_waits_for_namespaces() {
    let e = env().await;
    e.server.set_grace_second(Duration::from_secs(3600));
    e.server
        .create(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}))
        .unwrap();
    e.server
        .create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0", "namespace": "default"},
            "spec": {"nodeName": "node-1", "terminationGracePeriodSeconds": 7,
                     "containers": [{"name": "db", "image": "mysql:8.4"}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}))
        .unwrap();
    e.ok(&["delete", "pod", "db-0", "--wait=false"]).await;
    e.ok(&["delete", "pvc", "data", "--wait=false"]).await;
    let grace = e
        .ok(&[
            "get",
            "pod",
            "db-0",
            "-o",
            "jsonpath={.metadata.deletionGracePeriodSeconds}",
        ])
        .await;
    assert_eq!(grace, "7");
    let finalizers = e
        .ok(&[
            "get",
            "pvc",
            "data",
            "-o",
            "jsonpath={.metadata.finalizers}",
        ])
        .await;
    assert_eq!(finalizers, r#"["kubernetes.io/pvc-protection"]"#);
    // `--force --grace-period=0` is the kubelet's last delete; the claim then goes too, and
    // kubectl's own wait sees it.
    e.ok(&["delete", "pod", "db-0", "--force", "--grace-period=0"])
        .await;
    e.ok(&["wait", "--for=delete", "pvc/data", "--timeout=20s"])
        .await;

    // (`kubectl create` speaks protobuf, which the fake does not.)
    let file = e.write(
        "scratch.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, namespace: scratch}\n",
    );
    e.ok(&["apply", "--server-side", "-f", &file]).await;
    // kubectl delete waits until the namespace has finished Terminating.
    let out = e
        .ok(&["delete", "namespace", "scratch", "--timeout=20s"])
        .await;
    assert!(out.contains("deleted"), "{out}");
    assert!(e.server.get("v1", "Namespace", None, "scratch").is_none());
}

#[tokio::test]
async fn server_dry_run_replace_and_patch_store_nothing_and_strict_replace_refuses() {
    let e = env().await;
    let file = e.write("sts.yaml", STS);
    e.ok(&["apply", "--server-side", "-f", &file]).await;
    let version = || {
        e.ok(&[
            "get",
            "sts",
            "web",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
    };
    let before = version().await;

    let changed = e.write("changed.yaml", &STS.replace("replicas: 1", "replicas: 3"));
    let replace = ["replace", "--dry-run=server", "--validate=strict", "-f"];
    let args: Vec<&str> = replace.iter().copied().chain([changed.as_str()]).collect();
    let out = e.ok(&args).await;
    assert!(out.contains("replaced (server dry run)"), "{out}");

    // kubectl patch has no --validate switch: strict patches are tested with kube-rs.
    for kind in ["merge", "strategic"] {
        let patch = r#"{"spec":{"replicas":4}}"#;
        let out = e
            .ok(&[
                "patch",
                "sts",
                "web",
                "--type",
                kind,
                "-p",
                patch,
                "--dry-run=server",
            ])
            .await;
        // kubectl prints no "(server dry run)" for a patch; what is stored tells.
        assert!(
            out.contains("statefulset.apps/web patched"),
            "{kind}: {out}"
        );
    }
    assert_eq!(version().await, before, "a server dry run stored a change");
    let replicas = e
        .ok(&["get", "sts", "web", "-o", "jsonpath={.spec.replicas}"])
        .await;
    assert_eq!(replicas, "1");

    let unknown = e.write("unknown.yaml", &STS.replace("replicas: 1", "replicass: 1"));
    let args: Vec<&str> = replace.iter().copied().chain([unknown.as_str()]).collect();
    let out = e.run(&args).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("unknown field \"spec.replicass\""),
        "{out:?}"
    );
}
