//! `sql` steps end to end: scenario step -> port-forward listener -> kube-rs port-forward ->
//! fake Kubernetes API server -> real `mariadbd`, and `via: exec` through the fake's exec with
//! the real `mariadb` client. Covers replication with the lag reported, the read-only replica
//! (1290 for a plain user), a replica cloned with mariabackup, and every error case, each
//! returned within the step's deadline.

use crate::support::mariadb::{self, Replicated};
use crate::support::test_cluster::{TestCluster, assert_contains, assert_ends};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use petset::events::Figure;
use petset::scenario::model::SqlStep;
use petset::sql::SqlError;
use petset::steps::{StepContext, StepReport, execute_sql_step, run_sql_step};
use petset_fakeapi::{ExecOutput, ExecRequest, ExecStdin, PortForwardRefusal};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NS: &str = "petset-sql";
const APP_PASSWORD: &str = "Secr3t-app-pw";

/// The test cluster with pods `mysql-0` (primary) and `mysql-1` (replica) forwarding to real
/// servers, a `mysql-app` Secret, and the step context the engine would build.
struct World {
    cluster: TestCluster,
    pair: Replicated,
    ctx: StepContext,
}

impl World {
    async fn start() -> Result<World, Box<dyn std::error::Error>> {
        let pair = tokio::task::spawn_blocking(|| -> std::io::Result<Replicated> {
            let pair = mariadb::start_replicated(1)?;
            pair.primary.create_app_user("app", APP_PASSWORD, "shop")?;
            pair.primary.sql(
                "CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40), note TEXT NULL)",
            )?;
            pair.replicas[0].wait_caught_up(&pair.primary, Duration::from_secs(10))?;
            Ok(pair)
        })
        .await??;
        let cluster = TestCluster::start().await;
        let mut ctx = cluster.ctx(NS);
        ctx.default_timeout = Duration::from_secs(20);
        for pod in ["mysql-0", "mysql-1", "mysql-2", "mysql-client"] {
            cluster.create(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod, "namespace": NS, "labels": {"app": "mysql"}},
                "spec": {"containers": [{"name": "mysql", "image": "mariadb:11.4"}]},
            }));
        }
        cluster
            .server
            .forward_port(NS, "mysql-0", 3306, pair.primary.addr());
        cluster
            .server
            .forward_port(NS, "mysql-1", 3306, pair.replicas[0].addr());
        let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), NS);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some("mysql-app".into()),
                ..ObjectMeta::default()
            },
            data: Some(
                [(
                    "password".to_owned(),
                    ByteString(APP_PASSWORD.as_bytes().to_vec()),
                )]
                .into(),
            ),
            ..Secret::default()
        };
        secrets.create(&PostParams::default(), &secret).await?;
        Ok(World { cluster, pair, ctx })
    }

    async fn run(&self, yaml: &str) -> Result<StepReport, SqlError> {
        let step: SqlStep = serde_saphyr::from_str(yaml).map_err(|e| SqlError::Invalid {
            step: "test".into(),
            reason: e.to_string(),
        })?;
        execute_sql_step(&step, &self.ctx, "test step").await
    }

    /// Runs a `sql` step on `pod` as the app user ([`APP`]), with the step's other fields.
    async fn app(&self, pod: &str, fields: &str) -> Result<StepReport, SqlError> {
        self.run(&format!("{{target: pod/{pod}, {APP}, {fields}}}"))
            .await
    }

    /// Runs a step that must fail and returns its error with its text (also printed, so a
    /// failing run shows it).
    async fn fails(&self, yaml: &str) -> Result<(SqlError, String), Box<dyn std::error::Error>> {
        let error = self
            .run(yaml)
            .await
            .err()
            .ok_or_else(|| format!("step passed but should fail: {yaml}"))?;
        let text = error.to_string();
        eprintln!("{text}");
        Ok((error, text))
    }

    /// Lets `pod` run commands sent through the fake's exec here, with the real client.
    fn exec_here(&self, pod: &str) {
        self.cluster
            .server
            .on_exec_streaming(NS, pod, None, run_locally);
    }
}

const APP: &str = "user: app, passwordFrom: {secret: mysql-app, key: password}, database: shop";

fn figure<'a>(report: &'a StepReport, name: &str) -> Option<&'a Figure> {
    report.figures.iter().find(|f| f.name == name)
}

fn assert_no_password(text: &str) {
    assert!(!text.contains(APP_PASSWORD), "password leaked: {text}");
}

/// An error with the error it comes from, as a user reads the chain.
fn with_source(error: &SqlError) -> String {
    let source = std::error::Error::source(error)
        .map(|s| s.to_string())
        .unwrap_or_default();
    format!("{error}: {source}")
}

#[tokio::test]
async fn write_on_the_primary_is_read_on_the_replica_with_the_lag_reported() -> TestResult {
    let world = World::start().await?;
    world
        .app(
            "mysql-0",
            "statements: [\"INSERT INTO items VALUES (1, 'hello', NULL)\"]",
        )
        .await?;
    let report = world
        .app(
            "mysql-1",
            "query: 'SELECT id, name, note FROM items', expect: {rows: [[1, hello, null]]}, \
             eventually: 15s, reportAs: replication_lag",
        )
        .await?;
    let lag = figure(&report, "replication_lag").ok_or("the lag is a figure")?;
    eprintln!(
        "replication lag through the port-forward: {:.1} {}",
        lag.value, lag.unit
    );
    assert_eq!(lag.unit, "ms");
    assert!(lag.value >= 0.0 && lag.value < 15_000.0);
    assert_contains(&report.detail, "1 row(s) matched");
    Ok(())
}

#[tokio::test]
async fn a_plain_user_cannot_write_on_the_replica_but_root_can() -> TestResult {
    let world = World::start().await?;
    let report = world
        .app(
            "mysql-1",
            "statements: [\"INSERT INTO items VALUES (2, 'no', NULL)\"], expectError: 1290, \
             query: 'SELECT COUNT(*) FROM items', expect: {rows: [[0]]}",
        )
        .await?;
    assert_contains(&report.detail, "error 1290 as expected");

    // MariaDB: root holds READ ONLY ADMIN, so read_only does not stop it. The step fails and
    // says the write succeeded, through the runner's entry point.
    let step: SqlStep = serde_saphyr::from_str(
        "{target: pod/mysql-1, user: root, statements: [\"INSERT INTO shop.items VALUES (3, 'root', NULL)\"], expectError: 1290}",
    )?;
    let failure = run_sql_step(&step, &world.ctx)
        .await
        .err()
        .ok_or("root writes on a MariaDB replica")?;
    assert_contains(&failure.message, "succeeded");
    assert_contains(&failure.message, "mysql-1:3306");
    assert_eq!(failure.expected, "error 1290");
    Ok(())
}

#[tokio::test]
async fn a_replica_cloned_with_mariabackup_holds_the_data() -> TestResult {
    let world = World::start().await?;
    world
        .app(
            "mysql-0",
            "statements: [\"INSERT INTO items VALUES (1, 'before clone', NULL), (2, 'also', 'x')\"]",
        )
        .await?;
    let primary_addr = world.pair.primary.addr();
    // The clone needs the primary's files, so it runs where the primary runs: here. Nothing
    // else on this runtime needs to move meanwhile.
    let started = Instant::now();
    let clone = mariadb::clone_replica(&world.pair.primary, 3)?;
    eprintln!(
        "mariabackup clone ready in {} ms",
        started.elapsed().as_millis()
    );
    assert_ne!(clone.addr(), primary_addr);
    world
        .cluster
        .server
        .forward_port(NS, "mysql-2", 3306, clone.addr());
    // No `eventually`: the rows must be there the moment the clone is up.
    world
        .app(
            "mysql-2",
            "query: 'SELECT id, name FROM items', \
             expect: {rows: [[2, also], [1, before clone]], match: unordered}",
        )
        .await?;
    // And it follows the primary from the recorded position.
    world
        .app(
            "mysql-0",
            "statements: [\"INSERT INTO items VALUES (3, 'after clone', NULL)\"]",
        )
        .await?;
    world
        .app(
            "mysql-2",
            "query: 'SELECT name FROM items WHERE id = 3', expect: {rows: [[after clone]]}, \
             eventually: 15s",
        )
        .await?;
    world
        .app(
            "mysql-2",
            "query: 'SELECT @@server_id, @@read_only', expect: {rows: [[3, 1]]}",
        )
        .await?;
    drop(clone);
    Ok(())
}

#[tokio::test]
async fn a_pod_that_does_not_exist_is_unreachable() -> TestResult {
    let world = World::start().await?;
    let started = Instant::now();
    let (error, text) = world
        .fails(&format!(
            "{{target: pod/mysql-9, {APP}, query: 'SELECT 1'}}"
        ))
        .await?;
    assert!(matches!(error, SqlError::Unreachable { .. }), "{text}");
    for part in ["test step", "mysql-9:3306", "pod mysql-9 not found"] {
        assert_contains(&text, part);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    Ok(())
}

#[tokio::test]
async fn a_pod_port_with_nothing_listening_is_refused() -> TestResult {
    let world = World::start().await?;
    let closed = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    world
        .cluster
        .server
        .forward_port(NS, "mysql-2", 3306, closed);
    let started = Instant::now();
    let (error, text) = world
        .fails(&format!(
            "{{target: pod/mysql-2, {APP}, query: 'SELECT 1'}}"
        ))
        .await?;
    assert!(matches!(error, SqlError::Refused { .. }), "{text}");
    assert_contains(&text, "mysql-2:3306");
    assert_contains(&text, "connection refused");
    assert!(started.elapsed() < Duration::from_secs(5));
    Ok(())
}

#[tokio::test]
async fn wrong_credentials_name_the_user_and_never_the_password() -> TestResult {
    let world = World::start().await?;
    let (error, _) = world
        .fails("{target: pod/mysql-0, user: app, password: Not-the-pw-42, database: shop, query: 'SELECT 1'}")
        .await?;
    let text = format!("{error} {error:?}");
    assert!(matches!(error, SqlError::AccessDenied { .. }), "{text}");
    for part in ["1045", "`app`", "mysql-0:3306"] {
        assert_contains(&text, part);
    }
    assert!(!text.contains("Not-the-pw-42"), "{text}");
    Ok(())
}

#[tokio::test]
async fn a_server_that_goes_away_mid_step_is_reported_within_the_deadline() -> TestResult {
    let world = World::start().await?;
    let started = Instant::now();
    let kill = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        world.pair.primary.kill()
    };
    let step =
        format!("{{target: pod/mysql-0, {APP}, statements: ['SELECT 1', 'SELECT SLEEP(30)']}}");
    let (result, killed) = tokio::join!(world.run(&step), kill);
    killed?;
    let error = result.err().ok_or("the server died")?;
    let text = error.to_string();
    eprintln!("{text}");
    assert!(matches!(error, SqlError::ServerGone { .. }), "{text}");
    for part in ["went away", "SLEEP(30)", "mysql-0:3306"] {
        assert_contains(&text, part);
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn a_query_that_never_matches_fails_at_its_deadline() -> TestResult {
    let world = World::start().await?;
    let started = Instant::now();
    let (error, text) = world
        .fails(&format!(
            "{{target: pod/mysql-1, {APP}, query: 'SELECT COUNT(*) FROM items', \
             expect: {{rows: [[42]]}}, eventually: 1s}}"
        ))
        .await?;
    let took = started.elapsed();
    assert!(matches!(error, SqlError::NeverMatched { .. }), "{text}");
    for part in ["\"42\"", "\"0\"", "mysql-1:3306"] {
        assert_contains(&text, part);
    }
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert_no_password(&text);
    Ok(())
}

#[tokio::test]
async fn a_missing_secret_or_key_is_named() -> TestResult {
    let world = World::start().await?;
    let (error, _) = world
        .fails("{target: pod/mysql-0, user: app, passwordFrom: {secret: nope, key: password}, query: 'SELECT 1'}")
        .await?;
    let chain = with_source(&error);
    assert_contains(&chain, "secret `nope`");
    assert_contains(&chain, NS);
    let (error, _) = world
        .fails("{target: pod/mysql-0, user: app, passwordFrom: {secret: mysql-app, key: pw}, query: 'SELECT 1'}")
        .await?;
    let chain = with_source(&error);
    assert_contains(&chain, "key `pw`");
    assert_contains(&chain, "password");
    Ok(())
}

/// Runs the command a pod would run, here, with the real `mariadb` client.
/// Runs the command here as the kubelet runs it in a pod: started at once, fed its stdin as the
/// client sends it, and done when it exits, whether or not its stdin has ended.
async fn run_locally(request: ExecRequest, mut stdin: ExecStdin) -> ExecOutput {
    let Some((program, args)) = request.command.split_first() else {
        return ExecOutput::default().with_exit_code(126);
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let Ok(mut child) = child else {
        return ExecOutput::default().with_exit_code(127);
    };
    let mut input = child.stdin.take();
    let feed = async {
        while let Some(bytes) = stdin.recv().await {
            let Some(pipe) = input.as_mut() else { break };
            if pipe.write_all(&bytes).await.is_err() {
                break;
            }
        }
        // The client ended stdin: the command sees its end.
        drop(input.take());
    };
    let exited = child.wait_with_output();
    tokio::pin!(exited);
    let output = tokio::select! {
        output = &mut exited => output,
        () = feed => exited.await,
    };
    match output {
        Ok(out) => ExecOutput::stdout(out.stdout)
            .with_stderr(out.stderr)
            .with_exit_code(out.status.code().unwrap_or(137)),
        Err(_) => ExecOutput::default().with_exit_code(137),
    }
}

/// A stand-in for the `mysql-read` Service: each connection goes to the next backend.
async fn round_robin(backends: Vec<SocketAddr>) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let next = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let backend = backends[next.fetch_add(1, Ordering::Relaxed) % backends.len()];
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok(addr)
}

#[tokio::test]
async fn in_cluster_checks_run_the_client_in_a_pod() -> TestResult {
    let world = World::start().await?;
    world.exec_here("mysql-client");
    let read_service = round_robin(vec![
        world.pair.primary.addr(),
        world.pair.replicas[0].addr(),
    ])
    .await?;

    // Many connections through the "Service" reach both servers.
    let report = world
        .app(
            "mysql-client",
            &format!(
                "via: exec, host: 127.0.0.1, port: {}, query: 'SELECT @@server_id', repeat: 10, \
                 expect: {{rows: [[1], [2]], match: contains, distinctAtLeast: 2}}",
                read_service.port()
            ),
        )
        .await?;
    assert_contains(&report.detail, "10 row(s) matched");

    // The replica refuses a plain user's write, seen through the client's error line.
    let replica_port = world.pair.replicas[0].port();
    world
        .app(
            "mysql-client",
            &format!(
                "via: exec, host: 127.0.0.1, port: {replica_port}, \
                 statements: [\"INSERT INTO items VALUES (7, 'x', NULL)\"], expectError: 1290"
            ),
        )
        .await?;

    // Wrong password through the client: 1045, password absent from the message.
    let (error, text) = world
        .fails(&format!(
            "{{target: pod/mysql-client, via: exec, host: 127.0.0.1, port: {replica_port}, \
             user: app, password: Wrong-pw-77, query: 'SELECT 1'}}"
        ))
        .await?;
    assert!(matches!(error, SqlError::AccessDenied { .. }), "{text}");
    assert!(!format!("{error:?}").contains("Wrong-pw-77"));

    // A pod with no client handler, and a pod that does not exist.
    let (error, text) = world
        .fails(&format!(
            "{{target: pod/mysql-0, via: exec, {APP}, query: 'SELECT 1'}}"
        ))
        .await?;
    assert!(matches!(error, SqlError::Unreachable { .. }), "{text}");
    assert_contains(&text, "no exec handler");
    let (_, text) = world
        .fails(&format!(
            "{{target: pod/ghost, via: exec, {APP}, query: 'SELECT 1'}}"
        ))
        .await?;
    assert_contains(&text, "pod ghost not found");
    Ok(())
}

#[tokio::test]
async fn the_password_stays_off_the_exec_command_line() -> TestResult {
    let world = World::start().await?;
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    world.cluster.server.on_exec_streaming(
        NS,
        "mysql-client",
        None,
        move |request: ExecRequest, stdin| {
            if let Ok(mut seen) = record.lock() {
                seen.extend(request.command.iter().cloned());
            }
            run_locally(request, stdin)
        },
    );
    let port = world.pair.primary.port();
    world
        .app(
            "mysql-client",
            &format!(
                "via: exec, host: 127.0.0.1, port: {port}, \
                 statements: [\"INSERT INTO items VALUES (8, 'by exec', NULL)\"], \
                 query: 'SELECT name FROM items WHERE id = 8', expect: {{rows: [[by exec]]}}"
            ),
        )
        .await?;
    let seen = seen.lock().map(|s| s.join(" ")).unwrap_or_default();
    assert_contains(&seen, "mariadb");
    assert_contains(&seen, "--protocol=TCP");
    assert_no_password(&seen);
    assert!(
        !seen.contains("INSERT"),
        "SQL went on the command line: {seen}"
    );
    Ok(())
}

#[tokio::test]
async fn a_refused_port_forward_falls_back_to_exec_and_says_so() -> TestResult {
    let world = World::start().await?;
    // The pod's client reaches the server as `127.0.0.1:<port>` would inside the pod.
    world.exec_here("mysql-0");
    let port = world.pair.primary.port();
    world
        .cluster
        .server
        .refuse_port_forward(PortForwardRefusal::SubprotocolDropped);
    let report = world
        .app(
            "mysql-0",
            &format!(
                "port: {port}, statements: [\"INSERT INTO items VALUES (42, 'fallback', NULL)\"]"
            ),
        )
        .await?;
    assert_eq!(
        report.detail,
        "1 statement(s) run; port-forward refused (the port-forward to pod mysql-0 was refused: \
         port-forward could not agree on a websocket subprotocol: kube offered \
         v5.channel.k8s.io, v4.channel.k8s.io; the server switched to a websocket but named none \
         of them (Sec-WebSocket-Protocol mismatched)); ran through exec in pod mysql-0 instead"
    );

    // `eventually` does not wait out the refusal either; the insert above ran exactly once.
    world
        .cluster
        .server
        .refuse_port_forward(PortForwardRefusal::NoCommonSubprotocol);
    let report = world
        .app(
            "mysql-0",
            &format!(
                "port: {port}, query: 'SELECT COUNT(*) FROM items WHERE id = 42', \
                 expect: {{rows: [[1]]}}, eventually: 15s"
            ),
        )
        .await?;
    assert_contains(&report.detail, "403 and no reason");
    assert_ends(&report.detail, "ran through exec in pod mysql-0 instead");
    assert_contains(&report.detail, "(1 attempts)");
    assert_no_password(&report.detail);
    Ok(())
}

/// Exec answered with v4 (the kubelet; API servers 1.28–1.29) has no signal for the end of
/// stdin, and v5 (1.30 and later) has one: the client in the pod works alike on both.
#[tokio::test]
async fn via_exec_works_on_every_api_server_version() -> TestResult {
    let world = World::start().await?;
    world.exec_here("mysql-client");
    let primary = world.pair.primary.port();
    let replica = world.pair.replicas[0].port();
    let read_service = round_robin(vec![
        world.pair.primary.addr(),
        world.pair.replicas[0].addr(),
    ])
    .await?;
    let exec = "target: pod/mysql-client, via: exec, host: 127.0.0.1";
    for (minor, id) in [(28, 100), (29, 200), (30, 300), (35, 400)] {
        world.cluster.server.set_stream_minor_version(minor);
        let on = format!("on 1.{minor}");
        // Several statements (the last without `;`), then the rows they wrote.
        let report = world
            .run(&format!(
                "{{{exec}, port: {primary}, {APP}, statements: [\
                 \"INSERT INTO items VALUES ({id}, 'a', NULL);\", \
                 \"INSERT INTO items\\n  VALUES ({}, 'b', NULL)\"], \
                 query: 'SELECT id, name FROM items WHERE id >= {id} AND id < {} ORDER BY id', \
                 expect: {{rows: [[{id}, a], [{}, b]]}}}}",
                id + 1,
                id + 100,
                id + 1,
            ))
            .await
            .map_err(|e| format!("{on}: {e}"))?;
        assert!(
            report.detail.contains("2 statement(s) run"),
            "{on}: {}",
            report.detail
        );

        // An error part-way: the client stops there, the statements after it do not run.
        world
            .run(&format!(
                "{{{exec}, port: {primary}, {APP}, statements: [\
                 \"INSERT INTO items VALUES ({}, 'c', NULL)\", \
                 \"INSERT INTO items VALUES ({id}, 'duplicate', NULL)\", \
                 \"INSERT INTO items VALUES ({}, 'not run', NULL)\"], expectError: 1062, \
                 query: 'SELECT COUNT(*) FROM items WHERE id >= {id} AND id < {}', \
                 expect: {{rows: [[3]]}}}}",
                id + 2,
                id + 3,
                id + 100,
            ))
            .await
            .map_err(|e| format!("{on}: {e}"))?;
        // The read-only replica refuses a plain user's write.
        world
            .run(&format!(
                "{{{exec}, port: {replica}, {APP}, \
                 statements: [\"SELECT 1\", \"INSERT INTO items VALUES ({}, 'x', NULL)\"], \
                 expectError: 1290}}",
                id + 50,
            ))
            .await
            .map_err(|e| format!("{on}: {e}"))?;
        // An open string or comment ends with the input instead of swallowing it: the string
        // is a syntax error; the client drops the comment and runs what stands before it.
        world
            .run(&format!(
                "{{{exec}, port: {primary}, {APP}, statements: [\"SELECT 'open\"], \
                 expectError: 1064}}"
            ))
            .await
            .map_err(|e| format!("{on}, open string: {e}"))?;
        world
            .run(&format!(
                "{{{exec}, port: {primary}, {APP}, query: 'SELECT 7 /* open', \
                 expect: {{rows: [[7]]}}}}"
            ))
            .await
            .map_err(|e| format!("{on}, open comment: {e}"))?;
        // One connection per repeat, through the Service to both servers.
        world
            .run(&format!(
                "{{{exec}, port: {}, {APP}, query: 'SELECT @@server_id', repeat: 4, \
                 expect: {{rows: [[1], [2]], match: contains, distinctAtLeast: 2}}}}",
                read_service.port()
            ))
            .await
            .map_err(|e| format!("{on}: {e}"))?;
        // A wrong password is still 1045, and never shown.
        let error = world
            .run(&format!(
                "{{{exec}, port: {primary}, user: app, password: Wrong-pw-77, query: 'SELECT 1'}}"
            ))
            .await
            .err()
            .ok_or(format!("{on}: wrong password"))?;
        assert!(
            matches!(error, SqlError::AccessDenied { .. }),
            "{on}: {error}"
        );
        assert!(!format!("{error:?}").contains("Wrong-pw-77"), "{on}");
    }
    Ok(())
}
