//! The MariaDB fixture's own scripts, run for real: local `mariadbd` processes stand in for the
//! pods mysql-0, mysql-1 and mysql-2. The test takes the scripts out of `fixtures/mysql/configmap.yaml`
//! and the container commands out of `fixtures/mysql/statefulset.yaml`, so what runs is exactly
//! what ships; only the pod-specific parts differ, through the environment variables the scripts
//! read (the ordinal from a stand-in `HOSTNAME`, directories, and peers on loopback ports in place
//! of `mysql-N.mysql`). The `backup` sidecar's stream is a real TCP connection on loopback.
//!
//! It shows: the config each ordinal picks (server_id = 100 + ordinal, primary.cnf on 0,
//! replica.cnf elsewhere); a new replica cloned from its predecessor (mysql-1 from the primary,
//! mysql-2 from mysql-1, a replica) holding the data before replicating anything; replication
//! started from the position the backup recorded, in both the MariaDB 10.x and 11.x file names;
//! rows written on the primary read on the replicas; the application user refused with error 1290
//! on a replica; and scripts that are safe to run again.

use crate::support::manifests::{find, load_fixtures};
use crate::support::mariadb::{self, MariaDb, REPL_PASSWORD, REPL_USER, ServerDir};
use serde_json::Value;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Where the pod mounts the ConfigMap; the container commands name the scripts under it.
const CONFIG_MAP_MOUNT: &str = "/mnt/config-map";
/// The application user and database the StatefulSet's environment creates on the primary.
const APP_USER: &str = "petset";
const APP_PASSWORD: &str = "app-secret";
/// How long one script may run (a clone includes a backup, a stream and a prepare).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(90);
/// How long a replica may take to apply what the primary has.
const CATCH_UP: Duration = Duration::from_secs(20);

/// A directory removed when the test ends, however it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> io::Result<Scratch> {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("petset-suite-{}-{n}", std::process::id()));
        fs::create_dir_all(&path)?;
        Ok(Scratch(path))
    }

    fn dir(&self, name: &str) -> io::Result<PathBuf> {
        let path = self.0.join(name);
        fs::create_dir_all(&path)?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What a finished script printed.
#[derive(Debug)]
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn expect_success(self, what: &str) -> Result<Ran, String> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(format!(
                "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
                self.status, self.stdout, self.stderr
            ))
        }
    }
}

/// Runs a command to completion within [`SCRIPT_DEADLINE`], killing it (and anything it
/// started) if it takes longer.
fn run(command: &[String], env: &[(&str, String)]) -> io::Result<Ran> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| io::Error::other("empty command"))?;
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let readers = [
        child.stdout.take().map(|s| read_all(Box::new(s))),
        child.stderr.take().map(|s| read_all(Box::new(s))),
    ];
    let deadline = Instant::now() + SCRIPT_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.wait();
            return Err(io::Error::other(format!(
                "`{}` did not finish within {SCRIPT_DEADLINE:?}",
                command.join(" ")
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let [stdout, stderr] = readers.map(|reader| {
        reader
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default()
    });
    Ok(Ran {
        status,
        stdout,
        stderr,
    })
}

fn read_all(mut source: Box<dyn Read + Send>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = source.read_to_string(&mut text);
        text
    })
}

fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Stops the command's whole process group (`kill 0`: the wrapper leads its own group) once the
/// test closes its stdin: the guard is dropped, the test panics, or the test process dies. The
/// wrapper ignores TERM only after its child has started, so the child keeps the default handling.
/// The child's exit status goes to `$PETSET_LOG.exit`, so a waiting test learns it died.
const LIFELINE: &str = r#"("$@" </dev/null >>"$PETSET_LOG" 2>&1; echo "$?" >"$PETSET_LOG.exit") &
trap '' TERM
cat >/dev/null
kill -s TERM 0 2>/dev/null
sleep 0.3
kill -s KILL 0 2>/dev/null
"#;

/// A long-running container command (the `backup` sidecar) running in the background.
struct Background {
    child: Child,
    lifeline: Option<ChildStdin>,
    log: PathBuf,
}

impl Background {
    fn start(command: &[String], env: &[(&str, String)], log: PathBuf) -> io::Result<Background> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(LIFELINE)
            .arg("petset-sidecar")
            .args(command)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("PETSET_LOG", &log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let lifeline = child.stdin.take();
        Ok(Background {
            child,
            lifeline,
            log,
        })
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The command's exit status, once it has ended (a sidecar should not).
    fn exited(&self) -> Option<String> {
        let mut path = self.log.clone().into_os_string();
        path.push(".exit");
        fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut lifeline) = self.lifeline.take() {
            let _ = lifeline.flush();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever the wrapper managed, nothing of its group may outlive the test.
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// The fixture as shipped: its scripts written out, its container commands pointed at them.
struct Fixture {
    scratch: Scratch,
    config_map: PathBuf,
    init_config: Vec<String>,
    clone: Vec<String>,
    backup: Vec<String>,
}

impl Fixture {
    fn load() -> Result<Fixture, Box<dyn std::error::Error>> {
        let manifests = load_fixtures()?;
        let config_map =
            find(&manifests, "ConfigMap", "mysql").ok_or("fixtures have no ConfigMap mysql")?;
        let statefulset =
            find(&manifests, "StatefulSet", "mysql").ok_or("fixtures have no StatefulSet mysql")?;
        let scratch = Scratch::new()?;
        let dir = scratch.dir("config-map")?;
        let data = config_map.value["data"]
            .as_object()
            .ok_or("the ConfigMap has no data")?;
        for (key, text) in data {
            fs::write(
                dir.join(key),
                text.as_str().ok_or("non-text ConfigMap value")?,
            )?;
        }
        let pod = &statefulset.value["spec"]["template"]["spec"];
        let command = |list: &str, name: &str| -> Result<Vec<String>, String> {
            let container = pod[list]
                .as_array()
                .and_then(|all| all.iter().find(|c| c["name"] == name))
                .ok_or(format!("no {list} entry `{name}` in the StatefulSet"))?;
            let words = container["command"]
                .as_array()
                .ok_or(format!("`{name}` has no command"))?;
            // The scripts live where the test wrote them instead of the ConfigMap mount.
            Ok(words
                .iter()
                .filter_map(Value::as_str)
                .map(|w| w.replace(CONFIG_MAP_MOUNT, &dir.display().to_string()))
                .collect())
        };
        let backup_env = pod["containers"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == "backup"))
            .map(|c| c["env"].clone())
            .unwrap_or_default();
        let repl_user = backup_env
            .as_array()
            .and_then(|env| env.iter().find(|e| e["name"] == "MARIADB_REPLICATION_USER"))
            .and_then(|e| e["value"].as_str());
        // The stand-in primary's replication account is the test support's; the manifest must
        // name the same user for the comparison to mean anything.
        if repl_user != Some(REPL_USER) {
            return Err(format!(
                "the backup sidecar's MARIADB_REPLICATION_USER is {repl_user:?}, expected {REPL_USER:?}"
            )
            .into());
        }
        Ok(Fixture {
            init_config: command("initContainers", "init-config")?,
            clone: command("initContainers", "clone")?,
            backup: command("containers", "backup")?,
            config_map: dir,
            scratch,
        })
    }
}

/// The directories a stand-in pod gets (its conf.d emptyDir and its data volume).
struct StandIn {
    ordinal: u32,
    conf: PathBuf,
    dir: Option<ServerDir>,
    data: PathBuf,
}

impl StandIn {
    fn new(fixture: &Fixture, ordinal: u32) -> io::Result<StandIn> {
        let dir = ServerDir::create()?;
        let data = dir.data();
        fs::create_dir_all(&data)?;
        Ok(StandIn {
            ordinal,
            conf: fixture.scratch.dir(&format!("mysql-{ordinal}-conf.d"))?,
            dir: Some(dir),
            data,
        })
    }

    fn hostname(&self) -> String {
        format!("mysql-{}", self.ordinal)
    }

    fn init_config(&self, fixture: &Fixture) -> Result<Ran, String> {
        run(
            &fixture.init_config,
            &[
                ("HOSTNAME", self.hostname()),
                ("CONFIG_MAP_DIR", fixture.config_map.display().to_string()),
                ("CONF_DIR", self.conf.display().to_string()),
            ],
        )
        .map_err(|e| e.to_string())?
        .expect_success("init-config")
    }

    /// The `clone` init container, with the predecessor's backup port in place of
    /// `mysql-<ordinal-1>.mysql:3307`.
    fn clone_from(&self, fixture: &Fixture, peer_port: u16) -> Result<Ran, String> {
        run(&fixture.clone, &self.clone_env(peer_port))
            .map_err(|e| e.to_string())?
            .expect_success("clone")
    }

    fn clone_env(&self, peer_port: u16) -> Vec<(&'static str, String)> {
        vec![
            ("HOSTNAME", self.hostname()),
            ("DATA_DIR", self.data.display().to_string()),
            ("PEER_HOST", "127.0.0.1".to_owned()),
            ("PEER_PORT", peer_port.to_string()),
            ("CLONE_ATTEMPTS", "15".to_owned()),
        ]
    }

    /// Starts the server container's stand-in on the data and config prepared so far.
    fn start_server(&mut self) -> io::Result<MariaDb> {
        let dir = self
            .dir
            .take()
            .ok_or_else(|| io::Error::other("server already started"))?;
        MariaDb::start_with_conf_dir(dir, &self.conf)
    }

    /// The environment of the `backup` sidecar, with loopback ports in place of pod names.
    fn sidecar_env(
        &self,
        server: &MariaDb,
        primary_port: u16,
        backup_port: u16,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("HOSTNAME", self.hostname()),
            ("DATA_DIR", self.data.display().to_string()),
            ("MYSQL_HOST", "127.0.0.1".to_owned()),
            ("MYSQL_PORT", server.port().to_string()),
            ("PRIMARY_HOST", "127.0.0.1".to_owned()),
            ("PRIMARY_PORT", primary_port.to_string()),
            ("BACKUP_PORT", backup_port.to_string()),
            ("BACKUP_BIND", "127.0.0.1".to_owned()),
            ("WAIT_SECONDS", "30".to_owned()),
            // The stand-ins' root has no password; the replication account is the support's.
            ("MARIADB_ROOT_PASSWORD", String::new()),
            ("MARIADB_REPLICATION_USER", REPL_USER.to_owned()),
            ("MARIADB_REPLICATION_PASSWORD", REPL_PASSWORD.to_owned()),
        ]
    }

    fn start_sidecar(
        &self,
        fixture: &Fixture,
        server: &MariaDb,
        primary_port: u16,
    ) -> Result<(Background, u16), Box<dyn std::error::Error>> {
        let port = mariadb::free_port()?;
        let log = fixture
            .scratch
            .0
            .join(format!("{}-backup.log", self.hostname()));
        let sidecar = Background::start(
            &fixture.backup,
            &self.sidecar_env(server, primary_port, port),
            log,
        )?;
        Ok((sidecar, port))
    }

    fn conf_file(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.conf.join(name)).ok()
    }
}

/// Waits until the sidecar has configured replication (its marker file appears).
fn wait_replication_configured(pod: &StandIn, sidecar: &Background) -> Result<String, String> {
    let marker = pod.data.join("replication-configured");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(text) = fs::read_to_string(&marker) {
            return Ok(text);
        }
        if let Some(status) = sidecar.exited() {
            return Err(format!(
                "{}: the backup sidecar exited ({status}) before configuring replication:\n{}",
                pod.hostname(),
                sidecar.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{}: replication was not configured within 30s; sidecar log:\n{}",
        pod.hostname(),
        sidecar.log()
    ))
}

/// Processes whose command line mentions `marker` (a scratch or server directory of this test).
fn processes_mentioning(marker: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(marker))
        .collect()
}

fn ids(server: &MariaDb, table: &str) -> io::Result<Vec<String>> {
    Ok(server
        .sql(&format!("SELECT id FROM {table} ORDER BY id"))?
        .into_iter()
        .filter_map(|row| row.into_iter().next())
        .collect())
}

fn tools_present() -> Result<(), String> {
    let missing: Vec<&str> = [
        "mariadbd",
        "mariadb",
        "mariadb-backup",
        "mbstream",
        "socat",
        "bash",
    ]
    .into_iter()
    .filter(|tool| {
        !Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing {missing:?}: install mariadb-server, mariadb-backup and socat (.ci/run does)"
        ))
    }
}

#[test]
fn init_config_picks_server_id_and_role_from_the_hostname_ordinal() -> TestResult {
    let fixture = Fixture::load()?;
    for (ordinal, role, other) in [
        (0, "primary.cnf", "replica.cnf"),
        (1, "replica.cnf", "primary.cnf"),
        (12, "replica.cnf", "primary.cnf"),
    ] {
        let pod = StandIn::new(&fixture, ordinal)?;
        // A stale file from another role must not survive a restart of the init container.
        fs::write(pod.conf.join(other), "stale")?;
        pod.init_config(&fixture)?;
        let server_id = pod.conf_file("server-id.cnf").unwrap_or_default();
        assert!(
            server_id.contains(&format!("server_id={}", 100 + ordinal)),
            "mysql-{ordinal}: {server_id:?}"
        );
        assert_eq!(
            pod.conf_file(role).as_deref(),
            fs::read_to_string(fixture.config_map.join(role))
                .ok()
                .as_deref(),
            "mysql-{ordinal} gets {role}"
        );
        assert_eq!(pod.conf_file(other), None, "mysql-{ordinal} has no {other}");
        assert!(pod.conf_file("common.cnf").is_some());
    }
    // No ordinal, no guess.
    let pod = StandIn::new(&fixture, 0)?;
    let ran = run(
        &fixture.init_config,
        &[
            ("HOSTNAME", "mysql".to_owned()),
            ("CONFIG_MAP_DIR", fixture.config_map.display().to_string()),
            ("CONF_DIR", pod.conf.display().to_string()),
        ],
    )?;
    assert!(
        !ran.status.success(),
        "a hostname without ordinal must fail"
    );
    assert!(ran.stderr.contains("no ordinal"), "{}", ran.stderr);
    Ok(())
}

#[test]
fn the_scripts_clone_each_replica_from_its_predecessor_and_start_replication() -> TestResult {
    tools_present()?;
    let fixture = Fixture::load()?;

    // mysql-0: the primary. Its clone step does nothing; the server starts on an empty database
    // (the image's entrypoint creates the users in the pod; the test support does it here).
    let mut pod0 = StandIn::new(&fixture, 0)?;
    pod0.init_config(&fixture)?;
    let ran = pod0.clone_from(&fixture, 9)?;
    assert!(ran.stdout.contains("ordinal 0 is the primary"), "{ran:?}");
    assert_eq!(
        fs::read_dir(&pod0.data)?.count(),
        0,
        "nothing cloned onto the primary"
    );
    let primary = pod0.start_server()?;
    assert_eq!(primary.value("SELECT @@server_id")?, "100");
    assert_eq!(primary.value("SELECT @@read_only")?, "0");
    assert_eq!(
        primary.value("SELECT @@log_bin")?,
        "1",
        "primary.cnf turns the binlog on"
    );
    primary.create_repl_user()?;
    primary.create_app_user(APP_USER, APP_PASSWORD, "petset")?;
    primary.sql("CREATE TABLE petset.t (id INT PRIMARY KEY); INSERT INTO petset.t VALUES (1);")?;
    let (sidecar0, backup0) = pod0.start_sidecar(&fixture, &primary, primary.port())?;

    // mysql-1: cloned from mysql-0 over the backup stream; it holds row 1 before replicating.
    let mut pod1 = StandIn::new(&fixture, 1)?;
    pod1.init_config(&fixture)?;
    let ran = pod1
        .clone_from(&fixture, backup0)
        .map_err(|e| format!("{e}\nmysql-0 sidecar:\n{}", sidecar0.log()))?;
    assert!(ran.stdout.contains("now holds the data"), "{ran:?}");
    assert_eq!(
        fs::read_to_string(pod1.data.join("cloned-from"))?.trim(),
        "127.0.0.1"
    );
    // A clone of the primary records its binlog position; present it under MariaDB 11's name
    // so both spellings the script knows are exercised (mysql-2 below keeps 10.x's).
    let binlog_info = pod1.data.join("xtrabackup_binlog_info");
    assert!(
        binlog_info.is_file(),
        "the backup of the primary records its binlog position"
    );
    fs::rename(&binlog_info, pod1.data.join("mariadb_backup_binlog_info"))?;
    let replica1 = pod1.start_server()?;
    assert_eq!(replica1.value("SELECT @@server_id")?, "101");
    assert_eq!(replica1.value("SELECT @@read_only")?, "1");
    assert_eq!(
        ids(&replica1, "petset.t")?,
        ["1"],
        "the clone holds the data at once"
    );
    let (sidecar1, backup1) = pod1.start_sidecar(&fixture, &replica1, primary.port())?;
    let configured = wait_replication_configured(&pod1, &sidecar1)?;
    assert!(configured.contains("gtid 0-100-"), "{configured}");

    primary.sql("INSERT INTO petset.t VALUES (2)")?;
    replica1.wait_caught_up(&primary, CATCH_UP)?;
    assert_eq!(ids(&replica1, "petset.t")?, ["1", "2"]);
    let refused = replica1
        .sql_as(APP_USER, APP_PASSWORD, "INSERT INTO petset.t VALUES (99)")
        .expect_err("a replica refuses the application user's writes");
    assert!(refused.to_string().contains("1290"), "{refused}");

    // mysql-2: cloned from mysql-1, a replica: the primary's position comes from the slave info.
    let mut pod2 = StandIn::new(&fixture, 2)?;
    pod2.init_config(&fixture)?;
    pod2.clone_from(&fixture, backup1)
        .map_err(|e| format!("{e}\nmysql-1 sidecar:\n{}", sidecar1.log()))?;
    let slave_info = fs::read_to_string(pod2.data.join("xtrabackup_slave_info"))?;
    assert!(slave_info.contains("gtid_slave_pos"), "{slave_info}");
    let replica2 = pod2.start_server()?;
    assert_eq!(replica2.value("SELECT @@server_id")?, "102");
    assert_eq!(replica2.value("SELECT @@read_only")?, "1");
    assert_eq!(
        ids(&replica2, "petset.t")?,
        ["1", "2"],
        "cloned from mysql-1"
    );
    let (sidecar2, _) = pod2.start_sidecar(&fixture, &replica2, primary.port())?;
    wait_replication_configured(&pod2, &sidecar2)?;

    primary.sql("INSERT INTO petset.t VALUES (3)")?;
    for replica in [&replica1, &replica2] {
        replica.wait_caught_up(&primary, CATCH_UP)?;
        assert_eq!(ids(replica, "petset.t")?, ["1", "2", "3"]);
    }
    let source = replica2.sql("SHOW SLAVE STATUS")?;
    let source = source.first().ok_or("mysql-2 has no replication source")?;
    assert_eq!(
        source.get(3).map(String::as_str),
        Some(primary.port().to_string().as_str()),
        "mysql-2 follows the primary, not the peer it was cloned from: {source:?}"
    );

    // A restarted pod runs the same scripts again: they leave the data and replication alone.
    let again = pod1.clone_from(&fixture, backup0)?;
    assert!(
        again.stdout.contains("already holds a database"),
        "{again:?}"
    );
    let script = fixture.config_map.join("start-replication.sh");
    let again = run(
        &["bash".to_owned(), script.display().to_string()],
        &pod1.sidecar_env(&replica1, primary.port(), 0),
    )?
    .expect_success("start-replication again")?;
    assert!(again.stdout.contains("configured before"), "{again:?}");
    assert_eq!(ids(&replica1, "petset.t")?, ["1", "2", "3"]);

    // Stopping the stand-ins stops everything they started.
    let scripts = fixture.config_map.display().to_string();
    drop((sidecar0, sidecar1, sidecar2));
    let left = processes_mentioning(&scripts);
    assert!(left.is_empty(), "left running: {left:?}");
    Ok(())
}
