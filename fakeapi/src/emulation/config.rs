//! What a test chooses when it starts the emulation: timing, fault switches, and an optional
//! backend for pods whose behaviour lives outside the fake (real database servers).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::exec::{ExecOutput, ExecRequest};

/// One broken behaviour. Each switch breaks one thing the catalogue describes and nothing else
/// the suite checks (as far as the emulation can keep them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// OrderedReady StatefulSets create their pods from the highest ordinal down.
    PodsCreatedOutOfOrder,
    /// OrderedReady StatefulSets create the next pod once the previous one is Running, before it is Ready.
    CreatedBeforePreviousReady,
    /// StatefulSet pods are named `<set>-<random suffix>` instead of `<set>-<ordinal>`.
    PodNamesHashed,
    /// Scale-down removes the lowest condemned ordinal first.
    ScaleDownForwardOrder,
    /// Scale-down deletes the next pod while the previous one is still terminating.
    ScaleDownNotOneAtATime,
    /// The StatefulSet controller takes a pod that was Ready once as ready for good when it decides to scale.
    ScalingIgnoresLostReadiness,
    /// A StatefulSet's `status.readyReplicas` counts Running pods whether or not they are Ready.
    ReadyReplicasCountsUnready,
    /// Parallel StatefulSets create their pods one at a time, each after the previous one is Ready.
    ParallelWaitsForReady,
    /// Parallel StatefulSets delete their pods one at a time, each after the previous one is gone.
    ParallelDeletesOneAtATime,
    /// A recreated StatefulSet pod comes back under a new, hashed name.
    PodRenamedOnRecreate,
    /// A recreated StatefulSet pod gets a brand-new claim instead of its old one.
    NewClaimOnRecreate,
    /// StatefulSet claims are named `<set>-<ordinal>`, without the template's name.
    ClaimNameWithoutTemplate,
    /// A StatefulSet pod recreated on its old claim finds the volume empty.
    VolumeWipedOnRecreate,
    /// Claims of removed ordinals are deleted on scale-down, whatever the retention policy.
    ClaimsDeletedOnScaleDown,
    /// Deleting a StatefulSet deletes its claims, whatever the retention policy.
    ClaimsDeletedWithSet,
    /// `persistentVolumeClaimRetentionPolicy` is ignored: claims are always kept.
    RetentionPolicyIgnored,
    /// The provisioner deletes a volume whose claim is gone even when its reclaim policy is Retain.
    RetainIgnored,
    /// A ReplicaSet's replacement pod takes the name of a pod it replaces.
    ReplacementReusesPodName,
    /// Headless Services are given a cluster IP (and resolve to it).
    HeadlessGetsClusterIp,
    /// Endpoints and EndpointSlices list an unready pod as ready.
    UnreadyPodStaysInEndpoints,
    /// A headless Service's name keeps resolving to pods that are not Ready.
    UnreadyPodStaysInDns,
    /// The per-pod DNS name of ordinal 1 is missing from the resolver.
    PodDnsNameMissing,
    /// A per-pod DNS name keeps answering with the IP of the first pod that had it.
    PodDnsNameStale,
    /// SRV answers of a headless Service leave out the pod with the highest ordinal.
    SrvTargetMissing,
    /// A StatefulSet pod's hostname is its set's name rather than its own name.
    HostnameIsSetName,
    /// StatefulSet rolling updates replace the lowest ordinal first.
    RollingUpdateForwardOrder,
    /// StatefulSet rolling updates replace the next pod before the previous replacement is Ready.
    RollingUpdateSkipsReadiness,
    /// StatefulSet rolling updates ignore the partition and update every ordinal.
    PartitionIgnored,
    /// StatefulSets with `updateStrategy: OnDelete` roll their pods like RollingUpdate.
    OnDeleteRollsPods,
    /// Deployment rollouts run two pods above maxSurge.
    RolloutExceedsMaxSurge,
    /// Deployment rollouts take down one pod more than maxUnavailable allows.
    RolloutBelowMinAvailable,
    /// Recreate Deployments start the new pods while the old ones are still terminating.
    RecreateOverlaps,
    /// A Deployment's change-cause annotation is not copied onto its new ReplicaSet.
    ChangeCauseNotRecorded,
    /// Deployments count a pod available as soon as it is Ready, ignoring minReadySeconds.
    MinReadySecondsIgnored,
    /// Database replicas accept writes (read_only off).
    ReplicaWritable,
    /// The application user may write on read-only replicas (it holds the privilege that bypasses read_only).
    ReplicaAcceptsAppWrites,
    /// Database replicas stop replicating and never catch up.
    ReplicationStopped,
    /// The database pods' readiness probe passes without the client it runs (so a replica whose
    /// client is gone stays Ready and in the read Service).
    ReadinessIgnoresClient,
    /// Replicas ignore the statements of databases other than `petset` (so DDL such as CREATE DATABASE does not reach them).
    DdlNotReplicated,
    /// Every connection through the database read Service reaches the same server.
    ReadServiceOneServer,
    /// A new database replica is cloned from the primary rather than from its predecessor.
    CloneFromPrimary,
    /// The database server keeps its data in the pod rather than on the pod's claim, so a
    /// recreated pod starts on an empty database.
    DatabaseDataNotOnClaim,
    /// A failing liveness probe deletes the pod (to be replaced) instead of restarting its container.
    LivenessReplacesPod,
    /// The scheduler ignores cordons, so an evicted pod can land on the node being drained.
    DrainLeavesPodOnNode,
}

impl Fault {
    /// Every switch, in a stable order.
    pub const ALL: [Fault; 44] = [
        Fault::PodsCreatedOutOfOrder,
        Fault::CreatedBeforePreviousReady,
        Fault::PodNamesHashed,
        Fault::ScaleDownForwardOrder,
        Fault::ScaleDownNotOneAtATime,
        Fault::ScalingIgnoresLostReadiness,
        Fault::ReadyReplicasCountsUnready,
        Fault::ParallelWaitsForReady,
        Fault::ParallelDeletesOneAtATime,
        Fault::PodRenamedOnRecreate,
        Fault::NewClaimOnRecreate,
        Fault::ClaimNameWithoutTemplate,
        Fault::VolumeWipedOnRecreate,
        Fault::ClaimsDeletedOnScaleDown,
        Fault::ClaimsDeletedWithSet,
        Fault::RetentionPolicyIgnored,
        Fault::RetainIgnored,
        Fault::ReplacementReusesPodName,
        Fault::HeadlessGetsClusterIp,
        Fault::UnreadyPodStaysInEndpoints,
        Fault::UnreadyPodStaysInDns,
        Fault::PodDnsNameMissing,
        Fault::PodDnsNameStale,
        Fault::SrvTargetMissing,
        Fault::HostnameIsSetName,
        Fault::RollingUpdateForwardOrder,
        Fault::RollingUpdateSkipsReadiness,
        Fault::PartitionIgnored,
        Fault::OnDeleteRollsPods,
        Fault::RolloutExceedsMaxSurge,
        Fault::RolloutBelowMinAvailable,
        Fault::RecreateOverlaps,
        Fault::ChangeCauseNotRecorded,
        Fault::MinReadySecondsIgnored,
        Fault::ReplicaWritable,
        Fault::ReplicaAcceptsAppWrites,
        Fault::ReplicationStopped,
        Fault::ReadinessIgnoresClient,
        Fault::DdlNotReplicated,
        Fault::ReadServiceOneServer,
        Fault::CloneFromPrimary,
        Fault::DatabaseDataNotOnClaim,
        Fault::LivenessReplacesPod,
        Fault::DrainLeavesPodOnNode,
    ];

    /// A short kebab-case name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Fault::PodsCreatedOutOfOrder => "pods-created-out-of-order",
            Fault::CreatedBeforePreviousReady => "created-before-previous-ready",
            Fault::PodNamesHashed => "pod-names-hashed",
            Fault::ScaleDownForwardOrder => "scale-down-forward-order",
            Fault::ScaleDownNotOneAtATime => "scale-down-not-one-at-a-time",
            Fault::ScalingIgnoresLostReadiness => "scaling-ignores-lost-readiness",
            Fault::ReadyReplicasCountsUnready => "ready-replicas-counts-unready",
            Fault::ParallelWaitsForReady => "parallel-waits-for-ready",
            Fault::ParallelDeletesOneAtATime => "parallel-deletes-one-at-a-time",
            Fault::PodRenamedOnRecreate => "pod-renamed-on-recreate",
            Fault::NewClaimOnRecreate => "new-claim-on-recreate",
            Fault::ClaimNameWithoutTemplate => "claim-name-without-template",
            Fault::VolumeWipedOnRecreate => "volume-wiped-on-recreate",
            Fault::ClaimsDeletedOnScaleDown => "claims-deleted-on-scale-down",
            Fault::ClaimsDeletedWithSet => "claims-deleted-with-set",
            Fault::RetentionPolicyIgnored => "retention-policy-ignored",
            Fault::RetainIgnored => "retain-ignored",
            Fault::ReplacementReusesPodName => "replacement-reuses-pod-name",
            Fault::HeadlessGetsClusterIp => "headless-gets-cluster-ip",
            Fault::UnreadyPodStaysInEndpoints => "unready-pod-stays-in-endpoints",
            Fault::UnreadyPodStaysInDns => "unready-pod-stays-in-dns",
            Fault::PodDnsNameMissing => "pod-dns-name-missing",
            Fault::PodDnsNameStale => "pod-dns-name-stale",
            Fault::SrvTargetMissing => "srv-target-missing",
            Fault::HostnameIsSetName => "hostname-is-set-name",
            Fault::RollingUpdateForwardOrder => "rolling-update-forward-order",
            Fault::RollingUpdateSkipsReadiness => "rolling-update-skips-readiness",
            Fault::PartitionIgnored => "partition-ignored",
            Fault::OnDeleteRollsPods => "on-delete-rolls-pods",
            Fault::RolloutExceedsMaxSurge => "rollout-exceeds-max-surge",
            Fault::RolloutBelowMinAvailable => "rollout-below-min-available",
            Fault::RecreateOverlaps => "recreate-overlaps",
            Fault::ChangeCauseNotRecorded => "change-cause-not-recorded",
            Fault::MinReadySecondsIgnored => "min-ready-seconds-ignored",
            Fault::ReplicaWritable => "replica-writable",
            Fault::ReplicaAcceptsAppWrites => "replica-accepts-app-writes",
            Fault::ReplicationStopped => "replication-stopped",
            Fault::ReadinessIgnoresClient => "readiness-ignores-client",
            Fault::DdlNotReplicated => "ddl-not-replicated",
            Fault::ReadServiceOneServer => "read-service-one-server",
            Fault::CloneFromPrimary => "clone-from-primary",
            Fault::DatabaseDataNotOnClaim => "database-data-not-on-claim",
            Fault::LivenessReplacesPod => "liveness-replaces-pod",
            Fault::DrainLeavesPodOnNode => "drain-leaves-pod-on-node",
        }
    }
}

/// Timing and switches.
///
/// The pod spec's own timings (probe `initialDelaySeconds` and `periodSeconds`,
/// `terminationGracePeriodSeconds`) run on a scaled clock: one of their seconds lasts
/// [`EmulationConfig::second`] here, so every window a real cluster has (a pod Running but not
/// yet Ready, a deleted pod still terminating) exists in the emulation too, only shorter.
/// `minReadySeconds` stays in real seconds: scenarios observe it against the wall clock.
#[derive(Debug, Clone)]
pub struct EmulationConfig {
    /// How often every controller looks at the store (one action per controller per tick).
    pub tick: Duration,
    /// From a pod's scheduling to its containers running (image pull and container start).
    pub start_delay: Duration,
    /// How long one second of the pod spec's timings lasts here.
    pub second: Duration,
    pub faults: BTreeSet<Fault>,
}

impl Default for EmulationConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_millis(40),
            start_delay: Duration::from_millis(80),
            second: Duration::from_millis(100),
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

    /// `seconds` of the pod spec's timings on the scaled clock.
    pub(crate) fn spec_seconds(&self, seconds: i64) -> Duration {
        self.second * u32::try_from(seconds.max(0)).unwrap_or(u32::MAX)
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
