//! Execs of the `mariadb` client in the emulated MariaDB pods, answered by running the real
//! client against the servers behind them: the SQL step's in-pod script and the readiness
//! probe's client.

use std::net::Ipv4Addr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use petset_fakeapi::emulation::{Fault, PodInfo};
use petset_fakeapi::{ExecOutput, ExecRequest};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::super::support::mariadb::MariaDb;
use super::mariadb_backend::{Inner, PodRun, guard};
use super::pod_env::{container_env, lookup};

fn fail(message: String) -> ExecOutput {
    ExecOutput::default()
        .with_stderr(format!("{message}\n"))
        .with_exit_code(1)
}

/// Runs the real `mariadb` client against `server` with `args` (host and port replaced).
async fn client(server: &MariaDb, args: &[String], password: &str, stdin: &str) -> ExecOutput {
    let mut args = args.to_vec();
    if let Some(h) = args.iter().position(|a| a == "-h")
        && let Some(host) = args.get_mut(h + 1)
    {
        *host = Ipv4Addr::LOCALHOST.to_string();
    }
    args.retain(|a| !a.starts_with("--port="));
    if let Some(p) = args.iter().position(|a| a == "-P") {
        args.drain(p..(p + 2).min(args.len()));
    }
    args.extend(["-P".to_owned(), server.port().to_string()]);
    let child = tokio::process::Command::new("mariadb")
        .arg("--no-defaults")
        .args(&args)
        .env("MYSQL_PWD", password)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return fail(format!("failed to run mariadb: {e}")),
    };
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes()).await;
    }
    match child.wait_with_output().await {
        Ok(out) => ExecOutput {
            stdout: out.stdout,
            stderr: out.stderr,
            exit_code: out.status.code().unwrap_or(1),
        },
        Err(e) => fail(format!("failed to run mariadb: {e}")),
    }
}

impl Inner {
    /// The SQL step's in-pod script: `sh -c <script> petset-sql <repeat> <client args...>`,
    /// the password and the SQL on stdin.
    pub(super) async fn sql_step(&self, request: ExecRequest) -> ExecOutput {
        let repeat: u32 = request
            .command
            .get(4)
            .and_then(|r| r.parse().ok())
            .unwrap_or(1);
        let args: Vec<String> = request.command.iter().skip(5).cloned().collect();
        let Some(h) = args.iter().position(|a| a == "-h") else {
            return fail("no -h".into());
        };
        let host = args.get(h + 1).cloned().unwrap_or_default();
        let short = host.split('.').next().unwrap_or("").to_owned();
        // The password line, the SQL's line count (the emulation read just that many), the SQL.
        let stdin = String::from_utf8_lossy(&request.stdin).to_string();
        let mut input = stdin.splitn(3, '\n');
        let password = input.next().unwrap_or_default();
        let sql = input.nth(1).unwrap_or_default();
        let mut out = ExecOutput::default();
        for _ in 0..repeat.max(1) {
            let target = {
                let pods = guard(&self.pods);
                let in_ns: Vec<&Arc<PodRun>> = pods
                    .iter()
                    .filter(|((ns, _), _)| *ns == request.namespace)
                    .map(|(_, run)| run)
                    .collect();
                if short == "mysql-read" && !in_ns.is_empty() {
                    let next = if self.fault == Some(Fault::ReadServiceOneServer) {
                        0
                    } else {
                        self.next_read.fetch_add(1, Ordering::Relaxed)
                    };
                    Some(in_ns[next % in_ns.len()].server.clone())
                } else {
                    pods.get(&(request.namespace.clone(), short.clone()))
                        .map(|run| run.server.clone())
                }
            };
            let Some(target) = target else {
                return fail(format!("ERROR 2005 (HY000): Unknown server host '{host}'"));
            };
            let ran = client(&target, &args, password, sql).await;
            out.stdout.extend(ran.stdout);
            out.stderr.extend(ran.stderr);
            if ran.exit_code != 0 {
                return out.with_exit_code(ran.exit_code);
            }
        }
        out
    }

    /// The client run by name in the container (the readiness probe): it reaches the pod's own
    /// server, with the password the container's environment gives it.
    pub(super) async fn local_client(&self, pod: PodInfo, request: ExecRequest) -> ExecOutput {
        let args = &request.command[1..];
        let host = args
            .iter()
            .position(|a| a == "-h")
            .and_then(|h| args.get(h + 1))
            .map(String::as_str)
            .unwrap_or("localhost");
        if !matches!(host, "127.0.0.1" | "localhost" | "::1") {
            return fail(format!("ERROR 2005 (HY000): Unknown server host '{host}'"));
        }
        let run = self
            .running(&pod.namespace, &pod.name)
            .filter(|run| run.uid == pod.uid);
        let Some(run) = run else {
            return fail(format!(
                "ERROR 2002 (HY000): Can't connect to server on '{host}' (115)"
            ));
        };
        let container = request.container.clone().unwrap_or_default();
        let password = self
            .handle
            .get("v1", "Pod", Some(&pod.namespace), &pod.name)
            .and_then(|object: Value| container_env(&self.handle, &object, &container).ok())
            .and_then(|env| lookup(&env, "MYSQL_PWD").map(str::to_owned))
            .unwrap_or_default();
        client(&run.server, args, &password, "").await
    }
}
