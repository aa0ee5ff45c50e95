//! Real MariaDB servers behind the emulated MariaDB pods, brought up the way the fixture's pods
//! come up (`mariadb_pods.rs`), answering execs of the `mariadb` client (`mariadb_client.rs`).
//! Data lives per claim, not per pod: a pod deleted and recreated on its claim finds its
//! database again; a new ordinal on an empty claim is cloned from its predecessor with
//! mariabackup and mbstream. Credentials come from the Secret the scenario applied. The
//! database fault switches break it there. This file holds the state and the emulation's
//! `Backend` hooks.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use petset_fakeapi::emulation::{Backend, Fault, PodInfo};
use petset_fakeapi::{ExecOutput, ExecRequest, Handle};

use super::super::support::mariadb::{self, MariaDb, ServerDir};
use super::pod_network::PodNetwork;
use super::pod_processes::Sidecar;

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// One started pod: its server and sidecar.
pub(super) struct PodRun {
    pub(super) uid: String,
    pub(super) claim: String,
    /// Its names on the pod network (`<pod>.<service>:<port>`).
    pub(super) names: Vec<String>,
    pub(super) server: Arc<MariaDb>,
    pub(super) sidecar: Mutex<Option<Sidecar>>,
}

pub(super) struct Inner {
    pub(super) handle: Handle,
    pub(super) fault: Option<Fault>,
    pub(super) dir: PathBuf,
    pub(super) network: PodNetwork,
    /// By (namespace, pod name).
    pub(super) pods: Mutex<BTreeMap<(String, String), Arc<PodRun>>>,
    /// One lock per claim: a pod's start and stop on a claim never overlap the next pod's.
    pub(super) claims: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Pods (by UID) told to stop, so a start still under way does not bring them up.
    pub(super) stopped: Mutex<HashSet<String>>,
    pub(super) next_read: AtomicUsize,
    /// Dropped last: closing it removes `dir` (the claims' data) once the servers are gone.
    _keeper: std::process::ChildStdin,
}

pub struct MariaDbBackend {
    inner: Arc<Inner>,
}

impl MariaDbBackend {
    pub fn new(handle: Handle, fault: Option<Fault>) -> Result<Self, String> {
        let dir = ServerDir::create().map_err(|e| e.to_string())?;
        let path = dir.path().to_owned();
        let keeper = mariadb::remove_when_closed(&path).map_err(|e| e.to_string())?;
        dir.disarm();
        let network = PodNetwork::new(&path.join("network")).map_err(|e| e.to_string())?;
        Ok(Self {
            inner: Arc::new(Inner {
                handle,
                fault,
                dir: path,
                network,
                pods: Mutex::default(),
                claims: Mutex::default(),
                stopped: Mutex::default(),
                next_read: AtomicUsize::new(0),
                _keeper: keeper,
            }),
        })
    }
}

pub(super) fn guard<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// MariaDB pods are StatefulSet pods running a `mariadb` image.
fn is_database(pod: &PodInfo) -> bool {
    pod.ordinal.is_some() && pod.images.iter().any(|i| i.contains("mariadb"))
}

impl Inner {
    pub(super) fn claim_lock(&self, claim: &str) -> Arc<tokio::sync::Mutex<()>> {
        guard(&self.claims)
            .entry(claim.to_owned())
            .or_default()
            .clone()
    }

    pub(super) fn running(&self, namespace: &str, pod: &str) -> Option<Arc<PodRun>> {
        guard(&self.pods)
            .get(&(namespace.to_owned(), pod.to_owned()))
            .cloned()
    }
}

impl Backend for MariaDbBackend {
    fn pod_started(
        &self,
        pod: PodInfo,
    ) -> Option<BoxFuture<Result<Vec<(String, String)>, String>>> {
        if !is_database(&pod) {
            return None;
        }
        Some(Box::pin(self.inner.clone().start(pod)))
    }

    fn exec(&self, pod: PodInfo, request: ExecRequest) -> Option<BoxFuture<ExecOutput>> {
        if !is_database(&pod) {
            return None;
        }
        let inner = self.inner.clone();
        if request.command.get(3).map(String::as_str) == Some("petset-sql") {
            return Some(Box::pin(async move { inner.sql_step(request).await }));
        }
        if request.command.first().map(String::as_str) == Some("mariadb") {
            return Some(Box::pin(
                async move { inner.local_client(pod, request).await },
            ));
        }
        None
    }

    fn pod_stopped(&self, pod: PodInfo) -> Option<BoxFuture<()>> {
        if !is_database(&pod) {
            return None;
        }
        Some(Box::pin(self.inner.clone().stop(pod)))
    }
}
