//! The SQL engine against real MariaDB servers on loopback ports: replication with `eventually`
//! and the measured lag, read-only replicas (1290), and every error case, over both transports
//! (the mysql_async driver, and the `mariadb` command-line client as it runs inside a pod).

use crate::support::mariadb::{self, MariaDb, Replicated};
use petset::sql::{
    ClientOutput, ClientRunner, ClientServer, Credentials, Endpoint, Password, RowCheck, RowsMatch,
    SqlError, SqlPlan, row, run_on_endpoint, run_with_client,
};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const APP_USER: &str = "app";
const APP_PASSWORD: &str = "app-pw-Zq8xK";

fn app() -> Credentials {
    Credentials::new(APP_USER, Password::new(APP_PASSWORD))
}

fn root() -> Credentials {
    Credentials::new("root", Password::default())
}

fn endpoint(server: &MariaDb, name: &str) -> Endpoint {
    Endpoint {
        target: format!("{name}:{}", server.port()),
        addr: server.addr(),
        forward: None,
    }
}

fn plan(step: &str) -> SqlPlan {
    SqlPlan {
        step: step.to_owned(),
        repeat: 1,
        deadline: Duration::from_secs(20),
        ..SqlPlan::default()
    }
}

fn strings(statements: &[&str]) -> Vec<String> {
    statements.iter().map(|s| (*s).to_owned()).collect()
}

/// A primary and one replica, with the plain `app` user on database `shop` everywhere.
fn shop_pair() -> Result<Replicated, Box<dyn std::error::Error>> {
    let pair = mariadb::start_replicated(1)?;
    pair.primary
        .create_app_user(APP_USER, APP_PASSWORD, "shop")?;
    pair.primary
        .sql("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40), note TEXT NULL)")?;
    pair.replicas[0].wait_caught_up(&pair.primary, Duration::from_secs(10))?;
    Ok(pair)
}

/// Every way an error can be shown must be free of the password.
fn assert_no_password(error: &SqlError) {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(APP_PASSWORD), "password leaked: {shown}");
}

#[tokio::test]
async fn write_on_primary_then_eventually_read_on_replica_reports_the_lag() -> TestResult {
    let pair = shop_pair()?;
    let primary = endpoint(&pair.primary, "mysql-0");
    let replica = endpoint(&pair.replicas[0], "mysql-1");

    let mut write = plan("write on the primary");
    write.statements =
        strings(&["INSERT INTO items VALUES (1, 'hello', NULL), (2, 'tab\there', 'x')"]);
    run_on_endpoint(&primary, &app(), Some("shop"), &write).await?;

    let mut read = plan("read on the replica");
    read.query = Some("SELECT id, name, note FROM items ORDER BY id".to_owned());
    read.check = RowCheck {
        rows: Some(vec![
            row([Some("1"), Some("hello"), None]),
            row([Some("2"), Some("tab\there"), Some("x")]),
        ]),
        mode: RowsMatch::Exact,
        distinct_at_least: None,
    };
    read.eventually = Some(Duration::from_secs(10));
    let outcome = run_on_endpoint(&replica, &app(), Some("shop"), &read).await?;
    let lag = outcome
        .waited
        .ok_or("eventually reports the time it took")?;
    eprintln!(
        "replication lag: {} ms over {} attempts",
        lag.as_millis(),
        outcome.attempts
    );
    assert!(lag < Duration::from_secs(10));
    Ok(())
}

#[tokio::test]
async fn eventually_waits_for_a_write_that_comes_later() -> TestResult {
    let pair = shop_pair()?;
    let replica = endpoint(&pair.replicas[0], "mysql-1");
    let mut read = plan("wait for the late row");
    read.query = Some("SELECT name FROM items WHERE id = 9".to_owned());
    read.check.rows = Some(vec![row([Some("late")])]);
    read.eventually = Some(Duration::from_secs(10));
    let creds = app();
    let late_write = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        pair.primary
            .sql("INSERT INTO shop.items VALUES (9, 'late', NULL)")
    };
    let (outcome, written) = tokio::join!(
        run_on_endpoint(&replica, &creds, Some("shop"), &read),
        late_write
    );
    written?;
    let outcome = outcome?;
    let waited = outcome.waited.ok_or("waited is reported")?;
    assert!(
        waited >= Duration::from_millis(600),
        "matched before the write: {waited:?}"
    );
    assert!(outcome.attempts > 1);
    Ok(())
}

#[tokio::test]
async fn a_write_on_the_replica_as_a_plain_user_fails_with_1290() -> TestResult {
    let pair = shop_pair()?;
    let replica = endpoint(&pair.replicas[0], "mysql-1");
    let mut write = plan("write on the replica");
    write.statements = strings(&["INSERT INTO items VALUES (5, 'nope', NULL)"]);
    write.expect_error = Some(1290);
    write.query = Some("SELECT COUNT(*) FROM items WHERE id = 5".to_owned());
    write.check.rows = Some(vec![row([Some("0")])]);
    let outcome = run_on_endpoint(&replica, &app(), Some("shop"), &write).await?;
    assert_eq!(outcome.saw_error, Some(1290));

    // MariaDB exempts READ ONLY ADMIN (root has it) from read_only: the same step as root
    // succeeds, and the step says so rather than passing.
    let mut as_root = plan("write on the replica as root");
    as_root.statements = strings(&["INSERT INTO shop.items VALUES (6, 'root', NULL)"]);
    as_root.expect_error = Some(1290);
    let error = run_on_endpoint(&replica, &root(), None, &as_root)
        .await
        .err()
        .ok_or("root's write must not count as the expected error")?;
    assert!(
        matches!(error, SqlError::UnexpectedSuccess { expected: 1290, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("succeeded"), "{error}");
    Ok(())
}

#[tokio::test]
async fn an_unexpected_error_code_is_named() -> TestResult {
    // On the primary there is no read-only error to see, only the missing table.
    let pair = shop_pair()?;
    let primary = endpoint(&pair.primary, "mysql-0");
    let mut step = plan("expect read-only");
    step.statements = strings(&["INSERT INTO no_such_table VALUES (1)"]);
    step.expect_error = Some(1290);
    let error = run_on_endpoint(&primary, &app(), Some("shop"), &step)
        .await
        .err()
        .ok_or("1146 is not 1290")?;
    let text = error.to_string();
    assert!(
        matches!(
            error,
            SqlError::WrongError {
                expected: 1290,
                code: 1146,
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("expect read-only") && text.contains("mysql-0:"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_credentials_fail_at_once_with_1045() -> TestResult {
    let pair = mariadb::start_replicated(0)?;
    pair.primary
        .create_app_user(APP_USER, "the-real-one", "shop")?;
    let target = endpoint(&pair.primary, "mysql-0");
    let mut step = plan("log in");
    step.query = Some("SELECT 1".to_owned());
    step.eventually = Some(Duration::from_secs(30));
    let started = Instant::now();
    let error = run_on_endpoint(&target, &app(), Some("shop"), &step)
        .await
        .err()
        .ok_or("a wrong password cannot log in")?;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "retried a wrong password"
    );
    let text = error.to_string();
    assert!(matches!(error, SqlError::AccessDenied { .. }), "{text}");
    assert!(
        text.contains("log in")
            && text.contains("mysql-0:")
            && text.contains("1045")
            && text.contains("`app`"),
        "{text}"
    );
    assert_no_password(&error);
    Ok(())
}

#[tokio::test]
async fn a_closed_port_is_a_refused_connection() -> TestResult {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let target = Endpoint {
        target: format!("mysql-0:{port}"),
        addr: ([127, 0, 0, 1], port).into(),
        forward: None,
    };
    let mut step = plan("connect");
    step.query = Some("SELECT 1".to_owned());
    let error = run_on_endpoint(&target, &app(), None, &step)
        .await
        .err()
        .ok_or("nothing listens there")?;
    let text = error.to_string();
    assert!(matches!(error, SqlError::Refused { .. }), "{text}");
    assert!(
        text.contains("connection refused") && text.contains("`connect`"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_server_that_goes_away_mid_step_is_reported_promptly() -> TestResult {
    let pair = mariadb::start_replicated(0)?;
    pair.primary
        .create_app_user(APP_USER, APP_PASSWORD, "shop")?;
    let target = endpoint(&pair.primary, "mysql-0");
    let creds = app();
    let mut step = plan("long statement");
    step.statements = strings(&["SELECT 1", "SELECT SLEEP(20)"]);
    let started = Instant::now();
    let kill = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        pair.primary.kill()
    };
    let (result, killed) =
        tokio::join!(run_on_endpoint(&target, &creds, Some("shop"), &step), kill);
    killed?;
    let error = result.err().ok_or("the server died under the statement")?;
    let text = error.to_string();
    assert!(matches!(error, SqlError::ServerGone { .. }), "{text}");
    assert!(
        text.contains("went away") && text.contains("SLEEP(20)"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn a_query_that_never_matches_fails_at_its_deadline_with_the_last_rows() -> TestResult {
    let pair = shop_pair()?;
    pair.primary
        .sql("INSERT INTO shop.items VALUES (1, 'present', NULL)")?;
    pair.replicas[0].wait_caught_up(&pair.primary, Duration::from_secs(10))?;
    let replica = endpoint(&pair.replicas[0], "mysql-1");
    let mut step = plan("wait for a row that never comes");
    step.query = Some("SELECT name FROM items".to_owned());
    step.check.rows = Some(vec![row([Some("absent")])]);
    step.eventually = Some(Duration::from_millis(800));
    let started = Instant::now();
    let error = run_on_endpoint(&replica, &app(), Some("shop"), &step)
        .await
        .err()
        .ok_or("the row never comes")?;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let text = error.to_string();
    assert!(matches!(error, SqlError::NeverMatched { .. }), "{text}");
    assert!(
        text.contains("\"absent\"") && text.contains("\"present\""),
        "{text}"
    );
    assert!(
        text.contains("mysql-1:") && text.contains("never comes"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_mismatch_without_eventually_shows_expected_and_got() -> TestResult {
    let pair = mariadb::start_replicated(0)?;
    let target = endpoint(&pair.primary, "mysql-0");
    let mut step = plan("check");
    step.query = Some("SELECT 1 UNION ALL SELECT 2".to_owned());
    step.check.rows = Some(vec![row([Some("2")]), row([Some("1")])]);
    let error = run_on_endpoint(&target, &root(), None, &step)
        .await
        .err()
        .ok_or("order differs")?;
    assert!(error.to_string().contains("different order"), "{error}");
    step.check.mode = RowsMatch::Unordered;
    run_on_endpoint(&target, &root(), None, &step).await?;
    step.check.mode = RowsMatch::Contains;
    step.check.rows = Some(vec![row([Some("2")])]);
    run_on_endpoint(&target, &root(), None, &step).await?;
    Ok(())
}

#[tokio::test]
async fn the_step_deadline_bounds_everything() -> TestResult {
    let pair = mariadb::start_replicated(0)?;
    let target = endpoint(&pair.primary, "mysql-0");
    let mut step = plan("slow");
    step.statements = strings(&["SELECT SLEEP(10)"]);
    step.deadline = Duration::from_millis(500);
    let started = Instant::now();
    let error = run_on_endpoint(&target, &root(), None, &step)
        .await
        .err()
        .ok_or("the deadline passes first")?;
    assert!(started.elapsed() < Duration::from_secs(3));
    let text = error.to_string();
    assert!(matches!(error, SqlError::Deadline { .. }), "{text}");
    assert!(text.contains("still running `SELECT SLEEP(10)`"), "{text}");
    Ok(())
}

#[tokio::test]
async fn passwords_in_statements_are_scrubbed_from_errors() -> TestResult {
    let pair = mariadb::start_replicated(0)?;
    pair.primary
        .create_app_user(APP_USER, APP_PASSWORD, "shop")?;
    let target = endpoint(&pair.primary, "mysql-0");
    let mut step = plan("create a user without the right");
    step.statements = strings(&[&format!(
        "CREATE USER 'other'@'%' IDENTIFIED BY '{APP_PASSWORD}'"
    )]);
    let error = run_on_endpoint(&target, &app(), Some("shop"), &step)
        .await
        .err()
        .ok_or("app may not create users")?;
    assert!(
        matches!(error, SqlError::Statement { code: 1227, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("IDENTIFIED BY '***'"), "{error}");
    assert_no_password(&error);
    Ok(())
}

#[test]
fn step_futures_can_be_spawned() {
    fn is_send<T: Send>(_: &T) {}
    let target = Endpoint {
        target: "x:1".into(),
        addr: ([127, 0, 0, 1], 1).into(),
        forward: None,
    };
    let creds = root();
    let step = plan("send");
    is_send(&run_on_endpoint(&target, &creds, None, &step));
    let server = ClientServer {
        host: "h".into(),
        port: 1,
        database: None,
    };
    is_send(&run_with_client(&LocalClient, &server, &creds, &step));
}

/// Runs the client command here, as exec would run it in a pod.
struct LocalClient;

impl ClientRunner for LocalClient {
    fn describe(&self) -> String {
        "pod mysql-client".to_owned()
    }

    async fn run(&self, command: Vec<String>, stdin: Vec<u8>) -> ClientOutput {
        let mut cmd = tokio::process::Command::new(&command[0]);
        cmd.args(&command[1..])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let Ok(mut child) = cmd.spawn() else {
            return ClientOutput {
                failure: Some("failed to spawn".into()),
                ..ClientOutput::default()
            };
        };
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(&stdin).await;
        }
        match child.wait_with_output().await {
            Ok(out) => ClientOutput {
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                exit_code: out.status.code(),
                failure: None,
            },
            Err(e) => ClientOutput {
                failure: Some(e.to_string()),
                ..ClientOutput::default()
            },
        }
    }
}

fn client_server(server: &MariaDb, database: Option<&str>) -> ClientServer {
    ClientServer {
        host: "127.0.0.1".to_owned(),
        port: server.port(),
        database: database.map(str::to_owned),
    }
}

#[tokio::test]
async fn the_command_line_client_gives_the_same_rows_as_the_driver() -> TestResult {
    let pair = shop_pair()?;
    pair.primary.sql(
        "INSERT INTO shop.items VALUES (1, 'tab\\there', NULL), (2, 'line\\nbreak', ''), \
         (3, 'back\\\\slash', 'ünïcode ✓')",
    )?;
    let query = "SELECT id, name, note, NULL, 1.50, DATE('2024-02-03') FROM items ORDER BY id";
    let mut step = plan("read");
    step.query = Some(query.to_owned());
    let by_driver = run_on_endpoint(
        &endpoint(&pair.primary, "mysql-0"),
        &app(),
        Some("shop"),
        &step,
    )
    .await?
    .rows
    .ok_or("rows")?;
    let by_client = run_with_client(
        &LocalClient,
        &client_server(&pair.primary, Some("shop")),
        &app(),
        &step,
    )
    .await?
    .rows
    .ok_or("rows")?;
    assert_eq!(by_client, by_driver);
    assert_eq!(by_client[0][1].as_deref(), Some("tab\there"));
    assert_eq!(by_client[1][1].as_deref(), Some("line\nbreak"));
    assert_eq!(by_client[1][2].as_deref(), Some(""));
    assert_eq!(by_client[2][1].as_deref(), Some("back\\slash"));
    assert_eq!(by_client[0][2], None);
    Ok(())
}

#[tokio::test]
async fn the_command_line_client_maps_errors_like_the_driver() -> TestResult {
    let pair = shop_pair()?;
    let replica = client_server(&pair.replicas[0], Some("shop"));

    // 1290 on the second statement: the error names that statement.
    let mut write = plan("write through the client");
    write.statements = strings(&["SELECT 1", "INSERT INTO items VALUES (1, 'x', NULL)"]);
    let error = run_with_client(&LocalClient, &replica, &app(), &write)
        .await
        .err()
        .ok_or("the replica is read-only")?;
    let text = error.to_string();
    assert!(
        matches!(error, SqlError::Statement { code: 1290, .. }),
        "{text}"
    );
    assert!(
        text.contains("INSERT INTO items") && text.contains("pod mysql-client"),
        "{text}"
    );
    write.expect_error = Some(1290);
    let outcome = run_with_client(&LocalClient, &replica, &app(), &write).await?;
    assert_eq!(outcome.saw_error, Some(1290));

    // Wrong password.
    let mut read = plan("read through the client");
    read.query = Some("SELECT 1".to_owned());
    let wrong = Credentials::new(APP_USER, Password::new("not-it-123"));
    let error = run_with_client(&LocalClient, &replica, &wrong, &read)
        .await
        .err()
        .ok_or("wrong password")?;
    assert!(matches!(error, SqlError::AccessDenied { .. }), "{error}");
    assert!(!format!("{error} {error:?}").contains("not-it-123"));

    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let closed = ClientServer {
        host: "127.0.0.1".to_owned(),
        port,
        database: None,
    };
    let error = run_with_client(&LocalClient, &closed, &app(), &read)
        .await
        .err()
        .ok_or("refused")?;
    assert!(matches!(error, SqlError::Refused { .. }), "{error}");

    // Repeat opens a connection per run and returns every run's rows.
    read.query = Some("SELECT @@server_id".to_owned());
    read.repeat = 4;
    read.check.distinct_at_least = Some(1);
    let outcome = run_with_client(&LocalClient, &replica, &app(), &read).await?;
    assert_eq!(outcome.rows.map(|r| r.len()), Some(4));
    read.check.distinct_at_least = Some(2);
    let error = run_with_client(&LocalClient, &replica, &app(), &read)
        .await
        .err()
        .ok_or("one server has one server_id")?;
    assert!(
        error
            .to_string()
            .contains("at least 2 distinct rows, got 1"),
        "{error}"
    );
    Ok(())
}
