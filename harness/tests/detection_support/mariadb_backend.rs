//! Real MariaDB servers behind the emulated `mysql-N` pods: a server per pod (server_id 100 +
//! ordinal, replicas read-only and replicating from `mysql-0`), reached through the fake's
//! port-forward and by the in-pod client over exec. The database fault switches break it here.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use petset_fakeapi::emulation::{Backend, Fault, PodInfo};
use petset_fakeapi::{ExecOutput, ExecRequest, Handle};
use tokio::io::AsyncWriteExt;

use super::super::support::mariadb::{MariaDb, ReplicationStart, ServerConfig};

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// The fixture Secret's test-only credentials (`fixtures/mysql/secret.yaml`).
const ROOT_PASSWORD: &str = "petset-root-secret";
const APP_PASSWORD: &str = "petset-app-secret";

/// The running servers by namespace and ordinal.
type Servers = Arc<Mutex<BTreeMap<(String, u32), Arc<MariaDb>>>>;

pub struct MariaDbBackend {
    handle: Handle,
    fault: Option<Fault>,
    servers: Servers,
    next_read: Arc<AtomicUsize>,
}

impl MariaDbBackend {
    pub fn new(handle: Handle, fault: Option<Fault>) -> Self {
        Self {
            handle,
            fault,
            servers: Arc::default(),
            next_read: Arc::default(),
        }
    }
}

fn mysql_ordinal(name: &str) -> Option<u32> {
    name.strip_prefix("mysql-")?.parse().ok()
}

/// Starts and configures one server; blocking.
fn start_server(
    ordinal: u32,
    primary: Option<Arc<MariaDb>>,
    fault: Option<Fault>,
) -> Result<MariaDb, String> {
    let replica = ordinal > 0;
    let server = MariaDb::start(&ServerConfig {
        server_id: 100 + ordinal,
        read_only: replica && fault != Some(Fault::ReplicaWritable),
    })
    .map_err(|e| format!("mariadbd did not start: {e}"))?;
    if let Some(primary) = primary.filter(|_| replica) {
        if fault == Some(Fault::DdlNotReplicated) {
            // A replication filter on the application's database: statements run outside it
            // (CREATE DATABASE, DROP DATABASE) are skipped.
            server
                .sql("SET GLOBAL replicate_do_db = 'petset'")
                .map_err(|e| e.to_string())?;
        }
        if fault != Some(Fault::ReplicationStopped) {
            server
                .replicate_from(&primary, &ReplicationStart::Gtid)
                .map_err(|e| e.to_string())?;
        }
    } else if !replica {
        server.create_repl_user().map_err(|e| e.to_string())?;
    }
    // Local accounts on every server (kept out of the binlog so replication has no conflicts).
    let bypass = if fault == Some(Fault::ReplicaAcceptsAppWrites) {
        "GRANT READ_ONLY ADMIN ON *.* TO 'petset'@'%';"
    } else {
        ""
    };
    server
        .sql(&format!(
            "SET sql_log_bin=0; CREATE DATABASE IF NOT EXISTS petset; \
             CREATE USER IF NOT EXISTS 'petset'@'%' IDENTIFIED BY '{APP_PASSWORD}'; \
             GRANT ALL PRIVILEGES ON petset.* TO 'petset'@'%'; {bypass} \
             CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '{ROOT_PASSWORD}'; \
             GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION; \
             ALTER USER IF EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '{ROOT_PASSWORD}'; \
             ALTER USER IF EXISTS 'root'@'::1' IDENTIFIED BY '{ROOT_PASSWORD}'; \
             ALTER USER 'root'@'localhost' IDENTIFIED BY '{ROOT_PASSWORD}';"
        ))
        .map_err(|e| e.to_string())?;
    Ok(server)
}

impl Backend for MariaDbBackend {
    fn pod_started(
        &self,
        pod: PodInfo,
    ) -> Option<BoxFuture<Result<Vec<(String, String)>, String>>> {
        let ordinal = mysql_ordinal(&pod.name)?;
        let servers = self.servers.clone();
        let handle = self.handle.clone();
        let fault = self.fault;
        Some(Box::pin(async move {
            let key = (pod.namespace.clone(), ordinal);
            let existing = servers.lock().unwrap().get(&key).cloned();
            let server = match existing {
                Some(s) => s,
                None => {
                    let primary = servers
                        .lock()
                        .unwrap()
                        .get(&(pod.namespace.clone(), 0))
                        .cloned();
                    let started =
                        tokio::task::spawn_blocking(move || start_server(ordinal, primary, fault))
                            .await
                            .map_err(|e| format!("server start panicked: {e}"))??;
                    let started = Arc::new(started);
                    servers.lock().unwrap().insert(key, started.clone());
                    started
                }
            };
            handle.forward_port(&pod.namespace, &pod.name, 3306, server.addr());
            Ok(Vec::new())
        }))
    }

    fn exec(&self, pod: PodInfo, request: ExecRequest) -> Option<BoxFuture<ExecOutput>> {
        mysql_ordinal(&pod.name)?;
        if request.command.get(3).map(String::as_str) != Some("petset-sql") {
            return None;
        }
        let servers = self.servers.clone();
        let next_read = self.next_read.clone();
        let one_server = self.fault == Some(Fault::ReadServiceOneServer);
        Some(Box::pin(async move {
            let fail = |m: String| {
                ExecOutput::default()
                    .with_stderr(format!("{m}\n"))
                    .with_exit_code(1)
            };
            let repeat: u32 = request
                .command
                .get(4)
                .and_then(|r| r.parse().ok())
                .unwrap_or(1);
            let mut args: Vec<String> = request.command.iter().skip(5).cloned().collect();
            let Some(h) = args.iter().position(|a| a == "-h") else {
                return fail("no -h".into());
            };
            let host = args.get(h + 1).cloned().unwrap_or_default();
            let stdin = String::from_utf8_lossy(&request.stdin).to_string();
            let (password, sql) = stdin.split_once('\n').unwrap_or((stdin.as_str(), ""));
            let mut out = ExecOutput::default();
            for _ in 0..repeat.max(1) {
                let target = {
                    let all = servers.lock().unwrap();
                    let in_ns: Vec<&Arc<MariaDb>> = all
                        .iter()
                        .filter(|((ns, _), _)| *ns == request.namespace)
                        .map(|(_, s)| s)
                        .collect();
                    let short = host.split('.').next().unwrap_or("");
                    if short == "mysql-read" && !in_ns.is_empty() {
                        let turn = if one_server {
                            0
                        } else {
                            next_read.fetch_add(1, Ordering::Relaxed)
                        };
                        Some(in_ns[turn % in_ns.len()].clone())
                    } else {
                        mysql_ordinal(short)
                            .and_then(|o| all.get(&(request.namespace.clone(), o)).cloned())
                    }
                };
                let Some(target) = target else {
                    return fail(format!("Unknown server host '{host}'"));
                };
                args[h + 1] = "127.0.0.1".into();
                if let Some(p) = args.iter().position(|a| a == "-P") {
                    args[p + 1] = target.port().to_string();
                }
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
                    let _ = input.write_all(format!("{sql}\n").as_bytes()).await;
                }
                let result = match child.wait_with_output().await {
                    Ok(r) => r,
                    Err(e) => return fail(format!("failed to run mariadb: {e}")),
                };
                out.stdout.extend(result.stdout);
                out.stderr.extend(result.stderr);
                let code = result.status.code().unwrap_or(1);
                if code != 0 {
                    return out.with_exit_code(code);
                }
            }
            out
        }))
    }
}
