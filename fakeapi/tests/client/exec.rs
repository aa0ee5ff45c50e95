//! Exec and port-forward over websockets, through kube-rs's own `ws` implementation.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use petset_fakeapi::ExecOutput;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{start, within};

fn pod(server: &petset_fakeapi::FakeApiServer, name: &str) {
    server.create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}})).unwrap();
}

async fn read_all(r: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let mut out = String::new();
    r.unwrap().read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn exec_round_trip_with_stdout_stderr_and_exit_codes() {
    let (server, client) = start().await;
    pod(&server, "db-0");
    server.on_exec("default", "db-0", None, |req| async move {
        match req.command.as_slice() {
            [c, arg] if c == "echo" => ExecOutput::stdout(format!("{arg}\n")),
            [c] if c == "fail" => ExecOutput::default()
                .with_stderr("boom\n")
                .with_exit_code(3),
            [c] if c == "cat" => ExecOutput::stdout(req.stdin),
            _ => ExecOutput::default().with_exit_code(127),
        }
    });
    let pods: Api<Pod> = Api::namespaced(client, "default");

    let mut p = within(
        "exec",
        pods.exec(
            "db-0",
            ["echo", "hello"],
            &AttachParams::default().stderr(true),
        ),
    )
    .await
    .unwrap();
    let status = p.take_status().unwrap();
    let (out, err) = tokio::join!(read_all(p.stdout()), read_all(p.stderr()));
    assert_eq!((out.as_str(), err.as_str()), ("hello\n", ""));
    let status = within("status", status).await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));
    within("join", p.join()).await.unwrap();

    let mut p = within(
        "exec",
        pods.exec("db-0", ["fail"], &AttachParams::default().stderr(true)),
    )
    .await
    .unwrap();
    let status = p.take_status().unwrap();
    let (out, err) = tokio::join!(read_all(p.stdout()), read_all(p.stderr()));
    assert_eq!((out.as_str(), err.as_str()), ("", "boom\n"));
    let status = within("status", status).await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    let cause = &status.details.unwrap().causes.unwrap()[0];
    assert_eq!(
        (cause.reason.as_deref(), cause.message.as_deref()),
        (Some("ExitCode"), Some("3"))
    );

    let mut p = within(
        "exec",
        pods.exec("db-0", ["cat"], &AttachParams::default().stdin(true)),
    )
    .await
    .unwrap();
    let mut stdin = p.stdin().unwrap();
    stdin.write_all(b"from stdin").await.unwrap();
    stdin.shutdown().await.unwrap();
    assert_eq!(within("stdout", read_all(p.stdout())).await, "from stdin");
}

#[tokio::test]
async fn exec_in_an_unregistered_pod_fails_clearly() {
    let (server, client) = start().await;
    pod(&server, "lonely");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut p = within(
        "exec",
        pods.exec("lonely", ["true"], &AttachParams::default()),
    )
    .await
    .unwrap();
    let status = within("status", p.take_status().unwrap()).await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert!(status.message.unwrap().contains("no exec handler"));
    let Err(err) = within(
        "exec",
        pods.exec("missing", ["true"], &AttachParams::default()),
    )
    .await
    else {
        panic!("exec in a missing pod succeeded");
    };
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
}

#[tokio::test]
async fn port_forward_relays_to_a_local_tcp_server() {
    let (server, client) = start().await;
    pod(&server, "db-0");
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    let echo_task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = echo.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    server.forward_port("default", "db-0", 3306, echo_addr);
    let pods: Api<Pod> = Api::namespaced(client, "default");

    for round in 0..2 {
        let mut pf = within("portforward", pods.portforward("db-0", &[3306]))
            .await
            .unwrap();
        let mut stream = pf.take_stream(3306).unwrap();
        let msg = format!("ping {round}");
        stream.write_all(msg.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; msg.len()];
        within("echo", stream.read_exact(&mut buf)).await.unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), msg);
        drop(stream);
        within("portforward join", pf.join()).await.unwrap();
    }

    // A port nobody registered reports an error on the port's error channel.
    let mut pf = within("portforward", pods.portforward("db-0", &[9999]))
        .await
        .unwrap();
    let err = within("error channel", pf.take_error(9999).unwrap()).await;
    assert!(err.unwrap().contains("no port-forward target"));
    echo_task.abort();
}
