//! The emulated pods' network as the processes behind them see it. Each `<pod>.<service>:<port>`
//! gets a loopback address that stays the same for the whole run and forwards to whatever serves
//! that pod's port right now (nothing while the pod is gone: connections are closed at once), so
//! a replica keeps following `mysql-0.mysql` across the primary's restarts, as it would through
//! the cluster's DNS. The fixture's shell scripts reach these names through a `socat` stand-in
//! that looks them up in a routes file and calls the real `socat`.

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// `socat` with `TCP:<name>:<port>` addresses resolved through `$PETSET_ROUTES`.
const SOCAT_STAND_IN: &str = r#"#!/bin/bash
# socat on the emulated pods' network: TCP:<pod>.<service>:<port> goes to the loopback address
# standing for it (a line "<pod>.<service>:<port> <address>" in $PETSET_ROUTES); every other
# argument is passed on unchanged.
set -euo pipefail
args=()
for arg in "$@"; do
  if [[ $arg =~ ^TCP:([^,]+)(,.*)?$ ]]; then
    wanted=${BASH_REMATCH[1]} options=${BASH_REMATCH[2]}
    while read -r name address; do
      if [[ $name == "$wanted" ]]; then
        arg="TCP:$address$options"
        break
      fi
    done <"$PETSET_ROUTES"
  fi
  args+=("$arg")
done
exec "$PETSET_SOCAT" "${args[@]}"
"#;

type Target = Arc<Mutex<Option<SocketAddr>>>;

struct Route {
    address: SocketAddr,
    target: Target,
    task: tokio::task::AbortHandle,
}

pub struct PodNetwork {
    dir: PathBuf,
    real_socat: String,
    /// By namespace, then `<pod>.<service>:<port>`.
    routes: Mutex<BTreeMap<String, BTreeMap<String, Route>>>,
}

impl PodNetwork {
    /// A network whose files (the routes, the `socat` stand-in) live under `dir`.
    pub fn new(dir: &Path) -> io::Result<PodNetwork> {
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin)?;
        let stand_in = bin.join("socat");
        std::fs::write(&stand_in, SOCAT_STAND_IN)?;
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755))?;
        let real_socat = ["/usr/bin/socat", "/bin/socat", "/usr/local/bin/socat"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .ok_or_else(|| io::Error::other("socat is not installed (.ci/run installs it)"))?;
        Ok(PodNetwork {
            dir: dir.to_owned(),
            real_socat: real_socat.to_owned(),
            routes: Mutex::default(),
        })
    }

    /// The variables a script needs to reach pods by name through the `socat` stand-in.
    pub fn script_env(&self, namespace: &str) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        vec![
            (
                "PATH".into(),
                format!("{}:{path}", self.dir.join("bin").display()),
            ),
            (
                "PETSET_ROUTES".into(),
                self.routes_file(namespace).display().to_string(),
            ),
            ("PETSET_SOCAT".into(), self.real_socat.clone()),
        ]
    }

    /// The stable address standing for `name` (`<pod>.<service>:<port>`), made on first use.
    pub async fn address(&self, namespace: &str, name: &str) -> io::Result<SocketAddr> {
        if let Some(route) = self.route(namespace, name) {
            return Ok(route);
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let target: Target = Arc::default();
        let task = tokio::spawn(forward(listener, target.clone())).abort_handle();
        let mut all = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let in_namespace = all.entry(namespace.to_owned()).or_default();
        if let Some(existing) = in_namespace.get(name) {
            // Another start made it meanwhile.
            task.abort();
            return Ok(existing.address);
        }
        in_namespace.insert(
            name.to_owned(),
            Route {
                address,
                target,
                task,
            },
        );
        let lines: String = in_namespace
            .iter()
            .map(|(name, route)| format!("{name} {}\n", route.address))
            .collect();
        // Written whole and renamed, so a script reading it never sees half a file.
        let file = self.routes_file(namespace);
        let partial = file.with_extension("new");
        std::fs::write(&partial, lines)?;
        std::fs::rename(&partial, &file)?;
        Ok(address)
    }

    /// Points `name` at `target` (`None`: nothing serves it now).
    pub async fn serve(
        &self,
        namespace: &str,
        name: &str,
        target: Option<SocketAddr>,
    ) -> io::Result<()> {
        self.address(namespace, name).await?;
        let all = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(route) = all.get(namespace).and_then(|r| r.get(name)) {
            *route.target.lock().unwrap_or_else(|e| e.into_inner()) = target;
        }
        Ok(())
    }

    fn route(&self, namespace: &str, name: &str) -> Option<SocketAddr> {
        let all = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        all.get(namespace)
            .and_then(|r| r.get(name))
            .map(|r| r.address)
    }

    fn routes_file(&self, namespace: &str) -> PathBuf {
        let file = self.dir.join(format!("routes-{namespace}"));
        if !file.exists() {
            let _ = std::fs::write(&file, "");
        }
        file
    }
}

impl Drop for PodNetwork {
    fn drop(&mut self) {
        let all = self.routes.get_mut().unwrap_or_else(|e| e.into_inner());
        for route in all.values().flat_map(BTreeMap::values) {
            route.task.abort();
        }
    }
}

/// Accepts connections for one name and splices each to the current target; the connections
/// end with the accepting task (their set is dropped with it).
async fn forward(listener: TcpListener, target: Target) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            // Out of descriptors, say: give the connections being served a moment to end.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        let to = *target.lock().unwrap_or_else(|e| e.into_inner());
        let Some(to) = to else {
            // Nobody serves the name now: the connection is refused, as by a pod that is gone.
            continue;
        };
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(to).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
