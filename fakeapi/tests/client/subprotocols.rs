//! Websocket subprotocol negotiation for exec and port-forward: what the fake answers on the
//! wire to what clients offer, and what kube-rs makes of it, refusals included.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use kube::client::UpgradeConnectionError;
use petset_fakeapi::{ExecOutput, FakeApiServer, PortForwardRefusal};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{start, within};

const KUBE_RS_OFFER: &str = "v5.channel.k8s.io, v4.channel.k8s.io";

/// The status code, the `Sec-WebSocket-Protocol` answered (if any) and the body's first bytes
/// of a raw upgrade request offering `protocols`.
struct Answer {
    status: u16,
    protocol: Option<String>,
    rest: String,
}

async fn upgrade(server: &FakeApiServer, path: &str, protocols: &str) -> Answer {
    let mut tcp = within("connect", TcpStream::connect(server.addr()))
        .await
        .unwrap();
    let protocol_header = if protocols.is_empty() {
        String::new()
    } else {
        format!("Sec-WebSocket-Protocol: {protocols}\r\n")
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         {protocol_header}\r\n",
        server.addr()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = within("response head", tcp.read(&mut byte)).await.unwrap();
        assert_eq!(n, 1, "the connection closed inside the response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let protocol = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-protocol")
                .then(|| value.trim().to_string())
        })
        .filter(|p| !p.is_empty());
    let mut rest = String::new();
    if status != 101 {
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        within("body", tcp.read_exact(&mut body)).await.unwrap();
        rest = String::from_utf8_lossy(&body).into_owned();
    }
    Answer {
        status,
        protocol,
        rest,
    }
}

const EXEC: &str = "/api/v1/namespaces/default/pods/db-0/exec?command=true&stdout=true";
const FORWARD: &str = "/api/v1/namespaces/default/pods/db-0/portforward?ports=3306";

fn pod(server: &FakeApiServer) {
    server
        .create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0", "namespace": "default"}}))
        .unwrap();
}

#[tokio::test]
async fn the_fake_picks_what_the_api_server_and_kubelet_pick() {
    let (server, _) = start().await;
    pod(&server);

    // 1.33 (the default): exec offering v5 is the API server's translator, v5 only.
    let exec = upgrade(&server, EXEC, KUBE_RS_OFFER).await;
    assert_eq!(
        (exec.status, exec.protocol.as_deref()),
        (101, Some("v5.channel.k8s.io"))
    );
    // Port-forward is the kubelet's: v4, never v5, whatever order the client prefers.
    let forward = upgrade(&server, FORWARD, KUBE_RS_OFFER).await;
    assert_eq!(
        (forward.status, forward.protocol.as_deref()),
        (101, Some("v4.channel.k8s.io"))
    );
    // Nothing the kubelet speaks: 403 with an empty body, as its websocket handshake answers.
    let refused = upgrade(&server, FORWARD, "v5.channel.k8s.io").await;
    assert_eq!((refused.status, refused.rest.as_str()), (403, ""));
    // The SPDY tunnel exists on 1.31+, but the fake does not speak it and says so.
    let tunnel = upgrade(&server, FORWARD, "SPDY/3.1+portforward.k8s.io").await;
    assert_eq!(tunnel.status, 501);
    assert!(
        tunnel.rest.contains("SPDY/3.1 port-forward tunnel"),
        "{}",
        tunnel.rest
    );

    // 1.29: no translator, so exec is the kubelet's and kube-rs gets v4.
    server.set_stream_minor_version(29);
    let exec = upgrade(&server, EXEC, KUBE_RS_OFFER).await;
    assert_eq!(
        (exec.status, exec.protocol.as_deref()),
        (101, Some("v4.channel.k8s.io"))
    );
    let v5_only = upgrade(&server, EXEC, "v5.channel.k8s.io").await;
    assert_eq!(v5_only.status, 403);
}

#[tokio::test]
async fn kube_rs_exec_works_with_v4_and_v5_servers() {
    let (server, client) = start().await;
    pod(&server);
    server.on_exec("default", "db-0", None, |req| async move {
        ExecOutput::stdout(req.command.join(" "))
    });
    let pods: Api<Pod> = Api::namespaced(client, "default");
    for minor in [28, 35] {
        server.set_stream_minor_version(minor);
        let mut p = within(
            "exec",
            pods.exec("db-0", ["echo", "hi"], &AttachParams::default()),
        )
        .await
        .unwrap();
        let mut out = String::new();
        within("stdout", p.stdout().unwrap().read_to_string(&mut out))
            .await
            .unwrap();
        assert_eq!(out, "echo hi", "1.{minor}");
        within("join", p.join()).await.unwrap();
    }
}

#[tokio::test]
async fn port_forward_refusals_reach_kube_rs_as_real_servers_send_them() {
    let (server, client) = start().await;
    pod(&server);
    let pods: Api<Pod> = Api::namespaced(client, "default");

    server.refuse_port_forward(PortForwardRefusal::SubprotocolDropped);
    let dropped = upgrade(&server, FORWARD, KUBE_RS_OFFER).await;
    assert_eq!((dropped.status, dropped.protocol), (101, None));
    let Err(err) = within("portforward", pods.portforward("db-0", &[3306])).await else {
        panic!("a port-forward without a subprotocol was accepted");
    };
    assert!(
        matches!(
            err,
            kube::Error::UpgradeConnection(UpgradeConnectionError::SecWebSocketProtocolMismatch)
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "failed to upgrade to a WebSocket connection: Sec-WebSocket-Protocol mismatched"
    );

    server.refuse_port_forward(PortForwardRefusal::NoCommonSubprotocol);
    let Err(err) = within("portforward", pods.portforward("db-0", &[3306])).await else {
        panic!("a refused port-forward was accepted");
    };
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403 && s.message.is_empty()),
        "{err:?}"
    );

    // Exec is not affected, and clearing the faults brings port-forward back.
    let exec = upgrade(&server, EXEC, KUBE_RS_OFFER).await;
    assert_eq!(exec.status, 101);
    server.clear_faults();
    let mut pf = within("portforward", pods.portforward("db-0", &[3306]))
        .await
        .unwrap();
    let reason = within("error channel", pf.take_error(3306).unwrap()).await;
    assert!(reason.unwrap().contains("no port-forward target"));
}

#[tokio::test]
async fn under_v4_ending_stdin_ends_the_session_and_loses_the_output() {
    let (server, client) = start().await;
    pod(&server);
    let ran = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = ran.clone();
    server.on_exec("default", "db-0", None, move |req| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(req.stdin.clone());
            ExecOutput::stdout(req.stdin)
        }
    });
    let pods: Api<Pod> = Api::namespaced(client, "default");
    for (minor, echoed) in [(33, "payload"), (29, "")] {
        server.set_stream_minor_version(minor);
        let mut p = within(
            "exec",
            pods.exec("db-0", ["cat"], &AttachParams::default().stdin(true)),
        )
        .await
        .unwrap();
        let status = p.take_status().unwrap();
        let mut stdin = p.stdin().unwrap();
        stdin.write_all(b"payload").await.unwrap();
        // kube-rs sends v5's stdin CLOSE; with v4 it can only close the whole websocket.
        stdin.shutdown().await.unwrap();
        let out = stdout_on(&mut p, minor).await;
        assert_eq!(out, echoed, "1.{minor}");
        let status = within("status", status).await;
        assert_eq!(status.is_some(), minor >= 30, "1.{minor}: {status:?}");
    }
    // The command ran both times, with the whole of its stdin.
    assert_eq!(*ran.lock().unwrap(), vec![b"payload".to_vec(); 2]);
}

#[tokio::test]
async fn under_v4_a_command_that_ends_before_its_stdin_reports_back() {
    let (server, client) = start().await;
    pod(&server);
    // `head -n 1`: it reads one line and exits, whatever else stdin would bring.
    server.on_exec_streaming("default", "db-0", None, |_, mut stdin| async move {
        ExecOutput::stdout(stdin.read_line().await.unwrap_or_default())
    });
    let pods: Api<Pod> = Api::namespaced(client, "default");
    for minor in [29, 33] {
        server.set_stream_minor_version(minor);
        let mut p = within(
            "exec",
            pods.exec(
                "db-0",
                ["head", "-n", "1"],
                &AttachParams::default().stdin(true),
            ),
        )
        .await
        .unwrap();
        let status = p.take_status().unwrap();
        // Stdin stays open: under v4 ending it would end the session.
        let mut stdin = p.stdin().unwrap();
        stdin.write_all(b"first\nsecond").await.unwrap();
        let out = stdout_on(&mut p, minor).await;
        assert_eq!(out, "first\n", "1.{minor}");
        let status = within("status", status).await;
        assert_eq!(
            status.and_then(|s| s.status).as_deref(),
            Some("Success"),
            "1.{minor}"
        );
        drop(stdin);
    }
}

/// All the command's stdout, on a server speaking as Kubernetes 1.`minor`.
async fn stdout_on(process: &mut kube::api::AttachedProcess, minor: u32) -> String {
    let mut out = String::new();
    within(
        &format!("stdout on 1.{minor}"),
        process.stdout().unwrap().read_to_string(&mut out),
    )
    .await
    .unwrap();
    out
}
