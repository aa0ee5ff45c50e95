//! `cordon`: mark a node unschedulable. `uncordon` names its node the same way.

use super::{Cordon, KindRules, Named, StepKind};
use crate::model::{Kind, Target};
use crate::validate::StepCheck;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Names a node directly or as the node a pod runs on.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeStep {
    /// The node's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The node this pod is scheduled on, e.g. `pod/web-0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_of: Option<Target>,
}

/// The kinds that name a node as a [`NodeStep`] does, and read it alike.
pub(super) trait NodeKind: StepKind<Body = NodeStep> {}

impl NodeKind for Cordon {}

impl<K: NodeKind> KindRules for K {
    fn summary(node: &NodeStep) -> String {
        format!("{} {}", K::NAME, node_name(&node.node, &node.node_of))
    }

    fn targets(node: &NodeStep) -> Named<'_> {
        node_of(&node.node_of)
    }

    fn check(node: &NodeStep, check: &mut StepCheck<'_, '_>) {
        node_choice(check, node.node.as_ref(), node.node_of.as_ref());
    }
}

/// The node as the summary names it: `node/<name>` or `the node of pod/<name>`.
pub(super) fn node_name(node: &Option<String>, node_of: &Option<Target>) -> String {
    match (node, node_of) {
        (Some(node), _) => format!("node/{node}"),
        (None, Some(target)) => format!("the node of {target}"),
        (None, None) => "(no node given)".to_owned(),
    }
}

/// The pod named by `nodeOf`, as a target of the step.
pub(super) fn node_of(node_of: &Option<Target>) -> Named<'_> {
    node_of.iter().map(|pod| (pod, &["nodeOf"][..])).collect()
}

/// Exactly one of `node` and `nodeOf`, and `nodeOf` names one pod.
pub(super) fn node_choice(
    check: &mut StepCheck<'_, '_>,
    node: Option<&String>,
    node_of: Option<&Target>,
) {
    match (node, node_of) {
        (Some(_), Some(_)) => check.whole(
            "give `node` or `nodeOf`, not both",
            "`nodeOf: pod/web-0` names the node that pod runs on",
        ),
        (None, None) => check.whole(
            "which node? give `node: <name>` or `nodeOf: pod/<name>`",
            "`nodeOf: pod/web-0` names the node that pod runs on",
        ),
        (None, Some(pod)) if pod.kind != Kind::Pod || !pod.is_single() => check.error(
            &["nodeOf"],
            "`nodeOf` names one pod",
            "write `nodeOf: pod/web-0`",
        ),
        _ => {}
    }
}
