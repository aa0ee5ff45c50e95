//! What a test chooses when it starts the emulation: timing, fault switches, and an optional
//! backend for pods whose behaviour lives outside the fake (real database servers).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::exec::{ExecOutput, ExecRequest};

/// One broken behaviour. Each switch breaks exactly one thing the catalogue describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// OrderedReady StatefulSets create their pods from the highest ordinal down.
    PodsCreatedOutOfOrder,
    /// Scale-down removes the lowest condemned ordinal first.
    ScaleDownForwardOrder,
    /// A recreated StatefulSet pod gets a brand-new claim instead of its old one.
    NewClaimOnRecreate,
    /// Claims of removed ordinals are deleted on scale-down, whatever the retention policy.
    ClaimsDeletedOnScaleDown,
    /// A recreated StatefulSet pod comes back under a new, hashed name.
    PodRenamedOnRecreate,
    /// Headless Services are given a cluster IP (and resolve to it).
    HeadlessGetsClusterIp,
    /// The per-pod DNS name of ordinal 1 is missing from the resolver.
    PodDnsNameMissing,
    /// Deployment rollouts run two pods above maxSurge.
    RolloutExceedsMaxSurge,
    /// Database replicas accept writes (read_only off).
    ReplicaWritable,
    /// Database replicas stop replicating and never catch up.
    ReplicationStopped,
    /// StatefulSet ordinal 1 never turns Ready.
    PodNeverReady,
}

impl Fault {
    /// Every switch, in a stable order.
    pub const ALL: [Fault; 11] = [
        Fault::PodsCreatedOutOfOrder,
        Fault::ScaleDownForwardOrder,
        Fault::NewClaimOnRecreate,
        Fault::ClaimsDeletedOnScaleDown,
        Fault::PodRenamedOnRecreate,
        Fault::HeadlessGetsClusterIp,
        Fault::PodDnsNameMissing,
        Fault::RolloutExceedsMaxSurge,
        Fault::ReplicaWritable,
        Fault::ReplicationStopped,
        Fault::PodNeverReady,
    ];

    /// A short kebab-case name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::PodsCreatedOutOfOrder => "pods-created-out-of-order",
            Fault::ScaleDownForwardOrder => "scale-down-forward-order",
            Fault::NewClaimOnRecreate => "new-claim-on-recreate",
            Fault::ClaimsDeletedOnScaleDown => "claims-deleted-on-scale-down",
            Fault::PodRenamedOnRecreate => "pod-renamed-on-recreate",
            Fault::HeadlessGetsClusterIp => "headless-gets-cluster-ip",
            Fault::PodDnsNameMissing => "pod-dns-name-missing",
            Fault::RolloutExceedsMaxSurge => "rollout-exceeds-max-surge",
            Fault::ReplicaWritable => "replica-writable",
            Fault::ReplicationStopped => "replication-stopped",
            Fault::PodNeverReady => "pod-never-ready",
        }
    }
}

/// Timing and switches.
#[derive(Debug, Clone)]
pub struct EmulationConfig {
    /// How often every controller looks at the store (one action per controller per tick).
    pub tick: Duration,
    /// From a pod's scheduling to its containers running.
    pub start_delay: Duration,
    /// One second of a probe's `initialDelaySeconds`/`periodSeconds` takes this long here.
    pub probe_second: Duration,
    /// How long a deleted pod stays terminating (longer when it has a preStop hook).
    pub termination: Duration,
    /// Termination of a pod whose container has a preStop hook.
    pub termination_with_hook: Duration,
    pub faults: BTreeSet<Fault>,
}

impl Default for EmulationConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(40),
            start_delay: Duration::from_millis(80),
            probe_second: Duration::from_millis(60),
            termination: Duration::from_millis(200),
            termination_with_hook: Duration::from_secs(3),
            faults: BTreeSet::new(),
        }
    }
}

impl EmulationConfig {
    /// The defaults with one fault switched on.
    pub fn with_fault(fault: Fault) -> Self {
        let mut config = Self::default();
        config.faults.insert(fault);
        config
    }

    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }
}

/// What a backend is told about a pod.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    /// The pod's UID: a pod recreated under the same name has a new one.
    pub uid: String,
    /// The StatefulSet ordinal, for StatefulSet pods.
    pub ordinal: Option<u32>,
    /// The UIDs of the claims the pod mounts (a new UID means a new, empty volume).
    pub claim_uids: Vec<String>,
    pub images: Vec<String>,
}

/// Files a backend places in a started pod, or why the pod cannot start.
pub type StartResult = Result<Vec<(String, String)>, String>;

/// Boxed future returned by [`Backend`] methods.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Behaviour the test provides for some pods (for example real MariaDB servers behind mysql
/// pods). Both methods are asked about every pod; return `None` for pods that are not yours.
pub trait Backend: Send + Sync + 'static {
    /// Called once per pod start, before the pod can turn Ready. Returns files to place in the
    /// pod (absolute paths as the container sees them) or an error that keeps the pod from
    /// starting (reported as the container's waiting reason).
    fn pod_started(&self, pod: PodInfo) -> Option<BoxFuture<StartResult>>;
    /// Answers an exec the emulation's own shell does not understand.
    fn exec(&self, pod: PodInfo, request: ExecRequest) -> Option<BoxFuture<ExecOutput>>;
    /// Called once when a pod starts terminating (its containers get their stop signal): what
    /// `pod_started` set going for it should stop. The pod may still be starting.
    fn pod_stopped(&self, _pod: PodInfo) -> Option<BoxFuture<()>> {
        None
    }
}
