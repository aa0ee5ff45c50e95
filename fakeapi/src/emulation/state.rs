//! State the emulation keeps beside the store: what the kubelet knows about running pods, the
//! file stores, addresses handed out, and which StatefulSet ordinals have lived before.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::task::AbortHandle;

use super::config::{Backend, EmulationConfig};
use super::files::Files;
use crate::handle::{Handle, lock};

/// The kubelet's record of one probe of a running container.
#[derive(Debug, Default)]
pub(crate) struct ProbeRecord {
    /// When the probe runs next; `None` until the container has started.
    pub(crate) next: Option<Instant>,
    pub(crate) successes: u32,
    pub(crate) failures: u32,
}

/// The kubelet's view of one pod, by UID.
#[derive(Debug)]
pub(crate) struct Runtime {
    /// When the containers (re)started; `None` while starting.
    pub(crate) started: Option<Instant>,
    /// When the pod was first seen scheduled.
    pub(crate) scheduled: Instant,
    pub(crate) restarts: u32,
    /// Since when it has been Ready.
    pub(crate) ready_since: Option<Instant>,
    pub(crate) readiness: ProbeRecord,
    pub(crate) liveness: ProbeRecord,
    /// Set once the start hooks ran (or are running).
    pub(crate) starting: bool,
    /// Why the pod cannot start, from the backend.
    pub(crate) start_error: Option<String>,
    pub(crate) ip: String,
    /// When termination ends: its grace period after the kubelet first saw the deletion.
    pub(crate) terminating: Option<Instant>,
    pub(crate) http: Option<AbortHandle>,
    /// The readiness probe's command when it runs as a process (see `exec_probe`).
    pub(crate) readiness_exec: super::exec_probe::ExecProbe,
    /// The liveness probe's, likewise.
    pub(crate) liveness_exec: super::exec_probe::ExecProbe,
}

pub(crate) struct Shared {
    pub(crate) config: EmulationConfig,
    pub(crate) handle: Handle,
    pub(crate) files: Mutex<Files>,
    pub(crate) pods: Mutex<HashMap<String, Runtime>>,
    next_ip: Mutex<u32>,
    /// (namespace, set uid, ordinal) of StatefulSet pods created before.
    pub(crate) lived: Mutex<HashSet<(String, String, u32)>>,
    /// UIDs of StatefulSet pods that have been Running and Ready at some point.
    pub(crate) ever_ready: Mutex<HashSet<String>>,
    /// Names each ReplicaSet (by UID) has given its pods.
    pub(crate) pod_names: Mutex<HashMap<String, HashSet<String>>>,
    /// The first IP each per-pod DNS name (namespace, `<hostname>.<subdomain>`) answered with.
    pub(crate) first_pod_ips: Mutex<HashMap<(String, String), String>>,
    /// UIDs of claims a pod has mounted before (a later pod on one finds its data).
    pub(crate) mounted: Mutex<HashSet<String>>,
    /// Claims made per (namespace, set, ordinal) under the new-claim fault.
    pub(crate) generations: Mutex<BTreeMap<(String, String, u32), u32>>,
    pub(crate) backend: Option<Arc<dyn Backend>>,
    /// Pods whose exec handler is registered.
    pub(crate) exec_registered: Mutex<HashSet<(String, String)>>,
}

impl Shared {
    pub(crate) fn new(
        handle: Handle,
        config: EmulationConfig,
        backend: Option<Arc<dyn Backend>>,
    ) -> Self {
        Self {
            config,
            handle,
            files: Mutex::new(Files::default()),
            pods: Mutex::new(HashMap::new()),
            next_ip: Mutex::new(10),
            lived: Mutex::new(HashSet::new()),
            mounted: Mutex::new(HashSet::new()),
            ever_ready: Mutex::new(HashSet::new()),
            first_pod_ips: Mutex::new(HashMap::new()),
            pod_names: Mutex::new(HashMap::new()),
            generations: Mutex::new(BTreeMap::new()),
            backend,
            exec_registered: Mutex::new(HashSet::new()),
        }
    }

    /// A fresh pod IP from 10.244.0.0/16.
    pub(crate) fn pod_ip(&self) -> String {
        let mut n = lock(&self.next_ip);
        *n += 1;
        format!("10.244.{}.{}", *n / 250, *n % 250 + 2)
    }
}
