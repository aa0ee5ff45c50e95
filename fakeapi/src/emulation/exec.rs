//! Exec in emulated pods: a tiny shell that runs exactly the commands the shipped scenarios and
//! probes use (`cat`, `echo`/`hostname` with `>`/`>>`, `touch`, `rm`, `mv`, `test -e`,
//! `grep -qxF`, `hostname`), against the pod's file stores; the DNS step's resolver script; and,
//! for anything else (the `mariadb` client only while its binary is in place), the test's
//! backend. Unknown commands fail with exit code 127.

use std::sync::Arc;

use serde_json::Value;

use super::files::locate;
use super::kubelet::pod_info;
use super::state::Shared;
use crate::exec::{ExecOutput, ExecRequest, ExecStdin};
use crate::handle::lock;

/// The client the SQL step's in-pod script looks for.
pub(crate) const CLIENT_BINARY: &str = "/usr/bin/mariadb";

/// Runs `request`. Only the SQL script reads its stdin; every other command ignores it, as a
/// process that never reads its stdin does.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut request: ExecRequest,
    mut stdin: ExecStdin,
) -> ExecOutput {
    let Some(pod) = shared
        .handle
        .get("v1", "Pod", Some(&request.namespace), &request.pod)
    else {
        return fail(1, format!("pod {} not found", request.pod));
    };
    let cmd = &request.command;
    let sh = cmd.len() >= 3 && cmd[0] == "sh" && cmd[1] == "-c";
    if sh && cmd.get(3).map(String::as_str) == Some("petset-dns") {
        let query = cmd.get(4).map(String::as_str).unwrap_or("");
        let record = cmd.get(5).map(String::as_str).unwrap_or("A");
        return super::dns::answer(&shared, &request.namespace, query, record);
    }
    if sh && cmd.get(3).map(String::as_str) == Some("petset-sql") {
        let (key, path) = locate(&shared.handle, &pod, CLIENT_BINARY);
        if !lock(&shared.files).exists(&key, &path) {
            return fail(127, "no mariadb or mysql client in this container".into());
        }
        request.stdin = sql_script_input(&mut stdin).await;
        return backend(&shared, &pod, request).await;
    }
    // The client run by name (a probe's `mariadb ... -e "SELECT 1"`) is found on the PATH only
    // while its binary is there.
    if cmd.first().map(String::as_str) == Some("mariadb") {
        let (key, path) = locate(&shared.handle, &pod, CLIENT_BINARY);
        if !lock(&shared.files).exists(&key, &path) {
            return fail(
                127,
                "exec: \"mariadb\": executable file not found in $PATH".into(),
            );
        }
        return backend(&shared, &pod, request).await;
    }
    let line = if sh {
        cmd[2].clone()
    } else {
        cmd.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
    };
    match script(&shared, &pod, &line) {
        Some(out) => out,
        None => backend(&shared, &pod, request).await,
    }
}

/// What the SQL script reads from stdin before it runs the client (harness `sql/exec.rs`): the
/// password line, a line with the SQL's line count, then that many lines. It never waits for
/// stdin's end, which a client under v4 cannot send without ending the session.
async fn sql_script_input(stdin: &mut ExecStdin) -> Vec<u8> {
    let mut input = Vec::new();
    let mut lines = 2usize;
    let mut read = 0usize;
    while read < lines {
        let Some(line) = stdin.read_line().await else {
            break;
        };
        if read == 1 {
            let count = String::from_utf8_lossy(&line).trim().parse::<usize>();
            lines += count.unwrap_or(0);
        }
        input.extend_from_slice(&line);
        read += 1;
    }
    input
}

async fn backend(shared: &Arc<Shared>, pod: &Value, request: ExecRequest) -> ExecOutput {
    let command = request.command.join(" ");
    let answer = shared
        .backend
        .as_ref()
        .and_then(|b| b.exec(pod_info(shared, pod), request));
    match answer {
        Some(future) => future.await,
        None => fail(
            127,
            format!("emulated pod: command not supported: {command}"),
        ),
    }
}

fn fail(code: i32, message: String) -> ExecOutput {
    ExecOutput::default()
        .with_stderr(format!("{message}\n"))
        .with_exit_code(code)
}

fn quote(arg: &str) -> String {
    if arg.contains(' ') || arg.is_empty() {
        format!("\"{arg}\"")
    } else {
        arg.to_string()
    }
}

/// Runs one line of shell; `None` when it is not something this shell knows.
pub(crate) fn script(shared: &Shared, pod: &Value, line: &str) -> Option<ExecOutput> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("! ") {
        let out = script(shared, pod, rest)?;
        let code = if out.exit_code == 0 { 1 } else { 0 };
        return Some(ExecOutput {
            exit_code: code,
            ..out
        });
    }
    let (command, redirect) = split_redirect(line);
    let words = words(command, &super::probes::hostname(shared, pod));
    let argv: Vec<&str> = words.iter().map(String::as_str).collect();
    let out = simple(shared, pod, &argv)?;
    let Some((append, target)) = redirect else {
        return Some(out);
    };
    if out.exit_code != 0 {
        return Some(out);
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (key, path) = locate(&shared.handle, pod, &target);
    lock(&shared.files).write(&key, &path, &stdout, append);
    Some(ExecOutput::default())
}

/// Splits `cmd > file` / `cmd >> file` (the last unquoted redirect).
fn split_redirect(line: &str) -> (&str, Option<(bool, String)>) {
    let mut quoted = false;
    let bytes = line.as_bytes();
    let mut at = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' | b'\'' => quoted = !quoted,
            b'>' if !quoted => {
                at = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(i) = at else {
        return (line, None);
    };
    let append = bytes.get(i + 1) == Some(&b'>');
    let target = line[i + if append { 2 } else { 1 }..].trim().to_string();
    (line[..i].trim(), Some((append, target)))
}

/// Splits words, honouring quotes, with `$(hostname)`, `$HOSTNAME` and `$(date +%s)` expanded.
fn words(line: &str, hostname: &str) -> Vec<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let expanded = line
        .replace("$(hostname)", hostname)
        .replace("$HOSTNAME", hostname)
        .replace("$(date +%s)", &now.to_string());
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in expanded.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn simple(shared: &Shared, pod: &Value, argv: &[&str]) -> Option<ExecOutput> {
    let files = |path: &str| locate(&shared.handle, pod, path);
    let out = match argv {
        ["hostname"] => ExecOutput::stdout(format!("{}\n", super::probes::hostname(shared, pod))),
        ["echo", rest @ ..] => ExecOutput::stdout(format!("{}\n", rest.join(" "))),
        ["cat", path] => {
            let (key, p) = files(path);
            match lock(&shared.files).read(&key, &p) {
                Some(text) => ExecOutput::stdout(text),
                None => fail(
                    1,
                    format!("cat: can't open '{path}': No such file or directory"),
                ),
            }
        }
        ["touch", path] => {
            let (key, p) = files(path);
            lock(&shared.files).write(&key, &p, "", true);
            ExecOutput::default()
        }
        ["rm", path] | ["rm", "-f", path] => {
            let (key, p) = files(path);
            match lock(&shared.files).remove(&key, &p) {
                Some(_) => ExecOutput::default(),
                None if argv.len() == 3 => ExecOutput::default(),
                None => fail(
                    1,
                    format!("rm: can't remove '{path}': No such file or directory"),
                ),
            }
        }
        ["mv", from, to] => {
            let (from_key, from_path) = files(from);
            let (to_key, to_path) = files(to);
            let mut store = lock(&shared.files);
            match store.remove(&from_key, &from_path) {
                Some(text) => {
                    store.write(&to_key, &to_path, &text, false);
                    ExecOutput::default()
                }
                None => fail(
                    1,
                    format!("mv: can't rename '{from}': No such file or directory"),
                ),
            }
        }
        ["test", "-e", path] | ["test", "!", "-e", path] => {
            let (key, p) = files(path);
            let exists = lock(&shared.files).exists(&key, &p);
            let want = argv[1] == "-e";
            ExecOutput::default().with_exit_code(if exists == want { 0 } else { 1 })
        }
        ["grep", "-qxF", pattern, path] => {
            let (key, p) = files(path);
            match lock(&shared.files).read(&key, &p) {
                Some(text) => {
                    ExecOutput::default().with_exit_code(if text.lines().any(|l| l == *pattern) {
                        0
                    } else {
                        1
                    })
                }
                None => fail(2, format!("grep: {path}: No such file or directory")),
            }
        }
        _ => return None,
    };
    Some(out)
}
