//! Starting the emulation and its loop: every tick each controller looks at the store once.

use std::collections::HashSet;
use std::sync::Arc;

use super::config::{Backend, EmulationConfig};
use super::objects::{deleting, name};
use super::state::Shared;
use crate::handle::Handle;

/// A running emulation. It stops with the fake API server (or when dropped).
pub struct Emulation {
    shared: Arc<Shared>,
    task: tokio::task::AbortHandle,
}

impl std::fmt::Debug for Emulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulation")
            .field("faults", &self.shared.config.faults)
            .finish()
    }
}

impl Emulation {
    /// Starts emulating controllers, nodes and pods on `handle`'s store, first creating what a
    /// cluster comes with where missing: two nodes, the default StorageClass `standard` and the
    /// `kube-dns` Service.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use petset_fakeapi::FakeApiServer;
    /// use petset_fakeapi::emulation::{Emulation, EmulationConfig};
    /// let server = FakeApiServer::start().await?;
    /// let _emulation = Emulation::start(&server.handle(), EmulationConfig::default(), None);
    /// # Ok(()) }
    /// ```
    pub fn start(
        handle: &Handle,
        config: EmulationConfig,
        backend: Option<Arc<dyn Backend>>,
    ) -> Self {
        // The store's grace-period clock runs at the pod spec's scaled second, like the kubelet.
        handle.set_grace_second(config.second);
        let shared = Arc::new(Shared::new(handle.clone(), config, backend));
        // What a cluster comes with: nodes, the provisioner's default class, cluster DNS.
        super::nodes::ensure(handle);
        super::volumes::ensure_class(handle);
        super::dns::ensure_service(handle);
        let looping = shared.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(looping.config.tick);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                step(&looping);
            }
        });
        handle.track_task(task.abort_handle());
        Self {
            shared,
            task: task.abort_handle(),
        }
    }

    /// The fault switches this emulation runs with.
    pub fn config(&self) -> &EmulationConfig {
        &self.shared.config
    }
}

impl Drop for Emulation {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn step(shared: &Arc<Shared>) {
    let h = &shared.handle;
    super::volumes::reconcile(shared);
    let mut live = HashSet::new();
    for ns in h.list("v1", "Namespace", None) {
        let namespace = name(&ns).to_string();
        let pods = h.list("v1", "Pod", Some(&namespace));
        if !deleting(&ns) {
            super::statefulset::reconcile(shared, &namespace, &pods);
            super::deployment::reconcile(shared, &namespace, &pods);
            super::replicaset::reconcile(shared, &namespace, &pods);
        }
        let pods = h.list("v1", "Pod", Some(&namespace));
        super::kubelet::reconcile(shared, &namespace, &pods, &mut live);
        if !deleting(&ns) {
            let pods = h.list("v1", "Pod", Some(&namespace));
            super::service::reconcile(shared, &namespace, &pods);
        }
    }
    super::kubelet::forget_gone(shared, &live);
}
