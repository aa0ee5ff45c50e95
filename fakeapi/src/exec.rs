//! `pods/exec` over websockets, speaking the `v5.channel.k8s.io` / `v4.channel.k8s.io`
//! channel protocol (negotiated as [`crate::subprotocol`] says): stdin 0, stdout 1, stderr 2, status 3 (a `Status` JSON), resize 4, and
//! (v5) close 255. Commands are answered by handlers the test registers per pod.
//!
//! As the kubelet does, stdin is streamed to the command while it runs: a command that ends
//! before its stdin does (it read what it needed) reports back at once. That is how a client
//! under v4, which cannot end stdin without closing the session, still gets its output.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::Request;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use axum::response::Response;
use serde_json::{Value, json};

use crate::handle::Handle;
use crate::path::Params;
use crate::status::ApiError;
use crate::subprotocol::{self, Stream};

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;
/// Output is sent in frames of at most this many bytes.
const FRAME: usize = 32 * 1024;

/// What a command run through exec was asked to do.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    /// The `container` parameter, when the client named one.
    pub container: Option<String>,
    pub command: Vec<String>,
    /// Everything the client wrote to stdin, up to its end (empty without `stdin=true`, and
    /// for handlers that read it as it comes).
    pub stdin: Vec<u8>,
    pub tty: bool,
}

/// A finished command's output and exit code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

impl ExecOutput {
    /// Exit code 0 with this stdout.
    pub fn stdout(out: impl Into<Vec<u8>>) -> Self {
        Self {
            stdout: out.into(),
            ..Self::default()
        }
    }

    pub fn with_stderr(mut self, err: impl Into<Vec<u8>>) -> Self {
        self.stderr = err.into();
        self
    }

    pub fn with_exit_code(mut self, code: i32) -> Self {
        self.exit_code = code;
        self
    }
}

/// A running command's stdin as the client sends it (see [`crate::Handle::on_exec_streaming`]).
#[derive(Debug)]
pub struct ExecStdin {
    chunks: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    /// Bytes received but not yet handed out (after a line, the rest of its chunk).
    pending: Vec<u8>,
}

impl ExecStdin {
    pub(crate) fn new(chunks: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) -> Self {
        Self {
            chunks,
            pending: Vec::new(),
        }
    }

    /// A stdin that has already ended (a probe's command gets none).
    pub(crate) fn empty() -> Self {
        Self::new(tokio::sync::mpsc::unbounded_channel().1)
    }

    /// The next bytes the client sent; `None` once stdin has ended (a v5 close, or the session
    /// ending).
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        if !self.pending.is_empty() {
            return Some(std::mem::take(&mut self.pending));
        }
        self.chunks.recv().await
    }

    /// The next line with its `\n`, as a shell's `read` takes it; what is left when stdin ends
    /// without one, and `None` once nothing is.
    pub async fn read_line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let rest = self.pending.split_off(end + 1);
                return Some(std::mem::replace(&mut self.pending, rest));
            }
            match self.chunks.recv().await {
                Some(bytes) => self.pending.extend_from_slice(&bytes),
                None if self.pending.is_empty() => return None,
                None => return Some(std::mem::take(&mut self.pending)),
            }
        }
    }

    /// Everything until stdin ends.
    pub async fn read_to_end(mut self) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(bytes) = self.recv().await {
            all.extend_from_slice(&bytes);
        }
        all
    }
}

pub(crate) type ExecHandler = Arc<
    dyn Fn(ExecRequest, ExecStdin) -> Pin<Box<dyn Future<Output = ExecOutput> + Send>>
        + Send
        + Sync,
>;

pub(crate) async fn serve(
    h: &Handle,
    req: Request,
    (ns, pod): (String, String),
    params: &Params,
) -> Result<Response, ApiError> {
    let command: Vec<String> = params.get_all("command").map(str::to_string).collect();
    if command.is_empty() {
        return Err(ApiError::bad_request("you must specify at least 1 command"));
    }
    let container = params.get("container").map(str::to_string);
    let request = ExecRequest {
        namespace: ns,
        pod,
        container,
        command,
        stdin: Vec::new(),
        tty: params.flag("tty"),
    };
    let handler = h.exec_handler(
        &request.namespace,
        &request.pod,
        request.container.as_deref(),
    );
    let wants_stdin = params.flag("stdin");
    let ws = match subprotocol::upgrade(h, req, Stream::Exec).await? {
        Ok(ws) => ws,
        Err(refusal) => return Ok(refusal),
    };
    let shutdown = h.shared.shutdown.subscribe();
    Ok(ws.on_upgrade(move |socket| async move {
        tokio::select! {
            _ = run(socket, request, handler, wants_stdin) => {}
            _ = crate::handle::stopped(shutdown) => {}
        }
    }))
}

async fn run(
    mut socket: WebSocket,
    request: ExecRequest,
    handler: Option<ExecHandler>,
    wants_stdin: bool,
) {
    let Some(handler) = handler else {
        let container = request
            .container
            .as_deref()
            .map(|c| format!(" container {c}"))
            .unwrap_or_default();
        let status = json!({
            "metadata": {},
            "status": "Failure",
            "reason": "InternalError",
            "message": format!("no exec handler is registered for pod {}/{}{container}", request.namespace, request.pod),
        });
        let _ = send(&mut socket, STATUS, status.to_string().as_bytes()).await;
        let _ = socket.send(normal_close()).await;
        return;
    };
    let command = request.command.clone();
    let (stdin_tx, stdin_rx) = tokio::sync::mpsc::unbounded_channel();
    // Without `stdin=true` the command's stdin is empty from the start.
    let mut stdin_tx = wants_stdin.then_some(stdin_tx);
    let mut session_closed = false;
    let mut command_run = std::pin::pin!(handler(request, ExecStdin::new(stdin_rx)));
    let out = loop {
        tokio::select! {
            out = &mut command_run => break out,
            msg = socket.recv(), if !session_closed => match msg {
                Some(Ok(Message::Binary(b))) if b.first() == Some(&STDIN) => {
                    if let Some(tx) = &stdin_tx {
                        let _ = tx.send(b[1..].to_vec());
                    }
                }
                Some(Ok(Message::Binary(b)))
                    if b.first() == Some(&CLOSE) && b.get(1) == Some(&STDIN) =>
                {
                    stdin_tx = None;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    stdin_tx = None;
                    session_closed = true;
                }
                Some(Ok(_)) => {}
            },
        }
    };
    if session_closed {
        // The kubelet's wsstream connection ends every channel when the client closes the
        // socket: the command sees the end of its stdin and runs, but nothing it prints, nor its
        // exit status, reaches the client. Under v4 that is the only way to end stdin. The Close
        // reply is already queued (the websocket layer answers a Close); send it out.
        let _ = futures::SinkExt::flush(&mut socket).await;
        return;
    }
    for (ch, data) in [(STDOUT, &out.stdout), (STDERR, &out.stderr)] {
        for chunk in data.chunks(FRAME) {
            if !send(&mut socket, ch, chunk).await {
                return;
            }
        }
    }
    let _ = send(
        &mut socket,
        STATUS,
        exit_status(&command, out.exit_code).to_string().as_bytes(),
    )
    .await;
    let _ = socket.send(normal_close()).await;
}

/// The `Status` the real kubelet reports on channel 3 when a command ends.
fn exit_status(command: &[String], code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: error executing command {command:?}, exit code {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

/// Sends one frame on a channel; false once the client has gone.
async fn send(socket: &mut WebSocket, channel: u8, data: &[u8]) -> bool {
    let mut frame = Vec::with_capacity(data.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(data);
    socket.send(Message::Binary(frame.into())).await.is_ok()
}

/// A Close frame with status 1000, which Go clients read as a clean end of stream.
pub(crate) fn normal_close() -> Message {
    Message::Close(Some(CloseFrame {
        code: close_code::NORMAL,
        reason: "".into(),
    }))
}
