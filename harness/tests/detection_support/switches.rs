//! Which fault switch breaks which catalogue behaviour, which scenarios should notice, and the
//! words the failure's message must contain for the switch to count as caught (specific enough
//! that an unrelated failure, a refused login or a timeout elsewhere, does not count).

use petset_fakeapi::emulation::Fault;

/// One behaviour broken by one switch. A behaviour with two sides (created in order *and* only
/// after the previous pod is Ready) has one row per side.
pub struct Breaks {
    pub behaviour: &'static str,
    pub fault: Fault,
    /// Scenarios run with the switch on; at least one must fail with all of `words`.
    pub scenarios: &'static [&'static str],
    pub words: &'static [&'static str],
}

const fn breaks(
    behaviour: &'static str,
    fault: Fault,
    scenarios: &'static [&'static str],
    words: &'static [&'static str],
) -> Breaks {
    Breaks {
        behaviour,
        fault,
        scenarios,
        words,
    }
}

const ORDERED: &[&str] = &["statefulset/ordered-scaling"];
const UNREADY: &[&str] = &["statefulset/unready-pod-halts-scaling"];
const PARALLEL: &[&str] = &["statefulset/parallel"];
const RECREATE_POD: &[&str] = &["storage/data-survives-pod-deletion"];
const SERVICES: &[&str] = &["services/headless-and-clusterip"];
const POD_NAMES: &[&str] = &["dns/pod-names"];
const ROLLING: &[&str] = &["updates/rolling-update"];
const BOUNDS: &[&str] = &["deployment/rolling-update-bounds"];
const REPLICATION: &[&str] = &["mysql/replication"];

/// Every switch and what it breaks.
pub static TABLE: &[Breaks] = &[
    breaks(
        "SVC-HEADLESS-1",
        Fault::HeadlessGetsClusterIp,
        SERVICES,
        &["spec.clusterIP", "None"],
    ),
    breaks(
        "SVC-HEADLESS-1",
        Fault::UnreadyPodStaysInEndpoints,
        SERVICES,
        &["web-2", "ready"],
    ),
    breaks(
        "DNS-HEADLESS-1",
        Fault::UnreadyPodStaysInDns,
        &["dns/headless-and-clusterip"],
        &["dns web (A)", "(pods web-0, web-1)"],
    ),
    breaks(
        "DNS-POD-1",
        Fault::PodDnsNameMissing,
        POD_NAMES,
        &["web-1.web"],
    ),
    breaks(
        "DNS-POD-1",
        Fault::PodDnsNameStale,
        POD_NAMES,
        &["dns web-1.web (A)", "pods web-1"],
    ),
    breaks(
        "DNS-SRV-1",
        Fault::SrvTargetMissing,
        POD_NAMES,
        &["(SRV)", "web-2"],
    ),
    breaks(
        "STS-HOSTNAME-1",
        Fault::HostnameIsSetName,
        ORDERED,
        &["hostname"],
    ),
    breaks("STS-NAME-1", Fault::PodNamesHashed, ORDERED, &["web-0"]),
    breaks(
        "STS-ORDER-1",
        Fault::PodsCreatedOutOfOrder,
        ORDERED,
        &["was created at", "expected creation order"],
    ),
    breaks(
        "STS-ORDER-1",
        Fault::CreatedBeforePreviousReady,
        ORDERED,
        &["expected each to be Ready before the next is created"],
    ),
    breaks(
        "STS-ORDER-2",
        Fault::ScaleDownForwardOrder,
        ORDERED,
        &["was deleted at", "expected deletion order"],
    ),
    breaks(
        "STS-ORDER-2",
        Fault::ScaleDownNotOneAtATime,
        ORDERED,
        &["expected one at a time"],
    ),
    breaks(
        "STS-ORDER-3",
        Fault::ScalingIgnoresLostReadiness,
        UNREADY,
        &["web-3"],
    ),
    breaks(
        "STS-ORDER-3",
        Fault::ReadyReplicasCountsUnready,
        UNREADY,
        &["readyReplicas"],
    ),
    breaks(
        "STS-PARALLEL-1",
        Fault::ParallelWaitsForReady,
        PARALLEL,
        &["expected all to be created without waiting"],
    ),
    breaks(
        "STS-PARALLEL-1",
        Fault::ParallelDeletesOneAtATime,
        PARALLEL,
        &["not matching the partial object", "want 3"],
    ),
    breaks(
        "STS-RECREATE-1",
        Fault::PodRenamedOnRecreate,
        RECREATE_POD,
        &["pod/web-1"],
    ),
    breaks(
        "STS-RECREATE-1",
        Fault::NewClaimOnRecreate,
        RECREATE_POD,
        &["www-web-1"],
    ),
    breaks(
        "STS-PVC-1",
        Fault::ClaimNameWithoutTemplate,
        &["storage/claims-survive-scaling"],
        &["www-web-0"],
    ),
    breaks(
        "STS-PVC-2",
        Fault::VolumeWipedOnRecreate,
        RECREATE_POD,
        &["/data/starts.log"],
    ),
    breaks(
        "STS-PVC-3",
        Fault::ClaimsDeletedOnScaleDown,
        &["storage/claims-survive-scaling"],
        &["persistentvolumeclaims", "expected 3"],
    ),
    breaks(
        "STS-PVC-4",
        Fault::ClaimsDeletedWithSet,
        &["storage/claims-survive-set-deletion"],
        &["persistentvolumeclaims", "expected 3"],
    ),
    breaks(
        "PV-RETAIN-1",
        Fault::RetainIgnored,
        &["storage/pv-retain"],
        // The volume is gone either before the wait for `Released` starts ("does not exist
        // yet") or after it (the assert: "to exist, got nothing"); which one depends on how
        // soon the wait's watch starts after the claim's deletion, as on a real cluster.
        &["persistentvolume/", "exist"],
    ),
    breaks(
        "STS-PVC-POLICY-1",
        Fault::RetentionPolicyIgnored,
        &["storage/claim-retention-policy"],
        &["www-web-2", "deleted"],
    ),
    breaks(
        "CONTRAST-1",
        Fault::ReplacementReusesPodName,
        &["storage/deployment-shares-one-claim"],
        &["grep -qxF"],
    ),
    breaks(
        "STS-ROLL-1",
        Fault::RollingUpdateForwardOrder,
        ROLLING,
        &["expected deletion order"],
    ),
    breaks(
        "STS-ROLL-1",
        Fault::RollingUpdateSkipsReadiness,
        ROLLING,
        &["expected at least 2"],
    ),
    breaks(
        "STS-ROLL-2",
        Fault::PartitionIgnored,
        &["updates/partitioned-rollout"],
        &["controller-revision-hash"],
    ),
    breaks(
        "STS-ONDELETE-1",
        Fault::OnDeleteRollsPods,
        &["updates/on-delete"],
        &["controller-revision-hash"],
    ),
    breaks(
        "DEP-ROLL-1",
        Fault::RolloutExceedsMaxSurge,
        BOUNDS,
        &["expected at most 4"],
    ),
    breaks(
        "DEP-ROLL-1",
        Fault::RolloutBelowMinAvailable,
        BOUNDS,
        &["expected at least 2"],
    ),
    breaks(
        "DEP-RECREATE-1",
        Fault::RecreateOverlaps,
        &["deployment/recreate"],
        &["pod-template-hash"],
    ),
    breaks(
        "DEP-HISTORY-1",
        Fault::ChangeCauseNotRecorded,
        &["deployment/history-and-undo"],
        &["kubernetes.io/change-cause"],
    ),
    breaks(
        "DEP-MINREADY-1",
        Fault::MinReadySecondsIgnored,
        &["deployment/min-ready-seconds"],
        &["unavailableReplicas"],
    ),
    breaks(
        "DB-ROLE-1",
        Fault::ReplicaWritable,
        REPLICATION,
        &["failed to match the rows", "@@read_only", "mysql-1"],
    ),
    breaks(
        "DB-RO-1",
        Fault::ReplicaAcceptsAppWrites,
        REPLICATION,
        &["1290"],
    ),
    breaks(
        "DB-REPL-1",
        Fault::ReplicationStopped,
        REPLICATION,
        &["failed to see matching rows", "SELECT body FROM messages"],
    ),
    breaks(
        "DB-REPL-2",
        Fault::DdlNotReplicated,
        REPLICATION,
        &["schema_name = 'seeds'"],
    ),
    breaks(
        "DB-READ-SVC-1",
        Fault::ReadServiceOneServer,
        REPLICATION,
        &["distinct"],
    ),
    breaks(
        "DB-READY-1",
        Fault::ReadinessIgnoresClient,
        &["mysql/readiness"],
        &["pod/mysql-1 not with condition Ready=False"],
    ),
    breaks(
        "DB-CLONE-1",
        Fault::CloneFromPrimary,
        &["mysql/scale-and-clone"],
        &["cloned-from", "mysql-0.mysql"],
    ),
    breaks(
        "DB-RECOVER-1",
        Fault::DatabaseDataNotOnClaim,
        &["mysql/recovery"],
        &["SELECT id FROM ledger", "mysql-0"],
    ),
    breaks(
        "DB-SCALEIN-1",
        Fault::ClaimsDeletedOnScaleDown,
        &["mysql/scale-and-clone"],
        &["data-mysql-2"],
    ),
    breaks(
        "FAULT-LIVENESS-1",
        Fault::LivenessReplacesPod,
        &["faults/liveness-restart"],
        &["restartCount"],
    ),
    breaks(
        "FAULT-DRAIN-1",
        Fault::DrainLeavesPodOnNode,
        &["faults/drain"],
        &["spec.nodeName"],
    ),
];
