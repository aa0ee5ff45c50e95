//! `pods/portforward` over websockets as the kubelet speaks `v4.channel.k8s.io` (negotiated as
//! [`crate::subprotocol`] says): per requested port a data channel
//! (2i) and an error channel (2i+1), each opened by a frame carrying the port (2 bytes, little
//! endian). Each connection is relayed to a new TCP connection to the address the test
//! registered for that pod and port.

use std::net::SocketAddr;

use axum::extract::Request;
use axum::extract::ws::{Message, WebSocket};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

/// How long to wait for the client's half of the close handshake.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

use crate::exec::normal_close;
use crate::handle::Handle;
use crate::path::Params;
use crate::status::ApiError;
use crate::subprotocol::{self, Stream};

pub(crate) async fn serve(
    h: &Handle,
    req: Request,
    (ns, pod): (String, String),
    params: &Params,
) -> Result<Response, ApiError> {
    let ports = params
        .get_all("ports")
        .flat_map(|p| p.split(','))
        .map(|p| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| ApiError::bad_request(format!("invalid port {p:?}")))
        })
        .collect::<Result<Vec<u16>, _>>()?;
    if ports.is_empty() {
        return Err(ApiError::bad_request("at least one port must be given"));
    }
    let targets: Vec<(u16, Option<SocketAddr>)> = ports
        .iter()
        .map(|&p| (p, h.forward_target(&ns, &pod, p)))
        .collect();
    let ws = match subprotocol::upgrade(h, req, Stream::PortForward).await? {
        Ok(ws) => ws,
        Err(refusal) => return Ok(refusal),
    };
    let shutdown = h.shared.shutdown.subscribe();
    let label = format!("{ns}/{pod}");
    Ok(ws.on_upgrade(move |socket| async move {
        tokio::select! {
            _ = relay(socket, targets, label) => {}
            _ = crate::handle::stopped(shutdown) => {}
        }
    }))
}

async fn relay(socket: WebSocket, targets: Vec<(u16, Option<SocketAddr>)>, pod: String) {
    let (mut sink, mut stream) = socket.split();
    // Frames to the client come from several tasks; one writer owns the sink.
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if sink.send(Message::Binary(frame.into())).await.is_err() {
                return;
            }
        }
        let _ = sink.send(normal_close()).await;
    });

    let mut writers: Vec<Option<OwnedWriteHalf>> = Vec::new();
    let mut readers = Vec::new();
    for (i, (port, addr)) in targets.iter().enumerate() {
        let data_ch = (2 * i) as u8;
        let [lo, hi] = port.to_le_bytes();
        let _ = out_tx.send(vec![data_ch, lo, hi]).await;
        let _ = out_tx.send(vec![data_ch + 1, lo, hi]).await;
        let conn = match addr {
            Some(a) => TcpStream::connect(a)
                .await
                .map_err(|e| format!("failed to connect to {a}: {e}")),
            None => Err(format!(
                "no port-forward target is registered for pod {pod} port {port}"
            )),
        };
        match conn {
            Ok(tcp) => {
                let (mut r, w) = tcp.into_split();
                writers.push(Some(w));
                let tx = out_tx.clone();
                readers.push(tokio::spawn(async move {
                    let mut buf = vec![0u8; 32 * 1024];
                    loop {
                        match r.read(&mut buf[1..]).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                buf[0] = data_ch;
                                if tx.send(buf[..=n].to_vec()).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                }));
            }
            Err(msg) => {
                writers.push(None);
                let mut frame = vec![data_ch + 1];
                frame.extend_from_slice(msg.as_bytes());
                let _ = out_tx.send(frame).await;
            }
        }
    }
    drop(out_tx);

    // Read until the stream ends (not just until a Close frame) so the close handshake completes.
    let from_client = async {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Binary(b) = msg
                && b.len() > 1
                && b[0] % 2 == 0
            {
                let idx = usize::from(b[0] / 2);
                if let Some(Some(w)) = writers.get_mut(idx)
                    && w.write_all(&b[1..]).await.is_err()
                {
                    writers[idx] = None;
                }
            }
        }
        for w in writers.iter_mut().flatten() {
            let _ = w.shutdown().await;
        }
    };
    tokio::pin!(from_client);
    let aborts: Vec<_> = readers.iter().map(|r| r.abort_handle()).collect();
    let all_read = futures::future::join_all(readers);
    tokio::select! {
        _ = &mut from_client => {}
        _ = all_read => {
            // Every target closed: the writer now sends Close; give the client time to answer.
            let _ = tokio::time::timeout(CLOSE_WAIT, &mut from_client).await;
        }
    }
    for a in aborts {
        a.abort();
    }
    let _ = writer.await;
}
