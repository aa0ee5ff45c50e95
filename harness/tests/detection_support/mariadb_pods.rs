//! Bringing a MariaDB pod up and down as the fixture's pods do: its `init-config` and `clone`
//! scripts, a `mariadbd` on the option files they wrote and on the pod's claim, and its `backup`
//! sidecar (starting replication, serving backups to the next ordinal); on stop, its addresses,
//! its sidecar, then a clean server shutdown.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use petset_fakeapi::emulation::{Fault, PodInfo};

use super::super::support::mariadb::{self, MariaDb, ServerDir};
use super::mariadb_accounts::{admin, entrypoint};
use super::mariadb_backend::{Inner, PodRun, guard};
use super::pod_env::{container_env, lookup};
use super::pod_processes::{Sidecar, run_to_end};
use super::pod_scripts::PodScripts;

/// The server's port in the pod, and the backup sidecar's.
const MYSQL_PORT: u16 = 3306;
const BACKUP_PORT: u16 = 3307;
/// How long an init container's script may run (a clone is a backup, a stream and a prepare).
const INIT_DEADLINE: Duration = Duration::from_secs(180);
/// How long the backup sidecar may take to configure replication and start serving.
const SIDECAR_DEADLINE: Duration = Duration::from_secs(90);
/// How long a stopped server may take to shut down cleanly before it is killed.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

impl Inner {
    pub(super) async fn start(
        self: Arc<Self>,
        pod: PodInfo,
    ) -> Result<Vec<(String, String)>, String> {
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

    pub(super) async fn stop(self: Arc<Self>, pod: PodInfo) {
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
