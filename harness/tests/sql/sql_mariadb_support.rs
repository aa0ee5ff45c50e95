//! The MariaDB test support itself: a replicating pair starts quickly, a mariabackup clone
//! holds the primary's data, and dropping the guards leaves no process or directory behind.

use std::time::{Duration, Instant};

use crate::support::mariadb::{self, MariaDb, ServerConfig};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[test]
fn pair_starts_quickly_and_replicates() -> TestResult {
    let started = Instant::now();
    let pair = mariadb::start_replicated(1).expect("start primary and replica");
    let took = started.elapsed();
    eprintln!("primary+replica ready in {} ms", took.as_millis());
    assert!(
        took < Duration::from_secs(15),
        "starting the pair took {took:?}"
    );

    let replica = &pair.replicas[0];
    assert_eq!(pair.primary.value("SELECT @@server_id")?, "1");
    assert_eq!(replica.value("SELECT @@server_id")?, "2");
    assert_eq!(replica.value("SELECT @@read_only")?, "1");
    pair.primary
        .sql("CREATE DATABASE t; CREATE TABLE t.x (id INT PRIMARY KEY, v TEXT); INSERT INTO t.x VALUES (1, 'one');")
        ?;
    replica.wait_caught_up(&pair.primary, Duration::from_secs(10))?;
    assert_eq!(
        replica.sql("SELECT id, v FROM t.x")?,
        vec![vec!["1".to_owned(), "one".to_owned()]]
    );
    Ok(())
}

#[test]
fn mariabackup_clone_holds_the_data_and_follows_the_primary() -> TestResult {
    let pair = mariadb::start_replicated(0).expect("start primary");
    let primary = &pair.primary;
    primary
        .sql("CREATE DATABASE c; CREATE TABLE c.x (id INT PRIMARY KEY); INSERT INTO c.x VALUES (1), (2);")
        ?;
    let started = Instant::now();
    let clone = mariadb::clone_replica(primary, 7).expect("clone with mariabackup");
    eprintln!(
        "mariabackup clone ready in {} ms",
        started.elapsed().as_millis()
    );
    // The rows were there before replication could deliver anything: they came with the backup.
    assert_eq!(clone.value("SELECT COUNT(*) FROM c.x")?, "2");
    primary.sql("INSERT INTO c.x VALUES (3)")?;
    clone.wait_caught_up(primary, Duration::from_secs(10))?;
    assert_eq!(clone.value("SELECT COUNT(*) FROM c.x")?, "3");
    assert_eq!(clone.value("SELECT @@server_id")?, "7");
    Ok(())
}

#[test]
fn dropping_a_server_kills_it_and_removes_its_directory() {
    let server = MariaDb::start(&ServerConfig {
        server_id: 1,
        read_only: false,
    })
    .expect("start");
    let pid = server.pid();
    let dir = server.dir().to_owned();
    assert!(dir.join("data").is_dir());
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(server);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        !mariadb::leftover_servers(std::process::id()).contains(&pid),
        "mariadbd {pid} left running"
    );
}

#[test]
fn a_panicking_test_still_cleans_up() -> TestResult {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let server = MariaDb::start(&ServerConfig {
            server_id: 1,
            read_only: false,
        })
        .expect("start");
        tx.send((server.pid(), server.dir().to_owned()))
            .expect("the test thread waits for this");
        panic!("the test body fails");
    })
    .join();
    assert!(result.is_err());
    let (pid, dir) = rx.recv()?;
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(!mariadb::leftover_servers(std::process::id()).contains(&pid));
    Ok(())
}

/// Run in a child process by `a_killed_test_process_leaves_nothing`: starts a server, prints
/// where it lives, and waits to be killed.
#[test]
#[ignore = "helper: only meaningful when started (and killed) by another test"]
fn holder_process_for_kill_test() {
    if std::env::var_os("PETSET_MARIADB_HOLDER").is_none() {
        return;
    }
    let server = MariaDb::start(&ServerConfig {
        server_id: 1,
        read_only: false,
    })
    .expect("start");
    println!("HOLDING {} {}", server.pid(), server.dir().display());
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_test_process_leaves_nothing() -> TestResult {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--ignored",
            "--exact",
            "sql_mariadb_support::holder_process_for_kill_test",
            "--nocapture",
        ])
        .env("PETSET_MARIADB_HOLDER", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let held = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("HOLDING ").map(str::to_owned))
        .expect("holder reports its server");
    let (pid, dir) = held.split_once(' ').ok_or("malformed holder line")?;
    let dir = std::path::PathBuf::from(dir);
    assert!(dir.is_dir());
    // Every directory the holder made (its server's and the shared template) is named so.
    let ours = format!("petset-mdb-{}-", child.id());
    let leftovers = || -> Vec<String> {
        std::fs::read_dir(std::env::temp_dir())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|name| name.starts_with(&ours))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        leftovers().len() >= 2,
        "expected a server and a template directory"
    );
    child.kill()?; // SIGKILL: no unwinding, no Drop
    child.wait()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while (!leftovers().is_empty() || std::path::Path::new(&format!("/proc/{pid}")).exists())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert_eq!(leftovers(), Vec::<String>::new(), "directories left behind");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "mariadbd {pid} left running"
    );
    Ok(())
}
