//! Real MariaDB servers for tests: a primary and replicas on loopback ports, each in its own
//! temporary directory, plus cloning a replica with `mariabackup`.
//!
//! Servers come from Debian's `mariadb-server` and `mariadb-backup` packages (`.ci/run` installs
//! them). Each server is started through a small `sh` wrapper that holds the read end of a pipe
//! from the test process: when the test process closes it (the [`MariaDb`] guard is dropped, a
//! test panics, or the whole test binary is killed) the wrapper kills `mariadbd` and removes the
//! server's directory. So nothing is left behind even when the test process dies without
//! unwinding.
//!
//! Everything here is synchronous (plain processes and the `mariadb` command-line client) so it
//! can be used from sync and async tests alike; the calls take well under a second each.

// Each test binary uses a different subset of this shared module.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The replication account every server created here knows.
pub const REPL_USER: &str = "repl";
/// The replication account's password (test-only).
pub const REPL_PASSWORD: &str = "repl-secret";

/// How long a server may take to accept connections before the start counts as failed.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How many fresh ports to try when another process grabs the one picked for us.
const BIND_ATTEMPTS: usize = 5;

/// Kills `mariadbd` and removes the directory once the test process closes our stdin.
/// `$1` is the directory, the rest is the server command line. The first line printed is the
/// server's pid.
const WRAPPER: &str = r#"dir=$1; shift
"$@" </dev/null >>"$dir/server.out" 2>&1 &
m=$!
echo "$m"
trap '' INT HUP
cat >/dev/null
kill -9 "$m" 2>/dev/null
wait "$m" 2>/dev/null
rm -rf "$dir"
"#;

/// How a replica finds its place in the primary's binlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicationStart {
    /// `MASTER_USE_GTID=slave_pos` from the replica's current `gtid_slave_pos`.
    Gtid,
    /// A binlog file and position, as recorded by a backup.
    Position { file: String, position: u64 },
}

/// Options for one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `server_id`; must differ between servers that replicate.
    pub server_id: u32,
    /// Start with `read_only=ON` (what replicas use).
    pub read_only: bool,
}

/// One running `mariadbd` with its own data directory, socket, pid file and port.
/// Dropping it kills the server and removes the directory.
pub struct MariaDb {
    server_id: u32,
    port: u16,
    dir: PathBuf,
    server_pid: u32,
    wrapper: Child,
    /// Closing this tells the wrapper to kill the server and remove `dir`.
    lifeline: Option<ChildStdin>,
}

impl std::fmt::Debug for MariaDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MariaDb")
            .field("server_id", &self.server_id)
            .field("port", &self.port)
            .field("dir", &self.dir)
            .field("pid", &self.server_pid)
            .finish()
    }
}

impl MariaDb {
    /// Initialises a fresh data directory and starts a server on a free loopback port.
    pub fn start(config: &ServerConfig) -> io::Result<MariaDb> {
        let mut last_err = None;
        for _ in 0..BIND_ATTEMPTS {
            let dir = ServerDir::create()?;
            copy_dir(template()?, &dir.data())?;
            match launch(dir, Settings::Flags(config)) {
                Ok(server) => return Ok(server),
                Err(LaunchError::PortTaken(e)) => last_err = Some(e),
                Err(LaunchError::Other(e)) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("failed to find a free port")))
    }

    /// Starts a server the way a pod's container does: its settings come from the option files
    /// in `conf_dir` (what the pod mounts at `/etc/mysql/conf.d`), its data from `dir.data()`,
    /// which is initialised first if it holds no database yet (the primary) and used as it is
    /// otherwise (a restored clone). Only paths, the port and test-machine sizing are set here.
    /// The server takes `dir` over: dropping it removes the directory.
    pub fn start_with_conf_dir(dir: ServerDir, conf_dir: &Path) -> io::Result<MariaDb> {
        if !dir.data().join("mysql").is_dir() {
            copy_dir(template()?, &dir.data())?;
        }
        let option_file = dir.path().join("my.cnf");
        fs::write(
            &option_file,
            format!("!includedir {}\n", conf_dir.display()),
        )?;
        match launch(dir, Settings::OptionFile(&option_file)) {
            Ok(server) => Ok(server),
            Err(LaunchError::PortTaken(e) | LaunchError::Other(e)) => Err(e),
        }
    }

    /// The server's `server_id`.
    pub fn server_id(&self) -> u32 {
        self.server_id
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's address (127.0.0.1 and its port).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }

    /// The directory holding everything of this server (data, socket, pid file, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data directory.
    pub fn datadir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The pid of `mariadbd` itself.
    pub fn pid(&self) -> u32 {
        self.server_pid
    }

    /// Runs SQL as root through the `mariadb` client; returns tab-separated rows.
    pub fn sql(&self, sql: &str) -> io::Result<Vec<Vec<String>>> {
        self.sql_as("root", "", sql)
    }

    /// Runs SQL as `user` through the `mariadb` client; returns tab-separated rows.
    pub fn sql_as(&self, user: &str, password: &str, sql: &str) -> io::Result<Vec<Vec<String>>> {
        let out = Command::new("mariadb")
            .arg("--no-defaults")
            .args(["--protocol=TCP", "-h", "127.0.0.1", "-P"])
            .arg(self.port.to_string())
            .args([
                "-u",
                user,
                "--default-character-set=utf8mb4",
                "-N",
                "-B",
                "-e",
                sql,
            ])
            .env("MYSQL_PWD", password)
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "failed to run `{sql}` on server {} (port {}): {}",
                self.server_id,
                self.port,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text
            .lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect())
    }

    /// The single value of a one-row, one-column query.
    pub fn value(&self, sql: &str) -> io::Result<String> {
        let rows = self.sql(sql)?;
        rows.into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .ok_or_else(|| io::Error::other(format!("`{sql}` returned no rows")))
    }

    /// Creates the replication account (run on a primary).
    pub fn create_repl_user(&self) -> io::Result<()> {
        self.sql(&format!(
            "CREATE USER IF NOT EXISTS '{REPL_USER}'@'%' IDENTIFIED BY '{REPL_PASSWORD}'; \
             GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'%';"
        ))
        .map(drop)
    }

    /// Creates a plain user with every privilege on one database and none of the admin ones
    /// (in particular not READ ONLY ADMIN, so `read_only` applies to it).
    pub fn create_app_user(&self, user: &str, password: &str, database: &str) -> io::Result<()> {
        self.sql(&format!(
            "CREATE DATABASE IF NOT EXISTS `{database}`; \
             CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'; \
             GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%';"
        ))
        .map(drop)
    }

    /// Points this server at `primary` and starts replicating.
    pub fn replicate_from(&self, primary: &MariaDb, start: &ReplicationStart) -> io::Result<()> {
        let position = match start {
            ReplicationStart::Gtid => "MASTER_USE_GTID=slave_pos".to_owned(),
            ReplicationStart::Position { file, position } => {
                format!("MASTER_LOG_FILE='{file}', MASTER_LOG_POS={position}")
            }
        };
        self.sql(&format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, \
             MASTER_USER='{REPL_USER}', MASTER_PASSWORD='{REPL_PASSWORD}', \
             MASTER_CONNECT_RETRY=1, {position}; START SLAVE;",
            primary.port
        ))
        .map(drop)
    }

    /// Waits until this replica has applied everything `primary` has binlogged so far.
    pub fn wait_caught_up(&self, primary: &MariaDb, deadline: Duration) -> io::Result<()> {
        let pos = primary.value("SELECT @@gtid_binlog_pos")?;
        let secs = deadline.as_secs_f64();
        let waited = self.value(&format!("SELECT MASTER_GTID_WAIT('{pos}', {secs})"))?;
        if waited == "0" {
            Ok(())
        } else {
            let status = self.sql("SHOW SLAVE STATUS").unwrap_or_default();
            Err(io::Error::other(format!(
                "failed to catch up with the primary's {pos} within {deadline:?} on server {}: \
                 {status:?}",
                self.server_id
            )))
        }
    }

    /// Kills the server at once (SIGKILL), as a crash would; the directory stays until drop.
    pub fn kill(&self) -> io::Result<()> {
        let status = Command::new("kill")
            .args(["-9", &self.server_pid.to_string()])
            .status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "failed to kill mariadbd {}",
                self.server_pid
            )));
        }
        Ok(())
    }

    /// The server's error log, for diagnosing a failed test.
    pub fn error_log(&self) -> String {
        fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.wrapper.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = Command::new("kill")
                        .args(["-9", &self.server_pid.to_string()])
                        .status();
                    let _ = self.wrapper.kill();
                    let _ = self.wrapper.wait();
                    break;
                }
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A primary and its replicas, all replicating with GTIDs.
#[derive(Debug)]
pub struct Replicated {
    pub primary: MariaDb,
    pub replicas: Vec<MariaDb>,
}

/// Starts a primary (`server_id` 1) and `replicas` read-only replicas (`server_id` 2..) that
/// replicate from it, and waits until every replica has caught up.
pub fn start_replicated(replicas: usize) -> io::Result<Replicated> {
    let configs: Vec<ServerConfig> = (0..=replicas)
        .map(|i| ServerConfig {
            server_id: 1 + i as u32,
            read_only: i > 0,
        })
        .collect();
    // Initialising and starting servers is mostly waiting on disk and processes: do it at once.
    let mut servers = std::thread::scope(|s| {
        let handles: Vec<_> = configs
            .iter()
            .map(|c| s.spawn(move || MariaDb::start(c)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("server start panicked")))
            })
            .collect::<io::Result<Vec<_>>>()
    })?;
    let primary = servers.remove(0);
    primary.create_repl_user()?;
    for replica in &servers {
        replica.replicate_from(&primary, &ReplicationStart::Gtid)?;
    }
    for replica in &servers {
        replica.wait_caught_up(&primary, Duration::from_secs(20))?;
    }
    Ok(Replicated {
        primary,
        replicas: servers,
    })
}

/// Clones a new replica from `source` with `mariabackup --backup` and `--prepare`, starts it
/// with `server_id`, and starts replicating from `primary` at the binlog position the backup
/// recorded (`xtrabackup_binlog_info`, named `mariadb_backup_binlog_info` in newer releases).
/// This is the clone step of the MySQL StatefulSet: the new server holds the data at once.
pub fn clone_replica(primary: &MariaDb, server_id: u32) -> io::Result<MariaDb> {
    let mut last_err = None;
    for _ in 0..BIND_ATTEMPTS {
        let dir = ServerDir::create()?;
        backup_into(primary, &dir.data())?;
        let start = read_binlog_info(&dir.data())?;
        let config = ServerConfig {
            server_id,
            read_only: true,
        };
        match launch(dir, Settings::Flags(&config)) {
            Ok(server) => {
                server.replicate_from(primary, &start)?;
                return Ok(server);
            }
            Err(LaunchError::PortTaken(e)) => last_err = Some(e),
            Err(LaunchError::Other(e)) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("failed to find a free port")))
}

/// Reads the binlog coordinates a backup recorded: `file <tab> position [<tab> gtid]`.
pub fn read_binlog_info(datadir: &Path) -> io::Result<ReplicationStart> {
    let text = ["mariadb_backup_binlog_info", "xtrabackup_binlog_info"]
        .iter()
        .find_map(|name| fs::read_to_string(datadir.join(name)).ok())
        .ok_or_else(|| {
            io::Error::other(format!("no binlog info in backup {}", datadir.display()))
        })?;
    let mut fields = text.split_whitespace();
    let (Some(file), Some(position)) = (fields.next(), fields.next()) else {
        return Err(io::Error::other(format!("malformed binlog info: {text:?}")));
    };
    let position = position
        .parse()
        .map_err(|_| io::Error::other(format!("malformed binlog position in {text:?}")))?;
    Ok(ReplicationStart::Position {
        file: file.to_owned(),
        position,
    })
}

fn backup_into(source: &MariaDb, target: &Path) -> io::Result<()> {
    let port = source.port.to_string();
    let target_arg = format!("--target-dir={}", target.display());
    run_tool(
        Command::new("mariabackup")
            .args(["--no-defaults", "--backup", &target_arg])
            .args(["--host=127.0.0.1", "--user=root", "--password="])
            .arg(format!("--port={port}")),
        "mariabackup --backup",
    )?;
    run_tool(
        Command::new("mariabackup").args(["--no-defaults", "--prepare", &target_arg]),
        "mariabackup --prepare",
    )
}

fn run_tool(cmd: &mut Command, what: &str) -> io::Result<()> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        Err(io::Error::other(format!(
            "failed to run {what} ({}): {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )))
    }
}

/// A freshly initialised data directory, made once per test process and copied for each
/// server: `mariadb-install-db` takes half a second on a quiet machine and several on a busy
/// one, a copy a tenth of that.
struct Template {
    data: PathBuf,
    /// Held open for the life of the process; when it closes, the keeper removes the template.
    _keeper: Mutex<ChildStdin>,
}

static TEMPLATE: OnceLock<Result<Template, String>> = OnceLock::new();

fn template() -> io::Result<&'static Path> {
    match TEMPLATE.get_or_init(|| make_template().map_err(|e| e.to_string())) {
        Ok(template) => Ok(&template.data),
        Err(e) => Err(io::Error::other(format!(
            "failed to prepare a data directory: {e}"
        ))),
    }
}

/// Leaves `dir`'s removal to a process that outlives us just long enough: it waits for the
/// returned pipe to close (when it is dropped, or at our exit however it happens), then removes
/// the directory.
pub fn remove_when_closed(dir: &Path) -> io::Result<ChildStdin> {
    let mut keeper = Command::new("sh")
        .args([
            "-c",
            "cat >/dev/null; rm -rf \"$1\"",
            "petset-mariadb-keeper",
        ])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    keeper
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("the directory keeper has no stdin"))
}

fn make_template() -> io::Result<Template> {
    let dir = ServerDir::create()?;
    // Statics are never dropped: the template goes when the process exits.
    let stdin = remove_when_closed(dir.path())?;
    let data = dir.data();
    let mut cmd = Command::new("mariadb-install-db");
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        // Parallel bootstraps sharing /tmp trip over each other's temporary tables.
        .arg(format!("--tmpdir={}", dir.path().display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            "--innodb-log-file-size=8M",
        ]);
    if running_as_root() {
        cmd.arg("--user=root");
    }
    run_tool(&mut cmd, "mariadb-install-db")?;
    dir.disarm();
    Ok(Template {
        data,
        _keeper: Mutex::new(stdin),
    })
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

enum LaunchError {
    PortTaken(io::Error),
    Other(io::Error),
}

/// Where a server's behaviour comes from.
enum Settings<'a> {
    /// Command-line flags from a [`ServerConfig`] (no option files are read).
    Flags(&'a ServerConfig),
    /// An option file (server id, binlog, read-only and the rest come from it); only paths, the
    /// port and test-machine sizing are given on the command line.
    OptionFile(&'a Path),
}

fn launch(dir: ServerDir, settings: Settings<'_>) -> Result<MariaDb, LaunchError> {
    let port = free_port().map_err(LaunchError::Other)?;
    let d = dir.path().to_owned();
    let p = |name: &str| d.join(name).display().to_string();
    let defaults = match settings {
        Settings::Flags(_) => "--no-defaults".to_owned(),
        Settings::OptionFile(file) => format!("--defaults-file={}", file.display()),
    };
    let mut args = vec![
        "mariadbd".to_owned(),
        defaults,
        format!("--datadir={}", p("data")),
        format!("--socket={}", p("sock")),
        format!("--pid-file={}", p("pid")),
        format!("--log-error={}", p("error.log")),
        format!("--tmpdir={}", d.display()),
        format!("--port={port}"),
        "--bind-address=127.0.0.1".to_owned(),
        // What current MySQL and MariaDB images default to; --no-defaults would give latin1.
        "--character-set-server=utf8mb4".to_owned(),
        "--collation-server=utf8mb4_general_ci".to_owned(),
        "--skip-name-resolve".to_owned(),
        "--innodb-log-file-size=8M".to_owned(),
        "--innodb-buffer-pool-size=32M".to_owned(),
        "--innodb-flush-log-at-trx-commit=2".to_owned(),
        "--max-connections=200".to_owned(),
    ];
    let mut server_id = 0;
    if let Settings::Flags(config) = settings {
        server_id = config.server_id;
        args.extend([
            format!("--server-id={}", config.server_id),
            format!("--log-basename=srv{}", config.server_id),
            "--log-bin".to_owned(),
            "--binlog-format=ROW".to_owned(),
        ]);
        if config.read_only {
            args.push("--read-only".to_owned());
        }
    }
    if running_as_root() {
        args.push("--user=root".to_owned());
    }
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(WRAPPER)
        .arg("petset-mariadb")
        .arg(&d)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Own process group: a Ctrl-C in the terminal reaches the tests, whose exit then
        // closes the pipe, rather than racing the wrapper.
        .process_group(0)
        .spawn()
        .map_err(LaunchError::Other)?;
    // From here the wrapper owns the directory's removal.
    dir.disarm();
    let lifeline = child.stdin.take();
    let mut first_line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut first_line);
    }
    let mut server = MariaDb {
        server_id,
        port,
        dir: d,
        server_pid: first_line.trim().parse().unwrap_or(0),
        wrapper: child,
        lifeline,
    };
    if server.server_pid == 0 {
        return Err(LaunchError::Other(io::Error::other(
            "failed to start mariadbd: the wrapper printed no pid",
        )));
    }
    match wait_ready(&mut server) {
        Ok(()) if server.server_id == 0 => {
            // Set by the option file: ask the server, so messages name it. A server started on
            // data whose root has a password (a pod restarted on its claim) cannot be asked
            // without it and keeps 0; nothing but messages uses the id.
            if let Ok(id) = server.value("SELECT @@server_id") {
                server.server_id = id.parse().unwrap_or(0);
            }
            Ok(server)
        }
        Ok(()) => Ok(server),
        Err(e) => {
            let log = server.error_log();
            if log.contains("Bind on TCP/IP port") || log.contains("Address already in use") {
                Err(LaunchError::PortTaken(e))
            } else {
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                Err(LaunchError::Other(io::Error::other(format!(
                    "{e}; error log:\n{}",
                    tail.join("\n")
                ))))
            }
        }
    }
}

/// Waits until the server sends its protocol-10 handshake on a fresh TCP connection.
fn wait_ready(server: &mut MariaDb) -> io::Result<()> {
    let deadline = Instant::now() + START_DEADLINE;
    while Instant::now() < deadline {
        if !process_alive(server.server_pid) {
            return Err(io::Error::other(format!(
                "failed to start mariadbd on port {}: it exited",
                server.port
            )));
        }
        if handshake(server.addr()).unwrap_or(false) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(io::Error::other(format!(
        "failed to start mariadbd on port {} within {START_DEADLINE:?}",
        server.port
    )))
}

fn process_alive(pid: u32) -> bool {
    // A zombie still has /proc/<pid>; its state letter is Z.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn handshake(addr: SocketAddr) -> io::Result<bool> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut header = [0u8; 5];
    stream.read_exact(&mut header)?;
    let _ = stream.write_all(&[]);
    // Byte 4 is the first payload byte: 10 is the handshake, 0xff an error packet.
    Ok(header[4] == 10)
}

/// Ports handed out by this process, so parallel tests never get the same one; another process
/// taking a port between our probe and the server's bind is handled by retrying.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A loopback port no other caller in this process has been given (for servers and listeners a
/// test starts itself).
pub fn free_port() -> io::Result<u16> {
    for _ in 0..50 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if guard.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    Err(io::Error::other("failed to find a free loopback port"))
}

static DIR_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh directory for one server, removed on drop until the wrapper takes it over.
/// Tests that prepare a server's data themselves (as a pod's init containers do) create one,
/// fill `data()`, and hand it to [`MariaDb::start_with_conf_dir`].
pub struct ServerDir {
    path: PathBuf,
    armed: bool,
}

impl ServerDir {
    pub fn create() -> io::Result<ServerDir> {
        // Kept short: the socket path must fit in 108 bytes.
        let base = std::env::temp_dir();
        let n = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("petset-mdb-{}-{n}", std::process::id()));
        fs::create_dir(&path)?;
        Ok(ServerDir { path, armed: true })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the server's data directory goes (`<dir>/data`); not created until needed.
    pub fn data(&self) -> PathBuf {
        self.path.join("data")
    }

    /// Leaves the directory's removal to someone else (a server's wrapper, a keeper).
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for ServerDir {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Lists `mariadbd` processes whose data directory is one of ours (`petset-mdb-<pid>-*`),
/// for tests that check nothing was left behind.
pub fn leftover_servers(test_pid: u32) -> Vec<u32> {
    let marker = format!("petset-mdb-{test_pid}-");
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c);
                    c.starts_with("mariadbd") && c.contains(&marker)
                })
                .unwrap_or(false)
        })
        .filter(|pid| process_alive(*pid))
        .collect()
}
