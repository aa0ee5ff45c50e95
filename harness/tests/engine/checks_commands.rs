//! `exec`, `dns` and `http` against the fake API server: commands answered by exec handlers
//! registered per pod, DNS lookups answered the way dig and nslookup print them, and HTTP through
//! the fake's port-forward to a small HTTP server each test starts on 127.0.0.1.

use crate::checks_support::{TestResult, World};
use crate::support::test_cluster::until;
use petset::events::FailureKind;
use petset::steps::dns_probe::PROBE_POD;
use petset_fakeapi::{ExecOutput, ExecRequest, Lasting, PortForwardRefusal, RequestFilter, Verb};
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const NS: &str = "petset-cmd";

/// web-0..web-2 (app=web, hostname = name, subdomain nginx) Ready with IPs 10.244.0.10..12,
/// a headless Service `nginx` and a ClusterIP Service `web` over them.
async fn web() -> Result<World, Box<dyn std::error::Error>> {
    let world = World::start(NS).await?;
    for (index, name) in ["web-0", "web-1", "web-2"].iter().enumerate() {
        world.fake.create(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "web"}},
            "spec": {
                "hostname": name, "subdomain": "nginx",
                "containers": [{"name": "nginx", "image": "registry.k8s.io/e2e-test-images/agnhost:2.53"}],
            },
        }))?;
        world.ready(name, &format!("10.244.0.{}", 10 + index))?;
    }
    for (name, cluster_ip) in [("nginx", "None"), ("web", "10.96.0.50")] {
        world.fake.create(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"clusterIP": cluster_ip, "selector": {"app": "web"}, "ports": [{"name": "web", "port": 80}]},
        }))?;
    }
    Ok(world)
}

// ---------------------------------------------------------------------------------------- exec

#[tokio::test]
async fn exec_checks_output_and_captures_stdout() -> TestResult {
    let mut world = web().await?;
    world
        .fake
        .on_exec(NS, "web-0", None, |req: ExecRequest| async move {
            match req.command.as_slice() {
                [cmd] if cmd == "hostname" => ExecOutput::stdout("web-0\n"),
                _ => ExecOutput::stdout("")
                    .with_stderr("unknown command\n")
                    .with_exit_code(127),
            }
        });
    world
        .passes(
            r#"exec:
  target: pod/web-0
  command: [hostname]
  stdout: {equals: web-0, regex: "^web-[0-9]+$", lineCount: 1}
  stderr: {equals: ""}
  captureStdout: host
"#,
        )
        .await;
    assert_eq!(world.ctx.vars.get("host"), Some("web-0"));
    let failure = world
        .fails("exec: {target: pod/web-0, command: [uname, -a], stdout: {contains: [Linux]}}")
        .await;
    assert_eq!(
        failure.message,
        "exec `uname -a` in pod/web-0: exit code: expected 0, got 127"
    );
    assert!(
        failure.actual.contains("stderr:\n  unknown command\n"),
        "{}",
        failure.actual
    );
    assert!(
        failure
            .actual
            .contains("  - stdout: expected text containing \"Linux\", got \"\""),
        "{}",
        failure.actual
    );
    assert!(
        failure
            .expected
            .starts_with("exit code: 0\nstdout:\n  contains:\n  - Linux\n"),
        "{}",
        failure.expected
    );
    world
        .passes("exec: {target: pod/web-0, command: [uname], exitCode: 127}")
        .await;
    Ok(())
}

#[tokio::test]
async fn exec_runs_in_every_selected_pod_with_its_name() -> TestResult {
    let mut world = web().await?;
    for pod in ["web-0", "web-1", "web-2"] {
        world
            .fake
            .on_exec(NS, pod, None, move |req: ExecRequest| async move {
                // `cat /data/log` on web-2 shows someone else's line.
                let owner = if req.pod == "web-2" {
                    "web-1"
                } else {
                    req.pod.as_str()
                };
                ExecOutput::stdout(format!("{} {owner}\n", req.command.join(" ")))
            });
    }
    let report = world
        .passes(
            r#"exec:
  target: {kind: pod, selector: app=web}
  command: [echo, "${pod}"]
  stdout: {regex: "^echo web-[0-2] web-[0-2]$"}
"#,
        )
        .await;
    assert!(
        report.detail.contains("web-0, web-1, web-2"),
        "{}",
        report.detail
    );
    let failure = world
        .fails(
            r#"exec:
  target: {kind: pod, selector: app=web}
  command: [cat, "/data/${pod}.log"]
  stdout: {contains: ["${pod}\n"]}
"#,
        )
        .await;
    assert_eq!(
        failure.message,
        r#"exec `cat /data/web-2.log` in pod/web-2: stdout: expected text containing "web-2\n", got "cat /data/web-2.log web-1\n""#
    );
    let failure = world
        .fails("exec: {target: {kind: pod, selector: app=web}, command: [true], captureStdout: x}")
        .await;
    assert!(
        failure
            .message
            .contains("captureStdout needs exactly one pod"),
        "{}",
        failure.message
    );
    let failure = world
        .fails("exec: {target: {kind: pod, selector: app=none}, command: [true]}")
        .await;
    assert_eq!(
        failure.message,
        "exec `true`: no pods match pods -l app=none"
    );
    Ok(())
}

#[tokio::test]
async fn exec_eventually_retries_until_the_output_matches() -> TestResult {
    let mut world = web().await?;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    world
        .fake
        .on_exec(NS, "web-1", None, move |_req: ExecRequest| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    ExecOutput::stdout("")
                        .with_stderr("connection refused\n")
                        .with_exit_code(1)
                } else {
                    ExecOutput::stdout("ready\n")
                }
            }
        });
    world
        .passes(
            "exec: {target: pod/web-1, command: [probe], stdout: {equals: ready}, eventually: 20s}",
        )
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let failure = world
        .fails(
            "exec: {target: pod/web-1, command: [probe], stdout: {equals: done}, eventually: 1s}",
        )
        .await;
    assert!(
        failure.message.contains("(still failing after") && failure.message.contains("attempts in"),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn exec_reports_a_command_that_could_not_run() -> TestResult {
    let mut world = web().await?;
    let failure = world
        .fails("exec: {target: pod/web-2, command: [ls]}")
        .await;
    assert!(
        failure.message.starts_with("exec `ls` in pod/web-2: command: expected to run, got exec in pod web-2 failed: no exec handler"),
        "{}",
        failure.message
    );
    let failure = world
        .fails("exec: {target: pod/web-9, command: [ls]}")
        .await;
    assert_eq!(failure.message, "exec `ls`: pod/web-9 does not exist");
    Ok(())
}

#[tokio::test]
async fn exec_picks_the_default_container_as_kubectl_does() -> TestResult {
    let mut world = web().await?;
    world.fake.create(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "mysql-0", "namespace": NS,
            "annotations": {"kubectl.kubernetes.io/default-container": "xtrabackup"},
        },
        "spec": {"containers": [
            {"name": "mysql", "image": "mysql:8.4"},
            {"name": "xtrabackup", "image": "gcr.io/google-samples/xtrabackup:1.0"},
        ]},
    }))?;
    world.fake.on_exec(
        NS,
        "mysql-0",
        Some("xtrabackup"),
        |_req: ExecRequest| async move { ExecOutput::stdout("xtrabackup\n") },
    );
    world.fake.on_exec(
        NS,
        "mysql-0",
        Some("mysql"),
        |_req: ExecRequest| async move { ExecOutput::stdout("mysql\n") },
    );
    world
        .passes("exec: {target: pod/mysql-0, command: [hostname], stdout: {equals: xtrabackup}}")
        .await;
    world
        .passes("exec: {target: pod/mysql-0, container: mysql, command: [hostname], stdout: {equals: mysql}}")
        .await;
    Ok(())
}

// ----------------------------------------------------------------------------------------- dns

/// Answers lookups like BIND's nslookup, from a table of names the test can change.
#[derive(Clone, Default)]
struct Resolver {
    a: Arc<std::sync::Mutex<BTreeMap<String, Vec<String>>>>,
    srv: Arc<std::sync::Mutex<BTreeMap<String, Vec<String>>>>,
    asked: Arc<AtomicUsize>,
}

impl Resolver {
    fn set_a(&self, name: &str, ips: &[&str]) {
        let ips = ips.iter().map(|ip| (*ip).to_owned()).collect();
        self.a.lock().expect("table").insert(name.to_owned(), ips);
    }

    fn set_srv(&self, name: &str, targets: &[&str]) {
        let targets = targets.iter().map(|t| (*t).to_owned()).collect();
        self.srv
            .lock()
            .expect("table")
            .insert(name.to_owned(), targets);
    }

    /// The command is `sh -c <script> petset-dns <name> <type>`.
    fn answer(&self, req: &ExecRequest) -> ExecOutput {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let (Some(name), Some(kind)) = (req.command.get(4), req.command.get(5)) else {
            return ExecOutput::stdout("")
                .with_stderr("usage\n")
                .with_exit_code(2);
        };
        let mut out = String::from("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n");
        let found = if kind == "SRV" {
            self.srv
                .lock()
                .expect("table")
                .get(name)
                .cloned()
                .map(|targets| {
                    for target in &targets {
                        out.push_str(&format!(
                            "{name}.{NS}.svc.cluster.local\tservice = 0 33 80 {target}.\n"
                        ));
                    }
                })
        } else {
            self.a.lock().expect("table").get(name).cloned().map(|ips| {
                for ip in &ips {
                    out.push_str(&format!(
                        "Name:\t{name}.{NS}.svc.cluster.local\nAddress: {ip}\n"
                    ));
                }
            })
        };
        match found {
            Some(()) => ExecOutput::stdout(out),
            None => {
                out.push_str(&format!("** server can't find {name}: NXDOMAIN\n\n"));
                ExecOutput::stdout(out).with_exit_code(1)
            }
        }
    }
}

/// The web world, the probe made Ready when created, and its resolver.
async fn dns_world() -> Result<(World, Resolver), Box<dyn std::error::Error>> {
    let world = web().await?;
    world.fake.on_write(|handle, event| {
        if event.is("Pod")
            && event.name == PROBE_POD
            && !event.removed
            && event.verb != Verb::Delete
        {
            let phase = event
                .object
                .pointer("/status/phase")
                .and_then(|p| p.as_str());
            if phase != Some("Running") {
                let _ = handle.set_pod_ready(NS, PROBE_POD, true, Some("10.244.9.9"));
            }
        }
    });
    let resolver = Resolver::default();
    resolver.set_a("nginx", &["10.244.0.10", "10.244.0.11", "10.244.0.12"]);
    resolver.set_a("web", &["10.96.0.50"]);
    for (index, pod) in ["web-0", "web-1", "web-2"].iter().enumerate() {
        resolver.set_a(
            &format!("{pod}.nginx"),
            &[&format!("10.244.0.{}", 10 + index)],
        );
    }
    resolver.set_srv(
        "nginx",
        &[
            "web-0.nginx.petset-cmd.svc.cluster.local",
            "web-1.nginx.petset-cmd.svc.cluster.local",
            "web-2.nginx.petset-cmd.svc.cluster.local",
        ],
    );
    let answering = resolver.clone();
    world
        .fake
        .on_exec(NS, PROBE_POD, None, move |req: ExecRequest| {
            let out = answering.answer(&req);
            async move { out }
        });
    Ok((world, resolver))
}

#[tokio::test]
async fn dns_resolves_from_the_probe_and_compares_with_live_state() -> TestResult {
    let (mut world, resolver) = dns_world().await?;
    let report = world
        .passes("dns: {name: nginx, expect: {podIps: {kind: pod, selector: app=web}}}")
        .await;
    assert_eq!(
        report.detail,
        "nginx -> 10.244.0.10, 10.244.0.11, 10.244.0.12"
    );
    let probe = world
        .fake
        .get("v1", "Pod", Some(NS), PROBE_POD)
        .expect("the probe was started");
    assert_eq!(
        probe
            .pointer("/spec/containers/0/image")
            .and_then(|v| v.as_str()),
        Some("registry.k8s.io/e2e-test-images/agnhost:2.53")
    );
    assert_eq!(
        probe
            .pointer("/metadata/labels/app.kubernetes.io~1managed-by")
            .and_then(|v| v.as_str()),
        Some("petset")
    );
    world
        .passes("dns: {name: web, expect: {serviceIp: svc/web}}")
        .await;
    world
        .passes(r#"dns: {name: "${pod}.nginx", forEach: {kind: pod, selector: app=web}, expect: {podIps: "pod/${pod}"}}"#)
        .await;
    world
        .passes("dns: {name: nginx, type: SRV, expect: {srvTargets: svc/nginx}}")
        .await;
    world
        .passes(
            "dns: {name: nginx, type: SRV, expect: {srvTargets: {kind: pod, selector: app=web}}}",
        )
        .await;
    world
        .passes("dns: {name: web-9.nginx, expect: notFound}")
        .await;
    // One probe, reused by every step.
    assert_eq!(world.fake.request_count(Verb::Patch, "pods"), 1);
    assert_eq!(resolver.asked.load(Ordering::SeqCst), 8);
    Ok(())
}

#[tokio::test]
async fn the_dns_probe_starts_through_a_transient_503() -> TestResult {
    let (mut world, _) = dns_world().await?;
    world.fake.fail_requests(
        RequestFilter::any().verb(Verb::Patch).resource("pods"),
        503,
        Lasting::Requests(1),
    );
    let report = world
        .passes("dns: {name: web, expect: {serviceIp: svc/web}}")
        .await;
    assert_eq!(report.detail, "web -> 10.96.0.50 (retried 1 time: 503)");
    assert_eq!(world.fake.request_count(Verb::Patch, "pods"), 2);
    Ok(())
}

#[tokio::test]
async fn dns_failures_say_what_was_expected_and_answered() -> TestResult {
    let (mut world, resolver) = dns_world().await?;
    resolver.set_a("web-1.nginx", &["10.244.0.99"]);
    let failure = world
        .fails(r#"dns: {name: "${pod}.nginx", forEach: {kind: pod, selector: app=web}, expect: {podIps: "pod/${pod}"}}"#)
        .await;
    assert_eq!(
        failure.message,
        "dns web-1.nginx (A) from pod/petset-dns-probe: expected 10.244.0.11 (pods web-1), got 10.244.0.99"
    );
    assert_eq!(
        failure.expected,
        "web-1.nginx A: 10.244.0.11 (pods web-1)\n"
    );
    assert!(
        failure
            .actual
            .starts_with("web-1.nginx A: 10.244.0.99\n  exit code: 0\n  stdout:\n"),
        "{}",
        failure.actual
    );

    let failure = world
        .fails("dns: {name: web-0.nginx, expect: notFound}")
        .await;
    assert!(
        failure
            .message
            .ends_with("expected no such name, got 10.244.0.10"),
        "{}",
        failure.message
    );
    let failure = world
        .fails("dns: {name: gone, expect: {serviceIp: svc/web}}")
        .await;
    assert!(
        failure.message.ends_with(
            "expected 10.96.0.50 (the cluster IP of service/web), got no such name (no records)"
        ),
        "{}",
        failure.message
    );
    let failure = world
        .fails("dns: {name: nginx, expect: {serviceIp: svc/nginx}}")
        .await;
    assert!(failure.message.contains("headless"), "{}", failure.message);
    // The DNS answer lags: web-2 is no longer ready, the name still lists it.
    world
        .fake
        .set_pod_ready(NS, "web-2", false, Some("10.244.0.12"))?;
    let failure = world
        .fails("dns: {name: nginx, type: SRV, expect: {srvTargets: svc/nginx}}")
        .await;
    assert!(
        failure.message.contains("got web-0.nginx.petset-cmd.svc.cluster.local, web-1.nginx.petset-cmd.svc.cluster.local, web-2.nginx.petset-cmd.svc.cluster.local"),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn dns_eventually_waits_for_the_record_and_from_uses_a_named_pod() -> TestResult {
    let (mut world, resolver) = dns_world().await?;
    resolver.set_a("web-1.nginx", &["10.244.0.99"]);
    let fixer = resolver.clone();
    let asked_before = resolver.asked.load(Ordering::SeqCst);
    let fix = tokio::spawn(async move {
        // Right only once the step has had the wrong answer.
        until(|| fixer.asked.load(Ordering::SeqCst) > asked_before).await;
        fixer.set_a("web-1.nginx", &["10.244.0.11"]);
    });
    world
        .passes(r#"dns: {name: web-1.nginx, expect: {podIps: pod/web-1}, eventually: 20s}"#)
        .await;
    fix.await?;
    assert!(
        resolver.asked.load(Ordering::SeqCst) >= asked_before + 2,
        "asked again after the wrong answer"
    );
    // From a pod of the scenario, answering like `dig +short`.
    world
        .fake
        .on_exec(NS, "web-0", None, |req: ExecRequest| async move {
            match req.command.get(4).map(String::as_str) {
                Some("web-2.nginx") => ExecOutput::stdout("10.244.0.12\n"),
                _ => ExecOutput::stdout(""),
            }
        });
    world
        .passes("dns: {name: web-2.nginx, from: pod/web-0, expect: {podIps: pod/web-2}}")
        .await;
    let failure = world
        .fails("dns: {name: web-1.nginx, from: pod/web-0, expect: {podIps: pod/web-1}}")
        .await;
    assert_eq!(
        failure.message,
        "dns web-1.nginx (A) from pod/web-0: expected 10.244.0.11 (pods web-1), got no such name (no records)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------- http

/// A tiny HTTP/1.1 server: `/hostname` answers `web-0`, `/chunked` a chunked body, `/flaky`
/// 503 twice then 200, anything else 404. Stops when dropped.
struct HttpServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn http_server() -> std::io::Result<HttpServer> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let flaky = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let flaky = flaky.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let response = match path.as_str() {
                    "/hostname" => "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nweb-0".to_owned(),
                    "/chunked" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nhell\r\n1\r\no\r\n0\r\n\r\n".to_owned(),
                    "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) < 2 => {
                        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\n\r\nnot ready".to_owned()
                    }
                    "/flaky" => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_owned(),
                    other => format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n{other}", other.len()),
                };
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(HttpServer { addr, task })
}

// Paused time: the retries' pauses take no wall-clock time, and the step's own clock shows it
// ended at the third answer, long before its `eventually` window.
#[tokio::test(start_paused = true)]
async fn http_gets_through_the_port_forward() -> TestResult {
    let mut world = web().await?;
    let server = http_server().await?;
    world.fake.forward_port(NS, "web-0", 8080, server.addr);
    let report = world
        .passes("http: {target: pod/web-0, port: 8080, path: /hostname, body: {equals: web-0}}")
        .await;
    assert_eq!(report.detail, "GET web-0:8080/hostname -> 200");
    world
        .passes("http: {target: pod/web-0, port: 8080, path: /chunked, body: {equals: hello}}")
        .await;
    world
        .passes("http: {target: pod/web-0, port: 8080, path: /nope, status: 404, body: {contains: [/nope]}}")
        .await;
    let started = Instant::now();
    world
        .passes("http: {target: pod/web-0, port: 8080, path: /flaky, body: {equals: ok}, eventually: 20s}")
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn http_failures_show_status_and_body() -> TestResult {
    let mut world = web().await?;
    let server = http_server().await?;
    for pod in ["web-0", "web-1", "web-2"] {
        world.fake.forward_port(NS, pod, 8080, server.addr);
    }
    let failure = world
        .fails("http: {target: pod/web-0, port: 8080, path: /missing}")
        .await;
    assert_eq!(
        failure.message,
        "http GET pod/web-0:8080/missing: status: expected 200, got 404 Not Found"
    );
    assert!(
        failure
            .actual
            .contains("  status: 404 Not Found\n  body: |\n    /missing\n"),
        "{}",
        failure.actual
    );
    let failure = world
        .fails(r#"http: {target: {kind: pod, selector: app=web}, port: 8080, path: /hostname, body: {equals: "${pod}"}}"#)
        .await;
    assert_eq!(
        failure.message,
        r#"http GET pod/web-1:8080/hostname: body: expected "web-1", got "web-0" (and in 1 more pod)"#
    );
    // Nothing listens on this port of the pod: the port-forward says why.
    let failure = world.fails("http: {target: pod/web-1, port: 9090}").await;
    assert!(
        failure.message.starts_with("http GET pod/web-1:9090/: response: expected an HTTP response, got the connection closed without a response"),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("no port-forward target is registered"),
        "{}",
        failure.message
    );
    Ok(())
}

#[tokio::test]
async fn http_refuses_a_variable_that_breaks_the_request_path() -> TestResult {
    let mut world = web().await?;
    let server = http_server().await?;
    world.fake.forward_port(NS, "web-0", 8080, server.addr);
    let before = world.fake.request_counts();
    // A space, and an attempt to add a header, put in by a variable (a path written with them is
    // refused when the file loads): neither is retried, though `eventually` would allow it, and
    // neither opens a port-forward.
    for value in ["a b", "x\r\nX-Injected: 1"] {
        world.ctx.vars.set("page", value);
        let failure = world
            .fails("http: {target: pod/web-0, port: 8080, path: \"/${page}\", eventually: 60s}")
            .await;
        assert_eq!(
            failure.message,
            format!(
                "http GET pod/web-0:8080: the request path `/${{page}}` is `/{value}` once \
                 `${{page}}` is `{value}`: invalid uri character; percent-encode spaces and other \
                 special characters, e.g. %20 for a space"
            )
        );
        assert_eq!(failure.kind, FailureKind::InvalidScenario);
    }
    assert_eq!(world.fake.request_counts(), before, "no API call was made");
    // The same path, percent-encoded, is sent as written.
    world.ctx.vars.set("page", "a%20b");
    let failure = world
        .fails("http: {target: pod/web-0, port: 8080, path: \"/${page}\"}")
        .await;
    assert_eq!(
        failure.message,
        "http GET pod/web-0:8080/a%20b: status: expected 200, got 404 Not Found"
    );
    Ok(())
}

#[tokio::test]
async fn http_says_port_forward_was_refused_and_why_without_waiting() -> TestResult {
    let mut world = web().await?;
    let server = http_server().await?;
    world.fake.forward_port(NS, "web-0", 8080, server.addr);
    world
        .fake
        .refuse_port_forward(PortForwardRefusal::SubprotocolDropped);
    let failure = world
        .fails("http: {target: pod/web-0, port: 8080, path: /hostname, eventually: 30s}")
        .await;
    assert_eq!(
        failure.message,
        "http GET pod/web-0:8080: port-forward could not agree on a websocket subprotocol: \
         kube offered v5.channel.k8s.io, v4.channel.k8s.io; the server switched to a websocket \
         but named none of them (Sec-WebSocket-Protocol mismatched); the http step needs a \
         port-forward (it does not fall back to exec)"
    );
    // No "still failing after N attempts": `eventually` does not wait out a refusal that no
    // retry can change.
    assert_eq!(failure.kind, FailureKind::Api, "petset could not ask");

    world
        .fake
        .refuse_port_forward(PortForwardRefusal::NoCommonSubprotocol);
    let failure = world
        .fails("http: {target: pod/web-0, port: 8080, path: /hostname}")
        .await;
    assert!(
        failure
            .message
            .contains("refused the websocket upgrade with 403 and no reason"),
        "{}",
        failure.message
    );
    world.fake.clear_faults();
    world
        .passes("http: {target: pod/web-0, port: 8080, path: /hostname, body: {equals: web-0}}")
        .await;
    Ok(())
}
