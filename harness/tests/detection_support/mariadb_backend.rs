//! Real MariaDB servers behind the emulated MariaDB pods, brought up the way the fixture's pods
//! come up: its `init-config` and `clone` scripts, a `mariadbd` on the option files they wrote and
//! on the pod's claim, and its `backup` sidecar (starting replication, serving backups to the next
//! ordinal). Data lives per claim, not per pod: a pod deleted and recreated on its claim finds
//! its database again; a new ordinal on an empty claim is cloned from its predecessor with
//! mariabackup and mbstream. Credentials come from the Secret the scenario applied. Execs of the
//! `mariadb` client (the SQL step's and the readiness probe's) are answered by these servers. The
//! database fault switches break it here.

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use petset_fakeapi::emulation::{Backend, Fault, PodInfo};
use petset_fakeapi::{ExecOutput, ExecRequest, Handle};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::super::support::mariadb::{self, MariaDb, ServerDir};
use super::pod_env::{container_env, lookup};
use super::pod_network::PodNetwork;
use super::pod_processes::{Sidecar, run_to_end};
use super::pod_scripts::PodScripts;

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// The server's port in the pod, and the backup sidecar's.
const MYSQL_PORT: u16 = 3306;
const BACKUP_PORT: u16 = 3307;
/// How long an init container's script may run (a clone is a backup, a stream and a prepare).
const INIT_DEADLINE: Duration = Duration::from_secs(180);
/// How long the backup sidecar may take to configure replication and start serving.
const SIDECAR_DEADLINE: Duration = Duration::from_secs(90);
/// How long a stopped server may take to shut down cleanly before it is killed.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

/// One started pod: its server and sidecar.
struct PodRun {
    uid: String,
    claim: String,
    /// Its names on the pod network (`<pod>.<service>:<port>`).
    names: Vec<String>,
    server: Arc<MariaDb>,
    sidecar: Mutex<Option<Sidecar>>,
}

struct Inner {
    handle: Handle,
    fault: Option<Fault>,
    dir: PathBuf,
    network: PodNetwork,
    /// By (namespace, pod name).
    pods: Mutex<BTreeMap<(String, String), Arc<PodRun>>>,
    /// One lock per claim: a pod's start and stop on a claim never overlap the next pod's.
    claims: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Pods (by UID) told to stop, so a start still under way does not bring them up.
    stopped: Mutex<HashSet<String>>,
    next_read: AtomicUsize,
    /// Dropped last: closing it removes `dir` (the claims' data) once the servers are gone.
    _keeper: std::process::ChildStdin,
}

pub struct MariaDbBackend {
    inner: Arc<Inner>,
}

impl MariaDbBackend {
    pub fn new(handle: Handle, fault: Option<Fault>) -> Result<Self, String> {
        let dir = ServerDir::create().map_err(|e| e.to_string())?;
        let path = dir.path().to_owned();
        let keeper = mariadb::remove_when_closed(&path).map_err(|e| e.to_string())?;
        dir.disarm();
        let network = PodNetwork::new(&path.join("network")).map_err(|e| e.to_string())?;
        Ok(Self {
            inner: Arc::new(Inner {
                handle,
                fault,
                dir: path,
                network,
                pods: Mutex::default(),
                claims: Mutex::default(),
                stopped: Mutex::default(),
                next_read: AtomicUsize::new(0),
                _keeper: keeper,
            }),
        })
    }
}

fn guard<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// MariaDB pods are StatefulSet pods running a `mariadb` image.
fn is_database(pod: &PodInfo) -> bool {
    pod.ordinal.is_some() && pod.images.iter().any(|i| i.contains("mariadb"))
}

/// `text` as a single-quoted SQL string.
fn sql_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl Inner {
    fn claim_lock(&self, claim: &str) -> Arc<tokio::sync::Mutex<()>> {
        guard(&self.claims)
            .entry(claim.to_owned())
            .or_default()
            .clone()
    }

    fn running(&self, namespace: &str, pod: &str) -> Option<Arc<PodRun>> {
        guard(&self.pods)
            .get(&(namespace.to_owned(), pod.to_owned()))
            .cloned()
    }

    async fn start(self: Arc<Self>, pod: PodInfo) -> Result<Vec<(String, String)>, String> {
        let ordinal = pod.ordinal.unwrap_or(0);
        let ns = pod.namespace.as_str();
        let object = self
            .handle
            .get("v1", "Pod", Some(ns), &pod.name)
            .filter(|o| o["metadata"]["uid"] == pod.uid.as_str())
            .ok_or("the pod is gone")?;
        let claim = pod
            .claim_uids
            .first()
            .ok_or("the pod mounts no claim")?
            .clone();
        let lock = self.claim_lock(&claim);
        let _held = lock.lock().await;
        if guard(&self.stopped).contains(&pod.uid) {
            return Err("the pod was deleted before it started".into());
        }
        let service = object["spec"]["subdomain"].as_str().unwrap_or_default();
        let set = pod
            .name
            .strip_suffix(&format!("-{ordinal}"))
            .unwrap_or(&pod.name);
        let pod_dir = self.dir.join("pods").join(&pod.uid);
        let conf = pod_dir.join("conf.d");
        let data = if self.fault == Some(Fault::DatabaseDataNotOnClaim) {
            // As if the data directory were an emptyDir: it goes with the pod.
            pod_dir.join("data")
        } else {
            self.dir.join("claims").join(&claim)
        };
        for dir in [&conf, &data] {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let scripts = PodScripts::prepare(&self.handle, &object, &pod_dir)?;
        let server_env = container_env(&self.handle, &object, "mysql")?;
        let backup_env = container_env(&self.handle, &object, "backup")?;
        let hostname = vec![("HOSTNAME".to_owned(), pod.name.clone())];
        let var = |k: &str, v: &dyn ToString| (k.to_owned(), v.to_string());

        // Init containers, in order.
        let mut env = hostname.clone();
        env.extend([
            var("CONFIG_MAP_DIR", &configmap_dir(&scripts, "init-config")?),
            var("CONF_DIR", &conf.display()),
        ]);
        init(&scripts, "init-config", &env).await?;
        let mut env = hostname.clone();
        env.extend(self.network.script_env(ns));
        env.push(var("DATA_DIR", &data.display()));
        if self.fault == Some(Fault::CloneFromPrimary) && ordinal > 1 {
            // The script's own override of the peer it clones (its predecessor by default).
            env.push(var("PEER_HOST", &format!("{set}-0.{service}")));
        }
        init(&scripts, "clone", &env).await?;

        if self.fault == Some(Fault::DdlNotReplicated) && ordinal > 0 {
            // A replication filter on the application's database: statements run outside it
            // (CREATE DATABASE, DROP DATABASE) are skipped.
            let database = lookup(&server_env, "MARIADB_DATABASE").unwrap_or_default();
            let filter = format!("[mariadbd]\nreplicate_do_db = {database}\n");
            std::fs::write(conf.join("zz-fault-filter.cnf"), filter).map_err(|e| e.to_string())?;
        }

        // The server, on the claim's data and the option files init-config wrote.
        let initialised = data.join("mysql").is_dir();
        let (server_data, server_conf) = (data.clone(), conf.clone());
        let server = tokio::task::spawn_blocking(move || {
            let dir = ServerDir::create().map_err(|e| e.to_string())?;
            std::os::unix::fs::symlink(&server_data, dir.data()).map_err(|e| e.to_string())?;
            MariaDb::start_with_conf_dir(dir, &server_conf)
                .map_err(|e| format!("mariadbd did not start: {e}"))
        })
        .await
        .map_err(|e| format!("server start panicked: {e}"))??;
        let server = Arc::new(server);
        let root_password = lookup(&server_env, "MARIADB_ROOT_PASSWORD")
            .unwrap_or_default()
            .to_owned();
        if !initialised {
            entrypoint(&server, &server_env)?;
        }
        if self.fault == Some(Fault::ReplicaWritable) && ordinal > 0 {
            admin(&server, &root_password, "SET GLOBAL read_only = OFF")?;
        }
        if self.fault == Some(Fault::ReplicaAcceptsAppWrites) && ordinal > 0 {
            // The privilege that bypasses read_only, on this replica only (kept out of its binlog).
            let user = lookup(&server_env, "MARIADB_USER").unwrap_or_default();
            let grant = format!("SET sql_log_bin=0; GRANT READ_ONLY ADMIN ON *.* TO '{user}'@'%'");
            admin(&server, &root_password, &grant)?;
        }
        let own = |port: u16| format!("{}.{service}:{port}", pod.name);
        self.network
            .serve(ns, &own(MYSQL_PORT), Some(server.addr()))
            .await
            .map_err(|e| e.to_string())?;
        self.handle
            .forward_port(ns, &pod.name, MYSQL_PORT, server.addr());

        // The backup sidecar: replication from the primary's stable name, then serving backups.
        let primary = self
            .network
            .address(ns, &format!("{set}-0.{service}:{MYSQL_PORT}"))
            .await
            .map_err(|e| e.to_string())?;
        let backup_port = mariadb::free_port().map_err(|e| e.to_string())?;
        let mut env = hostname;
        env.extend(backup_env);
        env.extend(self.network.script_env(ns));
        env.extend([
            var("DATA_DIR", &data.display()),
            var("MYSQL_HOST", &Ipv4Addr::LOCALHOST),
            var("MYSQL_PORT", &server.port()),
            // mariadbd resolves its source itself, so it is given the stable address directly.
            var("PRIMARY_HOST", &primary.ip()),
            var("PRIMARY_PORT", &primary.port()),
            var("BACKUP_PORT", &backup_port),
            var("BACKUP_BIND", &Ipv4Addr::LOCALHOST),
            var("WAIT_SECONDS", &60),
        ]);
        let log = pod_dir.join("backup.log");
        let sidecar = Sidecar::start(&scripts.command("backup")?, &env, log)?;
        sidecar
            .wait_listening(backup_port, SIDECAR_DEADLINE)
            .await
            .map_err(|e| format!("the backup sidecar {e}"))?;
        if self.fault == Some(Fault::ReplicationStopped) && ordinal > 0 {
            admin(&server, &root_password, "STOP SLAVE")?;
        }
        let backups = SocketAddr::from((Ipv4Addr::LOCALHOST, backup_port));
        self.network
            .serve(ns, &own(BACKUP_PORT), Some(backups))
            .await
            .map_err(|e| e.to_string())?;
        guard(&self.pods).insert(
            (ns.to_owned(), pod.name.clone()),
            Arc::new(PodRun {
                uid: pod.uid.clone(),
                claim,
                names: vec![own(MYSQL_PORT), own(BACKUP_PORT)],
                server,
                sidecar: Mutex::new(Some(sidecar)),
            }),
        );
        Ok(mirrored_files(&scripts, &data))
    }

    async fn stop(self: Arc<Self>, pod: PodInfo) {
        guard(&self.stopped).insert(pod.uid.clone());
        let key = (pod.namespace.clone(), pod.name.clone());
        let claim = match self.running(&pod.namespace, &pod.name) {
            Some(run) if run.uid == pod.uid => Some(run.claim.clone()),
            _ => pod.claim_uids.first().cloned(),
        };
        let lock = claim.map(|c| self.claim_lock(&c));
        let _held = match &lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let run = {
            let mut pods = guard(&self.pods);
            match pods.get(&key) {
                Some(run) if run.uid == pod.uid => pods.remove(&key),
                _ => None,
            }
        };
        let Some(run) = run else {
            return;
        };
        // The pod's addresses go first, then its containers.
        for name in &run.names {
            let _ = self.network.serve(&pod.namespace, name, None).await;
        }
        drop(guard(&run.sidecar).take());
        let server = run.server.clone();
        drop(run);
        let _ = tokio::task::spawn_blocking(move || shut_down(server)).await;
    }
}

/// Runs an init container's command to its end; a failure keeps the pod from starting.
async fn init(scripts: &PodScripts, name: &str, env: &[(String, String)]) -> Result<(), String> {
    let ran = run_to_end(&scripts.command(name)?, env, INIT_DEADLINE)
        .await
        .map_err(|e| format!("init container {name}: {e}"))?;
    if ran.success {
        Ok(())
    } else {
        Err(format!("init container {name} failed:\n{}", ran.tail()))
    }
}

/// The local directory standing for the ConfigMap mount container `name` uses.
fn configmap_dir(scripts: &PodScripts, name: &str) -> Result<String, String> {
    // The command names a script under the mount; its directory is the mount's local copy.
    let command = scripts.command(name)?;
    command
        .iter()
        .find(|w| w.ends_with(".sh"))
        .and_then(|w| Path::new(w).parent())
        .map(|p| p.display().to_string())
        .ok_or_else(|| format!("container `{name}` runs no script"))
}

/// What the image's entrypoint does on an empty data directory: the accounts from the
/// container's environment (kept out of the binlog; replicas get them with their clone).
fn entrypoint(server: &MariaDb, env: &[(String, String)]) -> Result<(), String> {
    let get = |name: &str| lookup(env, name).unwrap_or_default();
    let (database, user) = (get("MARIADB_DATABASE"), get("MARIADB_USER"));
    let root = sql_quote(get("MARIADB_ROOT_PASSWORD"));
    let mut sql = format!(
        "SET sql_log_bin=0; \
         CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY {root}; \
         GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION; "
    );
    if !database.is_empty() {
        sql += &format!("CREATE DATABASE IF NOT EXISTS `{database}`; ");
    }
    if !user.is_empty() {
        let password = sql_quote(get("MARIADB_PASSWORD"));
        sql += &format!("CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY {password}; ");
        if !database.is_empty() {
            sql += &format!("GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%'; ");
        }
    }
    let repl = get("MARIADB_REPLICATION_USER");
    if !repl.is_empty() {
        let password = sql_quote(get("MARIADB_REPLICATION_PASSWORD"));
        sql += &format!(
            "CREATE USER IF NOT EXISTS '{repl}'@'%' IDENTIFIED BY {password}; \
             GRANT REPLICATION SLAVE ON *.* TO '{repl}'@'%'; "
        );
    }
    sql += &format!(
        "ALTER USER IF EXISTS 'root'@'127.0.0.1' IDENTIFIED BY {root}; \
         ALTER USER IF EXISTS 'root'@'::1' IDENTIFIED BY {root}; \
         ALTER USER 'root'@'localhost' IDENTIFIED BY {root};"
    );
    server
        .sql(&sql)
        .map(drop)
        .map_err(|e| format!("the entrypoint's accounts: {e}"))
}

/// One statement as root.
fn admin(server: &MariaDb, root_password: &str, sql: &str) -> Result<(), String> {
    server
        .sql_as("root", root_password, sql)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The small files the scripts leave on the claim (which peer it was cloned from, where
/// replication was started), copied into the emulated volume that execs in the pod read.
fn mirrored_files(scripts: &PodScripts, data: &Path) -> Vec<(String, String)> {
    let Some(mount) = scripts.claim_mount("mysql") else {
        return Vec::new();
    };
    ["cloned-from", "replication-configured"]
        .into_iter()
        .filter_map(|name| {
            let text = std::fs::read_to_string(data.join(name)).ok()?;
            Some((format!("{mount}/{name}"), text))
        })
        .collect()
}

/// Stops a server as a pod's termination does: SIGTERM, a clean shutdown, and a kill only past
/// the deadline. Blocking.
fn shut_down(server: Arc<MariaDb>) {
    let pid = server.pid().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .stderr(Stdio::null())
        .status();
    // The server is not our child, so there is no exit to wait on: its /proc entry tells.
    let until = std::time::Instant::now() + SHUTDOWN_DEADLINE;
    while alive(&pid) && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
}

/// Whether a process runs (a zombie, state Z, has ended).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

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
    async fn sql_step(&self, request: ExecRequest) -> ExecOutput {
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
    async fn local_client(&self, pod: PodInfo, request: ExecRequest) -> ExecOutput {
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

impl Backend for MariaDbBackend {
    fn pod_started(
        &self,
        pod: PodInfo,
    ) -> Option<BoxFuture<Result<Vec<(String, String)>, String>>> {
        if !is_database(&pod) {
            return None;
        }
        Some(Box::pin(self.inner.clone().start(pod)))
    }

    fn exec(&self, pod: PodInfo, request: ExecRequest) -> Option<BoxFuture<ExecOutput>> {
        if !is_database(&pod) {
            return None;
        }
        let inner = self.inner.clone();
        if request.command.get(3).map(String::as_str) == Some("petset-sql") {
            return Some(Box::pin(async move { inner.sql_step(request).await }));
        }
        if request.command.first().map(String::as_str) == Some("mariadb") {
            return Some(Box::pin(
                async move { inner.local_client(pod, request).await },
            ));
        }
        None
    }

    fn pod_stopped(&self, pod: PodInfo) -> Option<BoxFuture<()>> {
        if !is_database(&pod) {
            return None;
        }
        Some(Box::pin(self.inner.clone().stop(pod)))
    }
}
